/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmarm_fuzz: a seeded, structure-aware fuzzer of our interfaces.  The
 * runner (kvmarm_fuzz.c) drives targets (fuzz_*.c): each opens a session
 * per iteration, several threads then run random operations on it, and a
 * forked child may run its own session and die mid-sequence.
 */
#ifndef KVMARM_IO_FUZZ_H
#define KVMARM_IO_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#include "kselftest.h"		/* ARRAY_SIZE, __printf */

#define KF_MAX_THREADS	8
#define KF_LOG		16
#define KF_LOG_LEN	160

/* One thread's (or the forked child's) state; in shared memory. */
struct kf_ctx {
	uint64_t rng;
	unsigned int slot;		/* thread index; see KF_SLOT_* */
	unsigned int iteration;
	const char *target;
	int busy;			/* an operation is running (atomic) */
	uint64_t op_start;		/* its start, CLOCK_MONOTONIC ns */
	unsigned long ops;
	unsigned int log_next;
	char log[KF_LOG][KF_LOG_LEN];
	unsigned int failures;
	char failure[256];
	uint64_t slowest_ns;		/* the slowest operation */
	char slowest[KF_LOG_LEN];
};

/* Slots after the threads: the iteration's set-up, a forked child. */
#define KF_SLOT_MAIN	KF_MAX_THREADS
#define KF_SLOT_CHILD	(KF_MAX_THREADS + 1)
#define KF_SLOTS	(KF_MAX_THREADS + 2)

struct kf_target {
	const char *name;
	/* Once per run: 0 ready, > 0 skip (reason in @why), < 0 error. */
	int (*setup)(char *why, size_t len);
	void (*teardown)(void);
	/* Per iteration, before the threads start; NULL: nothing to fuzz. */
	void *(*open)(struct kf_ctx *c);
	/* One random operation, from any thread. */
	void (*op)(struct kf_ctx *c, void *s);
	void (*close)(struct kf_ctx *c, void *s);
	/* In a forked child: a session of its own, I/O, then it dies. */
	void (*child)(struct kf_ctx *c);
	/* After the last iteration: the interface still works; 0 or -1. */
	int (*check)(char *why, size_t len);
};

extern const struct kf_target kf_vhost_blk;
extern const struct kf_target kf_vdpa;
extern const struct kf_target kf_vfio;

/* Operations per thread and iteration, and the child's. */
extern unsigned int kf_ops;

/* Pseudo-random numbers of @c's stream. */
uint64_t kf_rand(struct kf_ctx *c);
/* Uniform in [0, @n); 0 when @n is 0. */
uint64_t kf_below(struct kf_ctx *c, uint64_t n);
/* True with probability @pct percent. */
bool kf_chance(struct kf_ctx *c, unsigned int pct);
/* A boundary-biased 64-bit value: edges, edges +/- 1, powers of two. */
uint64_t kf_u64(struct kf_ctx *c);
/* A boundary-biased 32-bit value. */
uint32_t kf_u32(struct kf_ctx *c);
/* Random bytes. */
void kf_fill(struct kf_ctx *c, void *p, size_t len);

/*
 * Record the operation about to run (printed on failure, watched for
 * hangs) and mark @c busy; kf_end() records its result and clears it.
 */
void kf_op(struct kf_ctx *c, const char *fmt, ...) __printf(2, 3);
/* Ends the operation; @ret < 0 is taken as -1 with errno.  Returns @ret. */
long kf_end(struct kf_ctx *c, long ret);
/* kf_end() for an operation that must fail: a success is a failure. */
long kf_end_fail(struct kf_ctx *c, long ret);
/* Record a failure of the interface under test. */
void kf_fail(struct kf_ctx *c, const char *fmt, ...) __printf(2, 3);

/* Print to stdout unbuffered (also from a forked child). */
void kf_print(const char *fmt, ...) __printf(1, 2);
/* Sleep @us microseconds. */
void kf_usleep(unsigned int us);
/*
 * A forked child's random session: kf_ops operations of @op on @s; at
 * operation @die the child kills itself (SIGKILL) half the time.
 */
void kf_child_session(struct kf_ctx *c, unsigned int die,
		      void (*op)(struct kf_ctx *c, void *s), void *s);

/*
 * Addresses: every address the fuzzer hands to the kernel for it to write
 * through is in a large PROT_NONE reservation around the fuzzer's arena,
 * or is not a user address at all, so that however a random table
 * translates it, the kernel never writes into the fuzzer's own memory.
 */
#define KF_RES_LO	0x100000000000ull
#define KF_RES_HI	0x400000000000ull

struct kf_mem {
	uint8_t *arena;			/* read-write, populated */
	size_t arena_size;
	uint8_t *ro;			/* one read-only page after it */
	uint8_t *log;			/* a dirty-log buffer (read-write) */
	size_t log_size;
};

/* Map the reservation, @arena_size of arena in it; 0 or -errno. */
int kf_mem_init(struct kf_mem *m, size_t arena_size);
/* The fuzzer's memory, set up before the first target runs. */
extern struct kf_mem kf_mem;
/* A user address to hand to the kernel: arena, read-only, none, garbage. */
uint64_t kf_uaddr(struct kf_ctx *c, const struct kf_mem *m);
/* A length: edges, small, page multiples, huge. */
uint64_t kf_len(struct kf_ctx *c);

/* An fd for the kernel to take: one of @fds, -1, a bad or unrelated one. */
int kf_fd(struct kf_ctx *c, const int *fds, unsigned int n);

/* Write @s to the file @path: 0 or -errno. */
int kf_write_file(const char *path, const char *s);
/* A sparse file of @size at @path; its fd open with @flags or -errno. */
int kf_make_file(const char *path, uint64_t size, int flags);

/* Kill @pid with SIGKILL and reap it within @ms: its status or -errno. */
int kf_reap(struct kf_ctx *c, int pid, unsigned int ms);

/*
 * Split vrings in the arena (fuzz_ring.c), shared by vhost-blk and vdpa:
 * vring i at arena + i * KF_RING_SLOT (room for 1024 entries), request
 * memory after the last.  The device reaches arena[x] at dev_base + x
 * (a guest physical address or an I/O virtual address).
 */
#define KF_NVQ		4
#define KF_RING_SLOT	0x8000
#define KF_RING_MAX	1024

struct kf_vring {
	unsigned int num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx;
	int kick;
	int call;
};

struct kf_rings {
	struct kf_vring vq[KF_NVQ];
	unsigned int nvq;
	uint64_t dev_base;
	uint64_t capacity;		/* of the disk, in sectors */
};

/* Lay the vrings out with @num entries and their eventfds; 0 or -errno. */
int kf_rings_init(struct kf_rings *r, unsigned int nvq, unsigned int num,
		  uint64_t dev_base);
void kf_rings_free(struct kf_rings *r);
/* The device address of arena memory @p. */
uint64_t kf_dev_addr_of(const struct kf_rings *r, const void *p);
/* A device address for a descriptor: mostly arena, else anything. */
uint64_t kf_dev_addr(struct kf_ctx *c, const struct kf_rings *r);
/* One random operation on the rings: requests, garbage, indices, kicks. */
void kf_ring_op(struct kf_ctx *c, struct kf_rings *r);
/* A vring's user-space addresses (vhost) for VHOST_SET_VRING_ADDR. */
void kf_ring_uaddr(struct kf_ctx *c, const struct kf_rings *r,
		   unsigned int i, uint64_t *desc, uint64_t *avail,
		   uint64_t *used);

#endif
