// SPDX-License-Identifier: GPL-2.0
/*
 * vhost_ring_test - the vhost ring engine, through /dev/vhost-blk and a
 * userspace virtio-blk driver.
 *
 * Hostile rings, the vring, owner and memory-table ioctls, the dirty log,
 * kicks, a turn's budget, the bounds of requests in flight and of the
 * workers, GET_VRING_BASE, memory accounting, and teardown with I/O in
 * flight.  The block device's semantics are vhost_blk_test's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/loop.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "vblk.h"
#include "vfio_util.h"
#include "vhost_blk_fixture.h"
#include "vhost_blk_util.h"

static uint64_t err_count(struct vblk *b, unsigned int q)
{
	uint64_t cnt = 0;
	struct pollfd p = { .fd = b->vq[q].err, .events = POLLIN };

	if (poll(&p, 1, 2000) == 1 && read(p.fd, &cnt, sizeof(cnt)) < 0)
		return 0;
	return cnt;
}

/*
 * Attaching starts the vrings that have their addresses and kick eventfd;
 * the others can be set up afterwards (as the uAPI header says) and start
 * then, while the running ones refuse changes.
 */
TEST(vring_set_up_after_attach)
{
	struct vblk_opts o = { .nvq = 1, .num = 16, .features = FEATURES };
	struct vhost_vring_state s = { .index = 0, .num = 16 };
	uint8_t *buf;
	struct vblk b;
	int fd;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	fd = make_backing(BACKING, 1 << 20, O_RDWR);
	ASSERT_LE(0, fd);
	o.backend_fd = fd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	buf = vblk_alloc(&b, 4096, 4096);
	ASSERT_NE(NULL, buf);
	EXPECT_EQ(-1, ioctl(b.fd, VHOST_SET_VRING_NUM, &s));
	EXPECT_EQ(EBUSY, errno);
	ASSERT_EQ(0, vblk_add_vq(&b, 1, 16)) TH_LOG("%s", vblk_err);
	ASSERT_EQ(0, vblk_add_vq(&b, 5, 32)) TH_LOG("%s", vblk_err);
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 1, VIRTIO_BLK_T_IN, 0, buf,
					   4096));
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 5, VIRTIO_BLK_T_IN, 0, buf,
					   4096));
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_IN, 0, buf,
					   4096));
	s.index = 5;
	EXPECT_EQ(-1, ioctl(b.fd, VHOST_SET_VRING_NUM, &s));
	EXPECT_EQ(EBUSY, errno);
	vblk_close(&b);
	close(fd);
	unlink(BACKING);
}

/* Hostile rings: queue 0 is attacked, queue 1 must keep serving. */
FIXTURE(hostile) {
	struct vblk b;
	int backing;
	uint8_t *buf;
	struct vblk_req r;
};

FIXTURE_SETUP(hostile)
{
	struct vblk_opts o = {
		.nvq = 2, .num = 8, .features = FEATURES,
	};

	self->b.fd = -1;
	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	self->backing = make_backing(BACKING, 1 << 20, O_RDWR);
	ASSERT_LE(0, self->backing);
	o.backend_fd = self->backing;
	ASSERT_EQ(0, vblk_open(&self->b, &o)) TH_LOG("%s", vblk_err);
	self->buf = vblk_alloc(&self->b, 4096, 4096);
	ASSERT_EQ(0, vblk_req_init(&self->b, &self->r));
}

FIXTURE_TEARDOWN(hostile)
{
	vblk_close(&self->b);
	if (self->backing >= 0)
		close(self->backing);
	unlink(BACKING);
}

/* Publish descriptor @head on queue 0 as is and kick in any case. */
static void publish(struct vblk *b, uint16_t head, uint16_t idx_step)
{
	struct vblk_vq *vq = &b->vq[0];

	vq->avail->ring[vq->avail_idx % vq->num] = head;
	vq->avail_idx += idx_step;
	vblk_notify(b, 0);
}

static void good_queue_serves(struct __test_metadata *_metadata,
			      FIXTURE_DATA(hostile) * self)
{
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 1, VIRTIO_BLK_T_IN, 0,
					   self->buf, 4096));
	EXPECT_EQ(-EAGAIN, vblk_get_used(&self->b, 0, NULL, NULL));
}

TEST_F(hostile, descriptor_loop)
{
	struct vring_desc *d = self->b.vq[0].desc;

	d[0] = (struct vring_desc){ (uintptr_t)self->r.hdr, 16,
				    VRING_DESC_F_NEXT, 1 };
	d[1] = (struct vring_desc){ (uintptr_t)self->buf, 512,
				    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 0 };
	publish(&self->b, 0, 1);
	EXPECT_LT(0, err_count(&self->b, 0));
	good_queue_serves(_metadata, self);
}

TEST_F(hostile, indirect_loop_and_nesting)
{
	struct vring_desc *d = self->b.vq[0].desc;
	struct vring_desc *t = vblk_alloc(&self->b, 4 * sizeof(*t), 16);

	t[0] = (struct vring_desc){ (uintptr_t)self->r.hdr, 16,
				    VRING_DESC_F_NEXT, 1 };
	t[1] = (struct vring_desc){ (uintptr_t)self->buf, 512,
				    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 0 };
	d[0] = (struct vring_desc){ (uintptr_t)t, 2 * sizeof(*t),
				    VRING_DESC_F_INDIRECT, 0 };
	publish(&self->b, 0, 1);
	EXPECT_LT(0, err_count(&self->b, 0));
	good_queue_serves(_metadata, self);
}

TEST_F(hostile, address_outside_memory)
{
	struct vring_desc *d = self->b.vq[0].desc;

	d[0] = (struct vring_desc){ (uintptr_t)self->r.hdr, 16,
				    VRING_DESC_F_NEXT, 1 };
	d[1] = (struct vring_desc){ 0x1000, 512,
				    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2 };
	d[2] = (struct vring_desc){ (uintptr_t)self->r.status, 1,
				    VRING_DESC_F_WRITE, 0 };
	publish(&self->b, 0, 1);
	EXPECT_LT(0, err_count(&self->b, 0));
	good_queue_serves(_metadata, self);
}

TEST_F(hostile, bad_head_and_index)
{
	publish(&self->b, 200, 1);
	EXPECT_LT(0, err_count(&self->b, 0));
	good_queue_serves(_metadata, self);
}

TEST_F(hostile, avail_index_jump)
{
	publish(&self->b, 0, 100);
	EXPECT_LT(0, err_count(&self->b, 0));
	good_queue_serves(_metadata, self);
}

/*
 * Guest memory that ends at 2^64 and starts again at 0 (a page each,
 * besides the arena): a buffer or an indirect table crossing 2^64 is not
 * one range of guest memory, and is refused like one outside it.
 */
