// SPDX-License-Identifier: GPL-2.0
/*
 * A very small KVM/arm64 guest harness for kvmarm-io selftests.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>

#include "kvm_guest.h"

static int fail(struct kvm_guest *g, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(g->err, sizeof(g->err), fmt, ap);
	va_end(ap);
	if (saved && n > 0 && (size_t)n < sizeof(g->err))
		snprintf(g->err + n, sizeof(g->err) - n, ": %s",
			 strerror(saved));
	errno = saved;
	return -1;
}

bool kg_has_cap(struct kvm_guest *g, long cap)
{
	int fd = g->vm_fd >= 0 ? g->vm_fd : g->kvm_fd;

	return ioctl(fd, KVM_CHECK_EXTENSION, cap) > 0;
}

static int set_core_reg(int vcpu_fd, uint64_t off, uint64_t val)
{
	struct kvm_one_reg reg = {
		.id = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE |
		      (off / sizeof(uint32_t)),
		.addr = (uint64_t)(uintptr_t)&val,
	};

	return ioctl(vcpu_fd, KVM_SET_ONE_REG, &reg);
}

/* Create vCPU @i: its fd and kvm_run, initialised with @init. */
static int create_vcpu(struct kvm_guest *g, unsigned int i,
		       struct kvm_vcpu_init *init, int *fd,
		       struct kvm_run **run)
{
	*fd = ioctl(g->vm_fd, KVM_CREATE_VCPU, i);
	if (*fd < 0)
		return fail(g, "KVM_CREATE_VCPU(%u)", i);
	*run = mmap(NULL, g->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    *fd, 0);
	if (*run == MAP_FAILED) {
		*run = NULL;
		return fail(g, "mmap kvm_run");
	}
	if (ioctl(*fd, KVM_ARM_VCPU_INIT, init))
		return fail(g, "KVM_ARM_VCPU_INIT(%u)", i);
	return 0;
}

/* Guest physical address of @sym, in guest_text. */
static uint64_t guest_text_gpa(const char *sym)
{
	return KG_RAM_GPA + (sym - __start_guest_text);
}

/*
 * Start vCPU @i (@fd) at guest_start, which calls @entry with x0 = @i, on
 * the vCPU's own stack.
 */
static int start_vcpu(struct kvm_guest *g, int fd, unsigned int i,
		      const char *entry)
{
	if (set_core_reg(fd, offsetof(struct kvm_regs, regs.pc),
			 guest_text_gpa(guest_start)))
		return fail(g, "setting PC");
	if (set_core_reg(fd, offsetof(struct kvm_regs, regs.regs[0]), i))
		return fail(g, "setting x0");
	if (set_core_reg(fd, offsetof(struct kvm_regs, regs.regs[1]),
			 guest_text_gpa(entry)))
		return fail(g, "setting x1");
	if (set_core_reg(fd, offsetof(struct kvm_regs, sp_el1),
			 KG_STACK_TOP - 0x10000 * i))
		return fail(g, "setting SP_EL1");
	return 0;
}

