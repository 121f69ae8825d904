// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-blk: an in-kernel virtio-blk backend.
 *
 * /dev/vhost-blk serves virtio-blk requests from a guest's virtqueues on a
 * regular file or a block device, without a trip through the VMM: reads
 * and writes are asynchronous kiocbs (many in flight per queue), flush is
 * an asynchronous cache flush on block devices.  Flush of files (fsync),
 * discard and write-zeroes (fallocate, or discard bios on block devices)
 * block, so they run on a workqueue.  Each queue is one vring with its own
 * call eventfd; all run on the device's worker, which belongs to the
 * owner's mm and cgroups.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/llist.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/virtio_blk.h>
#include <linux/vhost_blk.h>
#include <linux/workqueue.h>

#include "kvmarm_compat.h"
#include "vhost_ring.h"

#define VHOST_BLK_MAX_VQS	16
#define VHOST_BLK_SEG_MAX	254
#define VHOST_BLK_SECTOR	512
#define VHOST_BLK_MAX_DISCARD	BIT(22)		/* sectors per segment */
/* Requests a vring may start in one turn of the worker. */
#define VHOST_BLK_WEIGHT	256
/* Requests of at most this many iovecs and no dirty log are recycled. */
#define VHOST_BLK_CACHED_IOV	8

#define VHOST_BLK_FEATURES	(VHR_FEATURES |				\
				 (1ULL << VIRTIO_BLK_F_SEG_MAX) |	\
				 (1ULL << VIRTIO_BLK_F_BLK_SIZE) |	\
				 (1ULL << VIRTIO_BLK_F_FLUSH) |		\
				 (1ULL << VIRTIO_BLK_F_MQ) |		\
				 (1ULL << VIRTIO_BLK_F_DISCARD) |	\
				 (1ULL << VIRTIO_BLK_F_WRITE_ZEROES))

static unsigned int max_mem_regions = 64;
module_param(max_mem_regions, uint, 0444);
MODULE_PARM_DESC(max_mem_regions,
		 "Most regions in a memory table (VHOST_SET_MEM_TABLE)");

struct vhost_blk;

struct vhost_blk_vq {
	struct vhr_virtqueue vq;
	struct vhost_blk *blk;
	struct vhr_work done_work;	/* completes finished requests */
	struct llist_head done;
	struct llist_head free;		/* recycled requests */
	atomic_t inflight;
};

struct vhost_blk {
	struct vhr_dev dev;
	struct vhost_blk_vq vqs[VHOST_BLK_MAX_VQS];
	struct vhr_virtqueue *vq_ptrs[VHOST_BLK_MAX_VQS];
	struct file *backend;
	bool ro;
	atomic_t inflight;
	wait_queue_head_t inflight_wq;
};

struct vhost_blk_req {
	struct llist_node node;
	union {
		struct kiocb iocb;		/* read, write */
		struct {			/* see vhost_blk_slow_work() */
			struct work_struct work;
			struct file *file;
			const struct cred *cred;
			struct cgroup_subsys_state *blkcg;
			loff_t off;
			loff_t len;
			u32 type;
			bool unmap;	/* write zeroes may deallocate */
		} slow;
	};
	struct vhost_blk_vq *bvq;
	u16 head;
	u16 nr_out;			/* readable iovecs, then writable ones */
	u16 nr_in;
	bool cached;			/* goes back to bvq->free */
	u8 status;
	u8 __user *status_ptr;
	size_t len;			/* data bytes expected */
	long ret;
	u32 used_len;
	unsigned int nr_log;
	struct iov_iter iter;
	struct vhr_log *log;
	struct iovec iov[];		/* then the log ranges */
};

/* Runs the requests that block; see vhost_blk_slow_work(). */
static struct workqueue_struct *vhost_blk_wq;

static struct vhost_blk_vq *to_bvq(struct vhr_virtqueue *vq)
{
	return container_of(vq, struct vhost_blk_vq, vq);
}

static u64 vhost_blk_capacity(struct file *file)
{
	return i_size_read(file->f_mapping->host);
}

/* Whole sectors from @sector on, @bytes long, all within the backend. */
static bool vhost_blk_in_range(struct file *file, u64 sector, u64 bytes)
{
	u64 cap = vhost_blk_capacity(file);

	return !(bytes % VHOST_BLK_SECTOR) &&
	       sector <= cap / VHOST_BLK_SECTOR &&
	       bytes <= cap - sector * VHOST_BLK_SECTOR;
}

/* Completion */

