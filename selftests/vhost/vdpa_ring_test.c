// SPDX-License-Identifier: GPL-2.0
/*
 * vdpa_ring_test - vdpa-blk driven through /dev/vhost-vdpa-N as a VMM
 * would, with rings in the test's memory (vblk.c, vhost-vdpa mode): I/O
 * on several queues, then a hostile driver.  A broken queue must stop with
 * an error (DEVICE_NEEDS_RESET) while the others go on serving; a VMM that
 * resets, dies or shrinks its rings while I/O is in flight must leave the
 * host as it was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/virtio_config.h>

#include "kselftest_harness.h"
#include "vblk.h"

#define CFG		"/sys/kernel/config/kvmarm-blk"
#define BUS		"/sys/bus/vdpa"
#define NAME		"vring0"
#define BACKING		"/tmp/vdpa-ring-test.img"
#define SECTOR		512
#define FEATURES	((1ULL << VIRTIO_F_VERSION_1) |			\
			 (1ULL << VIRTIO_F_ACCESS_PLATFORM) |		\
			 (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |	\
			 (1ULL << VIRTIO_BLK_F_FLUSH))

static void remove_device(void);

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/*
 * A vdpa-blk device on a file with two queues, bound to vhost_vdpa; its
 * character device's path in @dev.  The file is 1 MiB of data in a sparse
 * 512 MiB.
 */
static int make_device(char *dev, size_t len)
{
	char path[256];
	struct dirent *e;
	DIR *d;
	int fd;

	/* What a test that was killed left behind. */
	remove_device();
	fd = open(BACKING, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 512 << 20))
		return -errno;
	close(fd);
	if (mkdir(CFG "/" NAME, 0755) && errno != EEXIST)
		return -errno;
	if (write_file(CFG "/" NAME "/num_queues", "2") ||
	    write_file(CFG "/" NAME "/backing", BACKING) ||
	    write_file(BUS "/drivers_autoprobe", "0") ||
	    system("vdpa dev add name " NAME " mgmtdev kvmarm-blk") ||
	    write_file(BUS "/devices/" NAME "/driver_override", "vhost_vdpa") ||
	    write_file(BUS "/drivers_probe", NAME))
		return -EIO;
	d = opendir(BUS "/devices/" NAME);
	if (!d)
		return -errno;
	dev[0] = 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "vhost-vdpa-", 11))
			snprintf(dev, len, "/dev/%.40s", e->d_name);
	closedir(d);
	snprintf(path, sizeof(path), "%s", dev);
	return dev[0] && !access(path, R_OK | W_OK) ? 0 : -ENOENT;
}

static void remove_device(void)
{
	if (!access(BUS "/devices/" NAME, F_OK) &&
	    system("vdpa dev del " NAME))
		fprintf(stderr, "vdpa dev del failed\n");
	rmdir(CFG "/" NAME);
	write_file(BUS "/drivers_autoprobe", "1");
	unlink(BACKING);
}

/* vhost-vdpa pins the test's memory against RLIMIT_MEMLOCK. */
static void unlimit_memlock(void)
{
	struct rlimit r = { RLIM_INFINITY, RLIM_INFINITY };

	setrlimit(RLIMIT_MEMLOCK, &r);
}

FIXTURE(vring) {
	char dev[64];
	struct vblk b;
	uint8_t *buf;
	struct vblk_req r;
};

FIXTURE_SETUP(vring)
{
	struct vblk_opts o = {
		.nvq = 2, .num = 256, .features = FEATURES,
		.arena_size = 16 << 20,
	};
	int ret;

	self->b.fd = -1;
	if (access(BUS, F_OK))
		SKIP(return, "no vDPA bus (CONFIG_VDPA)");
	if (access(CFG, F_OK))
		SKIP(return, "vdpa_blk is not loaded");
	if (access(BUS "/drivers/vhost_vdpa", F_OK))
		SKIP(return, "vhost_vdpa is not loaded");
	unlimit_memlock();
	ret = make_device(self->dev, sizeof(self->dev));
	ASSERT_EQ(0, ret);
	o.vdpa = self->dev;
	ASSERT_EQ(0, vblk_open(&self->b, &o)) TH_LOG("%s", vblk_err);
	self->buf = vblk_alloc(&self->b, 65536, 4096);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, vblk_req_init(&self->b, &self->r));
}

