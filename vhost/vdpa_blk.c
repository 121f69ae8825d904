// SPDX-License-Identifier: GPL-2.0
/*
 * vdpa-blk: the in-kernel virtio-blk datapath as a vDPA device.
 *
 * A management device, "kvmarm-blk", creates virtio-blk devices on the
 * vDPA bus ("vdpa dev add name NAME mgmtdev kvmarm-blk") whose backing is
 * configured beforehand in configfs, /sys/kernel/config/kvmarm-blk/NAME/.
 * vhost_vdpa hands such a device to a VMM (QEMU's vhost-vdpa-device-pci,
 * libblkio's virtio-blk-vhost-vdpa), virtio_vdpa to the host's own
 * virtio_blk.
 *
 * The split virtqueues and the buffers live in guest memory that the
 * driver reaches the device through: with vhost_vdpa the ranges of pinned
 * pages that dma_map() passes, with virtio_vdpa the host's DMA addresses,
 * which for this device are physical addresses.  The rings are mapped
 * into the kernel with vmap(), buffers become bio_vecs of their pages, and
 * the requests run in vblk_core, as those of /dev/vhost-blk do: zero copy
 * into asynchronous kiocbs on the backing file or block device.
 *
 * Each queue has a work item on an unbound workqueue that takes new
 * requests and returns finished ones; a driver fault (a descriptor that
 * loops, an address outside the IOTLB, an index out of range) stops that
 * queue with an error and sets DEVICE_NEEDS_RESET, the other queues go on.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/configfs.h>
#include <linux/dma-mapping.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/rwsem.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/vblk_core.h>
#include <linux/vdpa.h>
#include <linux/vhost_iotlb.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <uapi/linux/vdpa.h>

#include "kvmarm_compat.h"

#if !IS_ENABLED(CONFIG_VHOST_IOTLB) || !IS_ENABLED(CONFIG_CONFIGFS_FS)
#error "vdpa-blk needs CONFIG_VHOST_IOTLB and CONFIG_CONFIGFS_FS"
#endif
/* A bio_vec spans physically contiguous pages: consecutive struct pages. */
#if defined(CONFIG_SPARSEMEM) && !defined(CONFIG_SPARSEMEM_VMEMMAP)
#error "vdpa-blk needs a virtually contiguous memory map (SPARSEMEM_VMEMMAP)"
#endif

#define VDPA_BLK_NAME		"kvmarm-blk"
#define VDPA_BLK_MAX_VQS	16
/* Ring entries; QEMU programs 1024. */
#define VDPA_BLK_VQ_NUM_MAX	1024
/* Requests a queue starts per turn of its work. */
#define VDPA_BLK_WEIGHT		256
/* Physically contiguous pieces of one request: header, segments, status. */
#define VDPA_BLK_MAX_BVECS	1024UL

#define VDPA_BLK_FEATURES	((1ULL << VIRTIO_F_VERSION_1) |		\
				 (1ULL << VIRTIO_F_ACCESS_PLATFORM) |	\
				 (1ULL << VIRTIO_RING_F_EVENT_IDX) |	\
				 (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |\
				 VBLK_FEATURES)

/* Settings of one device to be, under /sys/kernel/config/kvmarm-blk/. */
struct vdpa_blk_cfg {
	struct config_item item;
	struct mutex lock;		/* everything below */
	char *path;			/* of @file */
	struct file *file;
	bool ro;
	bool direct;
	unsigned int num_queues;
	bool in_use;			/* a device was added with it */
};

/*
 * A range of guest memory that vhost_vdpa mapped (dma_map()), with a
 * reference to each folio of its pages.  Whatever is translated through it
 * holds a reference to it, so that its pages stay as long as a request or
 * a ring map uses them, also after vhost_vdpa unmapped and unpinned them.
 */
struct vdpa_blk_range {
	struct kref ref;
	bool dead;			/* unmapped (under iotlb_lock) */
	u64 addr;			/* physical */
	u64 size;
	struct work_struct release;	/* of the pages, off the datapath */
};

/* A ring area mapped into the kernel. */
struct vdpa_blk_area {
	void *vaddr;			/* of the area, not of the vmap */
	struct page **pages;
	struct vdpa_blk_range **rv;	/* per piece (NULL: identity mode) */
	unsigned int npieces;
};

struct vdpa_blk;

struct vdpa_blk_vq {
	struct vdpa_blk *blk;
	unsigned int index;
	struct mutex mutex;		/* everything below but @done */
	struct work_struct work;
	struct llist_head done;		/* finished requests */
	atomic_t inflight;

	u64 desc_addr;
	u64 driver_addr;
	u64 device_addr;
	u32 num;
	bool ready;
	bool running;			/* rings mapped, requests taken */
	bool broken;			/* a driver fault stopped it */
	struct vdpa_callback cb;

	struct vring vring;		/* kernel view of the rings */
	struct vdpa_blk_area areas[3];	/* desc, avail, used */
	u64 area_addr[3];		/* where they were mapped from */
	u16 last_avail_idx;
	u16 last_used_idx;
	u16 signalled_used;
	bool signalled_used_valid;
	bool used_pending;		/* used entries not yet signalled */
	struct bio_vec *bv;		/* VDPA_BLK_MAX_BVECS, for the work */
	struct vdpa_blk_range **rv;	/* their ranges, as many */
};

struct vdpa_blk {
	struct vdpa_device vdpa;
	struct vdpa_blk_cfg *cfg;
	struct vblk_disk disk;
	unsigned int nvqs;
	struct mutex lock;		/* status, features, config, suspend */
	/* @identity; held for writing, it keeps the queues' work out */
	struct rw_semaphore map_lock;
	spinlock_t iotlb_lock;		/* @iotlb, the ranges' @dead */
	struct vhost_iotlb *iotlb;	/* from dma_map(), opaque: a range */
	bool identity;			/* addresses are physical (virtio_vdpa) */
	bool suspended;
	bool pinned;			/* holds a module reference */
	bool needs_reset;		/* a queue is broken */
	u8 status;
	u64 features;			/* offered */
	u64 driver_features;
	spinlock_t cb_lock;		/* @config_cb */
	struct vdpa_callback config_cb;
	atomic_t inflight;
	wait_queue_head_t inflight_wq;
	struct vdpa_blk_vq vqs[VDPA_BLK_MAX_VQS];
};

struct vdpa_blk_req {
	struct vblk_req req;
	struct vdpa_blk_vq *vq;
	u16 head;
	u8 *status;			/* in guest memory */
	struct vdpa_blk_range *status_range;
	struct vdpa_blk_range **rv;	/* of each piece, after @bv */
	unsigned int nbv;
	struct bio_vec bv[];
};

static struct workqueue_struct *vdpa_blk_wq;

static struct vdpa_blk *vdpa_to_blk(struct vdpa_device *vdpa)
{
	return container_of(vdpa, struct vdpa_blk, vdpa);
}

static bool vdpa_blk_has(struct vdpa_blk *b, unsigned int bit)
{
	return b->driver_features & BIT_ULL(bit);
}

/* The split ring's fields are little-endian: only VERSION_1 is offered. */
static u16 vdpa_blk_read16(const __virtio16 *p)
{
	return le16_to_cpu((__force __le16)READ_ONCE(*p));
}

static void vdpa_blk_write16(__virtio16 *p, u16 v)
{
	WRITE_ONCE(*p, (__force __virtio16)cpu_to_le16(v));
}

/* Guest memory */

/*
 * Guest pages are held by references of ours: a range takes one to each
 * folio of its pages when it is mapped, and drops them when it goes.
 * vhost_vdpa unpins the pages of an unmapped range before it tells the
 * device, and a VMM may free them at once: what was translated through a
 * range holds the range.  Nothing is held in identity mode: the host's own
 * driver owns that memory.
 */
static void vdpa_blk_get_folios(u64 addr, u64 size)
{
	unsigned long pfn = PHYS_PFN(addr), last = PHYS_PFN(addr + size - 1);
	struct folio *folio;

	/* vhost_vdpa's pins keep the folios whole; then our references. */
	while (pfn <= last) {
		folio = page_folio(pfn_to_page(pfn));
		folio_get(folio);
		pfn = folio_pfn(folio) + folio_nr_pages(folio);
		cond_resched();
	}
}

static void vdpa_blk_put_folios(u64 addr, u64 size)
{
	unsigned long pfn = PHYS_PFN(addr), last = PHYS_PFN(addr + size - 1);
	struct folio *folio;

	while (pfn <= last) {
		folio = page_folio(pfn_to_page(pfn));
		/* Before the put, which may free it. */
		pfn = folio_pfn(folio) + folio_nr_pages(folio);
		folio_put(folio);
		cond_resched();
	}
}

static void vdpa_blk_range_free(struct work_struct *work)
{
	struct vdpa_blk_range *r = container_of(work, struct vdpa_blk_range,
						release);

	vdpa_blk_put_folios(r->addr, r->size);
	kfree(r);
}

/*
 * The last reference went: a range of many GiB has millions of folios,
 * which are let go on the workqueue, not in a queue's work that holds its
 * locks (the workqueue is drained before the module goes).
 */
static void vdpa_blk_range_release(struct kref *ref)
{
	struct vdpa_blk_range *r = container_of(ref, struct vdpa_blk_range,
						ref);

	INIT_WORK(&r->release, vdpa_blk_range_free);
	queue_work(vdpa_blk_wq, &r->release);
}

