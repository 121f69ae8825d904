// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_platform_test - VFIO passthrough of QEMU virt's real devices.
 *
 * The PL031 RTC (AMBA, level interrupt, DMA-less) is taken from rtc-pl031,
 * owned through vfio-amba and given back; a virtio-mmio transport
 * (platform bus, may master DMA, no reset) shows the refusal without an
 * IOMMU and the dma_less parameter.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/rtc.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "vfio_util.h"

#define RTC_BUS		"amba"
#define RTC_DEV		"9010000.pl031"
#define RTC_DRIVER	"vfio-amba"
#define RTC_HOST	"rtc-pl031"
#define RTC_PHYS	0x9010000
#define VIRTIO_BUS	"platform"
#define VIRTIO_DEV	"a000000.virtio_mmio"
/* The transport the test host's device tree puts behind the SMMU. */
#define SMMU_DEV	"a000200.virtio_mmio"
#define DMA_LESS_PARAM	"/sys/module/vfio_platform/parameters/dma_less"
#define SUB_PAGE_PARAM	"/sys/module/vfio_platform/parameters/mmap_sub_page"
/* QEMU's fw-cfg, and a disabled node the test host puts in its page. */
#define FW_CFG_DEV	"9020000.fw-cfg"
#define TEST_NODE	"kvmarm-test@9020800"
#define UNSAFE_IRQ_PARAM \
	"/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
#define RESET_REQUIRED_PARAM \
	"/sys/module/vfio_platform/parameters/reset_required"
/*
 * Platform devices of the test host's device tree: a vendor UART naming
 * the PL011 only as a fallback, a window on the PL031's registers 4 bytes
 * in, and a PL061 whose region is too small for the PL061 reset.
 */
#define VENDOR_UART_DEV	"9020a00.kvmarm-vendor-uart"
#define WINDOW_DEV	"9010004.kvmarm-test-window"
#define SMALL_GPIO_DEV	"9030000.kvmarm-small-gpio"
#define GPIO_DEV	"9030000.pl061"
#define GPIO_HOST	"pl061_gpio"
#define TAINT_USER_BIT	0x40	/* TAINT_USER */

/* PL031 registers */
#define RTC_DR		0x00
#define RTC_MR		0x04
#define RTC_IMSC	0x10
#define RTC_RIS		0x14
#define RTC_ICR		0x1c
#define RTC_PERIPHID0	0xfe0

/* The kernel's page size: 4, 16 or 64 KiB on arm64. */
#define PAGE		((size_t)sysconf(_SC_PAGESIZE))

static uint32_t rd32(int fd, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	if (pread(fd, &v, 4, off) != 4)
		return 0xdeadbeef;
	return v;
}

static int wr32(int fd, uint64_t off, uint32_t v)
{
	return pwrite(fd, &v, 4, off) == 4 ? 0 : -errno;
}

/* Wait up to @ms for the eventfd to fire; return its count or 0. */
static uint64_t wait_event(int efd, int ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t cnt = 0;

	if (poll(&p, 1, ms) != 1)
		return 0;
	if (read(efd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return 0;
	return cnt;
}

/* Single-copy-atomic accesses to the mapped registers. */
static uint32_t mmio_rd(uint32_t *base, unsigned int off)
{
	return __atomic_load_n(base + off / 4, __ATOMIC_RELAXED);
}

static void mmio_wr(uint32_t *base, unsigned int off, uint32_t v)
{
	__atomic_store_n(base + off / 4, v, __ATOMIC_RELAXED);
}

/* Clear the RTC interrupt and set the alarm @secs seconds ahead. */
static void arm_alarm(uint32_t *rtc, unsigned int secs)
{
	mmio_wr(rtc, RTC_IMSC, 0);
	mmio_wr(rtc, RTC_ICR, 1);
	mmio_wr(rtc, RTC_MR, mmio_rd(rtc, RTC_DR) + secs);
	mmio_wr(rtc, RTC_IMSC, 1);
}

static void clear_alarm(uint32_t *rtc)
{
	mmio_wr(rtc, RTC_ICR, 1);
}

static int kmsg_has(const char *needle)
{
	static char buf[1 << 17];
	int n = klogctl(3, buf, sizeof(buf) - 1);

	if (n < 0)
		return 0;
	buf[n] = '\0';
	return !!strstr(buf, needle);
}

FIXTURE(rtc) {
	struct vfio_dev v;
	uint32_t *map;
	int efd;
	char sub_page[8];
};

FIXTURE_SETUP(rtc)
{
	int ret;

	self->v.container = -1;
	self->v.group = -1;
	self->v.device = -1;
	self->map = MAP_FAILED;
	self->efd = -1;
	self->sub_page[0] = '\0';
	if (access("/sys/bus/amba/devices/" RTC_DEV, F_OK))
		SKIP(return, "no PL031 at " RTC_DEV);
	/* With pages over 4 KiB the RTC's page is mapped whole (opt-in). */
	ASSERT_EQ(0, sysfs_read(SUB_PAGE_PARAM, self->sub_page,
				sizeof(self->sub_page)));
	ASSERT_EQ(0, sysfs_write(SUB_PAGE_PARAM, "Y"));
	ret = vfio_bind(RTC_BUS, RTC_DEV, RTC_DRIVER);
	ASSERT_EQ(0, ret) TH_LOG("binding %s: %s", RTC_DEV, strerror(-ret));
	ASSERT_EQ(0, vfio_open(&self->v, RTC_BUS, RTC_DEV))
		TH_LOG("%s", self->v.err);
	self->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(rtc)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, PAGE);
	if (self->efd >= 0)
		close(self->efd);
	vfio_close(&self->v);
	vfio_restore(RTC_BUS, RTC_DEV);
	if (self->sub_page[0])
		sysfs_write(SUB_PAGE_PARAM, self->sub_page);
}

/* Map the RTC's registers (region 0) shared, read-write. */
static uint32_t *map_rtc(int device)
{
	return mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, device, 0);
}

TEST_F(rtc, info)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	char path[128], info[512];
	int fd;
	ssize_t n;

	ASSERT_EQ(0, ioctl(self->v.device, VFIO_DEVICE_GET_INFO, &di));
	EXPECT_EQ(VFIO_DEVICE_FLAGS_AMBA | VFIO_DEVICE_FLAGS_PLATFORM |
		  VFIO_DEVICE_FLAGS_RESET, di.flags);
	EXPECT_EQ(1, di.num_regions);
	EXPECT_EQ(1, di.num_irqs);

	ri.index = 0;
	ASSERT_EQ(0, ioctl(self->v.device, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(0x1000, ri.size);
	EXPECT_EQ(0, ri.offset);
	EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
		  VFIO_REGION_INFO_FLAG_MMAP, ri.flags);

	ii.index = 0;
	ASSERT_EQ(0, ioctl(self->v.device, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	EXPECT_EQ(1, ii.count);
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
		  VFIO_IRQ_INFO_AUTOMASKED, ii.flags);

	/* The host's view, for building the guest's device-tree node. */
	snprintf(path, sizeof(path),
		 "/sys/bus/amba/devices/%s/vfio_platform_info", RTC_DEV);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	n = read(fd, info, sizeof(info) - 1);
	close(fd);
	ASSERT_LT(0, n);
	info[n] = '\0';
	EXPECT_NE(NULL, strstr(info, "compatible arm,pl031\n")) TH_LOG("%s", info);
	EXPECT_NE(NULL, strstr(info, "region 0 0x9010000 0x1000\n")) TH_LOG("%s", info);
	EXPECT_NE(NULL, strstr(info, "irq 0 level high\n")) TH_LOG("%s", info);
}

/* Kilobytes of memory pinned for this process (VFIO type1 DMA maps). */
static long vm_locked_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Map and unmap one page of /dev/mem at @phys: 0 or -errno. */
static int devmem_map(uint64_t phys)
{
	int fd = open("/dev/mem", O_RDONLY | O_SYNC | O_CLOEXEC);
	int ret = 0;
	void *p;

	if (fd < 0)
		return -errno;
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, phys);
	if (p == MAP_FAILED)
		ret = -errno;
	else
		munmap(p, PAGE);
	close(fd);
	return ret;
}

