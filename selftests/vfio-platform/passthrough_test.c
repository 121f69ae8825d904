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
 *
 * On a kernel with the kvm-arm patches (KVMARM_SPI_FORWARD=1 from the test
 * host), KVM forwards the SPI: the guest's EOI deactivates the physical
 * interrupt, no resample fires, no unmask is needed and no EOI maintenance
 * exit is taken.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "kvm_guest.h"
#include "pl031_guest.h"
#include "vfio_util.h"

#define RTC_BUS		"amba"
#define RTC_DEV		"9010000.pl031"
#define SUB_PAGE_PARAM	"/sys/module/vfio_platform/parameters/mmap_sub_page"
#define FORWARD_PARAM	"/sys/module/vfio_platform/parameters/irq_forwarding"
/* The kernel's page size: the RTC's page is mapped whole. */
#define PAGE		((size_t)sysconf(_SC_PAGESIZE))
#define GUEST_SPI	10			/* irqfd GSI: INTID 42 */
#define ROUNDS_DIRECT	20
#define ROUNDS_TRAPPED	5
#define TIMEOUT_MS	60000

/* PL031 registers, for the host's own accesses through the region */
#define RTC_DR		0x00
#define RTC_MR		0x04
#define RTC_IMSC	0x10
#define RTC_RIS		0x14
#define RTC_ICR		0x1c

/* The kernel forwards a producer's SPI (the test host says so). */
static bool spi_forwarding(void)
{
	const char *v = getenv("KVMARM_SPI_FORWARD");

	return v && !strcmp(v, "1");
}

/*
 * Debian's 7.x kernels: KVM's vgic-v3 does not signal the resamplefd of a
 * level SPI that the guest acknowledged and EOI'd within one run (fixed
 * by kvm-arm/patches/7.x/0001, which our 7.x kernels carry): the irqfd
 * path then leaves the virtual line high.
 */
#define RESAMPLE_BUG "Linux 7.x without kvm-arm/patches/7.x/0001: vgic-v3 does not signal the resamplefd of an SPI acked and EOI'd in one run"

static bool resample_bug(void)
{
	struct utsname u;

	return !spi_forwarding() && !uname(&u) && !strncmp(u.release, "7.", 2);
}