static void vdpa_blk_range_put(struct vdpa_blk_range *r)
{
	if (r)
		kref_put(&r->ref, vdpa_blk_range_release);
}

static void vdpa_blk_ranges_put(struct vdpa_blk_range **rv, unsigned int n)
{
	while (n--)
		vdpa_blk_range_put(rv[n]);
}

/*
 * Drop the ranges that meet [@start, @last].  Lookups see them gone at
 * once; their pages go with the last of what was translated through them.
 */
static void vdpa_blk_iotlb_del(struct vdpa_blk *b, u64 start, u64 last)
{
	struct vhost_iotlb_map *map;
	struct vdpa_blk_range *r;
	bool found = false;

	if (!b->iotlb)
		return;		/* a device that was never complete */
	for (;;) {
		spin_lock(&b->iotlb_lock);
		map = vhost_iotlb_itree_first(b->iotlb, start, last);
		r = map ? map->opaque : NULL;
		if (map) {
			vhost_iotlb_map_free(b->iotlb, map);
			/* Rings in it are mapped again before their next use. */
			WRITE_ONCE(r->dead, true);
		}
		spin_unlock(&b->iotlb_lock);
		if (!r)
			break;
		found = true;
		vdpa_blk_range_put(r);
	}
	if (found)
		dev_dbg(&b->vdpa.dev, "unmapped %#llx-%#llx\n", start, last);
}

/*
 * Translate the driver's [@addr, @addr + @len) into bio_vecs, one per
 * physically contiguous piece (pages of a piece are consecutive in the
 * memory map: SPARSEMEM_VMEMMAP), appended to @bv from *@n on, at most
 * @max, and the range of each piece, referenced, to @rv (NULL in identity
 * mode): the caller drops them with vdpa_blk_ranges_put() when it is done
 * with the pages, also on error.  @bv NULL only checks.  @perm is what the
 * device does there: VHOST_MAP_RO to read, VHOST_MAP_WO to write.
 *
 * Return: 0, -EFAULT for an address outside the IOTLB or not RAM, -EPERM
 * for a mapping without @perm, -E2BIG beyond @max pieces.
 */
static int vdpa_blk_xlate(struct vdpa_blk *b, u64 addr, u64 len, u32 perm,
			  struct bio_vec *bv, struct vdpa_blk_range **rv,
			  unsigned int *n, unsigned int max)
{
	struct vdpa_blk_range *r = NULL;
	struct vhost_iotlb_map *map;
	unsigned int pieces = 0, i;
	u64 pa, chunk, piece;
	u32 mperm = 0;

	if (len && addr + len - 1 < addr)
		return -EFAULT;
	while (len) {
		/* bv_len is an unsigned int: pieces of at most 1 GiB */
		if (b->identity) {
			pa = addr;
			chunk = len;
			if (!pfn_valid(PHYS_PFN(pa)) ||
			    !pfn_valid(PHYS_PFN(pa + chunk - 1)))
				return -EFAULT;
			if (bv)
				pieces = min_t(u64, DIV_ROUND_UP_ULL(chunk, SZ_1G),
					       max - *n);
		} else {
			/* Every page of a range is RAM (see its mapping). */
			spin_lock(&b->iotlb_lock);
			map = vhost_iotlb_itree_first(b->iotlb, addr, addr);
			if (map) {
				mperm = map->perm;
				pa = map->addr + (addr - map->start);
				chunk = min(len - 1, map->last - addr) + 1;
				r = map->opaque;
				pieces = 0;
				if (bv && (mperm & perm) == perm)
					pieces = min_t(u64,
						       DIV_ROUND_UP_ULL(chunk, SZ_1G),
						       max - *n);
				/* One per piece; the tree holds one. */
				if (pieces)
					refcount_add(pieces, &r->ref.refcount);
			}
			spin_unlock(&b->iotlb_lock);
			if (!map)
				return -EFAULT;
			if ((mperm & perm) != perm)
				return -EPERM;
		}
		addr += chunk;
		len -= chunk;
		if (!bv)
			continue;
		if (!pieces)
			return -E2BIG;
		for (i = 0; i < pieces; i++, chunk -= piece, pa += piece) {
			piece = min_t(u64, chunk, SZ_1G);
			bvec_set_page(&bv[*n], pfn_to_page(PHYS_PFN(pa)), piece,
				      offset_in_page(pa));
			rv[(*n)++] = r;
		}
		if (chunk)
			return -E2BIG;
	}
	return 0;
}

/*
 * Where the driver's byte at @addr is, for the device to write it; *@r
 * holds its page (vdpa_blk_range_put() when done).
 */
static u8 *vdpa_blk_byte(struct vdpa_blk *b, u64 addr,
			 struct vdpa_blk_range **r)
{
	struct bio_vec bv;
	unsigned int n = 0;

	*r = NULL;
	if (vdpa_blk_xlate(b, addr, 1, VHOST_MAP_WO, &bv, r, &n, 1))
		return NULL;
	return page_address(bv.bv_page) + bv.bv_offset;
}

/* Copy @len bytes from the driver's @addr (an indirect descriptor). */
static int vdpa_blk_read_mem(struct vdpa_blk *b, u64 addr, void *buf,
			     size_t len)
{
	struct vdpa_blk_range *rv[2];
	struct bio_vec bv[2];
	unsigned int n = 0, i;
	int ret;

	ret = vdpa_blk_xlate(b, addr, len, VHOST_MAP_RO, bv, rv, &n,
			     ARRAY_SIZE(bv));
	for (i = 0; !ret && i < n; i++) {
		memcpy(buf, page_address(bv[i].bv_page) + bv[i].bv_offset,
		       bv[i].bv_len);
		buf += bv[i].bv_len;
	}
	vdpa_blk_ranges_put(rv, n);
	return ret;
}

static void vdpa_blk_unmap_area(struct vdpa_blk_area *a)
{
	if (a->vaddr)
		vunmap((void *)((unsigned long)a->vaddr & PAGE_MASK));
	if (a->rv)
		vdpa_blk_ranges_put(a->rv, a->npieces);
	kfree(a->pages);
	kfree(a->rv);
	memset(a, 0, sizeof(*a));
}

/*
 * Map the ring area [@addr, @addr + @size) into the kernel, read-only
 * unless the device writes it.  Its pieces must be whole pages but the
 * first's start and the last's end, so that one vmap() shows it as it is.
 */
static int vdpa_blk_map_area(struct vdpa_blk *b, struct vdpa_blk_area *a,
			     u64 addr, u64 size, u32 perm)
{
	unsigned int i, k, np = 0;
	unsigned int max = DIV_ROUND_UP(size, PAGE_SIZE) + 1;
	struct bio_vec *bv;
	void *v;
	int ret;

	memset(a, 0, sizeof(*a));
	bv = kmalloc_array(max, sizeof(*bv), GFP_KERNEL);
	a->pages = kmalloc_array(max, sizeof(*a->pages), GFP_KERNEL);
	a->rv = kmalloc_array(max, sizeof(*a->rv), GFP_KERNEL);
	ret = -ENOMEM;
	if (!bv || !a->pages || !a->rv)
		goto err;
	ret = vdpa_blk_xlate(b, addr, size, perm, bv, a->rv, &a->npieces,
			     max);
	if (ret)
		goto err;
	for (i = 0; i < a->npieces; i++) {
		if ((i && bv[i].bv_offset) ||
		    (i < a->npieces - 1 &&
		     (bv[i].bv_offset + bv[i].bv_len) % PAGE_SIZE)) {
			ret = -EFAULT;
			goto err;
		}
		for (k = 0; k < DIV_ROUND_UP(bv[i].bv_offset + bv[i].bv_len,
					     PAGE_SIZE); k++) {
			if (np == max) {
				ret = -EFAULT;
				goto err;
			}
			a->pages[np++] = pfn_to_page(page_to_pfn(bv[i].bv_page) + k);
		}
	}
	v = vmap(a->pages, np, VM_MAP,
		 perm == VHOST_MAP_RO ? PAGE_KERNEL_RO : PAGE_KERNEL);
	if (!v) {
		ret = -ENOMEM;
		goto err;
	}
	a->vaddr = v + bv[0].bv_offset;
	kfree(bv);
	return 0;
err:
	kfree(bv);
	vdpa_blk_unmap_area(a);
	return ret;
}

/* Queues */

__printf(2, 3)
static void vdpa_blk_vq_fault(struct vdpa_blk_vq *vq, const char *fmt, ...)
{
	struct vdpa_blk *b = vq->blk;
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	dev_err_ratelimited(&b->vdpa.dev, "queue %u stopped: %pV\n",
			    vq->index, &vaf);
	va_end(args);
	vq->broken = true;
	/* Tell the driver; its other queues go on. */
	WRITE_ONCE(b->needs_reset, true);
	spin_lock(&b->cb_lock);
	if (b->config_cb.callback)
		b->config_cb.callback(b->config_cb.private);
	spin_unlock(&b->cb_lock);
}

static void vdpa_blk_vq_unmap(struct vdpa_blk_vq *vq)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(vq->areas); i++)
		vdpa_blk_unmap_area(&vq->areas[i]);
	memset(&vq->vring, 0, sizeof(vq->vring));
	vq->running = false;
}

/*
 * Map the three ring areas of @num entries at vq->area_addr into @areas
 * (vq->mutex held).
 */
static int vdpa_blk_vq_map_rings(struct vdpa_blk_vq *vq, u32 num,
				 struct vdpa_blk_area *areas)
{
	struct vdpa_blk *b = vq->blk;
	int ret, i;

