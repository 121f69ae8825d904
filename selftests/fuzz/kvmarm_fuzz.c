// SPDX-License-Identifier: GPL-2.0
/*
 * kvmarm_fuzz - a seeded, structure-aware fuzzer of /dev/vhost-blk,
 * vdpa-blk through /dev/vhost-vdpa-N and vfio-platform.
 *
 * Usage: kvmarm_fuzz [--target vhost-blk|vdpa|vfio|all] [--seed S]
 *                    [--iterations N] [--threads T] [--ops K]
 *                    [--first I] [--hang SECONDS]
 * KVMARM_FUZZ_TARGET, KVMARM_FUZZ_SEED and KVMARM_FUZZ_ITERS in the
 * environment stand for the options (the test host's fuzz mode sets them).
 * Without a seed one is made up, and printed.
 *
 * Every iteration of a target opens a session (the target's file
 * descriptors, rings and memory), runs K random operations in each of T
 * threads on it, maybe forks a child that runs a session of its own and is
 * killed with SIGKILL while its I/O is in flight, and closes the session.
 * The operations of a thread follow from the seed, the target, the
 * iteration and the thread's index alone: --seed S --first I replays
 * iteration I on its own (the interleaving of the threads is the
 * scheduler's).
 *
 * KTAP output, one result per target.  A target fails when an operation
 * that cannot succeed does, when an operation hangs (--hang, default 30 s:
 * the operation and the seed are printed and the run ends), when the
 * fuzzer itself crashes, or when the interface no longer works at the end.
 * Kernel reports are the test host's to catch: every iteration prints
 * "kvmarm_fuzz: seed S target T iteration I" to the kernel log (and now
 * and then to stdout) so that a report can be tied to a seed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "fuzz.h"

static const struct kf_target *const targets[] = {
	&kf_vhost_blk, &kf_vdpa, &kf_vfio,
};

#define NTARGETS	ARRAY_SIZE(targets)

unsigned int kf_ops = 64;
struct kf_mem kf_mem;
static uint64_t seed;
static unsigned int iterations = 10, threads = 2, first, hang_secs = 30;
static const char *cur_target = "none";
static unsigned int cur_iteration;
static struct kf_ctx *slots;		/* KF_SLOTS, shared with children */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static int ktap_n, ktap_pass, ktap_fail, ktap_skip;

/* Output: unbuffered writes, safe in a forked child of a threaded parent. */
static void kf_vprint(const char *fmt, va_list ap)
{
	char buf[1024];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	ssize_t w;
	size_t off = 0;

	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	while (off < (size_t)n) {
		w = write(1, buf + off, n - off);
		if (w <= 0)
			break;
		off += w;
	}
}

void kf_print(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kf_vprint(fmt, ap);
	va_end(ap);
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + t.tv_nsec;
}

void kf_usleep(unsigned int us)
{
	struct timespec t = { us / 1000000, (us % 1000000) * 1000L };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

void kf_child_session(struct kf_ctx *c, unsigned int die,
		      void (*op)(struct kf_ctx *c, void *s), void *s)
{
	unsigned int i;

	for (i = 0; i < kf_ops; i++) {
		if (i == die && kf_chance(c, 50)) {
			kf_op(c, "SIGKILL self");
			kill(getpid(), SIGKILL);
		}
		op(c, s);
	}
}

/* splitmix64: seeds the streams, one per target, iteration and slot. */
static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t stream_seed(unsigned int target, unsigned int iteration,
			    unsigned int slot)
{
	uint64_t x = splitmix(seed ^ splitmix(((uint64_t)target << 48) |
					      ((uint64_t)iteration << 16) |
					      slot));

	return x ? x : 1;
}

uint64_t kf_rand(struct kf_ctx *c)
{
	/* xorshift64* */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 0x2545f4914f6cdd1dull;
}

uint64_t kf_below(struct kf_ctx *c, uint64_t n)
{
	return n ? kf_rand(c) % n : 0;
}

bool kf_chance(struct kf_ctx *c, unsigned int pct)
{
	return kf_below(c, 100) < pct;
}

static const uint64_t edges[] = {
	0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256,
	511, 512, 1023, 1024, 4095, 4096, 4097, 32767, 32768, 65535, 65536,
	0x7fffffffull, 0x80000000ull, 0xffffffffull, 0x100000000ull,
	1ull << 40, 1ull << 47, 1ull << 48, 0x7fffffffffffffffull,
	0x8000000000000000ull, ~0ull - 4095, ~0ull - 1, ~0ull,
};

uint64_t kf_u64(struct kf_ctx *c)
{
	uint64_t e = edges[kf_below(c, ARRAY_SIZE(edges))];

	switch (kf_below(c, 6)) {
	case 0:
	case 1:
		return e;
	case 2:
		return e + kf_below(c, 3) - 1;
	case 3:
		return 1ull << kf_below(c, 64);
	case 4:
		return kf_below(c, 1ull << kf_below(c, 64));
	default:
		return kf_rand(c);
	}
}

uint32_t kf_u32(struct kf_ctx *c)
{
	uint64_t v = kf_u64(c);

	return v > 0xffffffffull && kf_chance(c, 70) ? (uint32_t)~0u : v;
}

void kf_fill(struct kf_ctx *c, void *p, size_t len)
{
	uint8_t *b = p;
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (!(i % 8))
			r = kf_rand(c);
		b[i] = r >> (8 * (i % 8));
	}
}

