/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VFIO for platform and AMBA devices: internal interfaces.
 */
#ifndef VFIO_PLATFORM_PRIVATE_H
#define VFIO_PLATFORM_PRIVATE_H

#include <linux/clk.h>
#include <linux/irqbypass.h>
#include <linux/mutex.h>
#include <linux/reset.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/vfio.h>

/* Region index in the upper bits of the device-fd offset, as upstream. */
#define VFIO_PLATFORM_OFFSET_SHIFT	40
#define VFIO_PLATFORM_OFFSET_MASK	((1ULL << VFIO_PLATFORM_OFFSET_SHIFT) - 1)
#define VFIO_PLATFORM_INDEX(off)	((off) >> VFIO_PLATFORM_OFFSET_SHIFT)
#define VFIO_PLATFORM_INDEX_TO_OFFSET(i) ((u64)(i) << VFIO_PLATFORM_OFFSET_SHIFT)

struct vfio_platform_device;

/**
 * struct vfio_platform_region - one MMIO resource of the device
 * @addr:    physical address
 * @size:    size in bytes, as the device tree or ACPI gives it
 * @flags:   VFIO_REGION_INFO_FLAG_*
 * @ioaddr:  kernel mapping, made on the first read or write
 * @tail:    the rest of the region's last page, claimed busy and exclusive
 *           when the region ends inside a page (a 4 KiB peripheral under
 *           16 KiB or 64 KiB pages) and the mmap_sub_page parameter lets
 *           the whole page be mapped to userspace
 */
struct vfio_platform_region {
	phys_addr_t		addr;
	resource_size_t		size;
	u32			flags;
	void __iomem		*ioaddr;
	struct resource		*tail;
};

struct vfio_platform_irq {
	struct vfio_platform_device *vdev;
	unsigned int		index;
	int			hwirq;		/* Linux IRQ number */
	u32			flags;		/* VFIO_IRQ_INFO_* */
	bool			level;
	spinlock_t		lock;		/* masked, pending */
	struct mutex		trigger_lock;	/* @trigger vs signalling */
	bool			masked;
	bool			pending;	/* edge fired while masked */
	bool			unmask_deferred; /* to the unmask thread */
	bool			replay;		/* pending edge, to signal */
	bool			requested;
	char			*name;
	struct eventfd_ctx	*trigger;
	struct virqfd		*unmask;
	struct virqfd		*mask;
	struct irq_bypass_producer producer;	/* of a level @trigger */
	bool			producing;	/* @producer registered */
	unsigned long		status_set;	/* IRQ_* set on @hwirq */
};

/**
 * struct vfio_platform_reset_handler - per-compatible device reset
 * @compat:   device-tree compatible it applies to
 * @min_size: the size region 0 needs for the registers it writes
 * @reset:    puts the device in its post-reset state through its registers
 */
struct vfio_platform_reset_handler {
	const char *compat;
	resource_size_t min_size;
	int (*reset)(struct vfio_platform_device *vdev);
};

struct vfio_platform_device {
	struct vfio_device		vdev;
	struct device			*dev;
	struct vfio_platform_region	*regions;
	unsigned int			num_regions;
	struct vfio_platform_irq	*irqs;
	unsigned int			num_irqs;
	struct mutex			igate;	/* SET_IRQS, reset */
	/*
	 * Held for reading around every MMIO access from userspace (read,
	 * write, mmap fault), for writing around a reset, which zaps the
	 * mappings first: no access reaches a device held in reset.
	 */
	struct rw_semaphore		memory_lock;
	struct clk_bulk_data		*clks;
	int				num_clks;
	struct reset_control		*rstc;
	bool				acpi_reset;
	const struct vfio_platform_reset_handler *reset_handler;
	/* set by the bus front-end before vfio_platform_probe_common() */
	bool				amba;
	bool				emulated_iommu;
	int (*get_resource)(struct vfio_platform_device *vdev,
			    unsigned int i, struct resource **res);
	int (*get_irq)(struct vfio_platform_device *vdev, unsigned int i);
};

/* vfio_platform_core.c */
int vfio_platform_admit(struct device *dev, bool *emulated_iommu);
int vfio_platform_probe_common(struct vfio_platform_device *vdev,
			       struct device *dev);
void vfio_platform_remove_common(struct vfio_platform_device *vdev);
void __iomem *vfio_platform_region_map(struct vfio_platform_device *vdev,
				       unsigned int index);
extern const struct attribute_group *vfio_platform_dev_groups[];

/* vfio_platform_core.c: the front-ends' vfio_device_ops */
void vfio_platform_release(struct vfio_device *core);
int vfio_platform_open_device(struct vfio_device *core);
void vfio_platform_close_device(struct vfio_device *core);
long vfio_platform_ioctl(struct vfio_device *core, unsigned int cmd,
			 unsigned long arg);
int vfio_platform_get_region_info_caps(struct vfio_device *core,
				       struct vfio_region_info *info,
				       struct vfio_info_cap *caps);
ssize_t vfio_platform_read(struct vfio_device *core, char __user *buf,
			   size_t count, loff_t *ppos);
ssize_t vfio_platform_write(struct vfio_device *core, const char __user *buf,
			    size_t count, loff_t *ppos);
int vfio_platform_mmap(struct vfio_device *core, struct vm_area_struct *vma);

/*
 * A front-end's vfio_device_ops for a device that vfio_platform_admit()
 * admitted: @kind is physical for a device behind an IOMMU (its own VFIO
 * group, or iommufd), emulated for a DMA-less one without an IOMMU (an
 * emulated-IOMMU group).
 */
#define VFIO_PLATFORM_DEVICE_OPS(drv_name, kind) {			\
	.name		= drv_name,					\
	.release	= vfio_platform_release,			\
	.open_device	= vfio_platform_open_device,			\
	.close_device	= vfio_platform_close_device,			\
	.ioctl		= vfio_platform_ioctl,				\
	KVMARM_REGION_INFO_OP(vfio_platform_get_region_info_caps)	\
	.read		= vfio_platform_read,				\
	.write		= vfio_platform_write,				\
	.mmap		= vfio_platform_mmap,				\
	KVMARM_VFIO_IOMMUFD_OPS(kind)					\
}

/* vfio_platform_irq.c */
int vfio_platform_irq_init(struct vfio_platform_device *vdev);
void vfio_platform_irq_cleanup(struct vfio_platform_device *vdev);
void vfio_platform_irq_release_all(struct vfio_platform_device *vdev);
int vfio_platform_set_irqs(struct vfio_platform_device *vdev,
			   struct vfio_irq_set *hdr, void *data);

/* vfio_platform_reset.c */
int vfio_platform_reset_init(struct vfio_platform_device *vdev);
bool vfio_platform_has_reset(struct vfio_platform_device *vdev);
int vfio_platform_do_reset(struct vfio_platform_device *vdev);

/* vfio_amba.c */
int vfio_amba_register(void);
void vfio_amba_unregister(void);

#endif /* VFIO_PLATFORM_PRIVATE_H */