FIXTURE_TEARDOWN(vring)
{
	vblk_close(&self->b);
	remove_device();
}

static int needs_reset(struct vblk *b)
{
	int s = vblk_vdpa_status(b);

	return s >= 0 && (s & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* Queue 0 was attacked: it is stopped, queue 1 serves. */
static void broken_but_serving(struct __test_metadata *_metadata,
			       FIXTURE_DATA(vring) * self)
{
	int i;

	for (i = 0; i < 100 && !needs_reset(&self->b); i++)
		usleep(10000);
	EXPECT_TRUE(needs_reset(&self->b));
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 1, VIRTIO_BLK_T_IN, 0,
					   self->buf, 4096));
	EXPECT_EQ(-EAGAIN, vblk_get_used(&self->b, 0, NULL, NULL));
}

/* Publish descriptor @head on queue 0 as is and kick in any case. */
static void publish(struct vblk *b, uint16_t head, uint16_t idx_step)
{
	struct vblk_vq *vq = &b->vq[0];

	vq->avail->ring[vq->avail_idx % vq->num] = head;
	vq->avail_idx += idx_step;
	vblk_notify(b, 0);
}

TEST_F(vring, io_on_every_queue)
{
	uint8_t *back = self->buf + 32768;
	unsigned int q, i;

	for (q = 0; q < 2; q++) {
		for (i = 0; i < 16384; i++)
			self->buf[i] = (uint8_t)(i * 7 + q);
		EXPECT_EQ(VIRTIO_BLK_S_OK,
			  vblk_do(&self->b, q, VIRTIO_BLK_T_OUT, 64 * q,
				  self->buf, 16384)) TH_LOG("%s", vblk_err);
		memset(back, 0, 16384);
		EXPECT_EQ(VIRTIO_BLK_S_OK,
			  vblk_do(&self->b, q, VIRTIO_BLK_T_IN, 64 * q, back,
				  16384));
		EXPECT_EQ(0, memcmp(self->buf, back, 16384));
	}
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 0, VIRTIO_BLK_T_FLUSH, 0,
					   NULL, 0));
	EXPECT_FALSE(needs_reset(&self->b));
}

TEST_F(vring, descriptor_loop)
{
	struct vring_desc *d = self->b.vq[0].desc;

	d[0] = (struct vring_desc){ (uintptr_t)self->r.hdr, 16,
				    VRING_DESC_F_NEXT, 1 };
	d[1] = (struct vring_desc){ (uintptr_t)self->buf, 512,
				    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1 };
	publish(&self->b, 0, 1);
	broken_but_serving(_metadata, self);
}

TEST_F(vring, indirect_loop_and_nesting)
{
	struct vring_desc *d = self->b.vq[0].desc;
	struct vring_desc *t = vblk_alloc(&self->b, 4 * sizeof(*t), 16);

	t[0] = (struct vring_desc){ (uintptr_t)self->r.hdr, 16,
				    VRING_DESC_F_NEXT, 1 };
	t[1] = (struct vring_desc){ (uintptr_t)t, 2 * sizeof(*t),
				    VRING_DESC_F_INDIRECT, 0 };
	d[0] = (struct vring_desc){ (uintptr_t)t, 2 * sizeof(*t),
				    VRING_DESC_F_INDIRECT, 0 };
	publish(&self->b, 0, 1);
	broken_but_serving(_metadata, self);
}

TEST_F(vring, address_outside_the_iotlb)
{
	struct vring_desc *d = self->b.vq[0].desc;

	d[0] = (struct vring_desc){ (uintptr_t)self->r.hdr, 16,
				    VRING_DESC_F_NEXT, 1 };
	d[1] = (struct vring_desc){ 0x1000, 512,
				    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2 };
	d[2] = (struct vring_desc){ (uintptr_t)self->r.status, 1,
				    VRING_DESC_F_WRITE, 0 };
	publish(&self->b, 0, 1);
	broken_but_serving(_metadata, self);
}