/* The operation log and the watchdog. */

void kf_op(struct kf_ctx *c, const char *fmt, ...)
{
	char *e = c->log[c->log_next % KF_LOG];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e, KF_LOG_LEN, fmt, ap);
	va_end(ap);
	__atomic_store_n(&c->op_start, now_ns(), __ATOMIC_RELAXED);
	__atomic_store_n(&c->busy, 1, __ATOMIC_RELEASE);
	c->ops++;
}

long kf_end(struct kf_ctx *c, long ret)
{
	char *e = c->log[c->log_next % KF_LOG];
	size_t n = strnlen(e, KF_LOG_LEN);
	uint64_t t = now_ns() - c->op_start;

	if (t > c->slowest_ns) {
		c->slowest_ns = t;
		memcpy(c->slowest, e, KF_LOG_LEN);
	}

	if (ret < 0)
		snprintf(e + n, KF_LOG_LEN - n, " = -%s", strerrorname_np(errno) ?: "?");
	else
		snprintf(e + n, KF_LOG_LEN - n, " = %ld", ret);
	c->log_next++;
	__atomic_store_n(&c->busy, 0, __ATOMIC_RELEASE);
	return ret;
}

static void dump_log(struct kf_ctx *c, const char *who)
{
	unsigned int i, n = c->log_next < KF_LOG ? c->log_next : KF_LOG;

	kf_print("# last operations of %s (%s, iteration %u, %lu operations):\n",
		 who, c->target, c->iteration, c->ops);
	for (i = c->log_next - n; i != c->log_next; i++)
		kf_print("#   %s\n", c->log[i % KF_LOG]);
	if (c->busy)
		kf_print("#   %s   <- running\n", c->log[c->log_next % KF_LOG]);
}

static void slot_name(unsigned int slot, char *buf, size_t len)
{
	if (slot == KF_SLOT_MAIN)
		snprintf(buf, len, "the set-up");
	else if (slot == KF_SLOT_CHILD)
		snprintf(buf, len, "the child");
	else
		snprintf(buf, len, "thread %u", slot);
}

void kf_fail(struct kf_ctx *c, const char *fmt, ...)
{
	char who[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->failure, sizeof(c->failure), fmt, ap);
	va_end(ap);
	c->failures++;
	slot_name(c->slot, who, sizeof(who));
	pthread_mutex_lock(&out_lock);
	kf_print("# FAIL: seed %llu target %s iteration %u %s: %s\n",
		 (unsigned long long)seed, c->target, c->iteration, who,
		 c->failure);
	dump_log(c, who);
	pthread_mutex_unlock(&out_lock);
}

long kf_end_fail(struct kf_ctx *c, long ret)
{
	char op[KF_LOG_LEN];

	snprintf(op, sizeof(op), "%s", c->log[c->log_next % KF_LOG]);
	kf_end(c, ret);
	if (ret >= 0)
		kf_fail(c, "succeeded but must fail: %s = %ld", op, ret);
	return ret;
}

static void finish(void)
{
	kf_print("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
		 ktap_pass, ktap_fail, ktap_skip);
}

