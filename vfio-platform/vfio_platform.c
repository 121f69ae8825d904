// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO for platform and AMBA devices: the platform bus driver, and the
 * module that registers it with the AMBA one (vfio_amba.c).
 *
 * Neither driver matches anything by itself: a device is given to it with
 * driver_override, as for upstream's vfio-platform and vfio-amba:
 *
 *   echo vfio-platform > /sys/bus/platform/devices/a000000.virtio_mmio/driver_override
 *   echo a000000.virtio_mmio > /sys/bus/platform/drivers_probe
 */
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/pm_runtime.h>
#include <linux/vfio.h>

#include "kvmarm_compat.h"
#include "vfio_platform_private.h"

#define DRIVER_VERSION	"0.1.0"

static int vfio_plat_get_resource(struct vfio_platform_device *vdev,
				  unsigned int i, struct resource **res)
{
	struct platform_device *pdev = to_platform_device(vdev->dev);

	*res = platform_get_resource(pdev, IORESOURCE_MEM, i);
	return *res ? 0 : -ENOENT;
}

static int vfio_plat_get_irq(struct vfio_platform_device *vdev,
			     unsigned int i)
{
	struct platform_device *pdev = to_platform_device(vdev->dev);

	int n = platform_irq_count(pdev);

	if (n < 0)
		return n;
	if (i >= n)
		return -ENOENT;
	return platform_get_irq_optional(pdev, i);
}

static const struct vfio_device_ops vfio_plat_physical_ops =
	VFIO_PLATFORM_DEVICE_OPS("vfio-platform", physical);
static const struct vfio_device_ops vfio_plat_emulated_ops =
	VFIO_PLATFORM_DEVICE_OPS("vfio-platform", emulated);

static int vfio_plat_probe(struct platform_device *pdev)
{
	struct vfio_platform_device *vdev;
	bool emulated_iommu;
	int ret;

	ret = vfio_platform_admit(&pdev->dev, &emulated_iommu);
	if (ret)
		return ret;
	vdev = vfio_alloc_device(vfio_platform_device, vdev, &pdev->dev,
				 emulated_iommu ? &vfio_plat_emulated_ops :
						  &vfio_plat_physical_ops);
	if (IS_ERR(vdev))
		return PTR_ERR(vdev);
	vdev->emulated_iommu = emulated_iommu;
	vdev->get_resource = vfio_plat_get_resource;
	vdev->get_irq = vfio_plat_get_irq;
	platform_set_drvdata(pdev, vdev);
	/* The platform bus leaves runtime PM to the driver. */
	pm_runtime_enable(&pdev->dev);
	ret = vfio_platform_probe_common(vdev, &pdev->dev);
	if (ret) {
		pm_runtime_disable(&pdev->dev);
		platform_set_drvdata(pdev, NULL);
		vfio_put_device(&vdev->vdev);
	}
	return ret;
}

static void vfio_plat_remove(struct platform_device *pdev)
{
	struct vfio_platform_device *vdev = platform_get_drvdata(pdev);

	vfio_platform_remove_common(vdev);
	pm_runtime_disable(&pdev->dev);
	vfio_put_device(&vdev->vdev);
}

static struct platform_driver vfio_plat_driver = {
	.probe = vfio_plat_probe,
	KVMARM_PLATFORM_REMOVE(vfio_plat_remove),
	.driver = {
		.name = "vfio-platform",
		.dev_groups = vfio_platform_dev_groups,
	},
	.driver_managed_dma = true,
};

static int __init vfio_platform_init(void)
{
	int ret;

	ret = platform_driver_register(&vfio_plat_driver);
	if (ret)
		return ret;
	ret = vfio_amba_register();
	if (ret)
		platform_driver_unregister(&vfio_plat_driver);
	return ret;
}

static void __exit vfio_platform_exit(void)
{
	vfio_amba_unregister();
	platform_driver_unregister(&vfio_plat_driver);
}

module_init(vfio_platform_init);
module_exit(vfio_platform_exit);

MODULE_VERSION(DRIVER_VERSION);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("kvmarm-io developers");
MODULE_DESCRIPTION("VFIO for platform and AMBA devices (vfio-platform, vfio-amba)");
