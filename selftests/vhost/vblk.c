// SPDX-License-Identifier: GPL-2.0
/*
 * A small userspace virtio-blk driver for /dev/vhost-blk and for vDPA
 * block devices through /dev/vhost-vdpa-N.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/virtio_config.h>

#include "vblk.h"

char vblk_err[256];

static int fail(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(vblk_err, sizeof(vblk_err), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(vblk_err))
		snprintf(vblk_err + n, sizeof(vblk_err) - n, ": %s",
			 strerror(saved));
	return saved ? -saved : -EINVAL;
}

void *vblk_alloc(struct vblk *b, size_t size, size_t align)
{
	size_t off = (b->arena_used + align - 1) & ~(align - 1);

	if (off + size > b->arena_size)
		return NULL;
	b->arena_used = off + size;
	return b->arena + off;
}

static int vq_setup(struct vblk *b, unsigned int i, unsigned int num,
		    const struct vblk_opts *o)
{
	struct vblk_vq *vq = &b->vq[i];
	struct vhost_vring_state s = { .index = i };
	struct vhost_vring_addr a = { .index = i };
	struct vhost_vring_file f = { .index = i };
	unsigned int j;
	bool dev = b->fd >= 0;

	vq->num = num;
	vq->desc = vblk_alloc(b, num * sizeof(*vq->desc), 4096);
	vq->avail = vblk_alloc(b, 4 + 2 * num + 2, 4096);
	vq->used = vblk_alloc(b, 4 + 8 * num + 2, 4096);
	vq->indirect = vblk_alloc(b, (size_t)num * VBLK_IND_MAX *
				  sizeof(struct vring_desc), 4096);
	vq->cookie = calloc(num, sizeof(*vq->cookie));
	vq->chain_len = calloc(num, sizeof(*vq->chain_len));
	if (!vq->desc || !vq->avail || !vq->used || !vq->indirect ||
	    !vq->cookie || !vq->chain_len) {
		errno = ENOMEM;
		return fail("vring %u memory", i);
	}
	for (j = 0; j < num; j++)
		vq->desc[j].next = j + 1;
	vq->free_head = 0;
	vq->num_free = num;
	vq->kick = eventfd(0, EFD_CLOEXEC);
	vq->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->err = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vq->kick < 0 || vq->call < 0 || vq->err < 0)
		return fail("eventfd");

	if (!dev)
		return 0;
	s.num = num;
	if (ioctl(b->fd, VHOST_SET_VRING_NUM, &s))
		return fail("VHOST_SET_VRING_NUM(%u)", i);
	s.num = 0;
	if (ioctl(b->fd, VHOST_SET_VRING_BASE, &s))
		return fail("VHOST_SET_VRING_BASE(%u)", i);
	a.desc_user_addr = (uintptr_t)vq->desc;
	a.avail_user_addr = (uintptr_t)vq->avail;
	a.used_user_addr = (uintptr_t)vq->used;
	a.log_guest_addr = vblk_gpa(b, vq->used);
	a.flags = o->log_used ? 1u << VHOST_VRING_F_LOG : 0;
	if (ioctl(b->fd, VHOST_SET_VRING_ADDR, &a))
		return fail("VHOST_SET_VRING_ADDR(%u)", i);
	f.fd = vq->kick;
	if (ioctl(b->fd, VHOST_SET_VRING_KICK, &f))
		return fail("VHOST_SET_VRING_KICK(%u)", i);
	f.fd = vq->call;
	if (ioctl(b->fd, VHOST_SET_VRING_CALL, &f))
		return fail("VHOST_SET_VRING_CALL(%u)", i);
	if (b->vdpa) {
		s.num = 1;
		if (ioctl(b->fd, VHOST_VDPA_SET_VRING_ENABLE, &s))
			return fail("VHOST_VDPA_SET_VRING_ENABLE(%u)", i);
		return 0;
	}
	f.fd = vq->err;
	if (ioctl(b->fd, VHOST_SET_VRING_ERR, &f))
		return fail("VHOST_SET_VRING_ERR(%u)", i);
	return 0;
}

int vblk_add_vq(struct vblk *b, unsigned int i, unsigned int num)
{
	struct vblk_opts o = {};
	int ret;

	if (i >= VBLK_MAX_QUEUES)
		return -EINVAL;
	ret = vq_setup(b, i, num, &o);
	if (!ret && i >= b->nvq)
		b->nvq = i + 1;
	return ret;
}

int vblk_vdpa_map(struct vblk *b, uint64_t iova, uint64_t size, void *uaddr,
		  uint8_t perm)
{
	struct vhost_msg_v2 m = { .type = VHOST_IOTLB_MSG_V2 };

	m.iotlb.iova = iova;
	m.iotlb.size = size;
	m.iotlb.uaddr = (uintptr_t)uaddr;
	m.iotlb.perm = perm;
	m.iotlb.type = uaddr ? VHOST_IOTLB_UPDATE : VHOST_IOTLB_INVALIDATE;
	if (write(b->fd, &m, sizeof(m)) != sizeof(m))
		return fail("IOTLB %s %#llx+%#llx", uaddr ? "update" : "invalidate",
			    (unsigned long long)iova, (unsigned long long)size);
	return 0;
}

int vblk_vdpa_status(struct vblk *b)
{
	uint8_t status;

	if (ioctl(b->fd, VHOST_VDPA_GET_STATUS, &status))
		return fail("VHOST_VDPA_GET_STATUS");
	return status;
}

static int vdpa_set_status(struct vblk *b, uint8_t add)
{
	uint8_t status;

	if (ioctl(b->fd, VHOST_VDPA_GET_STATUS, &status))
		return fail("VHOST_VDPA_GET_STATUS");
	status |= add;
	if (ioctl(b->fd, VHOST_VDPA_SET_STATUS, &status))
		return fail("VHOST_VDPA_SET_STATUS(%#x)", status);
	return 0;
}

/*
 * The vhost-vdpa handshake, as a VMM does it: owner, IOTLB v2 messages,
 * features, the arena mapped 1:1 (I/O virtual address = test address),
 * the rings, then DRIVER_OK.
 */