static int iomem_has(const char *needle)
{
	char line[256];
	int found = 0;
	FILE *f = fopen("/proc/iomem", "r");

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		found = !!strstr(line, needle);
	fclose(f);
	return found;
}

/*
 * The PL031's 4 KiB region under larger pages.  With mmap_sub_page the
 * rest of its page, where no device is, is claimed busy while the device
 * is bound, the whole page maps and the registers sit at the start of it;
 * past that page nothing maps.  Without it (the default) such a region is
 * read/write only.  On 4 KiB pages the region is a page: always mappable,
 * nothing claimed.
 */
TEST_F(rtc, sub_page_region_maps_whole_page)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	int sub_page = PAGE > 0x1000;
	uint32_t dr;
	void *p;

	TH_LOG("page size %zu KiB", PAGE / 1024);
	ASSERT_EQ(0, ioctl(self->v.device, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(0x1000, ri.size);
	EXPECT_TRUE(ri.flags & VFIO_REGION_INFO_FLAG_MMAP);
	EXPECT_EQ(sub_page, iomem_has("vfio-platform sub-page"));

	self->map = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->v.device, 0);
	ASSERT_NE(MAP_FAILED, self->map) TH_LOG("mmap of one %zu-byte page: %s",
						PAGE, strerror(errno));
	dr = rd32(self->v.device, RTC_DR);
	EXPECT_LE(dr, mmio_rd(self->map, RTC_DR));
	EXPECT_GE(dr + 2, mmio_rd(self->map, RTC_DR));
	EXPECT_EQ(0x31, mmio_rd(self->map, RTC_PERIPHID0));
	p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, self->v.device, 0);
	EXPECT_EQ(MAP_FAILED, p);
	/* The claim is busy: /dev/mem may not map that page. */
	if (sub_page)
		EXPECT_EQ(-EPERM, devmem_map(RTC_PHYS));

	/* Released with the device. */
	munmap(self->map, PAGE);
	self->map = MAP_FAILED;
	vfio_close(&self->v);
	ASSERT_EQ(0, vfio_restore(RTC_BUS, RTC_DEV));
	EXPECT_EQ(0, iomem_has("vfio-platform sub-page"));

	/* The parameter is a boolean; anything else is refused. */
	EXPECT_EQ(-EINVAL, sysfs_write(SUB_PAGE_PARAM, "maybe"));
	EXPECT_EQ(-EINVAL, sysfs_write(SUB_PAGE_PARAM, "2"));

	/* The default: nothing claimed, a sub-page region does not map. */
	ASSERT_EQ(0, sysfs_write(SUB_PAGE_PARAM, "N"));
	ASSERT_EQ(0, vfio_bind(RTC_BUS, RTC_DEV, RTC_DRIVER));
	ASSERT_EQ(0, vfio_open(&self->v, RTC_BUS, RTC_DEV)) TH_LOG("%s", self->v.err);
	ASSERT_EQ(0, ioctl(self->v.device, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(!sub_page, !!(ri.flags & VFIO_REGION_INFO_FLAG_MMAP));
	EXPECT_EQ(0, iomem_has("vfio-platform sub-page"));
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->v.device, 0);
	EXPECT_EQ(sub_page, p == MAP_FAILED);
	if (p != MAP_FAILED)
		munmap(p, PAGE);
	/* Nothing claimed: /dev/mem maps the page again. */
	if (sub_page)
		EXPECT_EQ(0, devmem_map(RTC_PHYS));
}

/*
 * A platform device behind the SMMU (the test host's device tree gives
 * one virtio-mmio transport an "iommus" property) gets a normal VFIO
 * group: it has its IOMMU group before vfio-platform binds, it is not
 * taken for DMA-less, and type1 pins what it maps, until unmap or close.
 */
FIXTURE(smmu) {
	struct vfio_dev v;
	char unsafe_irqs[8];
	char group[32];
	bool bound;
};

