// SPDX-License-Identifier: GPL-2.0
/*
 * vdpa-blk through /dev/vhost-vdpa-N: the vhost and VHOST_VDPA_* ioctls,
 * IOTLB v2 messages (update, invalidate, batches; random ranges and
 * permissions, overlapping), status transitions and resets, suspend and
 * resume, rings in the fuzzer's arena.  Two devices: the threads share
 * one, a forked child takes the other (vhost-vdpa has one opener).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/virtio_config.h>

#include "fuzz.h"
#include "../vhost/vblk.h"

#ifndef VHOST_VDPA_RESUME
#define VHOST_VDPA_RESUME		_IO(VHOST_VIRTIO, 0x7E)
#endif
#ifndef VHOST_VDPA_GET_VRING_DESC_GROUP
#define VHOST_VDPA_GET_VRING_DESC_GROUP	_IOWR(VHOST_VIRTIO, 0x7F,	\
					      struct vhost_vring_state)
#endif
#ifndef VHOST_VDPA_GET_VRING_SIZE
#define VHOST_VDPA_GET_VRING_SIZE	_IOWR(VHOST_VIRTIO, 0x82,	\
					      struct vhost_vring_state)
#endif

#define CFG		"/sys/kernel/config/kvmarm-blk"
#define BUS		"/sys/bus/vdpa"
#define WORK		"/tmp/kvmarm-fuzz-vdpa"
#define DISK_SIZE	(16u << 20)
/* I/O virtual address of the arena in the well-formed IOTLB. */
#define IOVA_BASE	0x40000000ull
#define NUM_MAX		1024		/* vdpa-blk's largest vring */

static char dev[2][64];
static uint64_t offered, backend_offered;
static uint32_t nvqs, config_size;

struct vd {
	int fd;
	int efd[2];
	struct kf_rings r;
};

static int add_device(const char *name, char *path, size_t len)
{
	char p[256], cmd[128];
	struct dirent *e;
	DIR *d;
	int fd;

	snprintf(p, sizeof(p), WORK "/%s.img", name);
	fd = kf_make_file(p, DISK_SIZE, O_RDWR);
	if (fd < 0)
		return fd;
	close(fd);
	snprintf(cmd, sizeof(cmd), CFG "/%s", name);
	if (mkdir(cmd, 0755) && errno != EEXIST)
		return -errno;
	snprintf(cmd, sizeof(cmd), CFG "/%s/num_queues", name);
	if (kf_write_file(cmd, "4"))
		return -EIO;
	snprintf(cmd, sizeof(cmd), CFG "/%s/backing", name);
	if (kf_write_file(cmd, p))
		return -EIO;
	snprintf(cmd, sizeof(cmd),
		 "vdpa dev add name %s mgmtdev kvmarm-blk", name);
	if (system(cmd))
		return -EIO;
	snprintf(p, sizeof(p), BUS "/devices/%s/driver_override", name);
	if (kf_write_file(p, "vhost_vdpa") ||
	    kf_write_file(BUS "/drivers_probe", name))
		return -EIO;
	snprintf(p, sizeof(p), BUS "/devices/%s", name);
	d = opendir(p);
	if (!d)
		return -errno;
	path[0] = 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "vhost-vdpa-", 11))
			snprintf(path, len, "/dev/%.40s", e->d_name);
	closedir(d);
	return path[0] && !access(path, R_OK | W_OK) ? 0 : -ENOENT;
}

static void del_device(const char *name)
{
	char p[128];

	snprintf(p, sizeof(p), BUS "/devices/%s", name);
	if (!access(p, F_OK)) {
		snprintf(p, sizeof(p), "vdpa dev del %s", name);
		if (system(p))
			fprintf(stderr, "%s failed\n", p);
	}
	snprintf(p, sizeof(p), CFG "/%s", name);
	rmdir(p);
	snprintf(p, sizeof(p), WORK "/%s.img", name);
	unlink(p);
}

static void vd_teardown(void)
{
	del_device("kf0");
	del_device("kf1");
	kf_write_file(BUS "/drivers_autoprobe", "1");
	rmdir(WORK);
}