static int vblk_open_vdpa(struct vblk *b, const struct vblk_opts *o)
{
	uint64_t feat, backend = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	unsigned int i;
	int ret;

	b->vdpa = true;
	b->fd = open(o->vdpa, O_RDWR | O_CLOEXEC);
	if (b->fd < 0)
		return fail("open %s", o->vdpa);
	if (ioctl(b->fd, VHOST_SET_OWNER))
		return fail("VHOST_SET_OWNER");
	if (ioctl(b->fd, VHOST_SET_BACKEND_FEATURES, &backend))
		return fail("VHOST_SET_BACKEND_FEATURES");
	ret = vdpa_set_status(b, VIRTIO_CONFIG_S_ACKNOWLEDGE |
			      VIRTIO_CONFIG_S_DRIVER);
	if (ret)
		return ret;
	if (ioctl(b->fd, VHOST_GET_FEATURES, &feat))
		return fail("VHOST_GET_FEATURES");
	b->features = o->features & feat;
	if (ioctl(b->fd, VHOST_SET_FEATURES, &b->features))
		return fail("VHOST_SET_FEATURES");
	ret = vdpa_set_status(b, VIRTIO_CONFIG_S_FEATURES_OK);
	if (ret)
		return ret;
	b->gpa_base = (uintptr_t)b->arena;
	ret = vblk_vdpa_map(b, b->gpa_base, b->arena_size, b->arena,
			    VHOST_ACCESS_RW);
	if (ret)
		return ret;
	b->nvq = o->nvq ? o->nvq : 1;
	for (i = 0; i < b->nvq; i++) {
		ret = vq_setup(b, i, o->num ? o->num : 128, o);
		if (ret)
			return ret;
	}
	return vdpa_set_status(b, VIRTIO_CONFIG_S_DRIVER_OK);
}

