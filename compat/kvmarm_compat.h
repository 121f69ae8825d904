/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmarm_compat.h - what the kernels kvmarm-io builds for lack of the
 * kernel it is written for.
 *
 * Out of tree only: the drivers include it after the kernel's headers
 * (the in-tree series drops the line) and call the kernel's own functions
 * by their own names
 * (eventfd_signal(), vm_flags_set(), vfs_iocb_iter_write(),
 * vhost_task_create(), ...) and this header supplies them where a kernel
 * lacks them, as Linux 6.12, which the in-tree series is based on, has
 * them.  Bodies longer than a line live in kvmarm_compat.c.  Supported:
 * Linux 6.1 to 7.3.  Features that distributions backport are probed in
 * the headers by Kbuild (KVMARM_HAVE_*) rather than told from the version.
 *
 * What no name can bridge, a structure member or an operation that one
 * kernel has and another lacks, is a KVMARM_* helper here; scripts/series
 * writes each one as Linux 6.12 spells it.
 */
#ifndef KVMARM_COMPAT_H
#define KVMARM_COMPAT_H

#include <linux/version.h>
#include <linux/blkdev.h>
#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/irqbypass.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/vfio.h>
#if IS_ENABLED(CONFIG_VDPA)
#include <linux/vdpa.h>
#endif

/* ---- names the drivers call ---- */

/* 6.8 dropped the count argument of eventfd_signal(). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
#define eventfd_signal(ctx)	eventfd_signal(ctx, 1)
#endif

/* 6.3 made vma->vm_flags read-only outside these helpers. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
#define vm_flags_set(vma, flags)	((vma)->vm_flags |= (flags))
#define vm_flags_clear(vma, flags)	((vma)->vm_flags &= ~(flags))
#endif

/* 6.5 gave bd_prepare_to_claim() the holder's operations. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
#define bd_prepare_to_claim(bdev, holder, hops)				\
	bd_prepare_to_claim(bdev, holder)
#endif

/*
 * IOCB_ALLOC_CACHE lets block-device direct I/O take its bio from the
 * per-CPU cache.  Only from 6.2 on may such a bio be freed in interrupt
 * context (the completion of an asynchronous kiocb); before, it is not
 * asked for.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#undef IOCB_ALLOC_CACHE
#define IOCB_ALLOC_CACHE	0
#endif

/*
 * kiocb_start_write() and kiocb_end_write() came with 6.6; older kernels
 * have them where a distribution backported them (Debian's 6.1 does).
 * Kbuild probes the header (KVMARM_HAVE_KIOCB_START_WRITE).
 */
#ifndef KVMARM_HAVE_KIOCB_START_WRITE
void kiocb_start_write(struct kiocb *iocb);
void kiocb_end_write(struct kiocb *iocb);
#endif

/*
 * An asynchronous write keeps the file system's freeze protection until it
 * completes, which then calls kiocb_end_write().  From 6.8 on
 * vfs_iocb_iter_write() takes it (and drops it unless the write was
 * queued); before, the caller does.  6.7 has the helpers but its
 * vfs_iocb_iter_write() takes nothing: a write queued there and ended
 * with kiocb_end_write() would drop a hold never taken.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
ssize_t kvmarm_vfs_iocb_iter_write(struct file *file, struct kiocb *iocb,
				   struct iov_iter *iter);
#define vfs_iocb_iter_write	kvmarm_vfs_iocb_iter_write
#endif

/*
 * The worker thread of a vhost device.  From 6.11 (with CONFIG_VHOST_TASK;
 * probed: KVMARM_HAVE_VHOST_TASK, the kill callback) it is a vhost_task: a
 * thread of the owner process, so it shares the owner's mm, cgroups,
 * limits and signals, and @handle_kill runs in it when the owner is
 * killed.  Elsewhere kvmarm_compat.c supplies the same interface on a
 * kthread in the owner's mm, cgroups, credentials and memory cgroup; it
 * is never killed.  (6.4 to 6.10 had a vhost_task without the kill
 * callback: the kernel's is left alone there.)  Until a 6.12.y fix,
 * vhost_task_create() returned NULL on failure, an error pointer since.
 */
#if !defined(KVMARM_HAVE_VHOST_TASK) || !IS_ENABLED(CONFIG_VHOST_TASK)
#define vhost_task		kvmarm_vhost_task
#define vhost_task_create	kvmarm_vhost_task_create
#define vhost_task_start	kvmarm_vhost_task_start
#define vhost_task_stop		kvmarm_vhost_task_stop
#define vhost_task_wake		kvmarm_vhost_task_wake
struct vhost_task;
struct vhost_task *vhost_task_create(bool (*fn)(void *),
				     void (*handle_kill)(void *), void *arg,
				     const char *name);
void vhost_task_start(struct vhost_task *vtsk);
void vhost_task_stop(struct vhost_task *vtsk);
void vhost_task_wake(struct vhost_task *vtsk);
#endif