static int vd_setup(char *why, size_t len)
{
	int fd, ret;

	if (access(BUS, F_OK)) {
		snprintf(why, len, "no vDPA bus (CONFIG_VDPA)");
		return 1;
	}
	if (access(CFG, F_OK)) {
		snprintf(why, len, "vdpa_blk is not loaded");
		return 1;
	}
	if (access(BUS "/drivers/vhost_vdpa", F_OK)) {
		snprintf(why, len, "vhost_vdpa is not loaded");
		return 1;
	}
	if (system("command -v vdpa >/dev/null")) {
		snprintf(why, len, "iproute2's vdpa is not installed");
		return 1;
	}
	mkdir(WORK, 0700);
	kf_write_file(BUS "/drivers_autoprobe", "0");
	ret = add_device("kf0", dev[0], sizeof(dev[0]));
	if (!ret)
		ret = add_device("kf1", dev[1], sizeof(dev[1]));
	if (ret) {
		snprintf(why, len, "cannot make the vdpa-blk devices: %s",
			 strerror(-ret));
		vd_teardown();
		return -1;
	}
	fd = open(dev[0], O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, VHOST_GET_FEATURES, &offered) ||
	    ioctl(fd, VHOST_GET_BACKEND_FEATURES, &backend_offered) ||
	    ioctl(fd, VHOST_VDPA_GET_VQS_COUNT, &nvqs) ||
	    ioctl(fd, VHOST_VDPA_GET_CONFIG_SIZE, &config_size)) {
		snprintf(why, len, "%s: %s", dev[0], strerror(errno));
		if (fd >= 0)
			close(fd);
		vd_teardown();
		return -1;
	}
	close(fd);
	return 0;
}

static int iotlb(struct kf_ctx *c, int fd, uint8_t type, uint64_t iova,
		 uint64_t size, uint64_t uaddr, uint8_t perm, uint32_t asid,
		 size_t len)
{
	struct {
		struct vhost_msg_v2 m;
		uint8_t more[64];
	} b = {};

	b.m.type = VHOST_IOTLB_MSG_V2;
	b.m.asid = asid;
	b.m.iotlb.iova = iova;
	b.m.iotlb.size = size;
	b.m.iotlb.uaddr = uaddr;
	b.m.iotlb.perm = perm;
	b.m.iotlb.type = type;
	kf_op(c, "IOTLB type %u asid %u iova %#llx size %#llx uaddr %#llx perm %u len %zu",
	      type, asid, (unsigned long long)iova, (unsigned long long)size,
	      (unsigned long long)uaddr, perm, len);
	return write(fd, &b, len);
}

static int set_status(struct kf_ctx *c, int fd, uint8_t st)
{
	kf_op(c, "VHOST_VDPA_SET_STATUS %#x", st);
	return kf_end(c, ioctl(fd, VHOST_VDPA_SET_STATUS, &st));
}

static void vring_setup(struct kf_ctx *c, struct vd *s, unsigned int i)
{
	struct kf_vring *vq = &s->r.vq[i];
	struct vhost_vring_state st = { .index = i, .num = vq->num };
	struct vhost_vring_addr a = { .index = i };
	struct vhost_vring_file f = { .index = i, .fd = vq->kick };

	kf_op(c, "VHOST_SET_VRING_NUM %u %u", i, st.num);
	kf_end(c, ioctl(s->fd, VHOST_SET_VRING_NUM, &st));
	st.num = 0;
	kf_op(c, "VHOST_SET_VRING_BASE %u 0", i);
	kf_end(c, ioctl(s->fd, VHOST_SET_VRING_BASE, &st));
	a.desc_user_addr = kf_dev_addr_of(&s->r, vq->desc);
	a.avail_user_addr = kf_dev_addr_of(&s->r, vq->avail);
	a.used_user_addr = kf_dev_addr_of(&s->r, vq->used);
	kf_op(c, "VHOST_SET_VRING_ADDR %u", i);
	kf_end(c, ioctl(s->fd, VHOST_SET_VRING_ADDR, &a));
	kf_op(c, "VHOST_SET_VRING_KICK %u %d", i, f.fd);
	kf_end(c, ioctl(s->fd, VHOST_SET_VRING_KICK, &f));
	f.fd = vq->call;
	kf_op(c, "VHOST_SET_VRING_CALL %u %d", i, f.fd);
	kf_end(c, ioctl(s->fd, VHOST_SET_VRING_CALL, &f));
	st.num = 1;
	kf_op(c, "VHOST_VDPA_SET_VRING_ENABLE %u 1", i);
	kf_end(c, ioctl(s->fd, VHOST_VDPA_SET_VRING_ENABLE, &st));
}