/* A hang: say where, with the seed, and end the run. */
static void report_hang(struct kf_ctx *c, uint64_t ns)
{
	char who[32];
	unsigned int i;

	slot_name(c->slot, who, sizeof(who));
	pthread_mutex_lock(&out_lock);
	kf_print("# HANG: seed %llu target %s iteration %u %s: '%s' running for %llu s\n",
		 (unsigned long long)seed, c->target, c->iteration, who,
		 c->log[c->log_next % KF_LOG],
		 (unsigned long long)(ns / 1000000000ull));
	for (i = 0; i < KF_SLOTS; i++) {
		if (!slots[i].ops || slots[i].iteration != c->iteration ||
		    slots[i].target != c->target)
			continue;
		slot_name(i, who, sizeof(who));
		dump_log(&slots[i], who);
	}
	kf_print("# replay: kvmarm_fuzz --target %s --seed %llu --first %u\n",
		 c->target, (unsigned long long)seed, c->iteration);
	kf_print("not ok %d %s # hang (seed %llu iteration %u)\n", ++ktap_n,
		 c->target, (unsigned long long)seed, c->iteration);
	ktap_fail++;
	finish();
	_exit(1);
}

static void *watchdog(void *arg)
{
	uint64_t limit = (uint64_t)hang_secs * 1000000000ull, t, start;
	unsigned int i;

	for (;;) {
		kf_usleep(250000);
		t = now_ns();
		for (i = 0; i < KF_SLOTS; i++) {
			struct kf_ctx *c = &slots[i];

			if (!__atomic_load_n(&c->busy, __ATOMIC_ACQUIRE))
				continue;
			start = __atomic_load_n(&c->op_start, __ATOMIC_RELAXED);
			if (t > start && t - start > limit)
				report_hang(c, t - start);
		}
	}
	return arg;
}

/* The fuzzer's own crash: print where it was, as for a failure. */
static void crashed(int sig)
{
	pid_t self = getpid();
	unsigned int i;

	kf_print("# CRASH: kvmarm_fuzz (pid %d) got signal %d: seed %llu target %s iteration %u\n",
		 self, sig, (unsigned long long)seed, cur_target, cur_iteration);
	for (i = 0; i < KF_SLOTS; i++) {
		char who[32];

		if (!slots[i].busy)
			continue;
		slot_name(i, who, sizeof(who));
		dump_log(&slots[i], who);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Memory: the arena in a reservation no random table can leave. */

/*
 * [RES_LO, RES_HI) is PROT_NONE but for the arena at ARENA, a read-only
 * page after it and the dirty-log buffer at LOG_AT.  An address anywhere in
 * the arena plus an offset below 2^45, or a log bit of any address below
 * 2^60, stays in the reservation.
 */
#define RES_LO		KF_RES_LO
#define ARENA		0x200000000000ull
#define LOG_AT		0x300000000000ull
#define RES_HI		KF_RES_HI
#define LOG_SIZE	0x100000

int kf_mem_init(struct kf_mem *m, size_t arena_size)
{
	void *p;

	p = mmap((void *)RES_LO, RES_HI - RES_LO, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
		 MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (p != (void *)RES_LO) {
		munmap(p, RES_HI - RES_LO);
		return -EEXIST;
	}
	m->arena_size = arena_size;
	m->arena = mmap((void *)ARENA, arena_size + 4096,
			PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE,
			-1, 0);
	m->log_size = LOG_SIZE;
	m->log = mmap((void *)LOG_AT, LOG_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE,
		      -1, 0);
	if (m->arena == MAP_FAILED || m->log == MAP_FAILED) {
		munmap((void *)RES_LO, RES_HI - RES_LO);
		return -ENOMEM;
	}
	m->ro = m->arena + arena_size;
	memset(m->ro, 0x5a, 4096);
	mprotect(m->ro, 4096, PROT_READ);
	return 0;
}

uint64_t kf_uaddr(struct kf_ctx *c, const struct kf_mem *m)
{
	uint64_t a = (uintptr_t)m->arena;
	static const uint64_t garbage[] = {
		0xffff000000000000ull, 0xfffffffffffff000ull,
		0x8000000000000000ull, 1ull << 48, 1ull << 52, ~0ull,
	};

	switch (kf_below(c, 20)) {
	case 0 ... 9:
		return a + (kf_below(c, m->arena_size) & ~7ull);
	case 10:
	case 11:
		return a + kf_below(c, m->arena_size);
	case 12:
		return a + m->arena_size - kf_below(c, 64);
	case 13:
		return (uintptr_t)m->ro;
	case 14:
		return a - 4096 * (1 + kf_below(c, 16));
	case 15:
		return a + (1ull << (24 + kf_below(c, 20)));
	case 16:
		return (uintptr_t)m->log + kf_below(c, m->log_size);
	default:
		return garbage[kf_below(c, ARRAY_SIZE(garbage))];
	}
}

uint64_t kf_len(struct kf_ctx *c)
{
	switch (kf_below(c, 8)) {
	case 0:
	case 1:
		return kf_below(c, 4096);
	case 2:
	case 3:
		return 4096 * (1 + kf_below(c, 1024));
	case 4:
		return kf_below(c, 1 << 20);
	default:
		return kf_u64(c);
	}
}

int kf_fd(struct kf_ctx *c, const int *fds, unsigned int n)
{
	static const int bad[] = { -1, -1, -2, 0, 1000, 0x7fffffff, -0x7fffffff };

	if (n && kf_chance(c, 75))
		return fds[kf_below(c, n)];
	return bad[kf_below(c, ARRAY_SIZE(bad))];
}

int kf_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	n = n < 0 ? -errno : n == (ssize_t)strlen(s) ? 0 : -EIO;
	close(fd);
	return n;
}

int kf_make_file(const char *path, uint64_t size, int flags)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, size)) {
		close(fd);
		return -errno;
	}
	close(fd);
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int kf_reap(struct kf_ctx *c, int pid, unsigned int ms)
{
	uint64_t end = now_ns() + (uint64_t)ms * 1000000ull;
	int status, ret;

	kill(pid, SIGKILL);
	for (;;) {
		ret = waitpid(pid, &status, WNOHANG);
		if (ret == pid)
			return status;
		if (ret < 0)
			return -errno;
		if (now_ns() > end)
			return -ETIMEDOUT;
		kf_usleep(2000);
	}
}