	lockdep_assert_held(&vq->mutex);
	ret = vdpa_blk_map_area(b, &areas[0], vq->area_addr[0],
				num * sizeof(struct vring_desc), VHOST_MAP_RO);
	if (!ret)
		ret = vdpa_blk_map_area(b, &areas[1], vq->area_addr[1],
					struct_size_t(struct vring_avail, ring,
						      num + 1), VHOST_MAP_RO);
	if (!ret)
		ret = vdpa_blk_map_area(b, &areas[2], vq->area_addr[2],
					struct_size_t(struct vring_used, ring,
						      num) + sizeof(__virtio16),
					VHOST_MAP_RW);
	if (ret)
		for (i = 0; i < ARRAY_SIZE(vq->areas); i++)
			vdpa_blk_unmap_area(&areas[i]);
	return ret;
}

static void vdpa_blk_vq_set_rings(struct vdpa_blk_vq *vq, u32 num,
				  struct vdpa_blk_area *areas)
{
	memcpy(vq->areas, areas, sizeof(vq->areas));
	vq->vring.num = num;
	vq->vring.desc = vq->areas[0].vaddr;
	vq->vring.avail = vq->areas[1].vaddr;
	vq->vring.used = vq->areas[2].vaddr;
	vq->running = true;
}

/*
 * Map the rings of a ready queue and start taking requests (map_lock
 * held for writing, vq->mutex held).  Their size and addresses are kept
 * from here on, whatever the driver sets meanwhile, until the next start.
 */
static void vdpa_blk_vq_map(struct vdpa_blk_vq *vq)
{
	struct vdpa_blk_area areas[ARRAY_SIZE(vq->areas)] = {};
	u32 num = vq->num;
	int ret;

	lockdep_assert_held_write(&vq->blk->map_lock);
	lockdep_assert_held(&vq->mutex);
	vdpa_blk_vq_unmap(vq);
	if (!vq->ready || vq->broken)
		return;
	if (!num || num > VDPA_BLK_VQ_NUM_MAX || !is_power_of_2(num)) {
		vdpa_blk_vq_fault(vq, "bad ring size %u", num);
		return;
	}
	if (!IS_ALIGNED(vq->desc_addr, 16) || !IS_ALIGNED(vq->driver_addr, 2) ||
	    !IS_ALIGNED(vq->device_addr, 4)) {
		vdpa_blk_vq_fault(vq, "misaligned rings %#llx %#llx %#llx",
				  vq->desc_addr, vq->driver_addr,
				  vq->device_addr);
		return;
	}
	vq->area_addr[0] = vq->desc_addr;
	vq->area_addr[1] = vq->driver_addr;
	vq->area_addr[2] = vq->device_addr;
	ret = vdpa_blk_vq_map_rings(vq, num, areas);
	if (ret) {
		vdpa_blk_vq_fault(vq, "rings at %#llx %#llx %#llx not in guest memory (%d)",
				  vq->desc_addr, vq->driver_addr,
				  vq->device_addr, ret);
		return;
	}
	vdpa_blk_vq_set_rings(vq, num, areas);
}

/* Whether a range the rings were mapped from was unmapped since. */
static bool vdpa_blk_vq_rings_stale(struct vdpa_blk_vq *vq)
{
	struct vdpa_blk_area *a;
	unsigned int k;

	for (a = vq->areas; a < vq->areas + ARRAY_SIZE(vq->areas); a++)
		for (k = 0; k < a->npieces; k++)
			if (a->rv[k] && READ_ONCE(a->rv[k]->dead))
				return true;
	return false;
}

/*
 * Before a running queue touches its rings: if a range they were mapped
 * from was unmapped, map them again from the IOTLB as it is now (map_lock
 * held for reading, vq->mutex held).  Rings that are no longer all there
 * stop the queue, as any address outside the IOTLB does.  A VMM that
 * moves guest memory the queues use suspends the device first: vhost_vdpa
 * hands a batch of IOTLB updates to the device one by one.
 *
 * Return: 0, or -ENOMEM: the rings must not be used in this turn, the
 * queue's work runs again.
 */
static int vdpa_blk_vq_refresh(struct vdpa_blk_vq *vq)
{
	struct vdpa_blk_area areas[ARRAY_SIZE(vq->areas)] = {};
	u32 num = vq->vring.num;
	int ret;

	lockdep_assert_held_read(&vq->blk->map_lock);
	lockdep_assert_held(&vq->mutex);
	if (!vq->running || !vdpa_blk_vq_rings_stale(vq))
		return 0;
	ret = vdpa_blk_vq_map_rings(vq, num, areas);
	if (ret == -ENOMEM) {
		queue_work(vdpa_blk_wq, &vq->work);
		return ret;
	}
	vdpa_blk_vq_unmap(vq);
	if (ret) {
		vdpa_blk_vq_fault(vq, "rings at %#llx %#llx %#llx unmapped while in use (%d)",
				  vq->area_addr[0], vq->area_addr[1],
				  vq->area_addr[2], ret);
		return 0;
	}
	vdpa_blk_vq_set_rings(vq, num, areas);
	return 0;
}

/* Return a request's buffers to the driver and drop it (vq->mutex held). */
static void vdpa_blk_req_done(struct vdpa_blk_req *r)
{
	struct vdpa_blk_vq *vq = r->vq;
	struct vdpa_blk *b = vq->blk;
	struct vring_used_elem *e;

	lockdep_assert_held(&vq->mutex);
	if (vq->running) {
		if (r->status)
			WRITE_ONCE(*r->status, r->req.status);
		e = &vq->vring.used->ring[vq->last_used_idx &
					  (vq->vring.num - 1)];
		WRITE_ONCE(e->id, (__force __virtio32)cpu_to_le32(r->head));
		WRITE_ONCE(e->len,
			   (__force __virtio32)cpu_to_le32(r->req.used_len));
		/* The entry before the index, as the driver reads them. */
		smp_wmb();
		vdpa_blk_write16(&vq->vring.used->idx, ++vq->last_used_idx);
		vq->used_pending = true;
	}
	vdpa_blk_range_put(r->status_range);
	vdpa_blk_ranges_put(r->rv, r->nbv);
	kvfree(r);
	if ((atomic_dec_and_test(&vq->inflight) |
	     atomic_dec_and_test(&b->inflight)) &&
	    wq_has_sleeper(&b->inflight_wq))
		wake_up_all(&b->inflight_wq);
}

/* Interrupt the driver if it wants to hear of the new used entries. */
static void vdpa_blk_signal(struct vdpa_blk_vq *vq)
{
	u16 old = vq->signalled_used, new = vq->last_used_idx;
	struct vring *vr = &vq->vring;
	bool notify;

	if (!vq->used_pending || !vq->running)
		return;
	vq->used_pending = false;
	/* The used index before the driver's wishes (pairs with the driver's). */
	smp_mb();
	if (vdpa_blk_has(vq->blk, VIRTIO_RING_F_EVENT_IDX)) {
		notify = !vq->signalled_used_valid ||
			 vring_need_event(vdpa_blk_read16(&vr->avail->ring[vr->num]),
					  new, old);
		vq->signalled_used = new;
		vq->signalled_used_valid = true;
	} else {
		notify = !(vdpa_blk_read16(&vr->avail->flags) &
			   VRING_AVAIL_F_NO_INTERRUPT);
	}
	if (notify && vq->cb.callback) {
		local_bh_disable();
		vq->cb.callback(vq->cb.private);
		local_bh_enable();
	}
}

/*
 * A request that vblk_req_start() queued finished, possibly in interrupt
 * context: the queue's work returns it.  Once it is on the done list it
 * may be freed at any time; the RCU read side keeps the device alive until
 * this returns (see vdpa_blk_drain()).
 */
static void vdpa_blk_complete(struct vblk_req *req)
{
	struct vdpa_blk_req *r = container_of(req, struct vdpa_blk_req, req);
	struct vdpa_blk_vq *vq = r->vq;

	rcu_read_lock();
	if (llist_add(&req->node, &vq->done))
		queue_work(vdpa_blk_wq, &vq->work);
	rcu_read_unlock();
}

/* A descriptor chain, read by vdpa_blk_get_chain(). */
struct vdpa_blk_chain {
	unsigned int n;			/* pieces in vq->bv */
	unsigned int out;		/* readable ones, first */
	size_t out_len;
	size_t in_len;
	u64 status;			/* address of the last writable byte */
	bool too_big;			/* more pieces than VDPA_BLK_MAX_BVECS */
};

/*
 * Read the descriptor chain at @head into vq->bv: the readable pieces
 * first, then the writable ones.  A chain of more pieces than the device
 * takes is still walked and checked, for its status byte.
 *
 * Return: 0, or a negative error for a driver fault (reported, the queue
 * is broken).
 */
static int vdpa_blk_get_chain(struct vdpa_blk_vq *vq, u16 head,
			      struct vdpa_blk_chain *c)
{
	struct vdpa_blk *b = vq->blk;
	struct vring_desc d, *table = vq->vring.desc;
	unsigned int count = 0, size = vq->vring.num, i = head;
	u64 table_addr = 0, addr;
	bool indirect = false;
	u32 perm, len;
	u16 flags;
	int ret;

