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
#include <linux/iopoll.h>
#include <linux/lockdep.h>
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

/*
 * PrimeCell PL061 GPIO: all lines inputs under software control, interrupt
 * sense, edges and events back to their reset values, interrupts off and
 * cleared.
 */
#define PL061_DATA_ALL	0x3fc
#define PL061_DIR	0x400
#define PL061_IS	0x404
#define PL061_IBE	0x408
#define PL061_IEV	0x40c
#define PL061_IE	0x410
#define PL061_IC	0x41c
#define PL061_AFSEL	0x420

static int vfio_platform_reset_pl061(struct vfio_platform_device *vdev)
{
	void __iomem *io = vfio_platform_region_map(vdev, 0);

	if (!io)
		return -ENOMEM;
	writel(0, io + PL061_IE);
	writel(0, io + PL061_DIR);
	writel(0, io + PL061_IS);
	writel(0, io + PL061_IBE);
	writel(0, io + PL061_IEV);
	writel(0, io + PL061_AFSEL);
	writel(0, io + PL061_DATA_ALL);
	writel(0xff, io + PL061_IC);
	return 0;
}

/*
 * PrimeCell PL011 UART: disabled, interrupts masked and cleared, out of
 * the integration-test mode in which a guest could drive its outputs.
 */
#define PL011_CR	0x30
#define PL011_IMSC	0x38
#define PL011_ICR	0x44
#define PL011_ITCR	0x80
#define PL011_ITOP	0x88

static int vfio_platform_reset_pl011(struct vfio_platform_device *vdev)
{
	void __iomem *io = vfio_platform_region_map(vdev, 0);

	if (!io)
		return -ENOMEM;
	writel(0, io + PL011_ITCR);
	writel(0, io + PL011_ITOP);
	writel(0, io + PL011_IMSC);
	writel(0, io + PL011_CR);
	writel(0x7ff, io + PL011_ICR);
	return 0;
}

/*
 * SP805 watchdog: unlocked, counting and reset output stopped, interrupt
 * cleared, out of the integration-test mode (in which the outputs follow
 * a register, not the counter), load value back to its reset value,
 * locked again.  A guest that armed it and left must not reset the host.
 */
#define SP805_LOAD	0x000
#define SP805_CONTROL	0x008
#define SP805_INTCLR	0x00c
#define SP805_LOCK	0xc00
#define SP805_ITCR	0xf00
#define SP805_ITOP	0xf04
#define SP805_UNLOCK_KEY 0x1acce551

static int vfio_platform_reset_sp805(struct vfio_platform_device *vdev)
{
	void __iomem *io = vfio_platform_region_map(vdev, 0);

	if (!io)
		return -ENOMEM;
	writel(SP805_UNLOCK_KEY, io + SP805_LOCK);
	writel(0, io + SP805_CONTROL);
	writel(0, io + SP805_ITOP);
	writel(0, io + SP805_ITCR);
	writel(1, io + SP805_INTCLR);
	writel(0xffffffff, io + SP805_LOAD);
	writel(0, io + SP805_LOCK);
	return 0;
}

/*
 * SP804 dual timer: both timers stopped, control at its reset value,
 * interrupts cleared, out of the integration-test mode.
 */
#define SP804_TIMER2	0x20
#define SP804_LOAD	0x00
#define SP804_CONTROL	0x08
#define SP804_INTCLR	0x0c
#define SP804_CONTROL_RESET 0x20	/* interrupt enabled, timer off */
#define SP804_ITCR	0xf00
#define SP804_ITOP	0xf04

static int vfio_platform_reset_sp804(struct vfio_platform_device *vdev)
{
	void __iomem *io = vfio_platform_region_map(vdev, 0);
	unsigned int t;

	if (!io)
		return -ENOMEM;
	writel(0, io + SP804_ITOP);
	writel(0, io + SP804_ITCR);
	for (t = 0; t <= SP804_TIMER2; t += SP804_TIMER2) {
		writel(SP804_CONTROL_RESET, io + t + SP804_CONTROL);
		writel(1, io + t + SP804_INTCLR);
		writel(0, io + t + SP804_LOAD);
	}
	return 0;
}

/*
 * virtio-mmio: writing zero to the status register resets the device,
 * which is done when the register reads zero again.
 */
#define VIRTIO_MMIO_STATUS_REG	0x070

static int vfio_platform_reset_virtio_mmio(struct vfio_platform_device *vdev)
{
	void __iomem *io = vfio_platform_region_map(vdev, 0);
	u32 status;

	if (!io)
		return -ENOMEM;
	writel(0, io + VIRTIO_MMIO_STATUS_REG);
	return readl_poll_timeout(io + VIRTIO_MMIO_STATUS_REG, status, !status,
				  10, 100 * USEC_PER_MSEC);
}

/* By the device's most specific compatible, as for DMA-less admission. */
static const struct vfio_platform_reset_handler reset_handlers[] = {
	{ "arm,pl031", PL031_ICR + 4, vfio_platform_reset_pl031 },
	{ "arm,pl061", PL061_AFSEL + 4, vfio_platform_reset_pl061 },
	{ "arm,pl011", PL011_ITOP + 4, vfio_platform_reset_pl011 },
	{ "arm,sp805", SP805_ITOP + 4, vfio_platform_reset_sp805 },
	{ "arm,sp804", SP804_ITOP + 4, vfio_platform_reset_sp804 },
	{ "virtio,mmio", VIRTIO_MMIO_STATUS_REG + 4,
	  vfio_platform_reset_virtio_mmio },
};