FIXTURE(pt) {
	struct kvm_guest g;
	struct vfio_dev v;
	void *map;
	int trigger;
	int resample;
	struct kvm_irqfd irqfd;
	char sub_page[8];
	char forwarding[8];
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
	self->forwarding[0] = '\0';
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
	/* Offered for forwarding where the kernel forwards (set at boot). */
	if (spi_forwarding()) {
		ASSERT_EQ(0, sysfs_read(FORWARD_PARAM, self->forwarding,
					sizeof(self->forwarding)));
		ASSERT_EQ(0, sysfs_write(FORWARD_PARAM, "Y"));
	}
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
	if (self->forwarding[0])
		sysfs_write(FORWARD_PARAM, self->forwarding);
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

/*
 * The direct path for @rounds interrupts: no exit to userspace but the
 * final report; forwarded, no maintenance exit and no resample.
 */
/* The RTC's page in the guest: its accesses go through stage 2. */
static void map_rtc(struct __test_metadata *_metadata, FIXTURE_DATA(pt) * self)
{
	self->map = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->v.device, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	ASSERT_LE(0, kg_add_memslot(&self->g, KG_DEV_GPA, self->map, PAGE))
		TH_LOG("%s", self->g.err);
}

/* ...and the guest's EOI (resamplefd) unmasks the host IRQ in the kernel. */
static void map_rtc_unmask_on_eoi(struct __test_metadata *_metadata,
				  FIXTURE_DATA(pt) * self)
{
	map_rtc(_metadata, self);
	ASSERT_EQ(0, vfio_irq_eventfd(self->v.device, 0,
				      VFIO_IRQ_SET_ACTION_UNMASK,
				      self->resample));
}

struct mover {
	pid_t tid;		/* the vCPU's thread */
	int stop;
	unsigned long moves;
};

/* Move the vCPU's thread from CPU to CPU while its guest runs. */
static void *move_vcpu(void *arg)
{
	struct mover *m = arg;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	while (!__atomic_load_n(&m->stop, __ATOMIC_ACQUIRE)) {
		CPU_ZERO(&set);
		CPU_SET(m->moves % ncpu, &set);
		if (!sched_setaffinity(m->tid, sizeof(set), &set))
			m->moves++;
		usleep(100);
	}
	return NULL;
}

static void direct_path(struct __test_metadata *_metadata,
			FIXTURE_DATA(pt) * self, int rounds, bool migrate)
{
	struct mover m = { .tid = gettid() };
	struct exit_counts before, after;
	pthread_t mover;
	cpu_set_t all;
	uint64_t done;

	map_rtc_unmask_on_eoi(_metadata, self);
	kg_set_param(&self->g, 1, rounds);

	ASSERT_EQ(0, kg_run_sync(&self->g, PL031_READY, NULL, TIMEOUT_MS))
		TH_LOG("%s", self->g.err);
	ASSERT_EQ(0, read_counts(&self->g, &before)) TH_LOG("%s", self->g.err);
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(all), &all));
	if (migrate)
		ASSERT_EQ(0, pthread_create(&mover, NULL, move_vcpu, &m));
	ASSERT_EQ(0, kg_run_done(&self->g, &done, TIMEOUT_MS))
		TH_LOG("%s", self->g.err);
	if (migrate) {
		__atomic_store_n(&m.stop, 1, __ATOMIC_RELEASE);
		pthread_join(mover, NULL);
		sched_setaffinity(0, sizeof(all), &all);
		ksft_print_msg("the vCPU moved %lu times\n", m.moves);
		EXPECT_LE(20, m.moves);
	}
	ASSERT_EQ(0, read_counts(&self->g, &after)) TH_LOG("%s", self->g.err);

	EXPECT_EQ(rounds, done);
	ksft_print_msg("direct path%s: %d IRQs, %llu user exits (1 = report), %llu KVM exits\n",
		       spi_forwarding() ? ", forwarded" : "", rounds,
		       (unsigned long long)(after.mmio_user - before.mmio_user),
		       (unsigned long long)(after.exits - before.exits));
	/* The only exit to userspace is the DONE report itself. */
	EXPECT_EQ(1, after.mmio_user - before.mmio_user);
	/*
	 * Forwarded, the guest's EOI deactivates the SPI: no maintenance
	 * exit, about one exit per interrupt (the interrupt's own) against
	 * two through the resamplefd.
	 */
	EXPECT_GE(spi_forwarding() ? rounds + rounds / 5 : 3 * rounds,
		  after.exits - before.exits);
}

TEST_F_TIMEOUT(pt, direct_path_has_no_user_exits, 300)
{
	direct_path(_metadata, self, ROUNDS_DIRECT, false);
}

/* No interrupt lost (the guest waits for each) or taken twice (its count). */
TEST_F_TIMEOUT(pt, direct_path_1000_rounds, 600)
{
	direct_path(_metadata, self, 1000, false);
}

/*
 * The vCPU moves between physical CPUs all the while: the interrupt is
 * delivered to one, deactivated by the guest from either.
 */
TEST_F_TIMEOUT(pt, direct_path_vcpu_migrates, 600)
{
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one CPU: nowhere to move the vCPU");
	direct_path(_metadata, self, 1000, true);
}

/*
 * The resamplefd served from userspace, counted: the guest's EOI of an
 * interrupt that is not forwarded signals it, and the line is unmasked by
 * ioctl.  A forwarded one never signals it.
 */
struct unmasker {
	int resample;
	int device;
	int stop;
	unsigned long count;
};

static void *unmask_on_resample(void *arg)
{
	struct unmasker *u = arg;
	struct pollfd p = { .fd = u->resample, .events = POLLIN };
	uint64_t cnt;

	while (!__atomic_load_n(&u->stop, __ATOMIC_ACQUIRE)) {
		if (poll(&p, 1, 20) != 1 ||
		    read(u->resample, &cnt, sizeof(cnt)) != sizeof(cnt))
			continue;
		u->count++;
		vfio_irq_simple(u->device, 0, VFIO_IRQ_SET_ACTION_UNMASK);
	}
	return NULL;
}

