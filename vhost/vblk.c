// SPDX-License-Identifier: GPL-2.0
/*
 * vblk_core - the virtio-blk request core of /dev/vhost-blk and vdpa-blk.
 *
 * See vblk_core.h.  Reads and writes are asynchronous kiocbs (many in
 * flight per queue), flush is an asynchronous cache flush on block
 * devices.  Flush of files (fsync), discard and write-zeroes (fallocate,
 * or discard bios on block devices) block, so they run on a workqueue.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/vblk_core.h>
#include <linux/virtio_blk.h>
#include <linux/workqueue.h>

#include "kvmarm_compat.h"

/* Runs the requests that block; see vblk_slow_work(). */
static struct workqueue_struct *vblk_wq;

/**
 * vblk_capacity() - size of a backing in bytes
 * @file: regular file or block device
 *
 * Return: the size, which a file may change at any time.
 */
u64 vblk_capacity(struct file *file)
{
	return i_size_read(file->f_mapping->host);
}
EXPORT_SYMBOL_GPL(vblk_capacity);

/**
 * vblk_block_size() - the logical block size to offer for a backing
 * @file: regular file or block device
 *
 * Return: the block device's logical block size, or 512 for a file.
 */
u32 vblk_block_size(struct file *file)
{
	if (S_ISBLK(file_inode(file)->i_mode))
		return bdev_logical_block_size(I_BDEV(file->f_mapping->host));
	return VBLK_SECTOR;
}
EXPORT_SYMBOL_GPL(vblk_block_size);

/**
 * vblk_check_backing() - can @file back a disk?
 * @file: an open file
 * @what: how to name it in the error message
 *
 * Return: 0, -EINVAL for a file that is neither a regular file nor a block
 * device, -EBADF for one not open for reading, -EPERM for an append-only
 * file (its sectors must not be overwritten).
 */