/*
 * 6.17 made the irq bypass manager take the eventfd and the interrupt as
 * arguments of the registration (probed: KVMARM_HAVE_IRQ_BYPASS_EVENTFD);
 * in 6.12 the producer carries them, the eventfd as its token.
 * Without the manager nothing connects.
 */
#if !IS_ENABLED(CONFIG_IRQ_BYPASS_MANAGER)
#define KVMARM_IRQ_BYPASS_REGISTER(prod, ctx, hwirq)	(-EOPNOTSUPP)
#define irq_bypass_unregister_producer(prod)		do { } while (0)
#elif defined(KVMARM_HAVE_IRQ_BYPASS_EVENTFD)
#define KVMARM_IRQ_BYPASS_REGISTER(prod, ctx, hwirq)			\
	irq_bypass_register_producer(prod, ctx, hwirq)
#else
#define KVMARM_IRQ_BYPASS_REGISTER(prod, ctx, hwirq)			\
	({ (prod)->token = (ctx); (prod)->irq = (hwirq);		\
	   irq_bypass_register_producer(prod); })
#endif

/* ---- what no name bridges: members and operations ---- */

/*
 * 6.11 made platform_driver.remove return void; until then a void
 * removal is .remove_new (6.3; Debian's 6.1 has it too, a 6.1 without it
 * is not supported).
 * Probed: KVMARM_HAVE_PLATFORM_REMOVE_VOID.
 */
#ifdef KVMARM_HAVE_PLATFORM_REMOVE_VOID
#define KVMARM_PLATFORM_REMOVE(fn)	.remove = (fn)
#else
#define KVMARM_PLATFORM_REMOVE(fn)	.remove_new = (fn)
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
 * KVMARM_VFIO_CAN_ZAP is false where the kernel cannot: mappings are then
 * made whole at mmap() time and stay.
 */
#ifdef KVMARM_HAVE_VFIO_DEVICE_INODE
#define KVMARM_VFIO_CAN_ZAP		true
#define KVMARM_VFIO_ZAP_MAPPINGS(vdev)					\
	unmap_mapping_range((vdev)->inode->i_mapping, 0, 0, true)
#else
#define KVMARM_VFIO_CAN_ZAP		false
#define KVMARM_VFIO_ZAP_MAPPINGS(vdev)	do { } while (0)
#endif

/*
 * Until 6.2 a VFIO driver's release callback had to free the device
 * itself; since then the core does it after the callback.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define KVMARM_VFIO_RELEASE_FREE(vdev)	vfio_free_device(vdev)
#else
#define KVMARM_VFIO_RELEASE_FREE(vdev)	do { } while (0)
#endif

/*
 * Is a block device file an exclusive opener (O_EXCL) of its device?
 * Until 6.5 the file says so in FMODE_EXCL; from 6.9 (block device files)
 * an exclusive open keeps its holder in file->private_data.
 */
#ifdef FMODE_EXCL
#define KVMARM_BDEV_FILE_EXCL(file)	((file)->f_mode & FMODE_EXCL)
#else
#define KVMARM_BDEV_FILE_EXCL(file)	((file)->private_data)
#endif

#if IS_ENABLED(CONFIG_VDPA)
/*
 * 6.18 replaced vdpa_device.dma_dev by a map token (union virtio_map,
 * probed: KVMARM_HAVE_VIRTIO_MAP) and gave vdpa_alloc_device() the
 * device's map operations; NULL keeps the DMA API of the token's device.
 */
#ifdef KVMARM_HAVE_VIRTIO_MAP
#undef vdpa_alloc_device
#define vdpa_alloc_device(dev_struct, member, parent, config, ngroups,	\
			  nas, name, use_va)				\
	container_of((__vdpa_alloc_device(parent, config, NULL, ngroups,	\
					  nas, sizeof(dev_struct) +	\
					  BUILD_BUG_ON_ZERO(offsetof(	\
					  dev_struct, member)), name,	\
					  use_va)), dev_struct, member)
#define KVMARM_VDPA_DMA_DEV(vdpa)	((vdpa)->vmap.dma_dev)
#else
#define KVMARM_VDPA_DMA_DEV(vdpa)	((vdpa)->dma_dev)
#endif
#endif /* CONFIG_VDPA */

/*
 * A device that the CPU itself emulates is cache-coherent.  Architectures
 * that maintain caches for DMA (arm64) take a device without firmware
 * description as non-coherent; there the flag is set by hand.  7.1 moved
 * it into the device's flags (probed: KVMARM_HAVE_DEV_FLAG_DMA_COHERENT).
 */
#ifdef KVMARM_HAVE_DEV_FLAG_DMA_COHERENT
#define KVMARM_DEV_SET_DMA_COHERENT(dev)	dev_set_dma_coherent(dev)
#elif defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE) || \
	defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU) || \
	defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU_ALL)
#define KVMARM_DEV_SET_DMA_COHERENT(dev)	((dev)->dma_coherent = true)
#else
#define KVMARM_DEV_SET_DMA_COHERENT(dev)	do { } while (0)
#endif

#endif /* KVMARM_COMPAT_H */
