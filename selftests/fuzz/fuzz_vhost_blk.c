// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vhost-blk: every vhost ioctl and VHOST_BLK_SET_BACKEND/GET_CONFIG
 * with valid, boundary and garbage arguments, random memory tables, rings
 * in the fuzzer's arena, backends on a tmpfs file, a loop device and
 * null_blk, and garbage fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/loop.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "../vhost/vblk.h"

#define DEV		"/dev/vhost-blk"
#define WORK		"/tmp/kvmarm-fuzz-blk"
#define DISK_SIZE	(16u << 20)
#define LOOP_SIZE	(8u << 20)
/* Guest physical address of the arena in the well-formed memory table. */
#define GBASE		0x100000000ull
#define NVQS		16		/* the device's vrings */
#define MAX_REGIONS	64		/* its max_mem_regions default */

static int backing[6], nbacking;
static int loop_fd = -1;
static uint64_t offered;

struct vb {
	int fd;
	int efd[4];
	struct kf_rings r;
};

static int loop_setup(void)
{
	int ctl, n, fd, file;
	char path[64];

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -1;
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (n < 0)
		return -1;
	file = kf_make_file(WORK "/loop.img", LOOP_SIZE, O_RDWR);
	if (file < 0)
		return -1;
	snprintf(path, sizeof(path), "/dev/loop%d", n);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && ioctl(fd, LOOP_SET_FD, file)) {
		close(fd);
		fd = -1;
	}
	close(file);
	return fd;
}

static int vb_setup(char *why, size_t len)
{
	int fd, b;

	if (access(DEV, R_OK | W_OK)) {
		snprintf(why, len, DEV " missing");
		return 1;
	}
	fd = open(DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, VHOST_GET_FEATURES, &offered)) {
		snprintf(why, len, DEV ": %s", strerror(errno));
		return -1;
	}
	close(fd);
	/* A read-only backend adds VIRTIO_BLK_F_RO to the offer. */
	offered |= 1ull << VIRTIO_BLK_F_RO;
	mkdir(WORK, 0700);
	nbacking = 0;
	b = kf_make_file(WORK "/disk.img", DISK_SIZE, O_RDWR);
	if (b < 0) {
		snprintf(why, len, "backing file: %s", strerror(-b));
		return -1;
	}
	backing[nbacking++] = b;
	b = open(WORK "/disk.img", O_RDONLY | O_CLOEXEC);
	if (b >= 0)
		backing[nbacking++] = b;
	loop_fd = loop_setup();
	if (loop_fd >= 0)
		backing[nbacking++] = loop_fd;
	b = open("/dev/nullb0", O_RDWR | O_CLOEXEC);
	if (b >= 0)
		backing[nbacking++] = b;
	b = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (b >= 0)
		backing[nbacking++] = b;
	return 0;
}

static void vb_teardown(void)
{
	int i;

	if (loop_fd >= 0)
		ioctl(loop_fd, LOOP_CLR_FD);
	for (i = 0; i < nbacking; i++)
		close(backing[i]);
	loop_fd = -1;
	nbacking = 0;
	unlink(WORK "/disk.img");
	unlink(WORK "/loop.img");
	rmdir(WORK);
}

/* The fds a vring or backend ioctl may get. */
static int vb_fd(struct kf_ctx *c, struct vb *s)
{
	int fds[16], n = 0, i;

	for (i = 0; i < 4; i++)
		fds[n++] = s->efd[i];
	for (i = 0; i < KF_NVQ; i++) {
		fds[n++] = s->r.vq[i].kick;
		fds[n++] = s->r.vq[i].call;
	}
	fds[n++] = s->fd;
	if (nbacking)
		fds[n++] = backing[kf_below(c, nbacking)];
	return kf_fd(c, fds, n);
}

static uint64_t features(struct kf_ctx *c)
{
	switch (kf_below(c, 5)) {
	case 0 ... 2:
		return offered & kf_rand(c) & ~(1ull << VHOST_F_LOG_ALL);
	case 3:
		return offered & kf_rand(c);
	default:
		return kf_u64(c);
	}
}