	memset(c, 0, sizeof(*c));
	c->status = U64_MAX;
	for (;;) {
		if (++count > size) {
			vdpa_blk_vq_fault(vq, "descriptor chain at %u loops or is longer than %u",
					  head, size);
			return -ELOOP;
		}
		if (indirect) {
			ret = vdpa_blk_read_mem(b, table_addr + i * sizeof(d),
						&d, sizeof(d));
			if (ret) {
				vdpa_blk_vq_fault(vq, "indirect table %#llx not in memory",
						  table_addr);
				return ret;
			}
		} else {
			d.addr = READ_ONCE(table[i].addr);
			d.len = READ_ONCE(table[i].len);
			d.flags = READ_ONCE(table[i].flags);
			d.next = READ_ONCE(table[i].next);
		}
		flags = le16_to_cpu((__force __le16)d.flags);
		addr = le64_to_cpu((__force __le64)d.addr);
		len = le32_to_cpu((__force __le32)d.len);
		if (flags & VRING_DESC_F_INDIRECT) {
			if (indirect || (flags & VRING_DESC_F_NEXT) ||
			    !vdpa_blk_has(b, VIRTIO_RING_F_INDIRECT_DESC) ||
			    !len || len % sizeof(d) ||
			    len / sizeof(d) > VDPA_BLK_VQ_NUM_MAX) {
				vdpa_blk_vq_fault(vq, "bad indirect chain %u (len %u, flags %#x)",
						  head, len, flags);
				return -EINVAL;
			}
			indirect = true;
			table_addr = addr;
			size = len / sizeof(d);
			count = 0;
			i = 0;
			continue;
		}
		perm = flags & VRING_DESC_F_WRITE ? VHOST_MAP_WO : VHOST_MAP_RO;
		if (perm == VHOST_MAP_RO && c->in_len) {
			vdpa_blk_vq_fault(vq, "chain %u: readable after writable",
					  head);
			return -EINVAL;
		}
		ret = vdpa_blk_xlate(b, addr, len, perm,
				     c->too_big ? NULL : vq->bv, vq->rv, &c->n,
				     VDPA_BLK_MAX_BVECS);
		if (ret == -E2BIG) {
			/* Walk on, checking only: the request fails. */
			c->too_big = true;
			ret = vdpa_blk_xlate(b, addr, len, perm, NULL, NULL,
					     &c->n, 0);
		}
		if (ret) {
			vdpa_blk_vq_fault(vq, "buffer %#llx+%u of chain %u %s",
					  addr, len, head, ret == -EPERM ?
					  "is not mapped for this access" :
					  "is outside guest memory");
			return ret;
		}
		if (perm == VHOST_MAP_RO) {
			c->out = c->n;
			c->out_len += len;
		} else {
			c->in_len += len;
			if (len)
				c->status = addr + len - 1;
		}
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		i = le16_to_cpu((__force __le16)d.next);
		if (i >= size) {
			vdpa_blk_vq_fault(vq, "next index %u out of range in chain %u",
					  i, head);
			return -EINVAL;
		}
	}
}

/* Take and start the request at @head (vq->mutex held). */
static int vdpa_blk_handle_req(struct vdpa_blk_vq *vq, u16 head)
{
	struct vdpa_blk *b = vq->blk;
	struct virtio_blk_outhdr hdr;
	struct vdpa_blk_chain c;
	struct vdpa_blk_req *r;
	struct iov_iter it;
	u32 type;
	int ret;

	lockdep_assert_held(&vq->mutex);
	/* The pieces in vq->bv hold their ranges, also on error. */
	ret = vdpa_blk_get_chain(vq, head, &c);
	if (ret) {
		vdpa_blk_ranges_put(vq->rv, c.n);
		return ret;
	}
	if (c.too_big) {
		vdpa_blk_ranges_put(vq->rv, c.n);
		c.n = 0;
	}
	r = kvmalloc(size_add(struct_size(r, bv, c.n),
			      array_size(c.n, sizeof(*r->rv))), GFP_KERNEL);
	if (!r) {
		vdpa_blk_ranges_put(vq->rv, c.n);
		return -ENOMEM;
	}
	r->vq = vq;
	r->head = head;
	r->nbv = c.n;
	memcpy(r->bv, vq->bv, r->nbv * sizeof(*r->bv));
	r->rv = (struct vdpa_blk_range **)&r->bv[r->nbv];
	memcpy(r->rv, vq->rv, r->nbv * sizeof(*r->rv));
	r->status_range = NULL;
	/* In a piece of the request, or (too big) answered right here. */
	r->status = c.status == U64_MAX ? NULL :
		    vdpa_blk_byte(b, c.status, &r->status_range);
	atomic_inc(&vq->inflight);
	atomic_inc(&b->inflight);

	r->req.status = VIRTIO_BLK_S_IOERR;
	r->req.used_len = r->status ? 1 : 0;
	if (c.too_big) {
		dev_err_ratelimited(&b->vdpa.dev,
				    "queue %u: request %u has more than %lu pieces\n",
				    vq->index, head, VDPA_BLK_MAX_BVECS);
		vdpa_blk_req_done(r);
		return 0;
	}
	iov_iter_bvec(&it, WRITE, r->bv, c.out, c.out_len);
	if (c.out_len < sizeof(hdr) || !r->status ||
	    !copy_from_iter_full(&hdr, sizeof(hdr), &it)) {
		dev_err_ratelimited(&b->vdpa.dev,
				    "queue %u: request %u without header or status\n",
				    vq->index, head);
		vdpa_blk_req_done(r);
		return 0;
	}
	type = le32_to_cpu((__force __le32)hdr.type);
	if (vblk_req_data_dir(type) == READ) {
		iov_iter_bvec(&r->req.iter, READ, r->bv + c.out, c.n - c.out,
			      c.in_len);
		iov_iter_truncate(&r->req.iter, c.in_len - 1);
	} else {
		r->req.iter = it;	/* after the header */
	}
	r->req.in_len = c.in_len;
	/* A driver without FLUSH expects writes to be stable when done. */
	r->req.write_through = !vdpa_blk_has(b, VIRTIO_BLK_F_FLUSH);
	if (vblk_req_start(&r->req, &b->disk, type,
			   le64_to_cpu((__force __le64)hdr.sector)))
		vdpa_blk_req_done(r);
	return 0;
}

/* Take new requests, at most VDPA_BLK_WEIGHT (vq->mutex held). */
static void vdpa_blk_take(struct vdpa_blk_vq *vq)
{
	struct vring *vr = &vq->vring;
	struct blk_plug plug;
	u16 avail, head;
	unsigned int n;

	lockdep_assert_held(&vq->mutex);
	blk_start_plug(&plug);
	for (n = 0; vq->running && vq->ready && !vq->broken &&
	     !READ_ONCE(vq->blk->suspended); n++) {
		if (n == VDPA_BLK_WEIGHT) {
			/* The other queues get a turn. */
			queue_work(vdpa_blk_wq, &vq->work);
			break;
		}
		if (vdpa_blk_vq_refresh(vq) || !vq->running)
			break;
		/*
		 * No more than a ring's worth in flight: a completion takes
		 * the next ones.
		 */
		if (atomic_read(&vq->inflight) >= vr->num)
			break;
		avail = vdpa_blk_read16(&vr->avail->idx);
		if (avail == vq->last_avail_idx) {
			if (!vdpa_blk_has(vq->blk, VIRTIO_RING_F_EVENT_IDX))
				break;
			/* Ask for a kick at the next one, then look again. */
			vdpa_blk_write16((__virtio16 *)&vr->used->ring[vr->num],
					 vq->last_avail_idx);
			/* The wish before the index (pairs with the driver's). */
			smp_mb();
			if (vdpa_blk_read16(&vr->avail->idx) == vq->last_avail_idx)
				break;
			continue;
		}
		if ((u16)(avail - vq->last_avail_idx) > vr->num) {
			vdpa_blk_vq_fault(vq, "avail index moved from %u to %u",
					  vq->last_avail_idx, avail);
			break;
		}
		/* The entries after the index that announced them. */
		smp_rmb();
		head = vdpa_blk_read16(&vr->avail->ring[vq->last_avail_idx &
							(vr->num - 1)]);
		if (head >= vr->num) {
			vdpa_blk_vq_fault(vq, "avail entry %u out of range",
					  head);
			break;
		}
		if (vdpa_blk_handle_req(vq, head) == -ENOMEM) {
			/* Try again later. */
			queue_work(vdpa_blk_wq, &vq->work);
			break;
		}
		if (vq->broken)
			break;
		vq->last_avail_idx++;
	}
	blk_finish_plug(&plug);
}

/* Return the requests that finished (vq->mutex held). */
static void vdpa_blk_reap(struct vdpa_blk_vq *vq)
{
	struct vdpa_blk_req *r, *tmp;
	struct llist_node *list;

	lockdep_assert_held(&vq->mutex);
	list = llist_reverse_order(llist_del_all(&vq->done));
	llist_for_each_entry_safe(r, tmp, list, req.node) {
		vblk_req_end(&r->req);
		vdpa_blk_req_done(r);
	}
}

