// SPDX-License-Identifier: GPL-2.0
/*
 * vhost_ring - a split-virtqueue engine for in-kernel vhost devices.
 *
 * The device core and its vrings: owner, features, kick/call/error
 * eventfds, event index, indirect descriptors and the used ring, with the
 * ioctls of <linux/vhost.h>.  Descriptors are read once into kernel memory
 * (no double fetch); chains are bounded; any malformed ring is reported on
 * the vring's error eventfd and stops that vring, never the host.
 *
 * The memory table is in vhost_mem.c, the dirty log in vhost_log.c, the
 * worker in vhost_worker.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/nospec.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vhost_ring.h"
#include "vhost_ring_internal.h"

#define VHR_MAX_RING		32768
#define VHR_MAX_INDIRECT	1024

static bool vhr_is_le(struct vhr_virtqueue *vq)
{
	return vhr_has_feature(vq, VIRTIO_F_VERSION_1) ||
	       virtio_legacy_is_little_endian();
}

static u16 vhr16_to_cpu(struct vhr_virtqueue *vq, __virtio16 v)
{
	return __virtio16_to_cpu(vhr_is_le(vq), v);
}

static __virtio16 cpu_to_vhr16(struct vhr_virtqueue *vq, u16 v)
{
	return __cpu_to_virtio16(vhr_is_le(vq), v);
}

static u32 vhr32_to_cpu(struct vhr_virtqueue *vq, __virtio32 v)
{
	return __virtio32_to_cpu(vhr_is_le(vq), v);
}

static __virtio32 cpu_to_vhr32(struct vhr_virtqueue *vq, u32 v)
{
	return __cpu_to_virtio32(vhr_is_le(vq), v);
}

static u64 vhr64_to_cpu(struct vhr_virtqueue *vq, __virtio64 v)
{
	return __virtio64_to_cpu(vhr_is_le(vq), v);
}

/**
 * vhr_vq_err() - report a guest error on the vring's error eventfd
 * @vq:  the vring
 * @fmt: printf format of the debug message
 */
void vhr_vq_err(struct vhr_virtqueue *vq, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_debug("%pV", &vaf);
	va_end(args);
	if (vq->error_ctx)
		eventfd_signal(vq->error_ctx);
}

/* Kick polling */

static int vhr_poll_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			   int sync, void *key)
{
	struct vhr_virtqueue *vq = container_of(wait, struct vhr_virtqueue,
						wait);

	if (!(key_to_poll(key) & EPOLLIN))
		return 0;
	vhr_vq_work_queue(vq, &vq->poll_work);
	return 0;
}

static void vhr_poll_func(struct file *file, wait_queue_head_t *wqh,
			  poll_table *pt)
{
	struct vhr_virtqueue *vq = container_of(pt, struct vhr_virtqueue,
						table);

	vq->wqh = wqh;
	add_wait_queue(wqh, &vq->wait);
}

static void vhr_poll_stop(struct vhr_virtqueue *vq)
{
	if (vq->wqh) {
		remove_wait_queue(vq->wqh, &vq->wait);
		vq->wqh = NULL;
	}
}

static void vhr_poll_start(struct vhr_virtqueue *vq)
{
	__poll_t mask;

	if (vq->wqh || !vq->kick)
		return;
	mask = vfs_poll(vq->kick, &vq->table);
	if (mask & EPOLLIN)
		vhr_vq_work_queue(vq, &vq->poll_work);
}

/* Device set-up and tear-down */

static void vhr_vq_reset(struct vhr_virtqueue *vq)
{
	vq->num = 1;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->log_addr = 0;
	vq->log_used = false;
	vq->last_avail_idx = 0;
	vq->avail_idx = 0;
	vq->last_used_idx = 0;
	vq->used_flags = 0;
	vq->signalled_used = 0;
	vq->signalled_used_valid = false;
	vq->used_pending = false;
	vq->private_data = NULL;
	if (vq->kick)
		fput(vq->kick);
	vq->kick = NULL;
	if (vq->call_ctx)
		eventfd_ctx_put(vq->call_ctx);
	vq->call_ctx = NULL;
	if (vq->error_ctx)
		eventfd_ctx_put(vq->error_ctx);
	vq->error_ctx = NULL;
}