/* Runs. */

struct thread_arg {
	const struct kf_target *t;
	struct kf_ctx *c;
	void *s;
};

static void *fuzz_thread(void *p)
{
	struct thread_arg *a = p;
	unsigned int i;

	for (i = 0; i < kf_ops; i++)
		a->t->op(a->c, a->s);
	return NULL;
}

static void ctx_init(struct kf_ctx *c, unsigned int tidx, unsigned int it,
		     unsigned int slot, const char *name)
{
	unsigned long ops = c->ops;
	unsigned int failures = c->failures;
	uint64_t slowest_ns = c->slowest_ns;
	char slowest[KF_LOG_LEN];

	memcpy(slowest, c->slowest, KF_LOG_LEN);
	memset(c, 0, sizeof(*c));
	c->slowest_ns = slowest_ns;
	memcpy(c->slowest, slowest, KF_LOG_LEN);
	c->rng = stream_seed(tidx, it, slot);
	c->slot = slot;
	c->iteration = it;
	c->target = name;
	c->ops = ops;
	c->failures = failures;
}

#define FD_MAX	4096

/* Which fds are open: those opened later are the iteration's. */
static void fd_snapshot(uint8_t *open_fds)
{
	struct dirent *e;
	DIR *d;
	long fd;

	memset(open_fds, 0, FD_MAX);
	d = opendir("/proc/self/fd");
	if (!d)
		return;
	while ((e = readdir(d))) {
		fd = strtol(e->d_name, NULL, 10);
		if (fd >= 0 && fd < FD_MAX && fd != dirfd(d))
			open_fds[fd] = 1;
	}
	closedir(d);
}

/* Close what the iteration left open (fds replaced by its threads). */
static void fd_sweep(const uint8_t *before)
{
	uint8_t now[FD_MAX];
	int fd;

	fd_snapshot(now);
	for (fd = 3; fd < FD_MAX; fd++)
		if (now[fd] && !before[fd])
			close(fd);
}

