/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmarm_compat.h - the kernel-version differences kvmarm-io builds across.
 *
 * Out-of-tree only: the in-tree patch series replaces every helper here by
 * the newest kernel's own API.  Supported: Linux 6.1 to 7.3.  Features
 * that distributions backport are probed in the headers by Kbuild
 * (KVMARM_HAVE_*) rather than told from the version.
 */
#ifndef KVMARM_COMPAT_H
#define KVMARM_COMPAT_H

#include <linux/version.h>
#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/irqbypass.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/vfio.h>
#if IS_ENABLED(CONFIG_VDPA)
#include <linux/vdpa.h>
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0) && \
	IS_ENABLED(CONFIG_VHOST_TASK)
#define KVMARM_HAVE_VHOST_TASK
#include <linux/err.h>
#include <linux/sched/vhost_task.h>
#else
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/memcontrol.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#endif

/*
 * 6.17 made the irq bypass manager take the eventfd and the interrupt as
 * arguments of the registration (probed: KVMARM_HAVE_IRQ_BYPASS_EVENTFD);
 * before, the producer carried them, the eventfd as its token.
 */
static inline int
kvmarm_irq_bypass_register_producer(struct irq_bypass_producer *prod,
				    struct eventfd_ctx *eventfd, int irq)
{
#if !IS_ENABLED(CONFIG_IRQ_BYPASS_MANAGER)
	return -EOPNOTSUPP;
#elif defined(KVMARM_HAVE_IRQ_BYPASS_EVENTFD)
	return irq_bypass_register_producer(prod, eventfd, irq);
#else
	prod->token = eventfd;
	prod->irq = irq;
	return irq_bypass_register_producer(prod);
#endif
}

static inline void
kvmarm_irq_bypass_unregister_producer(struct irq_bypass_producer *prod)
{
#if IS_ENABLED(CONFIG_IRQ_BYPASS_MANAGER)
	irq_bypass_unregister_producer(prod);
#endif
}