/**
 * vhr_dev_init() - set up a device and its vrings
 * @dev:         the device
 * @name:        for the worker thread's name
 * @vqs:         the vrings, embedded in the device's own structures
 * @nvqs:        how many
 * @features:    features offered (device features and VHR_FEATURES)
 * @weight:      requests a vring may start in one turn of the worker
 * @byte_weight: bytes a vring may start in one turn (see
 *               vhr_exceeds_weight())
 * @handle_kick: run on the worker when a vring is kicked; its work is
 *               &vhr_virtqueue.poll_work
 *
 * Return: 0 or -ENOMEM.
 */
int vhr_dev_init(struct vhr_dev *dev, const char *name,
		 struct vhr_virtqueue **vqs, int nvqs, u64 features,
		 unsigned int weight, size_t byte_weight,
		 vhr_work_fn_t handle_kick)
{
	int i;

	mutex_init(&dev->mutex);
	dev->mm = NULL;
	RCU_INIT_POINTER(dev->worker, NULL);
	dev->mem = NULL;
	dev->vqs = vqs;
	dev->nvqs = nvqs;
	dev->features = features;
	dev->acked_features = 0;
	dev->log_base = 0;
	dev->log_base_set = false;
	dev->log_ctx = NULL;
	dev->name = name;
	dev->max_mem_regions = 64;
	dev->weight = weight;
	dev->byte_weight = byte_weight;

	for (i = 0; i < nvqs; i++) {
		struct vhr_virtqueue *vq = vqs[i];

		memset(vq, 0, sizeof(*vq));
		vq->dev = dev;
		vq->index = i;
		mutex_init(&vq->mutex);
		init_waitqueue_func_entry(&vq->wait, vhr_poll_wakeup);
		init_poll_funcptr(&vq->table, vhr_poll_func);
		vhr_work_init(&vq->poll_work, handle_kick);
		/* The owner's memory cgroup pays for what it opens. */
		vq->iov = kmalloc_array(VHR_MAX_IOV, sizeof(*vq->iov),
					GFP_KERNEL_ACCOUNT);
		if (!vq->iov)
			goto err;
		vhr_vq_reset(vq);
	}
	return 0;
err:
	for (i = 0; i < nvqs; i++) {
		kfree(vqs[i]->iov);
		vqs[i]->iov = NULL;
	}
	return -ENOMEM;
}

/* Only the owner's address space may drive the device. */
int vhr_dev_check_owner(struct vhr_dev *dev)
{
	return dev->mm == current->mm ? 0 : -EPERM;
}

static long vhr_dev_set_owner(struct vhr_dev *dev)
{
	int ret;

	if (dev->mm)
		return -EBUSY;
	dev->mm = get_task_mm(current);
	if (!dev->mm)
		return -EINVAL;
	ret = vhr_worker_create(dev);
	if (ret) {
		mmput(dev->mm);
		dev->mm = NULL;
	}
	return ret;
}

/**
 * vhr_dev_stop() - stop polling every vring's kick
 * @dev: the device
 *
 * The device detaches its backend and waits for its requests afterwards.
 */
void vhr_dev_stop(struct vhr_dev *dev)
{
	int i;

	for (i = 0; i < dev->nvqs; i++) {
		mutex_lock(&dev->vqs[i]->mutex);
		vhr_poll_stop(dev->vqs[i]);
		mutex_unlock(&dev->vqs[i]->mutex);
	}
	vhr_dev_flush(dev);
}

/**
 * vhr_dev_cleanup() - back to the state before SET_OWNER
 * @dev: a stopped device whose requests are all complete
 */
void vhr_dev_cleanup(struct vhr_dev *dev)
{
	int i;

	for (i = 0; i < dev->nvqs; i++) {
		struct vhr_virtqueue *vq = dev->vqs[i];

		mutex_lock(&vq->mutex);
		vhr_poll_stop(vq);
		vhr_vq_reset(vq);
		mutex_unlock(&vq->mutex);
	}
	vhr_worker_free(dev);
	if (dev->log_ctx)
		eventfd_ctx_put(dev->log_ctx);
	dev->log_ctx = NULL;
	dev->log_base = 0;
	dev->log_base_set = false;
	kvfree(dev->mem);
	dev->mem = NULL;
	dev->acked_features = 0;
	if (dev->mm)
		mmput(dev->mm);
	dev->mm = NULL;
}

/* Free what vhr_dev_init() allocated; after vhr_dev_cleanup(). */
void vhr_dev_free(struct vhr_dev *dev)
{
	int i;

	for (i = 0; i < dev->nvqs; i++) {
		kfree(dev->vqs[i]->iov);
		dev->vqs[i]->iov = NULL;
	}
}

