/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small userspace virtio-blk driver for /dev/vhost-blk: split vrings in
 * the test's own memory, described to the device by a 1:1 memory table
 * (guest physical address = the test's virtual address).  Used by the
 * selftests and by the benchmark, which also serves the same rings from a
 * userspace thread for comparison.
 */
#ifndef KVMARM_IO_VBLK_H
#define KVMARM_IO_VBLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/vhost.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ring.h>

#include <linux/vhost_blk.h>

#define VBLK_MAX_QUEUES	16

struct vblk_vq {
	unsigned int num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t free_head;
	uint16_t num_free;
	uint16_t avail_idx;
	uint16_t last_used;
	uint16_t kick_idx;		/* avail_idx at the last vblk_kick() */
	int kick;
	int call;
	int err;
	void **cookie;			/* per head */
	uint16_t *chain_len;		/* descriptors per head */
	struct vring_desc *indirect;	/* num tables of VBLK_IND_MAX */
};

#define VBLK_IND_MAX	256

struct vblk {
	int fd;
	uint8_t *arena;
	size_t arena_size;
	size_t arena_used;
	uint64_t features;
	uint64_t gpa_base;		/* guest address of arena[0] */
	bool vdpa;			/* a vhost-vdpa device */
	unsigned int nvq;
	struct vblk_vq vq[VBLK_MAX_QUEUES];
};

/* Set-up options. */
struct vblk_opts {
	unsigned int nvq;
	unsigned int num;		/* ring size */
	size_t arena_size;
	uint64_t features;		/* to acknowledge (masked by offer) */
	bool no_backend;
	bool no_device;			/* rings only, for a userspace backend */
	int backend_fd;
	bool log_used;			/* VHOST_VRING_F_LOG on every vring */
	uint64_t log_base;		/* with VHOST_F_LOG_ALL */
	uint64_t gpa_base;		/* 0: guest address = test address */
	const char *vdpa;		/* /dev/vhost-vdpa-N instead */
	int dev_fd;			/* > 0: /dev/vhost-blk, open already */
};

/* The guest (device-visible) address of arena memory @p. */
static inline uint64_t vblk_gpa(const struct vblk *b, const void *p)
{
	return b->gpa_base + ((const uint8_t *)p - b->arena);
}

/* Event-index helpers (as in the virtio spec, 2.7.7.2 and 2.7.10). */
static inline uint16_t *vblk_avail_event(struct vblk_vq *vq)
{
	return (uint16_t *)&vq->used->ring[vq->num];
}

static inline uint16_t *vblk_used_event(struct vblk_vq *vq)
{
	return &vq->avail->ring[vq->num];
}

static inline bool vblk_need_event(uint16_t event, uint16_t new,
				   uint16_t old)
{
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

/* One xorshift64 step: the tests' and the benchmark's pseudo-random numbers. */
static inline uint64_t vblk_xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Every call returns 0 or -errno; a failing step is named in vblk_err. */
extern char vblk_err[256];

int vblk_open(struct vblk *b, const struct vblk_opts *o);
/*
 * vhost-vdpa: map [@iova, @iova + @size) to the test's @uaddr with
 * VHOST_ACCESS_* @perm, or (@uaddr NULL) unmap it, by IOTLB message.
 */
int vblk_vdpa_map(struct vblk *b, uint64_t iova, uint64_t size, void *uaddr,
		  uint8_t perm);
/* vhost-vdpa: the device's virtio status. */
int vblk_vdpa_status(struct vblk *b);
/* Set up vring @i (of @num entries) of an open device. */
int vblk_add_vq(struct vblk *b, unsigned int i, unsigned int num);
void vblk_close(struct vblk *b);
void *vblk_alloc(struct vblk *b, size_t size, size_t align);

/* One buffer of a request: where, how long. */
struct vblk_seg {
	void *addr;
	uint32_t len;
};

/*
 * Queue a chain: @nout readable segments then @nin writable ones, as
 * direct descriptors or through one indirect table.  Return the head or
 * -ENOSPC when the ring is full.
 */
int vblk_add(struct vblk *b, unsigned int q, const struct vblk_seg *segs,
	     unsigned int nout, unsigned int nin, bool indirect, void *cookie);
/* Publish new requests; kick unless the device's avail_event says not to. */
void vblk_kick(struct vblk *b, unsigned int q);
/* Publish new requests and kick in any case. */
void vblk_notify(struct vblk *b, unsigned int q);
/* Take one used chain: its cookie and written length; 0 if one, -EAGAIN. */
int vblk_get_used(struct vblk *b, unsigned int q, void **cookie,
		  uint32_t *len);
/* Wait for the call eventfd up to @ms; 0 when signalled. */
int vblk_wait(struct vblk *b, unsigned int q, int ms);

/*
 * A virtio-blk request in arena memory: header, data split in @nsegs
 * segments, status byte.  @data must be arena memory.
 */
struct vblk_req {
	struct virtio_blk_outhdr *hdr;
	uint8_t *status;
	void *data;
	size_t len;
	uint32_t used_len;
	bool done;
};

int vblk_req_init(struct vblk *b, struct vblk_req *r);
int vblk_submit(struct vblk *b, unsigned int q, struct vblk_req *r,
		uint32_t type, uint64_t sector, void *data, size_t len,
		unsigned int nsegs, bool indirect);
/* Submit one request and wait for it; returns the status byte or -errno. */
int vblk_do(struct vblk *b, unsigned int q, uint32_t type, uint64_t sector,
	    void *data, size_t len);
/* Wait until @r is done (reaping others of queue @q as they come). */
int vblk_complete(struct vblk *b, unsigned int q, struct vblk_req *r,
		  int ms);

#endif