#ifdef CONFIG_OF
/* Whether @np lists the reset line @line among its "resets". */
static bool vfio_platform_node_uses_reset(struct device_node *np,
					  const struct of_phandle_args *line)
{
	int i, n = of_count_phandle_with_args(np, "resets", "#reset-cells");
	struct of_phandle_args args;
	bool same = false;

	for (i = 0; i < n && !same; i++) {
		if (of_parse_phandle_with_args(np, "resets", "#reset-cells", i,
					       &args))
			continue;
		same = args.np == line->np &&
		       args.args_count == line->args_count &&
		       !memcmp(args.args, line->args,
			       line->args_count * sizeof(line->args[0]));
		of_node_put(args.np);
	}
	return same;
}

/*
 * Whether another enabled device-tree node names one of @dev's reset
 * lines: asserting it would reset that device too, under its driver.
 */
static bool vfio_platform_reset_shared(struct device *dev)
{
	struct device_node *np = dev->of_node, *other;
	int i, n = of_count_phandle_with_args(np, "resets", "#reset-cells");
	struct of_phandle_args line;
	bool shared = false;

	for (i = 0; i < n && !shared; i++) {
		if (of_parse_phandle_with_args(np, "resets", "#reset-cells", i,
					       &line))
			continue;
		for (other = of_find_all_nodes(NULL); other;
		     other = of_find_all_nodes(other)) {
			if (other == np || !of_device_is_available(other) ||
			    !vfio_platform_node_uses_reset(other, &line))
				continue;
			dev_warn(dev,
				 "reset line %d is shared with %pOF: not used, as it would reset that device too\n",
				 i, other);
			of_node_put(other);
			shared = true;
			break;
		}
		of_node_put(line.np);
	}
	return shared;
}
#else
static bool vfio_platform_reset_shared(struct device *dev)
{
	return false;
}
#endif

/*
 * The register handler for the device's most specific compatible, if its
 * region 0 holds the registers the handler writes.  Kept also when the
 * device has a reset controller or ACPI _RST, to fall back on.
 */
static void vfio_platform_reset_handler_init(struct vfio_platform_device *vdev)
{
	const struct vfio_platform_reset_handler *h;
	struct device *dev = vdev->dev;
	const char *compat;
	unsigned int i;

	if (!dev->of_node || !vdev->num_regions ||
	    of_property_read_string_index(dev->of_node, "compatible", 0,
					  &compat))
		return;
	for (i = 0; i < ARRAY_SIZE(reset_handlers); i++) {
		h = &reset_handlers[i];
		if (strcmp(compat, h->compat))
			continue;
		if (vdev->regions[0].size < h->min_size) {
			dev_warn(dev,
				 "region 0 has %pa bytes, the %s reset writes up to %#llx: no reset\n",
				 &vdev->regions[0].size, h->compat,
				 (unsigned long long)h->min_size);
			return;
		}
		vdev->reset_handler = h;
		return;
	}
}

int vfio_platform_reset_init(struct vfio_platform_device *vdev)
{
	struct device *dev = vdev->dev;

	vfio_platform_reset_handler_init(vdev);
	if (dev->of_node && !vfio_platform_reset_shared(dev)) {
		vdev->rstc = of_reset_control_array_get_optional_exclusive(dev->of_node);
		if (IS_ERR(vdev->rstc)) {
			int ret = PTR_ERR(vdev->rstc);

			vdev->rstc = NULL;
			return dev_err_probe(dev, ret, "cannot get reset controls\n");
		}
		if (vdev->rstc)
			return 0;
	}

#ifdef CONFIG_ACPI
	if (has_acpi_companion(dev) &&
	    acpi_has_method(ACPI_HANDLE(dev), "_RST"))
		vdev->acpi_reset = true;
#endif
	return 0;
}

bool vfio_platform_has_reset(struct vfio_platform_device *vdev)
{
	return vdev->rstc || vdev->acpi_reset || vdev->reset_handler;
}

static int vfio_platform_reset_line(struct vfio_platform_device *vdev)
{
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

static int vfio_platform_reset_acpi(struct vfio_platform_device *vdev)
{
#ifdef CONFIG_ACPI
	acpi_status st;

	st = acpi_evaluate_object(ACPI_HANDLE(vdev->dev), "_RST", NULL, NULL);
	if (ACPI_FAILURE(st)) {
		dev_err_ratelimited(vdev->dev, "ACPI _RST failed: %s\n",
				    acpi_format_exception(st));
		return -EIO;
	}
	return 0;
#else
	return -EINVAL;
#endif
}

/**
 * vfio_platform_do_reset() - reset the device by the best means it has
 * @vdev: a device for which vfio_platform_has_reset() holds
 *
 * The reset controller or ACPI _RST if the device has one, else (or when
 * that fails) the register handler for its compatible.
 *
 * Context: with @vdev->memory_lock held for writing, userspace's mappings
 * zapped: no access from userspace reaches the device in reset.
 *
 * Return: 0 or a negative errno.
 */
int vfio_platform_do_reset(struct vfio_platform_device *vdev)
{
	int ret = -EINVAL;

	lockdep_assert_held_write(&vdev->memory_lock);
	if (vdev->rstc)
		ret = vfio_platform_reset_line(vdev);
	else if (vdev->acpi_reset)
		ret = vfio_platform_reset_acpi(vdev);
	if (ret && vdev->reset_handler) {
		if (vdev->rstc || vdev->acpi_reset)
			dev_warn_ratelimited(vdev->dev,
					     "reset failed (%d): resetting through the registers instead\n",
					     ret);
		ret = vdev->reset_handler->reset(vdev);
	}
	return ret;
}