static void vdpa_blk_vq_work(struct work_struct *work)
{
	struct vdpa_blk_vq *vq = container_of(work, struct vdpa_blk_vq, work);
	unsigned int noio;

	/* The host's own disk may be the one reclaim writes to. */
	noio = memalloc_noio_save();
	down_read(&vq->blk->map_lock);
	mutex_lock(&vq->mutex);
	/* Suspended, nothing is in flight; resume maps the rings anew. */
	if (!READ_ONCE(vq->blk->suspended) && vdpa_blk_vq_refresh(vq))
		goto out;
	vdpa_blk_reap(vq);
	if (!READ_ONCE(vq->blk->suspended)) {
		vdpa_blk_take(vq);
		/*
		 * Fast backings complete while the plug is flushed: one
		 * interrupt for those too, rather than another turn and
		 * another interrupt.
		 */
		vdpa_blk_reap(vq);
	}
	vdpa_blk_signal(vq);
out:
	mutex_unlock(&vq->mutex);
	up_read(&vq->blk->map_lock);
	memalloc_noio_restore(noio);
}

/* Wait until every request of @vq has been returned. */
static void vdpa_blk_drain_vq(struct vdpa_blk_vq *vq)
{
	wait_event(vq->blk->inflight_wq, !atomic_read(&vq->inflight));
	flush_work(&vq->work);
}

/*
 * Wait for every request; afterwards the device may be freed: completions
 * that handed over their request may still be returning, so wait for them
 * too (they run under rcu_read_lock()).
 */
static void vdpa_blk_drain(struct vdpa_blk *b)
{
	unsigned int i;

	wait_event(b->inflight_wq, !atomic_read(&b->inflight));
	for (i = 0; i < b->nvqs; i++)
		flush_work(&b->vqs[i].work);
	synchronize_rcu();
	/* What those completions queued. */
	for (i = 0; i < b->nvqs; i++)
		flush_work(&b->vqs[i].work);
}

/* Stop one queue: no new requests, the taken ones finished (b->lock held). */
static void vdpa_blk_vq_stop(struct vdpa_blk_vq *vq)
{
	lockdep_assert_held(&vq->blk->lock);
	mutex_lock(&vq->mutex);
	vq->ready = false;
	mutex_unlock(&vq->mutex);
	vdpa_blk_drain_vq(vq);
	down_write(&vq->blk->map_lock);
	mutex_lock(&vq->mutex);
	vdpa_blk_vq_unmap(vq);
	mutex_unlock(&vq->mutex);
	up_write(&vq->blk->map_lock);
}

/* (Re)map the rings of every ready queue and kick them (b->lock held). */
static void vdpa_blk_start(struct vdpa_blk *b)
{
	unsigned int i;

	lockdep_assert_held(&b->lock);
	down_write(&b->map_lock);
	for (i = 0; i < b->nvqs; i++) {
		mutex_lock(&b->vqs[i].mutex);
		vdpa_blk_vq_map(&b->vqs[i]);
		mutex_unlock(&b->vqs[i].mutex);
	}
	up_write(&b->map_lock);
	for (i = 0; i < b->nvqs; i++)
		if (b->vqs[i].running)
			queue_work(vdpa_blk_wq, &b->vqs[i].work);
}

static bool vdpa_blk_driver_ok(struct vdpa_blk *b)
{
	return b->status & VIRTIO_CONFIG_S_DRIVER_OK;
}

/* Back to the state after creation (b->lock held). */
static void vdpa_blk_do_reset(struct vdpa_blk *b, bool clean_map)
{
	struct vdpa_blk_vq *vq;
	unsigned int i;

	lockdep_assert_held(&b->lock);
	for (i = 0; i < b->nvqs; i++) {
		mutex_lock(&b->vqs[i].mutex);
		b->vqs[i].ready = false;
		mutex_unlock(&b->vqs[i].mutex);
	}
	b->suspended = false;
	vdpa_blk_drain(b);
	down_write(&b->map_lock);
	for (i = 0; i < b->nvqs; i++) {
		vq = &b->vqs[i];
		mutex_lock(&vq->mutex);
		vdpa_blk_vq_unmap(vq);
		vq->desc_addr = 0;
		vq->driver_addr = 0;
		vq->device_addr = 0;
		vq->num = 0;
		vq->broken = false;
		vq->cb = (struct vdpa_callback) {};
		vq->last_avail_idx = 0;
		vq->last_used_idx = 0;
		vq->signalled_used_valid = false;
		vq->used_pending = false;
		mutex_unlock(&vq->mutex);
	}
	b->identity = false;
	up_write(&b->map_lock);
	if (clean_map)
		vdpa_blk_iotlb_del(b, 0, U64_MAX);
	b->status = 0;
	WRITE_ONCE(b->needs_reset, false);
	b->driver_features = 0;
	if (b->pinned) {
		b->pinned = false;
		module_put(THIS_MODULE);
	}
}

/* vdpa_config_ops */

static int vdpa_blk_set_vq_address(struct vdpa_device *vdpa, u16 idx,
				   u64 desc_area, u64 driver_area,
				   u64 device_area)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);
	struct vdpa_blk_vq *vq;

	if (idx >= b->nvqs)
		return -EINVAL;
	vq = &b->vqs[array_index_nospec(idx, b->nvqs)];
	mutex_lock(&vq->mutex);
	vq->desc_addr = desc_area;
	vq->driver_addr = driver_area;
	vq->device_addr = device_area;
	mutex_unlock(&vq->mutex);
	return 0;
}

static void vdpa_blk_set_vq_num(struct vdpa_device *vdpa, u16 idx, u32 num)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);
	struct vdpa_blk_vq *vq;

	if (idx >= b->nvqs)
		return;
	vq = &b->vqs[array_index_nospec(idx, b->nvqs)];
	mutex_lock(&vq->mutex);
	vq->num = num;		/* checked when the queue starts */
	mutex_unlock(&vq->mutex);
}

static void vdpa_blk_kick_vq(struct vdpa_device *vdpa, u16 idx)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);

	if (idx < b->nvqs)
		queue_work(vdpa_blk_wq,
			   &b->vqs[array_index_nospec(idx, b->nvqs)].work);
}

static void vdpa_blk_set_vq_cb(struct vdpa_device *vdpa, u16 idx,
			       struct vdpa_callback *cb)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);
	struct vdpa_blk_vq *vq;

	if (idx >= b->nvqs)
		return;
	vq = &b->vqs[array_index_nospec(idx, b->nvqs)];
	mutex_lock(&vq->mutex);
	vq->cb = *cb;
	mutex_unlock(&vq->mutex);
}

static void vdpa_blk_set_vq_ready(struct vdpa_device *vdpa, u16 idx,
				  bool ready)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);
	struct vdpa_blk_vq *vq;

	if (idx >= b->nvqs)
		return;
	vq = &b->vqs[array_index_nospec(idx, b->nvqs)];
	mutex_lock(&b->lock);
	if (!ready) {
		vdpa_blk_vq_stop(vq);
	} else {
		mutex_lock(&vq->mutex);
		vq->ready = true;
		mutex_unlock(&vq->mutex);
		if (vdpa_blk_driver_ok(b) && !b->suspended)
			vdpa_blk_start(b);
	}
	mutex_unlock(&b->lock);
}

static bool vdpa_blk_get_vq_ready(struct vdpa_device *vdpa, u16 idx)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);

	return idx < b->nvqs &&
	       READ_ONCE(b->vqs[array_index_nospec(idx, b->nvqs)].ready);
}

static int vdpa_blk_set_vq_state(struct vdpa_device *vdpa, u16 idx,
				 const struct vdpa_vq_state *state)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);
	struct vdpa_blk_vq *vq;

	if (idx >= b->nvqs)
		return -EINVAL;
	vq = &b->vqs[array_index_nospec(idx, b->nvqs)];
	mutex_lock(&vq->mutex);
	if (vq->running && !b->suspended) {
		mutex_unlock(&vq->mutex);
		return -EBUSY;
	}
	/* Every request before the index was returned. */
	vq->last_avail_idx = state->split.avail_index;
	vq->last_used_idx = state->split.avail_index;
	vq->signalled_used_valid = false;
	mutex_unlock(&vq->mutex);
	return 0;
}

static int vdpa_blk_get_vq_state(struct vdpa_device *vdpa, u16 idx,
				 struct vdpa_vq_state *state)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);
	struct vdpa_blk_vq *vq;

	if (idx >= b->nvqs)
		return -EINVAL;
	vq = &b->vqs[array_index_nospec(idx, b->nvqs)];
	/*
	 * Stopped or suspended, taken requests are returned first: the index
	 * then means all.  A running queue answers what it has taken.
	 */
	mutex_lock(&vq->mutex);
	if (!vq->ready || READ_ONCE(b->suspended)) {
		mutex_unlock(&vq->mutex);
		vdpa_blk_drain_vq(vq);
		mutex_lock(&vq->mutex);
	}
	state->split.avail_index = vq->last_avail_idx;
	mutex_unlock(&vq->mutex);
	return 0;
}

static u32 vdpa_blk_get_vq_align(struct vdpa_device *vdpa)
{
	return SMP_CACHE_BYTES;
}

static u32 vdpa_blk_get_vq_group(struct vdpa_device *vdpa, u16 idx)
{
	return 0;
}

static u64 vdpa_blk_get_device_features(struct vdpa_device *vdpa)
{
	return vdpa_to_blk(vdpa)->features;
}

static int vdpa_blk_set_driver_features(struct vdpa_device *vdpa,
					u64 features)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);

	mutex_lock(&b->lock);
	b->driver_features = features & b->features;
	mutex_unlock(&b->lock);
	return 0;
}

static u64 vdpa_blk_get_driver_features(struct vdpa_device *vdpa)
{
	return vdpa_to_blk(vdpa)->driver_features;
}

