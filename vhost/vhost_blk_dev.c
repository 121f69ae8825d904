// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-blk: an in-kernel virtio-blk backend.
 *
 * /dev/vhost-blk serves virtio-blk requests from a guest's virtqueues on a
 * regular file or a block device, without a trip through the VMM.  The
 * requests run in vblk_core (shared with vdpa-blk); this file reaches them
 * in the owner's memory through user iovecs.  Each queue is one vring with
 * its own call eventfd; all run on the device's worker, which belongs to
 * the owner's mm and cgroups.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/llist.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/vblk_core.h>
#include <linux/virtio_blk.h>
#include <linux/vhost_blk.h>

#include "kvmarm_compat.h"
#include "vhost_ring.h"

#define VHOST_BLK_MAX_VQS	16
/* Requests, and bytes, a vring may start in one turn of the worker. */
#define VHOST_BLK_WEIGHT	256
#define VHOST_BLK_BYTE_WEIGHT	SZ_16M
/* Requests of at most this many iovecs are recycled. */
#define VHOST_BLK_CACHED_IOV	8

#define VHOST_BLK_FEATURES	(VHR_FEATURES | VBLK_FEATURES)

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
	bool throttled;			/* a ring's worth in flight; vq mutex */
};

struct vhost_blk {
	struct vhr_dev dev;
	struct vhost_blk_vq vqs[VHOST_BLK_MAX_VQS];
	struct vhr_virtqueue *vq_ptrs[VHOST_BLK_MAX_VQS];
	struct vblk_disk disk;		/* file NULL: no backend */
	atomic_t inflight;
	wait_queue_head_t inflight_wq;
};

struct vhost_blk_req {
	struct vblk_req req;		/* the request core's part */
	struct vhost_blk_vq *bvq;
	u16 head;
	u16 nr_out;			/* readable iovecs, then writable ones */
	u16 nr_in;
	bool cached;			/* goes back to bvq->free */
	u8 __user *status_ptr;
	struct iovec iov[];
};

static struct vhost_blk_vq *to_bvq(struct vhr_virtqueue *vq)
{
	return container_of(vq, struct vhost_blk_vq, vq);
}

/* Completion */

/*
 * A request for @niov iovecs, charged to the owner's memory cgroup.
 * Small ones are recycled per vring, as many as were once in flight
 * together, until the backend is detached.  The worker, holding the vring
 * mutex, is the only one taking from that list.
 */
static struct vhost_blk_req *vhost_blk_req_alloc(struct vhost_blk_vq *bvq,
						 unsigned int niov)
{
	struct vhost_blk_req *req;
	struct llist_node *node;
	bool cached = false;

	lockdep_assert_held(&bvq->vq.mutex);
	if (niov <= VHOST_BLK_CACHED_IOV) {
		cached = true;
		node = llist_del_first(&bvq->free);
		if (node)
			req = llist_entry(node, struct vhost_blk_req, req.node);
		else
			req = kmalloc(struct_size(req, iov, VHOST_BLK_CACHED_IOV),
				      GFP_KERNEL_ACCOUNT);
	} else {
		req = kmalloc(struct_size(req, iov, niov), GFP_KERNEL_ACCOUNT);
	}
	if (req)
		req->cached = cached;	/* the rest is vhost_blk_handle_req()'s */
	return req;
}

/* Free the recycled requests of @bvq; none may be in use. */
static void vhost_blk_free_cache(struct vhost_blk_vq *bvq)
{
	struct llist_node *list = llist_del_all(&bvq->free);
	struct vhost_blk_req *req, *tmp;

	llist_for_each_entry_safe(req, tmp, list, req.node)
		kfree(req);
}

