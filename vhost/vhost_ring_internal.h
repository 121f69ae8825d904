/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost_ring internals: what one file of the engine uses of another's.
 * Devices include vhost_ring.h only.
 */
#ifndef VHOST_RING_INTERNAL_H
#define VHOST_RING_INTERNAL_H

#include "vhost_ring.h"

/* vhost_ring.c */
void vhr_lock_vqs(struct vhr_dev *dev);
void vhr_unlock_vqs(struct vhr_dev *dev);

/* vhost_mem.c */
long vhr_set_memory(struct vhr_dev *dev, void __user *argp);
int vhr_translate(struct vhr_virtqueue *vq, u64 gpa, u64 len,
		  struct iovec *iov, unsigned int iov_size);
int vhr_copy_from_guest(struct vhr_virtqueue *vq, void *dst, u64 gpa,
			size_t len);

/* vhost_log.c */
void vhr_log_used(struct vhr_virtqueue *vq, size_t off, size_t len);
long vhr_set_log_base(struct vhr_dev *dev, void __user *argp);
long vhr_set_log_fd(struct vhr_dev *dev, void __user *argp);

/* vhost_worker.c */
int vhr_worker_create(struct vhr_dev *dev);
void vhr_worker_free(struct vhr_dev *dev);

#endif /* VHOST_RING_INTERNAL_H */
