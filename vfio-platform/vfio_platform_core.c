// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO for platform and AMBA devices: regions, device ioctls, ownership.
 *
 * A bound device becomes a VFIO device with one region per MMIO resource
 * and one IRQ index per interrupt.  While userspace owns it, its clocks and
 * runtime-PM domain stay enabled and it is reset on open and on release.
 */
#include <linux/device.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/irq.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_address.h>
#include <linux/platform_device.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "kvmarm_compat.h"
#include "vfio_platform_private.h"

/*
 * Devices that cannot master DMA, so that passing them without an IOMMU is
 * safe, by their most specific compatible.  More can be named with the
 * dma_less module parameter.  Not the SP805 watchdog: its reset output
 * usually resets the whole machine, so a guest that owns it can reset the
 * host at any time; only the administrator can decide to allow that.
 */
static const char * const dma_less_builtin[] = {
	"arm,pl031",	/* PrimeCell RTC */
	"arm,pl061",	/* PrimeCell GPIO */
	"arm,pl011",	/* PrimeCell UART (DMA only through a separate DMAC) */
	"arm,sp804",	/* dual timer */
	"gpio-keys",
};

static char *dma_less;
module_param(dma_less, charp, 0644);
MODULE_PARM_DESC(dma_less,
		 "Further device-tree compatibles (separated by spaces or semicolons) of devices known not to master DMA; a device whose most specific compatible is listed is admitted without an IOMMU group, and the kernel is tainted");

static bool reset_required = true;
module_param(reset_required, bool, 0644);
MODULE_PARM_DESC(reset_required,
		 "Refuse a device that has no reset (reset controller, ACPI _RST or a built-in handler): userspace could hand it back running, e.g. an armed watchdog (default: on)");

/* Whether @compat is one of the words of @list (spaces or semicolons). */
static bool compat_in_list(const char *compat, const char *list)
{
	size_t want = strlen(compat), len;
	const char *p = list;

	while (*p) {
		p += strspn(p, " ;\n\t");
		len = strcspn(p, " ;\n\t");
		if (len == want && !strncmp(p, compat, len))
			return true;
		p += len;
	}
	return false;
}

enum vfio_platform_dma_less {
	VFIO_PLATFORM_DMA_CAPABLE,
	VFIO_PLATFORM_DMA_LESS,		/* built-in list */
	VFIO_PLATFORM_DMA_LESS_PARAM,	/* the administrator says so */
};

/*
 * Whether @dev is known not to master DMA.  Only the most specific
 * compatible counts: a vendor's part that names a PrimeCell as a fallback
 * may well add a DMA engine to it.
 */
static enum vfio_platform_dma_less vfio_platform_dma_less(struct device *dev)
{
	enum vfio_platform_dma_less ret = VFIO_PLATFORM_DMA_CAPABLE;
	const char *compat;
	unsigned int i;

	if (!dev->of_node ||
	    of_property_read_string_index(dev->of_node, "compatible", 0,
					  &compat))
		return ret;
	for (i = 0; i < ARRAY_SIZE(dma_less_builtin); i++)
		if (!strcmp(compat, dma_less_builtin[i]))
			return VFIO_PLATFORM_DMA_LESS;
	kernel_param_lock(THIS_MODULE);
	if (dma_less && compat_in_list(compat, dma_less))
		ret = VFIO_PLATFORM_DMA_LESS_PARAM;
	kernel_param_unlock(THIS_MODULE);
	return ret;
}

static struct vfio_platform_device *to_vpdev(struct vfio_device *core)
{
	return container_of(core, struct vfio_platform_device, vdev);
}

/*
 * The kernel mapping of region @index, made on first use (a read or write,
 * or a register reset) and kept until the device is closed.  Return: NULL
 * when the region cannot be mapped.
 */
void __iomem *vfio_platform_region_map(struct vfio_platform_device *vdev,
				       unsigned int index)
{
	struct vfio_platform_region *r = &vdev->regions[index];
	void __iomem *io;

	io = READ_ONCE(r->ioaddr);
	if (io)
		return io;
	io = ioremap(r->addr, r->size);
	if (!io)
		return NULL;
	if (cmpxchg((void **)&r->ioaddr, NULL, (void __force *)io)) {
		iounmap(io);
		io = READ_ONCE(r->ioaddr);
	}
	return io;
}

