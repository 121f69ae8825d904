// SPDX-License-Identifier: GPL-2.0
/*
 * vhost_blk_test - the block device /dev/vhost-blk makes, driven by a
 * userspace virtio-blk driver.
 *
 * Data integrity on a file and on a loop device (O_DIRECT: asynchronous
 * requests in flight), flush/discard/write-zeroes/get-id semantics, backend
 * errors, discard and write-zeroes on block devices, the owner's
 * credentials, freezing, and module unload.  The ring engine's behaviour
 * through the same device is vhost_ring_test's.
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

#ifndef FIFREEZE			/* <linux/fs.h> clashes with <sys/mount.h> */
#define FIFREEZE	_IOWR('X', 119, int)
#define FITHAW		_IOWR('X', 120, int)
#endif

#include "kselftest_harness.h"
#include "kmod_util.h"
#include "vblk.h"
#include "vfio_util.h"
#include "vhost_blk_fixture.h"
#include "vhost_blk_util.h"

TEST_F(blk, config_features_and_id)
{
	struct vhost_blk_config c;
	struct stat st;
	struct vblk_opts o = { .nvq = 1, .num = 8, .features = FEATURES };
	char *id, first[21] = {}, old[21] = {};
	struct vblk b2;
	uint64_t feat;

	ASSERT_EQ(0, ioctl(self->b.fd, VHOST_BLK_GET_CONFIG, &c));
	EXPECT_EQ(DISK_SIZE / SECTOR, c.capacity);
	EXPECT_EQ(SECTOR, c.blk_size);
	EXPECT_LE(64, c.seg_max);
	EXPECT_EQ(16, c.num_queues);
	EXPECT_EQ(0, c.read_only);
	EXPECT_EQ(1, c.max_discard_seg);
	EXPECT_EQ(1, c.max_write_zeroes_seg);
	ASSERT_EQ(0, ioctl(self->b.fd, VHOST_GET_FEATURES, &feat));
	EXPECT_EQ(0, feat & (1ULL << VIRTIO_BLK_F_RO));
	EXPECT_TRUE(feat & (1ULL << VHOST_F_LOG_ALL));
	EXPECT_EQ(FEATURES, self->b.features);

	/*
	 * GET_ID: "vhost-blk-" and ten hex digits of the device's own, the
	 * same for every request; not the backing's inode number, which
	 * would tell the guest about the host, nor anything else of the
	 * backing's: another device on the same backing answers differently.
	 */
	id = vblk_alloc(&self->b, 20, 64);
	ASSERT_NE(NULL, id);
	ASSERT_EQ(0, fstat(self->backing, &st));
	snprintf(old, sizeof(old), "vhost-blk-%lx", (unsigned long)st.st_ino);
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 1, VIRTIO_BLK_T_GET_ID, 0,
					   id, 20));
	memcpy(first, id, 20);
	EXPECT_EQ(0, strncmp("vhost-blk-", first, 10)) TH_LOG("id '%s'", first);
	EXPECT_EQ(10, strspn(first + 10, "0123456789abcdef"))
		TH_LOG("id '%s'", first);
	EXPECT_NE(0, strncmp(first, old, 20))
		TH_LOG("id '%s' is the inode number", first);
	memset(id, 0, 20);
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 2, VIRTIO_BLK_T_GET_ID, 0,
					   id, 20));
	EXPECT_EQ(0, memcmp(first, id, 20));
	o.backend_fd = self->backing;
	ASSERT_EQ(0, vblk_open(&b2, &o)) TH_LOG("%s", vblk_err);
	id = vblk_alloc(&b2, 20, 64);
	ASSERT_NE(NULL, id);
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b2, 0, VIRTIO_BLK_T_GET_ID, 0, id,
					   20));
	EXPECT_NE(0, memcmp(first, id, 20)) TH_LOG("both ids '%s'", first);
	vblk_close(&b2);
}

#define QD	8

struct io_slot {
	struct vblk_req r;
	uint8_t *buf;
	uint64_t off;
	size_t len;
	bool write;
};

/* Does [off, off + len) overlap a request queued before slot (q, i)? */
static bool overlaps(struct io_slot io[][QD], unsigned int nvq,
		     unsigned int q, unsigned int i, uint64_t off, size_t len)
{
	unsigned int k, j;

	for (k = 0; k < nvq; k++) {
		for (j = 0; j < QD; j++) {
			if (k > q || (k == q && j >= i) || !io[k][j].len)
				continue;
			if (off < io[k][j].off + io[k][j].len &&
			    io[k][j].off < off + len)
				return true;
		}
	}
	return false;
}

