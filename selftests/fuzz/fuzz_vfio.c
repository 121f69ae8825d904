// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-platform: QEMU virt's PL031 and PL061 (vfio-amba, emulated IOMMU
 * groups) and the virtio-mmio transport behind the SMMU (vfio-platform, a
 * real group), through the group, container and device fds, and through
 * the device cdev with /dev/iommu where the kernel has them.  The PL011
 * console is never touched.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "fuzz.h"
#include "vfio_util.h"

#define OFFSET_SHIFT	40	/* vfio-platform's region offsets */
#define UNSAFE_IRQS	"/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
#define NREG		4

struct vdev {
	const char *bus, *name, *driver;
	bool bound;
	char cdev[64];			/* /dev/vfio/devices/vfioN or "" */
	uint32_t num_regions, num_irqs;
	uint64_t size[NREG], offset[NREG];
	uint32_t flags[NREG];
};

static struct vdev devs[] = {
	{ "amba", "9010000.pl031", "vfio-amba" },
	{ "amba", "9030000.pl061", "vfio-amba" },
	{ "platform", "a000200.virtio_mmio", "vfio-platform" },
};

#define NDEVS		ARRAY_SIZE(devs)

static unsigned int bound[NDEVS], nbound, cur;
static char unsafe_irqs[8];
static bool gpio_keys_unbound, have_iommufd;
static long page;

struct vf {
	struct vdev *d;
	struct vfio_dev v;
	int iommufd;
	uint32_t ioas;
	int efd[3];
};

/* PL061 line 3 is gpio-keys' power button: give gpio-keys back later. */
static void gpio_keys_release(void)
{
	char drv[64];

	if (!sysfs_driver("platform", "gpio-keys", drv, sizeof(drv)) &&
	    drv[0] &&
	    !sysfs_write("/sys/bus/platform/drivers/gpio-keys/unbind",
			 "gpio-keys"))
		gpio_keys_unbound = true;
}

static int dev_info(struct vdev *d)
{
	struct vfio_device_info di = { .argsz = sizeof(di) };
	struct vfio_dev v;
	unsigned int i;
	int ret = -1;

	if (vfio_open(&v, d->bus, d->name))
		goto out;
	if (ioctl(v.device, VFIO_DEVICE_GET_INFO, &di))
		goto out;
	d->num_regions = di.num_regions;
	d->num_irqs = di.num_irqs;
	for (i = 0; i < di.num_regions && i < NREG; i++) {
		struct vfio_region_info ri = { .argsz = sizeof(ri), .index = i };

		if (ioctl(v.device, VFIO_DEVICE_GET_REGION_INFO, &ri))
			goto out;
		d->size[i] = ri.size;
		d->offset[i] = ri.offset;
		d->flags[i] = ri.flags;
	}
	ret = 0;
out:
	vfio_close(&v);
	return ret;
}

/* The device's cdev: its vfio-dev node in sysfs, in /dev with CDEV. */
static void find_cdev(struct vdev *d)
{
	char path[256];
	int n;

	d->cdev[0] = 0;
	for (n = 0; n < 64; n++) {
		snprintf(path, sizeof(path), "/sys/bus/%s/devices/%s/vfio-dev/vfio%d",
			 d->bus, d->name, n);
		if (access(path, F_OK))
			continue;
		snprintf(d->cdev, sizeof(d->cdev), "/dev/vfio/devices/vfio%d", n);
		if (access(d->cdev, F_OK))
			d->cdev[0] = 0;
		return;
	}
}

/*
 * Random writes reach the PL031's load register, which sets the host's
 * RTC: give it the system time back before the host driver takes it.
 */
static void rtc_give_time_back(struct vdev *d)
{
	uint32_t now = (uint32_t)time(NULL);
	struct vfio_dev v;

	if (!strstr(d->name, "pl031"))
		return;
	if (!vfio_open(&v, d->bus, d->name) &&
	    pwrite(v.device, &now, sizeof(now), 0x08) != sizeof(now))
		fprintf(stderr, "# %s: could not set the RTC back\n", d->name);
	vfio_close(&v);
}