int vblk_open(struct vblk *b, const struct vblk_opts *o)
{
	struct {
		struct vhost_memory m;
		struct vhost_memory_region r;
	} mem = {};
	struct vhost_vring_file f = {};
	unsigned int i;
	uint64_t feat;
	int ret;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	for (i = 0; i < VBLK_MAX_QUEUES; i++) {
		b->vq[i].kick = -1;
		b->vq[i].call = -1;
		b->vq[i].err = -1;
	}
	b->arena_size = o->arena_size ? o->arena_size : 64 << 20;
	b->arena = mmap(NULL, b->arena_size, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (b->arena == MAP_FAILED) {
		b->arena = NULL;
		return fail("arena");
	}
	if (o->no_device) {
		b->gpa_base = (uintptr_t)b->arena;
		b->features = o->features;
		b->nvq = o->nvq ? o->nvq : 1;
		for (i = 0; i < b->nvq; i++) {
			ret = vq_setup(b, i, o->num ? o->num : 128, o);
			if (ret)
				return ret;
		}
		return 0;
	}
	if (o->vdpa)
		return vblk_open_vdpa(b, o);
	b->fd = o->dev_fd > 0 ? o->dev_fd :
		open("/dev/vhost-blk", O_RDWR | O_CLOEXEC);
	if (b->fd < 0)
		return fail("open /dev/vhost-blk");
	if (ioctl(b->fd, VHOST_SET_OWNER))
		return fail("VHOST_SET_OWNER");
	if (ioctl(b->fd, VHOST_GET_FEATURES, &feat))
		return fail("VHOST_GET_FEATURES");
	if (o->log_base && ioctl(b->fd, VHOST_SET_LOG_BASE, &o->log_base))
		return fail("VHOST_SET_LOG_BASE");
	b->features = o->features & feat;
	if (ioctl(b->fd, VHOST_SET_FEATURES, &b->features))
		return fail("VHOST_SET_FEATURES");
	b->gpa_base = o->gpa_base ? o->gpa_base : (uintptr_t)b->arena;
	mem.m.nregions = 1;
	mem.r.guest_phys_addr = b->gpa_base;
	mem.r.userspace_addr = (uintptr_t)b->arena;
	mem.r.memory_size = b->arena_size;
	if (ioctl(b->fd, VHOST_SET_MEM_TABLE, &mem))
		return fail("VHOST_SET_MEM_TABLE");
	b->nvq = o->nvq ? o->nvq : 1;
	for (i = 0; i < b->nvq; i++) {
		ret = vq_setup(b, i, o->num ? o->num : 128, o);
		if (ret)
			return ret;
	}
	if (!o->no_backend) {
		f.fd = o->backend_fd;
		if (ioctl(b->fd, VHOST_BLK_SET_BACKEND, &f))
			return fail("VHOST_BLK_SET_BACKEND");
	}
	return 0;
}

void vblk_close(struct vblk *b)
{
	unsigned int i;

	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	for (i = 0; i < VBLK_MAX_QUEUES; i++) {
		struct vblk_vq *vq = &b->vq[i];

		if (vq->kick >= 0)
			close(vq->kick);
		if (vq->call >= 0)
			close(vq->call);
		if (vq->err >= 0)
			close(vq->err);
		vq->kick = -1;
		vq->call = -1;
		vq->err = -1;
		free(vq->cookie);
		free(vq->chain_len);
		vq->cookie = NULL;
		vq->chain_len = NULL;
	}
	if (b->arena)
		munmap(b->arena, b->arena_size);
	b->arena = NULL;
}

static bool has(struct vblk *b, int bit)
{
	return b->features & (1ULL << bit);
}

int vblk_add(struct vblk *b, unsigned int q, const struct vblk_seg *segs,
	     unsigned int nout, unsigned int nin, bool indirect, void *cookie)
{
	struct vblk_vq *vq = &b->vq[q];
	unsigned int n = nout + nin, need = indirect ? 1 : n, i;
	uint16_t head, d, prev = 0;

	if (!n || (indirect && n > VBLK_IND_MAX))
		return -EINVAL;
	if (vq->num_free < need)
		return -ENOSPC;
	head = vq->free_head;
	if (indirect) {
		struct vring_desc *t = vq->indirect +
				       (size_t)head * VBLK_IND_MAX;

		for (i = 0; i < n; i++) {
			t[i].addr = vblk_gpa(b, segs[i].addr);
			t[i].len = segs[i].len;
			t[i].flags = (i >= nout ? VRING_DESC_F_WRITE : 0) |
				     (i + 1 < n ? VRING_DESC_F_NEXT : 0);
			t[i].next = i + 1;
		}
		vq->desc[head].addr = vblk_gpa(b, t);
		vq->desc[head].len = n * sizeof(*t);
		vq->desc[head].flags = VRING_DESC_F_INDIRECT;
		vq->free_head = vq->desc[head].next;
	} else {
		d = head;
		for (i = 0; i < n; i++) {
			vq->desc[d].addr = vblk_gpa(b, segs[i].addr);
			vq->desc[d].len = segs[i].len;
			vq->desc[d].flags = (i >= nout ? VRING_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VRING_DESC_F_NEXT : 0);
			prev = d;
			d = vq->desc[d].next;
		}
		vq->free_head = d;
		(void)prev;
	}
	vq->num_free -= need;
	vq->chain_len[head] = need;
	vq->cookie[head] = cookie;
	vq->avail->ring[vq->avail_idx % vq->num] = head;
	vq->avail_idx++;
	return head;
}

/* Publish the new available entries; true if the device wants a kick. */
static bool vblk_publish(struct vblk *b, struct vblk_vq *vq)
{
	uint16_t old = vq->kick_idx, new = vq->avail_idx, event;

	vq->kick_idx = new;
	/* Ring entries before the index, the index before the kick. */
	__atomic_store_n(&vq->avail->idx, new, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!has(b, VIRTIO_RING_F_EVENT_IDX))
		return true;
	event = __atomic_load_n(vblk_avail_event(vq), __ATOMIC_ACQUIRE);
	return vblk_need_event(event, new, old);
}

static void vblk_write_kick(struct vblk_vq *vq)
{
	uint64_t one = 1;

	if (write(vq->kick, &one, sizeof(one)) != sizeof(one))
		perror("kick");
}

void vblk_kick(struct vblk *b, unsigned int q)
{
	if (vblk_publish(b, &b->vq[q]))
		vblk_write_kick(&b->vq[q]);
}

void vblk_notify(struct vblk *b, unsigned int q)
{
	vblk_publish(b, &b->vq[q]);
	vblk_write_kick(&b->vq[q]);
}

int vblk_get_used(struct vblk *b, unsigned int q, void **cookie,
		  uint32_t *len)
{
	struct vblk_vq *vq = &b->vq[q];
	uint16_t idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
	struct vring_used_elem *e;
	uint16_t head, n, last;

	if (idx == vq->last_used) {
		if (!has(b, VIRTIO_RING_F_EVENT_IDX))
			return -EAGAIN;
		/*
		 * Ask for a call when the next one is used, then look again:
		 * the device may have used one before it saw the request.
		 */
		__atomic_store_n(vblk_used_event(vq), vq->last_used,
				 __ATOMIC_SEQ_CST);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
		if (idx == vq->last_used)
			return -EAGAIN;
	}
	e = &vq->used->ring[vq->last_used % vq->num];
	head = e->id;
	if (head >= vq->num || !vq->chain_len[head])
		return -EIO;
	if (cookie)
		*cookie = vq->cookie[head];
	if (len)
		*len = e->len;
	/* Return the chain's descriptors to the free list. */
	n = vq->chain_len[head];
	vq->chain_len[head] = 0;
	vq->num_free += n;
	last = head;
	while (--n)
		last = vq->desc[last].next;
	vq->desc[last].next = vq->free_head;
	vq->free_head = head;
	vq->last_used++;
	return 0;
}

int vblk_wait(struct vblk *b, unsigned int q, int ms)
{
	struct pollfd p = { .fd = b->vq[q].call, .events = POLLIN };
	uint64_t cnt;

	if (poll(&p, 1, ms) != 1)
		return -ETIMEDOUT;
	if (read(p.fd, &cnt, sizeof(cnt)) != sizeof(cnt))
		return -errno;
	return 0;
}

int vblk_req_init(struct vblk *b, struct vblk_req *r)
{
	memset(r, 0, sizeof(*r));
	r->hdr = vblk_alloc(b, sizeof(*r->hdr), 16);
	r->status = vblk_alloc(b, 1, 1);
	return r->hdr && r->status ? 0 : -ENOMEM;
}

int vblk_submit(struct vblk *b, unsigned int q, struct vblk_req *r,
		uint32_t type, uint64_t sector, void *data, size_t len,
		unsigned int nsegs, bool indirect)
{
	struct vblk_seg segs[VBLK_IND_MAX];
	bool in = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	unsigned int n = 0, i;
	size_t off = 0;
	int ret;

	if (!nsegs || !len)
		nsegs = 0;
	if (nsegs + 2 > VBLK_IND_MAX)
		return -EINVAL;
	r->hdr->type = type;
	r->hdr->ioprio = 0;
	r->hdr->sector = sector;
	*r->status = 0xff;
	r->data = data;
	r->len = len;
	r->done = false;
	segs[n].addr = r->hdr;
	segs[n++].len = sizeof(*r->hdr);
	for (i = 0; i < nsegs; i++) {
		/* Whole sectors per segment when the length allows it. */
		size_t each = len % 512 || len / 512 < nsegs ? len / nsegs :
			      len / 512 / nsegs * 512;
		size_t l = i + 1 == nsegs ? len - off : each;

		segs[n].addr = (uint8_t *)data + off;
		segs[n++].len = l;
		off += l;
	}
	segs[n].addr = r->status;
	segs[n++].len = 1;
	ret = vblk_add(b, q, segs, in ? 1 : n - 1, in ? n - 1 : 1, indirect,
		       r);
	return ret < 0 ? ret : 0;
}

int vblk_complete(struct vblk *b, unsigned int q, struct vblk_req *r,
		  int ms)
{
	struct vblk_req *done;
	uint32_t len;
	void *c;

	while (!r->done) {
		/* vblk_get_used() arms the event index and looks again. */
		if (vblk_get_used(b, q, &c, &len) == 0) {
			done = c;
			done->used_len = len;
			done->done = true;
			continue;
		}
		if (vblk_wait(b, q, ms))
			return -ETIMEDOUT;
	}
	return 0;
}

int vblk_do(struct vblk *b, unsigned int q, uint32_t type, uint64_t sector,
	    void *data, size_t len)
{
	struct vblk_req r;
	int ret;

	ret = vblk_req_init(b, &r);
	if (ret)
		return ret;
	ret = vblk_submit(b, q, &r, type, sector, data, len, len ? 1 : 0,
			  false);
	if (ret)
		return ret;
	vblk_kick(b, q);
	ret = vblk_complete(b, q, &r, 10000);
	return ret ? ret : *r.status;
}