FIXTURE_SETUP(smmu)
{
	char path[256], link[256];
	int fd;
	ssize_t n;

	self->v.container = -1;
	self->v.group = -1;
	self->v.device = -1;
	self->bound = false;
	self->unsafe_irqs[0] = '\0';
	snprintf(path, sizeof(path), "/sys/bus/platform/devices/%s/iommu_group",
		 SMMU_DEV);
	if (access(path, F_OK))
		SKIP(return, "no platform device behind the SMMU (%s)", SMMU_DEV);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = '\0';
	snprintf(self->group, sizeof(self->group), "%s", strrchr(link, '/') + 1);

	fd = open(UNSAFE_IRQ_PARAM, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	n = read(fd, self->unsafe_irqs, sizeof(self->unsafe_irqs) - 1);
	close(fd);
	ASSERT_LT(0, n);
	self->unsafe_irqs[n] = '\0';
}

FIXTURE_TEARDOWN(smmu)
{
	vfio_close(&self->v);
	if (self->bound)
		vfio_restore(VIRTIO_BUS, SMMU_DEV);
	if (self->unsafe_irqs[0])
		sysfs_write(UNSAFE_IRQ_PARAM, self->unsafe_irqs);
}

TEST_F(smmu, group_device)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	const size_t len = 1 << 20;
	char path[256], msg[128];
	long before;
	void *mem;
	int ret;

	ASSERT_EQ(0, sysfs_write(DMA_LESS_PARAM, "\n"));
	ret = vfio_bind(VIRTIO_BUS, SMMU_DEV, "vfio-platform");
	ASSERT_EQ(0, ret) TH_LOG("binding %s: %s", SMMU_DEV, strerror(-ret));
	self->bound = true;
	snprintf(msg, sizeof(msg),
		 "%s: vfio-platform: 1 region(s), 1 IRQ(s), reset\n", SMMU_DEV);
	EXPECT_TRUE(kmsg_has(msg)) TH_LOG("not registered as a normal group");
	snprintf(path, sizeof(path), "/dev/vfio/%s", self->group);
	EXPECT_EQ(0, access(path, F_OK)) TH_LOG("%s", path);

	/*
	 * A wired-interrupt device has no MSI domain, so type1 cannot tell
	 * its MSIs isolated and refuses it until the administrator allows
	 * it, as for upstream's vfio-platform on arm64.  Kernels before 6.2
	 * took an ITS anywhere in the system as isolation for every device.
	 */
	ASSERT_EQ(0, sysfs_write(UNSAFE_IRQ_PARAM, "N"));
	ret = vfio_open(&self->v, VIRTIO_BUS, SMMU_DEV);
	if (ret) {
		EXPECT_EQ(EPERM, errno) TH_LOG("%s", self->v.err);
		vfio_close(&self->v);
		ASSERT_EQ(0, sysfs_write(UNSAFE_IRQ_PARAM, "Y"));
		ret = vfio_open(&self->v, VIRTIO_BUS, SMMU_DEV);
	} else {
		TH_LOG("type1 took the GIC ITS as MSI isolation (before 6.2)");
	}
	ASSERT_EQ(0, ret) TH_LOG("%s", self->v.err);
	ASSERT_EQ(0, ioctl(self->v.device, VFIO_DEVICE_GET_INFO, &di));
	EXPECT_EQ(VFIO_DEVICE_FLAGS_PLATFORM | VFIO_DEVICE_FLAGS_RESET, di.flags);
	EXPECT_EQ(0x74726976, rd32(self->v.device, 0));

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	before = vm_locked_kb();
	map.vaddr = (uintptr_t)mem;
	map.iova = 0x100000;
	map.size = len;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	ASSERT_EQ(0, ioctl(self->v.container, VFIO_IOMMU_MAP_DMA, &map))
		TH_LOG("MAP_DMA: %s", strerror(errno));
	EXPECT_EQ(before + (long)(len >> 10), vm_locked_kb())
		TH_LOG("the mapping is not pinned for the SMMU");
	unmap.iova = map.iova;
	unmap.size = len;
	ASSERT_EQ(0, ioctl(self->v.container, VFIO_IOMMU_UNMAP_DMA, &unmap));
	EXPECT_EQ(len, unmap.size);
	EXPECT_EQ(before, vm_locked_kb());

	/* Closing the container tears a mapping down. */
	ASSERT_EQ(0, ioctl(self->v.container, VFIO_IOMMU_MAP_DMA, &map));
	EXPECT_EQ(before + (long)(len >> 10), vm_locked_kb());
	vfio_close(&self->v);
	EXPECT_EQ(before, vm_locked_kb());
	munmap(mem, len);
}

TEST_F(rtc, read_counter)
{
	uint32_t a, b, m;
	uint8_t id8;
	uint16_t id16;
	uint64_t id64;

	a = rd32(self->v.device, RTC_DR);
	EXPECT_LT(1600000000u, a) TH_LOG("RTC reads %u", a);
	self->map = map_rtc(self->v.device);
	ASSERT_NE(MAP_FAILED, self->map) TH_LOG("mmap: %s", strerror(errno));
	m = mmio_rd(self->map, RTC_DR);
	EXPECT_LE(a, m);
	EXPECT_GE(a + 2, m);
	usleep(2100 * 1000);
	b = rd32(self->v.device, RTC_DR);
	EXPECT_LE(a + 2, b) TH_LOG("RTC did not count: %u then %u", a, b);
	EXPECT_GE(a + 4, b);

	/* 1, 2 and 8 byte accesses: PrimeCell ID 0x31 0x10 0x14 0x00. */
	ASSERT_EQ(1, pread(self->v.device, &id8, 1, RTC_PERIPHID0));
	EXPECT_EQ(0x31, id8);
	ASSERT_EQ(2, pread(self->v.device, &id16, 2, RTC_PERIPHID0));
	EXPECT_EQ(0x31, id16 & 0xff);
	ASSERT_EQ(8, pread(self->v.device, &id64, 8, RTC_PERIPHID0));
	EXPECT_EQ(0x31, id64 & 0xff);
	EXPECT_EQ(0x10, (id64 >> 32) & 0xff);
	EXPECT_EQ(0x31, mmio_rd(self->map, RTC_PERIPHID0));
}

TEST_F_TIMEOUT(rtc, alarm_irq, 180)
{
	int unmask_fd;
	uint64_t one = 1;

	self->map = map_rtc(self->v.device);
	ASSERT_NE(MAP_FAILED, self->map) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, vfio_irq_eventfd(self->v.device, 0,
				      VFIO_IRQ_SET_ACTION_TRIGGER, self->efd));

	/* The alarm fires; the line stays high but the IRQ is automasked. */
	arm_alarm(self->map, 1);
	ASSERT_LT(0, wait_event(self->efd, 5000)) TH_LOG("alarm IRQ never came");
	EXPECT_EQ(1, mmio_rd(self->map, RTC_RIS));
	EXPECT_EQ(0, wait_event(self->efd, 1500)) TH_LOG("not automasked");

	/* Clear and unmask by ioctl: re-armed. */
	clear_alarm(self->map);
	ASSERT_EQ(0, vfio_irq_simple(self->v.device, 0,
				     VFIO_IRQ_SET_ACTION_UNMASK));
	EXPECT_EQ(0, wait_event(self->efd, 200));
	arm_alarm(self->map, 1);
	ASSERT_LT(0, wait_event(self->efd, 5000))
		TH_LOG("no IRQ after unmask by ioctl");

	/* The same with an unmask eventfd (KVM's resamplefd). */
	unmask_fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, unmask_fd);
	ASSERT_EQ(0, vfio_irq_eventfd(self->v.device, 0,
				      VFIO_IRQ_SET_ACTION_UNMASK, unmask_fd));
	clear_alarm(self->map);
	ASSERT_EQ(sizeof(one), write(unmask_fd, &one, sizeof(one)));
	arm_alarm(self->map, 1);
	ASSERT_LT(0, wait_event(self->efd, 5000))
		TH_LOG("no IRQ after unmask by eventfd");
	EXPECT_EQ(0, wait_event(self->efd, 1000));
	clear_alarm(self->map);
	ASSERT_EQ(sizeof(one), write(unmask_fd, &one, sizeof(one)));

	/* MASK prevents delivery; unmasking delivers the pending level. */
	ASSERT_EQ(0, vfio_irq_simple(self->v.device, 0,
				     VFIO_IRQ_SET_ACTION_MASK));
	arm_alarm(self->map, 1);
	EXPECT_EQ(0, wait_event(self->efd, 2500)) TH_LOG("delivered while masked");
	EXPECT_EQ(1, mmio_rd(self->map, RTC_RIS));
	ASSERT_EQ(0, vfio_irq_simple(self->v.device, 0,
				     VFIO_IRQ_SET_ACTION_UNMASK));
	EXPECT_LT(0, wait_event(self->efd, 2000))
		TH_LOG("pending level IRQ lost on unmask");

	/* A DATA_BOOL unmask with false does nothing, with true unmasks. */
	clear_alarm(self->map);
	{
		uint8_t no = 0, yes = 1;

		ASSERT_EQ(0, vfio_set_irq(self->v.device, 0,
					  VFIO_IRQ_SET_DATA_BOOL |
					  VFIO_IRQ_SET_ACTION_UNMASK, 1, &no, 1));
		arm_alarm(self->map, 1);
		EXPECT_EQ(0, wait_event(self->efd, 2500));
		ASSERT_EQ(0, vfio_set_irq(self->v.device, 0,
					  VFIO_IRQ_SET_DATA_BOOL |
					  VFIO_IRQ_SET_ACTION_UNMASK, 1, &yes, 1));
		EXPECT_LT(0, wait_event(self->efd, 2000));
	}

	/* count = 0 tears the trigger down. */
	ASSERT_EQ(0, vfio_set_irq(self->v.device, 0, VFIO_IRQ_SET_DATA_NONE |
				  VFIO_IRQ_SET_ACTION_TRIGGER, 0, NULL, 0));
	clear_alarm(self->map);
	ASSERT_EQ(0, vfio_irq_simple(self->v.device, 0,
				     VFIO_IRQ_SET_ACTION_UNMASK));
	arm_alarm(self->map, 1);
	EXPECT_EQ(0, wait_event(self->efd, 2500)) TH_LOG("trigger not torn down");
	EXPECT_EQ(-EINVAL, vfio_irq_simple(self->v.device, 0,
					   VFIO_IRQ_SET_ACTION_TRIGGER));
	clear_alarm(self->map);
	close(unmask_fd);
}