/*
 * A request for @niov iovecs and @nlog dirty-log ranges, charged to the
 * owner's memory cgroup.  Small ones are recycled per vring, as many as
 * were once in flight together, until the backend is detached.  The
 * worker, holding the vring mutex, is the only one taking from that list.
 */
static struct vhost_blk_req *vhost_blk_req_alloc(struct vhost_blk_vq *bvq,
						 unsigned int niov,
						 unsigned int nlog)
{
	struct vhost_blk_req *req;
	struct llist_node *node;
	bool cached = false;

	if (niov <= VHOST_BLK_CACHED_IOV && !nlog) {
		cached = true;
		node = llist_del_first(&bvq->free);
		if (node)
			req = llist_entry(node, struct vhost_blk_req, node);
		else
			req = kmalloc(struct_size(req, iov, VHOST_BLK_CACHED_IOV),
				      GFP_KERNEL_ACCOUNT);
	} else {
		req = kmalloc(struct_size(req, iov, niov) +
			      nlog * sizeof(struct vhr_log), GFP_KERNEL_ACCOUNT);
	}
	if (req)
		req->cached = cached;	/* the rest is vhost_blk_handle_req()'s */
	return req;
}

/* Free the recycled requests of @bvq; none may be in use. */
static void vhost_blk_free_cache(struct vhost_blk_vq *bvq)
{
	struct vhost_blk_req *req, *tmp;

	llist_for_each_entry_safe(req, tmp, llist_del_all(&bvq->free), node)
		kfree(req);
}

static void vhost_blk_req_free(struct vhost_blk_req *req)
{
	struct vhost_blk_vq *bvq = req->bvq;

	if (req->cached)
		llist_add(&req->node, &bvq->free);
	else
		kfree(req);
	/*
	 * Both counters drop; either reaching zero may end a drain.  Only a
	 * drain sleeps on the queue, so the lock is skipped when none does.
	 */
	if ((atomic_dec_and_test(&bvq->inflight) |
	     atomic_dec_and_test(&bvq->blk->inflight)) &&
	    wq_has_sleeper(&bvq->blk->inflight_wq))
		wake_up_all(&bvq->blk->inflight_wq);
}

static void vhost_blk_req_done(struct vhost_blk_req *req)
{
	struct vhost_blk_vq *bvq = req->bvq;
	struct vhr_virtqueue *vq = &bvq->vq;

	if (put_user(req->status, req->status_ptr))
		vhr_vq_err(vq, "vring %u: cannot write status of head %u\n",
			   vq->index, req->head);
	if (req->nr_log)
		vhr_log_write(vq, req->log, req->nr_log);
	else if (unlikely(vhr_logging(vq)))
		/* Taken before logging began: its buffers count all the same. */
		vhr_log_write_iov(vq, req->iov + req->nr_out, req->nr_in);
	vhr_add_used(vq, req->head, req->used_len);
	vhost_blk_req_free(req);
}

/*
 * A read, write or flush finished with @req->ret: answer it (vring
 * locked).
 */
static void vhost_blk_rw_done(struct vhost_blk_req *req)
{
	if (req->ret >= 0 && req->ret == req->len) {
		req->status = VIRTIO_BLK_S_OK;
	} else if (req->ret == -EOPNOTSUPP) {
		/* The driver falls back (e.g. writes zero pages). */
		req->status = VIRTIO_BLK_S_UNSUPP;
		req->used_len = 1;
	} else {
		req->status = VIRTIO_BLK_S_IOERR;
		req->used_len = 1;
	}
	vhost_blk_req_done(req);
}

static void vhost_blk_done_work(struct vhr_work *work)
{
	struct vhost_blk_vq *bvq = container_of(work, struct vhost_blk_vq,
						done_work);
	struct vhost_blk_req *req, *tmp;
	struct llist_node *list;

	mutex_lock(&bvq->vq.mutex);
	list = llist_reverse_order(llist_del_all(&bvq->done));
	llist_for_each_entry_safe(req, tmp, list, node)
		vhost_blk_rw_done(req);
	vhr_signal(&bvq->vq);
	mutex_unlock(&bvq->vq.mutex);
}

/*
 * An asynchronous request finished, possibly in interrupt context: hand it
 * to the worker.  Once @req is on the done list it may be freed at any
 * time, so only @bvq is used after that; the RCU read side keeps the
 * device alive until this returns (see vhost_blk_drain()).
 */
static void vhost_blk_complete(struct vhost_blk_req *req, long ret)
{
	struct vhost_blk_vq *bvq = req->bvq;

	req->ret = ret;
	rcu_read_lock();
	/* The first on an empty list queues the work that takes them all. */
	if (llist_add(&req->node, &bvq->done) &&
	    !vhr_work_queue(&bvq->blk->dev, &bvq->done_work))
		wake_up_all(&bvq->blk->inflight_wq); /* vhost_blk_drain() */
	rcu_read_unlock();
}