static int set_mem_table(struct kf_ctx *c, int fd, bool canonical)
{
	struct {
		struct vhost_memory m;
		struct vhost_memory_region r[MAX_REGIONS + 2];
	} t = {};
	unsigned int n, i;
	long ret;

	n = canonical ? 1 : kf_chance(c, 10) ? kf_u32(c) :
	    kf_chance(c, 50) ? 1 + kf_below(c, 4) : kf_below(c, MAX_REGIONS + 3);
	t.m.nregions = n;
	t.m.padding = kf_chance(c, 5) ? kf_u32(c) : 0;
	for (i = 0; i < n && i < MAX_REGIONS + 2; i++) {
		struct vhost_memory_region *r = &t.r[i];

		r->guest_phys_addr = GBASE;
		r->memory_size = kf_mem.arena_size;
		r->userspace_addr = (uintptr_t)kf_mem.arena;
		if (canonical || kf_chance(c, 40))
			continue;
		switch (kf_below(c, 8)) {
		case 0:		/* overlapping the previous */
			if (i)
				*r = t.r[i - 1];
			r->guest_phys_addr += kf_below(c, 8192);
			break;
		case 1:
			r->memory_size = 0;
			break;
		case 2:		/* wrapping at 2^64 */
			r->guest_phys_addr = ~0ull - kf_below(c, 8192);
			break;
		case 3:
			r->guest_phys_addr += 1 + kf_below(c, 4095);
			r->userspace_addr += 1 + kf_below(c, 4095);
			break;
		case 4:
			r->flags_padding = kf_u64(c);
			break;
		default:
			r->guest_phys_addr = kf_u64(c);
			r->memory_size = kf_len(c);
			r->userspace_addr = kf_uaddr(c, &kf_mem);
			break;
		}
		/* Never a user address outside the reservation. */
		if (r->userspace_addr >= KF_RES_LO &&
		    r->userspace_addr < KF_RES_HI &&
		    r->memory_size > KF_RES_HI - r->userspace_addr &&
		    r->userspace_addr + r->memory_size <= 1ull << 48)
			r->memory_size = KF_RES_HI - r->userspace_addr;
	}
	kf_op(c, "VHOST_SET_MEM_TABLE nregions %u padding %u r0 %#llx+%#llx@%#llx",
	      n, t.m.padding, (unsigned long long)t.r[0].guest_phys_addr,
	      (unsigned long long)t.r[0].memory_size,
	      (unsigned long long)t.r[0].userspace_addr);
	ret = ioctl(fd, VHOST_SET_MEM_TABLE, &t);
	if (n > MAX_REGIONS)
		return kf_end_fail(c, ret);
	return kf_end(c, ret);
}

static int vring_setup(struct kf_ctx *c, struct vb *s, unsigned int i)
{
	struct vhost_vring_state st = { .index = i, .num = s->r.vq[i].num };
	struct vhost_vring_addr a = { .index = i };
	struct vhost_vring_file f = { .index = i };
	uint64_t d, av, u;

	kf_op(c, "VHOST_SET_VRING_NUM %u %u", i, st.num);
	if (kf_end(c, ioctl(s->fd, VHOST_SET_VRING_NUM, &st)))
		return -1;
	st.num = 0;
	kf_op(c, "VHOST_SET_VRING_BASE %u 0", i);
	kf_end(c, ioctl(s->fd, VHOST_SET_VRING_BASE, &st));
	kf_ring_uaddr(c, &s->r, i, &d, &av, &u);
	a.desc_user_addr = d;
	a.avail_user_addr = av;
	a.used_user_addr = u;
	a.log_guest_addr = kf_dev_addr_of(&s->r, s->r.vq[i].used);
	kf_op(c, "VHOST_SET_VRING_ADDR %u", i);
	kf_end(c, ioctl(s->fd, VHOST_SET_VRING_ADDR, &a));
	f.fd = s->r.vq[i].kick;
	kf_op(c, "VHOST_SET_VRING_KICK %u %d", i, f.fd);
	kf_end(c, ioctl(s->fd, VHOST_SET_VRING_KICK, &f));
	f.fd = s->r.vq[i].call;
	kf_op(c, "VHOST_SET_VRING_CALL %u %d", i, f.fd);
	kf_end(c, ioctl(s->fd, VHOST_SET_VRING_CALL, &f));
	f.fd = s->efd[0];
	kf_op(c, "VHOST_SET_VRING_ERR %u %d", i, f.fd);
	kf_end(c, ioctl(s->fd, VHOST_SET_VRING_ERR, &f));
	return 0;
}