/* 6.8 dropped the count argument of eventfd_signal(). */
static inline void kvmarm_eventfd_signal(struct eventfd_ctx *ctx)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/* 6.3 made vma->vm_flags read-only outside the helpers. */
static inline void kvmarm_vm_flags_set(struct vm_area_struct *vma,
				       vm_flags_t flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

static inline void kvmarm_vm_flags_clear(struct vm_area_struct *vma,
					 vm_flags_t flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/*
 * 6.11 made platform_driver.remove return void; before, void-returning
 * removal was .remove_new (6.3+) or an int-returning .remove.  Drivers write
 * a void remove function and name it with KVMARM_PLATFORM_REMOVE().
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
#define KVMARM_PLATFORM_REMOVE(fn)	.remove = (fn)
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define KVMARM_PLATFORM_REMOVE(fn)	.remove_new = (fn)
#else
int kvmarm_platform_remove_shim(struct platform_device *pdev);
#define KVMARM_PLATFORM_REMOVE(fn)	.remove = kvmarm_platform_remove_shim
#define KVMARM_PLATFORM_REMOVE_SHIM(fn)				\
int kvmarm_platform_remove_shim(struct platform_device *pdev)	\
{								\
	(fn)(pdev);						\
	return 0;						\
}
#endif

#ifndef KVMARM_PLATFORM_REMOVE_SHIM
#define KVMARM_PLATFORM_REMOVE_SHIM(fn)
#endif

/*
 * From 6.19 the VFIO core answers VFIO_DEVICE_GET_REGION_INFO itself and
 * asks the driver through vfio_device_ops.get_region_info_caps (probed:
 * KVMARM_HAVE_REGION_INFO_CAPS); a driver that answers it in .ioctl is
 * never asked, and the ioctl fails with EINVAL.  Drivers implement the op
 * and name it with KVMARM_REGION_INFO_OP(); their .ioctl answers for
 * older kernels through the same function.
 */
#ifdef KVMARM_HAVE_REGION_INFO_CAPS
#define KVMARM_REGION_INFO_OP(fn)	.get_region_info_caps = (fn),
#else
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
#error "6.19+ VFIO calls get_region_info_caps; the Kbuild probe did not find it"
#endif
#define KVMARM_REGION_INFO_OP(fn)
#endif

/*
 * On a kernel built with CONFIG_IOMMUFD (6.2+), the VFIO core refuses to
 * register a device whose driver lacks the iommufd callbacks (probed:
 * KVMARM_HAVE_VFIO_IOMMUFD; detach_ioas came in 6.6,
 * KVMARM_HAVE_VFIO_DETACH_IOAS).  @kind is physical (a device behind an
 * IOMMU) or emulated (no IOMMU).  Without CONFIG_IOMMUFD the callbacks are
 * NULL, which the core accepts.
 */
#ifdef KVMARM_HAVE_VFIO_DETACH_IOAS
#define KVMARM_VFIO_DETACH_IOAS(kind)					\
	.detach_ioas = vfio_iommufd_##kind##_detach_ioas,
#else
#define KVMARM_VFIO_DETACH_IOAS(kind)
#endif
#ifdef KVMARM_HAVE_VFIO_IOMMUFD
#define KVMARM_VFIO_IOMMUFD_OPS(kind)					\
	.bind_iommufd	= vfio_iommufd_##kind##_bind,			\
	.unbind_iommufd	= vfio_iommufd_##kind##_unbind,			\
	.attach_ioas	= vfio_iommufd_##kind##_attach_ioas,		\
	KVMARM_VFIO_DETACH_IOAS(kind)
#else
#define KVMARM_VFIO_IOMMUFD_OPS(kind)
#endif

/*
 * From 6.10 every VFIO device has an inode whose mapping backs all its
 * open files (probed: KVMARM_HAVE_VFIO_DEVICE_INODE), so that a driver can
 * zap every userspace mapping of its MMIO and fault it back in later.
 * Returns false where the kernel cannot: mappings are then made whole at
 * mmap() time and stay.
 */
static inline bool kvmarm_vfio_zap_mappings(struct vfio_device *vdev)
{
#ifdef KVMARM_HAVE_VFIO_DEVICE_INODE
	unmap_mapping_range(vdev->inode->i_mapping, 0, 0, true);
	return true;
#else
	return false;
#endif
}

static inline bool kvmarm_vfio_can_zap(void)
{
#ifdef KVMARM_HAVE_VFIO_DEVICE_INODE
	return true;
#else
	return false;
#endif
}

/*
 * Until 6.2 a VFIO driver's release callback had to free the device itself;
 * since then the core does it after the callback.
 */
static inline void kvmarm_vfio_release_free(struct vfio_device *vdev)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
	vfio_free_device(vdev);
#endif
}

/* ---- vhost/: vhost_ring, vhost-blk, vblk_core, vdpa-blk ---- */

/*
 * IOCB_ALLOC_CACHE lets block-device direct I/O take its bio from the
 * per-CPU cache.  Only from 6.2 on may such a bio be freed in interrupt
 * context (the completion of an asynchronous kiocb); before, not at all.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define KVMARM_IOCB_ALLOC_CACHE		IOCB_ALLOC_CACHE
#else
#define KVMARM_IOCB_ALLOC_CACHE		0
#endif

/*
 * An asynchronous write keeps the file system's freeze protection until it
 * completes, which then calls kiocb_end_write().  From 6.8 on
 * vfs_iocb_iter_write() takes it (and drops it unless the write was
 * queued); before, the caller does.  6.7 has the helpers but its
 * vfs_iocb_iter_write() takes nothing: a write queued there and ended
 * with kiocb_end_write() would drop a hold never taken.
 *
 * kiocb_start_write() and kiocb_end_write() came with 6.6; older kernels
 * have them where a distribution backported them (Debian's 6.1 does).
 * Kbuild probes the header and defines KVMARM_HAVE_KIOCB_START_WRITE
 * where they are; elsewhere they are supplied here, as 6.6 has them.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
static inline ssize_t kvmarm_iocb_iter_write(struct file *file,
					     struct kiocb *iocb,
					     struct iov_iter *iter)
{
	return vfs_iocb_iter_write(file, iocb, iter);
}
#else
#ifndef KVMARM_HAVE_KIOCB_START_WRITE
static inline void kiocb_start_write(struct kiocb *iocb)
{
	struct inode *inode = file_inode(iocb->ki_filp);

	sb_start_write(inode->i_sb);
	/* Released for lockdep: the completion takes it over. */
	__sb_writers_release(inode->i_sb, SB_FREEZE_WRITE);
}

