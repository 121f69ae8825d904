// SPDX-License-Identifier: GPL-2.0
/*
 * irq_bench - what a passed-through level interrupt costs a KVM guest.
 *
 * The own guest of passthrough_test drives the PL031 through vfio-platform
 * (its page mapped into the guest) and takes N interrupts, in three ways,
 * one after the other in the same boot:
 *   a  forwarded: KVM_IRQFD; the kernel's KVM (with the kvm-arm patches)
 *      forwards the SPI, the guest's EOI deactivates the physical one
 *   b  irqfd + resamplefd: the same, with vfio-platform's irq_forwarding
 *      off: the guest's EOI exits, KVM signals the resamplefd, which
 *      unmasks the line in the kernel
 *   c  userspace injection, as a VMM without irqfds does it (QEMU's
 *      vfio-platform fallback): a thread reads the trigger, unmaps the
 *      device from the guest so that its next access traps, and raises
 *      the SPI with KVM_IRQ_LINE; the trapped write (the guest clearing the
 *      RTC) lowers it, unmasks the line and maps the device again
 * For each: exits to the hypervisor per interrupt, by kind, from the vCPU's
 * binary statistics (an exit for a physical interrupt - the device's, the
 * vGIC's maintenance interrupt - is what is left after the others), exits
 * to userspace, and the latency from the guest's write that raises the
 * RTC's line to its read of ICC_IAR1_EL1, in the guest's counter (run it
 * on the instruction clock: scripts/bench).
 *
 * Prints "IRQ-BENCH <mode> <irqs> <exits> <irq> <wfi> <user> <median ns>
 * <mean ns>" per mode, the exits per interrupt.  A mode that cannot run on
 * this kernel (a, without forwarding) prints "-" figures.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kvm_guest.h"
#include "pl031_guest.h"
#include "vfio_util.h"

#define RTC_BUS		"amba"
#define RTC_DEV		"9010000.pl031"
#define SUB_PAGE_PARAM	"/sys/module/vfio_platform/parameters/mmap_sub_page"
#define FORWARD_PARAM	"/sys/module/vfio_platform/parameters/irq_forwarding"
#define GUEST_SPI	10			/* INTID 42 */
#define ROUNDS		1000
#define WARMUP		20			/* rounds left out */
#define LAT_OFF		0x180000		/* latencies, in guest RAM */
#define DEV_SLOT	100			/* the device's memslot (c) */
#define TIMEOUT_MS	120000
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

struct result {
	uint64_t irqs, exits, irq_exits, wfi, user;
	double median_ns, mean_ns;
};

struct bench {
	struct kvm_guest g;
	struct vfio_dev v;
	void *map;
	int trigger, resample;
	/* c: the injector thread's state */
	pthread_t thread;
	int stop;
	int raised;
};

static size_t page(void)
{
	return sysconf(_SC_PAGESIZE);
}

static int fail(const char *what, const char *why)
{
	fprintf(stderr, "irq_bench: %s: %s\n", what, why);
	return -1;
}

static int set_dev_slot(struct bench *b, bool mapped)
{
	struct kvm_userspace_memory_region r = {
		.slot = DEV_SLOT,
		.guest_phys_addr = KG_DEV_GPA,
		.memory_size = mapped ? page() : 0,
		.userspace_addr = (uint64_t)(uintptr_t)b->map,
	};

	return ioctl(b->g.vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

static int irq_line(struct bench *b, int level)
{
	struct kvm_irq_level l = {
		.irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) |
		       (32 + GUEST_SPI),
		.level = level,
	};

	return ioctl(b->g.vm_fd, KVM_IRQ_LINE, &l);
}

/* c: the VMM's interrupt thread. */
static void *injector(void *arg)
{
	struct bench *b = arg;
	struct pollfd p = { .fd = b->trigger, .events = POLLIN };
	uint64_t cnt;

	while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
		if (poll(&p, 1, 100) != 1 ||
		    read(b->trigger, &cnt, sizeof(cnt)) != sizeof(cnt))
			continue;
		/* Trap the guest's next access before it sees the SPI. */
		if (set_dev_slot(b, false))
			fail("unmapping the device", strerror(errno));
		__atomic_store_n(&b->raised, 1, __ATOMIC_RELEASE);
		if (irq_line(b, 1))
			fail("KVM_IRQ_LINE", strerror(errno));
	}
	return NULL;
}

static int stat_sum(struct kvm_guest *g, uint64_t *exits, uint64_t *other,
		    uint64_t *wfi, uint64_t *user)
{
	static const char * const others[] = {
		"wfe_exit_stat", "hvc_exit_stat", "mmio_exit_kernel",
		"signal_exits",
	};
	uint64_t v;
	size_t i;

	if (kg_vcpu_stat(g, "exits", exits) ||
	    kg_vcpu_stat(g, "wfi_exit_stat", wfi) ||
	    kg_vcpu_stat(g, "mmio_exit_user", user))
		return -1;
	*other = 0;
	for (i = 0; i < ARRAY_SIZE(others); i++) {
		if (kg_vcpu_stat(g, others[i], &v))
			return -1;
		*other += v;
	}
	return 0;
}