static void vhost_blk_aio_complete(struct kiocb *iocb, long ret)
{
	/* A queued write kept the freeze protection until now. */
	if (iocb->ki_flags & IOCB_WRITE)
		kiocb_end_write(iocb);
	vhost_blk_complete(container_of(iocb, struct vhost_blk_req, iocb),
			   ret);
}

static void vhost_blk_flush_end_io(struct bio *bio)
{
	struct vhost_blk_req *req = bio->bi_private;
	int ret = blk_status_to_errno(bio->bi_status);

	bio_put(bio);
	vhost_blk_complete(req, ret);
}

/* Requests */

static int vhost_blk_rw(struct vhost_blk_req *req, struct file *file,
			u64 sector, bool write)
{
	ssize_t ret;

	if (!vhost_blk_in_range(file, sector, req->len))
		return -EINVAL;
	req->iocb = (struct kiocb) {
		.ki_filp = file,
		.ki_pos = sector * VHOST_BLK_SECTOR,
		/* Sectors are addressed: an O_APPEND backend must not append. */
		.ki_flags = (iocb_flags(file) & ~IOCB_APPEND) |
			    KVMARM_IOCB_ALLOC_CACHE | (write ? IOCB_WRITE : 0),
		.ki_complete = vhost_blk_aio_complete,
		.ki_ioprio = get_current_ioprio(),
	};
	if (write)
		ret = kvmarm_iocb_iter_write(file, &req->iocb, &req->iter);
	else
		ret = vfs_iocb_iter_read(file, &req->iocb, &req->iter);
	if (ret != -EIOCBQUEUED) {
		/* Done already (page cache, tmpfs): answer right here. */
		req->ret = ret;
		vhost_blk_rw_done(req);
	}
	return 0;
}

/*
 * Flush a block device without holding up the worker: the page cache is
 * written back here (nothing to do with O_DIRECT), then an empty
 * REQ_PREFLUSH bio flushes the device's cache and completes like a read.
 *
 * Return: 0 once submitted, the write-back error, or -EOPNOTSUPP for
 * other backends, which vhost_blk_slow_work() flushes.
 */
static int vhost_blk_flush_bdev(struct vhost_blk_req *req, struct file *file)
{
	struct bio *bio;
	int ret;

	if (!S_ISBLK(file_inode(file)->i_mode))
		return -EOPNOTSUPP;
	ret = file_write_and_wait(file);
	if (ret)
		return ret;
	bio = bio_alloc(I_BDEV(file->f_mapping->host), 0,
			REQ_OP_WRITE | REQ_PREFLUSH, GFP_KERNEL);
	bio->bi_private = req;
	bio->bi_end_io = vhost_blk_flush_end_io;
	req->len = 0;
	submit_bio(bio);
	return 0;
}

/*
 * Discard on a block device: the range leaves the page cache, then the
 * device may deallocate it.  One without discard is not asked: discard is
 * a hint.  (Punching a hole into a block device writes zeroes instead,
 * which devices that can only discard, like thin volumes, refuse.)
 */
static int vhost_blk_discard_bdev(struct file *file, loff_t off, loff_t len)
{
	struct address_space *mapping = file->f_mapping;
	struct block_device *bdev = I_BDEV(mapping->host);
	int ret;

	if (!bdev_max_discard_sectors(bdev))
		return 0;
	filemap_invalidate_lock(mapping);
	truncate_inode_pages_range(mapping, off, off + len - 1);
	ret = blkdev_issue_discard(bdev, off >> SECTOR_SHIFT,
				   len >> SECTOR_SHIFT, GFP_KERNEL);
	filemap_invalidate_unlock(mapping);
	return ret;
}

/*
 * Write zeroes.  A punched hole reads as zeroes: in a file it frees the
 * blocks, on a block device it is a write-zeroes command that may
 * deallocate and has no fallback.  So it comes first when the driver
 * allows unmapping, and last otherwise, when the file system or device
 * cannot zero a range in place (tmpfs cannot).
 */
static int vhost_blk_write_zeroes(struct file *file, loff_t off, loff_t len,
				  bool unmap)
{
	int punch = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	int zero = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	int ret;

	if (unmap) {
		ret = vfs_fallocate(file, punch, off, len);
		if (ret != -EOPNOTSUPP)
			return ret;
	}
	ret = vfs_fallocate(file, zero, off, len);
	if (ret == -EOPNOTSUPP && !unmap)
		ret = vfs_fallocate(file, punch, off, len);
	return ret;
}