/* Random reads and writes, checked against a shadow copy of the disk. */
static void integrity(struct __test_metadata *_metadata, struct vblk *b,
		      uint8_t *shadow, int backing, unsigned int ops,
		      unsigned int seg_max)
{
	struct io_slot io[VBLK_MAX_QUEUES][QD];
	uint8_t *check;
	unsigned int q, i, done = 0, reads = 0, writes = 0, sg = 0, ind = 0;
	uint64_t bytes = 0;

	for (q = 0; q < b->nvq; q++)
		for (i = 0; i < QD; i++) {
			ASSERT_EQ(0, vblk_req_init(b, &io[q][i].r));
			io[q][i].buf = vblk_alloc(b, 1 << 20, 4096);
			ASSERT_NE(NULL, io[q][i].buf);
		}

	while (done < ops) {
		/* A batch: up to QD per queue, no two overlapping. */
		unsigned int n = 0;

		for (q = 0; q < b->nvq; q++) {
			for (i = 0; i < QD && done + n < ops; i++) {
				size_t len = (size_t)SECTOR << (rnd() % 12);
				uint64_t off = (rnd() % ((DISK_SIZE - len) /
						SECTOR + 1)) * SECTOR;
				unsigned int segs;
				int ret;

				io[q][i].len = 0;
				if (overlaps(io, b->nvq, q, i, off, len))
					continue;
				segs = 1 + rnd() % (len / SECTOR < seg_max ?
						    len / SECTOR : seg_max);
				io[q][i].off = off;
				io[q][i].len = len;
				io[q][i].write = rnd() & 1;
				if (io[q][i].write)
					fill(io[q][i].buf, len, rnd());
				else
					memset(io[q][i].buf, 0xee, len);
				sg += segs > 1;
				ind += segs > 4;
				ret = vblk_submit(b, q, &io[q][i].r,
						  io[q][i].write ?
						  VIRTIO_BLK_T_OUT :
						  VIRTIO_BLK_T_IN,
						  off / SECTOR, io[q][i].buf,
						  len, segs,
						  segs > 4 || (rnd() & 3) == 0);
				ASSERT_EQ(0, ret);
				n++;
			}
			vblk_kick(b, q);
		}
		for (q = 0; q < b->nvq; q++) {
			for (i = 0; i < QD; i++) {
				if (!io[q][i].len)
					continue;
				ASSERT_EQ(0, vblk_complete(b, q, &io[q][i].r,
							   20000))
					TH_LOG("request timed out");
				ASSERT_EQ(VIRTIO_BLK_S_OK, *io[q][i].r.status);
				if (io[q][i].write) {
					memcpy(shadow + io[q][i].off,
					       io[q][i].buf, io[q][i].len);
					writes++;
					EXPECT_EQ(1, io[q][i].r.used_len);
				} else {
					ASSERT_EQ(0, memcmp(shadow + io[q][i].off,
							    io[q][i].buf,
							    io[q][i].len))
						TH_LOG("read of %zu at %llu differs",
						       io[q][i].len,
						       (unsigned long long)io[q][i].off);
					reads++;
					EXPECT_EQ(io[q][i].len + 1,
						  io[q][i].r.used_len);
				}
				bytes += io[q][i].len;
				io[q][i].len = 0;
				done++;
			}
		}
	}

	/* The backing store holds exactly what was written. */
	check = malloc(DISK_SIZE);
	ASSERT_NE(NULL, check);
	ASSERT_EQ(DISK_SIZE, pread(backing, check, DISK_SIZE, 0));
	EXPECT_EQ(0, memcmp(check, shadow, DISK_SIZE));
	free(check);
	ksft_print_msg("%u requests (%u reads, %u writes, %u SG, %u+ indirect), %llu MiB\n",
		       done, reads, writes, sg, ind,
		       (unsigned long long)(bytes >> 20));
}

TEST_F_TIMEOUT(blk, integrity_file, 600)
{
	integrity(_metadata, &self->b, self->shadow, self->backing, 2000, 64);
}

TEST_F(blk, flush_discard_write_zeroes)
{
	struct virtio_blk_discard_write_zeroes *seg;
	uint8_t *buf, *zero;
	size_t len = 64 << 10;

	buf = vblk_alloc(&self->b, len, 4096);
	zero = calloc(1, len);
	seg = vblk_alloc(&self->b, 2 * sizeof(*seg), 16);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, seg);

	fill(buf, len, 7);
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 0, VIRTIO_BLK_T_OUT, 128,
					   buf, len));
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 0, VIRTIO_BLK_T_FLUSH, 0,
					   NULL, 0));

	/* Discard the first half: it reads back as zeroes. */
	seg[0].sector = 128;
	seg[0].num_sectors = len / 2 / SECTOR;
	seg[0].flags = 0;
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 0, VIRTIO_BLK_T_DISCARD,
					   0, seg, sizeof(*seg)));
	memset(buf, 0xee, len);
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 0, VIRTIO_BLK_T_IN, 128,
					   buf, len));
	EXPECT_EQ(0, memcmp(buf, zero, len / 2));
	fill(zero, len, 7);
	EXPECT_EQ(0, memcmp(buf + len / 2, zero + len / 2, len / 2));
	memset(zero, 0, len);

	/* Write zeroes, with and without unmap. */
	fill(buf, len, 9);
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 0, VIRTIO_BLK_T_OUT, 1024,
					   buf, len));
	seg[0].sector = 1024;
	seg[0].num_sectors = 8;
	seg[0].flags = 0;
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 0,
					   VIRTIO_BLK_T_WRITE_ZEROES, 0, seg,
					   sizeof(*seg)));
	seg[0].sector = 1040;
	seg[0].flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 0,
					   VIRTIO_BLK_T_WRITE_ZEROES, 0, seg,
					   sizeof(*seg)));
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 0, VIRTIO_BLK_T_IN, 1024,
					   buf, len));
	EXPECT_EQ(0, memcmp(buf, zero, 8 * SECTOR));
	EXPECT_EQ(0, memcmp(buf + 16 * SECTOR, zero, 8 * SECTOR));
	fill(zero, len, 9);
	EXPECT_EQ(0, memcmp(buf + 8 * SECTOR, zero + 8 * SECTOR, 8 * SECTOR));
	EXPECT_EQ(0, memcmp(buf + 24 * SECTOR, zero + 24 * SECTOR,
			    len - 24 * SECTOR));

	/* Beyond the disk, two segments, unknown flags: I/O errors. */
	seg[0].sector = DISK_SIZE / SECTOR - 4;
	seg[0].num_sectors = 8;
	seg[0].flags = 0;
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, vblk_do(&self->b, 0, VIRTIO_BLK_T_DISCARD,
					      0, seg, sizeof(*seg)));
	seg[0].sector = 0;
	seg[1] = seg[0];
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, vblk_do(&self->b, 0, VIRTIO_BLK_T_DISCARD,
					      0, seg, 2 * sizeof(*seg)));
	seg[0].flags = 0x80;
	EXPECT_EQ(VIRTIO_BLK_S_IOERR,
		  vblk_do(&self->b, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, seg,
			  sizeof(*seg)));
	free(zero);
}

TEST_F(blk, unsupported_and_out_of_range)
{
	uint8_t *buf = vblk_alloc(&self->b, 8192, 4096);

	ASSERT_NE(NULL, buf);
	EXPECT_EQ(VIRTIO_BLK_S_UNSUPP, vblk_do(&self->b, 2, 0x77, 0, buf,
					       SECTOR));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, vblk_do(&self->b, 2, VIRTIO_BLK_T_IN,
					      DISK_SIZE / SECTOR - 1, buf,
					      2 * SECTOR));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, vblk_do(&self->b, 2, VIRTIO_BLK_T_OUT,
					      DISK_SIZE / SECTOR, buf, SECTOR));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, vblk_do(&self->b, 2, VIRTIO_BLK_T_IN, 0,
					      buf, 100));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, vblk_do(&self->b, 2, VIRTIO_BLK_T_IN,
					      ~0ull >> 1, buf, SECTOR));
	/* Sectors whose byte offset wraps around 64 bits. */
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, vblk_do(&self->b, 2, VIRTIO_BLK_T_OUT,
					      (~0ull >> 9) - 7, buf, 8192));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, vblk_do(&self->b, 2, VIRTIO_BLK_T_IN,
					      ~0ull, buf, SECTOR));
	/* Still serving. */
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&self->b, 2, VIRTIO_BLK_T_IN, 0,
					   buf, 8192));
}

