/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vhost-blk: in-kernel virtio-blk backend, /dev/vhost-blk.
 *
 * The device speaks the standard vhost ioctls of <linux/vhost.h>
 * (owner, features, memory table, vrings, dirty log) plus the two below.
 * Queue i of the virtio-blk device is vring i; every vring has its own
 * call eventfd.
 */
#ifndef _UAPI_LINUX_VHOST_BLK_H
#define _UAPI_LINUX_VHOST_BLK_H

#include <linux/types.h>
#include <linux/vhost.h>

/**
 * VHOST_BLK_SET_BACKEND - attach the backing store
 *
 * &struct vhost_vring_file.fd is an open regular file or block device;
 * .index is ignored.  A backend not open for writing makes a read-only
 * disk: VHOST_GET_FEATURES then offers VIRTIO_BLK_F_RO and writes fail
 * with VIRTIO_BLK_S_IOERR.  Attaching starts every vring that has its
 * addresses and kick eventfd.  Fails with -EBUSY while a backend is
 * attached and serving (detach first), -EINVAL for other kinds of file,
 * -EBADF for a file not open for reading.  fd -1 detaches: every vring
 * stops and the call returns once the requests in flight are complete.
 */
#define VHOST_BLK_SET_BACKEND	_IOW(VHOST_VIRTIO, 0x50, struct vhost_vring_file)

/**
 * struct vhost_blk_config - what a VMM needs for the virtio-blk config space
 * @capacity:                 in 512-byte sectors
 * @blk_size:                 logical block size in bytes
 * @seg_max:                  most data segments in one request
 * @num_queues:               vrings the device serves (VIRTIO_BLK_F_MQ)
 * @read_only:                1 when the backend is read-only (VIRTIO_BLK_F_RO)
 * @write_zeroes_may_unmap:   1: write-zeroes may deallocate
 * @max_discard_sectors:      per discard segment
 * @max_discard_seg:          segments per discard request
 * @discard_sector_alignment: in sectors
 * @max_write_zeroes_sectors: per write-zeroes segment
 * @max_write_zeroes_seg:     segments per write-zeroes request
 * @reserved:                 zero
 *
 * Host byte order; the VMM converts to the device's config space.
 */
struct vhost_blk_config {
	__u64 capacity;
	__u32 blk_size;
	__u32 seg_max;
	__u16 num_queues;
	__u8 read_only;
	__u8 write_zeroes_may_unmap;
	__u32 max_discard_sectors;
	__u32 max_discard_seg;
	__u32 discard_sector_alignment;
	__u32 max_write_zeroes_sectors;
	__u32 max_write_zeroes_seg;
	__u32 reserved[4];
};

/**
 * VHOST_BLK_GET_CONFIG - the configuration of the attached backend
 *
 * Fills &struct vhost_blk_config; -ENODEV without a backend.
 */
#define VHOST_BLK_GET_CONFIG	_IOR(VHOST_VIRTIO, 0x51, struct vhost_blk_config)

#endif /* _UAPI_LINUX_VHOST_BLK_H */