static int vhost_blk_slow_op(struct file *file, u32 type, loff_t off,
			     loff_t len, bool unmap)
{
	int ret;

	switch (type) {
	case VIRTIO_BLK_T_FLUSH:
		return vfs_fsync(file, 0);
	case VIRTIO_BLK_T_DISCARD:
		if (S_ISBLK(file_inode(file)->i_mode))
			return vhost_blk_discard_bdev(file, off, len);
		ret = vfs_fallocate(file, FALLOC_FL_PUNCH_HOLE |
				    FALLOC_FL_KEEP_SIZE, off, len);
		/* A hint, as on block devices without discard. */
		return ret == -EOPNOTSUPP ? 0 : ret;
	default:
		return vhost_blk_write_zeroes(file, off, len, unmap);
	}
}

/*
 * A flush of a file, a discard or a write-zeroes: the file system or the
 * block layer does them synchronously, for as long as they take.  They
 * run here, on vhost_blk_wq, so that the worker goes on with the other
 * requests of every queue.  No guest memory is touched; the worker's
 * credentials and blkio cgroup apply, as if it ran there.
 */
static void vhost_blk_slow_work(struct work_struct *work)
{
	struct vhost_blk_req *req = container_of(work, struct vhost_blk_req,
						 slow.work);
	struct cgroup_subsys_state *blkcg = req->slow.blkcg;
	const struct cred *cred = req->slow.cred, *old;
	int ret;

	old = override_creds(cred);
	kthread_associate_blkcg(blkcg);
	ret = vhost_blk_slow_op(req->slow.file, req->slow.type, req->slow.off,
				req->slow.len, req->slow.unmap);
	kthread_associate_blkcg(NULL);
	revert_creds(old);
	put_cred(cred);
	if (blkcg)
		css_put(blkcg);
	vhost_blk_complete(req, ret);
}

/* Queue @req, of @type, for vhost_blk_slow_work(). */
static void vhost_blk_slow(struct vhost_blk_req *req, struct file *file,
			   u32 type, loff_t off, loff_t len, bool unmap)
{
	req->len = 0;
	req->slow.file = file;
	req->slow.type = type;
	req->slow.off = off;
	req->slow.len = len;
	req->slow.unmap = unmap;
	req->slow.cred = get_current_cred();
#ifdef CONFIG_BLK_CGROUP
	req->slow.blkcg = task_get_css(current, io_cgrp_id);
#else
	req->slow.blkcg = NULL;
#endif
	INIT_WORK(&req->slow.work, vhost_blk_slow_work);
	queue_work(vhost_blk_wq, &req->slow.work);
}

/*
 * Check a discard or write-zeroes request and queue it.
 *
 * Return: 0 once queued (or done, for an empty range), or -EINVAL/-EFAULT
 * for a bad segment.
 */