static void vdpa_blk_set_config_cb(struct vdpa_device *vdpa,
				   struct vdpa_callback *cb)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);

	spin_lock(&b->cb_lock);
	b->config_cb = *cb;
	spin_unlock(&b->cb_lock);
}

static u16 vdpa_blk_get_vq_num_max(struct vdpa_device *vdpa)
{
	return VDPA_BLK_VQ_NUM_MAX;
}

static u32 vdpa_blk_get_device_id(struct vdpa_device *vdpa)
{
	return VIRTIO_ID_BLOCK;
}

static u32 vdpa_blk_get_vendor_id(struct vdpa_device *vdpa)
{
	return 0;
}

static u8 vdpa_blk_get_status(struct vdpa_device *vdpa)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);
	u8 status;

	mutex_lock(&b->lock);
	status = b->status;
	if (READ_ONCE(b->needs_reset))
		status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	mutex_unlock(&b->lock);
	return status;
}

/*
 * Only the host's own virtio_vdpa gives physical addresses (DMA addresses
 * of this device); every other driver, vhost_vdpa in particular, reaches
 * the device through the IOTLB it set, and nothing else.
 */
static bool vdpa_blk_kernel_driver(struct vdpa_blk *b)
{
	struct device_driver *drv = READ_ONCE(b->vdpa.dev.driver);

	return drv && !strcmp(drv->name, "virtio_vdpa");
}

static void vdpa_blk_set_status(struct vdpa_device *vdpa, u8 status)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);
	bool start;

	mutex_lock(&b->lock);
	if (!status) {
		vdpa_blk_do_reset(b, false);
		mutex_unlock(&b->lock);
		return;
	}
	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !vdpa_blk_has(b, VIRTIO_F_VERSION_1)) {
		dev_err_ratelimited(&vdpa->dev, "driver without VIRTIO_F_VERSION_1: features refused\n");
		status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if ((status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		dev_err_ratelimited(&vdpa->dev, "DRIVER_OK without FEATURES_OK refused\n");
		status &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	}
	start = (status & VIRTIO_CONFIG_S_DRIVER_OK) && !vdpa_blk_driver_ok(b);
	b->status = status & ~VIRTIO_CONFIG_S_NEEDS_RESET;
	if (start) {
		/* A device in use keeps its module. */
		b->pinned = try_module_get(THIS_MODULE);
		down_write(&b->map_lock);
		b->identity = vdpa_blk_kernel_driver(b);
		up_write(&b->map_lock);
		vdpa_blk_start(b);
	}
	mutex_unlock(&b->lock);
}

static int vdpa_blk_reset(struct vdpa_device *vdpa)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);

	mutex_lock(&b->lock);
	vdpa_blk_do_reset(b, false);
	mutex_unlock(&b->lock);
	return 0;
}

static int vdpa_blk_compat_reset(struct vdpa_device *vdpa, u32 flags)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);

	mutex_lock(&b->lock);
	vdpa_blk_do_reset(b, flags & VDPA_RESET_F_CLEAN_MAP);
	mutex_unlock(&b->lock);
	return 0;
}

static int vdpa_blk_suspend(struct vdpa_device *vdpa)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);

	mutex_lock(&b->lock);
	b->suspended = true;
	/* Requests taken before are returned; no new ones are taken. */
	vdpa_blk_drain(b);
	mutex_unlock(&b->lock);
	return 0;
}

static int vdpa_blk_resume(struct vdpa_device *vdpa)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);

	mutex_lock(&b->lock);
	b->suspended = false;
	/* Ring addresses and indices may have changed meanwhile. */
	if (vdpa_blk_driver_ok(b))
		vdpa_blk_start(b);
	mutex_unlock(&b->lock);
	return 0;
}

static size_t vdpa_blk_get_config_size(struct vdpa_device *vdpa)
{
	return sizeof(struct virtio_blk_config);
}

static void vdpa_blk_get_config(struct vdpa_device *vdpa, unsigned int offset,
				void *buf, unsigned int len)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);
	struct file *file = b->disk.file;
	struct virtio_blk_config c = {};
	u32 bsize = vblk_block_size(file);

	/* Little-endian: only VERSION_1 is offered. */
	c.capacity = (__force __virtio64)cpu_to_le64(vblk_capacity(file) >>
						     SECTOR_SHIFT);
	c.seg_max = (__force __virtio32)cpu_to_le32(VBLK_SEG_MAX);
	c.blk_size = (__force __virtio32)cpu_to_le32(bsize);
	c.num_queues = (__force __virtio16)cpu_to_le16(b->nvqs);
	c.max_discard_sectors = (__force __virtio32)cpu_to_le32(VBLK_MAX_DISCARD);
	c.max_discard_seg = (__force __virtio32)cpu_to_le32(1);
	c.discard_sector_alignment =
		(__force __virtio32)cpu_to_le32(bsize >> SECTOR_SHIFT);
	c.max_write_zeroes_sectors =
		(__force __virtio32)cpu_to_le32(VBLK_MAX_DISCARD);
	c.max_write_zeroes_seg = (__force __virtio32)cpu_to_le32(1);
	c.write_zeroes_may_unmap = 1;
	if (offset > sizeof(c) || len > sizeof(c) - offset) {
		memset(buf, 0, len);
		return;
	}
	memcpy(buf, (u8 *)&c + offset, len);
}

static void vdpa_blk_set_config(struct vdpa_device *vdpa, unsigned int offset,
				const void *buf, unsigned int len)
{
	/* Nothing is writable (no VIRTIO_BLK_F_CONFIG_WCE). */
}

static u32 vdpa_blk_get_generation(struct vdpa_device *vdpa)
{
	return 0;
}

static struct vdpa_iova_range vdpa_blk_get_iova_range(struct vdpa_device *vdpa)
{
	return (struct vdpa_iova_range) { .first = 0, .last = U64_MAX };
}

/*
 * vhost_vdpa pinned [@pa, @pa + @size) and maps it at @iova.  The range
 * takes references of its own to the pages, which vhost_vdpa unpins
 * before it unmaps them.  Only an unmap can change a translation the
 * device holds; a map only adds.
 */
static int vdpa_blk_dma_map(struct vdpa_device *vdpa, unsigned int asid,
			    u64 iova, u64 size, u64 pa, u32 perm,
			    void *opaque)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);
	u64 last = iova + size - 1, pfn;
	struct vdpa_blk_range *r;
	int ret;

	if (asid || !size || last < iova || pa + size - 1 < pa ||
	    !perm || perm & ~VHOST_MAP_RW)
		return -EINVAL;
	for (pfn = PHYS_PFN(pa); pfn <= PHYS_PFN(pa + size - 1); pfn++) {
		if (!pfn_valid(pfn)) {
			dev_err_ratelimited(&vdpa->dev, "cannot map %#llx+%#llx: not RAM\n",
					    iova, size);
			return -EFAULT;
		}
		if (!(pfn % 4096))
			cond_resched();
	}
	r = kmalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	kref_init(&r->ref);
	r->addr = pa;
	r->size = size;
	vdpa_blk_get_folios(pa, size);
	spin_lock(&b->iotlb_lock);
	if (vhost_iotlb_itree_first(b->iotlb, iova, last))
		ret = -EEXIST;
	else
		ret = vhost_iotlb_add_range_ctx(b->iotlb, iova, last, pa,
						perm, r);
	spin_unlock(&b->iotlb_lock);
	if (ret)
		vdpa_blk_range_put(r);
	return ret;
}

static int vdpa_blk_dma_unmap(struct vdpa_device *vdpa, unsigned int asid,
			      u64 iova, u64 size)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);

	if (asid || !size || iova + size - 1 < iova)
		return -EINVAL;
	vdpa_blk_iotlb_del(b, iova, iova + size - 1);
	return 0;
}

static int vdpa_blk_reset_map(struct vdpa_device *vdpa, unsigned int asid)
{
	if (asid)
		return -EINVAL;
	vdpa_blk_iotlb_del(vdpa_to_blk(vdpa), 0, U64_MAX);
	return 0;
}

static void vdpa_blk_cfg_release_use(struct vdpa_blk_cfg *cfg);

static void vdpa_blk_free(struct vdpa_device *vdpa)
{
	struct vdpa_blk *b = vdpa_to_blk(vdpa);
	unsigned int i;

	/* Bus drivers reset the device before they let go of it. */
	if (b->disk.file) {
		mutex_lock(&b->lock);
		vdpa_blk_do_reset(b, true);
		mutex_unlock(&b->lock);
	}
	for (i = 0; i < VDPA_BLK_MAX_VQS; i++)
		cancel_work_sync(&b->vqs[i].work);
	if (b->disk.file)
		fput(b->disk.file);
	if (b->iotlb) {
		vdpa_blk_iotlb_del(b, 0, U64_MAX);
		vhost_iotlb_free(b->iotlb);
	}
	for (i = 0; i < VDPA_BLK_MAX_VQS; i++) {
		kvfree(b->vqs[i].bv);
		kvfree(b->vqs[i].rv);
	}
	if (b->cfg)
		vdpa_blk_cfg_release_use(b->cfg);
}