TEST(backend_errors)
{
	struct vblk_opts o = { .nvq = 1, .num = 16, .features = FEATURES };
	struct vblk b;
	uint8_t *buf;
	uint64_t feat;
	int fd;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");

	/* A full tmpfs: the write fails, the request completes. */
	mkdir("/tmp/small", 0700);
	ASSERT_EQ(0, mount("tmpfs", "/tmp/small", "tmpfs", 0, "size=256k"));
	fd = make_backing("/tmp/small/disk", 8 << 20, O_RDWR);
	ASSERT_LE(0, fd);
	o.backend_fd = fd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	buf = vblk_alloc(&b, 1 << 20, 4096);
	fill(buf, 1 << 20, 3);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, vblk_do(&b, 0, VIRTIO_BLK_T_OUT, 0, buf,
					      1 << 20));
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_IN, 4096, buf,
					   4096));
	vblk_close(&b);
	close(fd);
	umount("/tmp/small");

	/* A read-only backend: offered as RO, writes refused, reads work. */
	fd = make_backing(BACKING, 1 << 20, O_RDONLY);
	ASSERT_LE(0, fd);
	o.backend_fd = fd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	ASSERT_EQ(0, ioctl(b.fd, VHOST_GET_FEATURES, &feat));
	EXPECT_TRUE(feat & (1ULL << VIRTIO_BLK_F_RO));
	buf = vblk_alloc(&b, 4096, 4096);
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, vblk_do(&b, 0, VIRTIO_BLK_T_OUT, 0, buf,
					      4096));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, vblk_do(&b, 0, VIRTIO_BLK_T_DISCARD, 0,
					      buf, 16));
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_IN, 0, buf,
					   4096));
	vblk_close(&b);
	close(fd);
	unlink(BACKING);
}

/* Writes land on their sector even if the backend fd is O_APPEND. */
TEST(append_backend_writes_in_place)
{
	struct vblk_opts o = { .nvq = 1, .num = 16, .features = FEATURES };
	uint8_t *buf, back[4096];
	struct stat st;
	struct vblk b;
	int fd;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	fd = make_backing(BACKING, 1 << 20, O_RDWR | O_APPEND);
	ASSERT_LE(0, fd);
	o.backend_fd = fd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	buf = vblk_alloc(&b, sizeof(back), 4096);
	ASSERT_NE(NULL, buf);
	fill(buf, sizeof(back), 11);
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_OUT, 16, buf,
					   sizeof(back)));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(1 << 20, st.st_size);
	ASSERT_EQ((ssize_t)sizeof(back), pread(fd, back, sizeof(back),
					       16 * SECTOR));
	EXPECT_EQ(0, memcmp(buf, back, sizeof(back)));
	vblk_close(&b);
	close(fd);
	unlink(BACKING);
}

#ifndef FS_IOC_SETFLAGS			/* <linux/fs.h> clashes with <sys/mount.h> */
#define FS_IOC_GETFLAGS	_IOR('f', 1, long)
#define FS_IOC_SETFLAGS	_IOW('f', 2, long)
#define FS_APPEND_FL	0x00000020
#endif

/*
 * An append-only file (chattr +a) must not have its sectors overwritten:
 * it is refused as a writable backend with EPERM, whether the fd was
 * opened before the flag was set or with O_APPEND after; opened for
 * reading only, it backs a read-only disk.
 */
TEST(append_only_backend_refused)
{
	struct vblk_opts o = { .nvq = 1, .num = 16, .features = FEATURES,
			       .no_backend = true };
	const char *dir = "/tmp/vhostappend", *path = "/tmp/vhostappend/disk";
	struct vhost_vring_file f = { .index = 0 };
	int before, after, ro, flags = 0;
	struct vblk b;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	mkdir(dir, 0700);
	ASSERT_EQ(0, mount("tmpfs", dir, "tmpfs", 0, "size=4m"));
	before = make_backing(path, 1 << 20, O_RDWR);
	ASSERT_LE(0, before);
	ASSERT_EQ(0, ioctl(before, FS_IOC_GETFLAGS, &flags));
	flags |= FS_APPEND_FL;
	if (ioctl(before, FS_IOC_SETFLAGS, &flags)) {
		close(before);
		umount(dir);
		SKIP(return, "no chattr +a on tmpfs: %s", strerror(errno));
	}
	after = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, after);
	ASSERT_LE(0, ro);
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	f.fd = before;
	EXPECT_EQ(-1, ioctl(b.fd, VHOST_BLK_SET_BACKEND, &f));
	EXPECT_EQ(EPERM, errno);
	f.fd = after;
	EXPECT_EQ(-1, ioctl(b.fd, VHOST_BLK_SET_BACKEND, &f));
	EXPECT_EQ(EPERM, errno);
	f.fd = ro;
	EXPECT_EQ(0, ioctl(b.fd, VHOST_BLK_SET_BACKEND, &f));
	vblk_close(&b);
	flags &= ~FS_APPEND_FL;
	EXPECT_EQ(0, ioctl(ro, FS_IOC_SETFLAGS, &flags));
	close(before);
	close(after);
	close(ro);
	EXPECT_EQ(0, unlink(path));
	EXPECT_EQ(0, umount(dir));
}

/*
 * A backing file system without fallocate (ramfs): a discard is a hint
 * and succeeds without touching the data; write-zeroes is unsupported, so
 * the driver can fall back to writing zeroes.
 */
