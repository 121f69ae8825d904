// SPDX-License-Identifier: GPL-2.0
/*
 * vhost_ring dirty log: a bitmap in the owner's memory, one bit per guest
 * page, in which the device marks what it wrote while VHOST_F_LOG_ALL is
 * acked (VHOST_SET_LOG_BASE, VHOST_SET_LOG_FD).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/uaccess.h>

#include "vhost_ring.h"
#include "vhost_ring_internal.h"

/*
 * Mark guest pages @first to @last, a page of the bitmap at a time: one
 * pin and mapping for up to 32768 guest pages, and a chance to reschedule
 * between them.
 */
static int vhr_log_pages(struct vhr_dev *dev, u64 first, u64 last)
{
	while (first <= last) {
		u64 byte = dev->log_base + first / 8;
		unsigned long uaddr = (unsigned long)byte;
		unsigned long bit, n, i;
		struct page *pg;
		void *base;
		int ret;

		if (uaddr != byte || byte < dev->log_base)
			return -EFAULT;
		bit = (uaddr & ~PAGE_MASK) * 8 + first % 8;
		n = min_t(u64, last - first + 1, PAGE_SIZE * 8 - bit);
		ret = pin_user_pages_fast(uaddr & PAGE_MASK, 1, FOLL_WRITE, &pg);
		if (ret != 1)
			return ret < 0 ? ret : -EFAULT;
		base = kmap_local_page(pg);
		for (i = 0; i < n; i++)
			set_bit(bit + i, base);
		kunmap_local(base);
		unpin_user_pages_dirty_lock(&pg, 1, true);
		first += n;
		cond_resched();
	}
	return 0;
}

/* Mark the guest pages of [@gpa, @gpa + @len), which lie in one region. */
static int vhr_log_range(struct vhr_dev *dev, u64 gpa, u64 len)
{
	if (!len)
		return 0;
	return vhr_log_pages(dev, gpa / VHR_LOG_PAGE,
			     (gpa + len - 1) / VHR_LOG_PAGE);
}

/*
 * Mark the guest pages behind the owner's [@ua, @ua + @len): through every
 * region that maps them, as two guest addresses may alias the same memory.
 */
static int vhr_log_hva(struct vhr_dev *dev, u64 ua, u64 len)
{
	struct vhr_mem *mem = dev->mem;
	u64 last = ua + len - 1;
	u32 i;
	int ret;

	if (!len || !mem || last < ua)
		return 0;
	for (i = 0; i < mem->nregions; i++) {
		const struct vhr_mem_region *r = &mem->regions[i];
		u64 r_last = r->uaddr + r->size - 1;
		u64 start, end;

		if (ua > r_last || last < r->uaddr)
			continue;
		start = max(ua, r->uaddr);
		end = min(last, r_last);
		ret = vhr_log_range(dev, r->gpa + (start - r->uaddr),
				    end - start + 1);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * vhr_log_write() - mark the guest pages the device wrote, if logging
 * @vq:  the vring, locked
 * @iov: writable buffers from vhr_get_vq_desc(), in the owner's addresses
 * @n:   number of @iov
 * @len: bytes written, from the start of @iov
 *
 * Called once the bytes are written.  Only the pages behind those bytes
 * are marked, through every region that maps them.  The buffers are
 * mapped back through the memory table, so this serves chains taken
 * before logging began as well.
 *
 * Return: 0 or a negative errno (the log is unusable).
 */
int vhr_log_write(struct vhr_virtqueue *vq, const struct iovec *iov,
		  unsigned int n, size_t len)
{
	struct vhr_dev *dev = vq->dev;
	unsigned int i;
	int ret;

	lockdep_assert_held(&vq->mutex);
	if (!vhr_logging(vq) || !dev->log_base_set)
		return 0;
	/* The data must be seen before the bits that say it changed. */
	smp_wmb();
	for (i = 0; i < n && len; i++) {
		size_t l = min(len, iov[i].iov_len);

		ret = vhr_log_hva(dev, (u64)(uintptr_t)iov[i].iov_base, l);
		if (ret) {
			vhr_vq_err(vq, "vring %u: cannot write the dirty log\n",
				   vq->index);
			return ret;
		}
		len -= l;
	}
	if (dev->log_ctx)
		eventfd_signal(dev->log_ctx);
	return 0;
}

/* Mark @len bytes at @off into the used ring, if logging it. */
void vhr_log_used(struct vhr_virtqueue *vq, size_t off, size_t len)
{
	if (!vhr_logging(vq) || !vq->log_used || !vq->dev->log_base_set)
		return;
	/* The used ring's update must be seen before its log bits. */
	smp_wmb();
	if (vhr_log_range(vq->dev, vq->log_addr + off, len))
		vhr_vq_err(vq, "vring %u: cannot log the used ring\n",
			   vq->index);
	else if (vq->dev->log_ctx)
		eventfd_signal(vq->dev->log_ctx);
}

/* VHOST_SET_LOG_BASE: the owner's address of the bitmap. */
long vhr_set_log_base(struct vhr_dev *dev, void __user *argp)
{
	u64 base;

	if (copy_from_user(&base, argp, sizeof(base)))
		return -EFAULT;
	if (base != (unsigned long)base)
		return -EFAULT;
	vhr_lock_vqs(dev);
	dev->log_base = base;
	dev->log_base_set = true;
	vhr_unlock_vqs(dev);
	return 0;
}

/* VHOST_SET_LOG_FD: the eventfd signalled after each update of the log. */
long vhr_set_log_fd(struct vhr_dev *dev, void __user *argp)
{
	struct eventfd_ctx *ctx = NULL, *old;
	int fd;

	if (get_user(fd, (int __user *)argp))
		return -EFAULT;
	if (fd != VHOST_FILE_UNBIND) {
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	}
	vhr_lock_vqs(dev);
	old = dev->log_ctx;
	dev->log_ctx = ctx;
	vhr_unlock_vqs(dev);
	if (old)
		eventfd_ctx_put(old);
	return 0;
}