static void map_around_2_64(struct __test_metadata *_metadata,
			    FIXTURE_DATA(hostile) * self, uint8_t **top,
			    uint8_t **low)
{
	struct {
		struct vhost_memory m;
		struct vhost_memory_region r[3];
	} mem = {};

	*top = vblk_alloc(&self->b, 4096, 4096);
	*low = vblk_alloc(&self->b, 4096, 4096);
	ASSERT_TRUE(*top && *low);
	mem.m.nregions = 3;
	mem.r[0].guest_phys_addr = self->b.gpa_base;
	mem.r[0].memory_size = self->b.arena_size;
	mem.r[0].userspace_addr = (uintptr_t)self->b.arena;
	mem.r[1].guest_phys_addr = -4096ull;
	mem.r[1].memory_size = 4096;
	mem.r[1].userspace_addr = (uintptr_t)*top;
	mem.r[2].guest_phys_addr = 0;
	mem.r[2].memory_size = 4096;
	mem.r[2].userspace_addr = (uintptr_t)*low;
	ASSERT_EQ(0, ioctl(self->b.fd, VHOST_SET_MEM_TABLE, &mem));
}

TEST_F(hostile, buffer_wrapping_past_2_64)
{
	struct vring_desc *d = self->b.vq[0].desc;
	uint8_t *top, *low;

	map_around_2_64(_metadata, self, &top, &low);

	/* A read into 2 KiB below 2^64 and 2 KiB from 0. */
	self->r.hdr->type = VIRTIO_BLK_T_IN;
	self->r.hdr->sector = 0;
	*self->r.status = 0xff;
	d[0] = (struct vring_desc){ (uintptr_t)self->r.hdr, 16,
				    VRING_DESC_F_NEXT, 1 };
	d[1] = (struct vring_desc){ -2048ull, 4096,
				    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2 };
	d[2] = (struct vring_desc){ (uintptr_t)self->r.status, 1,
				    VRING_DESC_F_WRITE, 0 };
	publish(&self->b, 0, 1);
	EXPECT_LT(0, err_count(&self->b, 0));
	EXPECT_EQ(0xff, *self->r.status);
	good_queue_serves(_metadata, self);
}

/* The same for an indirect table: its first entry below 2^64, its second at 0. */
TEST_F(hostile, indirect_table_wrapping_past_2_64)
{
	struct vring_desc *d = self->b.vq[0].desc;
	uint8_t *top, *low;
	struct vring_desc *t0, *t1;

	map_around_2_64(_metadata, self, &top, &low);

	self->r.hdr->type = VIRTIO_BLK_T_GET_ID;
	self->r.hdr->sector = 0;
	*self->r.status = 0xff;
	t0 = (struct vring_desc *)(top + 4096 - sizeof(*t0));
	t1 = (struct vring_desc *)low;
	*t0 = (struct vring_desc){ (uintptr_t)self->r.hdr, 16,
				   VRING_DESC_F_NEXT, 1 };
	*t1 = (struct vring_desc){ (uintptr_t)self->r.status, 1,
				   VRING_DESC_F_WRITE, 0 };
	d[0] = (struct vring_desc){ -(uint64_t)sizeof(*t0), 2 * sizeof(*t0),
				    VRING_DESC_F_INDIRECT, 0 };
	publish(&self->b, 0, 1);
	EXPECT_LT(0, err_count(&self->b, 0));
	EXPECT_EQ(0xff, *self->r.status);
	good_queue_serves(_metadata, self);
}

/* Zero-length descriptors, and a header split over two buffers. */
TEST_F(hostile, zero_length_descriptors_are_fine)
{
	struct vring_desc *d = self->b.vq[0].desc;
	uintptr_t hdr = (uintptr_t)self->r.hdr;
	uint32_t len;
	int i;

	self->r.hdr->type = VIRTIO_BLK_T_IN;
	self->r.hdr->sector = 0;
	*self->r.status = 0xff;
	d[0] = (struct vring_desc){ hdr, 0, VRING_DESC_F_NEXT, 1 };
	d[1] = (struct vring_desc){ hdr, 8, VRING_DESC_F_NEXT, 2 };
	d[2] = (struct vring_desc){ hdr + 8, 8, VRING_DESC_F_NEXT, 3 };
	d[3] = (struct vring_desc){ (uintptr_t)self->buf, 0,
				    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 4 };
	d[4] = (struct vring_desc){ (uintptr_t)self->buf, 512,
				    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 5 };
	d[5] = (struct vring_desc){ (uintptr_t)self->r.status, 1,
				    VRING_DESC_F_WRITE, 0 };
	self->b.vq[0].chain_len[0] = 6;
	self->b.vq[0].num_free -= 6;
	self->b.vq[0].free_head = 6;
	publish(&self->b, 0, 1);
	for (i = 0; i < 50 && vblk_get_used(&self->b, 0, NULL, &len); i++)
		vblk_wait(&self->b, 0, 100);
	ASSERT_GT(50, i) TH_LOG("request not completed");
	EXPECT_EQ(VIRTIO_BLK_S_OK, *self->r.status);
	EXPECT_EQ(513, len);
	EXPECT_EQ(0, err_count(&self->b, 0));
}

/* Is the running kernel at least @maj.@min? */
static bool kernel_at_least(int maj, int min)
{
	struct utsname u;
	int a = 0, b = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &a, &b) != 2)
		return false;
	return a > maj || (a == maj && b >= min);
}

/*
 * SET_OWNER by a user at its RLIMIT_NPROC: from 6.11 the worker is a
 * thread of the owner, which the limit refuses, so SET_OWNER fails with
 * an error (and nothing else); within the limit it then succeeds and the
 * device works.  (Before 6.11 the worker is a kernel thread, which the
 * limit does not count: SET_OWNER succeeds.)
 */
TEST(set_owner_at_nproc_limit)
{
	bool task = kernel_at_least(6, 11);
	int status;
	pid_t pid;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = open("/dev/vhost-blk", O_RDWR | O_CLOEXEC), ret;
		struct vhost_memory m = {};
		struct rlimit rl;

		if (fd < 0 || getrlimit(RLIMIT_NPROC, &rl))
			_exit(9);
		rl.rlim_cur = 0;
		if (setgid(65534) || setuid(65534) ||
		    setrlimit(RLIMIT_NPROC, &rl))
			_exit(10);
		ret = ioctl(fd, VHOST_SET_OWNER);
		if (task && (ret != -1 || (errno != EAGAIN && errno != ENOMEM)))
			_exit(11);
		if (!task && ret)
			_exit(12);
		if (!ret)
			_exit(0);	/* a kernel thread: nothing more here */
		/* Failed cleanly: not owned, and it can be owned now. */
		if (ioctl(fd, VHOST_SET_MEM_TABLE, &m) != -1 || errno != EPERM)
			_exit(13);
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NPROC, &rl) || ioctl(fd, VHOST_SET_OWNER) ||
		    ioctl(fd, VHOST_SET_MEM_TABLE, &m))
			_exit(14);
		_exit(close(fd) ? 15 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("the owner died: %#x", status);
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("step %d failed", WEXITSTATUS(status));
}