static void vfio_platform_regions_unmap(struct vfio_platform_device *vdev)
{
	unsigned int i;

	for (i = 0; i < vdev->num_regions; i++) {
		if (vdev->regions[i].ioaddr) {
			iounmap(vdev->regions[i].ioaddr);
			vdev->regions[i].ioaddr = NULL;
		}
	}
}

static bool mmap_sub_page;
module_param(mmap_sub_page, bool, 0644);
MODULE_PARM_DESC(mmap_sub_page,
		 "Map a region that ends inside a page (a 4 KiB device under 16 or 64 KiB pages) as the whole page when no known device has MMIO in the rest of it; takes effect when a device is bound. Only where that rest is known to be unused: on some SoCs an access to an address no device decodes raises an SError (default: off)");

struct vfio_platform_span {
	resource_size_t start;
	resource_size_t end;
};

static bool vfio_platform_in_span(const struct vfio_platform_span *span,
				  const struct resource *r)
{
	return resource_type(r) == IORESOURCE_MEM &&
	       r->start <= span->end && r->end >= span->start;
}

/* Whether a platform device has MMIO in the span. */
static int vfio_platform_pdev_in_span(struct device *dev, void *data)
{
	struct platform_device *pdev = to_platform_device(dev);
	unsigned int i;

	for (i = 0; i < pdev->num_resources; i++) {
		if (vfio_platform_in_span(data, &pdev->resource[i]))
			return 1;
	}
	return 0;
}

/*
 * Whether any device-tree node, enabled or not, has a register range in
 * the span: this also finds devices that never become platform devices
 * (interrupt controllers and clocks set up early, which map their
 * registers without claiming them).
 */
static bool vfio_platform_of_in_span(const struct vfio_platform_span *span)
{
#ifdef CONFIG_OF
	struct device_node *np = NULL;
	struct resource res;
	int i;

	while ((np = of_find_all_nodes(np))) {
		for (i = 0; of_get_address(np, i, NULL, NULL); i++) {
			/* I/O space, or not translatable to a CPU address. */
			if (of_address_to_resource(np, i, &res))
				continue;
			if (resource_size(&res) &&
			    vfio_platform_in_span(span, &res)) {
				of_node_put(np);
				return true;
			}
		}
	}
#endif
	return false;
}

/*
 * A claim goes into any resource that is registered but not busy: an
 * AMBA device's, a PCI BAR nobody drives.  It is ours only if every
 * resource it went into also holds the region itself.
 */
static bool vfio_platform_tail_inside_others(struct resource *tail,
					     phys_addr_t addr)
{
	struct resource *p;

	for (p = tail->parent; p && p != &iomem_resource; p = p->parent) {
		if (addr < p->start || addr > p->end)
			return true;
	}
	return false;
}

/*
 * With mmap_sub_page, a region that starts on a page boundary but ends
 * inside a page is mapped as whole pages when nothing else is known to
 * live in the rest of its last page: no device-tree node and no platform
 * device (of this device or another) has MMIO there, and the rest of the
 * page can be claimed busy and exclusive, so that no driver and no
 * /dev/mem user can take it while the region may be mapped.
 */
static bool vfio_platform_claim_tail(struct vfio_platform_device *vdev,
				     struct vfio_platform_region *r)
{
	struct vfio_platform_span span = {
		.start = r->addr + r->size,
		.end = PAGE_ALIGN(r->addr + r->size) - 1,
	};
	const char *why;