/* Run @rounds interrupts through the mapped RTC; return the resamples. */
static unsigned long rounds_counting_resamples(struct __test_metadata *_metadata,
					       FIXTURE_DATA(pt) * self,
					       int rounds)
{
	struct unmasker u = { .resample = self->resample,
			      .device = self->v.device };
	uint64_t done = 0;
	pthread_t t;

	kg_set_param(&self->g, 1, rounds);
	if (pthread_create(&t, NULL, unmask_on_resample, &u))
		return -1;
	EXPECT_EQ(0, kg_run_sync(&self->g, PL031_READY, NULL, TIMEOUT_MS))
		TH_LOG("%s", self->g.err);
	EXPECT_EQ(0, kg_run_done(&self->g, &done, TIMEOUT_MS))
		TH_LOG("%s", self->g.err);
	__atomic_store_n(&u.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	EXPECT_EQ(rounds, done);
	return u.count;
}

/*
 * Forwarded, the guest's EOI deactivates the SPI and nothing is resampled
 * or unmasked; through the irqfd path, every interrupt is.  (Exits do not
 * tell them apart on every kernel: 7.x folds the EOI at the next exit.)
 */
TEST_F_TIMEOUT(pt, forwarded_needs_no_resample, 300)
{
	unsigned long n;

	if (resample_bug())
		SKIP(return, RESAMPLE_BUG);
	map_rtc(_metadata, self);
	n = rounds_counting_resamples(_metadata, self, ROUNDS_DIRECT);
	ksft_print_msg("%d IRQs%s, %lu resamples\n", ROUNDS_DIRECT,
		       spi_forwarding() ? ", forwarded" : "", n);
	EXPECT_EQ(spi_forwarding(), n == 0);
	EXPECT_LE(spi_forwarding() ? 0 : ROUNDS_DIRECT - 1, n);
}

static int route_gsi(struct kvm_guest *g, unsigned int pin)
{
	struct {
		struct kvm_irq_routing r;
		struct kvm_irq_routing_entry e;
	} rt = {
		.r.nr = 1,
		.e.gsi = GUEST_SPI,
		.e.type = KVM_IRQ_ROUTING_IRQCHIP,
		.e.u.irqchip.pin = pin,
	};

	return ioctl(g->vm_fd, KVM_SET_GSI_ROUTING, &rt);
}

/*
 * The irqfd's route changes (to another SPI, and back): KVM stops
 * forwarding from its routing update, in atomic context, and the irqfd
 * and resamplefd serve the SPI from then on.
 */
TEST_F_TIMEOUT(pt, route_changed_while_forwarded, 300)
{
	unsigned long n;

	if (resample_bug())
		SKIP(return, RESAMPLE_BUG);
	map_rtc(_metadata, self);
	ASSERT_EQ(0, route_gsi(&self->g, GUEST_SPI + 1))
		TH_LOG("KVM_SET_GSI_ROUTING: %s", strerror(errno));
	ASSERT_EQ(0, route_gsi(&self->g, GUEST_SPI))
		TH_LOG("KVM_SET_GSI_ROUTING: %s", strerror(errno));
	n = rounds_counting_resamples(_metadata, self, ROUNDS_DIRECT);
	ksft_print_msg("after the route changes: %d IRQs, %lu resamples\n",
		       ROUNDS_DIRECT, n);
	EXPECT_LE(ROUNDS_DIRECT - 1, n);
}

struct aux_vcpu {
	const struct kvm_guest *g;
	int fd;
	struct kvm_run *run;
	int stop;
	struct kg_ucall uc;	/* what vCPU 1 reported (an assertion) */
};

static void wake(int sig)
{
	(void)sig;
}

static void *run_aux_vcpu(void *arg)
{
	struct aux_vcpu *a = arg;
	sigset_t set;

	/* kg_run()'s timer is vCPU 0's. */
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
		if (ioctl(a->fd, KVM_RUN, 0))
			continue;
		if (kg_get_ucall(a->g, a->run, &a->uc) != KG_UCALL_NONE)
			break;
	}
	return NULL;
}

/*
 * Two vCPUs, and the guest routes the SPI to one and the other in turns:
 * the interrupt (forwarded on a kernel that forwards) is taken and
 * deactivated by either, none lost, none taken twice.
 */
