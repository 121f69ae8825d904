/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for selftests that own a platform or AMBA device through VFIO:
 * sysfs binding with driver_override and the group/container/device flow.
 */
#ifndef KVMARM_IO_VFIO_UTIL_H
#define KVMARM_IO_VFIO_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <linux/vfio.h>

/* The device cdev's uAPI (Linux 6.6), for older userspace headers. */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};

#define VFIO_DEVICE_BIND_IOMMUFD	_IO(VFIO_TYPE, VFIO_BASE + 18)

struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};

#define VFIO_DEVICE_ATTACH_IOMMUFD_PT	_IO(VFIO_TYPE, VFIO_BASE + 19)

struct vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
};

#define VFIO_DEVICE_DETACH_IOMMUFD_PT	_IO(VFIO_TYPE, VFIO_BASE + 20)
#endif

/*
 * The two iommufd commands the tests use (<linux/iommufd.h>, which the
 * cross toolchain's headers lack), under names of their own.
 */
struct kvmarm_iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};

struct kvmarm_iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};

#define KVMARM_IOMMU_IOAS_ALLOC		_IO(';', 0x81)
#define KVMARM_IOMMU_IOAS_MAP		_IO(';', 0x85)

struct vfio_dev {
	int container;
	int group;
	int device;
	char err[256];
};

/* Write @val to the sysfs file @path; 0, -errno or -EIO if short. */
int sysfs_write(const char *path, const char *val);
/* Read the sysfs file @path into @buf (NUL-terminated); 0 or -errno. */
int sysfs_read(const char *path, char *buf, size_t len);
/* Read the driver a device is bound to ("" when none); 0 or -errno. */
int sysfs_driver(const char *bus, const char *dev, char *buf, size_t len);

/*
 * Bind @dev on @bus ("amba" or "platform") to @driver with driver_override,
 * unbinding it from its current driver first.  Return 0 when @dev ends up
 * bound to @driver, -ENODEV when the probe refused it, or -errno.
 */
int vfio_bind(const char *bus, const char *dev, const char *driver);
/* Unbind @dev, clear driver_override and let the host driver probe. */
int vfio_restore(const char *bus, const char *dev);

/* Open group, container (TYPE1v2) and device fd; -1 with @v->err set. */
int vfio_open(struct vfio_dev *v, const char *bus, const char *dev);
void vfio_close(struct vfio_dev *v);

/* One SET_IRQS call for vector 0 of @index; 0 or -errno. */
int vfio_set_irq(int device, unsigned int index, unsigned int flags,
		 unsigned int count, const void *data, size_t data_len);
int vfio_irq_eventfd(int device, unsigned int index, unsigned int action,
		     int fd);
int vfio_irq_simple(int device, unsigned int index, unsigned int action);

#endif