static int set_backend(struct kf_ctx *c, struct vb *s, int fd)
{
	struct vhost_vring_file f = { .index = kf_u32(c), .fd = fd };

	kf_op(c, "VHOST_BLK_SET_BACKEND fd %d", fd);
	return kf_end(c, ioctl(s->fd, VHOST_BLK_SET_BACKEND, &f));
}

/* A device set up as a VMM would, each step skipped now and then. */
static void *vb_open(struct kf_ctx *c)
{
	struct vb *s = calloc(1, sizeof(*s));
	unsigned int i, nvq = 1 + kf_below(c, KF_NVQ);
	uint64_t f;

	if (!s)
		return NULL;
	for (i = 0; i < 4; i++)
		s->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	kf_rings_init(&s->r, nvq, 16 << kf_below(c, 5), GBASE);
	s->r.capacity = DISK_SIZE / 512;
	kf_op(c, "open " DEV);
	s->fd = kf_end(c, open(DEV, O_RDWR | O_CLOEXEC));
	if (s->fd < 0)
		return s;
	if (kf_chance(c, 95)) {
		kf_op(c, "VHOST_SET_OWNER");
		kf_end(c, ioctl(s->fd, VHOST_SET_OWNER));
	}
	if (kf_chance(c, 20)) {
		uint64_t base = (uintptr_t)kf_mem.log;

		kf_op(c, "VHOST_SET_LOG_BASE %#llx", (unsigned long long)base);
		kf_end(c, ioctl(s->fd, VHOST_SET_LOG_BASE, &base));
	}
	f = offered & (kf_chance(c, 80) ? ~(1ull << VHOST_F_LOG_ALL) : ~0ull) &
	    (kf_chance(c, 70) ? ~0ull : kf_rand(c));
	kf_op(c, "VHOST_SET_FEATURES %#llx", (unsigned long long)f);
	kf_end(c, ioctl(s->fd, VHOST_SET_FEATURES, &f));
	if (kf_chance(c, 95))
		set_mem_table(c, s->fd, true);
	for (i = 0; i < nvq; i++)
		if (kf_chance(c, 95))
			vring_setup(c, s, i);
	if (nbacking && kf_chance(c, 90))
		set_backend(c, s, backing[kf_below(c, nbacking)]);
	return s;
}

static void vb_close(struct kf_ctx *c, void *p)
{
	struct vb *s = p;
	int i;

	if (s->fd >= 0 && kf_chance(c, 30))
		set_backend(c, s, -1);
	kf_op(c, "close device %d", s->fd);
	kf_end(c, close(s->fd));
	kf_rings_free(&s->r);
	for (i = 0; i < 4; i++)
		close(s->efd[i]);
	free(s);
}

/* A vring index: mostly a configured one, then the limits. */
static uint32_t vq_index(struct kf_ctx *c)
{
	if (kf_chance(c, 85))
		return kf_below(c, KF_NVQ);
	return kf_chance(c, 50) ? kf_below(c, NVQS + 2) : kf_u32(c);
}

/* A pointer the kernel cannot write through: none of the fuzzer's memory. */
static void *bad_ptr(struct kf_ctx *c)
{
	static const uint64_t p[] = {
		0, 16, KF_RES_LO, KF_RES_HI - 8, 0xffff000000000000ull, ~0ull - 7,
	};

	return (void *)(uintptr_t)p[kf_below(c, ARRAY_SIZE(p))];
}

