/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost_ring - a split-virtqueue engine for in-kernel vhost devices.
 *
 * Its interface follows upstream's drivers/vhost/vhost.h (get a descriptor
 * chain, add used and signal, kick polling, work on a per-device worker),
 * so that device code written against it ports to vhost.c in-tree.  It
 * exists because vhost.h is in no kernel headers package: an out-of-tree
 * module cannot use vhost.ko's core.
 */
#ifndef VHOST_RING_H
#define VHOST_RING_H

#include <linux/eventfd.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/poll.h>
#include <linux/uio.h>
#include <linux/vhost.h>
#include <linux/virtio_byteorder.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "kvmarm_compat.h"

/* Most iovecs one descriptor chain may produce. */
#define VHR_MAX_IOV		UIO_MAXIOV
/* Dirty-log page size, as upstream's VHOST_PAGE_SIZE. */
#define VHR_LOG_PAGE		0x1000

/* Features every vhost_ring device offers. */
#define VHR_FEATURES	((1ULL << VIRTIO_F_VERSION_1) |			\
			 (1ULL << VIRTIO_RING_F_EVENT_IDX) |		\
			 (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |	\
			 (1ULL << VIRTIO_F_NOTIFY_ON_EMPTY) |		\
			 (1ULL << VIRTIO_F_ANY_LAYOUT) |		\
			 (1ULL << VHOST_F_LOG_ALL))

struct vhr_dev;
struct vhr_work;

typedef void (*vhr_work_fn_t)(struct vhr_work *work);

/* Work for the device's worker thread; queued at most once at a time. */
struct vhr_work {
	struct llist_node node;
	unsigned long flags;		/* VHR_WORK_QUEUED */
	vhr_work_fn_t fn;
};

/* The device's worker: a vhost_task, a thread of the owner process. */
struct vhr_worker {
	struct vhost_task *task;
	struct llist_head works;
	spinlock_t lock;		/* @killed against queueing */
	bool killed;			/* the owner was killed: queue nothing */
};

struct vhr_mem_region {
	u64 gpa;
	u64 size;
	u64 uaddr;
};

struct vhr_mem {
	u32 nregions;
	struct vhr_mem_region regions[];	/* sorted by gpa */
};

/* A guest-physical range the device wrote, for the dirty log. */
struct vhr_log {
	u64 gpa;
	u64 len;
};

struct vhr_virtqueue {
	struct vhr_dev *dev;
	struct mutex mutex;		/* everything below */
	unsigned int index;
	unsigned int num;
	struct vring_desc __user *desc;
	struct vring_avail __user *avail;
	struct vring_used __user *used;
	u64 log_addr;			/* guest address of the used ring */
	bool log_used;
	struct file *kick;
	struct eventfd_ctx *call_ctx;
	struct eventfd_ctx *error_ctx;

	/* kick polling */
	wait_queue_entry_t wait;
	poll_table table;
	wait_queue_head_t *wqh;
	struct vhr_work poll_work;	/* runs the device's handler */

	u32 mem_hint;			/* index of the last region used */
	u16 last_avail_idx;
	u16 avail_idx;			/* last value read from the ring */
	u16 last_used_idx;
	u16 used_flags;
	u16 signalled_used;
	bool signalled_used_valid;
	bool used_pending;		/* used entries not yet published */

	struct iovec *iov;		/* VHR_MAX_IOV, for the handler */
	void *private_data;		/* the device's backend; NULL = stopped */
};

struct vhr_dev {
	struct mutex mutex;		/* owner, memory, features, log */
	struct mm_struct *mm;		/* owner's, NULL before SET_OWNER */
	struct vhr_worker __rcu *worker;	/* freed after a grace period */
	struct vhr_mem *mem;
	struct vhr_virtqueue **vqs;
	int nvqs;
	u64 features;			/* offered */
	u64 acked_features;
	u64 log_base;			/* owner's address of the bitmap */
	bool log_base_set;
	struct eventfd_ctx *log_ctx;
	const char *name;
	unsigned int max_mem_regions;
	unsigned int weight;		/* requests per vring per turn */
	size_t byte_weight;		/* bytes per vring per turn */
};

int vhr_dev_init(struct vhr_dev *dev, const char *name,
		 struct vhr_virtqueue **vqs, int nvqs, u64 features,
		 unsigned int weight, size_t byte_weight,
		 vhr_work_fn_t handle_kick);
long vhr_dev_ioctl(struct vhr_dev *dev, unsigned int cmd, void __user *argp);
long vhr_vring_ioctl(struct vhr_dev *dev, unsigned int cmd,
		     void __user *argp);
int vhr_dev_check_owner(struct vhr_dev *dev);
void vhr_dev_stop(struct vhr_dev *dev);
void vhr_dev_cleanup(struct vhr_dev *dev);
void vhr_dev_free(struct vhr_dev *dev);
void vhr_vq_set_backend(struct vhr_virtqueue *vq, void *backend);
void vhr_dev_flush(struct vhr_dev *dev);

void vhr_work_init(struct vhr_work *work, vhr_work_fn_t fn);
bool vhr_vq_work_queue(struct vhr_virtqueue *vq, struct vhr_work *work);
bool vhr_worker_killed(struct vhr_dev *dev);
int vhr_get_vq_desc(struct vhr_virtqueue *vq, struct iovec *iov,
		    unsigned int iov_size, unsigned int *out_num,
		    unsigned int *in_num, struct vhr_log *log,
		    unsigned int *log_num);
int vhr_add_used(struct vhr_virtqueue *vq, unsigned int head, u32 len);
void vhr_signal(struct vhr_virtqueue *vq);
bool vhr_enable_notify(struct vhr_virtqueue *vq);
void vhr_disable_notify(struct vhr_virtqueue *vq);
int vhr_log_write(struct vhr_virtqueue *vq, const struct iovec *iov,
		  unsigned int n, size_t len);
bool vhr_vq_is_setup(struct vhr_virtqueue *vq);
bool vhr_exceeds_weight(struct vhr_virtqueue *vq, unsigned int reqs,
			size_t bytes);

static inline bool vhr_has_feature(struct vhr_virtqueue *vq, int bit)
{
	return vq->dev->acked_features & (1ULL << bit);
}

static inline bool vhr_logging(struct vhr_virtqueue *vq)
{
	return vhr_has_feature(vq, VHOST_F_LOG_ALL);
}

__printf(2, 3)
void vhr_vq_err(struct vhr_virtqueue *vq, const char *fmt, ...);

#endif /* VHOST_RING_H */