TEST(discard_and_write_zeroes_without_fallocate)
{
	struct vblk_opts o = { .nvq = 1, .num = 16, .features = FEATURES };
	const char *dir = "/tmp/vhost-ramfs", *path = "/tmp/vhost-ramfs/disk";
	struct virtio_blk_discard_write_zeroes *seg;
	uint8_t *buf, back[4096];
	struct vblk b;
	int fd;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	mkdir(dir, 0700);
	if (mount("ramfs", dir, "ramfs", 0, NULL))
		SKIP(return, "no ramfs: %s", strerror(errno));
	fd = make_backing(path, 1 << 20, O_RDWR);
	ASSERT_LE(0, fd);
	o.backend_fd = fd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	buf = vblk_alloc(&b, sizeof(back), 4096);
	seg = vblk_alloc(&b, sizeof(*seg), 16);
	ASSERT_TRUE(buf && seg);
	fill(buf, sizeof(back), 13);
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_OUT, 8, buf,
					   sizeof(back)));
	seg->sector = 8;
	seg->num_sectors = 8;
	seg->flags = 0;
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_DISCARD, 0,
					   seg, sizeof(*seg)));
	EXPECT_EQ(VIRTIO_BLK_S_UNSUPP, vblk_do(&b, 0,
					       VIRTIO_BLK_T_WRITE_ZEROES, 0,
					       seg, sizeof(*seg)));
	seg->flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	EXPECT_EQ(VIRTIO_BLK_S_UNSUPP, vblk_do(&b, 0,
					       VIRTIO_BLK_T_WRITE_ZEROES, 0,
					       seg, sizeof(*seg)));
	ASSERT_EQ((ssize_t)sizeof(back), pread(fd, back, sizeof(back),
					       8 * SECTOR));
	EXPECT_EQ(0, memcmp(buf, back, sizeof(back)));
	vblk_close(&b);
	close(fd);
	unlink(path);
	EXPECT_EQ(0, umount(dir));
}

/*
 * A read of 257 MiB (257 indirect descriptors of the same 1 MiB buffer)
 * on a sparse 512 MiB backing is more than one request may move: it
 * fails alone with IOERR and a used length of 1, and the queue goes on.
 */
TEST(oversized_request_fails_alone)
{
	struct vblk_opts o = { .nvq = 1, .num = 16, .features = FEATURES };
	struct vring_desc *t, *d;
	struct vblk_req r;
	uint8_t *big;
	uint32_t len;
	unsigned int i;
	struct vblk b;
	int fd;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	fd = make_backing(BACKING, 512 << 20, O_RDWR);
	ASSERT_LE(0, fd);
	o.backend_fd = fd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	big = vblk_alloc(&b, 1 << 20, 4096);
	t = vblk_alloc(&b, 259 * sizeof(*t), 16);
	ASSERT_TRUE(big && t);
	ASSERT_EQ(0, vblk_req_init(&b, &r));
	r.hdr->type = VIRTIO_BLK_T_IN;
	r.hdr->sector = 0;
	*r.status = 0xff;
	t[0] = (struct vring_desc){ vblk_gpa(&b, r.hdr), 16,
				    VRING_DESC_F_NEXT, 1 };
	for (i = 1; i <= 257; i++)
		t[i] = (struct vring_desc){ vblk_gpa(&b, big), 1 << 20,
					    VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
					    i + 1 };
	t[258] = (struct vring_desc){ vblk_gpa(&b, r.status), 1,
				      VRING_DESC_F_WRITE, 0 };
	d = b.vq[0].desc;
	d[0] = (struct vring_desc){ vblk_gpa(&b, t), 259 * sizeof(*t),
				    VRING_DESC_F_INDIRECT, 0 };
	b.vq[0].chain_len[0] = 1;
	b.vq[0].num_free--;
	b.vq[0].free_head = 1;
	b.vq[0].avail->ring[0] = 0;
	b.vq[0].avail_idx++;
	vblk_notify(&b, 0);
	for (i = 0; i < 100 && vblk_get_used(&b, 0, NULL, &len); i++)
		vblk_wait(&b, 0, 100);
	ASSERT_GT(100, i) TH_LOG("request not completed");
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, *r.status);
	EXPECT_EQ(1, len);
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_IN, 0, big,
					   1 << 20));
	vblk_close(&b);
	close(fd);
	unlink(BACKING);
}

/*
 * On a disk that takes 200 ms for every request: submit @slow of @type
 * (with @data of @len) on queue 0, right after it a 4 KiB read of @sector
 * into @buf on queue 1, and wait for both.  Both succeed, and the read
 * does not wait for the slow request: it completes in less than 0.35 s.
 */
static void read_behind(struct __test_metadata *_metadata, struct vblk *b,
			struct vblk_req *slow, uint32_t type, void *data,
			size_t len, struct vblk_req *rd, uint64_t sector,
			void *buf)
{
	struct timespec t0;
	double t_rd;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_EQ(0, vblk_submit(b, 0, slow, type, 0, data, len, len ? 1 : 0,
				 false));
	vblk_kick(b, 0);
	ASSERT_EQ(0, vblk_submit(b, 1, rd, VIRTIO_BLK_T_IN, sector, buf, 4096,
				 1, false));
	vblk_kick(b, 1);
	ASSERT_EQ(0, vblk_complete(b, 1, rd, 5000));
	t_rd = elapsed(&t0);
	ASSERT_EQ(0, vblk_complete(b, 0, slow, 5000));
	EXPECT_EQ(VIRTIO_BLK_S_OK, *slow->status);
	EXPECT_EQ(VIRTIO_BLK_S_OK, *rd->status);
	EXPECT_GT(0.35, t_rd) TH_LOG("read done after %.3f s", t_rd);
}

/*
 * A block device's flush does not hold up the worker.  On a disk with a
 * write cache that takes 200 ms for every request, a read sent on another
 * queue right after a flush completes with it, in about 200 ms; a flush
 * that blocked the worker would delay the read's submission by 200 ms.
 */
TEST(flush_does_not_hold_up_other_queues)
{
	static const char *const cached_disk[] = {
		"size", "64", "memory_backed", "1", "cache_size", "16",
		"irqmode", "2", "completion_nsec", "200000000", NULL
	};
	struct vblk_opts o = { .nvq = 2, .num = 16, .features = FEATURES };
	const char *node = "/tmp/vhostflush-nullb";
	struct vblk_req *flush, *rd;
	struct vblk b;
	void *buf;
	int fd;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	fd = nullb_open("vhostflush", node, cached_disk);
	if (fd == -ENOENT)
		SKIP(return, "no null_blk configfs");
	ASSERT_LE(0, fd) TH_LOG("%s: %s", node, strerror(-fd));
	o.backend_fd = fd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	flush = vblk_alloc(&b, sizeof(*flush), 64);
	rd = vblk_alloc(&b, sizeof(*rd), 64);
	buf = vblk_alloc(&b, 4096, 4096);
	ASSERT_TRUE(flush && rd && buf);
	ASSERT_EQ(0, vblk_req_init(&b, flush));
	ASSERT_EQ(0, vblk_req_init(&b, rd));
	/* Something to flush. */
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_OUT, 8, buf,
					   4096));

	read_behind(_metadata, &b, flush, VIRTIO_BLK_T_FLUSH, NULL, 0, rd, 8,
		    buf);
	vblk_close(&b);
	close(fd);
	EXPECT_EQ(0, nullb_remove("vhostflush", node));
}