/* The handshake of a VMM, each step skipped now and then. */
static struct vd *session(struct kf_ctx *c, const char *path)
{
	struct vd *s = calloc(1, sizeof(*s));
	unsigned int i, nvq = 1 + kf_below(c, KF_NVQ);
	uint64_t f;
	uint8_t st = 0;
	bool batch;

	if (!s)
		return NULL;
	s->efd[0] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->efd[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	kf_rings_init(&s->r, nvq, 16 << kf_below(c, 7), IOVA_BASE);
	s->r.capacity = DISK_SIZE / 512;
	kf_op(c, "open %s", path);
	s->fd = kf_end(c, open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC));
	if (s->fd < 0)
		return s;
	kf_op(c, "VHOST_SET_OWNER");
	kf_end(c, ioctl(s->fd, VHOST_SET_OWNER));
	f = backend_offered & (kf_chance(c, 80) ? ~0ull : kf_rand(c));
	kf_op(c, "VHOST_SET_BACKEND_FEATURES %#llx", (unsigned long long)f);
	kf_end(c, ioctl(s->fd, VHOST_SET_BACKEND_FEATURES, &f));
	st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	set_status(c, s->fd, st);
	f = offered & (kf_chance(c, 80) ? ~0ull : kf_rand(c));
	kf_op(c, "VHOST_SET_FEATURES %#llx", (unsigned long long)f);
	kf_end(c, ioctl(s->fd, VHOST_SET_FEATURES, &f));
	st |= VIRTIO_CONFIG_S_FEATURES_OK;
	set_status(c, s->fd, st);
	/* The arena, in one IOTLB batch as QEMU sends it, or without. */
	batch = kf_chance(c, 50);
	if (batch)
		kf_end(c, iotlb(c, s->fd, VHOST_IOTLB_BATCH_BEGIN, 0, 0, 0, 0,
				0, sizeof(struct vhost_msg_v2)));
	if (kf_chance(c, 95))
		kf_end(c, iotlb(c, s->fd, VHOST_IOTLB_UPDATE, IOVA_BASE,
				kf_mem.arena_size, (uintptr_t)kf_mem.arena,
				VHOST_ACCESS_RW, 0, sizeof(struct vhost_msg_v2)));
	if (batch)
		kf_end(c, iotlb(c, s->fd, VHOST_IOTLB_BATCH_END, 0, 0, 0, 0,
				0, sizeof(struct vhost_msg_v2)));
	for (i = 0; i < nvq; i++)
		if (kf_chance(c, 95))
			vring_setup(c, s, i);
	if (kf_chance(c, 90))
		set_status(c, s->fd, st | VIRTIO_CONFIG_S_DRIVER_OK);
	return s;
}

static void *vd_open(struct kf_ctx *c)
{
	return session(c, dev[0]);
}

static void vd_close(struct kf_ctx *c, void *p)
{
	struct vd *s = p;

	if (kf_chance(c, 50))
		set_status(c, s->fd, 0);
	kf_op(c, "close device %d", s->fd);
	kf_end(c, close(s->fd));
	kf_rings_free(&s->r);
	close(s->efd[0]);
	close(s->efd[1]);
	free(s);
}

static uint32_t vq_index(struct kf_ctx *c)
{
	if (kf_chance(c, 85))
		return kf_below(c, nvqs ? nvqs : 1);
	return kf_chance(c, 50) ? nvqs + kf_below(c, 4) : kf_u32(c);
}