/* c: run to DONE, serving the device's trapped accesses. */
static int run_userspace(struct bench *b, uint64_t *done)
{
	struct kg_ucall uc;
	struct kg_exit ex;
	uint32_t v;

	for (;;) {
		if (kg_run(&b->g, &ex, TIMEOUT_MS))
			return fail("KVM_RUN", b->g.err);
		if (ex.reason != KVM_EXIT_MMIO)
			return fail("KVM_RUN", "not an MMIO exit");
		switch (kg_get_ucall(&b->g, b->g.run, &uc)) {
		case KG_UCALL_NONE:
			break;
		case KG_UCALL_DONE:
			*done = uc.args[0];
			return 0;
		default:
			return fail("guest", kg_ucall_describe(&b->g, &uc,
							       b->g.err,
							       sizeof(b->g.err)));
		}
		if (ex.addr < KG_DEV_GPA || ex.addr >= KG_DEV_GPA + page() ||
		    ex.len != 4)
			return fail("guest", "unexpected MMIO access");
		if (!ex.is_write) {
			if (pread(b->v.device, &v, 4, ex.addr - KG_DEV_GPA) != 4)
				return fail("pread", strerror(errno));
			memcpy(b->g.run->mmio.data, &v, 4);
			continue;
		}
		v = ex.data;
		if (pwrite(b->v.device, &v, 4, ex.addr - KG_DEV_GPA) != 4)
			return fail("pwrite", strerror(errno));
		/* The guest cleared the RTC: its EOI, as far as we can see. */
		if (__atomic_exchange_n(&b->raised, 0, __ATOMIC_ACQ_REL)) {
			if (irq_line(b, 0) ||
			    vfio_irq_simple(b->v.device, 0,
					    VFIO_IRQ_SET_ACTION_UNMASK) ||
			    set_dev_slot(b, true))
				return fail("EOI", strerror(errno));
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void latencies(struct bench *b, struct result *r)
{
	uint64_t *lat = (uint64_t *)(b->g.mem + LAT_OFF) + WARMUP;
	size_t n = ROUNDS - WARMUP, i;
	uint64_t freq, sum = 0;
	double ns;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(freq));
	ns = 1e9 / (double)freq;
	for (i = 0; i < n; i++)
		sum += lat[i];
	qsort(lat, n, sizeof(*lat), cmp_u64);
	r->median_ns = lat[n / 2] * ns;
	r->mean_ns = (double)sum / n * ns;
}

static int run_mode(char mode, bool b2b, struct result *r)
{
	struct bench b = { .trigger = -1, .resample = -1, .map = MAP_FAILED };
	uint64_t e0, o0, w0, u0, e1, o1, w1, u1, done = 0, cnt;
	struct kvm_irqfd irqfd = { .gsi = GUEST_SPI };
	int ret = -1;

	b.v.container = -1;
	b.v.group = -1;
	b.v.device = -1;
	kg_init(&b.g);
	if (sysfs_write(FORWARD_PARAM, mode == 'a' ? "Y" : "N"))
		return fail("irq_forwarding", strerror(errno));
	if (kg_create(&b.g, pl031_guest)) {
		fail("creating the guest", b.g.err);
		goto out;
	}
	kg_set_param(&b.g, 0, 32 + GUEST_SPI);
	kg_set_param(&b.g, 1, ROUNDS);
	kg_set_param(&b.g, 3, KG_RAM_GPA + LAT_OFF);
	kg_set_param(&b.g, 4, b2b);
	if (vfio_open(&b.v, RTC_BUS, RTC_DEV)) {
		fail("opening the device", b.v.err);
		goto out;
	}
	b.trigger = eventfd(0, EFD_CLOEXEC | (mode == 'c' ? EFD_NONBLOCK : 0));
	b.resample = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	b.map = mmap(NULL, page(), PROT_READ | PROT_WRITE, MAP_SHARED,
		     b.v.device, 0);
	if (b.trigger < 0 || b.resample < 0 || b.map == MAP_FAILED ||
	    vfio_irq_eventfd(b.v.device, 0, VFIO_IRQ_SET_ACTION_TRIGGER,
			     b.trigger) || set_dev_slot(&b, true)) {
		fail("setting up", strerror(errno));
		goto out;
	}
	if (mode != 'c') {
		irqfd.fd = b.trigger;
		irqfd.flags = KVM_IRQFD_FLAG_RESAMPLE;
		irqfd.resamplefd = b.resample;
		if (ioctl(b.g.vm_fd, KVM_IRQFD, &irqfd) ||
		    vfio_irq_eventfd(b.v.device, 0, VFIO_IRQ_SET_ACTION_UNMASK,
				     b.resample)) {
			fail("KVM_IRQFD", strerror(errno));
			goto out;
		}
	} else if (pthread_create(&b.thread, NULL, injector, &b)) {
		fail("pthread_create", "failed");
		goto out;
	}

	if (kg_run_sync(&b.g, PL031_READY, NULL, TIMEOUT_MS)) {
		fail("guest", b.g.err);
		goto stop;
	}
	if (stat_sum(&b.g, &e0, &o0, &w0, &u0)) {
		fail("statistics", b.g.err);
		goto stop;
	}
	if (mode == 'c' ? run_userspace(&b, &done) :
	    kg_run_done(&b.g, &done, TIMEOUT_MS)) {
		fail("guest", b.g.err);
		goto stop;
	}
	if (stat_sum(&b.g, &e1, &o1, &w1, &u1)) {
		fail("statistics", b.g.err);
		goto stop;
	}
	if (done != ROUNDS) {
		fail("guest", "wrong number of interrupts");
		goto stop;
	}
	/* Forwarded, the guest's EOI never reaches the resamplefd. */
	if (mode == 'a' && read(b.resample, &cnt, sizeof(cnt)) > 0) {
		fail("forwarding", "the resamplefd fired: not forwarded");
		goto stop;
	}
	r->irqs = done;
	r->exits = e1 - e0;
	r->wfi = w1 - w0;
	r->user = u1 - u0 - 1;		/* not the DONE report */
	r->irq_exits = r->exits - r->wfi - (u1 - u0) - (o1 - o0);
	latencies(&b, r);
	ret = 0;
stop:
	if (mode == 'c') {
		__atomic_store_n(&b.stop, 1, __ATOMIC_RELEASE);
		pthread_join(b.thread, NULL);
	}
out:
	kg_destroy(&b.g);
	if (b.map != MAP_FAILED)
		munmap(b.map, page());
	vfio_close(&b.v);
	if (b.trigger >= 0)
		close(b.trigger);
	if (b.resample >= 0)
		close(b.resample);
	return ret;
}

static void print(const char *c, const char *mode, const struct result *r,
		  bool ok)
{
	if (!ok) {
		printf("IRQ-BENCH %s %s - - - - - - -\n", c, mode);
		return;
	}
	printf("IRQ-BENCH %s %s %llu %.2f %.2f %.2f %.2f %.0f %.0f\n", c, mode,
	       (unsigned long long)r->irqs, (double)r->exits / r->irqs,
	       (double)r->irq_exits / r->irqs, (double)r->wfi / r->irqs,
	       (double)r->user / r->irqs, r->median_ns, r->mean_ns);
}

int main(void)
{
	static const struct { char mode; const char *name; } modes[] = {
		{ 'a', "a:forwarded" },
		{ 'b', "b:irqfd+resample" },
		{ 'c', "c:userspace" },
	};
	const char *fwd = getenv("KVMARM_SPI_FORWARD");
	char sub_page[8] = "", forwarding[8] = "";
	struct result r;
	size_t i;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access("/dev/kvm", R_OK | W_OK) ||
	    access("/sys/bus/amba/devices/" RTC_DEV, F_OK)) {
		printf("irq_bench: no /dev/kvm or no PL031: skipped\n");
		return 0;
	}
	if (sysfs_read(SUB_PAGE_PARAM, sub_page, sizeof(sub_page)) ||
	    sysfs_read(FORWARD_PARAM, forwarding, sizeof(forwarding)) ||
	    sysfs_write(SUB_PAGE_PARAM, "Y"))
		return fail("vfio_platform parameters", strerror(errno)) ? 1 : 0;
	ret = vfio_bind(RTC_BUS, RTC_DEV, "vfio-amba");
	if (ret)
		return fail("binding " RTC_DEV, strerror(-ret)) ? 1 : 0;
	ret = 0;
	for (i = 0; i < 2 * ARRAY_SIZE(modes); i++) {
		unsigned int m = i % ARRAY_SIZE(modes);
		bool b2b = i >= ARRAY_SIZE(modes), ok;
		const char *c = b2b ? "back-to-back" : "idle";

		/* Without the kvm-arm patches, (a) is (b). */
		if (modes[m].mode == 'a' && !(fwd && !strcmp(fwd, "1"))) {
			print(c, modes[m].name, NULL, false);
			continue;
		}
		memset(&r, 0, sizeof(r));
		ok = !run_mode(modes[m].mode, b2b, &r);
		print(c, modes[m].name, &r, ok);
		if (!ok)
			ret = 1;
	}
	vfio_restore(RTC_BUS, RTC_DEV);
	sysfs_write(SUB_PAGE_PARAM, sub_page);
	sysfs_write(FORWARD_PARAM, forwarding);
	return ret;
}