/*
 * Discard and write-zeroes on a block device, on a disk that takes 200 ms
 * for every request.  A discard does not hold up the worker: a read sent
 * on another queue right after it completes in about 200 ms.  It is a
 * real discard (null_blk has no write-zeroes, so punching a hole would
 * fail) and reads back as zeroes, as does the range of a write-zeroes.
 * Closing the device with a discard in flight waits for it.
 */
TEST(discard_on_block_device)
{
	static const char *const slow_disk[] = {
		"size", "64", "memory_backed", "1", "discard", "1",
		"irqmode", "2", "completion_nsec", "200000000", NULL
	};
	struct vblk_opts o = { .nvq = 2, .num = 16, .features = FEATURES };
	const char *node = "/tmp/vhostdiscard-nullb";
	struct virtio_blk_discard_write_zeroes *seg;
	struct vblk_req *dis, *rd;
	uint8_t *buf, *zero;
	struct vblk b;
	int fd;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	fd = nullb_open("vhostdiscard", node, slow_disk);
	if (fd == -ENOENT)
		SKIP(return, "no null_blk configfs");
	ASSERT_LE(0, fd) TH_LOG("%s: %s", node, strerror(-fd));
	o.backend_fd = fd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	dis = vblk_alloc(&b, sizeof(*dis), 64);
	rd = vblk_alloc(&b, sizeof(*rd), 64);
	seg = vblk_alloc(&b, sizeof(*seg), 16);
	buf = vblk_alloc(&b, 8192, 4096);
	zero = calloc(1, 8192);
	ASSERT_TRUE(dis && rd && seg && buf && zero);
	ASSERT_EQ(0, vblk_req_init(&b, dis));
	ASSERT_EQ(0, vblk_req_init(&b, rd));
	fill(buf, 8192, 5);
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_OUT, 8, buf,
					   8192));

	seg->sector = 8;
	seg->num_sectors = 8;
	seg->flags = 0;
	read_behind(_metadata, &b, dis, VIRTIO_BLK_T_DISCARD, seg, sizeof(*seg),
		    rd, 1024, buf);

	/* Discarded: zeroes; the next 4 KiB, then written zeroes, too. */
	seg->sector = 16;
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_WRITE_ZEROES,
					   0, seg, sizeof(*seg)));
	memset(buf, 0xee, 8192);
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_IN, 8, buf,
					   8192));
	EXPECT_EQ(0, memcmp(buf, zero, 8192));

	/* Closing waits for a discard in flight. */
	seg->sector = 8;
	ASSERT_EQ(0, vblk_submit(&b, 0, dis, VIRTIO_BLK_T_DISCARD, 0, seg,
				 sizeof(*seg), 1, false));
	vblk_kick(&b, 0);
	vblk_close(&b);
	close(fd);
	free(zero);
	EXPECT_EQ(0, nullb_remove("vhostdiscard", node));
}

#ifndef BLKROSET			/* <linux/fs.h> clashes with <sys/mount.h> */
#define BLKROSET	_IO(0x12, 93)
#endif

/*
 * Discard and write-zeroes on @b (a memory-backed null_blk with discard),
 * sectors 8 to 15, which hold data: both must fail, the data stays.
 */
static void discard_refused(struct __test_metadata *_metadata, struct vblk *b)
{
	struct virtio_blk_discard_write_zeroes *seg;
	uint8_t *buf, *before;

	buf = vblk_alloc(b, 4096, 4096);
	before = malloc(4096);
	seg = vblk_alloc(b, sizeof(*seg), 16);
	ASSERT_TRUE(buf && before && seg);
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(b, 0, VIRTIO_BLK_T_IN, 8, buf,
					   4096));
	memcpy(before, buf, 4096);
	seg->sector = 8;
	seg->num_sectors = 8;
	seg->flags = 0;
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, vblk_do(b, 0, VIRTIO_BLK_T_DISCARD, 0,
					      seg, sizeof(*seg)));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, vblk_do(b, 0, VIRTIO_BLK_T_WRITE_ZEROES,
					      0, seg, sizeof(*seg)));
	seg->flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, vblk_do(b, 0, VIRTIO_BLK_T_WRITE_ZEROES,
					      0, seg, sizeof(*seg)));
	memset(buf, 0xee, 4096);
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(b, 0, VIRTIO_BLK_T_IN, 8, buf,
					   4096));
	EXPECT_EQ(0, memcmp(before, buf, 4096)) TH_LOG("the data changed");
	free(before);
}

/*
 * A block device made read-only (BLKROSET) after the backend was opened
 * for writing: discard and write-zeroes fail, as writes do, and the data
 * stays.
 */
TEST(discard_on_read_only_block_device)
{
	static const char *const disk[] = {
		"size", "64", "memory_backed", "1", "discard", "1", NULL
	};
	struct vblk_opts o = { .nvq = 1, .num = 16, .features = FEATURES };
	const char *node = "/tmp/vhostro-nullb";
	int fd, ro = 1;
	uint8_t *buf;
	struct vblk b;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	fd = nullb_open("vhostro", node, disk);
	if (fd == -ENOENT)
		SKIP(return, "no null_blk configfs");
	ASSERT_LE(0, fd) TH_LOG("%s: %s", node, strerror(-fd));
	o.backend_fd = fd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	buf = vblk_alloc(&b, 4096, 4096);
	ASSERT_NE(NULL, buf);
	fill(buf, 4096, 21);
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_OUT, 8, buf,
					   4096));
	ASSERT_EQ(0, ioctl(fd, BLKROSET, &ro));
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, vblk_do(&b, 0, VIRTIO_BLK_T_OUT, 8, buf,
					      4096));
	discard_refused(_metadata, &b);
	ro = 0;
	EXPECT_EQ(0, ioctl(fd, BLKROSET, &ro));
	vblk_close(&b);
	close(fd);
	EXPECT_EQ(0, nullb_remove("vhostro", node));
}