TEST_F(rtc, bad_input)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = 1 };
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = 1 };
	int dev = self->v.device, nullfd, fds[2] = { self->efd, self->efd };
	uint32_t before = rd32(dev, RTC_DR), v;
	uint64_t q;
	void *p;

	errno = 0;
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(EINVAL, errno);
	ri.index = 0;
	ri.argsz = 4;
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	EXPECT_EQ(EINVAL, errno);

	/* SET_IRQS: index, range, conflicting flags, non-eventfd. */
	EXPECT_EQ(-EINVAL, vfio_irq_eventfd(dev, 1, VFIO_IRQ_SET_ACTION_TRIGGER,
					    self->efd));
	EXPECT_EQ(-EINVAL, vfio_set_irq(dev, 0, VFIO_IRQ_SET_DATA_EVENTFD |
					VFIO_IRQ_SET_ACTION_TRIGGER, 2, fds,
					sizeof(fds)));
	EXPECT_EQ(-EINVAL, vfio_set_irq(dev, 0, VFIO_IRQ_SET_DATA_NONE |
					VFIO_IRQ_SET_ACTION_MASK |
					VFIO_IRQ_SET_ACTION_UNMASK, 1, NULL, 0));
	EXPECT_EQ(-EINVAL, vfio_set_irq(dev, 0, VFIO_IRQ_SET_DATA_NONE |
					VFIO_IRQ_SET_DATA_BOOL |
					VFIO_IRQ_SET_ACTION_MASK, 1, NULL, 0));
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, nullfd);
	EXPECT_EQ(-EINVAL, vfio_irq_eventfd(dev, 0, VFIO_IRQ_SET_ACTION_TRIGGER,
					    nullfd));
	EXPECT_EQ(-EBADF, vfio_irq_eventfd(dev, 0, VFIO_IRQ_SET_ACTION_TRIGGER,
					   1000));
	close(nullfd);

	/* mmap: oversized, past the region, other index, private, unaligned. */
	p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, dev, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, dev, PAGE);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, dev, 1ull << 40);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, dev, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, dev, 12);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);

	/* Accesses past the end of the region or in no region. */
	EXPECT_EQ(-1, pread(dev, &v, 4, 0x1000));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pread(dev, &q, 8, 0xffc));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pwrite(dev, &v, 4, 0x1000));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pread(dev, &v, 4, 1ull << 40));
	EXPECT_EQ(EINVAL, errno);

	/* Nothing changed: the device still counts and has no trigger. */
	v = rd32(dev, RTC_DR);
	EXPECT_LE(before, v);
	EXPECT_GE(before + 2, v);
	EXPECT_EQ(-EINVAL, vfio_irq_simple(dev, 0, VFIO_IRQ_SET_ACTION_TRIGGER));
}

/*
 * A reset zaps the mappings, and they fault back in: the mapping works
 * across resets, while other threads read the registers.
 */
struct reader {
	int device;
	int stop;
	unsigned long bad;
};

static void *read_loop(void *arg)
{
	struct reader *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED))
		if (rd32(r->device, RTC_DR) < 1600000000u)
			r->bad++;
	return NULL;
}

TEST_F(rtc, reset_with_readers_and_mapping)
{
	struct reader r = { .device = self->v.device };
	pthread_t t;
	int i;

	self->map = map_rtc(self->v.device);
	ASSERT_NE(MAP_FAILED, self->map) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, pthread_create(&t, NULL, read_loop, &r));
	for (i = 0; i < 200; i++) {
		mmio_wr(self->map, RTC_MR, i + 1);
		ASSERT_EQ(0, ioctl(self->v.device, VFIO_DEVICE_RESET));
		EXPECT_EQ(0, mmio_rd(self->map, RTC_MR));
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	EXPECT_EQ(0, r.bad);
	EXPECT_LT(1600000000u, mmio_rd(self->map, RTC_DR));
}

/*
 * A read-only mapping of a writable region may become writable; the check
 * that a read-only region cannot (VM_MAYWRITE cleared) has no device here:
 * no QEMU virt device has a read-only resource.
 */
TEST_F(rtc, mprotect_follows_region_flags)
{
	uint32_t *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->v.device, 0);

	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, mprotect(p, PAGE, PROT_READ | PROT_WRITE));
	munmap(p, PAGE);
}

/* Interrupts taken so far by vfio-platform for @dev (/proc/interrupts). */
static long vfio_irq_count(const char *dev)
{
	char line[512], *p, *end;
	long n = -1, v;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "vfio-irq") || !strstr(line, dev))
			continue;
		p = strchr(line, ':');
		if (!p)
			break;
		n = 0;
		for (p++;; p = end) {
			v = strtol(p, &end, 10);
			if (end == p)
				break;
			n += v;
		}
		break;
	}
	fclose(f);
	return n;
}

/*
 * One eventfd as trigger and unmask: the handler's signal unmasks the
 * line from hard-IRQ context (the virqfd consumes the count, so only the
 * interrupt counter shows it).  The unmask must leave that context, or a
 * line that stays asserted fires again at once, forever, and the CPU
 * never gets out: here the test must still run and stop the alarm.
 */
TEST_F_TIMEOUT(rtc, same_eventfd_trigger_and_unmask, 120)
{
	long before, during, after;

	self->map = map_rtc(self->v.device);
	ASSERT_NE(MAP_FAILED, self->map) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, vfio_irq_eventfd(self->v.device, 0,
				      VFIO_IRQ_SET_ACTION_TRIGGER, self->efd));
	ASSERT_EQ(0, vfio_irq_eventfd(self->v.device, 0,
				      VFIO_IRQ_SET_ACTION_UNMASK, self->efd));
	before = vfio_irq_count(RTC_DEV);
	ASSERT_LE(0, before);
	arm_alarm(self->map, 1);
	sleep(3);
	during = vfio_irq_count(RTC_DEV);
	EXPECT_LT(before + 1, during) TH_LOG("the alarm did not fire again after the unmask");
	mmio_wr(self->map, RTC_IMSC, 0);
	clear_alarm(self->map);
	usleep(300 * 1000);
	after = vfio_irq_count(RTC_DEV);
	usleep(500 * 1000);
	EXPECT_EQ(after, vfio_irq_count(RTC_DEV)) TH_LOG("still firing after clear");
	ASSERT_EQ(0, vfio_set_irq(self->v.device, 0, VFIO_IRQ_SET_DATA_NONE |
				  VFIO_IRQ_SET_ACTION_UNMASK, 0, NULL, 0));
}