static int vd_fd(struct kf_ctx *c, struct vd *s)
{
	int fds[2 + 2 * KF_NVQ + 1], n = 0, i;

	fds[n++] = s->efd[0];
	fds[n++] = s->efd[1];
	for (i = 0; i < KF_NVQ; i++) {
		fds[n++] = s->r.vq[i].kick;
		fds[n++] = s->r.vq[i].call;
	}
	fds[n++] = s->fd;
	return kf_fd(c, fds, n);
}

static uint8_t status_byte(struct kf_ctx *c)
{
	static const uint8_t good[] = {
		0, VIRTIO_CONFIG_S_ACKNOWLEDGE,
		VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER,
		VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		VIRTIO_CONFIG_S_FEATURES_OK,
		VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK,
		VIRTIO_CONFIG_S_FAILED, VIRTIO_CONFIG_S_NEEDS_RESET,
	};

	return kf_chance(c, 70) ? good[kf_below(c, ARRAY_SIZE(good))] : kf_rand(c);
}

static void op_iotlb(struct kf_ctx *c, struct vd *s)
{
	static const uint8_t types[] = {
		VHOST_IOTLB_UPDATE, VHOST_IOTLB_UPDATE, VHOST_IOTLB_UPDATE,
		VHOST_IOTLB_INVALIDATE, VHOST_IOTLB_INVALIDATE,
		VHOST_IOTLB_BATCH_BEGIN, VHOST_IOTLB_BATCH_END,
		VHOST_IOTLB_MISS, VHOST_IOTLB_ACCESS_FAIL, 0, 200,
	};
	static const uint8_t perms[] = {
		VHOST_ACCESS_RO, VHOST_ACCESS_WO, VHOST_ACCESS_RW,
		VHOST_ACCESS_RW, 0, 0xff,
	};
	uint8_t type = types[kf_below(c, ARRAY_SIZE(types))];
	uint64_t iova, size;
	size_t len = sizeof(struct vhost_msg_v2);

	iova = kf_chance(c, 60) ? IOVA_BASE + (kf_below(c, 2 * kf_mem.arena_size) & ~4095ull) :
	       kf_chance(c, 50) ? IOVA_BASE + kf_below(c, kf_mem.arena_size) :
	       kf_u64(c);
	size = kf_chance(c, 50) ? 4096 * (1 + kf_below(c, 512)) : kf_len(c);
	if (kf_chance(c, 5))
		len = kf_chance(c, 50) ? kf_below(c, len) : len + 1 + kf_below(c, 64);
	kf_end(c, iotlb(c, s->fd, type, iova, size, kf_uaddr(c, &kf_mem),
			perms[kf_below(c, ARRAY_SIZE(perms))],
			kf_chance(c, 95) ? 0 : kf_u32(c), len));
}

static void must_fail(struct kf_ctx *c, struct vd *s)
{
	struct vhost_vring_state st = { .index = nvqs + kf_below(c, 1000) };
	struct {
		struct vhost_vdpa_config h;
		uint8_t buf[256];
	} cfg = {};
	struct vhost_vring_file f = { .index = kf_below(c, nvqs) };

	switch (kf_below(c, 5)) {
	case 0:
		kf_op(c, "VHOST_VDPA_SET_VRING_ENABLE index %u", st.index);
		kf_end_fail(c, ioctl(s->fd, VHOST_VDPA_SET_VRING_ENABLE, &st));
		break;
	case 1:
		st.index = kf_below(c, nvqs);
		st.num = NUM_MAX << (1 + kf_below(c, 5));
		kf_op(c, "VHOST_SET_VRING_NUM %u %u (over the maximum)",
		      st.index, st.num);
		kf_end_fail(c, ioctl(s->fd, VHOST_SET_VRING_NUM, &st));
		break;
	case 2:
		cfg.h.off = config_size + 1 + kf_below(c, 1000);
		cfg.h.len = 1;
		kf_op(c, "VHOST_VDPA_GET_CONFIG off %u (past the config)",
		      cfg.h.off);
		kf_end_fail(c, ioctl(s->fd, VHOST_VDPA_GET_CONFIG, &cfg));
		break;
	case 3:
		f.fd = kf_chance(c, 50) ? 1000 : -2;
		kf_op(c, "VHOST_SET_VRING_KICK %u bad fd %d", f.index, f.fd);
		kf_end_fail(c, ioctl(s->fd, VHOST_SET_VRING_KICK, &f));
		break;
	default:
		kf_end_fail(c, iotlb(c, s->fd, VHOST_IOTLB_UPDATE,
				     IOVA_BASE + kf_below(c, 1 << 20), 0,
				     (uintptr_t)kf_mem.arena, VHOST_ACCESS_RW,
				     0, sizeof(struct vhost_msg_v2)));
		break;
	}
}