TEST_F(vring, indirect_table_outside_the_iotlb)
{
	struct vring_desc *d = self->b.vq[0].desc;

	d[0] = (struct vring_desc){ 0x2000, 3 * sizeof(*d),
				    VRING_DESC_F_INDIRECT, 0 };
	publish(&self->b, 0, 1);
	broken_but_serving(_metadata, self);
}

/* The device writes a read request's data: a read-only mapping refuses. */
TEST_F(vring, write_into_a_read_only_mapping)
{
	struct vring_desc *d = self->b.vq[0].desc;
	uint8_t *ro;

	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(0, vblk_vdpa_map(&self->b, 0x10000000, 4096, ro,
				   VHOST_ACCESS_RO)) TH_LOG("%s", vblk_err);
	self->r.hdr->type = VIRTIO_BLK_T_IN;
	self->r.hdr->sector = 0;
	d[0] = (struct vring_desc){ (uintptr_t)self->r.hdr, 16,
				    VRING_DESC_F_NEXT, 1 };
	d[1] = (struct vring_desc){ 0x10000000, 512,
				    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2 };
	d[2] = (struct vring_desc){ (uintptr_t)self->r.status, 1,
				    VRING_DESC_F_WRITE, 0 };
	publish(&self->b, 0, 1);
	broken_but_serving(_metadata, self);
	munmap(ro, 4096);
}

TEST_F(vring, readable_after_writable)
{
	struct vring_desc *d = self->b.vq[0].desc;

	d[0] = (struct vring_desc){ (uintptr_t)self->r.status, 1,
				    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1 };
	d[1] = (struct vring_desc){ (uintptr_t)self->r.hdr, 16, 0, 0 };
	publish(&self->b, 0, 1);
	broken_but_serving(_metadata, self);
}

TEST_F(vring, next_out_of_range)
{
	struct vring_desc *d = self->b.vq[0].desc;

	d[0] = (struct vring_desc){ (uintptr_t)self->r.hdr, 16,
				    VRING_DESC_F_NEXT, 300 };
	publish(&self->b, 0, 1);
	broken_but_serving(_metadata, self);
}

TEST_F(vring, head_out_of_range)
{
	publish(&self->b, 256 + 3, 1);
	broken_but_serving(_metadata, self);
}

TEST_F(vring, avail_index_jump)
{
	publish(&self->b, 0, 1000);
	broken_but_serving(_metadata, self);
}

/*
 * A VMM maps guest memory one range at a time: every update costs the
 * same however many ranges there are (a device that copied its whole
 * IOTLB on each one took minutes for 64 MiB in 4 KiB pages).  vhost_vdpa
 * takes that many with max_iotlb_entries raised (scripts/guest-init).
 */
TEST_F_TIMEOUT(vring, many_single_page_mappings, 60)
{
	size_t pg = getpagesize(), size = 64 << 20, off;
	uint8_t *mem, *out, *in;

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	for (off = 0; off < size; off += pg) {
		ASSERT_EQ(0, vblk_vdpa_map(&self->b, (uintptr_t)mem + off, pg,
					   mem + off, VHOST_ACCESS_RW))
			TH_LOG("%s", vblk_err);
	}
	/* Data in the last two pages, across two ranges. */
	out = mem + size - 2 * pg - 512;
	in = mem + size - 1024;
	memset(out, 0x5a, 1024);
	memset(in, 0, 1024);
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 0, VIRTIO_BLK_T_OUT, 8,
					   out, 1024));
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 1, VIRTIO_BLK_T_IN, 8,
					   in, 1024));
	EXPECT_EQ(0, memcmp(out, in, 1024));
	for (off = 0; off < size; off += pg) {
		ASSERT_EQ(0, vblk_vdpa_map(&self->b, (uintptr_t)mem + off, pg,
					   NULL, 0)) TH_LOG("%s", vblk_err);
	}
	EXPECT_FALSE(needs_reset(&self->b));
	munmap(mem, size);
}