/*
 * A block device with a file system mounted on it (read-only, so that the
 * device may be opened for writing at all): a discard would drop the file
 * system's cached blocks and deallocate them under it.  It fails, and the
 * data stays.  (Write-zeroes go through blkdev_fallocate(), which does not
 * drop the cache of a device someone else holds and writes zeroes anyway:
 * not checked here.)
 */
TEST(discard_on_mounted_block_device)
{
	static const char *const disk[] = {
		"size", "64", "memory_backed", "1", "discard", "1", NULL
	};
	struct vblk_opts o = { .nvq = 1, .num = 16, .features = FEATURES };
	const char *node = "/tmp/vhostmnt-nullb", *dir = "/tmp/vhostmnt";
	struct virtio_blk_discard_write_zeroes *seg;
	uint8_t *buf, *before;
	struct vblk b;
	char cmd[128];
	int fd, ret;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	ret = nullb_make("vhostmnt", node, disk);
	if (ret == -ENOENT)
		SKIP(return, "no null_blk configfs");
	ASSERT_EQ(0, ret);
	snprintf(cmd, sizeof(cmd), "mke2fs -F %s >/dev/null 2>&1", node);
	ASSERT_EQ(0, system(cmd));
	mkdir(dir, 0700);
	if (mount(node, dir, "ext4", MS_RDONLY, NULL)) {
		nullb_remove("vhostmnt", node);
		SKIP(return, "cannot mount ext4: %s", strerror(errno));
	}
	fd = open(node, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		/* CONFIG_BLK_DEV_WRITE_MOUNTED=n: nothing to test. */
		umount(dir);
		nullb_remove("vhostmnt", node);
		SKIP(return, "cannot open a mounted device for writing: %s",
		     strerror(errno));
	}
	o.backend_fd = fd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	buf = vblk_alloc(&b, 4096, 4096);
	before = malloc(4096);
	seg = vblk_alloc(&b, sizeof(*seg), 16);
	ASSERT_TRUE(buf && before && seg);
	/* The superblock, 1 KiB in. */
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_IN, 0, buf,
					   4096));
	memcpy(before, buf, 4096);
	seg->sector = 0;
	seg->num_sectors = 8;
	seg->flags = 0;
	EXPECT_EQ(VIRTIO_BLK_S_IOERR, vblk_do(&b, 0, VIRTIO_BLK_T_DISCARD, 0,
					      seg, sizeof(*seg)));
	memset(buf, 0xee, 4096);
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_IN, 0, buf,
					   4096));
	EXPECT_EQ(0, memcmp(before, buf, 4096)) TH_LOG("the superblock changed");
	vblk_close(&b);
	close(fd);
	free(before);
	EXPECT_EQ(0, umount(dir));
	/* Unmounted, the same discard goes through. */
	fd = open(node, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	o.backend_fd = fd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	seg = vblk_alloc(&b, sizeof(*seg), 16);
	ASSERT_NE(NULL, seg);
	seg->sector = 0;
	seg->num_sectors = 8;
	seg->flags = 0;
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_DISCARD, 0,
					   seg, sizeof(*seg)));
	vblk_close(&b);
	close(fd);
	EXPECT_EQ(0, nullb_remove("vhostmnt", node));
}

/*
 * The worker writes with its owner's credentials: a user's write into a
 * file system whose free space is all reserved for root fails with
 * ENOSPC (IOERR), while root still has room.  With root's credentials it
 * would eat the reserved blocks.  (A kernel thread before 6.11 has
 * root's unless it takes the owner's.)
 */
TEST_F_TIMEOUT(blk, writes_take_the_owners_credentials, 300)
{
	static const char *const disk[] = {
		"size", "64", "memory_backed", "1", NULL
	};
	const char *node = "/tmp/vhostcred-nullb", *dir = "/tmp/vhostcred";
	char cmd[128], root[64 << 10];
	int ret, status, fd;
	pid_t pid;

	ret = nullb_make("vhostcred", node, disk);
	if (ret == -ENOENT)
		SKIP(return, "no null_blk configfs");
	ASSERT_EQ(0, ret);
	/* Half the blocks reserved for root. */
	snprintf(cmd, sizeof(cmd), "mke2fs -F -m 50 %s >/dev/null 2>&1", node);
	ASSERT_EQ(0, system(cmd));
	mkdir(dir, 0700);
	if (mount(node, dir, "ext4", 0, NULL)) {
		nullb_remove("vhostcred", node);
		SKIP(return, "cannot mount ext4: %s", strerror(errno));
	}
	ASSERT_EQ(0, chmod(dir, 0777));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct vblk_opts o = { .nvq = 1, .num = 16,
				       .features = FEATURES };
		static char chunk[64 << 10];
		int dev = open("/dev/vhost-blk", O_RDWR | O_CLOEXEC);
		int fill_fd, disk_fd;
		size_t sz = sizeof(chunk);
		uint8_t *buf;
		struct vblk b;

		if (dev < 0 || setgid(1000) || setuid(1000))
			_exit(10);
		disk_fd = open("/tmp/vhostcred/disk", O_RDWR | O_CREAT, 0600);
		fill_fd = open("/tmp/vhostcred/fill", O_RDWR | O_CREAT, 0600);
		if (disk_fd < 0 || fill_fd < 0 || ftruncate(disk_fd, 8 << 20))
			_exit(11);
		/* Everything the user may have. */
		memset(chunk, 0x5a, sizeof(chunk));
		while (sz >= 1024) {
			if (write(fill_fd, chunk, sz) < 0) {
				if (errno != ENOSPC)
					_exit(12);
				fsync(fill_fd);
				sz /= 2;
			}
		}
		if (fsync(fill_fd))
			_exit(13);
		o.dev_fd = dev;
		o.backend_fd = disk_fd;
		if (vblk_open(&b, &o))
			_exit(14);
		buf = vblk_alloc(&b, 64 << 10, 4096);
		if (!buf)
			_exit(15);
		memset(buf, 0xa5, 64 << 10);
		if (vblk_do(&b, 0, VIRTIO_BLK_T_OUT, 0, buf, 64 << 10) !=
		    VIRTIO_BLK_S_IOERR)
			_exit(16);
		vblk_close(&b);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("step %d failed", WEXITSTATUS(status));
	/* Root still has room: the user's write failed for want of rights. */
	fd = open("/tmp/vhostcred/root", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	memset(root, 0x3c, sizeof(root));
	EXPECT_EQ((ssize_t)sizeof(root), write(fd, root, sizeof(root)));
	EXPECT_EQ(0, fsync(fd));
	close(fd);
	unlink("/tmp/vhostcred/root");
	unlink("/tmp/vhostcred/disk");
	unlink("/tmp/vhostcred/fill");
	EXPECT_EQ(0, umount(dir));
	EXPECT_EQ(0, nullb_remove("vhostcred", node));
}

/* FIFREEZE or FITHAW @dir in a child; false if it did not end in @secs. */
static bool freeze_ioctl(const char *dir, unsigned long req, int secs)
{
	int fd, status, i;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		fd = open(dir, O_RDONLY | O_DIRECTORY);
		_exit(fd < 0 || ioctl(fd, req, 0) ? 1 : 0);
	}
	if (pid < 0)
		return false;
	for (i = 0; i < secs * 10; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) && !WEXITSTATUS(status);
		usleep(100000);
	}
	return false;	/* stuck: left behind */
}