TEST_F_TIMEOUT(pt, direct_path_two_vcpus, 600)
{
	struct sigaction sa = { .sa_handler = wake };
	const int rounds = 200;
	struct aux_vcpu a = { 0 };
	uint64_t done = 0, spurious;
	pthread_t thread;
	char msg[256];

	if (resample_bug())
		SKIP(return, RESAMPLE_BUG);
	kg_destroy(&self->g);
	ASSERT_EQ(0, kg_create_smp(&self->g, pl031_smp_guest, 2))
		TH_LOG("%s", self->g.err);
	kg_set_param(&self->g, 0, 32 + GUEST_SPI);
	kg_set_param(&self->g, 1, rounds);
	kg_set_param(&self->g, 5, 0);
	kg_set_param(&self->g, 6, 0);
	ASSERT_EQ(0, ioctl(self->g.vm_fd, KVM_IRQFD, &self->irqfd))
		TH_LOG("KVM_IRQFD(resample): %s", strerror(errno));
	map_rtc_unmask_on_eoi(_metadata, self);

	/* No SA_RESTART: the signal gets vCPU 1 out of KVM_RUN. */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	a.g = &self->g;
	a.fd = self->g.aux_fd[1];
	a.run = self->g.aux_run[1];
	ASSERT_EQ(0, pthread_create(&thread, NULL, run_aux_vcpu, &a));
	EXPECT_EQ(0, kg_run_sync(&self->g, PL031_READY, NULL, TIMEOUT_MS))
		TH_LOG("%s", self->g.err);
	EXPECT_EQ(0, kg_run_done(&self->g, &done, TIMEOUT_MS))
		TH_LOG("%s", self->g.err);
	__atomic_store_n(&a.stop, 1, __ATOMIC_RELEASE);
	a.run->immediate_exit = 1;
	pthread_kill(thread, SIGUSR1);
	pthread_join(thread, NULL);

	EXPECT_EQ(KG_UCALL_NONE, a.uc.cmd)
		TH_LOG("vCPU 1: %s",
		       kg_ucall_describe(&self->g, &a.uc, msg, sizeof(msg)));
	EXPECT_EQ(rounds, done);
	EXPECT_EQ(rounds / 2, kg_get_param(&self->g, 5));
	spurious = kg_get_param(&self->g, 6);
	ksft_print_msg("two vCPUs%s: %llu interrupts, %llu on vCPU 1, %llu spurious\n",
		       spi_forwarding() ? ", forwarded" : "",
		       (unsigned long long)done,
		       (unsigned long long)kg_get_param(&self->g, 5),
		       (unsigned long long)spurious);
	/* The physical active state gates a forwarded SPI: none spurious. */
	EXPECT_EQ(spi_forwarding() ? 0 : spurious, spurious);
}

/*
 * The guest takes the interrupt and keeps it active (no EOI): with the
 * RTC's line still asserted, the direct path is then torn down by @how.
 * The host must get its interrupt back: once unmasked, the line fires
 * again, into the (new) trigger.  Forwarded, that needs the physical SPI
 * deactivated by KVM, as the guest never will.
 */
enum teardown { CLOSE_IRQFD, CLOSE_TRIGGER, CLOSE_DEVICE };

static int rtc_write(int device, off_t reg, uint32_t v)
{
	return pwrite(device, &v, 4, reg) == 4 ? 0 : -1;
}

/*
 * Raise the RTC's interrupt from the host, through the region: opening and
 * closing the device resets the RTC, which clears it.
 */
static int rtc_raise(int device)
{
	uint32_t v, ris = 0;
	int i;

	if (rtc_write(device, RTC_IMSC, 0) || rtc_write(device, RTC_ICR, 1) ||
	    rtc_write(device, RTC_IMSC, 1))
		return -1;
	/* The seconds counter may tick between the read and the match. */
	for (i = 0; i < 3 && !ris; i++) {
		if (pread(device, &v, 4, RTC_DR) != 4 ||
		    rtc_write(device, RTC_MR, v) ||
		    pread(device, &ris, 4, RTC_RIS) != 4)
			return -1;
	}
	return ris ? 0 : -1;
}

/*
 * The host has the interrupt back: the trigger @fd gets it each time the
 * RTC raises its line.  A physical SPI left active (deactivated by nobody)
 * would never be delivered again, one left in forwarded mode only once
 * (masking it deactivates it): so two interrupts, the line cleared and
 * unmasked in between.
 */