static int vhost_blk_discard(struct vhost_blk_req *req, struct file *file,
			     u32 type)
{
	struct virtio_blk_discard_write_zeroes seg;
	bool zeroes = type == VIRTIO_BLK_T_WRITE_ZEROES;
	u64 sector, nr;
	u32 flags;

	if (req->len != sizeof(seg))
		return -EINVAL;		/* max_discard_seg is 1 */
	if (!copy_from_iter_full(&seg, sizeof(seg), &req->iter))
		return -EFAULT;
	sector = le64_to_cpu(seg.sector);
	nr = le32_to_cpu(seg.num_sectors);
	flags = le32_to_cpu(seg.flags);
	if (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP ||
	    (!zeroes && flags) || nr > VHOST_BLK_MAX_DISCARD ||
	    !vhost_blk_in_range(file, sector, nr * VHOST_BLK_SECTOR))
		return -EINVAL;
	if (!nr) {
		req->len = 0;
		vhost_blk_complete(req, 0);
		return 0;
	}
	vhost_blk_slow(req, file, type, sector * VHOST_BLK_SECTOR,
		       nr * VHOST_BLK_SECTOR,
		       flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	return 0;
}

static int vhost_blk_get_id(struct vhost_blk_req *req, struct file *file)
{
	char id[VIRTIO_BLK_ID_BYTES] = {};
	size_t n = min_t(size_t, req->len, sizeof(id));

	snprintf(id, sizeof(id), "vhost-blk-%llx",
		 (unsigned long long)file_inode(file)->i_ino);
	if (copy_to_iter(id, n, &req->iter) != n)
		return -EFAULT;
	req->used_len = n + 1;
	return 0;
}

/*
 * Read the request header, the first @sizeof(hdr) of the @out readable
 * iovecs.  It usually has a buffer of its own, read in place with one
 * user-access window; otherwise it is gathered from the iovecs.
 */
static int vhost_blk_get_hdr(struct vhost_blk_req *req, unsigned int out,
			     size_t out_len, u32 *type, u64 *sector)
{
	struct virtio_blk_outhdr __user *p = req->iov[0].iov_base;
	struct virtio_blk_outhdr hdr;
	struct iov_iter it;

	if (req->iov[0].iov_len >= sizeof(hdr)) {
		if (!user_read_access_begin(p, sizeof(*p)))
			return -EFAULT;
		unsafe_get_user(hdr.type, &p->type, fault);
		unsafe_get_user(hdr.sector, &p->sector, fault);
		user_read_access_end();
	} else {
		iov_iter_init(&it, WRITE, req->iov, out, out_len);
		if (!copy_from_iter_full(&hdr, sizeof(hdr), &it))
			return -EFAULT;
	}
	*type = le32_to_cpu((__force __le32)hdr.type);
	*sector = le64_to_cpu((__force __le64)hdr.sector);
	return 0;
fault:
	user_read_access_end();
	return -EFAULT;
}

/* Point @req->iter at the driver's data, after the header. */
static void vhost_blk_out_iter(struct vhost_blk_req *req, unsigned int out,
			       size_t out_len)
{
	size_t hdr = sizeof(struct virtio_blk_outhdr);

	if (req->iov[0].iov_len == hdr) {
		iov_iter_init(&req->iter, WRITE, req->iov + 1, out - 1,
			      out_len - hdr);
	} else {
		iov_iter_init(&req->iter, WRITE, req->iov, out, out_len);
		iov_iter_advance(&req->iter, hdr);
	}
}

/* The status byte: the last writable byte of the chain, or NULL. */
static u8 __user *vhost_blk_status_ptr(const struct iovec *iov,
				       unsigned int out, unsigned int in)
{
	unsigned int i;

	for (i = out + in; i > out; i--)
		if (iov[i - 1].iov_len)
			return (u8 __user *)iov[i - 1].iov_base +
			       iov[i - 1].iov_len - 1;
	return NULL;
}

/*
 * Answer the chain at @head with an I/O error without a request: there is
 * no memory for one, or it is malformed.  A chain without a writable byte
 * goes back unanswered; a driver must not send one.
 */
static void vhost_blk_fail(struct vhr_virtqueue *vq, int head,
			   unsigned int out, unsigned int in)
{
	u8 __user *status = vhost_blk_status_ptr(vq->iov, out, in);

	if (status && !put_user(VIRTIO_BLK_S_IOERR, status)) {
		vhr_add_used(vq, head, 1);
		return;
	}
	vhr_add_used(vq, head, 0);
}

/*
 * Handle one chain: @out readable iovecs (header, then data for writes),
 * @in writable ones (data for reads, then the status byte).
 */
static void vhost_blk_handle_req(struct vhost_blk_vq *bvq, struct file *file,
				 int head, unsigned int out, unsigned int in,
				 unsigned int nlog)
{
	struct vhr_virtqueue *vq = &bvq->vq;
	struct vhost_blk *blk = bvq->blk;
	struct vhost_blk_req *req;
	size_t out_len = 0, in_len = 0;
	unsigned int i;
	u32 type;
	u64 sector;
	int ret = 0;

	for (i = 0; i < out; i++)
		out_len += vq->iov[i].iov_len;
	for (i = out; i < out + in; i++)
		in_len += vq->iov[i].iov_len;
	if (out_len < sizeof(struct virtio_blk_outhdr) || !in_len) {
		vhr_vq_err(vq, "vring %u: request %d without header or status\n",
			   vq->index, head);
		vhost_blk_fail(vq, head, out, in);
		return;
	}

	req = vhost_blk_req_alloc(bvq, out + in, nlog);
	if (!req) {
		vhost_blk_fail(vq, head, out, in);
		return;
	}
	memcpy(req->iov, vq->iov, (out + in) * sizeof(struct iovec));
	req->log = (struct vhr_log *)(req->iov + out + in);
	memcpy(req->log, vq->log, nlog * sizeof(struct vhr_log));
	req->nr_log = nlog;
	req->bvq = bvq;
	req->head = head;
	req->nr_out = out;
	req->nr_in = in;
	req->status = VIRTIO_BLK_S_OK;
	req->used_len = 1;
	req->len = 0;
	req->ret = 0;

	req->status_ptr = vhost_blk_status_ptr(req->iov, out, in);

	atomic_inc(&bvq->inflight);
	atomic_inc(&blk->inflight);

	if (vhost_blk_get_hdr(req, out, out_len, &type, &sector)) {
		req->status = VIRTIO_BLK_S_IOERR;
		goto complete;
	}

	/* Data to the driver goes to the writable buffers but the status. */
	if (type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID) {
		iov_iter_init(&req->iter, READ, req->iov + out, in, in_len);
		iov_iter_truncate(&req->iter, in_len - 1);
		req->len = in_len - 1;
	} else {
		vhost_blk_out_iter(req, out, out_len);
		req->len = out_len - sizeof(struct virtio_blk_outhdr);
	}

	switch (type) {
	case VIRTIO_BLK_T_IN:
		req->used_len = in_len;
		ret = vhost_blk_rw(req, file, sector, false);
		break;
	case VIRTIO_BLK_T_OUT:
		if (blk->ro) {
			ret = -EROFS;
			break;
		}
		ret = vhost_blk_rw(req, file, sector, true);
		break;
	case VIRTIO_BLK_T_FLUSH:
		ret = vhost_blk_flush_bdev(req, file);
		if (ret == -EOPNOTSUPP) {
			vhost_blk_slow(req, file, type, 0, 0, false);
			ret = 0;
		}
		break;
	case VIRTIO_BLK_T_GET_ID:
		ret = vhost_blk_get_id(req, file);
		req->status = ret ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
		goto complete;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (blk->ro) {
			ret = -EROFS;
			break;
		}
		ret = vhost_blk_discard(req, file, type);
		break;
	default:
		req->status = VIRTIO_BLK_S_UNSUPP;
		goto complete;
	}
	if (!ret)
		return;		/* completes through vhost_blk_complete() */
	req->status = VIRTIO_BLK_S_IOERR;
complete:
	if (req->status != VIRTIO_BLK_S_OK)
		req->used_len = 1;
	vhost_blk_req_done(req);
}

static void vhost_blk_handle_kick(struct vhr_work *work)
{
	struct vhr_virtqueue *vq = container_of(work, struct vhr_virtqueue,
						poll_work);
	struct vhost_blk_vq *bvq = to_bvq(vq);
	unsigned int out, in, nlog, n;
	struct blk_plug plug;
	struct file *file;
	int head;

	mutex_lock(&vq->mutex);
	file = vq->private_data;
	if (!file || !vhr_vq_is_ready(vq))
		goto out;
	vhr_disable_notify(vq);
	blk_start_plug(&plug);
	for (n = 0;; n++) {
		if (n == VHOST_BLK_WEIGHT) {
			/* The other vrings and the completions get a turn. */
			vhr_work_queue(&bvq->blk->dev, &vq->poll_work);
			break;
		}
		head = vhr_get_vq_desc(vq, vq->iov, VHR_MAX_IOV, &out, &in,
				       vhr_logging(vq) ? vq->log : NULL, &nlog);
		if (head < 0)
			break;		/* reported; the vring stays stopped */
		if (head == vq->num) {
			if (unlikely(vhr_enable_notify(vq))) {
				vhr_disable_notify(vq);
				continue;
			}
			break;
		}
		if (!vhr_logging(vq))
			nlog = 0;
		vhost_blk_handle_req(bvq, file, head, out, in, nlog);
	}
	blk_finish_plug(&plug);
	vhr_signal(vq);	/* only if anything was used */
out:
	mutex_unlock(&vq->mutex);
}

/* Backend */

/*
 * Requests that finished after the owner was killed: no work runs any
 * more and the owner's memory is going away, so they are just dropped.
 */
static bool vhost_blk_has_orphans(struct vhost_blk_vq *bvq)
{
	return vhr_worker_killed(&bvq->blk->dev) && !llist_empty(&bvq->done);
}

static void vhost_blk_reap_orphans(struct vhost_blk_vq *bvq)
{
	struct vhost_blk_req *req, *tmp;
	struct llist_node *list;

	if (!vhr_worker_killed(&bvq->blk->dev))
		return;
	list = llist_del_all(&bvq->done);
	llist_for_each_entry_safe(req, tmp, list, node)
		vhost_blk_req_free(req);
}

/* Wait until every request of @bvq has completed. */
static void vhost_blk_wait_vq(struct vhost_blk_vq *bvq)
{
	for (;;) {
		vhost_blk_reap_orphans(bvq);
		if (!atomic_read(&bvq->inflight))
			return;
		wait_event(bvq->blk->inflight_wq,
			   !atomic_read(&bvq->inflight) ||
			   vhost_blk_has_orphans(bvq));
	}
}

static void vhost_blk_drain_vq(struct vhost_blk_vq *bvq)
{
	vhost_blk_wait_vq(bvq);
	vhr_dev_flush(&bvq->blk->dev);
}

/*
 * Wait for every request; afterwards the worker and the device may be
 * freed: completion callbacks that handed over their request may still be
 * returning, so wait for them too (they run under rcu_read_lock()).
 */
static void vhost_blk_drain(struct vhost_blk *blk)
{
	int i;

	for (i = 0; i < VHOST_BLK_MAX_VQS; i++)
		vhost_blk_wait_vq(&blk->vqs[i]);
	vhr_dev_flush(&blk->dev);
	synchronize_rcu();
}

/* Stop every vring and drop the backend. */
static void vhost_blk_detach(struct vhost_blk *blk)
{
	int i;

	for (i = 0; i < VHOST_BLK_MAX_VQS; i++)
		vhr_vq_set_backend(&blk->vqs[i].vq, NULL);
	vhost_blk_drain(blk);
	for (i = 0; i < VHOST_BLK_MAX_VQS; i++)
		vhost_blk_free_cache(&blk->vqs[i]);
	if (blk->backend)
		fput(blk->backend);
	blk->backend = NULL;
	blk->ro = false;
	blk->dev.features &= ~(1ULL << VIRTIO_BLK_F_RO);
}

static long vhost_blk_set_backend(struct vhost_blk *blk, void __user *argp)
{
	struct vhost_vring_file f;
	struct file *file;
	umode_t mode;
	int i;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	if (f.fd == VHOST_FILE_UNBIND) {
		vhost_blk_detach(blk);
		return 0;
	}
	if (blk->backend)
		return -EBUSY;
	file = fget(f.fd);
	if (!file)
		return -EBADF;
	mode = file_inode(file)->i_mode;
	if (!S_ISREG(mode) && !S_ISBLK(mode)) {
		pr_err("backend fd %d is neither a regular file nor a block device\n",
		       f.fd);
		fput(file);
		return -EINVAL;
	}
	if (!(file->f_mode & FMODE_READ)) {
		pr_err("backend fd %d is not open for reading\n", f.fd);
		fput(file);
		return -EBADF;
	}
	blk->backend = file;
	blk->ro = !(file->f_mode & FMODE_WRITE);
	/* A read-only backend is offered as a read-only disk. */
	if (blk->ro)
		blk->dev.features |= 1ULL << VIRTIO_BLK_F_RO;
	for (i = 0; i < VHOST_BLK_MAX_VQS; i++)
		vhr_vq_set_backend(&blk->vqs[i].vq, file);
	return 0;
}

static long vhost_blk_get_config(struct vhost_blk *blk, void __user *argp)
{
	struct vhost_blk_config c = {};
	struct file *file = blk->backend;
	u32 bsize = VHOST_BLK_SECTOR;

	if (!file)
		return -ENODEV;
	if (S_ISBLK(file_inode(file)->i_mode))
		bsize = bdev_logical_block_size(I_BDEV(file->f_mapping->host));
	c.capacity = vhost_blk_capacity(file) >> 9;
	c.blk_size = bsize;
	c.seg_max = VHOST_BLK_SEG_MAX;
	c.num_queues = VHOST_BLK_MAX_VQS;
	c.read_only = blk->ro;
	c.write_zeroes_may_unmap = 1;
	c.max_discard_sectors = VHOST_BLK_MAX_DISCARD;
	c.max_discard_seg = 1;
	c.discard_sector_alignment = bsize >> 9;
	c.max_write_zeroes_sectors = VHOST_BLK_MAX_DISCARD;
	c.max_write_zeroes_seg = 1;
	return copy_to_user(argp, &c, sizeof(c)) ? -EFAULT : 0;
}

static long vhost_blk_reset_owner(struct vhost_blk *blk)
{
	vhr_dev_stop(&blk->dev);
	vhost_blk_detach(blk);
	vhr_dev_cleanup(&blk->dev);
	return 0;
}

static long vhost_blk_ioctl(struct file *f, unsigned int cmd,
			    unsigned long arg)
{
	struct vhost_blk *blk = f->private_data;
	void __user *argp = (void __user *)arg;
	struct vhost_vring_state s;
	unsigned int idx;
	long ret;

	switch (cmd) {
	case VHOST_BLK_SET_BACKEND:
	case VHOST_BLK_GET_CONFIG:
	case VHOST_RESET_OWNER:
		mutex_lock(&blk->dev.mutex);
		ret = vhr_dev_check_owner(&blk->dev);
		if (!ret && cmd == VHOST_BLK_SET_BACKEND)
			ret = vhost_blk_set_backend(blk, argp);
		else if (!ret && cmd == VHOST_BLK_GET_CONFIG)
			ret = vhost_blk_get_config(blk, argp);
		else if (!ret)
			ret = vhost_blk_reset_owner(blk);
		mutex_unlock(&blk->dev.mutex);
		return ret;
	case VHOST_GET_VRING_BASE:
		/* Requests of the vring complete before its base is read. */
		if (copy_from_user(&s, argp, sizeof(s)))
			return -EFAULT;
		if (s.index >= VHOST_BLK_MAX_VQS)
			break;
		/* Against RESET_OWNER, which frees the worker. */
		mutex_lock(&blk->dev.mutex);
		if (!vhr_dev_check_owner(&blk->dev)) {
			idx = array_index_nospec(s.index, VHOST_BLK_MAX_VQS);
			vhost_blk_drain_vq(&blk->vqs[idx]);
		}
		mutex_unlock(&blk->dev.mutex);
		break;
	}

	ret = vhr_dev_ioctl(&blk->dev, cmd, argp);
	if (ret == -ENOIOCTLCMD)
		ret = vhr_vring_ioctl(&blk->dev, cmd, argp);
	if (ret == -ENOIOCTLCMD)
		ret = -ENOTTY;
	return ret;
}

static int vhost_blk_open(struct inode *inode, struct file *f)
{
	struct vhost_blk *blk;
	int i, ret;

	blk = kvzalloc(sizeof(*blk), GFP_KERNEL);
	if (!blk)
		return -ENOMEM;
	for (i = 0; i < VHOST_BLK_MAX_VQS; i++)
		blk->vq_ptrs[i] = &blk->vqs[i].vq;
	ret = vhr_dev_init(&blk->dev, "vhost-blk", blk->vq_ptrs,
			   VHOST_BLK_MAX_VQS, VHOST_BLK_FEATURES,
			   vhost_blk_handle_kick);
	if (ret) {
		kvfree(blk);
		return ret;
	}
	blk->dev.max_mem_regions = max_mem_regions;
	for (i = 0; i < VHOST_BLK_MAX_VQS; i++) {
		blk->vqs[i].blk = blk;
		vhr_work_init(&blk->vqs[i].done_work, vhost_blk_done_work);
		init_llist_head(&blk->vqs[i].done);
		init_llist_head(&blk->vqs[i].free);
		atomic_set(&blk->vqs[i].inflight, 0);
	}
	atomic_set(&blk->inflight, 0);
	init_waitqueue_head(&blk->inflight_wq);
	f->private_data = blk;
	return 0;
}

static int vhost_blk_release(struct inode *inode, struct file *f)
{
	struct vhost_blk *blk = f->private_data;

	mutex_lock(&blk->dev.mutex);
	vhr_dev_stop(&blk->dev);
	vhost_blk_detach(blk);
	vhr_dev_cleanup(&blk->dev);
	mutex_unlock(&blk->dev.mutex);
	vhr_dev_free(&blk->dev);
	kvfree(blk);
	return 0;
}

static const struct file_operations vhost_blk_fops = {
	.owner		= THIS_MODULE,
	.open		= vhost_blk_open,
	.release	= vhost_blk_release,
	.unlocked_ioctl	= vhost_blk_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice vhost_blk_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "vhost-blk",
	.fops	= &vhost_blk_fops,
};

static int __init vhost_blk_init(void)
{
	int ret;

	vhost_blk_wq = alloc_workqueue("vhost-blk", WQ_UNBOUND, 0);
	if (!vhost_blk_wq)
		return -ENOMEM;
	ret = misc_register(&vhost_blk_misc);
	if (ret) {
		pr_err("cannot register /dev/vhost-blk: %d\n", ret);
		destroy_workqueue(vhost_blk_wq);
	}
	return ret;
}
module_init(vhost_blk_init);

/* Every device is closed, so every request complete: only returns wait. */
static void __exit vhost_blk_exit(void)
{
	misc_deregister(&vhost_blk_misc);
	destroy_workqueue(vhost_blk_wq);
}
module_exit(vhost_blk_exit);

MODULE_VERSION("0.1.0");
MODULE_LICENSE("GPL");
MODULE_AUTHOR("kvmarm-io developers");
MODULE_DESCRIPTION("vhost-blk: in-kernel virtio-blk backend on files and block devices");