static inline void kiocb_end_write(struct kiocb *iocb)
{
	struct inode *inode = file_inode(iocb->ki_filp);

	__sb_writers_acquired(inode->i_sb, SB_FREEZE_WRITE);
	sb_end_write(inode->i_sb);
}
#endif

static inline ssize_t kvmarm_iocb_iter_write(struct file *file,
					     struct kiocb *iocb,
					     struct iov_iter *iter)
{
	ssize_t ret;

	kiocb_start_write(iocb);
	ret = vfs_iocb_iter_write(file, iocb, iter);
	if (ret != -EIOCBQUEUED)
		kiocb_end_write(iocb);
	return ret;
}
#endif

/*
 * A worker thread for vhost devices.  From 6.11 (with CONFIG_VHOST_TASK)
 * it is a vhost_task: a thread of the owner process, so it shares the
 * owner's mm, cgroups, limits and signals, and @killed runs in it when the
 * owner is killed.  Before, a kthread in the owner's mm and cgroups runs
 * @fn the same way; it is never killed.  @fn returns whether it did work;
 * the thread sleeps when it did not, until kvmarm_worker_wake().
 */
#ifdef KVMARM_HAVE_VHOST_TASK
#define kvmarm_worker			vhost_task

/*
 * 6.11 and 6.12 until the fix came to 6.12.y returned NULL when the
 * thread could not be made (RLIMIT_NPROC, a full pids cgroup, no
 * memory); later, an error pointer.  Callers get an error pointer.
 */
static inline struct kvmarm_worker *
kvmarm_worker_create(bool (*fn)(void *), void (*killed)(void *), void *arg,
		     const char *name)
{
	struct vhost_task *task = vhost_task_create(fn, killed, arg, name);

	return task ?: ERR_PTR(-ENOMEM);
}

static inline void kvmarm_worker_start(struct kvmarm_worker *w)
{
	vhost_task_start(w);
}

static inline void kvmarm_worker_stop(struct kvmarm_worker *w)
{
	vhost_task_stop(w);
}

static inline void kvmarm_worker_wake(struct kvmarm_worker *w)
{
	vhost_task_wake(w);
}
#else
struct kvmarm_worker {
	bool (*fn)(void *arg);
	void *arg;
	struct mm_struct *mm;
	const struct cred *cred;	/* the owner's */
	struct task_struct *task;
};

/*
 * The kthread runs with the owner's credentials, as a vhost_task does:
 * a kernel thread's are root's, and the owner's quotas and limits (a file
 * system's reserved blocks) would not apply to the guest's writes, nor to
 * the slow requests that take the worker's credentials along.
 *
 * Nor does memcg charge a kernel thread's __GFP_ACCOUNT allocations (the
 * requests the worker allocates for the guest): they are charged to the
 * owner's memory cgroup, as a vhost_task's, a thread of the owner, are.
 */
static inline int kvmarm_worker_thread(void *data)
{
	struct kvmarm_worker *w = data;
	struct mem_cgroup *memcg, *old_memcg;
	const struct cred *old;

	old = override_creds(w->cred);
	kthread_use_mm(w->mm);
	memcg = get_mem_cgroup_from_mm(w->mm);
	old_memcg = set_active_memcg(memcg);
	for (;;) {
		/* Pairs with the barrier in wake_up_process(). */
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop()) {
			__set_current_state(TASK_RUNNING);
			break;
		}
		if (!w->fn(w->arg))
			schedule();
	}
	set_active_memcg(old_memcg);
	mem_cgroup_put(memcg);
	kthread_unuse_mm(w->mm);
	revert_creds(old);
	return 0;
}

