// SPDX-License-Identifier: GPL-2.0
/*
 * Split vrings in the fuzzer's arena: well-formed virtio-blk requests,
 * garbage chains (lengths, flags, next, loops, indirect tables), avail
 * indices that jump, kicks and reaping.  Nothing here trusts what the
 * device wrote: every index is reduced to the fuzzer's own ring size.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <linux/virtio_blk.h>

#include "fuzz.h"

/* Request memory: the arena after the vrings. */
#define DATA_OFF	(KF_NVQ * KF_RING_SLOT)

uint64_t kf_dev_addr_of(const struct kf_rings *r, const void *p)
{
	return r->dev_base + ((const uint8_t *)p - kf_mem.arena);
}

int kf_rings_init(struct kf_rings *r, unsigned int nvq, unsigned int num,
		  uint64_t dev_base)
{
	unsigned int i;

	memset(r, 0, sizeof(*r));
	r->nvq = nvq;
	r->dev_base = dev_base;
	for (i = 0; i < KF_NVQ; i++) {
		struct kf_vring *vq = &r->vq[i];
		uint8_t *slot = kf_mem.arena + i * KF_RING_SLOT;

		vq->num = num;
		vq->desc = (void *)slot;
		vq->avail = (void *)(slot + 16 * KF_RING_MAX);
		vq->used = (void *)(slot + 16 * KF_RING_MAX + 4096);
		memset(slot, 0, KF_RING_SLOT);
		vq->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		vq->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vq->kick < 0 || vq->call < 0)
			return -errno;
	}
	return 0;
}

void kf_rings_free(struct kf_rings *r)
{
	unsigned int i;

	for (i = 0; i < KF_NVQ; i++) {
		close(r->vq[i].kick);
		close(r->vq[i].call);
	}
}

void kf_ring_uaddr(struct kf_ctx *c, const struct kf_rings *r,
		   unsigned int i, uint64_t *desc, uint64_t *avail,
		   uint64_t *used)
{
	const struct kf_vring *vq = &r->vq[i % KF_NVQ];

	*desc = (uintptr_t)vq->desc;
	*avail = (uintptr_t)vq->avail;
	*used = (uintptr_t)vq->used;
	if (kf_chance(c, 80))
		return;
	switch (kf_below(c, 3)) {
	case 0:
		*desc = kf_uaddr(c, &kf_mem);
		break;
	case 1:
		*avail = kf_uaddr(c, &kf_mem);
		break;
	default:
		*used = kf_uaddr(c, &kf_mem);
		break;
	}
}

uint64_t kf_dev_addr(struct kf_ctx *c, const struct kf_rings *r)
{
	uint64_t size = kf_mem.arena_size;

	switch (kf_below(c, 20)) {
	case 0 ... 12:
		return r->dev_base + DATA_OFF +
		       (kf_below(c, size - DATA_OFF) & ~511ull);
	case 13:
		return r->dev_base + kf_below(c, size);
	case 14:
		return r->dev_base + size - kf_below(c, 4096);
	case 15:
		return r->dev_base - 1 - kf_below(c, 4096);
	case 16:
		return kf_below(c, 1ull << 40);
	default:
		return kf_u64(c);
	}
}

/* Some memory for a request, in the arena after the rings. */
static uint8_t *data(struct kf_ctx *c, size_t len, size_t align)
{
	size_t room = kf_mem.arena_size - DATA_OFF;

	if (len > room)
		len = room;
	return kf_mem.arena + DATA_OFF +
	       (kf_below(c, room - len + 1) & ~(align - 1));
}

static void publish(struct kf_ctx *c, struct kf_vring *vq, uint16_t head,
		    uint16_t step)
{
	uint16_t idx = __atomic_load_n(&vq->avail_idx, __ATOMIC_RELAXED);

	vq->avail->ring[idx % vq->num] = head;
	__atomic_store_n(&vq->avail_idx, idx + step, __ATOMIC_RELAXED);
	__atomic_store_n(&vq->avail->idx, (uint16_t)(idx + step),
			 __ATOMIC_RELEASE);
}

static void notify(struct kf_ctx *c, struct kf_vring *vq, unsigned int q)
{
	uint64_t one = 1;

	kf_op(c, "kick vring %u", q);
	kf_end(c, write(vq->kick, &one, sizeof(one)));
}