static void vhost_blk_req_free(struct vhost_blk_req *req)
{
	struct vhost_blk_vq *bvq = req->bvq;

	if (req->cached)
		llist_add(&req->req.node, &bvq->free);
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

/*
 * Mark the status byte at @status, which the device wrote, in the dirty
 * log (if logging).
 */
static void vhost_blk_log_status(struct vhr_virtqueue *vq, u8 __user *status)
{
	struct iovec iov = { .iov_base = status, .iov_len = 1 };

	vhr_log_write(vq, &iov, 1, 1);
}

static void vhost_blk_req_done(struct vhost_blk_req *req)
{
	struct vhost_blk_vq *bvq = req->bvq;
	struct vhr_virtqueue *vq = &bvq->vq;

	if (put_user(req->req.status, req->status_ptr)) {
		vhr_vq_err(vq, "vring %u: cannot write status of head %u\n",
			   vq->index, req->head);
	} else if (unlikely(vhr_logging(vq))) {
		size_t data = req->req.used_len - 1;

		/*
		 * What was written: the data at the start of the writable
		 * buffers (the used length less the status), and the status.
		 * A read that failed or fell short returns the status alone,
		 * but what it read is in the buffers all the same.
		 */
		if (req->req.type == VIRTIO_BLK_T_IN &&
		    req->req.status != VIRTIO_BLK_S_OK && req->req.ret > 0)
			data = min_t(size_t, req->req.ret, req->req.len);
		vhr_log_write(vq, req->iov + req->nr_out, req->nr_in, data);
		vhost_blk_log_status(vq, req->status_ptr);
	}
	vhr_add_used(vq, req->head, req->req.used_len);
	vhost_blk_req_free(req);
}

static void vhost_blk_done_work(struct vhr_work *work)
{
	struct vhost_blk_vq *bvq = container_of(work, struct vhost_blk_vq,
						done_work);
	struct vhost_blk_req *req, *tmp;
	struct llist_node *list;

	mutex_lock(&bvq->vq.mutex);
	list = llist_reverse_order(llist_del_all(&bvq->done));
	llist_for_each_entry_safe(req, tmp, list, req.node) {
		vblk_req_end(&req->req);
		vhost_blk_req_done(req);
	}
	vhr_signal(&bvq->vq);
	if (bvq->throttled && atomic_read(&bvq->inflight) < bvq->vq.num) {
		bvq->throttled = false;
		vhr_vq_work_queue(&bvq->vq, &bvq->vq.poll_work);
	}
	mutex_unlock(&bvq->vq.mutex);
}

/*
 * A request that vblk_req_start() queued finished, possibly in interrupt
 * context: hand it to the worker.  Once it is on the done list it may be
 * freed at any time, so only @bvq is used after that; the RCU read side
 * keeps the device alive until this returns (see vhost_blk_drain()).
 */
static void vhost_blk_complete(struct vblk_req *vreq)
{
	struct vhost_blk_req *req = container_of(vreq, struct vhost_blk_req,
						 req);
	struct vhost_blk_vq *bvq = req->bvq;

	rcu_read_lock();
	/* The first on an empty list queues the work that takes them all. */
	if (llist_add(&vreq->node, &bvq->done) &&
	    !vhr_vq_work_queue(&bvq->vq, &bvq->done_work))
		wake_up_all(&bvq->blk->inflight_wq); /* vhost_blk_drain() */
	rcu_read_unlock();
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

/* Point @req->req.iter at the driver's data, after the header. */
static void vhost_blk_out_iter(struct vhost_blk_req *req, unsigned int out,
			       size_t out_len)
{
	size_t hdr = sizeof(struct virtio_blk_outhdr);
	struct iov_iter *iter = &req->req.iter;

	if (req->iov[0].iov_len == hdr) {
		iov_iter_init(iter, WRITE, req->iov + 1, out - 1,
			      out_len - hdr);
	} else {
		iov_iter_init(iter, WRITE, req->iov, out, out_len);
		iov_iter_advance(iter, hdr);
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
		vhost_blk_log_status(vq, status);
		vhr_add_used(vq, head, 1);
		return;
	}
	vhr_add_used(vq, head, 0);
}

/*
 * Handle one chain: @out readable iovecs (header, then data for writes),
 * @in writable ones (data for reads, then the status byte).
 *
 * Return: the chain's bytes, for the vring's weight.
 */
static size_t vhost_blk_handle_req(struct vhost_blk_vq *bvq, int head,
				   unsigned int out, unsigned int in)
{
	struct vhr_virtqueue *vq = &bvq->vq;
	struct vhost_blk *blk = bvq->blk;
	struct vhost_blk_req *req;
	size_t out_len = 0, in_len = 0;
	unsigned int i;
	u32 type;
	u64 sector;

	for (i = 0; i < out; i++)
		out_len += vq->iov[i].iov_len;
	for (i = out; i < out + in; i++)
		in_len += vq->iov[i].iov_len;
	if (out_len < sizeof(struct virtio_blk_outhdr) || !in_len) {
		vhr_vq_err(vq, "vring %u: request %d without header or status\n",
			   vq->index, head);
		vhost_blk_fail(vq, head, out, in);
		return out_len + in_len;
	}

	req = vhost_blk_req_alloc(bvq, out + in);
	if (!req) {
		vhost_blk_fail(vq, head, out, in);
		return out_len + in_len;
	}
	memcpy(req->iov, vq->iov, (out + in) * sizeof(struct iovec));
	req->bvq = bvq;
	req->head = head;
	req->nr_out = out;
	req->nr_in = in;
	req->status_ptr = vhost_blk_status_ptr(req->iov, out, in);

	atomic_inc(&bvq->inflight);
	atomic_inc(&blk->inflight);

	if (vhost_blk_get_hdr(req, out, out_len, &type, &sector)) {
		req->req.status = VIRTIO_BLK_S_IOERR;
		req->req.used_len = 1;
		req->req.ret = 0;	/* nothing read */
		vhost_blk_req_done(req);
		return out_len + in_len;
	}

	/* Data to the driver goes to the writable buffers but the status. */
	if (vblk_req_data_dir(type) == READ) {
		iov_iter_init(&req->req.iter, READ, req->iov + out, in,
			      in_len);
		iov_iter_truncate(&req->req.iter, in_len - 1);
	} else {
		vhost_blk_out_iter(req, out, out_len);
	}
	req->req.in_len = in_len;
	/* A driver without FLUSH expects writes to be stable when done. */
	req->req.write_through = !vhr_has_feature(vq, VIRTIO_BLK_F_FLUSH);
	if (vblk_req_start(&req->req, &blk->disk, type, sector))
		vhost_blk_req_done(req);
	/* else it completes through vhost_blk_complete() */
	return out_len + in_len;
}

static void vhost_blk_handle_kick(struct vhr_work *work)
{
	struct vhr_virtqueue *vq = container_of(work, struct vhr_virtqueue,
						poll_work);
	struct vhost_blk_vq *bvq = to_bvq(vq);
	unsigned int out, in, reqs = 0;
	struct blk_plug plug;
	size_t total_len = 0;
	int head;

	mutex_lock(&vq->mutex);
	if (!vq->private_data || !vhr_vq_is_setup(vq))
		goto out;
	vhr_disable_notify(vq);
	blk_start_plug(&plug);
	/*
	 * A turn's weight of requests or bytes at most: then the engine queues
	 * the kick work again, behind the other vrings' and the completions'.
	 */
	do {
		/*
		 * A driver has at most a ring of requests in flight, unless it
		 * publishes heads again before they are used: then the vring
		 * waits for completions (vhost_blk_done_work()).
		 */
		if (atomic_read(&bvq->inflight) >= vq->num) {
			bvq->throttled = true;
			break;
		}
		head = vhr_get_vq_desc(vq, vq->iov, VHR_MAX_IOV, &out, &in,
				       NULL, NULL);
		if (head < 0)
			break;		/* reported; the vring stays stopped */
		if (head == vq->num) {
			if (unlikely(vhr_enable_notify(vq))) {
				/*
				 * Counted in the turn too (continue goes to
				 * the weight): a driver may race it forever.
				 */
				vhr_disable_notify(vq);
				continue;
			}
			break;
		}
		total_len += vhost_blk_handle_req(bvq, head, out, in);
	} while (likely(!vhr_exceeds_weight(vq, ++reqs, total_len)));
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
	llist_for_each_entry_safe(req, tmp, list, req.node)
		vhost_blk_req_free(req);
}

/*
 * Wait until every request of @bvq has completed; if @intr, a signal ends
 * the wait early.
 *
 * Return: 0, or -ERESTARTSYS when interrupted.
 */
static int vhost_blk_wait_vq(struct vhost_blk_vq *bvq, bool intr)
{
	int ret;

	for (;;) {
		vhost_blk_reap_orphans(bvq);
		if (!atomic_read(&bvq->inflight))
			return 0;
		if (!intr) {
			wait_event(bvq->blk->inflight_wq,
				   !atomic_read(&bvq->inflight) ||
				   vhost_blk_has_orphans(bvq));
			continue;
		}
		ret = wait_event_interruptible(bvq->blk->inflight_wq,
					       !atomic_read(&bvq->inflight) ||
					       vhost_blk_has_orphans(bvq));
		if (ret)
			return ret;
	}
}

/*
 * For GET_VRING_BASE: the requests of a vring complete before its base
 * is read.  A driver may keep one pending for as long as it likes (or the
 * backing may never answer), so the VMM's thread waits interruptibly, and
 * without @dev.mutex: the counters and the wait queue live as long as the
 * file, the worker is looked up under RCU, and a reaper shares the lists
 * (llist) with the others.  Then, under the mutex (against RESET_OWNER,
 * which frees the worker), the completions queued so far are run.
 */
static int vhost_blk_drain_vq(struct vhost_blk_vq *bvq)
{
	struct vhr_dev *dev = &bvq->blk->dev;
	int ret = vhost_blk_wait_vq(bvq, true);

	if (ret)
		return ret;
	if (mutex_lock_killable(&dev->mutex))
		return -EINTR;
	if (!vhr_dev_check_owner(dev))
		vhr_dev_flush(dev);
	mutex_unlock(&dev->mutex);
	return 0;
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
		vhost_blk_wait_vq(&blk->vqs[i], false);
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
	if (blk->disk.file)
		fput(blk->disk.file);
	blk->disk.file = NULL;
	blk->disk.ro = false;
	blk->dev.features &= ~(1ULL << VIRTIO_BLK_F_RO);
}

static long vhost_blk_set_backend(struct vhost_blk *blk, void __user *argp)
{
	struct vhost_vring_file f;
	struct file *file;
	char what[32];
	int i, ret;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	if (f.fd == VHOST_FILE_UNBIND) {
		vhost_blk_detach(blk);
		return 0;
	}
	if (blk->disk.file)
		return -EBUSY;
	file = fget(f.fd);
	if (!file)
		return -EBADF;
	snprintf(what, sizeof(what), "backend fd %d", f.fd);
	ret = vblk_check_backing(file, what);
	if (ret) {
		fput(file);
		return ret;
	}
	blk->disk.file = file;
	blk->disk.ro = !(file->f_mode & FMODE_WRITE);
	/* A read-only backend is offered as a read-only disk. */
	if (blk->disk.ro)
		blk->dev.features |= 1ULL << VIRTIO_BLK_F_RO;
	for (i = 0; i < VHOST_BLK_MAX_VQS; i++)
		vhr_vq_set_backend(&blk->vqs[i].vq, file);
	return 0;
}

static long vhost_blk_get_config(struct vhost_blk *blk, void __user *argp)
{
	struct vhost_blk_config c = {};
	struct file *file = blk->disk.file;
	u32 bsize;

	if (!file)
		return -ENODEV;
	bsize = vblk_block_size(file);
	c.capacity = vblk_capacity(file) >> 9;
	c.blk_size = bsize;
	c.seg_max = VBLK_SEG_MAX;
	c.num_queues = VHOST_BLK_MAX_VQS;
	c.read_only = blk->disk.ro;
	c.write_zeroes_may_unmap = 1;
	c.max_discard_sectors = VBLK_MAX_DISCARD;
	c.max_discard_seg = 1;
	c.discard_sector_alignment = bsize >> 9;
	c.max_write_zeroes_sectors = VBLK_MAX_DISCARD;
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
		if (mutex_lock_killable(&blk->dev.mutex))
			return -EINTR;
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
		idx = array_index_nospec(s.index, VHOST_BLK_MAX_VQS);
		ret = vhost_blk_drain_vq(&blk->vqs[idx]);
		if (ret)
			return ret;
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

	blk = kvzalloc(sizeof(*blk), GFP_KERNEL_ACCOUNT);
	if (!blk)
		return -ENOMEM;
	for (i = 0; i < VHOST_BLK_MAX_VQS; i++)
		blk->vq_ptrs[i] = &blk->vqs[i].vq;
	ret = vhr_dev_init(&blk->dev, "vhost-blk", blk->vq_ptrs,
			   VHOST_BLK_MAX_VQS, VHOST_BLK_FEATURES,
			   VHOST_BLK_WEIGHT, VHOST_BLK_BYTE_WEIGHT,
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
	blk->disk.id_prefix = "vhost-blk";
	blk->disk.complete = vhost_blk_complete;
	vblk_disk_init(&blk->disk);
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

	ret = misc_register(&vhost_blk_misc);
	if (ret)
		pr_err("cannot register /dev/vhost-blk: %d\n", ret);
	return ret;
}
module_init(vhost_blk_init);

/* Every device is closed, so every request complete: only returns wait. */
static void __exit vhost_blk_exit(void)
{
	misc_deregister(&vhost_blk_misc);
}
module_exit(vhost_blk_exit);

MODULE_VERSION("0.1.0");
MODULE_LICENSE("GPL");
MODULE_AUTHOR("kvmarm-io developers");
MODULE_DESCRIPTION("vhost-blk: in-kernel virtio-blk backend on files and block devices");
