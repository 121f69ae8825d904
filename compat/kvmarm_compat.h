/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmarm_compat.h - the kernel-version differences kvmarm-io builds across.
 *
 * Out-of-tree only: the in-tree patch series replaces every helper here by
 * the newest kernel's own API.  Supported: Linux 6.1 to 6.12.
 */
#ifndef KVMARM_COMPAT_H
#define KVMARM_COMPAT_H

#include <linux/version.h>
#include <linux/eventfd.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/vfio.h>

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
 * Until 6.2 a VFIO driver's release callback had to free the device itself;
 * since then the core does it after the callback.
 */
static inline void kvmarm_vfio_release_free(struct vfio_device *vdev)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
	vfio_free_device(vdev);
#endif
}

#endif /* KVMARM_COMPAT_H */