/* Device-wide changes happen with every vring locked (and @dev->mutex). */
void vhr_lock_vqs(struct vhr_dev *dev)
{
	int i;

	lockdep_assert_held(&dev->mutex);
	for (i = 0; i < dev->nvqs; i++)
		mutex_lock_nest_lock(&dev->vqs[i]->mutex, &dev->mutex);
}

void vhr_unlock_vqs(struct vhr_dev *dev)
{
	int i;

	for (i = dev->nvqs - 1; i >= 0; i--)
		mutex_unlock(&dev->vqs[i]->mutex);
}

/* Descriptor chains */

/*
 * Copy the descriptor at @p (ring or indirect table), each field read
 * once.  Cheaper than copy_from_user() of the whole struct: one
 * user-access window and no usercopy hardening checks for a fixed-size
 * copy to the stack.
 */
static int vhr_read_desc(const struct vring_desc __user *p,
			 struct vring_desc *d)
{
	if (!user_read_access_begin(p, sizeof(*p)))
		return -EFAULT;
	unsafe_get_user(d->addr, &p->addr, fault);
	unsafe_get_user(d->len, &p->len, fault);
	unsafe_get_user(d->flags, &p->flags, fault);
	unsafe_get_user(d->next, &p->next, fault);
	user_read_access_end();
	return 0;
fault:
	user_read_access_end();
	return -EFAULT;
}

/* Add one descriptor, already copied into @d, to the chain's iovecs. */
static int vhr_add_desc(struct vhr_virtqueue *vq, const struct vring_desc *d,
			struct iovec *iov, unsigned int iov_size,
			unsigned int *out_num, unsigned int *in_num,
			struct vhr_log *log, unsigned int *log_num)
{
	u16 flags = vhr16_to_cpu(vq, d->flags);
	u64 addr = vhr64_to_cpu(vq, d->addr);
	u32 len = vhr32_to_cpu(vq, d->len);
	unsigned int cur = *out_num + *in_num;
	int n;

	/* Guest memory may end at 2^64 and start again at 0: not a buffer. */
	if (len && addr + len - 1 < addr) {
		vhr_vq_err(vq, "vring %u: descriptor %#llx+%u wraps past 2^64\n",
			   vq->index, addr, len);
		return -EFAULT;
	}
	n = vhr_translate(vq, addr, len, iov + cur, iov_size - cur);
	if (n < 0) {
		vhr_vq_err(vq, "vring %u: descriptor %#llx+%u %s\n", vq->index,
			   addr, len, n == -ENOBUFS ? "overflows the iovecs" :
			   "is outside guest memory");
		return n;
	}
	if (flags & VRING_DESC_F_WRITE) {
		*in_num += n;
		if (log && len) {
			log[*log_num].gpa = addr;
			log[*log_num].len = len;
			(*log_num)++;
		}
	} else {
		if (*in_num) {
			vhr_vq_err(vq, "vring %u: readable descriptor after a writable one\n",
				   vq->index);
			return -EINVAL;
		}
		*out_num += n;
	}
	return 0;
}

static int vhr_get_indirect(struct vhr_virtqueue *vq,
			    const struct vring_desc *ind, struct iovec *iov,
			    unsigned int iov_size, unsigned int *out_num,
			    unsigned int *in_num, struct vhr_log *log,
			    unsigned int *log_num)
{
	u64 base = vhr64_to_cpu(vq, ind->addr);
	u32 len = vhr32_to_cpu(vq, ind->len);
	unsigned int count = len / sizeof(struct vring_desc), i = 0, seen = 0;
	struct vring_desc __user *table = NULL;
	struct vring_desc d;
	struct iovec tiov;
	int ret;

	if (!len || len % sizeof(struct vring_desc) ||
	    count > VHR_MAX_INDIRECT) {
		vhr_vq_err(vq, "vring %u: bad indirect table length %u\n",
			   vq->index, len);
		return -EINVAL;
	}
	if (base + len - 1 < base) {
		vhr_vq_err(vq, "vring %u: indirect table %#llx+%u wraps past 2^64\n",
			   vq->index, base, len);
		return -EFAULT;
	}
	/* A table within one region (the usual case) is read in place. */
	if (vhr_translate(vq, base, len, &tiov, 1) == 1)
		table = tiov.iov_base;
	for (;;) {
		if (++seen > count) {
			vhr_vq_err(vq, "vring %u: loop in indirect table\n",
				   vq->index);
			return -EINVAL;
		}
		if (table)
			ret = vhr_read_desc(table + i, &d);
		else
			ret = vhr_copy_from_guest(vq, &d, base + i * sizeof(d),
						  sizeof(d));
		if (ret) {
			vhr_vq_err(vq, "vring %u: indirect table at %#llx unreadable\n",
				   vq->index, base);
			return ret;
		}
		if (vhr16_to_cpu(vq, d.flags) & VRING_DESC_F_INDIRECT) {
			vhr_vq_err(vq, "vring %u: nested indirect table\n",
				   vq->index);
			return -EINVAL;
		}
		ret = vhr_add_desc(vq, &d, iov, iov_size, out_num, in_num,
				   log, log_num);
		if (ret)
			return ret;
		if (!(vhr16_to_cpu(vq, d.flags) & VRING_DESC_F_NEXT))
			return 0;
		i = vhr16_to_cpu(vq, d.next);
		if (i >= count) {
			vhr_vq_err(vq, "vring %u: indirect next %u beyond table of %u\n",
				   vq->index, i, count);
			return -EINVAL;
		}
	}
}