int vblk_check_backing(struct file *file, const char *what)
{
	struct inode *inode = file_inode(file);

	if (!S_ISREG(inode->i_mode) && !S_ISBLK(inode->i_mode)) {
		pr_err_ratelimited("%s is neither a regular file nor a block device\n",
				   what);
		return -EINVAL;
	}
	if (!(file->f_mode & FMODE_READ)) {
		pr_err_ratelimited("%s is not open for reading\n", what);
		return -EBADF;
	}
	if (IS_APPEND(inode) && (file->f_mode & FMODE_WRITE)) {
		pr_err_ratelimited("%s is append-only: its sectors cannot be written\n",
				   what);
		return -EPERM;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(vblk_check_backing);

/* Whole sectors from @sector on, @bytes long, all within the backend. */
static bool vblk_in_range(struct file *file, u64 sector, u64 bytes)
{
	u64 cap = vblk_capacity(file);

	return !(bytes % VBLK_SECTOR) &&
	       sector <= cap / VBLK_SECTOR &&
	       bytes <= cap - sector * VBLK_SECTOR;
}

/**
 * vblk_req_end() - turn the backend's result into the answer
 * @req: a request whose @ret is set
 *
 * Sets @req->status and @req->used_len for the front-end to write and
 * return.
 */
void vblk_req_end(struct vblk_req *req)
{
	if (req->ret >= 0 && req->ret == req->len) {
		req->status = VIRTIO_BLK_S_OK;
	} else if (req->ret == -EOPNOTSUPP &&
		   (req->type == VIRTIO_BLK_T_DISCARD ||
		    req->type == VIRTIO_BLK_T_WRITE_ZEROES)) {
		/* The driver falls back (e.g. writes zero pages). */
		req->status = VIRTIO_BLK_S_UNSUPP;
		req->used_len = 1;
	} else {
		req->status = VIRTIO_BLK_S_IOERR;
		req->used_len = 1;
	}
}
EXPORT_SYMBOL_GPL(vblk_req_end);

static void vblk_complete(struct vblk_req *req, long ret)
{
	req->ret = ret;
	req->disk->complete(req);
}

static void vblk_aio_complete(struct kiocb *iocb, long ret)
{
	/* A queued write kept the freeze protection until now. */
	if (iocb->ki_flags & IOCB_WRITE)
		kiocb_end_write(iocb);
	vblk_complete(container_of(iocb, struct vblk_req, iocb), ret);
}

static void vblk_flush_end_io(struct bio *bio)
{
	struct vblk_req *req = bio->bi_private;
	int ret = blk_status_to_errno(bio->bi_status);

	bio_put(bio);
	vblk_complete(req, ret);
}

/* Return: true if @req is done, false if it completes asynchronously. */
static bool vblk_rw(struct vblk_req *req, struct file *file, u64 sector,
		    bool write)
{
	ssize_t ret;

	if (req->len > VBLK_MAX_BYTES ||
	    !vblk_in_range(file, sector, req->len)) {
		req->ret = -EINVAL;
		return true;
	}
	req->iocb = (struct kiocb) {
		.ki_filp = file,
		.ki_pos = sector * VBLK_SECTOR,
		/* Sectors are addressed: an O_APPEND backend must not append. */
		.ki_flags = (iocb_flags(file) & ~IOCB_APPEND) |
			    IOCB_ALLOC_CACHE |
			    (write ? IOCB_WRITE : 0) |
			    (write && req->write_through ? IOCB_DSYNC : 0),
		.ki_complete = vblk_aio_complete,
		.ki_ioprio = get_current_ioprio(),
	};
	if (write)
		ret = vfs_iocb_iter_write(file, &req->iocb, &req->iter);
	else
		ret = vfs_iocb_iter_read(file, &req->iocb, &req->iter);
	if (ret == -EIOCBQUEUED)
		return false;
	/* Done already (page cache, tmpfs). */
	req->ret = ret;
	return true;
}

/*
 * Flush a block device without holding up the front-end: the page cache
 * is written back here (nothing to do with O_DIRECT), then an empty
 * REQ_PREFLUSH bio flushes the device's cache and completes like a read.
 *
 * Return: 0 once submitted, the write-back error, or -EOPNOTSUPP for
 * other backends, which vblk_slow_work() flushes.
 */
static int vblk_flush_bdev(struct vblk_req *req, struct file *file)
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
	bio->bi_end_io = vblk_flush_end_io;
	req->len = 0;
	submit_bio(bio);
	return 0;
}

/*
 * Discard on a block device: the range leaves the page cache, then the
 * device may deallocate it.  One without discard is not asked: discard is
 * a hint.  (Punching a hole into a block device writes zeroes instead,
 * which devices that can only discard, like thin volumes, refuse.)
 *
 * The page cache is the device's, shared with whoever else uses it: as
 * truncate_bdev_range() does, it is dropped only while the device is
 * claimed exclusively (by the backend fd's O_EXCL, or for the discard by
 * @holder).  A device that someone else holds, such as a file system
 * mounted on it, is not discarded under it (-EBUSY).
 */
static int vblk_discard_bdev(struct file *file, loff_t off, loff_t len,
			     void *holder)
{
	struct address_space *mapping = file->f_mapping;
	struct block_device *bdev = I_BDEV(mapping->host);
	bool claim = !KVMARM_BDEV_FILE_EXCL(file);
	int ret;

	if (!bdev_max_discard_sectors(bdev))
		return 0;
	/*
	 * The order of blkdev_fallocate() and blk_ioctl_discard(): the
	 * invalidate lock, then the claim, held only while the page cache
	 * is dropped (truncate_bdev_range()).  Claiming first would deadlock
	 * against them, or against another vhost-blk on the same device.
	 */
	filemap_invalidate_lock(mapping);
	if (claim) {
		ret = bd_prepare_to_claim(bdev, holder, NULL);
		if (ret) {
			filemap_invalidate_unlock(mapping);
			pr_err_ratelimited("%pg is held by another user: no discard\n",
					   bdev);
			return ret;
		}
	}
	truncate_inode_pages_range(mapping, off, off + len - 1);
	if (claim)
		bd_abort_claiming(bdev, holder);
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
static int vblk_write_zeroes(struct file *file, loff_t off, loff_t len,
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

static int vblk_slow_op(struct vblk_disk *disk, u32 type, loff_t off,
			loff_t len, bool unmap)
{
	struct file *file = disk->file;
	bool blk = S_ISBLK(file_inode(file)->i_mode);
	int ret;

	/*
	 * A block device may be made read-only while open for writing
	 * (BLKROSET); neither a discard nor blkdev_fallocate() checks.
	 */
	if (blk && type != VIRTIO_BLK_T_FLUSH &&
	    bdev_read_only(I_BDEV(file->f_mapping->host)))
		return -EPERM;
	switch (type) {
	case VIRTIO_BLK_T_FLUSH:
		return vfs_fsync(file, 0);
	case VIRTIO_BLK_T_DISCARD:
		if (blk)
			return vblk_discard_bdev(file, off, len, disk);
		ret = vfs_fallocate(file, FALLOC_FL_PUNCH_HOLE |
				    FALLOC_FL_KEEP_SIZE, off, len);
		/* A hint, as on block devices without discard. */
		return ret == -EOPNOTSUPP ? 0 : ret;
	default:
		return vblk_write_zeroes(file, off, len, unmap);
	}
}

/*
 * A flush of a file, a discard or a write-zeroes: the file system or the
 * block layer does them synchronously, for as long as they take.  They
 * run on vblk_wq, so that the front-end goes on with the other requests
 * of every queue.  No guest memory is touched; the submitter's
 * credentials and blkio cgroup apply, as if it ran there.
 */
static void vblk_slow_run(struct vblk_req *req)
{
	struct cgroup_subsys_state *blkcg = req->slow.blkcg;
	const struct cred *cred = req->slow.cred, *old;
	struct file *file = req->disk->file;
	unsigned int noio;
	int ret;

	/* vdpa-blk may serve the host's own disk: no reclaim I/O here. */
	noio = memalloc_noio_save();
	old = override_creds(cred);
	kthread_associate_blkcg(blkcg);
	ret = vblk_slow_op(req->disk, req->slow.type, req->slow.off,
			   req->slow.len, req->slow.unmap);
	/* Without FLUSH, zeroes too are stable when they complete. */
	if (!ret && req->write_through && req->slow.type != VIRTIO_BLK_T_FLUSH)
		ret = vfs_fsync_range(file, req->slow.off,
				      req->slow.off + req->slow.len - 1, 1);
	kthread_associate_blkcg(NULL);
	revert_creds(old);
	memalloc_noio_restore(noio);
	put_cred(cred);
	if (blkcg)
		css_put(blkcg);
	vblk_complete(req, ret);
}

/*
 * The slow requests of one disk, one at a time and in order: a guest
 * cannot fill the workqueue, which every disk shares, with its own.
 * Completing the last one may free the disk, so it is not touched after.
 */
static void vblk_slow_work(struct work_struct *work)
{
	struct vblk_disk *disk = container_of(work, struct vblk_disk,
					      slow_work);
	struct vblk_req *req;
	bool last;

	do {
		spin_lock(&disk->slow_lock);
		req = list_first_entry(&disk->slow_list, struct vblk_req,
				       slow.entry);
		list_del(&req->slow.entry);
		last = list_empty(&disk->slow_list);
		if (last)
			disk->slow_running = false;
		spin_unlock(&disk->slow_lock);
		vblk_slow_run(req);
		cond_resched();
	} while (!last);
}

/* Queue @req, of @type, for vblk_slow_work(). */
static void vblk_slow(struct vblk_req *req, u32 type, loff_t off, loff_t len,
		      bool unmap)
{
	bool start;

	req->len = 0;
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
	spin_lock(&req->disk->slow_lock);
	list_add_tail(&req->slow.entry, &req->disk->slow_list);
	start = !req->disk->slow_running;
	req->disk->slow_running = true;
	spin_unlock(&req->disk->slow_lock);
	if (start)
		queue_work(vblk_wq, &req->disk->slow_work);
}

/*
 * Check a discard or write-zeroes request and queue it.
 *
 * Return: 0 once queued, 1 when done (an empty range), or -EINVAL/-EFAULT
 * for a bad segment.
 */
static int vblk_discard(struct vblk_req *req, struct file *file, u32 type)
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
	    (!zeroes && flags) || nr > VBLK_MAX_DISCARD ||
	    !vblk_in_range(file, sector, nr * VBLK_SECTOR))
		return -EINVAL;
	if (!nr) {
		req->len = 0;
		return 1;
	}
	vblk_slow(req, type, sector * VBLK_SECTOR, nr * VBLK_SECTOR,
		  flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	return 0;
}

/* The id fills its 20 bytes; it is NUL-terminated only when shorter. */
static int vblk_get_id(struct vblk_req *req)
{
	char id[VIRTIO_BLK_ID_BYTES + 1] = {};
	size_t n = min_t(size_t, req->len, VIRTIO_BLK_ID_BYTES);

	snprintf(id, sizeof(id), "%s-%016llx", req->disk->id_prefix,
		 (unsigned long long)req->disk->id);
	if (copy_to_iter(id, n, &req->iter) != n)
		return -EFAULT;
	req->used_len = n + 1;
	return 0;
}

/**
 * vblk_disk_init() - prepare the core's part of a disk
 * @disk: the disk, before its first request
 */
void vblk_disk_init(struct vblk_disk *disk)
{
	spin_lock_init(&disk->slow_lock);
	INIT_LIST_HEAD(&disk->slow_list);
	INIT_WORK(&disk->slow_work, vblk_slow_work);
	disk->slow_running = false;
	disk->id = get_random_u64();
}
EXPORT_SYMBOL_GPL(vblk_disk_init);

/**
 * vblk_req_start() - run a request on a backing
 * @req: the request, with @iter and @in_len set (see struct vblk_req)
 * @disk: the backing
 * @type: VIRTIO_BLK_T_* from the header
 * @sector: from the header
 *
 * Context: process context that may sleep; the submitter's credentials,
 * I/O priority and blkio cgroup apply to the request.
 *
 * Return: true if @req is done now (@status and @used_len set), false if
 * it was queued: @disk->complete() is called when it finishes.
 */
bool vblk_req_start(struct vblk_req *req, struct vblk_disk *disk, u32 type,
		    u64 sector)
{
	struct file *file = disk->file;
	int ret;

	req->disk = disk;
	req->type = type;
	req->status = VIRTIO_BLK_S_OK;
	req->used_len = 1;
	req->ret = 0;
	req->len = iov_iter_count(&req->iter);

	switch (type) {
	case VIRTIO_BLK_T_IN:
		/*
		 * Data and status, if it succeeds: at most VBLK_MAX_BYTES + 1,
		 * but @in_len is the driver's and may not fit the used length.
		 */
		req->used_len = min_t(size_t, req->in_len, U32_MAX);
		if (!vblk_rw(req, file, sector, false))
			return false;
		break;
	case VIRTIO_BLK_T_OUT:
		if (disk->ro) {
			req->ret = -EROFS;
			break;
		}
		if (!vblk_rw(req, file, sector, true))
			return false;
		break;
	case VIRTIO_BLK_T_FLUSH:
		ret = vblk_flush_bdev(req, file);
		if (ret == -EOPNOTSUPP) {
			vblk_slow(req, type, 0, 0, false);
			return false;
		}
		if (!ret)
			return false;
		/* Whatever the write-back error, the flush failed. */
		req->status = VIRTIO_BLK_S_IOERR;
		goto done;
	case VIRTIO_BLK_T_GET_ID:
		ret = vblk_get_id(req);
		req->status = ret ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
		goto done;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (disk->ro) {
			req->ret = -EROFS;
			break;
		}
		ret = vblk_discard(req, file, type);
		if (!ret)
			return false;
		req->ret = ret < 0 ? ret : 0;
		break;
	default:
		req->status = VIRTIO_BLK_S_UNSUPP;
		goto done;
	}
	vblk_req_end(req);
	return true;
done:
	if (req->status != VIRTIO_BLK_S_OK)
		req->used_len = 1;
	return true;
}
EXPORT_SYMBOL_GPL(vblk_req_start);

static int __init vblk_core_init(void)
{
	/* vdpa-blk may serve the host's own disk: reclaim may wait for it. */
	vblk_wq = alloc_workqueue("vblk", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	return vblk_wq ? 0 : -ENOMEM;
}
module_init(vblk_core_init);

/* Every user module is gone, so every request complete. */
static void __exit vblk_core_exit(void)
{
	destroy_workqueue(vblk_wq);
}
module_exit(vblk_core_exit);

MODULE_VERSION("0.1.0");
MODULE_LICENSE("GPL");
MODULE_AUTHOR("kvmarm-io developers");
MODULE_DESCRIPTION("virtio-blk request core of vhost-blk and vdpa-blk");
