// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO for platform and AMBA devices: the two bus drivers.
 *
 * Neither driver matches anything by itself: a device is given to it with
 * driver_override, as for upstream's vfio-platform and vfio-amba:
 *
 *   echo vfio-amba > /sys/bus/amba/devices/9010000.pl031/driver_override
 *   echo 9010000.pl031 > /sys/bus/amba/drivers_probe
 */
#include <linux/amba/bus.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/pm_runtime.h>
#include <linux/vfio.h>

#include "kvmarm_compat.h"
#include "vfio_platform_private.h"

#define DRIVER_VERSION	"0.1.0"

/* Platform bus */

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

static int vfio_plat_probe(struct platform_device *pdev)
{
	const struct vfio_device_ops *ops = vfio_platform_ops_for(&pdev->dev);
	struct vfio_platform_device *vdev;
	int ret;

	if (!ops)
		return -EPERM;
	vdev = vfio_alloc_device(vfio_platform_device, vdev, &pdev->dev, ops);
	if (IS_ERR(vdev))
		return PTR_ERR(vdev);
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

KVMARM_PLATFORM_REMOVE_SHIM(vfio_plat_remove)

static struct platform_driver vfio_plat_driver = {
	.probe = vfio_plat_probe,
	KVMARM_PLATFORM_REMOVE(vfio_plat_remove),
	.driver = {
		.name = "vfio-platform",
		.dev_groups = vfio_platform_dev_groups,
	},
	.driver_managed_dma = true,
};

/* AMBA bus */

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

/*
 * The AMBA bus enables runtime PM around probe and disables it after
 * remove: the driver must not do it again, or the host driver that takes
 * the device back finds it disabled.
 */
static int vfio_amba_probe(struct amba_device *adev,
			   const struct amba_id *id)
{
	const struct vfio_device_ops *ops = vfio_platform_ops_for(&adev->dev);
	struct vfio_platform_device *vdev;
	int ret;

	if (!ops)
		return -EPERM;
	vdev = vfio_alloc_device(vfio_platform_device, vdev, &adev->dev, ops);
	if (IS_ERR(vdev))
		return PTR_ERR(vdev);
	vdev->amba = true;
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

static int __init vfio_platform_init(void)
{
	int ret;

	ret = platform_driver_register(&vfio_plat_driver);
	if (ret)
		return ret;
	ret = amba_driver_register(&vfio_amba_driver);
	if (ret)
		platform_driver_unregister(&vfio_plat_driver);
	return ret;
}

static void __exit vfio_platform_exit(void)
{
	amba_driver_unregister(&vfio_amba_driver);
	platform_driver_unregister(&vfio_plat_driver);
}

module_init(vfio_platform_init);
module_exit(vfio_platform_exit);

MODULE_VERSION(DRIVER_VERSION);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("kvmarm-io developers");
MODULE_DESCRIPTION("VFIO for platform and AMBA devices (vfio-platform, vfio-amba)");
MODULE_ALIAS("vfio-amba");
