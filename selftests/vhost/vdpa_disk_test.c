// SPDX-License-Identifier: GPL-2.0
/*
 * vdpa_disk_test - data integrity of a vdpa-blk device as the host's own
 * disk (virtio_vdpa, /dev/vdX): random reads and writes of 512 bytes to
 * 1 MiB with O_DIRECT from four threads on four queues, flushes, discards
 * and write-zeroes, checked against a shadow copy as they complete and,
 * at the end, the whole backing file byte for byte.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "vblk.h"

#define CFG		"/sys/kernel/config/kvmarm-blk"
#define BUS		"/sys/bus/vdpa"
#define NAME		"vdisk0"
#define BACKING		"/tmp/vdpa-disk-test.img"
#define SECTOR		512
#define DISK_SIZE	(64ULL << 20)
#define THREADS		4
#define OPS		1500		/* per thread */

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

/* The /dev/vdX of the device, once virtio_blk has it. */
static int find_disk(char *disk, size_t len)
{
	char path[256];
	struct dirent *e;
	unsigned int i;
	DIR *d;

	for (i = 0; i < 50; i++) {
		d = opendir(BUS "/devices/" NAME);
		while (d && (e = readdir(d))) {
			DIR *b;
			struct dirent *v;

			if (strncmp(e->d_name, "virtio", 6))
				continue;
			snprintf(path, sizeof(path), BUS "/devices/" NAME "/%.64s/block",
				 e->d_name);
			b = opendir(path);
			while (b && (v = readdir(b)))
				if (!strncmp(v->d_name, "vd", 2)) {
					snprintf(disk, len, "/dev/%.32s", v->d_name);
					closedir(b);
					closedir(d);
					return 0;
				}
			if (b)
				closedir(b);
		}
		if (d)
			closedir(d);
		usleep(100000);
	}
	return -ENOENT;
}

struct worker {
	int fd;
	uint64_t base, size;		/* its own region of the disk */
	uint8_t *shadow;		/* the whole disk's */
	uint8_t *buf, *back;
	uint64_t seed;
	unsigned int reads, writes, flushes, discards, zeroes;
	char err[128];
};

static uint64_t rnd(struct worker *w)
{
	return vblk_xorshift(&w->seed);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned int i;

	for (i = 0; i < OPS; i++) {
		size_t len = (size_t)SECTOR << (rnd(w) % 12);
		uint64_t off = w->base + (rnd(w) % ((w->size - len) / SECTOR + 1)) *
			       SECTOR;
		uint64_t range[2] = { off, len };
		unsigned int k = rnd(w) % 16;

		if (k < 7) {
			size_t j;

			for (j = 0; j < len; j++)
				w->buf[j] = (uint8_t)(rnd(w) >> 11);
			if (pwrite(w->fd, w->buf, len, off) != (ssize_t)len) {
				snprintf(w->err, sizeof(w->err), "write %zu at %llu: %s",
					 len, (unsigned long long)off, strerror(errno));
				return NULL;
			}
			memcpy(w->shadow + off, w->buf, len);
			w->writes++;
		} else if (k < 13) {
			if (pread(w->fd, w->back, len, off) != (ssize_t)len ||
			    memcmp(w->back, w->shadow + off, len)) {
				snprintf(w->err, sizeof(w->err), "read %zu at %llu differs",
					 len, (unsigned long long)off);
				return NULL;
			}
			w->reads++;
		} else if (k == 13) {
			if (fdatasync(w->fd)) {
				snprintf(w->err, sizeof(w->err), "flush: %s",
					 strerror(errno));
				return NULL;
			}
			w->flushes++;
		} else {
			/* A hole in the file backing: zeroes either way. */
			if (ioctl(w->fd, k == 14 ? BLKDISCARD : BLKZEROOUT,
				  range)) {
				snprintf(w->err, sizeof(w->err), "%s %zu at %llu: %s",
					 k == 14 ? "discard" : "zeroout", len,
					 (unsigned long long)off, strerror(errno));
				return NULL;
			}
			memset(w->shadow + off, 0, len);
			if (k == 14)
				w->discards++;
			else
				w->zeroes++;
		}
	}
	return NULL;
}

FIXTURE(disk) {
	int unused;
};

FIXTURE_SETUP(disk)
{
}

FIXTURE_TEARDOWN(disk)
{
}

TEST_F_TIMEOUT(disk, host_disk_integrity, 600)
{
	struct worker w[THREADS];
	pthread_t t[THREADS];
	uint8_t *shadow, *check;
	char disk[64], q[8];
	unsigned int i;
	int fd, bfd;

	if (access(BUS, F_OK))
		SKIP(return, "no vDPA bus (CONFIG_VDPA)");
	if (access(CFG, F_OK))
		SKIP(return, "vdpa_blk is not loaded");
	if (access(BUS "/drivers/virtio_vdpa", F_OK))
		SKIP(return, "virtio_vdpa is not loaded");

	bfd = open(BACKING, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, bfd);
	ASSERT_EQ(0, ftruncate(bfd, DISK_SIZE));
	shadow = calloc(1, DISK_SIZE);
	check = malloc(DISK_SIZE);
	ASSERT_NE(NULL, shadow);
	ASSERT_NE(NULL, check);
	ASSERT_EQ(0, mkdir(CFG "/" NAME, 0755));
	snprintf(q, sizeof(q), "%d", THREADS);
	ASSERT_EQ(0, write_file(CFG "/" NAME "/num_queues", q));
	ASSERT_EQ(0, write_file(CFG "/" NAME "/direct", "1"));
	ASSERT_EQ(0, write_file(CFG "/" NAME "/backing", BACKING));
	ASSERT_EQ(0, write_file(BUS "/drivers_autoprobe", "0"));
	ASSERT_EQ(0, system("vdpa dev add name " NAME " mgmtdev kvmarm-blk"));
	ASSERT_EQ(0, write_file(BUS "/devices/" NAME "/driver_override",
				"virtio_vdpa"));
	ASSERT_EQ(0, write_file(BUS "/drivers_probe", NAME));
	ASSERT_EQ(0, find_disk(disk, sizeof(disk)));
	fd = open(disk, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);

	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){
			.fd = fd, .size = DISK_SIZE / THREADS,
			.base = i * (DISK_SIZE / THREADS), .shadow = shadow,
			.seed = 0x9e3779b97f4a7c15ULL * (i + 1),
		};
		w[i].buf = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, w[i].buf);
		w[i].back = w[i].buf + (1 << 20);
		ASSERT_EQ(0, pthread_create(&t[i], NULL, work, &w[i]));
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, w[i].err[0]) TH_LOG("thread %u: %s", i, w[i].err);
		ksft_print_msg("thread %u: %u reads, %u writes, %u flushes, %u discards, %u zero\n",
			       i, w[i].reads, w[i].writes, w[i].flushes,
			       w[i].discards, w[i].zeroes);
	}
	EXPECT_EQ(0, fsync(fd));
	close(fd);
	EXPECT_EQ(0, system("vdpa dev del " NAME));
	rmdir(CFG "/" NAME);
	write_file(BUS "/drivers_autoprobe", "1");

	/* After deletion the backing holds exactly what was written. */
	ASSERT_EQ((ssize_t)DISK_SIZE, pread(bfd, check, DISK_SIZE, 0));
	EXPECT_EQ(0, memcmp(check, shadow, DISK_SIZE));
	close(bfd);
	unlink(BACKING);
	free(shadow);
	free(check);
}

TEST_HARNESS_MAIN