TEST(bad_ioctls)
{
	struct {
		struct vhost_memory m;
		struct vhost_memory_region r[2];
	} mem = {};
	struct vhost_vring_state s = { .index = 0, .num = 8 };
	struct vhost_vring_file f = { .index = 0, .fd = -1 };
	struct vhost_vring_addr addr = { .index = 0 };
	struct vhost_blk_config c;
	uint64_t feat = 1ULL << 63;
	struct vhost_memory *big;
	int fd, sv[2], backing, status;
	pid_t pid;
	void *area;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	fd = open("/dev/vhost-blk", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	area = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);

	/* Before SET_OWNER. */
	mem.m.nregions = 1;
	mem.r[0].guest_phys_addr = 0;
	mem.r[0].memory_size = 1 << 20;
	mem.r[0].userspace_addr = (uintptr_t)area;
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_MEM_TABLE, &mem));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_VRING_NUM, &s));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, ioctl(fd, VHOST_BLK_SET_BACKEND, &f));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, ioctl(fd, VHOST_BLK_GET_CONFIG, &c));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, ioctl(fd, VHOST_RESET_OWNER));
	EXPECT_EQ(EPERM, errno);

	ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER));
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_OWNER));
	EXPECT_EQ(EBUSY, errno);

	/* A non-owner (another address space) is refused. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int bad = ioctl(fd, VHOST_SET_VRING_NUM, &s) == 0 ||
			  errno != EPERM;

		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* Malformed memory tables. */
	mem.m.nregions = 2;
	mem.r[1] = mem.r[0];
	mem.r[1].guest_phys_addr = 0x80000;
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_MEM_TABLE, &mem));
	EXPECT_EQ(EINVAL, errno);
	mem.m.nregions = 1;
	mem.r[0].guest_phys_addr = ~0ull - 0x1000;
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_MEM_TABLE, &mem));
	EXPECT_EQ(EINVAL, errno);
	mem.r[0].guest_phys_addr = 0;
	mem.r[0].memory_size = 0;
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_MEM_TABLE, &mem));
	EXPECT_EQ(EINVAL, errno);
	mem.r[0].memory_size = 1 << 20;
	mem.r[0].userspace_addr = ~0ull - 0x1000;
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_MEM_TABLE, &mem));
	EXPECT_EQ(EINVAL, errno);
	big = calloc(1, sizeof(*big) + 65 * sizeof(big->regions[0]));
	big->nregions = 65;
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_MEM_TABLE, big));
	EXPECT_EQ(E2BIG, errno);
	free(big);
	mem.r[0].userspace_addr = (uintptr_t)area;
	mem.m.padding = 1;
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_MEM_TABLE, &mem));
	EXPECT_EQ(EOPNOTSUPP, errno);
	mem.m.padding = 0;
	EXPECT_EQ(0, ioctl(fd, VHOST_SET_MEM_TABLE, &mem));

	/* Rings and features. */
	s.num = 3;
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_VRING_NUM, &s));
	EXPECT_EQ(EINVAL, errno);
	s.num = 8;
	s.index = 16;
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_VRING_NUM, &s));
	EXPECT_EQ(ENOBUFS, errno);
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_FEATURES, &feat));
	EXPECT_EQ(EOPNOTSUPP, errno);
	feat = 1ULL << VHOST_F_LOG_ALL;		/* before a log base */
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_FEATURES, &feat));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(ENOBUFS, errno);
	s.index = 0;
	s.num = 0x10000;
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_VRING_BASE, &s));
	EXPECT_EQ(EINVAL, errno);
	s.num = 8;
	addr.desc_user_addr = (uintptr_t)area + 8;	/* needs 16 */
	addr.avail_user_addr = (uintptr_t)area + 4096;
	addr.used_user_addr = (uintptr_t)area + 8192;
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_VRING_ADDR, &addr));
	EXPECT_EQ(EINVAL, errno);
	addr.desc_user_addr = (uintptr_t)area;
	addr.flags = 1u << 7;
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_VRING_ADDR, &addr));
	EXPECT_EQ(EOPNOTSUPP, errno);
	addr.flags = 0;
	EXPECT_EQ(0, ioctl(fd, VHOST_SET_VRING_ADDR, &addr));
	EXPECT_EQ(-1, ioctl(fd, VHOST_BLK_GET_CONFIG, &c));
	EXPECT_EQ(ENODEV, errno);

	/* Backends: a socket is refused, a second backend is busy. */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	f.fd = sv[0];
	EXPECT_EQ(-1, ioctl(fd, VHOST_BLK_SET_BACKEND, &f));
	EXPECT_EQ(EINVAL, errno);

	/* Eventfds: a socket or a closed fd is not one. */
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_VRING_KICK, &f));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_VRING_CALL, &f));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_LOG_FD, &sv[0]));
	EXPECT_EQ(EINVAL, errno);
	f.fd = 12345;
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_VRING_ERR, &f));
	EXPECT_EQ(EBADF, errno);
	f.fd = sv[0];
	f.fd = 12345;
	EXPECT_EQ(-1, ioctl(fd, VHOST_BLK_SET_BACKEND, &f));
	EXPECT_EQ(EBADF, errno);
	backing = make_backing(BACKING, 1 << 20, O_RDWR);
	ASSERT_LE(0, backing);
	/* Vring 0 has its addresses; with a kick eventfd it runs. */
	f.fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, f.fd);
	EXPECT_EQ(0, ioctl(fd, VHOST_SET_VRING_KICK, &f));
	close(f.fd);
	f.fd = backing;
	EXPECT_EQ(0, ioctl(fd, VHOST_BLK_SET_BACKEND, &f));
	EXPECT_EQ(-1, ioctl(fd, VHOST_BLK_SET_BACKEND, &f));
	EXPECT_EQ(EBUSY, errno);
	s.index = 0;
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_VRING_NUM, &s));
	EXPECT_EQ(EBUSY, errno);
	f.fd = -1;
	EXPECT_EQ(0, ioctl(fd, VHOST_BLK_SET_BACKEND, &f));
	EXPECT_EQ(0, ioctl(fd, VHOST_SET_VRING_NUM, &s));
	EXPECT_EQ(-1, ioctl(fd, 0xdead));
	EXPECT_EQ(ENOTTY, errno);

	close(sv[0]);
	close(sv[1]);
	close(backing);
	close(fd);
	munmap(area, 1 << 20);
	unlink(BACKING);
}

/*
 * Memory regions at the top of the guest-physical address space: one may
 * end exactly at 2^64; one whose end wraps is refused, and so is one that
 * overlaps a region ending at 2^64.
 */
TEST(mem_table_end_of_address_space)
{
	struct {
		struct vhost_memory m;
		struct vhost_memory_region r[2];
	} mem = {};
	void *area;
	int fd;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	fd = open("/dev/vhost-blk", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER));
	area = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, area);

	/* Ends at 2^64: fine. */
	mem.m.nregions = 1;
	mem.r[0].guest_phys_addr = -(2ull << 20);
	mem.r[0].memory_size = 2 << 20;
	mem.r[0].userspace_addr = (uintptr_t)area;
	EXPECT_EQ(0, ioctl(fd, VHOST_SET_MEM_TABLE, &mem));
	/* Wraps past 2^64. */
	mem.r[0].memory_size = (2 << 20) + 4096;
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_MEM_TABLE, &mem));
	EXPECT_EQ(EINVAL, errno);
	/* Inside one that ends at 2^64. */
	mem.m.nregions = 2;
	mem.r[0].memory_size = 2 << 20;
	mem.r[1].guest_phys_addr = -(1ull << 20);
	mem.r[1].memory_size = 4096;
	mem.r[1].userspace_addr = (uintptr_t)area + (3 << 20);
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_MEM_TABLE, &mem));
	EXPECT_EQ(EINVAL, errno);
	/* The same, listed the other way round. */
	mem.r[1] = mem.r[0];
	mem.r[0].guest_phys_addr = -(1ull << 20);
	mem.r[0].memory_size = 4096;
	mem.r[0].userspace_addr = (uintptr_t)area + (3 << 20);
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_MEM_TABLE, &mem));
	EXPECT_EQ(EINVAL, errno);
	/* Right below it: fine. */
	mem.r[0].guest_phys_addr = -(3ull << 20);
	EXPECT_EQ(0, ioctl(fd, VHOST_SET_MEM_TABLE, &mem));
	close(fd);
	munmap(area, 4 << 20);
}