static void must_fail(struct kf_ctx *c, struct vb *s)
{
	struct vhost_vring_state st = { .index = kf_below(c, KF_NVQ) };
	struct vhost_vring_addr a = { .index = kf_below(c, KF_NVQ) };
	struct vhost_vring_file f = { .index = NVQS + kf_below(c, 100) };
	uint8_t status;

	switch (kf_below(c, 6)) {
	case 0:
		kf_op(c, "VHOST_VDPA_GET_STATUS on vhost-blk");
		kf_end_fail(c, ioctl(s->fd, VHOST_VDPA_GET_STATUS, &status));
		break;
	case 1:
		st.num = 3 + 2 * kf_below(c, 1000);
		kf_op(c, "VHOST_SET_VRING_NUM %u %u (not a power of 2)",
		      st.index, st.num);
		kf_end_fail(c, ioctl(s->fd, VHOST_SET_VRING_NUM, &st));
		break;
	case 2:
		st.index = NVQS + kf_below(c, 1u << 31);
		st.num = 64;
		kf_op(c, "VHOST_SET_VRING_NUM index %u", st.index);
		kf_end_fail(c, ioctl(s->fd, VHOST_SET_VRING_NUM, &st));
		break;
	case 3:
		a.desc_user_addr = (uintptr_t)s->r.vq[a.index].desc +
				   1 + kf_below(c, 15);
		a.avail_user_addr = (uintptr_t)s->r.vq[a.index].avail;
		a.used_user_addr = (uintptr_t)s->r.vq[a.index].used;
		kf_op(c, "VHOST_SET_VRING_ADDR %u misaligned desc %#llx",
		      a.index, (unsigned long long)a.desc_user_addr);
		kf_end_fail(c, ioctl(s->fd, VHOST_SET_VRING_ADDR, &a));
		break;
	case 4:
		f.fd = s->efd[1];
		kf_op(c, "VHOST_SET_VRING_CALL index %u", f.index);
		kf_end_fail(c, ioctl(s->fd, VHOST_SET_VRING_CALL, &f));
		break;
	default:
		/* An eventfd is no backing. */
		f.fd = s->efd[kf_below(c, 4)];
		if (f.fd < 0)
			break;
		kf_op(c, "VHOST_BLK_SET_BACKEND eventfd %d", f.fd);
		kf_end_fail(c, ioctl(s->fd, VHOST_BLK_SET_BACKEND, &f));
		break;
	}
}