static inline struct kvmarm_worker *
kvmarm_worker_create(bool (*fn)(void *), void (*killed)(void *), void *arg,
		     const char *name)
{
	struct kvmarm_worker *w;
	int ret;

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return ERR_PTR(-ENOMEM);
	w->fn = fn;
	w->arg = arg;
	w->mm = get_task_mm(current);
	if (!w->mm) {
		ret = -EINVAL;
		goto err_free;
	}
	w->cred = get_current_cred();
	w->task = kthread_create(kvmarm_worker_thread, w, "%s", name);
	if (IS_ERR(w->task)) {
		ret = PTR_ERR(w->task);
		goto err_mm;
	}
	/* Account the worker to the owner's cgroups. */
	ret = cgroup_attach_task_all(current, w->task);
	if (ret)
		goto err_task;
	return w;

err_task:
	kthread_stop(w->task);
err_mm:
	put_cred(w->cred);
	mmput(w->mm);
err_free:
	kfree(w);
	return ERR_PTR(ret);
}

static inline void kvmarm_worker_start(struct kvmarm_worker *w)
{
	wake_up_process(w->task);
}

static inline void kvmarm_worker_stop(struct kvmarm_worker *w)
{
	kthread_stop(w->task);
	put_cred(w->cred);
	mmput(w->mm);
	kfree(w);
}

static inline void kvmarm_worker_wake(struct kvmarm_worker *w)
{
	wake_up_process(w->task);
}
#endif

/*
 * Is a block device file an exclusive opener (O_EXCL) of its device?
 * Until 6.5 the file says so in FMODE_EXCL; from 6.9 (block device files)
 * an exclusive open keeps its holder in file->private_data.
 */
static inline bool kvmarm_bdev_file_excl(struct file *file)
{
#ifdef FMODE_EXCL
	return file->f_mode & FMODE_EXCL;
#else
	return file->private_data;
#endif
}

/* 6.5 gave bd_prepare_to_claim() the holder's operations. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define kvmarm_bd_prepare_to_claim(bdev, holder)			\
	bd_prepare_to_claim(bdev, holder, NULL)
#else
#define kvmarm_bd_prepare_to_claim(bdev, holder)			\
	bd_prepare_to_claim(bdev, holder)
#endif

#if IS_ENABLED(CONFIG_VDPA)
/*
 * 6.18 replaced vdpa_device.dma_dev by a map token (union virtio_map,
 * probed: KVMARM_HAVE_VIRTIO_MAP) and gave vdpa_alloc_device() the
 * device's map operations; NULL keeps the DMA API of the token's device.
 */
#ifdef KVMARM_HAVE_VIRTIO_MAP
#define kvmarm_vdpa_alloc_device(type, member, parent, config, ngroups,	\
				 nas, name, use_va)			\
	vdpa_alloc_device(type, member, parent, config, NULL, ngroups,	\
			  nas, name, use_va)

static inline void kvmarm_vdpa_set_dma_dev(struct vdpa_device *vdpa,
					   struct device *dev)
{
	vdpa->vmap.dma_dev = dev;
}
#else
#define kvmarm_vdpa_alloc_device(type, member, parent, config, ngroups,	\
				 nas, name, use_va)			\
	vdpa_alloc_device(type, member, parent, config, ngroups, nas,	\
			  name, use_va)

static inline void kvmarm_vdpa_set_dma_dev(struct vdpa_device *vdpa,
					   struct device *dev)
{
	vdpa->dma_dev = dev;
}
#endif
#endif /* CONFIG_VDPA */

/*
 * A device that the CPU itself emulates is cache-coherent.  Architectures
 * that maintain caches for DMA (arm64) take a device without firmware
 * description as non-coherent; there the flag is set by hand.  7.1 moved
 * it into the device's flags (probed: KVMARM_HAVE_DEV_FLAG_DMA_COHERENT).
 */
static inline void kvmarm_dev_set_dma_coherent(struct device *dev)
{
#ifdef KVMARM_HAVE_DEV_FLAG_DMA_COHERENT
	dev_set_dma_coherent(dev);
#elif defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE) || \
	defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU) || \
	defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU_ALL)
	dev->dma_coherent = true;
#endif
}

/* ---- end of vhost/ ---- */

#endif /* KVMARM_COMPAT_H */