/**
 * vhr_get_vq_desc() - take the next available descriptor chain
 * @vq:       the vring, locked
 * @iov:      receives the chain's buffers, readable ones first
 * @iov_size: capacity of @iov
 * @out_num:  number of readable (driver to device) iovecs
 * @in_num:   number of writable iovecs
 * @log:      if not NULL, receives the guest ranges of writable buffers
 * @log_num:  number of @log entries
 *
 * Every descriptor is copied from the ring once and checked there: chain
 * length at most the ring size (or the indirect table's), no loops, all
 * addresses inside the memory table.
 *
 * Return: the chain's head, @vq->num when the ring is empty, or a negative
 * errno after reporting on the error eventfd.
 */
int vhr_get_vq_desc(struct vhr_virtqueue *vq, struct iovec *iov,
		    unsigned int iov_size, unsigned int *out_num,
		    unsigned int *in_num, struct vhr_log *log,
		    unsigned int *log_num)
{
	unsigned int i, head, seen = 0;
	__virtio16 ring_head, avail_idx;
	struct vring_desc d;
	int ret;

	lockdep_assert_held(&vq->mutex);
	*out_num = 0;
	*in_num = 0;
	if (log_num)
		*log_num = 0;

	if (vq->avail_idx == vq->last_avail_idx) {
		if (get_user(avail_idx, &vq->avail->idx)) {
			vhr_vq_err(vq, "vring %u: cannot read avail index\n",
				   vq->index);
			return -EFAULT;
		}
		if ((u16)(vhr16_to_cpu(vq, avail_idx) - vq->last_avail_idx) >
		    vq->num) {
			vhr_vq_err(vq, "vring %u: avail index moved %u past %u\n",
				   vq->index, vhr16_to_cpu(vq, avail_idx),
				   vq->last_avail_idx);
			return -EINVAL;
		}
		vq->avail_idx = vhr16_to_cpu(vq, avail_idx);
		if (vq->avail_idx == vq->last_avail_idx)
			return vq->num;
		/* Read the ring entries only after the index. */
		smp_rmb();
	}

	if (get_user(ring_head,
		     &vq->avail->ring[vq->last_avail_idx & (vq->num - 1)])) {
		vhr_vq_err(vq, "vring %u: cannot read avail ring\n", vq->index);
		return -EFAULT;
	}
	head = vhr16_to_cpu(vq, ring_head);
	if (head >= vq->num) {
		vhr_vq_err(vq, "vring %u: head %u beyond ring of %u\n",
			   vq->index, head, vq->num);
		return -EINVAL;
	}

	i = head;
	for (;;) {
		if (++seen > vq->num) {
			vhr_vq_err(vq, "vring %u: descriptor loop or chain longer than the ring at head %u\n",
				   vq->index, head);
			return -EINVAL;
		}
		if (vhr_read_desc(vq->desc + i, &d)) {
			vhr_vq_err(vq, "vring %u: cannot read descriptor %u\n",
				   vq->index, i);
			return -EFAULT;
		}
		if (vhr16_to_cpu(vq, d.flags) & VRING_DESC_F_INDIRECT) {
			if (!vhr_has_feature(vq, VIRTIO_RING_F_INDIRECT_DESC) ||
			    (vhr16_to_cpu(vq, d.flags) & VRING_DESC_F_NEXT)) {
				vhr_vq_err(vq, "vring %u: unexpected indirect descriptor\n",
					   vq->index);
				return -EINVAL;
			}
			ret = vhr_get_indirect(vq, &d, iov, iov_size, out_num,
					       in_num, log, log_num);
			if (ret)
				return ret;
		} else {
			ret = vhr_add_desc(vq, &d, iov, iov_size, out_num,
					   in_num, log, log_num);
			if (ret)
				return ret;
		}
		if (!(vhr16_to_cpu(vq, d.flags) & VRING_DESC_F_NEXT))
			break;
		i = vhr16_to_cpu(vq, d.next);
		if (i >= vq->num) {
			vhr_vq_err(vq, "vring %u: next %u beyond ring of %u\n",
				   vq->index, i, vq->num);
			return -EINVAL;
		}
	}
	vq->last_avail_idx++;
	return head;
}

