// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO for platform and AMBA devices: reset.
 *
 * In order of preference: the reset-controller framework ("resets" in the
 * device tree), ACPI _RST, and a per-compatible handler that puts the
 * device in its post-reset state through its own registers.
 */
#include <linux/acpi.h>
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/of.h>
#include <linux/reset.h>

#include "vfio_platform_private.h"

/* PrimeCell PL031 RTC: interrupt masked and cleared, match value zero. */
#define PL031_MR	0x04
#define PL031_IMSC	0x10
#define PL031_ICR	0x1c

static int vfio_platform_reset_pl031(struct vfio_platform_device *vdev)
{
	void __iomem *io = vfio_platform_region_map(vdev, 0);

	if (!io)
		return -ENOMEM;
	writel(0, io + PL031_IMSC);
	writel(1, io + PL031_ICR);
	writel(0, io + PL031_MR);
	return 0;
}

/* PrimeCell PL061 GPIO: all lines input, interrupts off and cleared. */
#define PL061_DIR	0x400
#define PL061_IE	0x410
#define PL061_IC	0x41c

static int vfio_platform_reset_pl061(struct vfio_platform_device *vdev)
{
	void __iomem *io = vfio_platform_region_map(vdev, 0);

	if (!io)
		return -ENOMEM;
	writel(0, io + PL061_IE);
	writel(0xff, io + PL061_IC);
	writel(0, io + PL061_DIR);
	return 0;
}

static const struct vfio_platform_reset_handler reset_handlers[] = {
	{ "arm,pl031", vfio_platform_reset_pl031 },
	{ "arm,pl061", vfio_platform_reset_pl061 },
};

int vfio_platform_reset_init(struct vfio_platform_device *vdev)
{
	struct device *dev = vdev->dev;
	unsigned int i;

	vdev->rstc = of_reset_control_array_get_optional_exclusive(dev->of_node);
	if (IS_ERR(vdev->rstc)) {
		int ret = PTR_ERR(vdev->rstc);

		vdev->rstc = NULL;
		return dev_err_probe(dev, ret, "cannot get reset controls\n");
	}
	if (vdev->rstc)
		return 0;

#ifdef CONFIG_ACPI
	if (has_acpi_companion(dev) &&
	    acpi_has_method(ACPI_HANDLE(dev), "_RST")) {
		vdev->acpi_reset = true;
		return 0;
	}
#endif

	if (!dev->of_node || !vdev->num_regions)
		return 0;
	for (i = 0; i < ARRAY_SIZE(reset_handlers); i++) {
		if (of_device_is_compatible(dev->of_node,
					    reset_handlers[i].compat)) {
			vdev->reset_handler = &reset_handlers[i];
			break;
		}
	}
	return 0;
}

bool vfio_platform_has_reset(struct vfio_platform_device *vdev)
{
	return vdev->rstc || vdev->acpi_reset || vdev->reset_handler;
}

int vfio_platform_do_reset(struct vfio_platform_device *vdev)
{
	if (vdev->rstc) {
		int ret = reset_control_reset(vdev->rstc);

		if (ret != -ENOTSUPP)
			return ret;
		/* No self-timed reset: pulse the line instead. */
		ret = reset_control_assert(vdev->rstc);
		if (ret)
			return ret;
		usleep_range(10, 20);
		return reset_control_deassert(vdev->rstc);
	}
#ifdef CONFIG_ACPI
	if (vdev->acpi_reset) {
		acpi_status st;

		st = acpi_evaluate_object(ACPI_HANDLE(vdev->dev), "_RST",
					  NULL, NULL);
		if (ACPI_FAILURE(st)) {
			dev_err(vdev->dev, "ACPI _RST failed: %s\n",
				acpi_format_exception(st));
			return -EIO;
		}
		return 0;
	}
#endif
	if (vdev->reset_handler)
		return vdev->reset_handler->reset(vdev);
	return -EINVAL;
}