	if (!READ_ONCE(mmap_sub_page)) {
		dev_dbg(vdev->dev,
			"region at %pa ends inside a page: read/write only (see mmap_sub_page)\n",
			&r->addr);
		return false;
	}
	why = "a device-tree node has registers there";
	if (vfio_platform_of_in_span(&span))
		goto in_use;
	why = "a platform device has registers there";
	if (bus_for_each_dev(&platform_bus_type, NULL, &span,
			     vfio_platform_pdev_in_span))
		goto in_use;
	why = "it is in use";
	r->tail = request_mem_region_exclusive(span.start,
					       span.end - span.start + 1,
					       "vfio-platform sub-page");
	if (!r->tail)
		goto in_use;
	why = "it lies in another device's resource";
	if (vfio_platform_tail_inside_others(r->tail, r->addr)) {
		release_mem_region(span.start, span.end - span.start + 1);
		r->tail = NULL;
		goto in_use;
	}
	return true;

in_use:
	dev_info(vdev->dev,
		 "region at %pa is not mappable: it ends inside a page, and the rest of that page [%pa-%pa] is not free (%s)\n",
		 &r->addr, &span.start, &span.end, why);
	return false;
}

static void vfio_platform_regions_free(struct vfio_platform_device *vdev)
{
	unsigned int i;

	for (i = 0; i < vdev->num_regions; i++) {
		struct resource *tail = vdev->regions[i].tail;

		if (tail)
			release_mem_region(tail->start, resource_size(tail));
	}
	kfree(vdev->regions);
	vdev->regions = NULL;
	vdev->num_regions = 0;
}

/*
 * Reset with every userspace access to the MMIO held off: a device in reset
 * may answer an access with an SError.  Mappings are zapped first and fault
 * back in afterwards (where the kernel can zap them).
 */
static int vfio_platform_reset(struct vfio_platform_device *vdev)
{
	int ret;

	down_write(&vdev->memory_lock);
	KVMARM_VFIO_ZAP_MAPPINGS(&vdev->vdev);
	ret = vfio_platform_do_reset(vdev);
	up_write(&vdev->memory_lock);
	return ret;
}

int vfio_platform_open_device(struct vfio_device *core)
{
	struct vfio_platform_device *vdev = to_vpdev(core);
	int ret;

	ret = pm_runtime_resume_and_get(vdev->dev);
	if (ret < 0) {
		dev_err_ratelimited(vdev->dev,
				    "cannot power the device up: %d\n", ret);
		return ret;
	}
	ret = clk_bulk_prepare_enable(vdev->num_clks, vdev->clks);
	if (ret) {
		dev_err_ratelimited(vdev->dev,
				    "cannot enable the device's clocks: %d\n",
				    ret);
		goto err_pm;
	}
	if (vfio_platform_has_reset(vdev)) {
		ret = vfio_platform_reset(vdev);
		if (ret) {
			dev_err_ratelimited(vdev->dev,
					    "reset on open failed: %d\n", ret);
			goto err_clk;
		}
	}
	return 0;

err_clk:
	clk_bulk_disable_unprepare(vdev->num_clks, vdev->clks);
err_pm:
	pm_runtime_put(vdev->dev);
	return ret;
}

void vfio_platform_close_device(struct vfio_device *core)
{
	struct vfio_platform_device *vdev = to_vpdev(core);
	int ret;

	vfio_platform_irq_release_all(vdev);
	if (vfio_platform_has_reset(vdev)) {
		ret = vfio_platform_reset(vdev);
		if (ret)
			dev_warn_ratelimited(vdev->dev,
					     "reset on release failed: %d\n",
					     ret);
	}
	vfio_platform_regions_unmap(vdev);
	clk_bulk_disable_unprepare(vdev->num_clks, vdev->clks);
	pm_runtime_put(vdev->dev);
}