/* Used ring and notification */

/**
 * vhr_add_used() - return a chain to the driver
 * @vq:   the vring, locked
 * @head: chain head from vhr_get_vq_desc()
 * @len:  bytes written into the chain's writable buffers
 *
 * Writes the used element; the driver sees it when vhr_signal() publishes
 * the used index, once for a whole batch.
 *
 * Return: 0 or -EFAULT (reported on the error eventfd).
 */
int vhr_add_used(struct vhr_virtqueue *vq, unsigned int head, u32 len)
{
	unsigned int slot = vq->last_used_idx & (vq->num - 1);
	struct vring_used_elem __user *e = &vq->used->ring[slot];

	lockdep_assert_held(&vq->mutex);
	if (!user_write_access_begin(e, sizeof(*e)))
		goto fault;
	unsafe_put_user(cpu_to_vhr32(vq, head), &e->id, fault_end);
	unsafe_put_user(cpu_to_vhr32(vq, len), &e->len, fault_end);
	user_write_access_end();
	vhr_log_used(vq, offsetof(struct vring_used, ring[slot]), sizeof(*e));
	vq->last_used_idx++;
	vq->used_pending = true;
	/* Catch a wrap of the 16-bit window of event-index signalling. */
	if (unlikely((u16)(vq->last_used_idx - vq->signalled_used) == 0))
		vq->signalled_used_valid = false;
	return 0;

fault_end:
	user_write_access_end();
fault:
	vhr_vq_err(vq, "vring %u: cannot write used ring\n", vq->index);
	return -EFAULT;
}

/* Make the used elements added since the last call visible. */
static int vhr_publish_used(struct vhr_virtqueue *vq)
{
	/* The elements must be visible before the index. */
	smp_wmb();
	if (put_user(cpu_to_vhr16(vq, vq->last_used_idx), &vq->used->idx)) {
		vhr_vq_err(vq, "vring %u: cannot write used index\n",
			   vq->index);
		return -EFAULT;
	}
	vhr_log_used(vq, offsetof(struct vring_used, idx), sizeof(u16));
	return 0;
}

static bool vhr_should_notify(struct vhr_virtqueue *vq)
{
	__virtio16 flags, event;
	u16 old, new;
	bool valid;

	/* Flush the used index before reading the driver's wishes. */
	smp_mb();
	if (vhr_has_feature(vq, VIRTIO_F_NOTIFY_ON_EMPTY) &&
	    vq->avail_idx == vq->last_avail_idx) {
		__virtio16 idx;

		if (!get_user(idx, &vq->avail->idx) &&
		    vhr16_to_cpu(vq, idx) == vq->last_avail_idx)
			return true;
	}
	if (!vhr_has_feature(vq, VIRTIO_RING_F_EVENT_IDX)) {
		if (get_user(flags, &vq->avail->flags))
			return true;
		return !(vhr16_to_cpu(vq, flags) & VRING_AVAIL_F_NO_INTERRUPT);
	}
	old = vq->signalled_used;
	valid = vq->signalled_used_valid;
	new = vq->last_used_idx;
	vq->signalled_used = new;
	vq->signalled_used_valid = true;
	if (unlikely(!valid))
		return true;
	if (get_user(event, &vq->avail->ring[vq->num]))
		return true;
	return vring_need_event(vhr16_to_cpu(vq, event), new, old);
}

/**
 * vhr_signal() - publish the used entries added since the last call
 * @vq: the vring, locked
 *
 * Writes the used index, then signals the call eventfd if the driver
 * wants to hear of the new entries.  Every path that adds used entries
 * ends with this call.
 */