static void vb_op(struct kf_ctx *c, void *p)
{
	struct vb *s = p;
	struct vhost_vring_state st = { .index = vq_index(c) };
	struct vhost_vring_addr a = { .index = st.index };
	struct vhost_vring_file f = { .index = st.index };
	static const unsigned long any[] = {
		VHOST_GET_FEATURES, VHOST_SET_FEATURES, VHOST_SET_MEM_TABLE,
		VHOST_SET_LOG_BASE, VHOST_SET_LOG_FD, VHOST_SET_VRING_NUM,
		VHOST_SET_VRING_ADDR, VHOST_SET_VRING_BASE,
		VHOST_GET_VRING_BASE, VHOST_SET_VRING_KICK,
		VHOST_SET_VRING_CALL, VHOST_SET_VRING_ERR,
		VHOST_BLK_SET_BACKEND, VHOST_BLK_GET_CONFIG,
	};
	struct vhost_blk_config cfg;
	uint64_t v, d, av, u;
	unsigned long cmd;
	int fd = s->fd, i;
	void *bad;

	switch (kf_below(c, 44)) {
	case 0 ... 13:
		kf_ring_op(c, &s->r);
		break;
	case 14:
		kf_op(c, "VHOST_SET_OWNER");
		kf_end(c, ioctl(fd, VHOST_SET_OWNER));
		break;
	case 15:
		kf_op(c, "VHOST_RESET_OWNER");
		kf_end(c, ioctl(fd, VHOST_RESET_OWNER));
		break;
	case 16:
		kf_op(c, "VHOST_GET_FEATURES");
		kf_end(c, ioctl(fd, VHOST_GET_FEATURES, &v));
		break;
	case 17:
	case 18:
		v = features(c);
		kf_op(c, "VHOST_SET_FEATURES %#llx", (unsigned long long)v);
		if (v & ~offered)
			kf_end_fail(c, ioctl(fd, VHOST_SET_FEATURES, &v));
		else
			kf_end(c, ioctl(fd, VHOST_SET_FEATURES, &v));
		break;
	case 19:
	case 20:
		set_mem_table(c, fd, kf_chance(c, 30));
		break;
	case 21:
		st.num = kf_chance(c, 70) ? 1u << kf_below(c, 11) : kf_u32(c);
		kf_op(c, "VHOST_SET_VRING_NUM %u %u", st.index, st.num);
		kf_end(c, ioctl(fd, VHOST_SET_VRING_NUM, &st));
		break;
	case 22:
	case 23:
		kf_ring_uaddr(c, &s->r, a.index, &d, &av, &u);
		a.desc_user_addr = d;
		a.avail_user_addr = av;
		a.used_user_addr = u;
		a.flags = kf_chance(c, 70) ? 0 : kf_chance(c, 70) ?
			  1u << VHOST_VRING_F_LOG : kf_u32(c);
		a.log_guest_addr = kf_chance(c, 80) ?
			kf_dev_addr_of(&s->r, s->r.vq[a.index % KF_NVQ].used) :
			kf_chance(c, 50) ? kf_below(c, 1ull << 40) :
			~0ull - kf_below(c, 1ull << 62);
		kf_op(c, "VHOST_SET_VRING_ADDR %u flags %#x %#llx %#llx %#llx log %#llx",
		      a.index, a.flags, (unsigned long long)d,
		      (unsigned long long)av, (unsigned long long)u,
		      (unsigned long long)a.log_guest_addr);
		kf_end(c, ioctl(fd, VHOST_SET_VRING_ADDR, &a));
		break;
	case 24:
		st.num = kf_chance(c, 80) ? kf_below(c, 0x10000) : kf_u32(c);
		kf_op(c, "VHOST_SET_VRING_BASE %u %u", st.index, st.num);
		kf_end(c, ioctl(fd, VHOST_SET_VRING_BASE, &st));
		break;
	case 25:
		kf_op(c, "VHOST_GET_VRING_BASE %u", st.index);
		kf_end(c, ioctl(fd, VHOST_GET_VRING_BASE, &st));
		break;
	case 26 ... 28:
		cmd = kf_chance(c, 34) ? VHOST_SET_VRING_KICK :
		      kf_chance(c, 50) ? VHOST_SET_VRING_CALL :
		      VHOST_SET_VRING_ERR;
		f.fd = vb_fd(c, s);
		kf_op(c, "VHOST_SET_VRING_%s %u fd %d",
		      cmd == VHOST_SET_VRING_KICK ? "KICK" :
		      cmd == VHOST_SET_VRING_CALL ? "CALL" : "ERR", f.index, f.fd);
		kf_end(c, ioctl(fd, cmd, &f));
		break;
	case 29:
		v = kf_chance(c, 60) ? (uintptr_t)kf_mem.log :
		    kf_chance(c, 50) ? (uintptr_t)kf_mem.log + kf_below(c, 64) :
		    (uintptr_t)bad_ptr(c);
		kf_op(c, "VHOST_SET_LOG_BASE %#llx", (unsigned long long)v);
		kf_end(c, ioctl(fd, VHOST_SET_LOG_BASE, &v));
		break;
	case 30:
		i = vb_fd(c, s);
		kf_op(c, "VHOST_SET_LOG_FD %d", i);
		kf_end(c, ioctl(fd, VHOST_SET_LOG_FD, &i));
		break;
	case 31:
	case 32:
		set_backend(c, s, kf_chance(c, 25) ? -1 :
			    kf_chance(c, 80) && nbacking ?
			    backing[kf_below(c, nbacking)] : vb_fd(c, s));
		break;
	case 33:
		kf_op(c, "VHOST_BLK_GET_CONFIG");
		kf_end(c, ioctl(fd, VHOST_BLK_GET_CONFIG, &cfg));
		break;
	case 34:
	case 35:
		must_fail(c, s);
		break;
	case 36:
		kf_op(c, "close and reopen device %d", fd);
		close(fd);
		s->fd = open(DEV, O_RDWR | O_CLOEXEC);
		kf_end(c, s->fd);
		if (kf_chance(c, 80)) {
			kf_op(c, "VHOST_SET_OWNER");
			kf_end(c, ioctl(s->fd, VHOST_SET_OWNER));
		}
		break;
	case 37:
		i = kf_below(c, KF_NVQ);
		kf_op(c, "replace kick eventfd %d of vring %d", s->r.vq[i].kick, i);
		close(s->r.vq[i].kick);
		s->r.vq[i].kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		kf_end(c, s->r.vq[i].kick);
		break;
	case 38:
		i = kf_below(c, 20000);
		kf_op(c, "sleep %d us", i);
		kf_usleep(i);
		kf_end(c, 0);
		break;
	case 39:
		cmd = any[kf_below(c, ARRAY_SIZE(any))];
		bad = bad_ptr(c);
		kf_op(c, "ioctl %#lx with pointer %p", cmd, bad);
		kf_end(c, ioctl(fd, cmd, bad));
		break;
	default:
		kf_ring_op(c, &s->r);
		break;
	}
}