TEST(dirty_log)
{
	struct vblk_opts o = {
		.nvq = 1, .num = 8, .arena_size = 4 << 20,
		.features = FEATURES | (1ULL << VHOST_F_LOG_ALL),
		.log_used = true, .gpa_base = 1ULL << 30,
	};
	struct vblk b;
	uint8_t *bitmap, *data, *data2;
	uint64_t base, page, npages, marked = 0, want = 0;
	struct vblk_req r;
	int backing;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	backing = make_backing(BACKING, 1 << 20, O_RDWR);
	ASSERT_LE(0, backing);
	/* One bit per 4 KiB page of guest memory (1 GiB + 4 MiB). */
	bitmap = mmap(NULL, 64 << 10, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bitmap);
	o.log_base = (uintptr_t)bitmap;
	o.backend_fd = backing;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);

	data = vblk_alloc(&b, 3 * 4096, 4096);
	data2 = vblk_alloc(&b, 4096, 4096);
	ASSERT_EQ(0, vblk_req_init(&b, &r));
	/* Header and status share a page; keep the status page apart. */
	r.status = vblk_alloc(&b, 1, 4096);
	fill(data2, 4096, 5);
	ASSERT_EQ(0, vblk_submit(&b, 0, &r, VIRTIO_BLK_T_OUT, 0, data2, 4096,
				 1, false));
	vblk_kick(&b, 0);
	ASSERT_EQ(0, vblk_complete(&b, 0, &r, 5000));
	EXPECT_EQ(VIRTIO_BLK_S_OK, *r.status);

	/* Reset the log; then a read of 2.5 pages. */
	base = b.gpa_base / 4096;
	npages = b.arena_size / 4096;
	memset(bitmap + base / 8, 0, npages / 8 + 2);
	ASSERT_EQ(0, vblk_submit(&b, 0, &r, VIRTIO_BLK_T_IN, 0,
				 data + 1024, 2 * 4096 + 512, 3, true));
	vblk_kick(&b, 0);
	ASSERT_EQ(0, vblk_complete(&b, 0, &r, 5000));
	EXPECT_EQ(VIRTIO_BLK_S_OK, *r.status);

	for (page = base; page < base + npages; page++) {
		bool set = bitmap[page / 8] & (1 << (page % 8));
		uint64_t addr = page * 4096;
		bool expect =
			(addr >= vblk_gpa(&b, data) &&
			 addr < vblk_gpa(&b, data) + 3 * 4096) ||
			addr == (vblk_gpa(&b, r.status) & ~4095ull) ||
			addr == (vblk_gpa(&b, b.vq[0].used) & ~4095ull);

		marked += set;
		want += expect;
		EXPECT_EQ(expect, set) TH_LOG("page %#llx", (unsigned long long)addr);
	}
	ksft_print_msg("dirty log: %llu pages marked, %llu expected\n",
		       (unsigned long long)marked, (unsigned long long)want);
	vblk_close(&b);
	close(backing);
	munmap(bitmap, 64 << 10);
	unlink(BACKING);
}

static bool page_logged(const uint8_t *bitmap, uint64_t gpa)
{
	uint64_t page = gpa / 4096;

	return bitmap[page / 8] & (1 << (page % 8));
}

/* Guest pages marked in @bitmap from @gpa on, @len bytes long. */
static unsigned int pages_logged(const uint8_t *bitmap, uint64_t gpa,
				 uint64_t len)
{
	unsigned int n = 0;
	uint64_t a;

	for (a = gpa & ~4095ull; a < gpa + len; a += 4096)
		n += page_logged(bitmap, a);
	return n;
}

/*
 * The dirty log marks what the device wrote, and only that: the data
 * bytes of a read or GET_ID (not the rest of the buffers), the status
 * byte, also when the request fails or has no header, and every guest
 * page of memory that two regions alias.
 */
