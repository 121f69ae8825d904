// SPDX-License-Identifier: GPL-2.0
/*
 * vhost_ring memory table: the guest's memory regions in the owner's
 * address space (VHOST_SET_MEM_TABLE), and guest addresses translated
 * through them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>

#include "vhost_ring.h"
#include "vhost_ring_internal.h"

static int vhr_region_cmp(const void *a, const void *b)
{
	const struct vhr_mem_region *ra = a, *rb = b;

	if (ra->gpa < rb->gpa)
		return -1;
	return ra->gpa > rb->gpa;
}

/* VHOST_SET_MEM_TABLE: check the new table, sort it and swap it in. */
long vhr_set_memory(struct vhr_dev *dev, void __user *argp)
{
	struct vhost_memory hdr;
	struct vhost_memory_region r;
	struct vhr_mem *mem, *old;
	u32 i;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (hdr.padding)
		return -EOPNOTSUPP;
	if (hdr.nregions > dev->max_mem_regions)
		return -E2BIG;
	mem = kvzalloc(struct_size(mem, regions, hdr.nregions),
		       GFP_KERNEL_ACCOUNT);
	if (!mem)
		return -ENOMEM;
	mem->nregions = hdr.nregions;
	for (i = 0; i < hdr.nregions; i++) {
		if (copy_from_user(&r, argp + sizeof(hdr) + i * sizeof(r),
				   sizeof(r)))
			goto fault;
		if (!r.memory_size || r.flags_padding ||
		    r.guest_phys_addr + r.memory_size - 1 < r.guest_phys_addr ||
		    r.userspace_addr + r.memory_size - 1 < r.userspace_addr ||
		    r.userspace_addr != (unsigned long)r.userspace_addr ||
		    r.memory_size != (unsigned long)r.memory_size ||
		    !access_ok(u64_to_user_ptr(r.userspace_addr),
			       r.memory_size))
			goto inval;
		mem->regions[i].gpa = r.guest_phys_addr;
		mem->regions[i].size = r.memory_size;
		mem->regions[i].uaddr = r.userspace_addr;
	}
	sort(mem->regions, mem->nregions, sizeof(mem->regions[0]),
	     vhr_region_cmp, NULL);
	/* By last byte: a region may end at 2^64, where gpa + size is 0. */
	for (i = 1; i < mem->nregions; i++) {
		struct vhr_mem_region *p = &mem->regions[i - 1];

		if (p->gpa + p->size - 1 >= mem->regions[i].gpa) {
			pr_err_ratelimited("%s: memory regions at %#llx and %#llx overlap\n",
					   dev->name, p->gpa,
					   mem->regions[i].gpa);
			goto inval;
		}
	}

	/* Swap under every vring's lock: no descriptor walk sees both. */
	vhr_lock_vqs(dev);
	old = dev->mem;
	dev->mem = mem;
	vhr_unlock_vqs(dev);
	kvfree(old);
	return 0;

fault:
	kvfree(mem);
	return -EFAULT;
inval:
	kvfree(mem);
	return -EINVAL;
}

/*
 * The region holding @gpa.  Buffers mostly sit in the region of the one
 * before, so the vring's last hit is tried first (checked like any other:
 * the table may have been replaced since).
 */
static const struct vhr_mem_region *
vhr_find_region(struct vhr_virtqueue *vq, struct vhr_mem *mem, u64 gpa)
{
	const struct vhr_mem_region *r;
	u32 lo = 0, hi;

	if (!mem)
		return NULL;
	if (vq->mem_hint < mem->nregions) {
		r = &mem->regions[vq->mem_hint];
		if (gpa - r->gpa < r->size)
			return r;
	}
	hi = mem->nregions;
	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		r = &mem->regions[mid];
		if (gpa < r->gpa) {
			hi = mid;
		} else if (gpa - r->gpa >= r->size) {
			lo = mid + 1;
		} else {
			vq->mem_hint = mid;
			return r;
		}
	}
	return NULL;
}

/*
 * Guest range to iovecs of the owner's addresses; -EFAULT if unmapped.
 * @vq is locked.
 */
int vhr_translate(struct vhr_virtqueue *vq, u64 gpa, u64 len,
		  struct iovec *iov, unsigned int iov_size)
{
	struct vhr_mem *mem = vq->dev->mem;
	unsigned int n = 0;

	/* The table is swapped with every vring locked (vhr_set_memory()). */
	lockdep_assert_held(&vq->mutex);
	/* Fast path: a buffer inside the region of the last one. */
	if (likely(mem && vq->mem_hint < mem->nregions && iov_size)) {
		const struct vhr_mem_region *r = &mem->regions[vq->mem_hint];
		u64 off = gpa - r->gpa;

		if (off < r->size && len <= r->size - off) {
			iov->iov_base = u64_to_user_ptr(r->uaddr + off);
			iov->iov_len = len;
			return len ? 1 : 0;
		}
	}
	while (len) {
		const struct vhr_mem_region *r;
		u64 off, chunk;

		if (n >= iov_size)
			return -ENOBUFS;
		r = vhr_find_region(vq, mem, gpa);
		if (!r)
			return -EFAULT;
		off = gpa - r->gpa;
		chunk = min(len, r->size - off);
		iov[n].iov_base = u64_to_user_ptr(r->uaddr + off);
		iov[n].iov_len = chunk;
		n++;
		gpa += chunk;
		len -= chunk;
	}
	return n;
}

/* Copy @len bytes at guest address @gpa to @dst; -EFAULT if unmapped. */
int vhr_copy_from_guest(struct vhr_virtqueue *vq, void *dst, u64 gpa,
			size_t len)
{
	struct iovec iov[4];
	int n, i;

	n = vhr_translate(vq, gpa, len, iov, ARRAY_SIZE(iov));
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		if (copy_from_user(dst, iov[i].iov_base, iov[i].iov_len))
			return -EFAULT;
		dst += iov[i].iov_len;
	}
	return 0;
}