static const struct vdpa_config_ops vdpa_blk_config_ops = {
	.set_vq_address		= vdpa_blk_set_vq_address,
	.set_vq_num		= vdpa_blk_set_vq_num,
	.kick_vq		= vdpa_blk_kick_vq,
	.set_vq_cb		= vdpa_blk_set_vq_cb,
	.set_vq_ready		= vdpa_blk_set_vq_ready,
	.get_vq_ready		= vdpa_blk_get_vq_ready,
	.set_vq_state		= vdpa_blk_set_vq_state,
	.get_vq_state		= vdpa_blk_get_vq_state,
	.get_vq_align		= vdpa_blk_get_vq_align,
	.get_vq_group		= vdpa_blk_get_vq_group,
	.get_device_features	= vdpa_blk_get_device_features,
	.set_driver_features	= vdpa_blk_set_driver_features,
	.get_driver_features	= vdpa_blk_get_driver_features,
	.set_config_cb		= vdpa_blk_set_config_cb,
	.get_vq_num_max		= vdpa_blk_get_vq_num_max,
	.get_device_id		= vdpa_blk_get_device_id,
	.get_vendor_id		= vdpa_blk_get_vendor_id,
	.get_status		= vdpa_blk_get_status,
	.set_status		= vdpa_blk_set_status,
	.reset			= vdpa_blk_reset,
	.compat_reset		= vdpa_blk_compat_reset,
	.suspend		= vdpa_blk_suspend,
	.resume			= vdpa_blk_resume,
	.get_config_size	= vdpa_blk_get_config_size,
	.get_config		= vdpa_blk_get_config,
	.set_config		= vdpa_blk_set_config,
	.get_generation		= vdpa_blk_get_generation,
	.get_iova_range		= vdpa_blk_get_iova_range,
	.dma_map		= vdpa_blk_dma_map,
	.dma_unmap		= vdpa_blk_dma_unmap,
	.reset_map		= vdpa_blk_reset_map,
	.free			= vdpa_blk_free,
};

/* configfs: /sys/kernel/config/kvmarm-blk/NAME/ */

static struct vdpa_blk_cfg *to_cfg(struct config_item *item)
{
	return container_of(item, struct vdpa_blk_cfg, item);
}

static void vdpa_blk_cfg_release_use(struct vdpa_blk_cfg *cfg)
{
	mutex_lock(&cfg->lock);
	cfg->in_use = false;
	mutex_unlock(&cfg->lock);
	config_item_put(&cfg->item);
}

/* Open @path as the backing, with the current settings (cfg->lock held). */
static int vdpa_blk_cfg_open(struct vdpa_blk_cfg *cfg, const char *path)
{
	int flags = (cfg->ro ? O_RDONLY : O_RDWR) | O_LARGEFILE |
		    (cfg->direct ? O_DIRECT : 0);
	struct file *file;
	char what[64];
	int ret;

	lockdep_assert_held(&cfg->lock);
	file = filp_open(path, flags, 0);
	if (IS_ERR(file)) {
		pr_err("%s: cannot open backing %s%s: %ld\n",
		       config_item_name(&cfg->item), path,
		       cfg->ro ? " read-only" : "", PTR_ERR(file));
		return PTR_ERR(file);
	}
	snprintf(what, sizeof(what), "%s: backing",
		 config_item_name(&cfg->item));
	ret = vblk_check_backing(file, what);
	if (!ret && cfg->direct && !(file->f_mode & FMODE_CAN_ODIRECT)) {
		pr_err("%s: backing %s cannot do direct I/O\n",
		       config_item_name(&cfg->item), path);
		ret = -EINVAL;
	}
	if (!ret && vblk_capacity(file) < VBLK_SECTOR) {
		pr_err("%s: backing %s is smaller than one sector\n",
		       config_item_name(&cfg->item), path);
		ret = -EINVAL;
	}
	if (ret) {
		fput(file);
		return ret;
	}
	if (cfg->file)
		fput(cfg->file);
	cfg->file = file;
	return 0;
}

static ssize_t vdpa_blk_cfg_backing_show(struct config_item *item, char *page)
{
	struct vdpa_blk_cfg *cfg = to_cfg(item);
	ssize_t ret;

	mutex_lock(&cfg->lock);
	ret = sysfs_emit(page, "%s\n", cfg->path ? cfg->path : "");
	mutex_unlock(&cfg->lock);
	return ret;
}

static ssize_t vdpa_blk_cfg_backing_store(struct config_item *item,
					  const char *page, size_t count)
{
	struct vdpa_blk_cfg *cfg = to_cfg(item);
	char *buf, *path;
	int ret;

	buf = kstrndup(page, count, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	path = kstrdup(strim(buf), GFP_KERNEL);
	kfree(buf);
	if (!path)
		return -ENOMEM;
	mutex_lock(&cfg->lock);
	if (*path && *path != '/') {
		pr_err("%s: the backing must be an absolute path\n",
		       config_item_name(item));
		ret = -EINVAL;
	} else if (cfg->in_use) {
		pr_err("%s: device exists: delete it before changing its backing\n",
		       config_item_name(item));
		ret = -EBUSY;
	} else if (!*path) {
		if (cfg->file)
			fput(cfg->file);
		cfg->file = NULL;
		kfree(cfg->path);
		cfg->path = NULL;
		ret = 0;
	} else {
		ret = vdpa_blk_cfg_open(cfg, path);
		if (!ret) {
			kfree(cfg->path);
			cfg->path = path;
			path = NULL;
		}
	}
	mutex_unlock(&cfg->lock);
	kfree(path);
	return ret ?: count;
}

/* A flag that opens the backing again when it changes. */
static ssize_t vdpa_blk_cfg_flag_store(struct config_item *item,
				       const char *page, size_t count,
				       bool *flag)
{
	struct vdpa_blk_cfg *cfg = to_cfg(item);
	bool v, old;
	int ret;

	ret = kstrtobool(page, &v);
	if (ret)
		return ret;
	mutex_lock(&cfg->lock);
	if (cfg->in_use) {
		pr_err("%s: device exists: delete it before changing it\n",
		       config_item_name(item));
		ret = -EBUSY;
	} else if (*flag != v) {
		old = *flag;
		*flag = v;
		if (cfg->path) {
			ret = vdpa_blk_cfg_open(cfg, cfg->path);
			if (ret)
				*flag = old;
		}
	}
	mutex_unlock(&cfg->lock);
	return ret ?: count;
}

static ssize_t vdpa_blk_cfg_read_only_show(struct config_item *item,
					   char *page)
{
	return sysfs_emit(page, "%d\n", READ_ONCE(to_cfg(item)->ro));
}

static ssize_t vdpa_blk_cfg_read_only_store(struct config_item *item,
					    const char *page, size_t count)
{
	return vdpa_blk_cfg_flag_store(item, page, count, &to_cfg(item)->ro);
}

static ssize_t vdpa_blk_cfg_direct_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%d\n", READ_ONCE(to_cfg(item)->direct));
}

static ssize_t vdpa_blk_cfg_direct_store(struct config_item *item,
					 const char *page, size_t count)
{
	return vdpa_blk_cfg_flag_store(item, page, count,
				       &to_cfg(item)->direct);
}

static ssize_t vdpa_blk_cfg_num_queues_show(struct config_item *item,
					    char *page)
{
	return sysfs_emit(page, "%u\n", READ_ONCE(to_cfg(item)->num_queues));
}

static ssize_t vdpa_blk_cfg_num_queues_store(struct config_item *item,
					     const char *page, size_t count)
{
	struct vdpa_blk_cfg *cfg = to_cfg(item);
	unsigned int v;
	int ret;

	ret = kstrtouint(page, 0, &v);
	if (ret)
		return ret;
	if (!v || v > VDPA_BLK_MAX_VQS) {
		pr_err("%s: num_queues must be 1 to %d\n",
		       config_item_name(item), VDPA_BLK_MAX_VQS);
		return -EINVAL;
	}
	mutex_lock(&cfg->lock);
	if (cfg->in_use) {
		pr_err("%s: device exists: delete it before changing it\n",
		       config_item_name(item));
		ret = -EBUSY;
	} else {
		cfg->num_queues = v;
	}
	mutex_unlock(&cfg->lock);
	return ret ?: count;
}

CONFIGFS_ATTR(vdpa_blk_cfg_, backing);
CONFIGFS_ATTR(vdpa_blk_cfg_, read_only);
CONFIGFS_ATTR(vdpa_blk_cfg_, direct);
CONFIGFS_ATTR(vdpa_blk_cfg_, num_queues);

static struct configfs_attribute *vdpa_blk_cfg_attrs[] = {
	&vdpa_blk_cfg_attr_backing,
	&vdpa_blk_cfg_attr_read_only,
	&vdpa_blk_cfg_attr_direct,
	&vdpa_blk_cfg_attr_num_queues,
	NULL,
};

static void vdpa_blk_cfg_release(struct config_item *item)
{
	struct vdpa_blk_cfg *cfg = to_cfg(item);

	if (cfg->file)
		fput(cfg->file);
	kfree(cfg->path);
	kfree(cfg);
}

static struct configfs_item_operations vdpa_blk_cfg_item_ops = {
	.release	= vdpa_blk_cfg_release,
};

static const struct config_item_type vdpa_blk_cfg_type = {
	.ct_item_ops	= &vdpa_blk_cfg_item_ops,
	.ct_attrs	= vdpa_blk_cfg_attrs,
	.ct_owner	= THIS_MODULE,
};

static struct config_item *vdpa_blk_cfg_make(struct config_group *group,
					     const char *name)
{
	struct vdpa_blk_cfg *cfg;

	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg)
		return ERR_PTR(-ENOMEM);
	mutex_init(&cfg->lock);
	cfg->num_queues = 1;
	config_item_init_type_name(&cfg->item, name, &vdpa_blk_cfg_type);
	return &cfg->item;
}