TEST(dirty_log_marks_what_is_written)
{
	struct {
		struct vhost_memory m;
		struct vhost_memory_region r[2];
	} mem = {};
	struct vblk_opts o = {
		.nvq = 1, .num = 8, .arena_size = 4 << 20,
		.features = FEATURES | (1ULL << VHOST_F_LOG_ALL),
		.gpa_base = 1ULL << 30,
	};
	const uint64_t alias = 3ULL << 29;	/* a second view of the arena */
	const size_t bmap = 128 << 10;		/* 4 GiB of guest memory */
	const size_t pg = sysconf(_SC_PAGESIZE);
	uint8_t *bitmap, *data, *status, *shrt;
	struct vblk_seg segs[2];
	struct vblk_req r;
	struct vblk b;
	uint32_t len;
	int backing, i;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	backing = make_backing(BACKING, 1 << 20, O_RDWR);
	ASSERT_LE(0, backing);
	bitmap = mmap(NULL, bmap, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bitmap);
	o.log_base = (uintptr_t)bitmap;
	o.backend_fd = backing;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	data = vblk_alloc(&b, 3 * 4096, 4096);
	status = vblk_alloc(&b, 1, 4096);	/* a page of its own */
	shrt = vblk_alloc(&b, 3 * pg, pg);
	ASSERT_TRUE(data && status && shrt);
	ASSERT_EQ(0, vblk_req_init(&b, &r));
	r.status = status;

	/* A read of 2.5 pages into three: the pages of the 2.5 and status. */
	memset(bitmap, 0, bmap);
	ASSERT_EQ(0, vblk_submit(&b, 0, &r, VIRTIO_BLK_T_IN, 0, data,
				 2 * 4096 + 512, 1, false));
	vblk_kick(&b, 0);
	ASSERT_EQ(0, vblk_complete(&b, 0, &r, 5000));
	EXPECT_EQ(VIRTIO_BLK_S_OK, *r.status);
	EXPECT_EQ(3, pages_logged(bitmap, vblk_gpa(&b, data), 3 * 4096));
	EXPECT_TRUE(page_logged(bitmap, vblk_gpa(&b, status)));

	/* GET_ID writes 20 bytes of a three-page buffer: one page. */
	memset(bitmap, 0, bmap);
	ASSERT_EQ(0, vblk_submit(&b, 0, &r, VIRTIO_BLK_T_GET_ID, 0, data,
				 3 * 4096 - 1, 1, false));
	vblk_kick(&b, 0);
	ASSERT_EQ(0, vblk_complete(&b, 0, &r, 5000));
	EXPECT_EQ(VIRTIO_BLK_S_OK, *r.status);
	EXPECT_EQ(1, pages_logged(bitmap, vblk_gpa(&b, data), 3 * 4096));
	EXPECT_TRUE(page_logged(bitmap, vblk_gpa(&b, status)));

	/* A failed read writes only its status. */
	memset(bitmap, 0, bmap);
	ASSERT_EQ(0, vblk_submit(&b, 0, &r, VIRTIO_BLK_T_IN, 1 << 20, data,
				 3 * 4096, 1, false));
	vblk_kick(&b, 0);
	ASSERT_EQ(0, vblk_complete(&b, 0, &r, 5000));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, *r.status);
	EXPECT_EQ(0, pages_logged(bitmap, vblk_gpa(&b, data), 3 * 4096));
	EXPECT_TRUE(page_logged(bitmap, vblk_gpa(&b, status)));

	/*
	 * A read that falls short, the third (CPU) page of its buffer
	 * read-only: IOERR, but the two pages it wrote are marked.
	 */
	memset(bitmap, 0, bmap);
	ASSERT_EQ(0, mprotect(shrt + 2 * pg, pg, PROT_READ));
	ASSERT_EQ(0, vblk_submit(&b, 0, &r, VIRTIO_BLK_T_IN, 0, shrt,
				 2 * pg + 4096, 1, false));
	vblk_kick(&b, 0);
	ASSERT_EQ(0, vblk_complete(&b, 0, &r, 5000));
	ASSERT_EQ(0, mprotect(shrt + 2 * pg, pg, PROT_READ | PROT_WRITE));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, *r.status);
	EXPECT_EQ(2 * pg / 4096, pages_logged(bitmap, vblk_gpa(&b, shrt),
					      3 * pg));
	EXPECT_TRUE(page_logged(bitmap, vblk_gpa(&b, status)));

	/* A chain without a header: IOERR in its status, marked too. */
	memset(bitmap, 0, bmap);
	*status = 0xff;
	segs[0].addr = r.hdr;
	segs[0].len = 8;
	segs[1].addr = status;
	segs[1].len = 1;
	ASSERT_LE(0, vblk_add(&b, 0, segs, 1, 1, false, NULL));
	vblk_notify(&b, 0);
	for (i = 0; i < 50 && vblk_get_used(&b, 0, NULL, &len); i++)
		vblk_wait(&b, 0, 100);
	ASSERT_GT(50, i) TH_LOG("request not completed");
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, *status);
	EXPECT_EQ(1, len);
	EXPECT_TRUE(page_logged(bitmap, vblk_gpa(&b, status)));

	/* The arena at a second guest address: a read marks both views. */
	mem.m.nregions = 2;
	mem.r[0].guest_phys_addr = b.gpa_base;
	mem.r[0].memory_size = b.arena_size;
	mem.r[0].userspace_addr = (uintptr_t)b.arena;
	mem.r[1] = mem.r[0];
	mem.r[1].guest_phys_addr = alias;
	ASSERT_EQ(0, ioctl(b.fd, VHOST_SET_MEM_TABLE, &mem));
	memset(bitmap, 0, bmap);
	ASSERT_EQ(0, vblk_submit(&b, 0, &r, VIRTIO_BLK_T_IN, 0, data, 4096,
				 1, false));
	vblk_kick(&b, 0);
	ASSERT_EQ(0, vblk_complete(&b, 0, &r, 5000));
	EXPECT_EQ(VIRTIO_BLK_S_OK, *r.status);
	EXPECT_TRUE(page_logged(bitmap, vblk_gpa(&b, data)));
	EXPECT_TRUE(page_logged(bitmap, alias + (data - b.arena)))
		TH_LOG("the alias of the data is not marked");
	EXPECT_TRUE(page_logged(bitmap, alias + (status - b.arena)))
		TH_LOG("the alias of the status is not marked");

	vblk_close(&b);
	close(backing);
	munmap(bitmap, bmap);
	unlink(BACKING);
}

/* Set up, queue @n reads and leave them to the teardown under test. */
static int start_io(struct vblk *b, int backing, unsigned int n)
{
	struct vblk_opts o = {
		.nvq = 2, .num = 64, .arena_size = 48 << 20,
		.features = FEATURES, .backend_fd = backing,
	};
	unsigned int i, q;
	int ret;

	ret = vblk_open(b, &o);
	if (ret)
		return ret;
	for (q = 0; q < 2; q++) {
		for (i = 0; i < n; i++) {
			struct vblk_req *r = vblk_alloc(b, sizeof(*r), 64);
			void *buf = vblk_alloc(b, 256 << 10, 4096);

			if (!r || !buf || vblk_req_init(b, r))
				return -ENOMEM;
			ret = vblk_submit(b, q, r, i & 1 ? VIRTIO_BLK_T_OUT :
					  VIRTIO_BLK_T_IN, i * 512, buf,
					  256 << 10, 4, true);
			if (ret)
				return ret;
		}
		vblk_kick(b, q);
	}
	return 0;
}

TEST_F_TIMEOUT(blk, teardown_with_io_in_flight, 120)
{
	uint8_t *buf = vblk_alloc(&self->b, 4096, 4096);
	struct vblk b2;
	int status;
	pid_t pid;

	/* Close. */
	ASSERT_EQ(0, start_io(&b2, self->backing, 32)) TH_LOG("%s", vblk_err);
	vblk_close(&b2);

	/* RESET_OWNER, then the device can be owned again. */
	ASSERT_EQ(0, start_io(&b2, self->backing, 32)) TH_LOG("%s", vblk_err);
	EXPECT_EQ(0, ioctl(b2.fd, VHOST_RESET_OWNER));
	EXPECT_EQ(0, ioctl(b2.fd, VHOST_SET_OWNER));
	vblk_close(&b2);

	/* The owner exits. */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(start_io(&b2, self->backing, 32) ? 1 : 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* The fixture's device still works. */
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 3, VIRTIO_BLK_T_IN, 0,
					   buf, 4096));
}

/*
 * A VMM may set a vring's kick eventfd last, after the backend, with
 * buffers already on the ring: the device looks at the ring then, as when
 * it gets its backend or addresses, without waiting for a kick.
 */
TEST_F(blk, kick_eventfd_set_last)
{
	struct vhost_vring_file f = { .index = 0, .fd = VHOST_FILE_UNBIND };
	uint8_t *buf = vblk_alloc(&self->b, 4096, 4096);
	struct vblk_req r;
	int kick;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ioctl(self->b.fd, VHOST_SET_VRING_KICK, &f));
	ASSERT_EQ(0, vblk_req_init(&self->b, &r));
	ASSERT_EQ(0, vblk_submit(&self->b, 0, &r, VIRTIO_BLK_T_IN, 0, buf,
				 4096, 1, false));
	vblk_kick(&self->b, 0);	/* on the old eventfd, which nobody polls */
	usleep(100000);
	EXPECT_EQ(0xff, *r.status) TH_LOG("served without a kick eventfd");

	kick = eventfd(0, EFD_CLOEXEC);	/* never written */
	ASSERT_LE(0, kick);
	f.fd = kick;
	ASSERT_EQ(0, ioctl(self->b.fd, VHOST_SET_VRING_KICK, &f));
	close(self->b.vq[0].kick);
	self->b.vq[0].kick = kick;
	ASSERT_EQ(0, vblk_complete(&self->b, 0, &r, 2000));
	EXPECT_EQ(VIRTIO_BLK_S_OK, *r.status);
	EXPECT_EQ(0, err_count(&self->b, 0));
}

/* Kick every vring of @b until @stop, from a thread or a process. */
struct kicker {
	struct vblk *b;
	bool *stop;
};