static void takes_two_irqs(struct __test_metadata *_metadata, int device,
			   int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t cnt;
	int i;

	for (i = 0; i < 2; i++) {
		while (poll(&p, 1, 0) == 1)
			ASSERT_EQ(sizeof(cnt), read(fd, &cnt, sizeof(cnt)));
		ASSERT_EQ(0, rtc_raise(device));
		ASSERT_EQ(0, vfio_irq_simple(device, 0,
					     VFIO_IRQ_SET_ACTION_UNMASK));
		EXPECT_EQ(1, poll(&p, 1, 2000)) TH_LOG("interrupt %d lost", i);
		ASSERT_EQ(0, rtc_write(device, RTC_ICR, 1));
	}
}

/* The same through a new trigger of a freshly opened device. */
static void host_takes_irq(struct __test_metadata *_metadata,
			   struct vfio_dev *v)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, vfio_irq_eventfd(v->device, 0,
				      VFIO_IRQ_SET_ACTION_TRIGGER, fd));
	takes_two_irqs(_metadata, v->device, fd);
	EXPECT_EQ(0, vfio_irq_eventfd(v->device, 0,
				      VFIO_IRQ_SET_ACTION_TRIGGER, -1));
	close(fd);
}

/*
 * Params 1 and 2: the guest, with the RTC mapped, takes one interrupt and
 * holds it active; it must be the guest's SPI.
 */
static void guest_holds_irq(struct __test_metadata *_metadata,
			    FIXTURE_DATA(pt) * self)
{
	uint64_t intid;

	kg_set_param(&self->g, 1, 1);
	kg_set_param(&self->g, 2, 1);
	ASSERT_EQ(0, kg_run_sync(&self->g, PL031_READY, NULL, TIMEOUT_MS))
		TH_LOG("%s", self->g.err);
	ASSERT_EQ(0, kg_run_sync(&self->g, PL031_HELD, &intid, TIMEOUT_MS))
		TH_LOG("%s", self->g.err);
	ASSERT_EQ(32 + GUEST_SPI, intid);
}

static void held_then(struct __test_metadata *_metadata,
		      FIXTURE_DATA(pt) * self, enum teardown how)
{
	struct kvm_irqfd deassign = self->irqfd;
	int fd;

	map_rtc_unmask_on_eoi(_metadata, self);
	guest_holds_irq(_metadata, self);

	if (how == CLOSE_DEVICE) {
		/* The mapping holds the device open too. */
		munmap(self->map, PAGE);
		self->map = MAP_FAILED;
		vfio_close(&self->v);
		ASSERT_EQ(0, vfio_open(&self->v, RTC_BUS, RTC_DEV))
			TH_LOG("%s", self->v.err);
		host_takes_irq(_metadata, &self->v);
		return;
	}
	fd = self->trigger;
	if (how == CLOSE_IRQFD) {
		deassign.flags = KVM_IRQFD_FLAG_DEASSIGN;
		deassign.resamplefd = 0;
		ASSERT_EQ(0, ioctl(self->g.vm_fd, KVM_IRQFD, &deassign))
			TH_LOG("KVM_IRQFD(deassign): %s", strerror(errno));
	} else {
		ASSERT_EQ(0, vfio_irq_eventfd(self->v.device, 0,
					      VFIO_IRQ_SET_ACTION_TRIGGER, -1));
		fd = eventfd(0, EFD_CLOEXEC);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, vfio_irq_eventfd(self->v.device, 0,
					      VFIO_IRQ_SET_ACTION_TRIGGER, fd));
	}
	takes_two_irqs(_metadata, self->v.device, fd);
	if (fd != self->trigger)
		close(fd);
}

TEST_F_TIMEOUT(pt, irqfd_closed_while_active, 30)
{
	held_then(_metadata, self, CLOSE_IRQFD);
}

TEST_F_TIMEOUT(pt, trigger_closed_while_active, 30)
{
	held_then(_metadata, self, CLOSE_TRIGGER);
}

TEST_F_TIMEOUT(pt, device_closed_while_active, 30)
{
	held_then(_metadata, self, CLOSE_DEVICE);
}

/*
 * A VMM (KVM serves a VM to the process that created it only) sets up the
 * direct path, runs its guest until it holds the interrupt, tells @wfd the
 * INTID (0 on failure) and waits to be killed.
 */