int kg_add_memslot(struct kvm_guest *g, uint64_t gpa, void *host, size_t size)
{
	struct kvm_userspace_memory_region r = {
		.slot = g->next_slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	if (ioctl(g->vm_fd, KVM_SET_USER_MEMORY_REGION, &r))
		return fail(g, "KVM_SET_USER_MEMORY_REGION gpa %#llx size %#zx",
			    (unsigned long long)gpa, size);
	return g->next_slot++;
}

int kg_del_memslot(struct kvm_guest *g, int slot)
{
	struct kvm_userspace_memory_region r = { .slot = slot };

	if (ioctl(g->vm_fd, KVM_SET_USER_MEMORY_REGION, &r))
		return fail(g, "deleting memslot %d", slot);
	return 0;
}

static int create_gic(struct kvm_guest *g)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
	uint64_t dist = KG_GICD_GPA, redist = KG_GICR_GPA;
	uint32_t nr_irqs = 128;
	struct kvm_device_attr a = { .group = KVM_DEV_ARM_VGIC_GRP_ADDR };

	if (ioctl(g->vm_fd, KVM_CREATE_DEVICE, &cd))
		return fail(g, "KVM_CREATE_DEVICE(VGIC_V3)");
	g->gic_fd = cd.fd;

	a.attr = KVM_VGIC_V3_ADDR_TYPE_DIST;
	a.addr = (uint64_t)(uintptr_t)&dist;
	if (ioctl(g->gic_fd, KVM_SET_DEVICE_ATTR, &a))
		return fail(g, "vGIC distributor address");
	a.attr = KVM_VGIC_V3_ADDR_TYPE_REDIST;
	a.addr = (uint64_t)(uintptr_t)&redist;
	if (ioctl(g->gic_fd, KVM_SET_DEVICE_ATTR, &a))
		return fail(g, "vGIC redistributor address");
	a.group = KVM_DEV_ARM_VGIC_GRP_NR_IRQS;
	a.attr = 0;
	a.addr = (uint64_t)(uintptr_t)&nr_irqs;
	if (ioctl(g->gic_fd, KVM_SET_DEVICE_ATTR, &a))
		return fail(g, "vGIC number of interrupts");
	a.group = KVM_DEV_ARM_VGIC_GRP_CTRL;
	a.attr = KVM_DEV_ARM_VGIC_CTRL_INIT;
	a.addr = 0;
	if (ioctl(g->gic_fd, KVM_SET_DEVICE_ATTR, &a))
		return fail(g, "vGIC init");
	return 0;
}

int kg_create(struct kvm_guest *g, const void *entry)
{
	return kg_create_smp(g, entry, 1);
}