TEST_F(rtc, reset)
{
	self->map = map_rtc(self->v.device);
	ASSERT_NE(MAP_FAILED, self->map) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, wr32(self->v.device, RTC_IMSC, 1));
	ASSERT_EQ(0, wr32(self->v.device, RTC_MR, 12345));
	EXPECT_EQ(12345, rd32(self->v.device, RTC_MR));
	EXPECT_EQ(1, mmio_rd(self->map, RTC_IMSC));
	ASSERT_EQ(0, ioctl(self->v.device, VFIO_DEVICE_RESET));
	EXPECT_EQ(0, mmio_rd(self->map, RTC_IMSC));
	EXPECT_EQ(0, mmio_rd(self->map, RTC_MR));
	EXPECT_LT(1600000000u, mmio_rd(self->map, RTC_DR));
}

/*
 * fw-cfg's 24-byte region: the test host's device tree has a disabled node
 * in the rest of its page.  A disabled node makes no device, so only the
 * device-tree check can tell that the page is not free: with mmap_sub_page
 * the region must still not map, on every page size.
 */
TEST(sub_page_region_next_to_a_device_tree_node)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	char sub_page[8];
	struct vfio_dev v;
	int ret;

	if (access("/sys/bus/platform/devices/" FW_CFG_DEV, F_OK) ||
	    access("/proc/device-tree/" TEST_NODE, F_OK))
		SKIP(return, "no %s next to %s", TEST_NODE, FW_CFG_DEV);
	ASSERT_EQ(0, sysfs_read(SUB_PAGE_PARAM, sub_page, sizeof(sub_page)));
	ASSERT_EQ(0, sysfs_write(DMA_LESS_PARAM, "qemu,fw-cfg-mmio"));
	ASSERT_EQ(0, sysfs_write(SUB_PAGE_PARAM, "Y"));
	/* fw-cfg has no reset. */
	ASSERT_EQ(0, sysfs_write(RESET_REQUIRED_PARAM, "N"));
	ret = vfio_bind("platform", FW_CFG_DEV, "vfio-platform");
	sysfs_write(RESET_REQUIRED_PARAM, "Y");
	sysfs_write(SUB_PAGE_PARAM, sub_page);
	sysfs_write(DMA_LESS_PARAM, "\n");
	ASSERT_EQ(0, ret) TH_LOG("binding %s: %s", FW_CFG_DEV, strerror(-ret));
	ASSERT_EQ(0, vfio_open(&v, "platform", FW_CFG_DEV)) TH_LOG("%s", v.err);
	ASSERT_EQ(0, ioctl(v.device, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(0x18, ri.size);
	EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
		  ri.flags);
	EXPECT_EQ(0, iomem_has("vfio-platform sub-page"));
	EXPECT_TRUE(kmsg_has("is not free (a device-tree node has registers there)"));
	vfio_close(&v);
	EXPECT_EQ(0, vfio_restore("platform", FW_CFG_DEV));
}