/* One iteration: a session, threads on it, maybe a child. */
static void iteration(const struct kf_target *t, unsigned int tidx,
		      unsigned int it, unsigned long *children)
{
	struct kf_ctx *m = &slots[KF_SLOT_MAIN], *ch = &slots[KF_SLOT_CHILD];
	struct thread_arg args[KF_MAX_THREADS];
	pthread_t tid[KF_MAX_THREADS];
	unsigned int i, delay = 0;
	uint8_t fds[FD_MAX];
	pid_t pid = -1;
	int status;
	void *s;

	fd_snapshot(fds);
	for (i = 0; i < KF_SLOTS; i++)
		ctx_init(&slots[i], tidx, it, i, t->name);
	s = t->open(m);
	if (t->child && kf_chance(m, 40)) {
		delay = kf_below(m, 200000);
		pid = fork();
		if (!pid) {
			signal(SIGALRM, SIG_DFL);
			t->child(ch);
			_exit(0);
		}
		if (pid > 0)
			(*children)++;
	}
	for (i = 0; i < threads; i++) {
		args[i] = (struct thread_arg){ t, &slots[i], s };
		if (pthread_create(&tid[i], NULL, fuzz_thread, &args[i])) {
			kf_fail(m, "pthread_create: %s", strerror(errno));
			tid[i] = 0;
		}
	}
	if (pid > 0) {
		kf_usleep(delay);
		kf_op(m, "SIGKILL child %d after %u us", pid, delay);
		status = kf_reap(m, pid, hang_secs * 1000);
		kf_end(m, status);
		if (status == -ETIMEDOUT)
			report_hang(m, (uint64_t)hang_secs * 1000000000ull);
		if (status >= 0 && !(WIFSIGNALED(status) &&
				     WTERMSIG(status) == SIGKILL) &&
		    !(WIFEXITED(status) && !WEXITSTATUS(status)))
			kf_fail(ch, "child ended with status %#x", status);
		__atomic_store_n(&ch->busy, 0, __ATOMIC_RELEASE);
	}
	for (i = 0; i < threads; i++)
		if (tid[i])
			pthread_join(tid[i], NULL);
	if (s)
		t->close(m, s);
	fd_sweep(fds);
}

static void to_kernel_log(const char *line)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, line, strlen(line)) < 0)
		;
	close(fd);
}

static void run_target(const struct kf_target *t, unsigned int tidx)
{
	unsigned int it, i, slow = 0, every = iterations / 20 ? iterations / 20 : 1;
	unsigned long ops = 0, children = 0, failures = 0;
	char why[256] = "", line[160];
	uint64_t start, t0, longest = 0;
	unsigned int longest_it = 0;
	int ret;

	cur_target = t->name;
	ret = t->setup(why, sizeof(why));
	if (ret) {
		if (ret > 0) {
			kf_print("ok %d %s # SKIP %s\n", ++ktap_n, t->name, why);
			ktap_skip++;
		} else {
			kf_print("not ok %d %s # set-up failed: %s\n", ++ktap_n,
				 t->name, why);
			ktap_fail++;
		}
		return;
	}
	for (i = 0; i < KF_SLOTS; i++)
		memset(&slots[i], 0, sizeof(slots[i]));
	start = now_ns();
	for (it = first; it < first + iterations; it++) {
		cur_iteration = it;
		snprintf(line, sizeof(line),
			 "kvmarm_fuzz: seed %llu target %s iteration %u\n",
			 (unsigned long long)seed, t->name, it);
		if (it - first < 3 || !((it - first) % every))
			kf_print("# %s", line);
		snprintf(line, sizeof(line),
			 "<6>kvmarm_fuzz: seed %llu target %s iteration %u\n",
			 (unsigned long long)seed, t->name, it);
		to_kernel_log(line);
		t0 = now_ns();
		iteration(t, tidx, it, &children);
		t0 = now_ns() - t0;
		if (t0 > longest) {
			longest = t0;
			longest_it = it;
		}
	}
	start = now_ns() - start;
	if (t->check && t->check(why, sizeof(why))) {
		kf_print("# FAIL: seed %llu target %s: after the run: %s\n",
			 (unsigned long long)seed, t->name, why);
		failures++;
	}
	t->teardown();
	for (i = 0; i < KF_SLOTS; i++) {
		ops += slots[i].ops;
		failures += slots[i].failures;
		if (slots[i].slowest_ns > slots[slow].slowest_ns)
			slow = i;
	}
	kf_print("# %s: %u iterations, %lu operations, %lu children, %llu ms, %llu ms each\n",
		 t->name, iterations, ops, children,
		 (unsigned long long)(start / 1000000),
		 (unsigned long long)(start / 1000000 / iterations));
	kf_print("# %s: longest iteration %u, %llu ms\n", t->name, longest_it,
		 (unsigned long long)(longest / 1000000));
	kf_print("# %s: slowest operation %llu ms: %s\n", t->name,
		 (unsigned long long)(slots[slow].slowest_ns / 1000000),
		 slots[slow].slowest);
	if (failures) {
		kf_print("not ok %d %s: %u iterations, %lu failures (seed %llu)\n",
			 ++ktap_n, t->name, iterations, failures,
			 (unsigned long long)seed);
		ktap_fail++;
	} else {
		kf_print("ok %d %s: %u iterations\n", ++ktap_n, t->name,
			 iterations);
		ktap_pass++;
	}
}