int kg_create_smp(struct kvm_guest *g, const void *entry,
		  unsigned int nr_vcpus)
{
	size_t code = __stop_guest_text - __start_guest_text;
	const char *e = entry;
	struct kvm_vcpu_init init;
	unsigned int i;
	long sz;

	kg_init(g);
	if (!nr_vcpus || nr_vcpus > KG_MAX_VCPUS) {
		errno = 0;
		return fail(g, "%u vCPUs: 1 to %d", nr_vcpus, KG_MAX_VCPUS);
	}

	if (e < __start_guest_text || e >= __stop_guest_text) {
		errno = 0;
		return fail(g, "guest entry point outside guest_text");
	}
	/* Guest C addresses its constants relative to its PC's page. */
	if ((uintptr_t)__start_guest_text % 4096) {
		errno = 0;
		return fail(g, "guest_text not page aligned");
	}
	if (code > KG_PARAM_OFF) {
		errno = 0;
		return fail(g, "guest code too large (%zu bytes)", code);
	}

	g->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (g->kvm_fd < 0)
		return fail(g, "open /dev/kvm");
	if (ioctl(g->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		errno = 0;
		return fail(g, "unexpected KVM API version");
	}
	g->vm_fd = ioctl(g->kvm_fd, KVM_CREATE_VM, 0);
	if (g->vm_fd < 0)
		return fail(g, "KVM_CREATE_VM");

	g->mem_size = KG_RAM_SIZE;
	g->mem = mmap(NULL, g->mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->mem == MAP_FAILED) {
		g->mem = NULL;
		return fail(g, "mmap guest RAM");
	}
	memcpy(g->mem, __start_guest_text, code);
	if (kg_add_memslot(g, KG_RAM_GPA, g->mem, g->mem_size) < 0)
		return -1;

	sz = ioctl(g->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz <= 0)
		return fail(g, "KVM_GET_VCPU_MMAP_SIZE");
	g->run_size = sz;
	if (ioctl(g->vm_fd, KVM_ARM_PREFERRED_TARGET, &init))
		return fail(g, "KVM_ARM_PREFERRED_TARGET");
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	/* Every vCPU before the vGIC's initialisation. */
	if (create_vcpu(g, 0, &init, &g->vcpu_fd, &g->run))
		return -1;
	for (i = 1; i < nr_vcpus; i++, g->nr_vcpus++) {
		if (create_vcpu(g, i, &init, &g->aux_fd[i], &g->aux_run[i]))
			return -1;
	}
	if (create_gic(g))
		return -1;

	if (start_vcpu(g, g->vcpu_fd, 0, e))
		return -1;
	for (i = 1; i < nr_vcpus; i++) {
		if (start_vcpu(g, g->aux_fd[i], i, e))
			return -1;
	}
	return 0;
}

void kg_destroy(struct kvm_guest *g)
{
	unsigned int i;

	for (i = 1; i < KG_MAX_VCPUS; i++) {
		if (g->aux_run[i])
			munmap(g->aux_run[i], g->run_size);
		if (g->aux_fd[i] >= 0)
			close(g->aux_fd[i]);
	}
	if (g->stats_fd >= 0)
		close(g->stats_fd);
	if (g->run)
		munmap(g->run, g->run_size);
	if (g->gic_fd >= 0)
		close(g->gic_fd);
	if (g->vcpu_fd >= 0)
		close(g->vcpu_fd);
	if (g->vm_fd >= 0)
		close(g->vm_fd);
	if (g->kvm_fd >= 0)
		close(g->kvm_fd);
	if (g->mem)
		munmap(g->mem, g->mem_size);
	kg_init(g);
}

void kg_init(struct kvm_guest *g)
{
	unsigned int i;

	memset(g, 0, sizeof(*g));
	g->nr_vcpus = 1;
	for (i = 0; i < KG_MAX_VCPUS; i++)
		g->aux_fd[i] = -1;
	g->kvm_fd = -1;
	g->vm_fd = -1;
	g->vcpu_fd = -1;
	g->gic_fd = -1;
	g->stats_fd = -1;
}

/*
 * The guest runs with its MMU off, so its data accesses are Device
 * memory and bypass the caches, while this process reaches the same RAM
 * through a cacheable mapping.  Without FEAT_S2FWB nothing keeps the two
 * coherent once KVM has mapped a page: what the host writes for the guest
 * is cleaned to memory, and what the guest wrote is read after the host's
 * lines are cleaned and invalidated.  (EL0 may do both by address: Linux
 * sets SCTLR_EL1.UCI.)  Without caches, as in an emulated host, they cost
 * nothing.
 */
static void guest_ram_sync(const void *p, size_t len, bool for_host)
{
#ifdef __aarch64__
	uintptr_t a, end = (uintptr_t)p + len;
	uint64_t ctr, line;

	asm volatile("mrs %0, ctr_el0" : "=r" (ctr));
	line = 4UL << ((ctr >> 16) & 0xf);	/* DminLine */
	asm volatile("dsb ish" : : : "memory");
	for (a = (uintptr_t)p & ~(line - 1); a < end; a += line) {
		if (for_host)
			asm volatile("dc civac, %0" : : "r" (a) : "memory");
		else
			asm volatile("dc cvac, %0" : : "r" (a) : "memory");
	}
	asm volatile("dsb ish" : : : "memory");
#endif
}

void kg_set_param(struct kvm_guest *g, unsigned int i, uint64_t value)
{
	uint64_t *p = (uint64_t *)(g->mem + KG_PARAM_OFF) + i;

	__atomic_store_n(p, value, __ATOMIC_SEQ_CST);
	guest_ram_sync(p, sizeof(*p), false);
}

uint64_t kg_get_param(struct kvm_guest *g, unsigned int i)
{
	uint64_t *p = (uint64_t *)(g->mem + KG_PARAM_OFF) + i;

	guest_ram_sync(p, sizeof(*p), true);
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void tick(int sig)
{
	(void)sig;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

int kg_run(struct kvm_guest *g, struct kg_exit *ex, unsigned int timeout_ms)
{
	struct itimerval it = { { 0, 50000 }, { 0, 50000 } };
	struct itimerval off = { 0 };
	struct sigaction sa = { .sa_handler = tick };
	uint64_t deadline = now_ms() + timeout_ms;
	int ret;

	/* No SA_RESTART: the periodic SIGALRM makes KVM_RUN return EINTR. */
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	for (;;) {
		ret = ioctl(g->vcpu_fd, KVM_RUN, 0);
		if (ret == 0 && g->run->exit_reason != KVM_EXIT_INTR)
			break;
		if (ret < 0 && errno != EINTR) {
			setitimer(ITIMER_REAL, &off, NULL);
			return fail(g, "KVM_RUN");
		}
		if (now_ms() >= deadline) {
			setitimer(ITIMER_REAL, &off, NULL);
			errno = ETIMEDOUT;
			snprintf(g->err, sizeof(g->err),
				 "guest did not exit within %u ms", timeout_ms);
			return -1;
		}
	}
	setitimer(ITIMER_REAL, &off, NULL);

	memset(ex, 0, sizeof(*ex));
	ex->reason = g->run->exit_reason;
	if (ex->reason == KVM_EXIT_MMIO) {
		ex->addr = g->run->mmio.phys_addr;
		ex->len = g->run->mmio.len;
		ex->is_write = g->run->mmio.is_write;
		if (ex->is_write && ex->len <= 8)
			memcpy(&ex->data, g->run->mmio.data, ex->len);
	}
	return 0;
}

uint64_t kg_get_ucall(const struct kvm_guest *g, const struct kvm_run *run,
		      struct kg_ucall *uc)
{
	uint64_t gpa;

	memset(uc, 0, sizeof(*uc));
	if (run->exit_reason != KVM_EXIT_MMIO ||
	    run->mmio.phys_addr != KG_MMIO_UCALL || !run->mmio.is_write ||
	    run->mmio.len != sizeof(gpa))
		return KG_UCALL_NONE;
	memcpy(&gpa, run->mmio.data, sizeof(gpa));
	if (gpa < KG_RAM_GPA || gpa - KG_RAM_GPA > g->mem_size - sizeof(*uc)) {
		uc->cmd = KG_UCALL_INVALID;
		uc->args[0] = gpa;
		return uc->cmd;
	}
	guest_ram_sync(g->mem + (gpa - KG_RAM_GPA), sizeof(*uc), true);
	memcpy(uc, g->mem + (gpa - KG_RAM_GPA), sizeof(*uc));
	if (uc->cmd == KG_UCALL_NONE || uc->cmd > KG_UCALL_UNHANDLED) {
		uc->cmd = KG_UCALL_INVALID;
		uc->args[0] = gpa;
	}
	return uc->cmd;
}

/* A string of the guest's, at @gpa in its RAM: "?" if not one. */
static const char *guest_str(const struct kvm_guest *g, uint64_t gpa)
{
	size_t off = gpa - KG_RAM_GPA;

	if (gpa < KG_RAM_GPA || off >= g->mem_size ||
	    !memchr(g->mem + off, 0, g->mem_size - off))
		return "?";
	return (const char *)g->mem + off;
}

const char *kg_ucall_describe(const struct kvm_guest *g,
			      const struct kg_ucall *uc, char *buf,
			      size_t size)
{
	const char *file = guest_str(g, uc->file), *base;
	unsigned long long a[KG_UCALL_ARGS];
	unsigned int i;
	int n;

	for (i = 0; i < KG_UCALL_ARGS; i++)
		a[i] = uc->args[i];
	switch (uc->cmd) {
	case KG_UCALL_SYNC:
		snprintf(buf, size, "guest sync %llu (%#llx)", a[0], a[1]);
		break;
	case KG_UCALL_DONE:
		snprintf(buf, size, "guest done (%llu)", a[0]);
		break;
	case KG_UCALL_ASSERT:
		base = strrchr(file, '/');
		n = snprintf(buf, size, "guest assertion failed at %s:%llu: %s",
			     base ? base + 1 : file,
			     (unsigned long long)uc->line,
			     guest_str(g, uc->expr));
		if (n <= 0 || (size_t)n >= size || !uc->nargs)
			break;
		if (uc->nargs == 1)
			snprintf(buf + n, size - n, " (%llu)", a[0]);
		else
			snprintf(buf + n, size - n, " (%llu vs %llu)", a[0], a[1]);
		break;
	case KG_UCALL_UNHANDLED:
		snprintf(buf, size,
			 "guest exception: vector %#llx ESR %#llx ELR %#llx FAR %#llx",
			 a[0], a[1], a[2], a[3]);
		break;
	case KG_UCALL_INVALID:
		snprintf(buf, size, "guest ucall with a bad struct at %#llx",
			 a[0]);
		break;
	default:
		snprintf(buf, size, "no guest ucall");
		break;
	}
	return buf;
}

int kg_run_ucall(struct kvm_guest *g, struct kg_ucall *uc,
		 unsigned int timeout_ms)
{
	uint64_t deadline = now_ms() + timeout_ms;
	struct kg_exit ex;

	for (;;) {
		uint64_t left = deadline - now_ms();

		if ((int64_t)left <= 0) {
			errno = ETIMEDOUT;
			snprintf(g->err, sizeof(g->err),
				 "guest did not report within %u ms",
				 timeout_ms);
			return -1;
		}
		if (kg_run(g, &ex, left))
			return -1;
		if (ex.reason != KVM_EXIT_MMIO) {
			errno = 0;
			return fail(g, "unexpected exit reason %u", ex.reason);
		}
		if (!ex.is_write) {
			memset(g->run->mmio.data, 0, sizeof(g->run->mmio.data));
			continue;
		}
		switch (kg_get_ucall(g, g->run, uc)) {
		case KG_UCALL_SYNC:
		case KG_UCALL_DONE:
			return 0;
		case KG_UCALL_NONE:
			errno = 0;
			return fail(g, "unexpected guest MMIO write at %#llx",
				    (unsigned long long)ex.addr);
		default:
			kg_ucall_describe(g, uc, g->err, sizeof(g->err));
			errno = 0;
			return -1;
		}
	}
}

int kg_run_sync(struct kvm_guest *g, uint64_t stage, uint64_t *value,
		unsigned int timeout_ms)
{
	struct kg_ucall uc;

	if (kg_run_ucall(g, &uc, timeout_ms))
		return -1;
	if (uc.cmd != KG_UCALL_SYNC || uc.args[0] != stage) {
		kg_ucall_describe(g, &uc, g->err, sizeof(g->err));
		snprintf(g->err + strlen(g->err),
			 sizeof(g->err) - strlen(g->err),
			 ", not sync %llu", (unsigned long long)stage);
		errno = 0;
		return -1;
	}
	if (value)
		*value = uc.args[1];
	return 0;
}

int kg_run_done(struct kvm_guest *g, uint64_t *result,
		unsigned int timeout_ms)
{
	struct kg_ucall uc;

	if (kg_run_ucall(g, &uc, timeout_ms))
		return -1;
	if (uc.cmd != KG_UCALL_DONE) {
		kg_ucall_describe(g, &uc, g->err, sizeof(g->err));
		snprintf(g->err + strlen(g->err),
			 sizeof(g->err) - strlen(g->err), ", not done");
		errno = 0;
		return -1;
	}
	if (result)
		*result = uc.args[0];
	return 0;
}

int kg_vcpu_stat(struct kvm_guest *g, const char *name, uint64_t *value)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	size_t dsz;
	char *descs;
	uint32_t i;
	int ret = -1;

	if (g->stats_fd < 0) {
		g->stats_fd = ioctl(g->vcpu_fd, KVM_GET_STATS_FD, NULL);
		if (g->stats_fd < 0)
			return fail(g, "KVM_GET_STATS_FD");
	}
	if (pread(g->stats_fd, &h, sizeof(h), 0) != sizeof(h))
		return fail(g, "reading stats header");
	dsz = sizeof(*d) + h.name_size;
	descs = calloc(h.num_desc, dsz);
	if (!descs)
		return fail(g, "calloc");
	if (pread(g->stats_fd, descs, h.num_desc * dsz, h.desc_offset) !=
	    (ssize_t)(h.num_desc * dsz)) {
		fail(g, "reading stats descriptors");
		goto out;
	}
	for (i = 0; i < h.num_desc; i++) {
		d = (struct kvm_stats_desc *)(descs + i * dsz);
		if (strcmp(d->name, name))
			continue;
		if (pread(g->stats_fd, value, sizeof(*value),
			  h.data_offset + d->offset) != sizeof(*value)) {
			fail(g, "reading stat %s", name);
			goto out;
		}
		ret = 0;
		goto out;
	}
	errno = 0;
	fail(g, "no vCPU stat named %s", name);
out:
	free(descs);
	return ret;
}
