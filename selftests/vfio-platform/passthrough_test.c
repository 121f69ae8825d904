// SPDX-License-Identifier: GPL-2.0
/*
 * passthrough_test - a KVM guest drives the PL031 through vfio-platform.
 *
 * Direct path: the RTC's region is mmap'd from the VFIO device fd and put
 * in a memslot, so the guest's register accesses go through stage 2; the
 * IRQ's trigger eventfd is a KVM_IRQFD with KVM_IRQFD_FLAG_RESAMPLE whose
 * resamplefd is the device's UNMASK eventfd.  Taking N interrupts must cost
 * zero exits to userspace.
 *
 * Trapped path, for comparison: the region is not mapped, every access
 * exits to this test, which forwards it with pread/pwrite, and the test
 * unmasks the IRQ by ioctl when the resamplefd fires.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "kvm_guest.h"
#include "pl031_guest.h"
#include "vfio_util.h"

#define RTC_BUS		"amba"
#define RTC_DEV		"9010000.pl031"
#define SUB_PAGE_PARAM	"/sys/module/vfio_platform/parameters/mmap_sub_page"
/* The kernel's page size: the RTC's page is mapped whole. */
#define PAGE		((size_t)sysconf(_SC_PAGESIZE))
#define GUEST_SPI	10			/* irqfd GSI: INTID 42 */
#define ROUNDS_DIRECT	20
#define ROUNDS_TRAPPED	5
#define TIMEOUT_MS	60000

FIXTURE(pt) {
	struct kvm_guest g;
	struct vfio_dev v;
	void *map;
	int trigger;
	int resample;
	struct kvm_irqfd irqfd;
	char sub_page[8];
};

FIXTURE_SETUP(pt)
{
	int ret;

	kg_init(&self->g);
	self->v.container = -1;
	self->v.group = -1;
	self->v.device = -1;
	self->map = MAP_FAILED;
	self->trigger = -1;
	self->resample = -1;
	self->sub_page[0] = '\0';
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "/dev/kvm not available");
	if (access("/sys/bus/amba/devices/" RTC_DEV, F_OK))
		SKIP(return, "no PL031 at " RTC_DEV);

	ASSERT_EQ(0, kg_create(&self->g, pl031_guest)) TH_LOG("%s", self->g.err);
	if (!kg_has_cap(&self->g, KVM_CAP_IRQFD_RESAMPLE))
		SKIP(return, "KVM_CAP_IRQFD_RESAMPLE missing");
	kg_set_param(&self->g, 0, 32 + GUEST_SPI);

	/* With pages over 4 KiB the RTC's page is mapped whole (opt-in). */
	ASSERT_EQ(0, sysfs_read(SUB_PAGE_PARAM, self->sub_page,
				sizeof(self->sub_page)));
	ASSERT_EQ(0, sysfs_write(SUB_PAGE_PARAM, "Y"));
	ret = vfio_bind(RTC_BUS, RTC_DEV, "vfio-amba");
	ASSERT_EQ(0, ret) TH_LOG("binding %s: %s", RTC_DEV, strerror(-ret));
	ASSERT_EQ(0, vfio_open(&self->v, RTC_BUS, RTC_DEV))
		TH_LOG("%s", self->v.err);

	self->trigger = eventfd(0, EFD_CLOEXEC);
	self->resample = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->trigger);
	ASSERT_LE(0, self->resample);
	ASSERT_EQ(0, vfio_irq_eventfd(self->v.device, 0,
				      VFIO_IRQ_SET_ACTION_TRIGGER,
				      self->trigger));
	self->irqfd.fd = self->trigger;
	self->irqfd.gsi = GUEST_SPI;
	self->irqfd.flags = KVM_IRQFD_FLAG_RESAMPLE;
	self->irqfd.resamplefd = self->resample;
	ASSERT_EQ(0, ioctl(self->g.vm_fd, KVM_IRQFD, &self->irqfd))
		TH_LOG("KVM_IRQFD(resample): %s", strerror(errno));
}

FIXTURE_TEARDOWN(pt)
{
	kg_destroy(&self->g);
	if (self->map != MAP_FAILED)
		munmap(self->map, PAGE);
	vfio_close(&self->v);
	if (self->trigger >= 0)
		close(self->trigger);
	if (self->resample >= 0)
		close(self->resample);
	vfio_restore(RTC_BUS, RTC_DEV);
	if (self->sub_page[0])
		sysfs_write(SUB_PAGE_PARAM, self->sub_page);
}

struct exit_counts {
	uint64_t mmio_user;
	uint64_t exits;
};

static int read_counts(struct kvm_guest *g, struct exit_counts *c)
{
	if (kg_vcpu_stat(g, "mmio_exit_user", &c->mmio_user))
		return -1;
	return kg_vcpu_stat(g, "exits", &c->exits);
}