static long vfio_platform_ioctl_get_info(struct vfio_platform_device *vdev,
					 void __user *arg)
{
	struct vfio_device_info info;
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	/*
	 * An AMBA device is described like a platform device (MMIO regions,
	 * wired interrupts), and QEMU's vfio-platform accepts only devices
	 * that say PLATFORM: report both.
	 */
	info.flags = VFIO_DEVICE_FLAGS_PLATFORM;
	if (vdev->amba)
		info.flags |= VFIO_DEVICE_FLAGS_AMBA;
	if (vfio_platform_has_reset(vdev))
		info.flags |= VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = vdev->num_regions;
	info.num_irqs = vdev->num_irqs;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

int vfio_platform_get_region_info_caps(struct vfio_device *core,
				       struct vfio_region_info *info,
				       struct vfio_info_cap *caps)
{
	struct vfio_platform_device *vdev = to_vpdev(core);

	if (info->index >= vdev->num_regions)
		return -EINVAL;
	info->offset = VFIO_PLATFORM_INDEX_TO_OFFSET(info->index);
	info->size = vdev->regions[info->index].size;
	info->flags = vdev->regions[info->index].flags;
	info->cap_offset = 0;
	return 0;
}

/* Kernels whose VFIO core passes VFIO_DEVICE_GET_REGION_INFO on (< 6.19). */
static long vfio_platform_ioctl_region_info(struct vfio_platform_device *vdev,
					    void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct vfio_info_cap caps = {};
	struct vfio_region_info info;
	int ret;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	/* No region has capabilities: nothing follows the header. */
	ret = vfio_platform_get_region_info_caps(&vdev->vdev, &info, &caps);
	kfree(caps.buf);
	if (ret)
		return ret;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static long vfio_platform_ioctl_irq_info(struct vfio_platform_device *vdev,
					 void __user *arg)
{
	struct vfio_irq_info info;
	unsigned long minsz = offsetofend(struct vfio_irq_info, count);

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	if (info.index >= vdev->num_irqs)
		return -EINVAL;
	info.flags = vdev->irqs[info.index].flags;
	info.count = 1;
	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static long vfio_platform_ioctl_set_irqs(struct vfio_platform_device *vdev,
					 void __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_irq_set, count);
	struct vfio_irq_set hdr;
	size_t data_size = 0;
	u8 *data = NULL;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	ret = vfio_set_irqs_validate_and_prepare(&hdr,
						 hdr.index < vdev->num_irqs ? 1 : 0,
						 vdev->num_irqs, &data_size);
	if (ret)
		return ret;
	if (data_size) {
		data = memdup_user(arg + minsz, data_size);
		if (IS_ERR(data))
			return PTR_ERR(data);
	}
	mutex_lock(&vdev->igate);
	ret = vfio_platform_set_irqs(vdev, &hdr, data);
	mutex_unlock(&vdev->igate);
	kfree(data);
	return ret;
}

long vfio_platform_ioctl(struct vfio_device *core, unsigned int cmd,
			 unsigned long arg)
{
	struct vfio_platform_device *vdev = to_vpdev(core);
	void __user *uarg = (void __user *)arg;
	int ret;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return vfio_platform_ioctl_get_info(vdev, uarg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return vfio_platform_ioctl_region_info(vdev, uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return vfio_platform_ioctl_irq_info(vdev, uarg);
	case VFIO_DEVICE_SET_IRQS:
		return vfio_platform_ioctl_set_irqs(vdev, uarg);
	case VFIO_DEVICE_RESET:
		if (!vfio_platform_has_reset(vdev))
			return -EINVAL;
		mutex_lock(&vdev->igate);
		ret = vfio_platform_reset(vdev);
		mutex_unlock(&vdev->igate);
		return ret;
	}
	return -ENOTTY;
}

/*
 * One device access of @size bytes (1, 2 or 4) at @io, which takes the
 * memory lock for reading around it.  No access is wider than 32 bits:
 * 64-bit accesses to a 32-bit peripheral can raise an SError, and nothing
 * tells which take them.
 * @val holds the bytes in the device's (little-endian) order, as the
 * region's file offsets do, on either kind of CPU.
 */
static void vfio_platform_access(struct vfio_platform_device *vdev,
				 void __iomem *io, size_t size, u32 *val,
				 bool write)
{
	down_read(&vdev->memory_lock);
	switch (size) {
	case 1:
		if (write)
			writeb(*val, io);
		else
			*val = readb(io);
		break;
	case 2:
		if (write)
			writew(le16_to_cpu((__force __le16)*val), io);
		else
			*val = (__force u16)cpu_to_le16(readw(io));
		break;
	default:
		if (write)
			writel(le32_to_cpu((__force __le32)*val), io);
		else
			*val = (__force u32)cpu_to_le32(readl(io));
		break;
	}
	up_read(&vdev->memory_lock);
}

/* Between a u32 and @size bytes of user memory, in CPU byte order. */
static int vfio_platform_copy_in(u32 *val, const char __user *buf,
				 size_t size)
{
	u16 v16;
	u8 v8;

	switch (size) {
	case 1:
		if (copy_from_user(&v8, buf, 1))
			return -EFAULT;
		*val = v8;
		return 0;
	case 2:
		if (copy_from_user(&v16, buf, 2))
			return -EFAULT;
		*val = v16;
		return 0;
	}
	return copy_from_user(val, buf, 4) ? -EFAULT : 0;
}

static int vfio_platform_copy_out(char __user *buf, u32 val, size_t size)
{
	u16 v16 = val;
	u8 v8 = val;

	switch (size) {
	case 1:
		return copy_to_user(buf, &v8, 1) ? -EFAULT : 0;
	case 2:
		return copy_to_user(buf, &v16, 2) ? -EFAULT : 0;
	}
	return copy_to_user(buf, &val, 4) ? -EFAULT : 0;
}

static ssize_t vfio_platform_rw(struct vfio_platform_device *vdev,
				char __user *buf, size_t count, loff_t *ppos,
				bool write)
{
	unsigned int index = VFIO_PLATFORM_INDEX(*ppos);
	u64 off = *ppos & VFIO_PLATFORM_OFFSET_MASK;
	struct vfio_platform_region *r;
	void __iomem *io;
	size_t done = 0, sz;
	u32 val;

	if (index >= vdev->num_regions)
		return -EINVAL;
	r = &vdev->regions[index];
	if (!(r->flags & (write ? VFIO_REGION_INFO_FLAG_WRITE :
				  VFIO_REGION_INFO_FLAG_READ)))
		return -EINVAL;
	if (!count)
		return 0;
	if (off >= r->size || count > r->size - off)
		return -EINVAL;
	io = vfio_platform_region_map(vdev, index);
	if (!io) {
		dev_err_ratelimited(vdev->dev, "cannot map region %u\n",
				    index);
		return -ENOMEM;
	}

	/*
	 * The widest access that fits and is naturally aligned in the
	 * physical address space (a region need not start 4-byte aligned),
	 * one at a time; user memory is never touched under the lock.
	 */
	while (done < count) {
		u64 pos = off + done;
		u64 phys = r->addr + pos;
		size_t left = count - done;

		if (left >= 4 && !(phys % 4))
			sz = 4;
		else if (left >= 2 && !(phys % 2))
			sz = 2;
		else
			sz = 1;

		if (write) {
			if (vfio_platform_copy_in(&val, buf + done, sz))
				break;
			vfio_platform_access(vdev, io + pos, sz, &val, true);
		} else {
			vfio_platform_access(vdev, io + pos, sz, &val, false);
			if (vfio_platform_copy_out(buf + done, val, sz))
				break;
		}
		done += sz;
	}
	/* What reached the device counts, also when a copy then faulted. */
	*ppos += done;
	return done ? done : -EFAULT;
}

ssize_t vfio_platform_read(struct vfio_device *core, char __user *buf,
			   size_t count, loff_t *ppos)
{
	return vfio_platform_rw(to_vpdev(core), buf, count, ppos, false);
}

ssize_t vfio_platform_write(struct vfio_device *core, const char __user *buf,
			    size_t count, loff_t *ppos)
{
	return vfio_platform_rw(to_vpdev(core), (char __user *)buf, count,
				ppos, true);
}

/* The first page frame of a mapping, from its offset in the device file. */
static unsigned long vfio_platform_vma_pfn(struct vfio_platform_device *vdev,
					   struct vm_area_struct *vma)
{
	unsigned int index = vma->vm_pgoff >>
			     (VFIO_PLATFORM_OFFSET_SHIFT - PAGE_SHIFT);
	u64 pgoff = vma->vm_pgoff &
		    ((1ULL << (VFIO_PLATFORM_OFFSET_SHIFT - PAGE_SHIFT)) - 1);

	return (vdev->regions[index].addr >> PAGE_SHIFT) + pgoff;
}

/*
 * Mappings fault in, under the memory lock: after a reset zapped them, the
 * next access waits for the reset to end.
 */
static vm_fault_t vfio_platform_mmap_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vfio_platform_device *vdev = vma->vm_private_data;
	unsigned long pfn;
	vm_fault_t ret;

	pfn = vfio_platform_vma_pfn(vdev, vma) +
	      ((vmf->address - vma->vm_start) >> PAGE_SHIFT);
	down_read(&vdev->memory_lock);
	ret = vmf_insert_pfn(vma, vmf->address, pfn);
	up_read(&vdev->memory_lock);
	return ret;
}

static const struct vm_operations_struct vfio_platform_mmap_ops = {
	.fault = vfio_platform_mmap_fault,
#ifdef CONFIG_HAVE_IOREMAP_PROT
	.access = generic_access_phys,
#endif
};

int vfio_platform_mmap(struct vfio_device *core, struct vm_area_struct *vma)
{
	struct vfio_platform_device *vdev = to_vpdev(core);
	unsigned int index;
	struct vfio_platform_region *r;
	u64 req_len, pgoff, req_start;

	index = vma->vm_pgoff >> (VFIO_PLATFORM_OFFSET_SHIFT - PAGE_SHIFT);
	if (vma->vm_end < vma->vm_start)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (index >= vdev->num_regions)
		return -EINVAL;
	r = &vdev->regions[index];
	if (!(r->flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -EINVAL;
	if (!(r->flags & VFIO_REGION_INFO_FLAG_READ) &&
	    (vma->vm_flags & VM_READ))
		return -EINVAL;
	if (!(r->flags & VFIO_REGION_INFO_FLAG_WRITE) &&
	    (vma->vm_flags & VM_WRITE))
		return -EINVAL;

	/* Whole pages: the rest of a sub-page region's page is ours. */
	req_len = vma->vm_end - vma->vm_start;
	pgoff = vma->vm_pgoff &
		((1ULL << (VFIO_PLATFORM_OFFSET_SHIFT - PAGE_SHIFT)) - 1);
	req_start = pgoff << PAGE_SHIFT;
	if (req_start >= PAGE_ALIGN(r->size) ||
	    req_len > PAGE_ALIGN(r->size) - req_start)
		return -EINVAL;

	/* What the region does not allow, mprotect() must not add later. */
	if (!(r->flags & VFIO_REGION_INFO_FLAG_READ))
		vm_flags_clear(vma, VM_MAYREAD);
	if (!(r->flags & VFIO_REGION_INFO_FLAG_WRITE))
		vm_flags_clear(vma, VM_MAYWRITE);

	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND |
				 VM_DONTDUMP);
	vma->vm_private_data = vdev;
	if (KVMARM_VFIO_CAN_ZAP) {
		vma->vm_ops = &vfio_platform_mmap_ops;
		return 0;
	}
	return io_remap_pfn_range(vma, vma->vm_start,
				  vfio_platform_vma_pfn(vdev, vma), req_len,
				  vma->vm_page_prot);
}

void vfio_platform_release(struct vfio_device *core)
{
	struct vfio_platform_device *vdev = to_vpdev(core);

	vfio_platform_irq_cleanup(vdev);
	vfio_platform_regions_free(vdev);
	if (vdev->num_clks > 0)
		clk_bulk_put_all(vdev->num_clks, vdev->clks);
	vdev->num_clks = 0;
	reset_control_put(vdev->rstc);
	vdev->rstc = NULL;
	mutex_destroy(&vdev->igate);
	KVMARM_VFIO_RELEASE_FREE(core);
}

/**
 * vfio_platform_admit() - whether a device may be passed through, and how
 * @dev:            the platform or AMBA device about to be bound
 * @emulated_iommu: set when the device is admitted without an IOMMU
 *
 * A device in an IOMMU group is driven through its IOMMU.  A device without
 * one is admitted only when it cannot master DMA, with an emulated IOMMU.
 * The front-end allocates the VFIO device with its operations for that
 * case: they differ in their iommufd callbacks.
 *
 * Return: 0, or -EPERM when the device is refused (logged).
 */
int vfio_platform_admit(struct device *dev, bool *emulated_iommu)
{
	if (device_iommu_mapped(dev)) {
		*emulated_iommu = false;
		return 0;
	}
	if (vfio_platform_dma_less(dev) != VFIO_PLATFORM_DMA_CAPABLE) {
		*emulated_iommu = true;
		return 0;
	}
	dev_err(dev,
		"no IOMMU group and not known to be DMA-less: refusing passthrough (if it cannot master DMA, add its most specific compatible to the vfio_platform dma_less parameter)\n");
	return -EPERM;
}

static int vfio_platform_regions_init(struct vfio_platform_device *vdev)
{
	struct resource *res;
	unsigned int i, n = 0;

	while (vdev->get_resource(vdev, n, &res) == 0)
		n++;
	if (!n)
		return 0;
	vdev->regions = kcalloc(n, sizeof(*vdev->regions), GFP_KERNEL);
	if (!vdev->regions)
		return -ENOMEM;
	vdev->num_regions = n;
	for (i = 0; i < n; i++) {
		struct vfio_platform_region *r = &vdev->regions[i];

		vdev->get_resource(vdev, i, &res);
		r->addr = res->start;
		r->size = resource_size(res);
		r->flags = VFIO_REGION_INFO_FLAG_READ;
		if (!(res->flags & IORESOURCE_READONLY))
			r->flags |= VFIO_REGION_INFO_FLAG_WRITE;
		if (!PAGE_ALIGNED(r->addr) || !r->size)
			continue;
		if (PAGE_ALIGNED(r->size) || vfio_platform_claim_tail(vdev, r))
			r->flags |= VFIO_REGION_INFO_FLAG_MMAP;
	}
	return 0;
}

/*
 * A reset through a reset controller or ACPI may hold the device in reset
 * for a while; accesses then raise an SError.  Where the kernel cannot zap
 * userspace mappings around it (before 6.10), the regions of such a device
 * are read/write only, so that every access waits for the reset.
 */
static void vfio_platform_regions_check_mmap(struct vfio_platform_device *vdev)
{
	unsigned int i;

	if (KVMARM_VFIO_CAN_ZAP || (!vdev->rstc && !vdev->acpi_reset))
		return;
	for (i = 0; i < vdev->num_regions; i++) {
		if (!(vdev->regions[i].flags & VFIO_REGION_INFO_FLAG_MMAP))
			continue;
		vdev->regions[i].flags &= ~VFIO_REGION_INFO_FLAG_MMAP;
		dev_info(vdev->dev,
			 "region %u: read/write only, as this kernel cannot unmap it around a reset\n",
			 i);
	}
}

/**
 * vfio_platform_probe_common() - set up and register a bound device
 * @vdev: allocated with vfio_alloc_device() and the front-end's operations
 *        for what vfio_platform_admit() said, @emulated_iommu,
 *        @get_resource and @get_irq set
 * @dev:  the platform or AMBA device, with runtime PM enabled (the AMBA bus
 *        does it, a platform driver itself)
 *
 * A device without a reset is refused unless the reset_required parameter
 * is off.
 *
 * Return: 0 or a negative errno; on error @vdev is left to the caller to put.
 */
int vfio_platform_probe_common(struct vfio_platform_device *vdev,
			       struct device *dev)
{
	int ret;

	vdev->dev = dev;
	mutex_init(&vdev->igate);
	init_rwsem(&vdev->memory_lock);

	ret = vfio_platform_regions_init(vdev);
	if (ret)
		return ret;
	ret = vfio_platform_irq_init(vdev);
	if (ret)
		return ret;
	ret = vfio_platform_reset_init(vdev);
	if (ret)
		return ret;
	vfio_platform_regions_check_mmap(vdev);
	if (!vfio_platform_has_reset(vdev) && READ_ONCE(reset_required)) {
		dev_err(dev,
			"no reset for this device (reset controller, ACPI _RST or a built-in handler): refusing passthrough, as userspace could hand it back running (vfio_platform reset_required=0 admits it)\n");
		return -EINVAL;
	}

	ret = clk_bulk_get_all(dev, &vdev->clks);
	if (ret < 0) {
		dev_err(dev, "cannot get the device's clocks: %d\n", ret);
		return ret;
	}
	vdev->num_clks = ret;

	if (vdev->emulated_iommu)
		ret = vfio_register_emulated_iommu_dev(&vdev->vdev);
	else
		ret = vfio_register_group_dev(&vdev->vdev);
	if (ret) {
		dev_err(dev, "cannot register the VFIO device: %d\n", ret);
		return ret;
	}
	if (vdev->emulated_iommu &&
	    vfio_platform_dma_less(dev) == VFIO_PLATFORM_DMA_LESS_PARAM) {
		dev_warn(dev,
			 "admitted without an IOMMU on the word of the dma_less parameter (%pOF): if it can master DMA, userspace owns all of memory; tainting the kernel\n",
			 dev->of_node);
		add_taint(TAINT_USER, LOCKDEP_STILL_OK);
	}
	dev_info(dev, "%s: %u region(s), %u IRQ(s)%s%s\n",
		 vdev->amba ? "vfio-amba" : "vfio-platform",
		 vdev->num_regions, vdev->num_irqs,
		 vfio_platform_has_reset(vdev) ? ", reset" : "",
		 vdev->emulated_iommu ? ", DMA-less (no IOMMU)" : "");
	return 0;
}

void vfio_platform_remove_common(struct vfio_platform_device *vdev)
{
	vfio_unregister_group_dev(&vdev->vdev);
}

/*
 * The host view of the device, for a VMM building the guest's device-tree
 * node without per-device code.  One item per line:
 *   compatible <string>          (one line per compatible, in order)
 *   region <index> <phys> <size> (hex)
 *   irq <index> <edge|level> <high|low|both>
 */
static ssize_t vfio_platform_info_show(struct device *dev,
				       struct device_attribute *attr,
				       char *buf)
{
	struct vfio_platform_device *vdev = dev_get_drvdata(dev);
	const char *compat;
	struct property *prop;
	unsigned int i;
	int len = 0;

	if (!vdev)
		return -ENODEV;
	of_property_for_each_string(dev->of_node, "compatible", prop, compat)
		len += sysfs_emit_at(buf, len, "compatible %s\n", compat);
	for (i = 0; i < vdev->num_regions; i++)
		len += sysfs_emit_at(buf, len, "region %u %#llx %#llx\n", i,
				     (unsigned long long)vdev->regions[i].addr,
				     (unsigned long long)vdev->regions[i].size);
	for (i = 0; i < vdev->num_irqs; i++) {
		u32 type = irq_get_trigger_type(vdev->irqs[i].hwirq);
		const char *pol;

		if (type & IRQ_TYPE_LEVEL_MASK)
			pol = type & IRQ_TYPE_LEVEL_LOW ? "low" : "high";
		else if ((type & IRQ_TYPE_EDGE_BOTH) == IRQ_TYPE_EDGE_BOTH)
			pol = "both";
		else
			pol = type & IRQ_TYPE_EDGE_FALLING ? "low" : "high";
		len += sysfs_emit_at(buf, len, "irq %u %s %s\n", i,
				     vdev->irqs[i].level ? "level" : "edge",
				     pol);
	}
	return len;
}
static DEVICE_ATTR_RO(vfio_platform_info);

static struct attribute *vfio_platform_dev_attrs[] = {
	&dev_attr_vfio_platform_info.attr,
	NULL,
};

static const struct attribute_group vfio_platform_dev_group = {
	.attrs = vfio_platform_dev_attrs,
};

const struct attribute_group *vfio_platform_dev_groups[] = {
	&vfio_platform_dev_group,
	NULL,
};
