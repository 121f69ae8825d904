// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO for platform and AMBA devices: the AMBA bus driver, registered by
 * the module's init in vfio_platform.c.
 *
 * It matches nothing by itself: a device is given to it with
 * driver_override, as for upstream's vfio-amba:
 *
 *   echo vfio-amba > /sys/bus/amba/devices/9010000.pl031/driver_override
 *   echo 9010000.pl031 > /sys/bus/amba/drivers_probe
 */
#include <linux/amba/bus.h>
#include <linux/module.h>
#include <linux/vfio.h>

#include "kvmarm_compat.h"
#include "vfio_platform_private.h"

static int vfio_amba_get_resource(struct vfio_platform_device *vdev,
				  unsigned int i, struct resource **res)
{
	struct amba_device *adev = to_amba_device(vdev->dev);

	if (i)
		return -ENOENT;
	*res = &adev->res;
	return 0;
}

static int vfio_amba_get_irq(struct vfio_platform_device *vdev,
			     unsigned int i)
{
	struct amba_device *adev = to_amba_device(vdev->dev);

	if (i >= AMBA_NR_IRQS || !adev->irq[i])
		return -ENOENT;
	return adev->irq[i];
}

static const struct vfio_device_ops vfio_amba_physical_ops =
	VFIO_PLATFORM_DEVICE_OPS("vfio-amba", physical);
static const struct vfio_device_ops vfio_amba_emulated_ops =
	VFIO_PLATFORM_DEVICE_OPS("vfio-amba", emulated);

/*
 * The AMBA bus enables runtime PM around probe and disables it after
 * remove: the driver must not do it again, or the host driver that takes
 * the device back finds it disabled.
 */
static int vfio_amba_probe(struct amba_device *adev,
			   const struct amba_id *id)
{
	struct vfio_platform_device *vdev;
	bool emulated_iommu;
	int ret;

	ret = vfio_platform_admit(&adev->dev, &emulated_iommu);
	if (ret)
		return ret;
	vdev = vfio_alloc_device(vfio_platform_device, vdev, &adev->dev,
				 emulated_iommu ? &vfio_amba_emulated_ops :
						  &vfio_amba_physical_ops);
	if (IS_ERR(vdev))
		return PTR_ERR(vdev);
	vdev->amba = true;
	vdev->emulated_iommu = emulated_iommu;
	vdev->get_resource = vfio_amba_get_resource;
	vdev->get_irq = vfio_amba_get_irq;
	amba_set_drvdata(adev, vdev);
	ret = vfio_platform_probe_common(vdev, &adev->dev);
	if (ret) {
		amba_set_drvdata(adev, NULL);
		vfio_put_device(&vdev->vdev);
	}
	return ret;
}

static void vfio_amba_remove(struct amba_device *adev)
{
	struct vfio_platform_device *vdev = amba_get_drvdata(adev);

	vfio_platform_remove_common(vdev);
	vfio_put_device(&vdev->vdev);
}

/* Matches nothing: devices come through driver_override. */
static const struct amba_id vfio_amba_ids[] = {
	{ 0, 0 },
};
MODULE_DEVICE_TABLE(amba, vfio_amba_ids);

static struct amba_driver vfio_amba_driver = {
	.probe = vfio_amba_probe,
	.remove = vfio_amba_remove,
	.id_table = vfio_amba_ids,
	.drv = {
		.name = "vfio-amba",
		.owner = THIS_MODULE,
		.dev_groups = vfio_platform_dev_groups,
	},
	.driver_managed_dma = true,
};

int vfio_amba_register(void)
{
	return amba_driver_register(&vfio_amba_driver);
}

void vfio_amba_unregister(void)
{
	amba_driver_unregister(&vfio_amba_driver);
}

MODULE_ALIAS("vfio-amba");