void vhr_signal(struct vhr_virtqueue *vq)
{
	lockdep_assert_held(&vq->mutex);
	if (!vq->used_pending)
		return;
	vq->used_pending = false;
	if (vhr_publish_used(vq))
		return;
	if (vq->call_ctx && vhr_should_notify(vq))
		eventfd_signal(vq->call_ctx);
}

static int vhr_update_used_flags(struct vhr_virtqueue *vq)
{
	if (put_user(cpu_to_vhr16(vq, vq->used_flags), &vq->used->flags))
		return -EFAULT;
	vhr_log_used(vq, offsetof(struct vring_used, flags), sizeof(u16));
	return 0;
}

static int vhr_update_avail_event(struct vhr_virtqueue *vq, u16 event)
{
	if (put_user(cpu_to_vhr16(vq, event),
		     (__virtio16 __user *)&vq->used->ring[vq->num]))
		return -EFAULT;
	vhr_log_used(vq, offsetof(struct vring_used, ring[vq->num]),
		     sizeof(u16));
	return 0;
}

/**
 * vhr_enable_notify() - ask the driver to kick again
 * @vq: the vring, locked
 *
 * Return: true if buffers became available meanwhile (process them).
 */
bool vhr_enable_notify(struct vhr_virtqueue *vq)
{
	__virtio16 idx;

	lockdep_assert_held(&vq->mutex);
	if (vhr_has_feature(vq, VIRTIO_RING_F_EVENT_IDX)) {
		if (vhr_update_avail_event(vq, vq->avail_idx))
			goto fault;
	} else if (vq->used_flags & VRING_USED_F_NO_NOTIFY) {
		vq->used_flags &= ~VRING_USED_F_NO_NOTIFY;
		if (vhr_update_used_flags(vq))
			goto fault;
	}
	/* The flag must be visible before we look at the ring again. */
	smp_mb();
	if (get_user(idx, &vq->avail->idx))
		goto fault;
	return vhr16_to_cpu(vq, idx) != vq->avail_idx;
fault:
	vhr_vq_err(vq, "vring %u: cannot update notification state\n",
		   vq->index);
	return false;
}

/**
 * vhr_disable_notify() - ask the driver not to kick
 * @vq: the vring, locked
 *
 * While the handler processes the ring anyway.
 */
void vhr_disable_notify(struct vhr_virtqueue *vq)
{
	lockdep_assert_held(&vq->mutex);
	if (vhr_has_feature(vq, VIRTIO_RING_F_EVENT_IDX))
		return;
	if (vq->used_flags & VRING_USED_F_NO_NOTIFY)
		return;
	vq->used_flags |= VRING_USED_F_NO_NOTIFY;
	if (vhr_update_used_flags(vq))
		vhr_vq_err(vq, "vring %u: cannot update used flags\n",
			   vq->index);
}

/* Has the vring what it needs to run: addresses and a kick eventfd. */
bool vhr_vq_is_setup(struct vhr_virtqueue *vq)
{
	return vq->desc && vq->avail && vq->used && vq->kick;
}

/**
 * vhr_exceeds_weight() - has a vring had its share of this turn
 * @vq:    the vring, locked
 * @reqs:  requests it started in this turn of the worker
 * @bytes: their bytes (data and headers)
 *
 * A vring that started its weight of requests or of bytes ends its turn:
 * its kick work is queued again, behind the other vrings' and the
 * completions', as upstream's vhost_exceeds_weight() does.
 *
 * Return: true if the handler must stop now.
 */
bool vhr_exceeds_weight(struct vhr_virtqueue *vq, unsigned int reqs,
			size_t bytes)
{
	struct vhr_dev *dev = vq->dev;

	lockdep_assert_held(&vq->mutex);
	if (reqs < dev->weight && bytes < dev->byte_weight)
		return false;
	vhr_vq_work_queue(vq, &vq->poll_work);
	return true;
}

/* Does the vring serve requests: backend, addresses and kick eventfd. */
static bool vhr_vq_running(struct vhr_virtqueue *vq)
{
	return vq->private_data && vhr_vq_is_setup(vq);
}

/* ioctls */

static long vhr_set_features(struct vhr_dev *dev, void __user *argp)
{
	u64 features;

	if (copy_from_user(&features, argp, sizeof(features)))
		return -EFAULT;
	if (features & ~dev->features)
		return -EOPNOTSUPP;
	if ((features & (1ULL << VHOST_F_LOG_ALL)) && !dev->log_base_set)
		return -EFAULT;
	vhr_lock_vqs(dev);
	dev->acked_features = features;
	vhr_unlock_vqs(dev);
	return 0;
}