static void print_usage(void)
{
	kf_print("usage: kvmarm_fuzz [--target vhost-blk|vdpa|vfio|all] [--seed S]\n"
		 "       [--iterations N] [--threads T] [--ops K] [--first I]\n"
		 "       [--hang SECONDS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *target = "all";
	bool have_seed = false;
	struct sigaction sa = { .sa_handler = crashed };
	struct rlimit r = { RLIM_INFINITY, RLIM_INFINITY };
	unsigned int i, n = 0;
	pthread_t wd;
	int a;

	if (getenv("KVMARM_FUZZ_TARGET") && *getenv("KVMARM_FUZZ_TARGET"))
		target = getenv("KVMARM_FUZZ_TARGET");
	if (getenv("KVMARM_FUZZ_SEED") && *getenv("KVMARM_FUZZ_SEED")) {
		seed = strtoull(getenv("KVMARM_FUZZ_SEED"), NULL, 0);
		have_seed = true;
	}
	if (getenv("KVMARM_FUZZ_ITERS") && *getenv("KVMARM_FUZZ_ITERS"))
		iterations = strtoul(getenv("KVMARM_FUZZ_ITERS"), NULL, 0);
	for (a = 1; a < argc; a++) {
		const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;

		if (!v)
			print_usage();
		if (!strcmp(o, "--target"))
			target = v;
		else if (!strcmp(o, "--seed"))
			seed = strtoull(v, NULL, 0), have_seed = true;
		else if (!strcmp(o, "--iterations"))
			iterations = strtoul(v, NULL, 0);
		else if (!strcmp(o, "--threads"))
			threads = strtoul(v, NULL, 0);
		else if (!strcmp(o, "--ops"))
			kf_ops = strtoul(v, NULL, 0);
		else if (!strcmp(o, "--first"))
			first = strtoul(v, NULL, 0);
		else if (!strcmp(o, "--hang"))
			hang_secs = strtoul(v, NULL, 0);
		else
			print_usage();
		a++;
	}
	if (!have_seed)
		seed = now_ns() ^ ((uint64_t)getpid() << 32);
	if (!iterations || threads > KF_MAX_THREADS || !hang_secs)
		print_usage();
	for (i = 0; i < NTARGETS; i++)
		if (!strcmp(target, "all") || !strcmp(target, targets[i]->name))
			n++;
	if (!n)
		print_usage();

	kf_print("TAP version 13\n1..%u\n", n);
	kf_print("# kvmarm_fuzz: seed %llu target %s iterations %u threads %u ops %u first %u\n",
		 (unsigned long long)seed, target, iterations, threads, kf_ops,
		 first);
	slots = mmap(NULL, KF_SLOTS * sizeof(*slots), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slots == MAP_FAILED) {
		kf_print("Bail out! no memory for the slots\n");
		return 1;
	}
	/*
	 * 2 MiB: room for requests and small enough that mapping it page
	 * by page (vhost-vdpa without IOTLB batches) stays quick.
	 */
	a = kf_mem_init(&kf_mem, 2 << 20);
	if (a) {
		kf_print("Bail out! cannot reserve the fuzzer's memory: %s\n",
			 strerror(-a));
		return 1;
	}
	/* vhost-vdpa pins what the IOTLB maps. */
	setrlimit(RLIMIT_MEMLOCK, &r);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_create(&wd, NULL, watchdog, NULL)) {
		kf_print("Bail out! no watchdog thread\n");
		return 1;
	}
	for (i = 0; i < NTARGETS; i++)
		if (!strcmp(target, "all") || !strcmp(target, targets[i]->name))
			run_target(targets[i], i);
	finish();
	return ktap_fail ? 1 : 0;
}