TEST(dma_capable_device_needs_admission)
{
	char sub_page[8];
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	struct vfio_dev v;
	int ret, efd;
	void *p;

	if (access("/sys/bus/platform/devices/" VIRTIO_DEV, F_OK))
		SKIP(return, "no virtio-mmio transport at " VIRTIO_DEV);

	ASSERT_EQ(0, sysfs_write(DMA_LESS_PARAM, "\n"));
	ret = vfio_bind(VIRTIO_BUS, VIRTIO_DEV, "vfio-platform");
	EXPECT_EQ(-ENODEV, ret) TH_LOG("a DMA-capable device without IOMMU was admitted");
	EXPECT_TRUE(kmsg_has("no IOMMU group and not known to be DMA-less"));

	ASSERT_EQ(0, sysfs_write(DMA_LESS_PARAM, "foo,bar virtio,mmio"));
	ASSERT_EQ(0, sysfs_read(SUB_PAGE_PARAM, sub_page, sizeof(sub_page)));
	ASSERT_EQ(0, sysfs_write(SUB_PAGE_PARAM, "Y"));
	ret = vfio_bind(VIRTIO_BUS, VIRTIO_DEV, "vfio-platform");
	sysfs_write(SUB_PAGE_PARAM, sub_page);
	ASSERT_EQ(0, ret) TH_LOG("dma_less did not admit it: %s", strerror(-ret));
	ASSERT_EQ(0, vfio_open(&v, VIRTIO_BUS, VIRTIO_DEV)) TH_LOG("%s", v.err);

	ASSERT_EQ(0, ioctl(v.device, VFIO_DEVICE_GET_INFO, &di));
	/* virtio-mmio resets by a zero status. */
	EXPECT_EQ(VFIO_DEVICE_FLAGS_PLATFORM | VFIO_DEVICE_FLAGS_RESET, di.flags);
	EXPECT_EQ(1, di.num_regions);
	EXPECT_EQ(1, di.num_irqs);
	ASSERT_EQ(0, ioctl(v.device, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(0x200, ri.size);
	/*
	 * 512 bytes with the next transport in the same page: read/write
	 * only, even with mmap_sub_page, on every page size.
	 */
	EXPECT_EQ(VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
		  ri.flags);
	EXPECT_EQ(0x74726976, rd32(v.device, ri.offset));
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, v.device, 0);
	EXPECT_EQ(MAP_FAILED, p);
	ASSERT_EQ(0, ioctl(v.device, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	EXPECT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE, ii.flags);
	EXPECT_EQ(0, ioctl(v.device, VFIO_DEVICE_RESET));

	/*
	 * Edge interrupt: one that fires while masked is kept and delivered
	 * on unmask (fired here by the loopback trigger).
	 */
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vfio_irq_eventfd(v.device, 0, VFIO_IRQ_SET_ACTION_TRIGGER,
				      efd));
	ASSERT_EQ(0, vfio_irq_simple(v.device, 0, VFIO_IRQ_SET_ACTION_TRIGGER));
	EXPECT_EQ(1, wait_event(efd, 1000));
	ASSERT_EQ(0, vfio_irq_simple(v.device, 0, VFIO_IRQ_SET_ACTION_MASK));
	ASSERT_EQ(0, vfio_irq_simple(v.device, 0, VFIO_IRQ_SET_ACTION_TRIGGER));
	ASSERT_EQ(0, vfio_irq_simple(v.device, 0, VFIO_IRQ_SET_ACTION_TRIGGER));
	EXPECT_EQ(0, wait_event(efd, 300)) TH_LOG("edge delivered while masked");
	ASSERT_EQ(0, vfio_irq_simple(v.device, 0, VFIO_IRQ_SET_ACTION_UNMASK));
	EXPECT_EQ(1, wait_event(efd, 1000)) TH_LOG("masked edge lost");
	EXPECT_EQ(0, wait_event(efd, 300));
	close(efd);

	vfio_close(&v);
	EXPECT_EQ(0, vfio_restore(VIRTIO_BUS, VIRTIO_DEV));
	EXPECT_EQ(0, sysfs_write(DMA_LESS_PARAM, "\n"));
}

/* The /dev node of the RTC that rtc-pl031 registered for the PL031. */
static int rtc_node(char *buf, size_t len)
{
	DIR *d = opendir("/sys/bus/amba/devices/" RTC_DEV "/rtc");
	struct dirent *e;
	int ret = -ENOENT;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "rtc", 3)) {
			snprintf(buf, len, "/dev/%s", e->d_name);
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

TEST(host_gets_device_back_and_module_unloads)
{
	char drv[64], path[512];
	struct rtc_time tm;
	struct vfio_dev v;
	int fd, ret;

	if (access("/sys/bus/amba/devices/" RTC_DEV, F_OK))
		SKIP(return, "no PL031 at " RTC_DEV);
	ASSERT_EQ(0, vfio_bind(RTC_BUS, RTC_DEV, RTC_DRIVER));
	ASSERT_EQ(0, vfio_open(&v, RTC_BUS, RTC_DEV)) TH_LOG("%s", v.err);

	/* Owned: the module cannot go. */
	ret = module_unload("vfio_platform");
	EXPECT_TRUE(ret == -EBUSY || ret == -EAGAIN) TH_LOG("rmmod: %d", ret);
	EXPECT_EQ(1, module_loaded("vfio_platform"));

	vfio_close(&v);
	ASSERT_EQ(0, vfio_restore(RTC_BUS, RTC_DEV));
	ASSERT_EQ(0, sysfs_driver(RTC_BUS, RTC_DEV, drv, sizeof(drv)));
	EXPECT_STREQ(RTC_HOST, drv);

	/* The host's RTC driver works again. */
	ASSERT_EQ(0, rtc_node(path, sizeof(path)));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ(0, ioctl(fd, RTC_RD_TIME, &tm));
	EXPECT_LE(124, tm.tm_year) TH_LOG("RTC year %d", tm.tm_year + 1900);
	close(fd);

	/* Released: it unloads and leaves nothing behind; then reload. */
	ret = module_unload("vfio_platform");
	ASSERT_EQ(0, ret) TH_LOG("rmmod: %s", strerror(-ret));
	EXPECT_EQ(0, module_loaded("vfio_platform"));
	EXPECT_NE(0, access("/sys/bus/amba/drivers/vfio-amba", F_OK));
	EXPECT_NE(0, access("/sys/bus/platform/drivers/vfio-platform", F_OK));
	EXPECT_NE(0, access("/dev/vfio/0", F_OK));
	EXPECT_NE(0, access("/dev/vfio/1", F_OK));
	ret = module_reload("vfio-platform.ko");
	ASSERT_EQ(0, ret) TH_LOG("reload: %s", strerror(-ret));
	EXPECT_EQ(0, access("/sys/bus/amba/drivers/vfio-amba", F_OK));
}

/*
 * An edge that fired while masked is delivered when an unmask eventfd
 * (KVM's resamplefd) unmasks it: the replay must not be signalled inside
 * the unmask eventfd's own wake-up, where the eventfd core refuses it.
 */
TEST(masked_edge_replayed_on_unmask_eventfd)
{
	struct vfio_dev v;
	uint64_t one = 1;
	int efd, ufd, ret;

	if (access("/sys/bus/platform/devices/" VIRTIO_DEV, F_OK))
		SKIP(return, "no virtio-mmio transport at " VIRTIO_DEV);
	ASSERT_EQ(0, sysfs_write(DMA_LESS_PARAM, "virtio,mmio"));
	ret = vfio_bind(VIRTIO_BUS, VIRTIO_DEV, "vfio-platform");
	ASSERT_EQ(0, ret) TH_LOG("binding: %s", strerror(-ret));
	ASSERT_EQ(0, vfio_open(&v, VIRTIO_BUS, VIRTIO_DEV)) TH_LOG("%s", v.err);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ufd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_LE(0, ufd);
	ASSERT_EQ(0, vfio_irq_eventfd(v.device, 0, VFIO_IRQ_SET_ACTION_TRIGGER,
				      efd));
	ASSERT_EQ(0, vfio_irq_eventfd(v.device, 0, VFIO_IRQ_SET_ACTION_UNMASK,
				      ufd));
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, vfio_irq_simple(v.device, 0,
					     VFIO_IRQ_SET_ACTION_MASK));
		ASSERT_EQ(0, vfio_irq_simple(v.device, 0,
					     VFIO_IRQ_SET_ACTION_TRIGGER));
		EXPECT_EQ(0, wait_event(efd, 200)) TH_LOG("edge delivered while masked");
		ASSERT_EQ(sizeof(one), write(ufd, &one, sizeof(one)));
		EXPECT_EQ(1, wait_event(efd, 2000))
			TH_LOG("round %d: masked edge lost on unmask by eventfd", i);
	}
	close(ufd);
	close(efd);
	vfio_close(&v);
	EXPECT_EQ(0, vfio_restore(VIRTIO_BUS, VIRTIO_DEV));
	EXPECT_EQ(0, sysfs_write(DMA_LESS_PARAM, "\n"));
}

/*
 * Tearing a level trigger down while the unmask eventfd fires: no unmask
 * may enable a line that free_irq() gave up ("Unbalanced enable").
 */
struct unmasker {
	int fd;
	int stop;
};

static void *unmask_loop(void *arg)
{
	struct unmasker *u = arg;
	uint64_t one = 1;

	while (!__atomic_load_n(&u->stop, __ATOMIC_RELAXED))
		if (write(u->fd, &one, sizeof(one)) < 0)
			usleep(10);
	return NULL;
}