/*
 * The VMM moves the memory that holds the rings while the device runs:
 * unmapped, given new pages with the same contents, mapped again one
 * range after the other.  The device follows, and the queues go on.
 */
TEST_F_TIMEOUT(vring, rings_follow_memory_moved_while_running, 60)
{
	struct vblk *b = &self->b;
	size_t size = b->arena_size;
	uint8_t *copy, *p;

	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(b, 0, VIRTIO_BLK_T_IN, 0,
					   self->buf, 4096));
	copy = malloc(size);
	ASSERT_NE(NULL, copy);
	memcpy(copy, b->arena, size);
	ASSERT_EQ(0, vblk_vdpa_map(b, b->gpa_base, size, NULL, 0))
		TH_LOG("%s", vblk_err);
	p = mmap(b->arena, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_FIXED, -1, 0);
	ASSERT_EQ(b->arena, p);
	memcpy(b->arena, copy, size);
	free(copy);
	ASSERT_EQ(0, vblk_vdpa_map(b, b->gpa_base, size / 2, b->arena,
				   VHOST_ACCESS_RW)) TH_LOG("%s", vblk_err);
	ASSERT_EQ(0, vblk_vdpa_map(b, b->gpa_base + size / 2, size / 2,
				   b->arena + size / 2, VHOST_ACCESS_RW))
		TH_LOG("%s", vblk_err);
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(b, 0, VIRTIO_BLK_T_IN, 0,
					   self->buf, 4096));
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(b, 1, VIRTIO_BLK_T_IN, 0,
					   self->buf, 4096));
	EXPECT_FALSE(needs_reset(b));
}

/*
 * The VMM maps the memory of the rings again, read-only, while the device
 * runs: the device must not go on writing its used ring through what it
 * mapped before, it stops the queues.
 */
TEST_F(vring, rings_mapped_read_only_while_running)
{
	struct vblk *b = &self->b;
	int i;

	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(b, 0, VIRTIO_BLK_T_IN, 0,
					   self->buf, 4096));
	ASSERT_EQ(0, vblk_vdpa_map(b, b->gpa_base, b->arena_size, NULL, 0))
		TH_LOG("%s", vblk_err);
	ASSERT_EQ(0, vblk_vdpa_map(b, b->gpa_base, b->arena_size, b->arena,
				   VHOST_ACCESS_RO)) TH_LOG("%s", vblk_err);
	ASSERT_EQ(0, vblk_submit(b, 0, &self->r, VIRTIO_BLK_T_IN, 0,
				 self->buf, 4096, 1, false));
	vblk_kick(b, 0);
	for (i = 0; i < 100 && !needs_reset(b); i++)
		usleep(10000);
	EXPECT_TRUE(needs_reset(b));
	EXPECT_EQ(-EAGAIN, vblk_get_used(b, 0, NULL, NULL));
}

/*
 * The rings were mapped for 256 entries; a VMM then says 1024 while the
 * queue runs.  The device must keep indexing them with the size it mapped
 * (before, the used ring was written past its map after 512 requests).
 */
TEST_F_TIMEOUT(vring, ring_size_changed_while_running, 120)
{
	struct vhost_vring_state s = { .index = 0, .num = 1024 };
	unsigned int i;

	/* vhost_vdpa may refuse it; the device must survive it either way. */
	ioctl(self->b.fd, VHOST_SET_VRING_NUM, &s);
	for (i = 0; i < 700; i++)
		ASSERT_EQ(VIRTIO_BLK_S_OK,
			  vblk_do(&self->b, 0, VIRTIO_BLK_T_IN, i % 64,
				  self->buf, 512)) TH_LOG("request %u", i);
	EXPECT_FALSE(needs_reset(&self->b));
}

/*
 * A read of 257 MiB (257 indirect descriptors of the same 1 MiB buffer)
 * is more than the device takes in one request: it fails alone, with
 * IOERR, and the queue goes on.  Before, nothing bounded a request but
 * the backing's size, and a bio's unsigned int size wrapped at 4 GiB.
 */