static void vf_teardown(void)
{
	unsigned int i;

	for (i = 0; i < NDEVS; i++) {
		if (!devs[i].bound)
			continue;
		rtc_give_time_back(&devs[i]);
		vfio_restore(devs[i].bus, devs[i].name);
	}
	for (i = 0; i < NDEVS; i++)
		devs[i].bound = false;
	if (gpio_keys_unbound)
		sysfs_write("/sys/bus/platform/drivers_probe", "gpio-keys");
	gpio_keys_unbound = false;
	if (unsafe_irqs[0])
		sysfs_write(UNSAFE_IRQS, unsafe_irqs);
	unsafe_irqs[0] = 0;
	nbound = 0;
}

static int vf_setup(char *why, size_t len)
{
	char path[256];
	unsigned int i;
	int ret;

	page = sysconf(_SC_PAGESIZE);
	nbound = 0;
	if (access("/dev/vfio/vfio", F_OK)) {
		snprintf(why, len, "no /dev/vfio/vfio");
		return 1;
	}
	if (!sysfs_read(UNSAFE_IRQS, unsafe_irqs, sizeof(unsafe_irqs)))
		sysfs_write(UNSAFE_IRQS, "Y");
	for (i = 0; i < NDEVS; i++) {
		struct vdev *d = &devs[i];

		snprintf(path, sizeof(path), "/sys/bus/%s/devices/%s", d->bus,
			 d->name);
		if (access(path, F_OK))
			continue;
		if (strstr(d->name, "pl061"))
			gpio_keys_release();
		ret = vfio_bind(d->bus, d->name, d->driver);
		if (ret) {
			kf_print("# vfio: binding %s to %s: %s\n", d->name,
				 d->driver, strerror(-ret));
			continue;
		}
		d->bound = true;
		if (dev_info(d))
			continue;
		find_cdev(d);
		bound[nbound++] = i;
	}
	if (!nbound) {
		vf_teardown();
		snprintf(why, len, "none of the devices bound to VFIO");
		return 1;
	}
	have_iommufd = !access("/dev/iommu", F_OK);
	for (i = 0; i < nbound; i++)
		kf_print("# vfio: %s: %u regions, %u irqs%s%s\n",
			 devs[bound[i]].name, devs[bound[i]].num_regions,
			 devs[bound[i]].num_irqs,
			 devs[bound[i]].cdev[0] ? ", cdev " : "",
			 devs[bound[i]].cdev);
	if (!have_iommufd || !devs[bound[0]].cdev[0])
		kf_print("# vfio: no device cdev or no /dev/iommu: %s\n",
			 "cdev part skipped (needs IOMMUFD, VFIO_DEVICE_CDEV)");
	return 0;
}