/*
 * A file system freeze waits for the writes in flight and holds new ones
 * back until the thaw.  On an ext4 file opened O_DIRECT writes are queued
 * and complete later; after one completed, a freeze must still go
 * through, and a write sent while frozen completes only after the thaw.
 */
TEST(freeze_waits_for_writes_and_holds_them)
{
	static const char *const disk[] = {
		"size", "64", "memory_backed", "1", NULL
	};
	struct vblk_opts o = { .nvq = 1, .num = 16, .features = FEATURES };
	const char *node = "/tmp/vhostfreeze-nullb", *dir = "/tmp/vhostfreeze";
	const char *path = "/tmp/vhostfreeze/disk";
	char cmd[128], zero[65536] = {};
	struct vblk_req *wr;
	struct vblk b;
	uint8_t *buf;
	int fd, ret, i;

	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	ret = nullb_make("vhostfreeze", node, disk);
	if (ret == -ENOENT)
		SKIP(return, "no null_blk configfs");
	ASSERT_EQ(0, ret);
	snprintf(cmd, sizeof(cmd), "mke2fs -F %s >/dev/null 2>&1", node);
	ASSERT_EQ(0, system(cmd));
	mkdir(dir, 0700);
	if (mount(node, dir, "ext4", 0, NULL)) {
		nullb_remove("vhostfreeze", node);
		SKIP(return, "cannot mount ext4: %s", strerror(errno));
	}
	/* Allocated blocks, so that direct writes are not buffered. */
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	for (i = 0; i < 16; i++)
		ASSERT_EQ((ssize_t)sizeof(zero), write(fd, zero, sizeof(zero)));
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, fd);
	o.backend_fd = fd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	wr = vblk_alloc(&b, sizeof(*wr), 64);
	buf = vblk_alloc(&b, 4096, 4096);
	ASSERT_TRUE(wr && buf);
	ASSERT_EQ(0, vblk_req_init(&b, wr));
	fill(buf, 4096, 17);
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_OUT, 8, buf,
					   4096));

	/* A completed write no longer holds the file system. */
	ASSERT_TRUE(freeze_ioctl(dir, FIFREEZE, 5))
		TH_LOG("freeze hangs after a completed write");
	ASSERT_EQ(0, vblk_submit(&b, 0, wr, VIRTIO_BLK_T_OUT, 16, buf, 4096,
				 1, false));
	vblk_kick(&b, 0);
	EXPECT_EQ(-ETIMEDOUT, vblk_complete(&b, 0, wr, 300))
		TH_LOG("a write went through a frozen file system");
	ASSERT_TRUE(freeze_ioctl(dir, FITHAW, 5));
	ASSERT_EQ(0, vblk_complete(&b, 0, wr, 5000));
	EXPECT_EQ(VIRTIO_BLK_S_OK, *wr->status);
	vblk_close(&b);
	close(fd);
	EXPECT_EQ(0, umount(dir));
	EXPECT_EQ(0, nullb_remove("vhostfreeze", node));
}

/*
 * Attach @backing to a free loop device, cleared on last close.  Returns
 * the device opened O_DIRECT and its other fd in @lfd (for LOOP_CLR_FD),
 * -ENODEV without loop devices, or another -errno.
 */
static int loop_attach(int backing, int *lfd)
{
	struct loop_info64 li = { .lo_flags = LO_FLAGS_AUTOCLEAR };
	int ctl, nr, fd = -1, ret;
	char dev[32];

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -ENODEV;
	nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (nr < 0)
		return -errno;
	snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
	*lfd = open(dev, O_RDWR | O_CLOEXEC);
	if (*lfd < 0)
		return -errno;
	if (ioctl(*lfd, LOOP_SET_FD, backing) ||
	    ioctl(*lfd, LOOP_SET_STATUS64, &li)) {
		ret = -errno;
		goto err;
	}
	fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	ret = -errno;
err:
	ioctl(*lfd, LOOP_CLR_FD, 0);
	close(*lfd);
	return ret;
}

static void loop_detach(int fd, int lfd)
{
	close(fd);
	ioctl(lfd, LOOP_CLR_FD, 0);
	close(lfd);
}

/* A loop device opened O_DIRECT: requests complete asynchronously. */
TEST_F_TIMEOUT(blk, integrity_loop_device_direct, 600)
{
	struct vblk_opts o = {
		.nvq = 4, .num = 64, .arena_size = 96 << 20,
		.features = FEATURES,
	};
	struct vblk b;
	int lfd, bfd;

	bfd = loop_attach(self->backing, &lfd);
	if (bfd == -ENODEV)
		SKIP(return, "no loop devices");
	ASSERT_LE(0, bfd) TH_LOG("loop device: %s", strerror(-bfd));
	memset(self->shadow, 0, DISK_SIZE);
	o.backend_fd = bfd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	integrity(_metadata, &b, self->shadow, self->backing, 1000, 64);
	vblk_close(&b);
	loop_detach(bfd, lfd);
}