TEST_F_TIMEOUT(vring, oversized_request_fails_alone, 120)
{
	struct vring_desc *d = self->b.vq[0].desc;
	struct vring_desc *t;
	uint8_t *big;
	unsigned int i;

	big = vblk_alloc(&self->b, 1 << 20, 4096);
	t = vblk_alloc(&self->b, 259 * sizeof(*t), 16);
	ASSERT_NE(NULL, big);
	ASSERT_NE(NULL, t);
	self->r.hdr->type = VIRTIO_BLK_T_IN;
	self->r.hdr->sector = 0;
	*self->r.status = 0xff;
	t[0] = (struct vring_desc){ (uintptr_t)self->r.hdr, 16,
				    VRING_DESC_F_NEXT, 1 };
	for (i = 1; i <= 257; i++)
		t[i] = (struct vring_desc){ (uintptr_t)big, 1 << 20,
					    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
					    i + 1 };
	t[258] = (struct vring_desc){ (uintptr_t)self->r.status, 1,
				      VRING_DESC_F_WRITE, 0 };
	d[0] = (struct vring_desc){ (uintptr_t)t, 259 * sizeof(*t),
				    VRING_DESC_F_INDIRECT, 0 };
	publish(&self->b, 0, 1);
	for (i = 0; i < 2000 &&
	     __atomic_load_n(self->r.status, __ATOMIC_ACQUIRE) == 0xff; i++)
		usleep(10000);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, *self->r.status);
	EXPECT_FALSE(needs_reset(&self->b));
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 1, VIRTIO_BLK_T_IN, 0,
					   self->buf, 4096));
}

/* Fill queue 0 with 64 KiB writes and leave them in flight. */
static void start_writes(struct vblk *b, uint8_t *buf, unsigned int n)
{
	static struct vblk_req r[64];
	unsigned int i;

	for (i = 0; i < n && i < 64; i++) {
		if (vblk_req_init(b, &r[i]))
			break;
		vblk_submit(b, 0, &r[i], VIRTIO_BLK_T_OUT, (i % 16) * 128,
			    buf, 65536, 4, false);
	}
	vblk_notify(b, 0);
}

/* A reset with requests in flight returns, and the device starts again. */
TEST_F_TIMEOUT(vring, reset_with_io_in_flight, 60)
{
	uint8_t zero = 0;
	struct vblk_opts o = {
		.nvq = 2, .num = 256, .features = FEATURES,
		.arena_size = 16 << 20, .vdpa = self->dev,
	};

	start_writes(&self->b, self->buf, 64);
	ASSERT_EQ(0, ioctl(self->b.fd, VHOST_VDPA_SET_STATUS, &zero));
	vblk_close(&self->b);
	ASSERT_EQ(0, vblk_open(&self->b, &o)) TH_LOG("%s", vblk_err);
	self->buf = vblk_alloc(&self->b, 65536, 4096);
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 1, VIRTIO_BLK_T_IN, 0,
					   self->buf, 4096));
}

/* A VMM killed with requests in flight: the device serves the next one. */
TEST_F_TIMEOUT(vring, vmm_killed_with_io_in_flight, 60)
{
	struct vblk_opts o = {
		.nvq = 2, .num = 256, .features = FEATURES,
		.arena_size = 16 << 20, .vdpa = self->dev,
	};
	struct vblk c;
	int status;
	pid_t pid;

	vblk_close(&self->b);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		uint8_t *buf;

		if (vblk_open(&c, &o))
			_exit(1);
		buf = vblk_alloc(&c, 65536, 4096);
		start_writes(&c, buf, 64);
		kill(getpid(), SIGKILL);
		_exit(2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(0, vblk_open(&self->b, &o)) TH_LOG("%s", vblk_err);
	self->buf = vblk_alloc(&self->b, 65536, 4096);
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 0, VIRTIO_BLK_T_IN, 0,
					   self->buf, 4096));
}

TEST_HARNESS_MAIN