static void vmm_holds(int wfd)
{
	struct vfio_dev v = { .container = -1, .group = -1, .device = -1 };
	struct kvm_irqfd irqfd = { .gsi = GUEST_SPI };
	uint64_t intid = 0;
	struct kvm_guest g;
	int trigger, resample;
	void *map;

	if (kg_create(&g, pl031_guest) || vfio_open(&v, RTC_BUS, RTC_DEV))
		goto out;
	kg_set_param(&g, 0, 32 + GUEST_SPI);
	kg_set_param(&g, 1, 1);
	kg_set_param(&g, 2, 1);
	trigger = eventfd(0, EFD_CLOEXEC);
	resample = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	irqfd.fd = trigger;
	irqfd.flags = KVM_IRQFD_FLAG_RESAMPLE;
	irqfd.resamplefd = resample;
	map = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, v.device, 0);
	if (trigger < 0 || resample < 0 || map == MAP_FAILED ||
	    vfio_irq_eventfd(v.device, 0, VFIO_IRQ_SET_ACTION_TRIGGER,
			     trigger) ||
	    vfio_irq_eventfd(v.device, 0, VFIO_IRQ_SET_ACTION_UNMASK,
			     resample) ||
	    ioctl(g.vm_fd, KVM_IRQFD, &irqfd) ||
	    kg_add_memslot(&g, KG_DEV_GPA, map, PAGE) < 0 ||
	    kg_run_sync(&g, PL031_READY, NULL, TIMEOUT_MS) ||
	    kg_run_sync(&g, PL031_HELD, &intid, TIMEOUT_MS))
		intid = 0;
out:
	if (write(wfd, &intid, sizeof(intid)) != sizeof(intid))
		_exit(1);
	for (;;)
		pause();
}

/*
 * The VMM is killed while its guest holds the interrupt: the kernel closes
 * the VM, the irqfd and the device in whatever order it likes.  Then the
 * module unloads and, loaded again, gets the interrupt.
 */
TEST_F_TIMEOUT(pt, vmm_killed_while_active, 60)
{
	struct pollfd p = { .events = POLLIN };
	uint64_t intid = 0;
	int pfd[2], ret;
	pid_t pid;

	/* The VMM is another process: let it have the device. */
	kg_destroy(&self->g);
	vfio_close(&self->v);
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pfd[0]);
		vmm_holds(pfd[1]);
		_exit(1);
	}
	close(pfd[1]);
	p.fd = pfd[0];
	ret = poll(&p, 1, TIMEOUT_MS);
	if (ret == 1)
		ret = read(pfd[0], &intid, sizeof(intid));
	close(pfd[0]);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	ASSERT_EQ(32 + GUEST_SPI, intid) TH_LOG("the guest took no interrupt");

	ASSERT_EQ(0, vfio_restore(RTC_BUS, RTC_DEV));
	ret = module_unload("vfio_platform");
	ASSERT_EQ(0, ret) TH_LOG("rmmod vfio_platform: %s", strerror(-ret));
	ret = module_reload("vfio-platform.ko");
	ASSERT_EQ(0, ret) TH_LOG("loading vfio-platform.ko: %s",
				 strerror(-ret));
	ASSERT_EQ(0, sysfs_write(SUB_PAGE_PARAM, "Y"));
	ASSERT_EQ(0, vfio_bind(RTC_BUS, RTC_DEV, "vfio-amba"));
	ASSERT_EQ(0, vfio_open(&self->v, RTC_BUS, RTC_DEV))
		TH_LOG("%s", self->v.err);
	host_takes_irq(_metadata, &self->v);
}

/*
 * Userspace saves and restores the vGIC state while the guest holds the
 * forwarded interrupt, and a VMM's reset clears the active state (QEMU
 * writes ICACTIVER): the physical SPI follows, or the device's line would
 * stay blocked after the guest's reboot.
 */
static int gicd_access(struct kvm_guest *g, bool write, uint32_t off,
		       uint32_t *val)
{
	struct kvm_device_attr a = {
		.group = KVM_DEV_ARM_VGIC_GRP_DIST_REGS,
		.attr = off,
		.addr = (uint64_t)(uintptr_t)val,
	};

	return ioctl(g->gic_fd, write ? KVM_SET_DEVICE_ATTR :
		     KVM_GET_DEVICE_ATTR, &a);
}