static const uint32_t types[] = {
	VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
	VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES,
	VIRTIO_BLK_T_SECURE_ERASE, 2, 0x80000000u, 0xffffffffu,
};

/* A request as a driver would write it, with some of its fields off. */
static void post_request(struct kf_ctx *c, struct kf_rings *r,
			 unsigned int q)
{
	struct kf_vring *vq = &r->vq[q];
	struct virtio_blk_outhdr *hdr = (void *)data(c, sizeof(*hdr), 16);
	unsigned int nseg = 1 + kf_below(c, 8), n = 0, i;
	bool indirect = kf_chance(c, 30);
	struct vring_desc d[16], *t;
	uint32_t type = types[kf_below(c, kf_chance(c, 80) ? 4 : 10)];
	bool in = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	uint16_t head = kf_below(c, vq->num);
	uint64_t sector;
	uint8_t *status;

	sector = kf_chance(c, 85) ? kf_below(c, r->capacity + 1) : kf_u64(c);
	hdr->type = type;
	hdr->ioprio = kf_chance(c, 90) ? 0 : kf_u32(c);
	hdr->sector = sector;
	d[n++] = (struct vring_desc){ kf_dev_addr_of(r, hdr), sizeof(*hdr),
				      VRING_DESC_F_NEXT, 0 };
	if (type == VIRTIO_BLK_T_FLUSH)
		nseg = kf_chance(c, 80) ? 0 : 1;
	for (i = 0; i < nseg; i++) {
		uint32_t len = kf_chance(c, 85) ?
			       512 * (1 + kf_below(c, 32)) : kf_u32(c) % 70000;
		uint8_t *p = data(c, len, 512);

		if (type == VIRTIO_BLK_T_DISCARD ||
		    type == VIRTIO_BLK_T_WRITE_ZEROES) {
			struct virtio_blk_discard_write_zeroes *dz = (void *)p;

			len = kf_chance(c, 80) ? sizeof(*dz) : len;
			dz->sector = kf_below(c, r->capacity + 8);
			dz->num_sectors = kf_chance(c, 80) ?
					  kf_below(c, 2048) : kf_u32(c);
			dz->flags = kf_chance(c, 80) ? kf_below(c, 2) : kf_u32(c);
		} else if (!in) {
			kf_fill(c, p, len < 64 ? len : 64);
		}
		d[n++] = (struct vring_desc){
			kf_dev_addr_of(r, p), len,
			VRING_DESC_F_NEXT | (in ? VRING_DESC_F_WRITE : 0), 0 };
	}
	status = data(c, 1, 1);
	*status = 0xff;
	d[n++] = (struct vring_desc){ kf_dev_addr_of(r, status), 1,
				      VRING_DESC_F_WRITE, 0 };
	/* One field off now and then. */
	if (kf_chance(c, 10)) {
		i = kf_below(c, n);
		switch (kf_below(c, 4)) {
		case 0:
			d[i].addr = kf_dev_addr(c, r);
			break;
		case 1:
			d[i].len = kf_u32(c);
			break;
		case 2:
			d[i].flags ^= VRING_DESC_F_WRITE;
			break;
		default:
			d[i].flags ^= VRING_DESC_F_NEXT;
			break;
		}
	}
	kf_op(c, "request vring %u head %u type %#x sector %llu segs %u%s",
	      q, head, type, (unsigned long long)sector, nseg,
	      indirect ? " indirect" : "");
	if (indirect) {
		t = (void *)data(c, n * sizeof(*t), 16);
		for (i = 0; i < n; i++) {
			t[i] = d[i];
			t[i].next = i + 1;
		}
		vq->desc[head] = (struct vring_desc){
			kf_dev_addr_of(r, t), n * sizeof(*t),
			VRING_DESC_F_INDIRECT, 0 };
	} else {
		for (i = 0; i < n; i++) {
			uint16_t at = (head + i) % vq->num;

			vq->desc[at] = d[i];
			vq->desc[at].next = (head + i + 1) % vq->num;
		}
	}
	publish(c, vq, head, 1);
	kf_end(c, 0);
	if (kf_chance(c, 80))
		notify(c, vq, q);
}