TEST(irq_teardown_races_unmask_eventfd)
{
	struct unmasker u;
	struct vfio_dev v;
	pthread_t t;
	int efd, i;

	if (access("/sys/bus/amba/devices/" RTC_DEV, F_OK))
		SKIP(return, "no PL031 at " RTC_DEV);
	ASSERT_EQ(0, vfio_bind(RTC_BUS, RTC_DEV, RTC_DRIVER));
	ASSERT_EQ(0, vfio_open(&v, RTC_BUS, RTC_DEV)) TH_LOG("%s", v.err);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	u.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	u.stop = 0;
	ASSERT_LE(0, efd);
	ASSERT_LE(0, u.fd);
	ASSERT_EQ(0, vfio_irq_eventfd(v.device, 0, VFIO_IRQ_SET_ACTION_UNMASK,
				      u.fd));
	ASSERT_EQ(0, pthread_create(&t, NULL, unmask_loop, &u));
	for (i = 0; i < 2000; i++) {
		ASSERT_EQ(0, vfio_irq_eventfd(v.device, 0,
					      VFIO_IRQ_SET_ACTION_TRIGGER, efd));
		/* The loopback fires the level handler: masked. */
		ASSERT_EQ(0, vfio_irq_simple(v.device, 0,
					     VFIO_IRQ_SET_ACTION_TRIGGER));
		ASSERT_EQ(0, vfio_set_irq(v.device, 0, VFIO_IRQ_SET_DATA_NONE |
					  VFIO_IRQ_SET_ACTION_TRIGGER, 0,
					  NULL, 0));
	}
	__atomic_store_n(&u.stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	EXPECT_FALSE(kmsg_has("Unbalanced enable")) TH_LOG("a freed line was enabled");
	EXPECT_FALSE(kmsg_has("nobody cared"));
	close(u.fd);
	close(efd);
	vfio_close(&v);
	EXPECT_EQ(0, vfio_restore(RTC_BUS, RTC_DEV));
}

/*
 * The AMBA bus enables runtime PM around a driver: after vfio-amba had the
 * PL031, the host driver that takes it back must find it as before.
 */
TEST(runtime_pm_survives_bind_cycle)
{
	char before[32], after[32];
	const char *path = "/sys/bus/amba/devices/" RTC_DEV "/power/runtime_status";
	struct vfio_dev v;

	if (access(path, F_OK))
		SKIP(return, "no runtime PM status for " RTC_DEV);
	ASSERT_EQ(0, sysfs_read(path, before, sizeof(before)));
	ASSERT_EQ(0, vfio_bind(RTC_BUS, RTC_DEV, RTC_DRIVER));
	ASSERT_EQ(0, vfio_open(&v, RTC_BUS, RTC_DEV)) TH_LOG("%s", v.err);
	vfio_close(&v);
	ASSERT_EQ(0, vfio_restore(RTC_BUS, RTC_DEV));
	ASSERT_EQ(0, sysfs_read(path, after, sizeof(after)));
	EXPECT_STREQ(before, after);
	EXPECT_STRNE("unsupported\n", after);
	EXPECT_FALSE(kmsg_has("Unbalanced pm_runtime_enable"));
}

/*
 * A region that starts 4 bytes into a device's registers: accesses are
 * aligned in the physical address space and never wider than 32 bits,
 * so an 8-byte read is two 32-bit reads (MR, then LR of the PL031).
 */
TEST(access_width_follows_physical_address)
{
	char reset_required[8];
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	uint32_t two[2], mr, lr;
	struct vfio_dev v;
	uint8_t b;
	int ret;

	if (access("/sys/bus/platform/devices/" WINDOW_DEV, F_OK))
		SKIP(return, "no %s in the device tree", WINDOW_DEV);
	ASSERT_EQ(0, sysfs_read(RESET_REQUIRED_PARAM, reset_required,
				sizeof(reset_required)));
	ASSERT_EQ(0, sysfs_write(DMA_LESS_PARAM, "kvmarm,test-window"));
	ASSERT_EQ(0, sysfs_write(RESET_REQUIRED_PARAM, "N"));
	ret = vfio_bind("platform", WINDOW_DEV, "vfio-platform");
	sysfs_write(RESET_REQUIRED_PARAM, reset_required);
	sysfs_write(DMA_LESS_PARAM, "\n");
	ASSERT_EQ(0, ret) TH_LOG("binding %s: %s", WINDOW_DEV, strerror(-ret));
	ASSERT_EQ(0, vfio_open(&v, "platform", WINDOW_DEV)) TH_LOG("%s", v.err);
	ASSERT_EQ(0, ioctl(v.device, VFIO_DEVICE_GET_REGION_INFO, &ri));
	EXPECT_EQ(8, ri.size);

	ASSERT_EQ(0, wr32(v.device, 0, 0x12345678));	/* MR */
	ASSERT_EQ(8, pread(v.device, two, 8, 0));
	mr = rd32(v.device, 0);
	lr = rd32(v.device, 4);
	EXPECT_EQ(0x12345678, mr);
	EXPECT_EQ(mr, two[0]);
	EXPECT_EQ(lr, two[1]);
	ASSERT_EQ(1, pread(v.device, &b, 1, 0));
	EXPECT_EQ(0x78, b);
	ASSERT_EQ(0, wr32(v.device, 0, 0));
	vfio_close(&v);
	EXPECT_EQ(0, vfio_restore("platform", WINDOW_DEV));
}

/*
 * The PL061 reset puts every configuration register back, and a PL061
 * whose region cannot hold them gets no reset (and, with reset_required,
 * no passthrough).
 */
TEST(pl061_reset)
{
	static const unsigned int regs[] = { 0x404, 0x408, 0x40c, 0x410, 0x420 };
	char drv[64];
	struct vfio_dev v;
	unsigned int i;
	int ret;

	if (access("/sys/bus/amba/devices/" GPIO_DEV, F_OK))
		SKIP(return, "no PL061 at " GPIO_DEV);
	ASSERT_EQ(0, sysfs_driver(RTC_BUS, GPIO_DEV, drv, sizeof(drv)));
	ASSERT_EQ(0, vfio_bind(RTC_BUS, GPIO_DEV, RTC_DRIVER));
	ASSERT_EQ(0, vfio_open(&v, RTC_BUS, GPIO_DEV)) TH_LOG("%s", v.err);
	for (i = 0; i < ARRAY_SIZE(regs); i++)
		ASSERT_EQ(0, wr32(v.device, regs[i], 0x04));
	EXPECT_EQ(0x04, rd32(v.device, 0x404));
	ASSERT_EQ(0, ioctl(v.device, VFIO_DEVICE_RESET));
	for (i = 0; i < ARRAY_SIZE(regs); i++)
		EXPECT_EQ(0, rd32(v.device, regs[i]))
			TH_LOG("register %#x kept its value", regs[i]);
	vfio_close(&v);
	EXPECT_EQ(0, vfio_restore(RTC_BUS, GPIO_DEV));

	if (access("/sys/bus/platform/devices/" SMALL_GPIO_DEV, F_OK))
		return;
	ret = vfio_bind("platform", SMALL_GPIO_DEV, "vfio-platform");
	EXPECT_EQ(-ENODEV, ret) TH_LOG("a PL061 with a 256-byte region was given a reset");
	EXPECT_TRUE(kmsg_has("the arm,pl061 reset writes up to 0x424: no reset"));
	EXPECT_TRUE(kmsg_has("no reset for this device"));
	if (!ret)
		vfio_restore("platform", SMALL_GPIO_DEV);
	else
		sysfs_write("/sys/bus/platform/devices/" SMALL_GPIO_DEV "/driver_override",
			    "\n");
}

/*
 * Without an IOMMU only the most specific compatible can admit a device:
 * a vendor part that lists the PL011 as a fallback is refused.  Admitted
 * by the dma_less parameter, it taints the kernel and says so.
 */
TEST(dma_less_matches_most_specific_compatible)
{
	char reset_required[8], taint[32];
	int ret;

	if (access("/sys/bus/platform/devices/" VENDOR_UART_DEV, F_OK))
		SKIP(return, "no %s in the device tree", VENDOR_UART_DEV);
	ASSERT_EQ(0, sysfs_write(DMA_LESS_PARAM, "\n"));
	ret = vfio_bind("platform", VENDOR_UART_DEV, "vfio-platform");
	EXPECT_EQ(-ENODEV, ret) TH_LOG("admitted through the arm,pl011 fallback");
	if (!ret)
		vfio_restore("platform", VENDOR_UART_DEV);

	ASSERT_EQ(0, sysfs_read(RESET_REQUIRED_PARAM, reset_required,
				sizeof(reset_required)));
	ASSERT_EQ(0, sysfs_write(DMA_LESS_PARAM, "kvmarm,test-uart"));
	/* Its reset is not the PL011's either (most specific compatible). */
	ASSERT_EQ(0, sysfs_write(RESET_REQUIRED_PARAM, "N"));
	ret = vfio_bind("platform", VENDOR_UART_DEV, "vfio-platform");
	sysfs_write(RESET_REQUIRED_PARAM, reset_required);
	sysfs_write(DMA_LESS_PARAM, "\n");
	ASSERT_EQ(0, ret) TH_LOG("dma_less did not admit it: %s", strerror(-ret));
	EXPECT_TRUE(kmsg_has(VENDOR_UART_DEV
			     ": admitted without an IOMMU on the word of the dma_less parameter"));
	ASSERT_EQ(0, sysfs_read("/proc/sys/kernel/tainted", taint, sizeof(taint)));
	EXPECT_TRUE(strtoul(taint, NULL, 10) & TAINT_USER_BIT);
	EXPECT_EQ(0, vfio_restore("platform", VENDOR_UART_DEV));
}

/* A device with no reset at all is refused unless reset_required is off. */
TEST(device_without_reset_refused)
{
	char reset_required[8];
	int ret;

	if (access("/sys/bus/platform/devices/" FW_CFG_DEV, F_OK))
		SKIP(return, "no " FW_CFG_DEV);
	ASSERT_EQ(0, sysfs_read(RESET_REQUIRED_PARAM, reset_required,
				sizeof(reset_required)));
	EXPECT_STREQ("Y\n", reset_required);
	ASSERT_EQ(0, sysfs_write(DMA_LESS_PARAM, "qemu,fw-cfg-mmio"));
	ret = vfio_bind("platform", FW_CFG_DEV, "vfio-platform");
	EXPECT_EQ(-ENODEV, ret) TH_LOG("a device without reset was admitted");
	EXPECT_TRUE(kmsg_has(FW_CFG_DEV ": no reset for this device"));
	if (!ret)
		vfio_restore("platform", FW_CFG_DEV);
	else
		sysfs_write("/sys/bus/platform/devices/" FW_CFG_DEV "/driver_override",
			    "\n");
	ASSERT_EQ(0, sysfs_write(RESET_REQUIRED_PARAM, "N"));
	ret = vfio_bind("platform", FW_CFG_DEV, "vfio-platform");
	sysfs_write(RESET_REQUIRED_PARAM, reset_required);
	sysfs_write(DMA_LESS_PARAM, "\n");
	ASSERT_EQ(0, ret) TH_LOG("reset_required=N did not admit it");
	EXPECT_EQ(0, vfio_restore("platform", FW_CFG_DEV));
}

/*
 * The device cdev and iommufd (kernels with CONFIG_IOMMUFD and
 * CONFIG_VFIO_DEVICE_CDEV; Debian's have neither): bind, attach to an
 * IOAS, then regions and interrupts as through the group.
 */
/* /dev/vfio/devices/vfioN of a bound device, or -ENOENT. */
static int vfio_cdev_path(const char *bus, const char *dev, char *buf,
			  size_t len)
{
	char dir[256];
	struct dirent *e;
	DIR *d;
	int ret = -ENOENT;

	snprintf(dir, sizeof(dir), "/sys/bus/%s/devices/%s/vfio-dev", bus, dev);
	d = opendir(dir);
	if (!d)
		return -ENOENT;
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "vfio", 4)) {
			snprintf(buf, len, "/dev/vfio/devices/%s", e->d_name);
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

static void cdev_check(struct __test_metadata *_metadata, const char *bus,
		       const char *dev, const char *driver)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct kvmarm_iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct vfio_device_info di = { .argsz = sizeof(di) };
	char path[300];
	int iommufd, fd, efd;
	uint32_t val;

	ASSERT_EQ(0, vfio_bind(bus, dev, driver));
	ASSERT_EQ(0, vfio_cdev_path(bus, dev, path, sizeof(path)))
		TH_LOG("%s has no device cdev", dev);
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, iommufd);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	/* Nothing works before the device is bound to an iommufd. */
	EXPECT_EQ(-1, ioctl(fd, VFIO_DEVICE_GET_INFO, &di));
	bind.iommufd = iommufd;
	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		TH_LOG("BIND_IOMMUFD: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(iommufd, KVMARM_IOMMU_IOAS_ALLOC, &ioas));
	at.pt_id = ioas.out_ioas_id;
	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
		TH_LOG("ATTACH_IOMMUFD_PT: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(fd, VFIO_DEVICE_GET_INFO, &di));
	EXPECT_TRUE(di.flags & VFIO_DEVICE_FLAGS_PLATFORM);
	EXPECT_EQ(4, pread(fd, &val, 4, 0));
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, vfio_irq_eventfd(fd, 0, VFIO_IRQ_SET_ACTION_TRIGGER, efd));
	ASSERT_EQ(0, vfio_irq_simple(fd, 0, VFIO_IRQ_SET_ACTION_TRIGGER));
	EXPECT_EQ(1, wait_event(efd, 1000));
	close(efd);
	close(fd);
	close(iommufd);
	EXPECT_EQ(0, vfio_restore(bus, dev));
}