/**
 * vhr_dev_ioctl() - device-wide vhost ioctls
 * @dev:  the device
 * @cmd:  ioctl
 * @argp: its argument
 *
 * GET/SET_FEATURES, SET_OWNER, SET_MEM_TABLE, SET_LOG_BASE, SET_LOG_FD.
 * RESET_OWNER is the device's (it must drain its requests first).
 *
 * Return: the result, or -ENOIOCTLCMD for ioctls it does not handle.
 */
long vhr_dev_ioctl(struct vhr_dev *dev, unsigned int cmd, void __user *argp)
{
	long ret;

	/* Another thread's ioctl may hold it for long: let a kill through. */
	if (mutex_lock_killable(&dev->mutex))
		return -EINTR;
	switch (cmd) {
	case VHOST_GET_FEATURES:
		ret = copy_to_user(argp, &dev->features,
				   sizeof(dev->features)) ? -EFAULT : 0;
		goto out;
	case VHOST_SET_OWNER:
		ret = vhr_dev_set_owner(dev);
		goto out;
	}

	ret = vhr_dev_check_owner(dev);
	if (ret)
		goto out;
	switch (cmd) {
	case VHOST_SET_FEATURES:
		ret = vhr_set_features(dev, argp);
		break;
	case VHOST_SET_MEM_TABLE:
		ret = vhr_set_memory(dev, argp);
		break;
	case VHOST_SET_LOG_BASE:
		ret = vhr_set_log_base(dev, argp);
		break;
	case VHOST_SET_LOG_FD:
		ret = vhr_set_log_fd(dev, argp);
		break;
	default:
		ret = -ENOIOCTLCMD;
	}
out:
	mutex_unlock(&dev->mutex);
	return ret;
}

static long vhr_set_vring_addr(struct vhr_virtqueue *vq, void __user *argp)
{
	size_t event = vhr_has_feature(vq, VIRTIO_RING_F_EVENT_IDX) ? 2 : 0;
	struct vhost_vring_addr a;
	void __user *desc, *avail, *used;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~(1u << VHOST_VRING_F_LOG))
		return -EOPNOTSUPP;
	if (a.desc_user_addr != (unsigned long)a.desc_user_addr ||
	    a.avail_user_addr != (unsigned long)a.avail_user_addr ||
	    a.used_user_addr != (unsigned long)a.used_user_addr)
		return -EFAULT;
	if ((a.desc_user_addr & (16 - 1)) || (a.avail_user_addr & (2 - 1)) ||
	    (a.used_user_addr & (4 - 1)))
		return -EINVAL;
	desc = u64_to_user_ptr(a.desc_user_addr);
	avail = u64_to_user_ptr(a.avail_user_addr);
	used = u64_to_user_ptr(a.used_user_addr);
	if (!access_ok(desc, vq->num * sizeof(struct vring_desc)) ||
	    !access_ok(avail, sizeof(struct vring_avail) +
			      vq->num * sizeof(__virtio16) + event) ||
	    !access_ok(used, sizeof(struct vring_used) +
			     vq->num * sizeof(struct vring_used_elem) + event))
		return -EFAULT;
	vq->log_used = !!(a.flags & (1u << VHOST_VRING_F_LOG));
	vq->log_addr = a.log_guest_addr;
	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	return 0;
}

static int vhr_get_eventfd(void __user *argp, struct eventfd_ctx **ctx,
			   struct file **file)
{
	struct vhost_vring_file f;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	if (f.fd == VHOST_FILE_UNBIND)
		return 0;
	if (file) {
		*file = eventfd_fget(f.fd);
		return PTR_ERR_OR_ZERO(*file);
	}
	*ctx = eventfd_ctx_fdget(f.fd);
	return PTR_ERR_OR_ZERO(*ctx);
}

/**
 * vhr_vring_ioctl() - per-vring vhost ioctls
 * @dev:  the device
 * @cmd:  VHOST_SET/GET_VRING_*
 * @argp: its argument; starts with the vring index
 *
 * NUM, ADDR and BASE are refused with -EBUSY while the vring runs: it has
 * the device's backend and its addresses and kick eventfd.  A vring that
 * gets the last of these while the backend is attached starts then.
 *
 * Return: the result, or -ENOIOCTLCMD for ioctls it does not handle.
 */