static const unsigned long vring_gets[] = {
	VHOST_GET_VRING_BASE, VHOST_VDPA_GET_VRING_GROUP,
	VHOST_VDPA_GET_VRING_DESC_GROUP, VHOST_VDPA_GET_VRING_SIZE,
};

static const unsigned long gets[] = {
	VHOST_VDPA_GET_DEVICE_ID, VHOST_VDPA_GET_VRING_NUM,
	VHOST_VDPA_GET_CONFIG_SIZE, VHOST_VDPA_GET_VQS_COUNT,
	VHOST_VDPA_GET_GROUP_NUM, VHOST_VDPA_GET_AS_NUM,
	VHOST_VDPA_GET_IOVA_RANGE, VHOST_GET_FEATURES,
	VHOST_GET_BACKEND_FEATURES,
};

static void vd_op(struct kf_ctx *c, void *p)
{
	struct vd *s = p;
	struct vhost_vring_state st = { .index = vq_index(c) };
	struct vhost_vring_addr a = { .index = st.index };
	struct vhost_vring_file f = { .index = st.index };
	struct {
		struct vhost_vdpa_config h;
		uint8_t buf[256];
	} cfg;
	struct vhost_vdpa_iova_range range;
	unsigned long cmd;
	uint64_t v;
	uint32_t u;
	uint8_t b;
	void *m;
	int fd = s->fd, i;

	switch (kf_below(c, 48)) {
	case 0 ... 13:
		kf_ring_op(c, &s->r);
		break;
	case 14 ... 19:
		op_iotlb(c, s);
		break;
	case 20:
	case 21:
		set_status(c, fd, status_byte(c));
		break;
	case 22:
		kf_op(c, "VHOST_VDPA_GET_STATUS");
		kf_end(c, ioctl(fd, VHOST_VDPA_GET_STATUS, &b));
		break;
	case 23:
		v = kf_chance(c, 70) ? offered & kf_rand(c) : kf_u64(c);
		kf_op(c, "VHOST_SET_FEATURES %#llx", (unsigned long long)v);
		kf_end(c, ioctl(fd, VHOST_SET_FEATURES, &v));
		break;
	case 24:
		v = kf_chance(c, 70) ? backend_offered & kf_rand(c) : kf_u64(c);
		kf_op(c, "VHOST_SET_BACKEND_FEATURES %#llx",
		      (unsigned long long)v);
		kf_end(c, ioctl(fd, VHOST_SET_BACKEND_FEATURES, &v));
		break;
	case 25:
	case 26:
		cmd = kf_chance(c, 50) ? VHOST_VDPA_GET_CONFIG :
		      VHOST_VDPA_SET_CONFIG;
		cfg.h.off = kf_chance(c, 70) ? kf_below(c, config_size + 2) :
			    kf_u32(c);
		cfg.h.len = kf_chance(c, 70) ? kf_below(c, config_size + 2) :
			    kf_u32(c);
		kf_fill(c, cfg.buf, sizeof(cfg.buf));
		kf_op(c, "VHOST_VDPA_%s_CONFIG off %u len %u",
		      cmd == VHOST_VDPA_GET_CONFIG ? "GET" : "SET",
		      cfg.h.off, cfg.h.len);
		kf_end(c, ioctl(fd, cmd, &cfg));
		break;
	case 27:
		st.num = kf_chance(c, 70) ? 1u << kf_below(c, 12) : kf_u32(c);
		kf_op(c, "VHOST_SET_VRING_NUM %u %u", st.index, st.num);
		kf_end(c, ioctl(fd, VHOST_SET_VRING_NUM, &st));
		break;
	case 28:
		i = st.index % KF_NVQ;
		a.desc_user_addr = kf_dev_addr_of(&s->r, s->r.vq[i].desc);
		a.avail_user_addr = kf_dev_addr_of(&s->r, s->r.vq[i].avail);
		a.used_user_addr = kf_dev_addr_of(&s->r, s->r.vq[i].used);
		if (kf_chance(c, 30))
			a.used_user_addr = kf_dev_addr(c, &s->r);
		if (kf_chance(c, 20))
			a.desc_user_addr = kf_u64(c);
		a.flags = kf_chance(c, 90) ? 0 : kf_u32(c);
		kf_op(c, "VHOST_SET_VRING_ADDR %u desc %#llx used %#llx",
		      a.index, (unsigned long long)a.desc_user_addr,
		      (unsigned long long)a.used_user_addr);
		kf_end(c, ioctl(fd, VHOST_SET_VRING_ADDR, &a));
		break;
	case 29:
		st.num = kf_chance(c, 80) ? kf_below(c, 0x10000) : kf_u32(c);
		kf_op(c, "VHOST_SET_VRING_BASE %u %u", st.index, st.num);
		kf_end(c, ioctl(fd, VHOST_SET_VRING_BASE, &st));
		break;
	case 30:
		cmd = vring_gets[kf_below(c, ARRAY_SIZE(vring_gets))];
		kf_op(c, "vring get %#lx %u", cmd, st.index);
		kf_end(c, ioctl(fd, cmd, &st));
		break;
	case 31:
	case 32:
		cmd = kf_chance(c, 50) ? VHOST_SET_VRING_KICK :
		      VHOST_SET_VRING_CALL;
		f.fd = vd_fd(c, s);
		kf_op(c, "VHOST_SET_VRING_%s %u fd %d",
		      cmd == VHOST_SET_VRING_KICK ? "KICK" : "CALL", f.index,
		      f.fd);
		kf_end(c, ioctl(fd, cmd, &f));
		break;
	case 33:
		st.num = kf_chance(c, 80) ? kf_below(c, 2) : kf_u32(c);
		kf_op(c, "VHOST_VDPA_SET_VRING_ENABLE %u %u", st.index, st.num);
		kf_end(c, ioctl(fd, VHOST_VDPA_SET_VRING_ENABLE, &st));
		break;
	case 34:
		cmd = kf_chance(c, 50) ? VHOST_VDPA_SUSPEND : VHOST_VDPA_RESUME;
		kf_op(c, "VHOST_VDPA_%s",
		      cmd == VHOST_VDPA_SUSPEND ? "SUSPEND" : "RESUME");
		kf_end(c, ioctl(fd, cmd));
		break;
	case 35:
		cmd = gets[kf_below(c, ARRAY_SIZE(gets))];
		kf_op(c, "vdpa get %#lx", cmd);
		kf_end(c, ioctl(fd, cmd, &range));
		break;
	case 36:
		st.num = kf_chance(c, 80) ? 0 : kf_u32(c);
		st.index = kf_chance(c, 80) ? 0 : kf_u32(c);
		kf_op(c, "VHOST_VDPA_SET_GROUP_ASID group %u asid %u",
		      st.index, st.num);
		kf_end(c, ioctl(fd, VHOST_VDPA_SET_GROUP_ASID, &st));
		break;
	case 37:
		i = vd_fd(c, s);
		kf_op(c, "VHOST_VDPA_SET_CONFIG_CALL %d", i);
		kf_end(c, ioctl(fd, VHOST_VDPA_SET_CONFIG_CALL, &i));
		break;
	case 38:
		cmd = kf_chance(c, 50) ? VHOST_SET_OWNER : VHOST_RESET_OWNER;
		kf_op(c, "VHOST_%s_OWNER", cmd == VHOST_SET_OWNER ? "SET" : "RESET");
		kf_end(c, ioctl(fd, cmd));
		break;
	case 39:
	case 40:
		must_fail(c, s);
		break;
	case 41:
		kf_op(c, "read an IOTLB message");
		kf_end(c, read(fd, &cfg, sizeof(struct vhost_msg_v2)));
		break;
	case 42:
		u = kf_below(c, nvqs + 2);
		kf_op(c, "mmap doorbell of vring %u", u);
		m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 (off_t)u * 4096);
		kf_end(c, m == MAP_FAILED ? -1 : 0);
		if (m != MAP_FAILED)
			munmap(m, 4096);
		break;
	case 43:
		kf_op(c, "close and reopen device %d", fd);
		close(fd);
		s->fd = open(dev[0], O_RDWR | O_NONBLOCK | O_CLOEXEC);
		kf_end(c, s->fd);
		if (kf_chance(c, 80)) {
			kf_op(c, "VHOST_SET_OWNER");
			kf_end(c, ioctl(s->fd, VHOST_SET_OWNER));
		}
		break;
	case 44:
		i = kf_below(c, 20000);
		kf_op(c, "sleep %d us", i);
		kf_usleep(i);
		kf_end(c, 0);
		break;
	default:
		kf_ring_op(c, &s->r);
		break;
	}
}