static void *kick_loop(void *arg)
{
	struct kicker *k = arg;
	uint64_t one = 1;
	unsigned int q;

	while (!__atomic_load_n(k->stop, __ATOMIC_RELAXED))
		for (q = 0; q < k->b->nvq; q++)
			if (write(k->b->vq[q].kick, &one, sizeof(one)) < 0)
				return NULL;
	return NULL;
}

/*
 * Kicks from many threads, and from another process holding the kick
 * eventfds, while the owner closes the device or is killed: every kick
 * that races with the teardown wakes the worker before it is freed or
 * not at all.  (A use-after-free shows with KASAN; here, the host must
 * survive and the processes end.)
 */
TEST_F_TIMEOUT(blk, kicks_race_with_teardown, 300)
{
	uint8_t *buf = vblk_alloc(&self->b, 4096, 4096);
	int round, status, i;
	pid_t owner;

	for (round = 0; round < 16; round++) {
		owner = fork();
		ASSERT_LE(0, owner);
		if (!owner) {
			static bool stop;
			struct kicker k;
			pthread_t t[4];
			struct vblk b2;
			pid_t other;

			if (start_io(&b2, self->backing, 16))
				_exit(1);
			k.b = &b2;
			k.stop = &stop;
			other = fork();
			if (!other) {
				/* Keeps the kick eventfds, not the device. */
				close(b2.fd);
				alarm(5);
				kick_loop(&k);
				_exit(0);
			}
			for (i = 0; i < 4; i++)
				pthread_create(&t[i], NULL, kick_loop, &k);
			usleep(1000 * (rnd() % 20));
			if (round & 1)
				pause();	/* killed */
			close(b2.fd);	/* closed while kicked */
			__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
			for (i = 0; i < 4; i++)
				pthread_join(t[i], NULL);
			kill(other, SIGKILL);
			waitpid(other, NULL, 0);
			_exit(0);
		}
		if (round & 1) {
			usleep(1000 * (5 + rnd() % 20));
			kill(owner, SIGKILL);
		}
		ASSERT_EQ(owner, waitpid(owner, &status, 0));
		if (!(round & 1))
			EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	}
	/* Reap the kickers the killed owners left behind (alarm). */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 3, VIRTIO_BLK_T_IN, 0,
					   buf, 4096));
}

/*
 * A vring's turn of the worker ends after 16 MiB, not only after 256
 * requests: with 64 reads of 4 MiB (served from the page cache, so done
 * in the turn) queued on queue 0 and then a 4 KiB read on queue 1, the
 * small read completes while most of the big ones still wait.
 */
TEST_F_TIMEOUT(blk, turn_ends_after_its_bytes, 120)
{
	struct vblk_req *big = vblk_alloc(&self->b, 64 * sizeof(*big), 64);
	uint8_t *buf = vblk_alloc(&self->b, 4 << 20, 4096);
	struct vblk_req *small = vblk_alloc(&self->b, sizeof(*small), 64);
	uint16_t used;
	unsigned int i;

	ASSERT_TRUE(big && buf && small);
	ASSERT_EQ(0, vblk_req_init(&self->b, small));
	for (i = 0; i < 64; i++) {
		ASSERT_EQ(0, vblk_req_init(&self->b, &big[i]));
		ASSERT_EQ(0, vblk_submit(&self->b, 0, &big[i], VIRTIO_BLK_T_IN,
					 0, buf, 4 << 20, 1, true));
	}
	ASSERT_EQ(0, vblk_submit(&self->b, 1, small, VIRTIO_BLK_T_IN, 8, buf,
				 4096, 1, false));
	vblk_notify(&self->b, 0);
	vblk_notify(&self->b, 1);
	ASSERT_EQ(0, vblk_complete(&self->b, 1, small, 20000));
	used = __atomic_load_n(&self->b.vq[0].used->idx, __ATOMIC_ACQUIRE);
	EXPECT_EQ(VIRTIO_BLK_S_OK, *small->status);
	EXPECT_GT(48, used) TH_LOG("%u big reads done before the small one",
				   used);
	for (i = 0; i < 64; i++) {
		ASSERT_EQ(0, vblk_complete(&self->b, 0, &big[i], 20000));
		EXPECT_EQ(VIRTIO_BLK_S_OK, *big[i].status);
	}
}

/* Requests in flight in the block device at @node: reads + writes. */
static int bdev_inflight(const char *node)
{
	unsigned int rd, wr;
	char path[64];
	struct stat st;
	FILE *f;
	int ret;

	if (stat(node, &st))
		return -errno;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/inflight",
		 major(st.st_rdev), minor(st.st_rdev));
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ret = fscanf(f, "%u %u", &rd, &wr) == 2 ? (int)(rd + wr) : -EIO;
	fclose(f);
	return ret;
}

/*
 * A driver that publishes the same head again and again, with requests
 * that take 500 ms: the device takes no more than a ring's worth (8) at a
 * time, then the rest as they complete.
 */
TEST(inflight_bounded_by_ring_size)
{
	static const char *const slow[] = {
		"size", "64", "irqmode", "2", "completion_nsec", "500000000",
		NULL
	};
	struct vblk_opts o = { .nvq = 1, .num = 8, .arena_size = 1 << 20,
			       .features = FEATURES };
	const char *node = "/tmp/vhostcap-nullb";
	struct vring_desc *d;
	struct vblk_vq *vq;
	struct vblk_req r;
	struct vblk b;
	uint8_t *buf;
	int fd, i, n;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	fd = nullb_open("vhostcap", node, slow);
	if (fd == -ENOENT)
		SKIP(return, "no null_blk configfs");
	ASSERT_LE(0, fd) TH_LOG("%s: %s", node, strerror(-fd));
	o.backend_fd = fd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	vq = &b.vq[0];
	buf = vblk_alloc(&b, 4096, 4096);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, vblk_req_init(&b, &r));
	r.hdr->type = VIRTIO_BLK_T_IN;
	r.hdr->sector = 0;
	d = vq->desc;
	d[0] = (struct vring_desc){ vblk_gpa(&b, r.hdr), 16,
				    VRING_DESC_F_NEXT, 1 };
	d[1] = (struct vring_desc){ vblk_gpa(&b, buf), 4096,
				    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2 };
	d[2] = (struct vring_desc){ vblk_gpa(&b, r.status), 1,
				    VRING_DESC_F_WRITE, 0 };
	/*
	 * Two rings' worth of head 0, each published when the device took
	 * the one before.
	 */
	for (n = 0; n < 2; n++) {
		for (i = 0; i < 8; i++)
			vq->avail->ring[vq->avail_idx++ % 8] = 0;
		vblk_notify(&b, 0);
		usleep(150000);
	}
	n = bdev_inflight(node);
	EXPECT_LE(1, n);
	EXPECT_GE(8, n) TH_LOG("%d requests in flight on a ring of 8", n);
	for (i = 0; i < 100 && __atomic_load_n(&vq->used->idx,
					       __ATOMIC_ACQUIRE) != 16; i++)
		usleep(50000);
	EXPECT_EQ(16, vq->used->idx);
	EXPECT_EQ(VIRTIO_BLK_S_OK, *r.status);
	EXPECT_EQ(0, err_count(&b, 0));
	vblk_close(&b);
	close(fd);
	EXPECT_EQ(0, nullb_remove("vhostcap", node));
}