#define IOMMUFD_UNSAFE_IRQ_PARAM \
	"/sys/module/iommufd/parameters/allow_unsafe_interrupts"

TEST(cdev_iommufd)
{
	char unsafe[8];

	if (access("/dev/iommu", F_OK))
		SKIP(return, "no /dev/iommu: the kernel has no IOMMUFD");
	if (access("/sys/bus/amba/devices/" RTC_DEV, F_OK))
		SKIP(return, "no PL031 at " RTC_DEV);
	/* DMA-less, emulated IOMMU. */
	cdev_check(_metadata, RTC_BUS, RTC_DEV, RTC_DRIVER);
	/* Behind the SMMU (wired interrupts: unsafe interrupts allowed). */
	if (access("/sys/bus/platform/devices/" SMMU_DEV "/iommu_group", F_OK))
		return;
	ASSERT_EQ(0, sysfs_read(IOMMUFD_UNSAFE_IRQ_PARAM, unsafe, sizeof(unsafe)));
	ASSERT_EQ(0, sysfs_write(IOMMUFD_UNSAFE_IRQ_PARAM, "Y"));
	cdev_check(_metadata, VIRTIO_BUS, SMMU_DEV, "vfio-platform");
	sysfs_write(IOMMUFD_UNSAFE_IRQ_PARAM, unsafe);
}

TEST_HARNESS_MAIN