#define FEATURES	((1ULL << VIRTIO_F_VERSION_1) |			\
			 (1ULL << VIRTIO_F_ACCESS_PLATFORM) |		\
			 (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |	\
			 (1ULL << VIRTIO_BLK_F_FLUSH))

/*
 * The child, on the second device: a well-formed driver with writes in
 * flight (vblk.c), or a random session; it dies by SIGKILL.
 */
static void vd_child(struct kf_ctx *c)
{
	struct vblk_opts o = {
		.nvq = 2, .num = 256, .arena_size = 4 << 20,
		.features = FEATURES, .vdpa = dev[1],
	};
	static struct vblk_req r[64];
	unsigned int i, die = kf_below(c, kf_ops + 1);
	struct vblk b;
	uint8_t *buf;
	void *s;

	if (kf_chance(c, 50)) {
		kf_op(c, "vblk_open %s and 64 writes in flight", dev[1]);
		kf_end(c, vblk_open(&b, &o));
		buf = vblk_alloc(&b, 65536, 4096);
		for (i = 0; buf && i < 64; i++) {
			if (vblk_req_init(&b, &r[i]))
				break;
			vblk_submit(&b, i % 2, &r[i], VIRTIO_BLK_T_OUT,
				    (i % 16) * 128, buf, 65536, 4, i % 3 == 0);
		}
		vblk_notify(&b, 0);
		vblk_notify(&b, 1);
		for (;;)
			kf_usleep(100000);
	}
	s = session(c, dev[1]);
	kf_child_session(c, die, vd_op, s);
	for (;;)
		kf_usleep(100000);
}

/* Both devices still serve a read. */
static int vd_check(char *why, size_t len)
{
	struct vblk_opts o = {
		.nvq = 1, .num = 64, .arena_size = 1 << 20,
		.features = FEATURES,
	};
	struct vblk b;
	int ret = 0, i;

	for (i = 0; i < 2 && !ret; i++) {
		o.vdpa = dev[i];
		ret = vblk_open(&b, &o);
		if (!ret)
			ret = vblk_do(&b, 0, VIRTIO_BLK_T_IN, 0,
				      vblk_alloc(&b, 4096, 4096), 4096);
		vblk_close(&b);
		if (ret)
			snprintf(why, len, "%s: %s (%d)", dev[i], vblk_err, ret);
	}
	return ret ? -1 : 0;
}

const struct kf_target kf_vdpa = {
	.name		= "vdpa",
	.setup		= vd_setup,
	.teardown	= vd_teardown,
	.open		= vd_open,
	.op		= vd_op,
	.close		= vd_close,
	.child		= vd_child,
	.check		= vd_check,
};
