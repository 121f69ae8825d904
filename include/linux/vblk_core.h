/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vblk_core - the virtio-blk request core shared by in-kernel block devices.
 *
 * A front-end takes a request off its virtqueue, reads the header, points
 * an iov_iter at the request's data in guest memory (user iovecs for
 * /dev/vhost-blk, bio_vecs of pinned pages for vDPA) and hands it here.
 * The core runs it on the backing file or block device: reads and writes
 * as asynchronous kiocbs, flush of block devices as an asynchronous bio,
 * flush of files, discard and write-zeroes on a workqueue.  It answers
 * with a virtio-blk status; the front-end writes it and returns the buffer.
 */
#ifndef _LINUX_VBLK_CORE_H
#define _LINUX_VBLK_CORE_H

#include <linux/cgroup.h>
#include <linux/fs.h>
#include <linux/llist.h>
#include <linux/sizes.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/virtio_blk.h>
#include <linux/workqueue.h>

#define VBLK_SECTOR		512
#define VBLK_SEG_MAX		254
#define VBLK_MAX_DISCARD	BIT(22)		/* sectors per segment */
/* The virtio-blk features the core serves, for every front-end to offer. */
#define VBLK_FEATURES		((1ULL << VIRTIO_BLK_F_SEG_MAX) |	\
				 (1ULL << VIRTIO_BLK_F_BLK_SIZE) |	\
				 (1ULL << VIRTIO_BLK_F_FLUSH) |		\
				 (1ULL << VIRTIO_BLK_F_MQ) |		\
				 (1ULL << VIRTIO_BLK_F_DISCARD) |	\
				 (1ULL << VIRTIO_BLK_F_WRITE_ZEROES))
/* Data bytes of one read or write: a bio's size is an unsigned int. */
#define VBLK_MAX_BYTES		SZ_256M

struct vblk_req;

/**
 * struct vblk_disk - a backing store and how its requests complete
 * @file: regular file or block device, open for reading at least
 * @ro: refuse writes, discards and write-zeroes (VIRTIO_BLK_S_IOERR)
 * @id_prefix: the GET_ID answer is "<id_prefix>-<@id in hex>"
 * @complete: called when a request that vblk_req_start() queued has
 *	finished, with @req->ret set, in any context (interrupt included);
 *	the front-end calls vblk_req_end() later, where it may sleep.
 * @slow_lock: protects @slow_list and @slow_running
 * @slow_list: requests waiting for vblk_slow_work(), in order
 * @slow_work: runs them, one at a time for the disk
 * @slow_running: @slow_work is queued or running
 * @id: a random number of the disk's, for GET_ID: the guest learns
 *	nothing of the host (an inode number would tell it which file)
 *
 * The front-end sets @file, @ro, @id_prefix and @complete; vblk_disk_init()
 * the rest, which is the core's.
 */
struct vblk_disk {
	struct file *file;
	bool ro;
	const char *id_prefix;
	void (*complete)(struct vblk_req *req);
	spinlock_t slow_lock;		/* @slow_list, @slow_running */
	struct list_head slow_list;
	struct work_struct slow_work;
	bool slow_running;
	u64 id;
};

/**
 * struct vblk_req - one virtio-blk request, embedded in the front-end's
 * @node: free for the front-end once the request is complete
 * @iocb: the asynchronous read or write
 * @slow: a request for vblk_slow_work(), see there
 * @disk: the backing, set by vblk_req_start()
 * @iter: the request's data, set by the front-end: for IN and GET_ID the
 *	driver's writable buffers but the status byte, for the others the
 *	readable buffers after the header
 * @in_len: bytes of the writable buffers, status byte included
 * @len: data bytes expected, set by vblk_req_start()
 * @ret: the backend's result, for vblk_req_end()
 * @used_len: bytes written for the driver (data and status), to return
 * @status: the VIRTIO_BLK_S_* answer
 * @type: the VIRTIO_BLK_T_* of the header
 * @write_through: set by the front-end when the driver did not negotiate
 *	VIRTIO_BLK_F_FLUSH: writes are stable before they complete
 */
struct vblk_req {
	struct llist_node node;
	union {
		struct kiocb iocb;
		struct {
			struct list_head entry;
			const struct cred *cred;
			struct cgroup_subsys_state *blkcg;
			loff_t off;
			loff_t len;
			u32 type;
			bool unmap;
		} slow;
	};
	struct vblk_disk *disk;
	struct iov_iter iter;
	size_t in_len;
	size_t len;
	long ret;
	u32 used_len;
	u32 type;
	u8 status;
	bool write_through;
};

/**
 * vblk_req_data_dir() - which buffers carry a request's data
 * @type: VIRTIO_BLK_T_*
 *
 * Return: READ (data goes to the driver's writable buffers) for IN and
 * GET_ID, WRITE (data comes from the readable ones after the header) for
 * the others; the direction of @req->iter.
 */
static inline int vblk_req_data_dir(u32 type)
{
	return type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID ?
	       READ : WRITE;
}

void vblk_disk_init(struct vblk_disk *disk);
bool vblk_req_start(struct vblk_req *req, struct vblk_disk *disk, u32 type,
		    u64 sector);
void vblk_req_end(struct vblk_req *req);
u64 vblk_capacity(struct file *file);
u32 vblk_block_size(struct file *file);
int vblk_check_backing(struct file *file, const char *what);

#endif /* _LINUX_VBLK_CORE_H */