/*
 * Write-zeroes on a block device (a loop device on the tmpfs file): with
 * UNMAP the range may be deallocated, and the loop device punches a hole
 * into the file; without, it stays allocated.  Both read back as zeroes.
 * (UNMAP first: a loop device on tmpfs drops write-zeroes altogether after
 * the first one that must not unmap, as tmpfs cannot zero a range.)  tmpfs
 * deallocates whole pages only, so the ranges are a page of the kernel's
 * (4, 16 or 64 KiB) each.
 */
TEST_F(blk, write_zeroes_unmap_on_block_device)
{
	struct vblk_opts o = { .nvq = 1, .num = 16, .features = FEATURES };
	const size_t pg = sysconf(_SC_PAGESIZE);
	const uint64_t start = 1024, hole = start, zeroed = start + 2 * pg / SECTOR;
	struct virtio_blk_discard_write_zeroes *seg;
	size_t len = 4 * pg;
	uint8_t *buf, *expect;
	struct vblk b;
	int lfd, bfd;

	bfd = loop_attach(self->backing, &lfd);
	if (bfd == -ENODEV)
		SKIP(return, "no loop devices");
	ASSERT_LE(0, bfd) TH_LOG("loop device: %s", strerror(-bfd));
	o.backend_fd = bfd;
	ASSERT_EQ(0, vblk_open(&b, &o)) TH_LOG("%s", vblk_err);
	buf = vblk_alloc(&b, len, 4096);
	seg = vblk_alloc(&b, sizeof(*seg), 16);
	expect = malloc(len);
	ASSERT_TRUE(buf && seg && expect);
	fill(buf, len, 11);
	memcpy(expect, buf, len);
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_OUT, start, buf,
					   len));

	seg->sector = hole;
	seg->num_sectors = pg / SECTOR;
	seg->flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_WRITE_ZEROES,
					   0, seg, sizeof(*seg)));
	seg->sector = zeroed;
	seg->flags = 0;
	EXPECT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_WRITE_ZEROES,
					   0, seg, sizeof(*seg)));
	memset(expect + (hole - start) * SECTOR, 0, pg);
	memset(expect + (zeroed - start) * SECTOR, 0, pg);
	ASSERT_EQ(VIRTIO_BLK_S_OK, vblk_do(&b, 0, VIRTIO_BLK_T_IN, start, buf,
					   len));
	EXPECT_EQ(0, memcmp(buf, expect, len));
	EXPECT_EQ(hole * SECTOR, lseek(self->backing, hole * SECTOR, SEEK_HOLE));
	EXPECT_EQ(zeroed * SECTOR, lseek(self->backing, zeroed * SECTOR,
					 SEEK_DATA));
	free(expect);
	vblk_close(&b);
	loop_detach(bfd, lfd);
}

struct hammer {
	struct vblk *b;
	uint32_t type;
	uint64_t seed;
	bool *stop;
	unsigned int done, failed;
};

/*
 * Discards or write-zeroes (with UNMAP: a hole punched into the block
 * device) of random 64 KiB ranges until told to stop.
 */
static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;
	struct virtio_blk_discard_write_zeroes *seg;
	struct vblk_req r;
	int ret;

	seg = vblk_alloc(h->b, sizeof(*seg), 16);
	if (!seg || vblk_req_init(h->b, &r)) {
		h->failed++;
		return NULL;
	}
	while (!__atomic_load_n(h->stop, __ATOMIC_RELAXED)) {
		seg->sector = vblk_xorshift(&h->seed) %
			      (DISK_SIZE / SECTOR / 128) * 128;
		seg->num_sectors = 128;
		seg->flags = h->type == VIRTIO_BLK_T_WRITE_ZEROES ?
			     VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0;
		ret = vblk_submit(h->b, 0, &r, h->type, 0, seg, sizeof(*seg),
				  1, false);
		if (!ret) {
			vblk_kick(h->b, 0);
			ret = vblk_complete(h->b, 0, &r, 10000);
		}
		h->done++;
		if (ret) {		/* stuck: the next would be too */
			h->failed++;
			break;
		}
		if (*r.status != VIRTIO_BLK_S_OK)
			h->failed++;
	}
	return NULL;
}

/*
 * Two vhost-blk devices on each side of one block device (a loop device),
 * the ones discarding, the others writing zeroes: the block layer drops
 * the page cache of a write-zeroes with the invalidate lock held, then
 * claims the device; a discard must take them in the same order.  For 4 s
 * they race, and every request completes.
 */
TEST_F_TIMEOUT(blk, discard_races_write_zeroes, 120)
{
	struct vblk_opts o = { .nvq = 1, .num = 16, .arena_size = 1 << 20,
			       .features = FEATURES };
	bool stop = false;
	struct hammer h[4] = {};
	struct vblk b[4];
	pthread_t t[4];
	int lfd, bfd, i;

	bfd = loop_attach(self->backing, &lfd);
	if (bfd == -ENODEV)
		SKIP(return, "no loop devices");
	ASSERT_LE(0, bfd) TH_LOG("loop device: %s", strerror(-bfd));
	o.backend_fd = bfd;
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, vblk_open(&b[i], &o)) TH_LOG("%s", vblk_err);
		h[i] = (struct hammer){
			.b = &b[i], .seed = 2 * i + 1, .stop = &stop,
			.type = i & 1 ? VIRTIO_BLK_T_WRITE_ZEROES :
					VIRTIO_BLK_T_DISCARD,
		};
	}
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, hammer_fn, &h[i]));
	sleep(4);
	__atomic_store_n(&stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, h[i].failed)
			TH_LOG("device %d: %u of %u requests failed", i,
			       h[i].failed, h[i].done);
		EXPECT_LT(10, h[i].done);
	}
	for (i = 0; i < 4; i++)
		vblk_close(&b[i]);
	loop_detach(bfd, lfd);
}

/* Last: everything closed, the module unloads (and is loaded again). */
TEST(module_unloads)
{
	int fd;

	if (module_loaded("vhost_blk") != 1)
		SKIP(return, "vhost_blk not loaded as a module");
	fd = open("/dev/vhost-blk", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_NE(0, module_unload("vhost_blk"));
	close(fd);
	ASSERT_EQ(0, module_unload("vhost_blk"));
	EXPECT_EQ(0, module_loaded("vhost_blk"));
	EXPECT_NE(0, access("/dev/vhost-blk", F_OK));
	ASSERT_EQ(0, module_reload("vhost_blk.ko"));
}

TEST_HARNESS_MAIN