static struct configfs_group_operations vdpa_blk_group_ops = {
	.make_item	= vdpa_blk_cfg_make,
};

static const struct config_item_type vdpa_blk_group_type = {
	.ct_group_ops	= &vdpa_blk_group_ops,
	.ct_owner	= THIS_MODULE,
};

static struct configfs_subsystem vdpa_blk_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf	= VDPA_BLK_NAME,
			.ci_type	= &vdpa_blk_group_type,
		},
	},
};

/*
 * The settings named @name, in use from now on.
 *
 * Return: them with a reference, or an ERR_PTR: -ENODEV when there are
 * none, -EINVAL without a backing, -EBUSY when a device uses them.
 */
static struct vdpa_blk_cfg *vdpa_blk_cfg_get(const char *name)
{
	struct config_group *group = &vdpa_blk_subsys.su_group;
	struct config_item *item;
	struct vdpa_blk_cfg *cfg;
	int ret = 0;

	mutex_lock(&vdpa_blk_subsys.su_mutex);
	item = config_group_find_item(group, name);
	mutex_unlock(&vdpa_blk_subsys.su_mutex);
	if (!item) {
		pr_err("no settings for %s: mkdir /sys/kernel/config/%s/%s and write its backing first\n",
		       name, VDPA_BLK_NAME, name);
		return ERR_PTR(-ENODEV);
	}
	cfg = to_cfg(item);
	mutex_lock(&cfg->lock);
	if (cfg->in_use) {
		pr_err("%s: settings in use by another device\n", name);
		ret = -EBUSY;
	} else if (!cfg->file) {
		pr_err("%s: no backing: write a file or block device path to /sys/kernel/config/%s/%s/backing\n",
		       name, VDPA_BLK_NAME, name);
		ret = -EINVAL;
	} else {
		cfg->in_use = true;
	}
	mutex_unlock(&cfg->lock);
	if (ret) {
		config_item_put(item);
		return ERR_PTR(ret);
	}
	return cfg;
}

/* Management device */

static int vdpa_blk_dev_add(struct vdpa_mgmt_dev *mdev, const char *name,
			    const struct vdpa_dev_set_config *config)
{
	struct vdpa_blk_cfg *cfg;
	struct vdpa_blk *b;
	struct device *dev;
	unsigned int i;
	int ret;

	if (config->mask) {
		pr_err("%s: attributes are set in /sys/kernel/config/%s/%s\n",
		       name, VDPA_BLK_NAME, name);
		return -EOPNOTSUPP;
	}
	cfg = vdpa_blk_cfg_get(name);
	if (IS_ERR(cfg))
		return PTR_ERR(cfg);

	b = vdpa_alloc_device(struct vdpa_blk, vdpa, mdev->device,
			      &vdpa_blk_config_ops, 1, 1, name, false);
	if (IS_ERR(b)) {
		ret = PTR_ERR(b);
		pr_err("%s: cannot allocate the device: %d\n", name, ret);
		vdpa_blk_cfg_release_use(cfg);
		return ret;
	}
	/* From here on vdpa_blk_free() undoes, through put_device(). */
	b->cfg = cfg;
	mutex_lock(&cfg->lock);
	b->disk.file = get_file(cfg->file);
	b->disk.ro = cfg->ro;
	b->nvqs = cfg->num_queues;
	mutex_unlock(&cfg->lock);
	b->disk.id_prefix = "vdpa-blk";
	b->disk.complete = vdpa_blk_complete;
	vblk_disk_init(&b->disk);
	b->features = VDPA_BLK_FEATURES;
	if (b->disk.ro)
		b->features |= 1ULL << VIRTIO_BLK_F_RO;
	mutex_init(&b->lock);
	init_rwsem(&b->map_lock);
	spin_lock_init(&b->iotlb_lock);
	spin_lock_init(&b->cb_lock);
	atomic_set(&b->inflight, 0);
	init_waitqueue_head(&b->inflight_wq);
	for (i = 0; i < VDPA_BLK_MAX_VQS; i++) {
		struct vdpa_blk_vq *vq = &b->vqs[i];

		vq->blk = b;
		vq->index = i;
		mutex_init(&vq->mutex);
		INIT_WORK(&vq->work, vdpa_blk_vq_work);
		init_llist_head(&vq->done);
		atomic_set(&vq->inflight, 0);
	}
	ret = -ENOMEM;
	/* vhost_vdpa's own limit bounds the number of ranges. */
	b->iotlb = vhost_iotlb_alloc(UINT_MAX, 0);
	if (!b->iotlb)
		goto err;
	for (i = 0; i < b->nvqs; i++) {
		b->vqs[i].bv = kvmalloc_array(VDPA_BLK_MAX_BVECS,
					      sizeof(struct bio_vec),
					      GFP_KERNEL);
		b->vqs[i].rv = kvmalloc_array(VDPA_BLK_MAX_BVECS,
					      sizeof(*b->vqs[i].rv),
					      GFP_KERNEL);
		if (!b->vqs[i].bv || !b->vqs[i].rv)
			goto err;
	}

	/* virtio_vdpa's DMA: physical addresses, the CPU's caches. */
	dev = &b->vdpa.dev;
	dev->dma_mask = &dev->coherent_dma_mask;
	KVMARM_DEV_SET_DMA_COHERENT(dev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		goto err;
	KVMARM_VDPA_DMA_DEV(&b->vdpa) = dev;
	b->vdpa.mdev = mdev;

	ret = _vdpa_register_device(&b->vdpa, b->nvqs);
	if (ret) {
		pr_err("%s: cannot register the device: %d\n", name, ret);
		goto err;
	}
	dev_info(dev, "virtio-blk on %pD, %llu sectors%s, %u queue%s\n",
		 b->disk.file, vblk_capacity(b->disk.file) >> SECTOR_SHIFT,
		 b->disk.ro ? ", read-only" : "", b->nvqs,
		 b->nvqs > 1 ? "s" : "");
	return 0;
err:
	put_device(&b->vdpa.dev);
	return ret;
}

static void vdpa_blk_dev_del(struct vdpa_mgmt_dev *mdev,
			     struct vdpa_device *vdpa)
{
	/* The bus driver resets the device, which returns every request. */
	_vdpa_unregister_device(vdpa);
}

static const struct vdpa_mgmtdev_ops vdpa_blk_mgmtdev_ops = {
	.dev_add	= vdpa_blk_dev_add,
	.dev_del	= vdpa_blk_dev_del,
};

static struct virtio_device_id vdpa_blk_id_table[] = {
	{ VIRTIO_ID_BLOCK, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

static void vdpa_blk_mgmtdev_release(struct device *dev)
{
}

static struct device vdpa_blk_mgmtdev_dev = {
	.init_name	= VDPA_BLK_NAME,
	.release	= vdpa_blk_mgmtdev_release,
};

static struct vdpa_mgmt_dev vdpa_blk_mgmtdev = {
	.device			= &vdpa_blk_mgmtdev_dev,
	.id_table		= vdpa_blk_id_table,
	.ops			= &vdpa_blk_mgmtdev_ops,
	.supported_features	= VDPA_BLK_FEATURES |
				  (1ULL << VIRTIO_BLK_F_RO),
	.max_supported_vqs	= VDPA_BLK_MAX_VQS,
};

static int __init vdpa_blk_init(void)
{
	int ret;

	/* It may serve the host's own disk: reclaim may wait for it. */
	vdpa_blk_wq = alloc_workqueue("vdpa-blk", WQ_UNBOUND | WQ_MEM_RECLAIM,
				      0);
	if (!vdpa_blk_wq)
		return -ENOMEM;
	config_group_init(&vdpa_blk_subsys.su_group);
	mutex_init(&vdpa_blk_subsys.su_mutex);
	ret = configfs_register_subsystem(&vdpa_blk_subsys);
	if (ret) {
		pr_err("cannot register /sys/kernel/config/%s: %d\n",
		       VDPA_BLK_NAME, ret);
		goto err_wq;
	}
	ret = device_register(&vdpa_blk_mgmtdev_dev);
	if (ret) {
		put_device(&vdpa_blk_mgmtdev_dev);
		pr_err("cannot register the management device: %d\n", ret);
		goto err_configfs;
	}
	ret = vdpa_mgmtdev_register(&vdpa_blk_mgmtdev);
	if (ret) {
		pr_err("cannot register the vDPA management device: %d\n", ret);
		goto err_dev;
	}
	return 0;

err_dev:
	device_unregister(&vdpa_blk_mgmtdev_dev);
err_configfs:
	configfs_unregister_subsystem(&vdpa_blk_subsys);
err_wq:
	destroy_workqueue(vdpa_blk_wq);
	return ret;
}
module_init(vdpa_blk_init);

/* Devices are deleted (and reset, so idle) before the module goes. */
static void __exit vdpa_blk_exit(void)
{
	vdpa_mgmtdev_unregister(&vdpa_blk_mgmtdev);
	device_unregister(&vdpa_blk_mgmtdev_dev);
	configfs_unregister_subsystem(&vdpa_blk_subsys);
	destroy_workqueue(vdpa_blk_wq);
}
module_exit(vdpa_blk_exit);

MODULE_VERSION("0.1.0");
MODULE_LICENSE("GPL");
MODULE_AUTHOR("kvmarm-io developers");
MODULE_DESCRIPTION("vdpa-blk: vDPA virtio-blk device on files and block devices");