/* Workqueue workers now running a work of workqueue @wq ("+@wq"). */
static int busy_workers(const char *wq)
{
	char path[300], comm[64], *plus;
	struct dirent *e;
	int n = 0;
	DIR *d;
	FILE *f;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) &&
		    !strncmp(comm, "kworker/", 8)) {
			comm[strcspn(comm, "\n")] = 0;
			plus = strchr(comm, '+');
			n += plus && !strcmp(plus + 1, wq);
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

/*
 * Slow requests (here discards, on a disk that takes 300 ms for each) of
 * one device run one at a time: of four sent together, one is in the disk
 * and one worker of the shared workqueue is busy with them (not one per
 * request, all but one waiting for the device), and all succeed.
 */
TEST(slow_requests_bounded_per_device)
{
	static const char *const slow[] = {
		"size", "64", "memory_backed", "1", "discard", "1",
		"irqmode", "2", "completion_nsec", "300000000", NULL
	};
	struct vblk_opts o = { .nvq = 1, .num = 16, .features = FEATURES };
	const char *node = "/tmp/vhostslow-nullb";
	struct virtio_blk_discard_write_zeroes *seg;
	struct vblk_req *r;
	struct vblk b;
	int fd, i, n;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	fd = nullb_open("vhostslow", node, slow);
	if (fd == -ENOENT)
		SKIP(return, "no null_blk configfs");
	ASSERT_LE(0, fd) TH_LOG("%s: %s", node, strerror(-fd));
	o.backend_fd = fd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	r = vblk_alloc(&b, 4 * sizeof(*r), 64);
	seg = vblk_alloc(&b, 4 * sizeof(*seg), 16);
	ASSERT_TRUE(r && seg);
	for (i = 0; i < 4; i++) {
		seg[i].sector = 8 * i;
		seg[i].num_sectors = 8;
		seg[i].flags = 0;
		ASSERT_EQ(0, vblk_req_init(&b, &r[i]));
		ASSERT_EQ(0, vblk_submit(&b, 0, &r[i], VIRTIO_BLK_T_DISCARD,
					 0, &seg[i], sizeof(seg[i]), 1, false));
	}
	vblk_kick(&b, 0);
	usleep(150000);
	n = bdev_inflight(node);
	EXPECT_EQ(1, n) TH_LOG("%d slow requests in the disk at once", n);
	n = busy_workers("vblk");
	EXPECT_EQ(1, n) TH_LOG("%d workers busy with one device", n);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, vblk_complete(&b, 0, &r[i], 5000));
		EXPECT_EQ(VIRTIO_BLK_S_OK, *r[i].status);
	}
	vblk_close(&b);
	close(fd);
	EXPECT_EQ(0, nullb_remove("vhostslow", node));
}

static void on_alarm(int sig)
{
	(void)sig;
}

/*
 * GET_VRING_BASE waits for the vring's requests, which a driver (or the
 * backing) may keep pending for as long as it likes: a signal ends the
 * wait with EINTR.  Here a read takes 4 s and SIGALRM comes after 1 s.
 * Once the read is done, the base is read.
 */
TEST_F_TIMEOUT(blk, get_vring_base_interruptible, 60)
{
	static const char *const slow[] = {
		"size", "64", "irqmode", "2", "completion_nsec", "4000000000",
		NULL
	};
	struct vblk_opts o = { .nvq = 1, .num = 8, .arena_size = 1 << 20,
			       .features = FEATURES };
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct vhost_vring_state s = { .index = 0 };
	const char *node = "/tmp/vhostbase-nullb";
	struct timespec t0;
	struct vblk_req r;
	struct vblk b;
	uint8_t *buf;
	double t;
	int fd, ret;

	fd = nullb_open("vhostbase", node, slow);
	if (fd == -ENOENT)
		SKIP(return, "no null_blk configfs");
	ASSERT_LE(0, fd) TH_LOG("%s: %s", node, strerror(-fd));
	o.backend_fd = fd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	buf = vblk_alloc(&b, 4096, 4096);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, vblk_req_init(&b, &r));
	ASSERT_EQ(0, vblk_submit(&b, 0, &r, VIRTIO_BLK_T_IN, 0, buf, 4096, 1,
				 false));
	vblk_kick(&b, 0);
	usleep(200000);		/* the read waits in null_blk */

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, &old));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	alarm(1);
	ret = ioctl(b.fd, VHOST_GET_VRING_BASE, &s);
	t = elapsed(&t0);
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINTR, errno);
	EXPECT_GT(2.5, t) TH_LOG("GET_VRING_BASE returned after %.2f s", t);

	ASSERT_EQ(0, vblk_complete(&b, 0, &r, 10000));
	EXPECT_EQ(VIRTIO_BLK_S_OK, *r.status);
	EXPECT_EQ(0, ioctl(b.fd, VHOST_GET_VRING_BASE, &s));
	EXPECT_EQ(1, s.num);
	vblk_close(&b);
	close(fd);
	EXPECT_EQ(0, nullb_remove("vhostbase", node));
}

struct base_waiter {
	int fd;
	int ret;
};