#define FEATURES	((1ULL << VIRTIO_F_VERSION_1) |			\
			 (1ULL << VIRTIO_RING_F_EVENT_IDX) |		\
			 (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |	\
			 (1ULL << VIRTIO_BLK_F_FLUSH))

/* Fill queue 0 with 64 KiB writes and leave them in flight. */
static void start_writes(struct vblk *b, unsigned int n)
{
	static struct vblk_req r[64];
	uint8_t *buf = vblk_alloc(b, 65536, 4096);
	unsigned int i;

	for (i = 0; buf && i < n && i < 64; i++) {
		if (vblk_req_init(b, &r[i]))
			break;
		vblk_submit(b, 0, &r[i], VIRTIO_BLK_T_OUT, (i % 16) * 128,
			    buf, 65536, 4, i % 2);
	}
	vblk_notify(b, 0);
}

/*
 * The child: a well-formed device with writes in flight (vblk.c), or a
 * random session of its own; it dies by SIGKILL, maybe its own.
 */
static void vb_child(struct kf_ctx *c)
{
	struct vblk_opts o = {
		.nvq = 2, .num = 128, .arena_size = 4 << 20,
		.features = FEATURES, .backend_fd = backing[0],
	};
	unsigned int die = kf_below(c, kf_ops + 1);
	struct vblk b;
	void *s;

	if (kf_chance(c, 50)) {
		kf_op(c, "vblk_open and 64 writes in flight");
		kf_end(c, vblk_open(&b, &o));
		start_writes(&b, 64);
		for (;;)
			kf_usleep(100000);
	}
	s = vb_open(c);
	kf_child_session(c, die, vb_op, s);
	if (kf_chance(c, 50))
		_exit(0);
	for (;;)
		kf_usleep(100000);
}

/* A fresh device still serves a read. */
static int vb_check(char *why, size_t len)
{
	struct vblk_opts o = {
		.nvq = 1, .num = 64, .arena_size = 1 << 20,
		.features = FEATURES, .backend_fd = backing[0],
	};
	struct vblk b;
	int ret;

	ret = vblk_open(&b, &o);
	if (!ret)
		ret = vblk_do(&b, 0, VIRTIO_BLK_T_IN, 0,
			      vblk_alloc(&b, 4096, 4096), 4096);
	vblk_close(&b);
	if (ret)
		snprintf(why, len, "a fresh device: %s (%d)", vblk_err, ret);
	return ret ? -1 : 0;
}

const struct kf_target kf_vhost_blk = {
	.name		= "vhost-blk",
	.setup		= vb_setup,
	.teardown	= vb_teardown,
	.open		= vb_open,
	.op		= vb_op,
	.close		= vb_close,
	.child		= vb_child,
	.check		= vb_check,
};
