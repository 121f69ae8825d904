/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the tests of /dev/vhost-blk share (vhost_blk_test, vhost_ring_test):
 * the device's geometry and features, random data, backing files and
 * null_blk disks made through configfs.
 */
#ifndef KVMARM_IO_VHOST_BLK_UTIL_H
#define KVMARM_IO_VHOST_BLK_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "vblk.h"

#define DISK_SIZE	(32u << 20)
#define SECTOR		512
#define BACKING		"/tmp/vhost-blk.img"

#define FEATURES	((1ULL << VIRTIO_F_VERSION_1) |			\
			 (1ULL << VIRTIO_RING_F_EVENT_IDX) |		\
			 (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |	\
			 (1ULL << VIRTIO_BLK_F_SEG_MAX) |		\
			 (1ULL << VIRTIO_BLK_F_BLK_SIZE) |		\
			 (1ULL << VIRTIO_BLK_F_FLUSH) |			\
			 (1ULL << VIRTIO_BLK_F_MQ) |			\
			 (1ULL << VIRTIO_BLK_F_DISCARD) |		\
			 (1ULL << VIRTIO_BLK_F_WRITE_ZEROES))

/* vhost_blk_util.c */
uint64_t rnd(void);
void fill(void *p, size_t len, uint64_t seed);
int make_backing(const char *path, size_t size, int flags);
int nullb_make(const char *name, const char *node,
	       const char *const *attrs);
int nullb_remove(const char *name, const char *node);
double elapsed(const struct timespec *t0);
int nullb_open(const char *name, const char *node,
	       const char *const *attrs);
extern const char *const slow_disk[];

#endif /* KVMARM_IO_VHOST_BLK_UTIL_H */