static void *get_base_fn(void *arg)
{
	struct base_waiter *w = arg;
	struct vhost_vring_state s = { .index = 0 };

	__atomic_store_n(&w->ret, ioctl(w->fd, VHOST_GET_VRING_BASE, &s) ?
			 -errno : 0, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Wait up to @ms for child @pid; its wait status, or -1 if it has not
 * exited.
 */
static int wait_child(pid_t pid, int ms)
{
	int status, i;

	for (i = 0; i < ms / 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	}
	return -1;
}

/*
 * While one thread of the VMM waits in GET_VRING_BASE for a read that
 * takes 4 s, another process sharing the device's fd (a forked child)
 * issues an ioctl: it does not wait for the read, nor for the device's
 * lock: it exits within a second, and would die of a SIGKILL in any case.
 */
TEST_F_TIMEOUT(blk, get_vring_base_leaves_other_ioctls_alone, 60)
{
	static const char *const slow[] = {
		"size", "64", "irqmode", "2", "completion_nsec", "4000000000",
		NULL
	};
	struct vblk_opts o = { .nvq = 1, .num = 8, .arena_size = 1 << 20,
			       .features = FEATURES };
	const char *node = "/tmp/vhostbase2-nullb";
	struct base_waiter w;
	struct vblk_req r;
	struct vblk b;
	uint64_t feat;
	uint8_t *buf;
	int fd, status;
	pthread_t t;
	pid_t pid;

	fd = nullb_open("vhostbase2", node, slow);
	if (fd == -ENOENT)
		SKIP(return, "no null_blk configfs");
	ASSERT_LE(0, fd) TH_LOG("%s: %s", node, strerror(-fd));
	o.backend_fd = fd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	buf = vblk_alloc(&b, 4096, 4096);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, vblk_req_init(&b, &r));
	ASSERT_EQ(0, vblk_submit(&b, 0, &r, VIRTIO_BLK_T_IN, 0, buf, 4096, 1,
				 false));
	vblk_kick(&b, 0);
	usleep(200000);		/* the read waits in null_blk */

	w.fd = b.fd;
	w.ret = 1;
	ASSERT_EQ(0, pthread_create(&t, NULL, get_base_fn, &w));
	usleep(300000);		/* in GET_VRING_BASE */
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(ioctl(b.fd, VHOST_GET_FEATURES, &feat) ? 1 : 0);
	status = wait_child(pid, 1000);
	if (status == -1) {
		kill(pid, SIGKILL);
		status = wait_child(pid, 1000);
		EXPECT_NE(-1, status) TH_LOG("a killed ioctl is not reaped");
		EXPECT_TRUE(0) TH_LOG("an ioctl waits for GET_VRING_BASE");
		if (status == -1)
			waitpid(pid, &status, 0);
	} else {
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	}
	/* Still waiting. */
	EXPECT_EQ(1, __atomic_load_n(&w.ret, __ATOMIC_ACQUIRE));

	pthread_join(t, NULL);
	EXPECT_EQ(0, w.ret);
	ASSERT_EQ(0, vblk_complete(&b, 0, &r, 10000));
	EXPECT_EQ(VIRTIO_BLK_S_OK, *r.status);
	vblk_close(&b);
	close(fd);
	EXPECT_EQ(0, nullb_remove("vhostbase2", node));
}

/*
 * The owner is killed while its requests sit in a slow disk (null_blk,
 * 200 ms per request): the kill completes, the requests that finish later
 * are dropped, nothing hangs.
 */
TEST_F_TIMEOUT(blk, owner_killed_with_io_in_flight, 120)
{
	const char *node = "/tmp/vhostkill-nullb";
	uint8_t *buf = vblk_alloc(&self->b, 4096, 4096);
	struct timespec t0;
	int p[2], status, ret;
	struct vblk b2;
	char c;
	pid_t pid;

	ret = nullb_make("vhostkill", node, slow_disk);
	if (ret == -ENOENT)
		SKIP(return, "no null_blk configfs");
	EXPECT_EQ(0, ret);
	EXPECT_EQ(0, pipe(p));
	if (_metadata->exit_code)
		goto out;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int bfd = open(node, O_RDWR | O_DIRECT | O_CLOEXEC);

		if (bfd < 0) {
			fprintf(stderr, "# %s: %s\n", node, strerror(errno));
			_exit(1);
		}
		if (start_io(&b2, bfd, 32)) {
			fprintf(stderr, "# start_io: %s\n", vblk_err);
			_exit(1);
		}
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	EXPECT_EQ(1, read(p[0], &c, 1)) TH_LOG("the owner could not start I/O");
	close(p[0]);
	usleep(50000);	/* requests queued in null_blk */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	EXPECT_EQ(0, kill(pid, SIGKILL));
	EXPECT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_GT(30, elapsed(&t0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* The fixture's device still works. */
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 3, VIRTIO_BLK_T_IN, 0,
					   buf, 4096));
out:
	EXPECT_EQ(0, nullb_remove("vhostkill", node));
}

/*
 * Dirty logging turned on while a read waits in a slow disk (null_blk,
 * 200 ms per request): the read was taken before logging began, and the
 * page it writes is marked all the same when it completes.
 */
TEST(dirty_log_starts_during_io)
{
	static const char *const slow_disk[] = {
		"size", "64", "irqmode", "2", "completion_nsec", "200000000",
		NULL
	};
	struct vblk_opts o = {
		.nvq = 1, .num = 8, .arena_size = 4 << 20,
		.features = FEATURES, .gpa_base = 1ULL << 30,
	};
	const char *node = "/tmp/vhostlog-nullb";
	uint64_t page, feat;
	struct vblk_req r;
	uint8_t *bitmap, *data;
	struct vblk b;
	int fd;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	fd = nullb_open("vhostlog", node, slow_disk);
	if (fd == -ENOENT)
		SKIP(return, "no null_blk configfs");
	ASSERT_LE(0, fd) TH_LOG("%s: %s", node, strerror(-fd));
	bitmap = mmap(NULL, 64 << 10, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bitmap);
	o.log_base = (uintptr_t)bitmap;
	o.backend_fd = fd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	data = vblk_alloc(&b, 4096, 4096);
	ASSERT_NE(NULL, data);
	ASSERT_EQ(0, vblk_req_init(&b, &r));
	ASSERT_EQ(0, vblk_submit(&b, 0, &r, VIRTIO_BLK_T_IN, 0, data, 4096, 1,
				 false));
	vblk_kick(&b, 0);
	usleep(50000);		/* the read waits in null_blk */
	feat = b.features | (1ULL << VHOST_F_LOG_ALL);
	ASSERT_EQ(0, ioctl(b.fd, VHOST_SET_FEATURES, &feat));
	ASSERT_EQ(0, vblk_complete(&b, 0, &r, 5000));
	EXPECT_EQ(VIRTIO_BLK_S_OK, *r.status);
	page = vblk_gpa(&b, data) / 4096;
	EXPECT_TRUE(bitmap[page / 8] & (1 << (page % 8)))
		TH_LOG("page of the read not marked");
	page = vblk_gpa(&b, r.status) / 4096;
	EXPECT_TRUE(bitmap[page / 8] & (1 << (page % 8)))
		TH_LOG("page of the status not marked");
	vblk_close(&b);
	close(fd);
	munmap(bitmap, 64 << 10);
	EXPECT_EQ(0, nullb_remove("vhostlog", node));
}

/* The memory.current of cgroup @dir, or -1. */
static long long memcg_current(const char *dir)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/memory.current", dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * What an open /dev/vhost-blk allocates (its vrings' iovec arrays alone
 * are 256 KiB) is charged to the opener's memory cgroup: eight opens in
 * a fresh cgroup raise its memory.current by more than 1.5 MiB.
 */
TEST(open_charged_to_memcg)
{
	const char *root = "/sys/fs/cgroup", *cg = "/sys/fs/cgroup/vhostmem";
	long long before, after;
	int p[2], q[2], status;
	char c, path[128], pidstr[16];
	pid_t pid;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	if (access(path, F_OK))
		mount("none", root, "cgroup2", 0, NULL);
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", root);
	if (sysfs_write(path, "+memory"))
		SKIP(return, "no memory controller in cgroup v2");
	if (mkdir(cg, 0755) && errno != EEXIST)
		SKIP(return, "cannot make a cgroup: %s", strerror(errno));
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, pipe(q));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fds[8], i;

		/* Joined the cgroup: wait for the first reading. */
		if (read(p[0], &c, 1) != 1)
			_exit(1);
		for (i = 0; i < 8; i++)
			fds[i] = open("/dev/vhost-blk", O_RDWR | O_CLOEXEC);
		if (write(q[1], "x", 1) != 1 || read(p[0], &c, 1) != 1)
			_exit(1);
		for (i = 0; i < 8; i++)
			close(fds[i]);
		_exit(fds[7] < 0);
	}
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(pidstr, sizeof(pidstr), "%d", pid);
	ASSERT_EQ(0, sysfs_write(path, pidstr));
	usleep(100000);
	before = memcg_current(cg);
	EXPECT_EQ(1, write(p[1], "x", 1));
	EXPECT_EQ(1, read(q[0], &c, 1));
	after = memcg_current(cg);
	EXPECT_EQ(1, write(p[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	ASSERT_LE(0, before);
	EXPECT_LT(before + (3 << 19), after)
		TH_LOG("memory.current %lld before, %lld after", before, after);
	ksft_print_msg("eight opens charged %lld KiB\n", (after - before) >> 10);
	rmdir(cg);
}

TEST_HARNESS_MAIN