TEST_F_TIMEOUT(pt, direct_path_has_no_user_exits, 300)
{
	struct exit_counts before, after;
	uint64_t done;

	self->map = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->v.device, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	ASSERT_LE(0, kg_add_memslot(&self->g, KG_DEV_GPA, self->map, PAGE))
		TH_LOG("%s", self->g.err);
	/* The guest's EOI (resamplefd) unmasks the host IRQ in the kernel. */
	ASSERT_EQ(0, vfio_irq_eventfd(self->v.device, 0,
				      VFIO_IRQ_SET_ACTION_UNMASK,
				      self->resample));
	kg_set_param(&self->g, 1, ROUNDS_DIRECT);

	ASSERT_EQ(0, kg_run_report(&self->g, KG_TAG_READY, NULL, TIMEOUT_MS))
		TH_LOG("%s", self->g.err);
	ASSERT_EQ(0, read_counts(&self->g, &before)) TH_LOG("%s", self->g.err);
	ASSERT_EQ(0, kg_run_report(&self->g, KG_TAG_DONE, &done, TIMEOUT_MS))
		TH_LOG("%s", self->g.err);
	ASSERT_EQ(0, read_counts(&self->g, &after)) TH_LOG("%s", self->g.err);

	EXPECT_EQ(ROUNDS_DIRECT, done);
	/* The only exit to userspace is the DONE report itself. */
	ksft_print_msg("direct path: %d IRQs, %llu user exits (1 = report), %llu KVM exits\n",
		       ROUNDS_DIRECT,
		       (unsigned long long)(after.mmio_user - before.mmio_user),
		       (unsigned long long)(after.exits - before.exits));
	EXPECT_EQ(1, after.mmio_user - before.mmio_user);
}

TEST_F_TIMEOUT(pt, trapped_path_costs_exits, 300)
{
	struct exit_counts before, after;
	uint64_t accesses = 0, unmasks = 0, cnt, done = 0;
	struct kg_exit ex;
	bool ready = false;
	int ret;

	kg_set_param(&self->g, 1, ROUNDS_TRAPPED);
	ASSERT_EQ(0, kg_run_report(&self->g, KG_TAG_READY, NULL, TIMEOUT_MS))
		TH_LOG("%s", self->g.err);
	ready = true;
	ASSERT_EQ(0, read_counts(&self->g, &before)) TH_LOG("%s", self->g.err);

	while (ready) {
		ASSERT_EQ(0, kg_run(&self->g, &ex, TIMEOUT_MS))
			TH_LOG("%s", self->g.err);
		ASSERT_EQ(KVM_EXIT_MMIO, ex.reason);
		if (ex.addr == KG_MMIO_REPORT + KG_TAG_DONE) {
			done = ex.data;
			break;
		}
		ASSERT_NE(KG_MMIO_REPORT + KG_TAG_FAIL, ex.addr)
			TH_LOG("wrong INTID %llu", (unsigned long long)ex.data);
		ASSERT_LE(KG_DEV_GPA, ex.addr);
		ASSERT_GT(KG_DEV_GPA + PAGE, ex.addr);
		ASSERT_EQ(4, ex.len);
		accesses++;
		if (ex.is_write) {
			uint32_t v = ex.data;

			ret = pwrite(self->v.device, &v, 4, ex.addr - KG_DEV_GPA);
			ASSERT_EQ(4, ret);
		} else {
			uint32_t v;

			ret = pread(self->v.device, &v, 4, ex.addr - KG_DEV_GPA);
			ASSERT_EQ(4, ret);
			memcpy(self->g.run->mmio.data, &v, 4);
		}
		/* The guest EOI'd: unmask from userspace. */
		if (read(self->resample, &cnt, sizeof(cnt)) == sizeof(cnt)) {
			ASSERT_EQ(0, vfio_irq_simple(self->v.device, 0,
						     VFIO_IRQ_SET_ACTION_UNMASK));
			unmasks++;
		}
	}
	ASSERT_EQ(0, read_counts(&self->g, &after)) TH_LOG("%s", self->g.err);
	EXPECT_EQ(ROUNDS_TRAPPED, done);
	ksft_print_msg("trapped: %d IRQs, %llu user exits (%.1f/IRQ), %llu unmask ioctls\n",
		       ROUNDS_TRAPPED,
		       (unsigned long long)(after.mmio_user - before.mmio_user),
		       (double)(after.mmio_user - before.mmio_user) /
		       ROUNDS_TRAPPED,
		       (unsigned long long)unmasks);
	/* 7 register accesses per round, plus the final report. */
	EXPECT_LE(7 * ROUNDS_TRAPPED + 1, after.mmio_user - before.mmio_user);
	EXPECT_EQ(accesses + 1, after.mmio_user - before.mmio_user);
	EXPECT_LE(ROUNDS_TRAPPED - 1, unmasks);
}

TEST_HARNESS_MAIN