/* Through the cdev: bind to a fresh iommufd and attach an IOAS. */
static int open_cdev(struct kf_ctx *c, struct vf *s)
{
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct kvmarm_iommu_ioas_alloc a = { .size = sizeof(a) };

	kf_op(c, "open %s and /dev/iommu", s->d->cdev);
	s->v.device = open(s->d->cdev, O_RDWR | O_CLOEXEC);
	s->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (kf_end(c, s->v.device < 0 || s->iommufd < 0 ? -1 : 0))
		return -1;
	kf_op(c, "IOMMU_IOAS_ALLOC");
	kf_end(c, ioctl(s->iommufd, KVMARM_IOMMU_IOAS_ALLOC, &a));
	s->ioas = a.out_ioas_id;
	b.iommufd = s->iommufd;
	kf_op(c, "VFIO_DEVICE_BIND_IOMMUFD %d", b.iommufd);
	kf_end(c, ioctl(s->v.device, VFIO_DEVICE_BIND_IOMMUFD, &b));
	at.pt_id = s->ioas;
	kf_op(c, "VFIO_DEVICE_ATTACH_IOMMUFD_PT %u", at.pt_id);
	kf_end(c, ioctl(s->v.device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
	return 0;
}

static struct vf *session(struct kf_ctx *c, unsigned int d)
{
	struct vf *s = calloc(1, sizeof(*s));
	int i;

	if (!s)
		return NULL;
	s->d = &devs[d];
	s->iommufd = -1;
	s->v.container = -1;
	s->v.group = -1;
	s->v.device = -1;
	for (i = 0; i < 3; i++)
		s->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (have_iommufd && s->d->cdev[0] && kf_chance(c, 40)) {
		open_cdev(c, s);
		return s;
	}
	kf_op(c, "vfio_open %s", s->d->name);
	if (kf_end(c, vfio_open(&s->v, s->d->bus, s->d->name))) {
		kf_op(c, "vfio_open: %s", s->v.err);
		kf_end(c, 0);
	}
	return s;
}

static void *vf_open(struct kf_ctx *c)
{
	cur = bound[kf_below(c, nbound)];
	return session(c, cur);
}

static void vf_close(struct kf_ctx *c, void *p)
{
	struct vf *s = p;
	int i;

	kf_op(c, "close device %d group %d container %d", s->v.device,
	      s->v.group, s->v.container);
	vfio_close(&s->v);
	if (s->iommufd >= 0)
		close(s->iommufd);
	kf_end(c, 0);
	for (i = 0; i < 3; i++)
		close(s->efd[i]);
	free(s);
}

static uint32_t argsz(struct kf_ctx *c, uint32_t minsz)
{
	switch (kf_below(c, 8)) {
	case 0:
		return kf_below(c, minsz);
	case 1:
		return minsz + kf_below(c, 64);
	case 2:
		return kf_u32(c) % 4096;
	default:
		return minsz;
	}
}

static uint32_t index_of(struct kf_ctx *c, uint32_t n)
{
	if (kf_chance(c, 80))
		return kf_below(c, n ? n : 1);
	return kf_chance(c, 50) ? n + kf_below(c, 4) : kf_u32(c);
}

static void op_info(struct kf_ctx *c, struct vf *s)
{
	union {
		struct vfio_device_info di;
		struct vfio_region_info ri;
		struct vfio_irq_info ii;
		uint8_t buf[4096];
	} u;
	uint32_t idx;
	long ret;

	memset(&u, 0, sizeof(u));
	switch (kf_below(c, 3)) {
	case 0:
		u.di.argsz = argsz(c, sizeof(u.di));
		kf_op(c, "VFIO_DEVICE_GET_INFO argsz %u", u.di.argsz);
		ret = ioctl(s->v.device, VFIO_DEVICE_GET_INFO, &u);
		if (u.di.argsz < offsetof(struct vfio_device_info, num_irqs) + 4)
			kf_end_fail(c, ret);
		else
			kf_end(c, ret);
		break;
	case 1:
		idx = index_of(c, s->d->num_regions);
		u.ri.argsz = argsz(c, sizeof(u.ri));
		u.ri.index = idx;
		kf_op(c, "VFIO_DEVICE_GET_REGION_INFO index %u argsz %u", idx,
		      u.ri.argsz);
		ret = ioctl(s->v.device, VFIO_DEVICE_GET_REGION_INFO, &u);
		if (idx >= s->d->num_regions || u.ri.argsz < 32)
			kf_end_fail(c, ret);
		else
			kf_end(c, ret);
		break;
	default:
		idx = index_of(c, s->d->num_irqs);
		u.ii.argsz = argsz(c, sizeof(u.ii));
		u.ii.index = idx;
		kf_op(c, "VFIO_DEVICE_GET_IRQ_INFO index %u argsz %u", idx,
		      u.ii.argsz);
		ret = ioctl(s->v.device, VFIO_DEVICE_GET_IRQ_INFO, &u);
		if (idx >= s->d->num_irqs || u.ii.argsz < sizeof(u.ii))
			kf_end_fail(c, ret);
		else
			kf_end(c, ret);
		break;
	}
}

static void op_set_irqs(struct kf_ctx *c, struct vf *s)
{
	static const uint32_t actions[] = {
		VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_UNMASK,
		VFIO_IRQ_SET_ACTION_TRIGGER,
	};
	static const uint32_t types[] = {
		VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_BOOL,
		VFIO_IRQ_SET_DATA_EVENTFD,
	};
	struct {
		struct vfio_irq_set h;
		int32_t data[16];
	} set = {};
	uint32_t count, i, dsize = 0;
	int fds[4] = { s->efd[0], s->efd[1], s->efd[2], s->v.device };
	long ret;

	set.h.flags = actions[kf_below(c, 3)] | types[kf_below(c, 3)];
	if (kf_chance(c, 10))
		set.h.flags |= kf_chance(c, 50) ? actions[kf_below(c, 3)] |
			       types[kf_below(c, 3)] : kf_u32(c);
	set.h.index = index_of(c, s->d->num_irqs);
	set.h.start = kf_chance(c, 85) ? 0 : kf_u32(c);
	count = kf_chance(c, 80) ? kf_below(c, 3) : kf_u32(c);
	set.h.count = count;
	if (set.h.flags & VFIO_IRQ_SET_DATA_BOOL)
		dsize = 1;
	if (set.h.flags & VFIO_IRQ_SET_DATA_EVENTFD)
		dsize = 4;
	for (i = 0; i < 16; i++)
		set.data[i] = dsize == 4 ? kf_fd(c, fds, 4) : kf_rand(c) % 2;
	set.h.argsz = sizeof(set.h) +
		      (count < 16 ? count * dsize : 16 * dsize);
	if (kf_chance(c, 10))
		set.h.argsz = argsz(c, sizeof(set.h));
	kf_op(c, "VFIO_DEVICE_SET_IRQS flags %#x index %u start %u count %u argsz %u data0 %d",
	      set.h.flags, set.h.index, set.h.start, count, set.h.argsz,
	      set.data[0]);
	ret = ioctl(s->v.device, VFIO_DEVICE_SET_IRQS, &set);
	if (set.h.index >= s->d->num_irqs)
		kf_end_fail(c, ret);
	else
		kf_end(c, ret);
}

static void op_rw(struct kf_ctx *c, struct vf *s)
{
	static const size_t widths[] = { 1, 2, 4, 8, 1, 2, 4, 8, 3, 5, 16, 64 };
	uint8_t buf[4096];
	uint32_t idx = index_of(c, s->d->num_regions);
	uint64_t size = idx < NREG ? s->d->size[idx] : 0, off, pos, ridx, roff;
	size_t len = kf_chance(c, 95) ? widths[kf_below(c, 12)] :
		     kf_below(c, sizeof(buf) + 1);
	bool write = kf_chance(c, 40), oob;
	long ret;

	off = kf_chance(c, 80) ? kf_below(c, size + 16) : kf_u64(c) & ((1ull << OFFSET_SHIFT) - 1);
	if (kf_chance(c, 70))
		off &= ~(uint64_t)(len - 1 < 8 ? len - 1 : 7);
	pos = ((uint64_t)idx << OFFSET_SHIFT) + off;
	if (idx < s->d->num_regions && idx < NREG)
		pos = s->d->offset[idx] + off;
	/* Where the access goes, as the driver decodes the offset. */
	ridx = pos >> OFFSET_SHIFT;
	roff = pos & ((1ull << OFFSET_SHIFT) - 1);
	size = ridx < s->d->num_regions && ridx < NREG ? s->d->size[ridx] : 0;
	oob = ridx >= s->d->num_regions ||
	      (len && (roff >= size || len > size - roff));
	kf_fill(c, buf, len);
	kf_op(c, "%s region %u offset %#llx len %zu", write ? "pwrite" : "pread",
	      idx, (unsigned long long)off, len);
	ret = write ? pwrite(s->v.device, buf, len, pos) :
	      pread(s->v.device, buf, len, pos);
	if (oob)
		kf_end_fail(c, ret);
	else
		kf_end(c, ret);
}

static void op_mmap(struct kf_ctx *c, struct vf *s)
{
	static const int prots[] = {
		PROT_READ, PROT_READ | PROT_WRITE, PROT_WRITE, PROT_NONE,
		PROT_READ | PROT_EXEC, PROT_READ | PROT_WRITE,
	};
	uint64_t idx = index_of(c, s->d->num_regions), size, off, pos, alsize;
	size_t len = kf_chance(c, 80) ? page * (1 + kf_below(c, 2)) : kf_len(c);
	int prot = prots[kf_below(c, 6)], nprot, flags = MAP_SHARED;
	uint32_t *m;
	bool may_map;
	size_t n;
	uint32_t v;
	long ret;

	off = kf_chance(c, 80) ? page * kf_below(c, 3) : kf_u32(c);
	pos = (idx << OFFSET_SHIFT) + off;
	/* The region and offset the driver decodes (the shift may wrap). */
	idx = pos >> OFFSET_SHIFT;
	off = pos & ((1ull << OFFSET_SHIFT) - 1);
	size = idx < s->d->num_regions && idx < NREG ? s->d->size[idx] : 0;
	alsize = (size + page - 1) & ~(uint64_t)(page - 1);
	if (kf_chance(c, 10))
		flags = MAP_PRIVATE;
	kf_op(c, "mmap region %llu offset %#llx len %#zx prot %#x flags %#x",
	      (unsigned long long)idx, (unsigned long long)off, len, prot,
	      flags);
	m = mmap(NULL, len, prot, flags, s->v.device, pos);
	ret = m == MAP_FAILED ? -1 : 0;
	/* What a mapping needs: whole pages of a region, shared. */
	may_map = idx < s->d->num_regions && flags == MAP_SHARED &&
		  !(off % page) && len && len <= alsize &&
		  off <= alsize - ((len + page - 1) & ~(size_t)(page - 1));
	if (!may_map)
		kf_end_fail(c, ret);
	else
		kf_end(c, ret);
	if (m == MAP_FAILED)
		return;
	/* Registers are 32 bits: aligned words in the region only. */
	n = off < size ? (len < size - off ? len : size - off) / 4 : 0;
	if (prot & PROT_READ && n) {
		kf_op(c, "read mapped region %llu", (unsigned long long)idx);
		v = __atomic_load_n(m + kf_below(c, n), __ATOMIC_RELAXED);
		kf_end(c, v & 0);
	}
	if (prot & PROT_WRITE && n && kf_chance(c, 30)) {
		kf_op(c, "write mapped region %llu", (unsigned long long)idx);
		__atomic_store_n(m + kf_below(c, n), (uint32_t)kf_rand(c),
				 __ATOMIC_RELAXED);
		kf_end(c, 0);
	}
	nprot = prots[kf_below(c, 6)];
	kf_op(c, "mprotect %#x", nprot);
	ret = kf_end(c, mprotect((void *)m, len, nprot));
	if (!ret && nprot & PROT_READ && n) {
		kf_op(c, "read mapped region %llu after mprotect",
		      (unsigned long long)idx);
		v = __atomic_load_n(m + kf_below(c, n), __ATOMIC_RELAXED);
		kf_end(c, v & 0);
	}
	munmap((void *)m, len);
}

static void op_container(struct kf_ctx *c, struct vf *s)
{
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	struct {
		struct vfio_iommu_type1_info i;
		uint8_t caps[1024];
	} info = {};
	unsigned long arg;

	switch (kf_below(c, 6)) {
	case 0:
		arg = kf_chance(c, 80) ? kf_below(c, 12) : kf_u32(c);
		kf_op(c, "VFIO_CHECK_EXTENSION %lu", arg);
		kf_end(c, ioctl(s->v.container, VFIO_CHECK_EXTENSION, arg));
		break;
	case 1:
		arg = kf_chance(c, 80) ? kf_below(c, 12) : kf_u32(c);
		kf_op(c, "VFIO_SET_IOMMU %lu", arg);
		kf_end(c, ioctl(s->v.container, VFIO_SET_IOMMU, arg));
		break;
	case 2:
		info.i.argsz = argsz(c, sizeof(info.i));
		kf_op(c, "VFIO_IOMMU_GET_INFO argsz %u", info.i.argsz);
		kf_end(c, ioctl(s->v.container, VFIO_IOMMU_GET_INFO, &info));
		break;
	case 3:
	case 4:
		map.vaddr = kf_uaddr(c, &kf_mem);
		map.iova = kf_chance(c, 70) ? 4096 * kf_below(c, 4096) : kf_u64(c);
		map.size = kf_chance(c, 70) ? 4096 * (1 + kf_below(c, 256)) : kf_len(c);
		map.flags = kf_chance(c, 80) ? VFIO_DMA_MAP_FLAG_READ |
			    VFIO_DMA_MAP_FLAG_WRITE : kf_u32(c) & ~4u;
		if (kf_chance(c, 10))
			map.argsz = argsz(c, sizeof(map));
		kf_op(c, "VFIO_IOMMU_MAP_DMA vaddr %#llx iova %#llx size %#llx flags %#x",
		      (unsigned long long)map.vaddr,
		      (unsigned long long)map.iova,
		      (unsigned long long)map.size, map.flags);
		kf_end(c, ioctl(s->v.container, VFIO_IOMMU_MAP_DMA, &map));
		break;
	default:
		unmap.iova = kf_chance(c, 70) ? 4096 * kf_below(c, 4096) : kf_u64(c);
		unmap.size = kf_chance(c, 70) ? 4096 * (1 + kf_below(c, 256)) : kf_len(c);
		/* Never GET_DIRTY_BITMAP: the kernel would write a bitmap. */
		unmap.flags = kf_chance(c, 80) ? 0 : kf_chance(c, 50) ?
			      VFIO_DMA_UNMAP_FLAG_ALL : kf_u32(c) & ~1u;
		kf_op(c, "VFIO_IOMMU_UNMAP_DMA iova %#llx size %#llx flags %#x",
		      (unsigned long long)unmap.iova,
		      (unsigned long long)unmap.size, unmap.flags);
		kf_end(c, ioctl(s->v.container, VFIO_IOMMU_UNMAP_DMA, &unmap));
		break;
	}
}

static void op_group(struct kf_ctx *c, struct vf *s)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char name[300];
	int fd;

	switch (kf_below(c, 5)) {
	case 0:
		kf_op(c, "VFIO_GROUP_GET_STATUS");
		kf_end(c, ioctl(s->v.group, VFIO_GROUP_GET_STATUS, &st));
		break;
	case 1:
		kf_op(c, "VFIO_GROUP_UNSET_CONTAINER");
		kf_end(c, ioctl(s->v.group, VFIO_GROUP_UNSET_CONTAINER));
		break;
	case 2:
		fd = kf_chance(c, 70) ? s->v.container : kf_fd(c, s->efd, 3);
		kf_op(c, "VFIO_GROUP_SET_CONTAINER %d", fd);
		kf_end(c, ioctl(s->v.group, VFIO_GROUP_SET_CONTAINER, &fd));
		break;
	default:
		snprintf(name, sizeof(name), "%s", s->d->name);
		if (kf_chance(c, 30)) {
			memset(name, 'a', sizeof(name) - 1);
			name[kf_below(c, sizeof(name))] = 0;
		} else if (kf_chance(c, 10)) {
			snprintf(name, sizeof(name), "%s",
				 devs[kf_below(c, NDEVS)].name);
		}
		kf_op(c, "close device %d, VFIO_GROUP_GET_DEVICE_FD '%.40s'",
		      s->v.device, name);
		if (kf_chance(c, 70))
			close(s->v.device);
		fd = ioctl(s->v.group, VFIO_GROUP_GET_DEVICE_FD, name);
		if (fd >= 0)
			s->v.device = fd;
		kf_end(c, fd);
		break;
	}
}

static void op_cdev(struct kf_ctx *c, struct vf *s)
{
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct vfio_device_detach_iommufd_pt dt = { .argsz = sizeof(dt) };
	struct kvmarm_iommu_ioas_map m = { .size = sizeof(m) };
	int fds[2] = { s->iommufd, s->v.device };

	if (s->iommufd < 0)
		return;
	switch (kf_below(c, 4)) {
	case 0:
		b.argsz = argsz(c, sizeof(b));
		b.flags = kf_chance(c, 90) ? 0 : kf_u32(c);
		b.iommufd = kf_fd(c, fds, 2);
		kf_op(c, "VFIO_DEVICE_BIND_IOMMUFD %d flags %#x", b.iommufd,
		      b.flags);
		kf_end(c, ioctl(s->v.device, VFIO_DEVICE_BIND_IOMMUFD, &b));
		break;
	case 1:
		at.argsz = argsz(c, sizeof(at));
		at.pt_id = kf_chance(c, 70) ? s->ioas : kf_u32(c);
		kf_op(c, "VFIO_DEVICE_ATTACH_IOMMUFD_PT %u", at.pt_id);
		kf_end(c, ioctl(s->v.device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at));
		break;
	case 2:
		kf_op(c, "VFIO_DEVICE_DETACH_IOMMUFD_PT");
		kf_end(c, ioctl(s->v.device, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt));
		break;
	default:
		m.flags = kf_below(c, 8);
		m.ioas_id = kf_chance(c, 80) ? s->ioas : kf_u32(c);
		m.user_va = kf_uaddr(c, &kf_mem);
		m.length = kf_chance(c, 70) ? 4096 * (1 + kf_below(c, 64)) : kf_len(c);
		m.iova = kf_chance(c, 70) ? 4096 * kf_below(c, 4096) : kf_u64(c);
		kf_op(c, "IOMMU_IOAS_MAP ioas %u va %#llx len %#llx iova %#llx",
		      m.ioas_id, (unsigned long long)m.user_va,
		      (unsigned long long)m.length, (unsigned long long)m.iova);
		kf_end(c, ioctl(s->iommufd, KVMARM_IOMMU_IOAS_MAP, &m));
		break;
	}
}

static void vf_op(struct kf_ctx *c, void *p)
{
	struct vf *s = p;
	uint64_t cnt;
	int i;

	switch (kf_below(c, 40)) {
	case 0 ... 5:
		op_info(c, s);
		break;
	case 6 ... 11:
		op_set_irqs(c, s);
		break;
	case 12 ... 21:
		op_rw(c, s);
		break;
	case 22:
		kf_op(c, "VFIO_DEVICE_RESET");
		kf_end(c, ioctl(s->v.device, VFIO_DEVICE_RESET));
		break;
	case 23 ... 26:
		op_mmap(c, s);
		break;
	case 27:
	case 28:
		op_group(c, s);
		break;
	case 29 ... 31:
		op_container(c, s);
		break;
	case 32:
	case 33:
		i = kf_below(c, 3);
		kf_op(c, "read eventfd %d", s->efd[i]);
		kf_end(c, read(s->efd[i], &cnt, sizeof(cnt)));
		break;
	case 34:
		op_cdev(c, s);
		break;
	case 35:
		i = kf_below(c, 20000);
		kf_op(c, "sleep %d us", i);
		kf_usleep(i);
		kf_end(c, 0);
		break;
	case 36:
		kf_op(c, "close container %d", s->v.container);
		kf_end(c, close(s->v.container));
		break;
	default:
		op_rw(c, s);
		break;
	}
}

/* The child: another device than the threads', a session, then death. */
static void vf_child(struct kf_ctx *c)
{
	unsigned int d, die = kf_below(c, kf_ops + 1);
	void *s;

	if (nbound < 2)
		return;
	d = bound[kf_below(c, nbound)];
	if (d == cur)
		return;
	s = session(c, d);
	kf_child_session(c, die, vf_op, s);
}

/* Every device opens and reads its first register. */
static int vf_check(char *why, size_t len)
{
	struct vfio_dev v;
	unsigned int i;
	uint32_t reg;
	int ret = 0;

	for (i = 0; i < nbound && !ret; i++) {
		struct vdev *d = &devs[bound[i]];

		ret = vfio_open(&v, d->bus, d->name);
		if (ret) {
			snprintf(why, len, "%s: %s", d->name, v.err);
		} else if (pread(v.device, &reg, 4, d->offset[0]) != 4) {
			snprintf(why, len, "%s: read: %s", d->name,
				 strerror(errno));
			ret = -1;
		}
		vfio_close(&v);
	}
	return ret;
}

const struct kf_target kf_vfio = {
	.name		= "vfio",
	.setup		= vf_setup,
	.teardown	= vf_teardown,
	.open		= vf_open,
	.op		= vf_op,
	.close		= vf_close,
	.child		= vf_child,
	.check		= vf_check,
};