static int host_irq_count(const char *name, uint64_t *count)
{
	char line[1024];
	FILE *f = fopen("/proc/interrupts", "re");
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');

		if (!p || !strstr(line, name))
			continue;
		*count = 0;
		for (p++;;) {
			char *end;
			unsigned long long n = strtoull(p, &end, 10);

			if (end == p)
				break;
			*count += n;
			p = end;
		}
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

#define GICD_ISACTIVER	0x300
#define GICD_ICACTIVER	0x380

TEST_F_TIMEOUT(pt, vgic_state_restored_while_active, 30)
{
	const uint32_t intid = 32 + GUEST_SPI;
	const uint32_t reg = 4 * (intid / 32), bit = 1u << (intid % 32);
	uint64_t before, after;
	uint32_t v;
	int i;

	if (!spi_forwarding())
		SKIP(return, "no SPI forwarding in this kernel");
	map_rtc(_metadata, self);
	guest_holds_irq(_metadata, self);

	/* Saved: active.  Still asserted, the line is blocked meanwhile. */
	ASSERT_EQ(0, gicd_access(&self->g, false, GICD_ISACTIVER + reg, &v))
		TH_LOG("reading ISACTIVER: %s", strerror(errno));
	EXPECT_EQ(bit, v & bit);
	ASSERT_EQ(0, host_irq_count(RTC_DEV, &before));
	usleep(200000);
	ASSERT_EQ(0, host_irq_count(RTC_DEV, &after));
	EXPECT_EQ(before, after);

	/* Reset: inactive, and the asserted line reaches the host again. */
	v = bit;
	ASSERT_EQ(0, gicd_access(&self->g, true, GICD_ICACTIVER + reg, &v))
		TH_LOG("writing ICACTIVER: %s", strerror(errno));
	for (i = 0; i < 200 && after == before; i++) {
		usleep(10000);
		ASSERT_EQ(0, host_irq_count(RTC_DEV, &after));
	}
	EXPECT_LT(before, after) TH_LOG("the physical SPI stayed active");
	ASSERT_EQ(0, gicd_access(&self->g, false, GICD_ISACTIVER + reg, &v));
	EXPECT_EQ(0, v & bit);

	/*
	 * Restored: active again, and the line blocked again (the line
	 * fired above and is active again already: this half only checks
	 * that a restore of the active state is taken).
	 */
	v = bit;
	ASSERT_EQ(0, gicd_access(&self->g, true, GICD_ISACTIVER + reg, &v))
		TH_LOG("writing ISACTIVER: %s", strerror(errno));
	ASSERT_EQ(0, gicd_access(&self->g, false, GICD_ISACTIVER + reg, &v));
	EXPECT_EQ(bit, v & bit);
	ASSERT_EQ(0, host_irq_count(RTC_DEV, &before));
	usleep(200000);
	ASSERT_EQ(0, host_irq_count(RTC_DEV, &after));
	EXPECT_EQ(before, after);
}

TEST_F_TIMEOUT(pt, trapped_path_costs_exits, 300)
{
	struct exit_counts before, after;
	uint64_t accesses = 0, unmasks = 0, cnt, done = 0;
	struct kg_ucall uc;
	struct kg_exit ex;
	bool ready = false;
	char msg[256];
	int ret;

	kg_set_param(&self->g, 1, ROUNDS_TRAPPED);
	ASSERT_EQ(0, kg_run_sync(&self->g, PL031_READY, NULL, TIMEOUT_MS))
		TH_LOG("%s", self->g.err);
	ready = true;
	ASSERT_EQ(0, read_counts(&self->g, &before)) TH_LOG("%s", self->g.err);

	while (ready) {
		ASSERT_EQ(0, kg_run(&self->g, &ex, TIMEOUT_MS))
			TH_LOG("%s", self->g.err);
		ASSERT_EQ(KVM_EXIT_MMIO, ex.reason);
		if (kg_get_ucall(&self->g, self->g.run, &uc) ==
		    KG_UCALL_DONE) {
			done = uc.args[0];
			break;
		}
		ASSERT_EQ(KG_UCALL_NONE, uc.cmd)
			TH_LOG("%s", kg_ucall_describe(&self->g, &uc, msg,
						       sizeof(msg)));
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
	/* Forwarded, nothing is unmasked; else about once per interrupt. */
	EXPECT_EQ(spi_forwarding(), unmasks == 0);
	EXPECT_LE(spi_forwarding() ? 0 : ROUNDS_TRAPPED - 1, unmasks);
}

TEST_HARNESS_MAIN
