// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers for selftests that own a platform or AMBA device through VFIO.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "vfio_util.h"

int sysfs_write(const char *path, const char *val)
{
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != strlen(val))
		ret = -EIO;
	close(fd);
	return ret;
}

int sysfs_read(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		ret = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return ret;
}

int sysfs_driver(const char *bus, const char *dev, char *buf, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;
	char *base;

	snprintf(path, sizeof(path), "/sys/bus/%s/devices/%s/driver", bus,
		 dev);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		if (errno != ENOENT)
			return -errno;
		buf[0] = '\0';
		return 0;
	}
	link[n] = '\0';
	base = strrchr(link, '/');
	snprintf(buf, len, "%s", base ? base + 1 : link);
	return 0;
}

static int unbind_driver(const char *bus, const char *dev)
{
	char path[PATH_MAX], drv[128];
	int ret;

	ret = sysfs_driver(bus, dev, drv, sizeof(drv));
	if (ret || !drv[0])
		return ret;
	snprintf(path, sizeof(path), "/sys/bus/%s/drivers/%s/unbind", bus,
		 drv);
	return sysfs_write(path, dev);
}

int vfio_bind(const char *bus, const char *dev, const char *driver)
{
	char path[PATH_MAX], drv[128];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/%s/devices/%s", bus, dev);
	if (access(path, F_OK))
		return -ENOENT;
	ret = unbind_driver(bus, dev);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/sys/bus/%s/devices/%s/driver_override",
		 bus, dev);
	ret = sysfs_write(path, driver);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/sys/bus/%s/drivers_probe", bus);
	ret = sysfs_write(path, dev);
	if (ret && ret != -EINVAL && ret != -ENODEV)
		return ret;
	ret = sysfs_driver(bus, dev, drv, sizeof(drv));
	if (ret)
		return ret;
	return strcmp(drv, driver) ? -ENODEV : 0;
}

int vfio_restore(const char *bus, const char *dev)
{
	char path[PATH_MAX];
	int ret;

	ret = unbind_driver(bus, dev);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/sys/bus/%s/devices/%s/driver_override",
		 bus, dev);
	ret = sysfs_write(path, "\n");
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/sys/bus/%s/drivers_probe", bus);
	sysfs_write(path, dev);	/* no host driver is not an error */
	return 0;
}

static int fail(struct vfio_dev *v, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(v->err, sizeof(v->err), fmt, ap);
	va_end(ap);
	if (saved && n > 0 && (size_t)n < sizeof(v->err))
		snprintf(v->err + n, sizeof(v->err) - n, ": %s",
			 strerror(saved));
	errno = saved;
	return -1;
}

int vfio_open(struct vfio_dev *v, const char *bus, const char *dev)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[PATH_MAX], link[256];
	ssize_t n;
	char *base;

	v->container = -1;
	v->group = -1;
	v->device = -1;
	snprintf(path, sizeof(path), "/sys/bus/%s/devices/%s/iommu_group",
		 bus, dev);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return fail(v, "%s has no IOMMU group", dev);
	link[n] = '\0';
	base = strrchr(link, '/');
	snprintf(path, sizeof(path), "/dev/vfio/%s", base ? base + 1 : link);

	v->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (v->container < 0)
		return fail(v, "open /dev/vfio/vfio");
	if (ioctl(v->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return fail(v, "VFIO API version");
	v->group = open(path, O_RDWR | O_CLOEXEC);
	if (v->group < 0)
		return fail(v, "open %s", path);
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &st))
		return fail(v, "VFIO_GROUP_GET_STATUS");
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		errno = 0;
		return fail(v, "group %s is not viable", path);
	}
	if (ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->container))
		return fail(v, "VFIO_GROUP_SET_CONTAINER");
	if (ioctl(v->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return fail(v, "VFIO_SET_IOMMU(TYPE1v2)");
	v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, dev);
	if (v->device < 0)
		return fail(v, "VFIO_GROUP_GET_DEVICE_FD(%s)", dev);
	return 0;
}

void vfio_close(struct vfio_dev *v)
{
	if (v->device >= 0)
		close(v->device);
	if (v->group >= 0)
		close(v->group);
	if (v->container >= 0)
		close(v->container);
	v->device = -1;
	v->group = -1;
	v->container = -1;
}

int vfio_set_irq(int device, unsigned int index, unsigned int flags,
		 unsigned int count, const void *data, size_t data_len)
{
	size_t sz = sizeof(struct vfio_irq_set) + data_len;
	struct vfio_irq_set *set = calloc(1, sz);
	int ret;

	if (!set)
		return -ENOMEM;
	set->argsz = sz;
	set->flags = flags;
	set->index = index;
	set->start = 0;
	set->count = count;
	if (data_len)
		memcpy(set->data, data, data_len);
	ret = ioctl(device, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
	free(set);
	return ret;
}

int vfio_irq_eventfd(int device, unsigned int index, unsigned int action,
		     int fd)
{
	return vfio_set_irq(device, index, VFIO_IRQ_SET_DATA_EVENTFD | action,
			    1, &fd, sizeof(fd));
}

int vfio_irq_simple(int device, unsigned int index, unsigned int action)
{
	return vfio_set_irq(device, index, VFIO_IRQ_SET_DATA_NONE | action, 1,
			    NULL, 0);
}