static uint16_t garbage_flags(struct kf_ctx *c)
{
	static const uint16_t f[] = {
		0, VRING_DESC_F_NEXT, VRING_DESC_F_WRITE,
		VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, VRING_DESC_F_INDIRECT,
		VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 0xffff,
	};

	return kf_chance(c, 90) ? f[kf_below(c, 7)] : kf_rand(c);
}

static uint16_t garbage_next(struct kf_ctx *c, uint16_t self, unsigned int num)
{
	switch (kf_below(c, 6)) {
	case 0:
		return self;			/* a loop */
	case 1:
		return num + kf_below(c, 4);	/* out of range */
	case 2:
		return kf_rand(c);
	default:
		return kf_below(c, num);
	}
}

/* Random descriptors, maybe through an indirect table, published. */
static void post_garbage(struct kf_ctx *c, struct kf_rings *r,
			 unsigned int q)
{
	struct kf_vring *vq = &r->vq[q];
	unsigned int n = 1 + kf_below(c, 8), i;
	uint16_t head = kf_below(c, vq->num);

	kf_op(c, "garbage chain vring %u head %u descriptors %u", q, head, n);
	for (i = 0; i < n; i++) {
		uint16_t at = (head + i) % vq->num;
		struct vring_desc *d = &vq->desc[at];

		d->addr = kf_dev_addr(c, r);
		d->len = kf_chance(c, 70) ? kf_below(c, 70000) : kf_u32(c);
		d->flags = garbage_flags(c);
		d->next = garbage_next(c, at, vq->num);
		if (d->flags & VRING_DESC_F_INDIRECT && kf_chance(c, 70)) {
			unsigned int m = 1 + kf_below(c, 64), j;
			struct vring_desc *t = (void *)data(c, m * 16, 16);

			for (j = 0; j < m; j++) {
				t[j].addr = kf_dev_addr(c, r);
				t[j].len = kf_chance(c, 70) ?
					   kf_below(c, 70000) : kf_u32(c);
				t[j].flags = garbage_flags(c);
				t[j].next = garbage_next(c, j, m);
			}
			d->addr = kf_chance(c, 90) ? kf_dev_addr_of(r, t) :
				  kf_dev_addr(c, r);
			d->len = kf_chance(c, 80) ? m * 16 : kf_u32(c);
		}
	}
	publish(c, vq, kf_chance(c, 90) ? head : kf_rand(c), 1);
	kf_end(c, 0);
	notify(c, vq, q);
}

/* Reap what the device used; read the call eventfd. */
static void reap_used(struct kf_ctx *c, struct kf_rings *r,
		      unsigned int q)
{
	struct kf_vring *vq = &r->vq[q];
	struct pollfd p = { .fd = vq->call, .events = POLLIN };
	uint16_t used = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
	uint64_t cnt;
	int ret;

	kf_op(c, "used idx of vring %u: %u", q, used);
	ret = poll(&p, 1, kf_below(c, 20));
	if (ret == 1)
		ret = read(vq->call, &cnt, sizeof(cnt));
	kf_end(c, ret);
}

void kf_ring_op(struct kf_ctx *c, struct kf_rings *r)
{
	unsigned int q = kf_below(c, r->nvq ? r->nvq : 1);
	struct kf_vring *vq = &r->vq[q];
	uint16_t v;

	switch (kf_below(c, 12)) {
	case 0 ... 4:
		post_request(c, r, q);
		break;
	case 5:
	case 6:
		post_garbage(c, r, q);
		break;
	case 7:
		v = kf_chance(c, 50) ? vq->num + kf_below(c, 4) : kf_rand(c);
		kf_op(c, "avail index jump vring %u by %u", q, v);
		publish(c, vq, kf_below(c, vq->num), v);
		kf_end(c, 0);
		notify(c, vq, q);
		break;
	case 8:
		v = kf_rand(c);
		kf_op(c, "avail flags/used_event vring %u = %#x", q, v);
		vq->avail->flags = v & 1;
		vq->avail->ring[vq->num] = v;
		kf_end(c, 0);
		break;
	case 9:
		notify(c, vq, q);
		break;
	default:
		reap_used(c, r, q);
		break;
	}
}