long vhr_vring_ioctl(struct vhr_dev *dev, unsigned int cmd, void __user *argp)
{
	struct eventfd_ctx *ctx = NULL;
	struct vhost_vring_state s;
	struct file *kick = NULL;
	struct vhr_virtqueue *vq;
	u32 idx;
	long ret = 0;

	switch (cmd) {
	case VHOST_SET_VRING_NUM:
	case VHOST_SET_VRING_ADDR:
	case VHOST_SET_VRING_BASE:
	case VHOST_GET_VRING_BASE:
	case VHOST_SET_VRING_KICK:
	case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_ERR:
		break;
	default:
		return -ENOIOCTLCMD;
	}
	if (get_user(idx, (u32 __user *)argp))
		return -EFAULT;
	if (idx >= dev->nvqs)
		return -ENOBUFS;
	idx = array_index_nospec(idx, dev->nvqs);
	vq = dev->vqs[idx];

	if (mutex_lock_killable(&dev->mutex))
		return -EINTR;
	ret = vhr_dev_check_owner(dev);
	if (ret)
		goto out_dev;
	mutex_lock(&vq->mutex);
	switch (cmd) {
	case VHOST_SET_VRING_NUM:
		if (vhr_vq_running(vq)) {
			ret = -EBUSY;
			break;
		}
		if (copy_from_user(&s, argp, sizeof(s))) {
			ret = -EFAULT;
			break;
		}
		if (!s.num || s.num > VHR_MAX_RING || (s.num & (s.num - 1))) {
			ret = -EINVAL;
			break;
		}
		vq->num = s.num;
		break;
	case VHOST_SET_VRING_ADDR:
		if (vhr_vq_running(vq)) {
			ret = -EBUSY;
			break;
		}
		ret = vhr_set_vring_addr(vq, argp);
		/* Buffers may be waiting already. */
		if (!ret && vhr_vq_running(vq))
			vhr_vq_work_queue(vq, &vq->poll_work);
		break;
	case VHOST_SET_VRING_BASE:
		if (vhr_vq_running(vq)) {
			ret = -EBUSY;
			break;
		}
		if (copy_from_user(&s, argp, sizeof(s))) {
			ret = -EFAULT;
			break;
		}
		if (s.num > 0xffff) {
			ret = -EINVAL;
			break;
		}
		vq->last_avail_idx = s.num;
		vq->avail_idx = s.num;
		vq->last_used_idx = s.num;
		vq->signalled_used_valid = false;
		break;
	case VHOST_GET_VRING_BASE:
		s.index = idx;
		s.num = vq->last_avail_idx;
		if (copy_to_user(argp, &s, sizeof(s)))
			ret = -EFAULT;
		break;
	case VHOST_SET_VRING_KICK:
		ret = vhr_get_eventfd(argp, NULL, &kick);
		if (ret)
			break;
		vhr_poll_stop(vq);
		if (vq->kick)
			fput(vq->kick);
		vq->kick = kick;
		if (vq->private_data)
			vhr_poll_start(vq);
		/* The kick may come last: buffers may be waiting already. */
		if (vhr_vq_running(vq))
			vhr_vq_work_queue(vq, &vq->poll_work);
		break;
	case VHOST_SET_VRING_CALL:
	case VHOST_SET_VRING_ERR:
		ret = vhr_get_eventfd(argp, &ctx, NULL);
		if (ret)
			break;
		if (cmd == VHOST_SET_VRING_CALL)
			swap(ctx, vq->call_ctx);
		else
			swap(ctx, vq->error_ctx);
		if (ctx)
			eventfd_ctx_put(ctx);
		break;
	}
	mutex_unlock(&vq->mutex);
out_dev:
	mutex_unlock(&dev->mutex);
	return ret;
}

/**
 * vhr_vq_set_backend() - start or stop a vring
 * @vq:      the vring
 * @backend: the device's backend, or NULL to stop
 *
 * Start polling the kick when the vring gets a backend (and kick it once:
 * buffers may be waiting), stop when it loses it.
 */
void vhr_vq_set_backend(struct vhr_virtqueue *vq, void *backend)
{
	mutex_lock(&vq->mutex);
	vq->private_data = backend;
	if (backend) {
		vhr_poll_start(vq);
		vhr_vq_work_queue(vq, &vq->poll_work);
	} else {
		vhr_poll_stop(vq);
	}
	mutex_unlock(&vq->mutex);
}
