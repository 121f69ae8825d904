// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of the tests of /dev/vhost-blk: random data, backing files and
 * null_blk disks made through configfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "vfio_util.h"
#include "vhost_blk_util.h"

static uint64_t rng_state = 88172645463325252ull;

uint64_t rnd(void)
{
	return vblk_xorshift(&rng_state);
}

void fill(void *p, size_t len, uint64_t seed)
{
	uint64_t *q = p, x = seed | 1;
	size_t i;

	for (i = 0; i < len / 8; i++)
		q[i] = vblk_xorshift(&x);
}

int make_backing(const char *path, size_t size, int flags)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, size)) {
		close(fd);
		return -1;
	}
	close(fd);
	return open(path, flags | O_CLOEXEC);
}

#define NULLB_CFS	"/sys/kernel/config/nullb/"

/*
 * A null_blk disk made through configfs: item @name with @attrs (pairs of
 * attribute and value, NULL-terminated), powered on, with a device node
 * made at @node (/dev may be static).  0, -ENOENT when null_blk has no
 * configfs, or another -errno.
 */
int nullb_make(const char *name, const char *node,
	       const char *const *attrs)
{
	unsigned int maj, min;
	char path[128];
	int idx, ret;
	FILE *f;

	mount("none", "/sys/kernel/config", "configfs", 0, NULL);
	snprintf(path, sizeof(path), NULLB_CFS "%s", name);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -ENOENT;
	for (; attrs[0]; attrs += 2) {
		snprintf(path, sizeof(path), NULLB_CFS "%s/%s", name, attrs[0]);
		ret = sysfs_write(path, attrs[1]);
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path), NULLB_CFS "%s/power", name);
	ret = sysfs_write(path, "1");
	if (ret)
		return ret;
	/* The disk is named after the item (6.x) or nullb<index> (older). */
	snprintf(path, sizeof(path), "/sys/block/%s/dev", name);
	f = fopen(path, "r");
	if (!f) {
		snprintf(path, sizeof(path), NULLB_CFS "%s/index", name);
		f = fopen(path, "r");
		if (!f || fscanf(f, "%d", &idx) != 1)
			idx = -1;
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "/sys/block/nullb%d/dev", idx);
		f = fopen(path, "r");
	}
	if (!f)
		return -ENODEV;
	ret = fscanf(f, "%u:%u", &maj, &min) == 2 ? 0 : -ENODEV;
	fclose(f);
	unlink(node);
	if (!ret && mknod(node, S_IFBLK | 0600, makedev(maj, min)))
		ret = -errno;
	return ret;
}

int nullb_remove(const char *name, const char *node)
{
	char path[128];
	int ret;

	unlink(node);
	snprintf(path, sizeof(path), NULLB_CFS "%s/power", name);
	ret = sysfs_write(path, "0");
	snprintf(path, sizeof(path), NULLB_CFS "%s", name);
	if (rmdir(path) && !ret)
		ret = -errno;
	return ret;
}

/* Seconds since @t0 (CLOCK_MONOTONIC). */
double elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec - t0->tv_sec + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* nullb_make(), then the disk opened O_DIRECT: its fd, or -errno. */
int nullb_open(const char *name, const char *node,
	       const char *const *attrs)
{
	int fd, ret;

	ret = nullb_make(name, node, attrs);
	if (ret)
		return ret;
	fd = open(node, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	ret = -errno;
	nullb_remove(name, node);
	return ret;
}

/* A disk that takes 200 ms for every request. */
const char *const slow_disk[] = {
	"size", "64", "irqmode", "2", "completion_nsec", "200000000", NULL
};
