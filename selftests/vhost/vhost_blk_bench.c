// SPDX-License-Identifier: GPL-2.0
/*
 * vhost_blk_bench - vhost-blk against a userspace backend and the raw
 * backing store, side by side in one boot.
 *
 * The same userspace virtio-blk driver (vblk.c) drives (a) /dev/vhost-blk
 * and (b) the same rings served by a thread of this program that does what
 * a VMM's userspace virtio-blk backend does (preadv/pwritev per request);
 * (c) is the backing store itself through io_uring, the limit.  Backings:
 * null_blk (O_DIRECT) and a tmpfs file.  Reports IOPS for 4 KiB random
 * reads and writes at queue depth 1 and 32 and MB/s for 128 KiB sequential
 * reads and writes (the median of five runs each, or as many as asked),
 * and the ratios a/c and a/b.
 *
 * Usage: vhost_blk_bench [seconds per run [runs per case]]
 *   BENCH_ONLY=<substring of a workload name>, BENCH_MODES=<subset of abc>,
 *   BENCH_BACKING=null_blk|tmpfs
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/io_uring.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "kselftest.h"
#include "vblk.h"

#define FEATURES	((1ULL << VIRTIO_F_VERSION_1) |			\
			 (1ULL << VIRTIO_RING_F_EVENT_IDX) |		\
			 (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |	\
			 (1ULL << VIRTIO_BLK_F_SEG_MAX) |		\
			 (1ULL << VIRTIO_BLK_F_FLUSH))
#define MAX_QD		32
#define RING		256

static double secs = 2.0;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	return vblk_xorshift(&rng);
}

struct workload {
	const char *name;
	size_t bs;
	unsigned int qd;
	bool write;
	bool seq;
	bool mbps;
};

static const struct workload workloads[] = {
	{ "4k-randread-qd1", 4096, 1, false, false, false },
	{ "4k-randread-qd32", 4096, 32, false, false, false },
	{ "4k-randwrite-qd1", 4096, 1, true, false, false },
	{ "4k-randwrite-qd32", 4096, 32, true, false, false },
	{ "128k-seqread-qd4", 128 << 10, 4, false, true, true },
	{ "128k-seqwrite-qd4", 128 << 10, 4, true, true, true },
};

static uint64_t next_off(const struct workload *w, uint64_t size,
			 uint64_t *pos)
{
	uint64_t off;

	if (w->seq) {
		off = *pos;
		*pos = (*pos + w->bs) % (size - size % w->bs);
		return off;
	}
	return (rnd() % (size / w->bs)) * w->bs;
}

/*
 * (b): a userspace virtio-blk backend serving vring 0 of @b, as a VMM's
 * does: event-index notification both ways, one preadv/pwritev per request.
 */
struct ubackend {
	struct vblk *b;
	int fd;
	atomic_bool stop;
	pthread_t thread;
};

/* Serve one request at @head; return the bytes written to the driver. */
static uint32_t ubackend_req(struct ubackend *u, struct vblk_vq *vq,
			     uint16_t head)
{
	struct vring_desc *d = &vq->desc[head], *t = NULL;
	struct iovec iov[VBLK_IND_MAX];
	struct virtio_blk_outhdr *h;
	unsigned int n = 0, i = 0, cnt_d;
	uint8_t *status = NULL;
	size_t len = 0;
	ssize_t ret;

	if (d->flags & VRING_DESC_F_INDIRECT) {
		t = (struct vring_desc *)(uintptr_t)d->addr;
		cnt_d = d->len / sizeof(*t);
		d = t;
	} else {
		cnt_d = vq->num;
	}
	h = (void *)(uintptr_t)d->addr;
	for (;;) {
		if (i > 0 && (d->flags & VRING_DESC_F_NEXT)) {
			iov[n].iov_base = (void *)(uintptr_t)d->addr;
			iov[n].iov_len = d->len;
			len += d->len;
			n++;
		} else if (i > 0) {
			status = (void *)(uintptr_t)d->addr;
		}
		if (!(d->flags & VRING_DESC_F_NEXT) || ++i >= cnt_d)
			break;
		d = t ? &t[d->next] : &vq->desc[d->next];
	}
	if (h->type == VIRTIO_BLK_T_IN)
		ret = preadv(u->fd, iov, n, h->sector * 512);
	else if (h->type == VIRTIO_BLK_T_OUT)
		ret = pwritev(u->fd, iov, n, h->sector * 512);
	else
		ret = fsync(u->fd) ? -1 : 0;
	if (status)
		*status = ret == (ssize_t)len ? VIRTIO_BLK_S_OK :
						VIRTIO_BLK_S_IOERR;
	return h->type == VIRTIO_BLK_T_IN ? len + 1 : 1;
}

static void *ubackend_run(void *arg)
{
	struct ubackend *u = arg;
	struct vblk_vq *vq = &u->b->vq[0];
	uint16_t last_avail = 0, used_idx = 0, signalled = 0;
	uint64_t cnt;

	while (!atomic_load(&u->stop)) {
		struct pollfd p = { .fd = vq->kick, .events = POLLIN };
		uint16_t avail;

		avail = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
		while (last_avail != avail) {
			uint16_t head = vq->avail->ring[last_avail % vq->num];
			uint32_t len = ubackend_req(u, vq, head);

			vq->used->ring[used_idx % vq->num].id = head;
			vq->used->ring[used_idx % vq->num].len = len;
			used_idx++;
			__atomic_store_n(&vq->used->idx, used_idx,
					 __ATOMIC_RELEASE);
			last_avail++;
			avail = __atomic_load_n(&vq->avail->idx,
						__ATOMIC_ACQUIRE);
		}
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (vblk_need_event(__atomic_load_n(vblk_used_event(vq),
						    __ATOMIC_ACQUIRE),
				    used_idx, signalled)) {
			cnt = 1;
			if (write(vq->call, &cnt, sizeof(cnt)) < 0)
				break;
		}
		signalled = used_idx;
		/* Ask for a kick at the next entry, then look again. */
		__atomic_store_n(vblk_avail_event(vq), last_avail,
				 __ATOMIC_SEQ_CST);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) !=
		    last_avail)
			continue;
		if (poll(&p, 1, 100) == 1 &&
		    read(vq->kick, &cnt, sizeof(cnt)) < 0)
			break;
	}
	return NULL;
}

/*
 * Requests go in indirect tables, as Linux's virtio_ring puts every request
 * of more than one buffer when VIRTIO_RING_F_INDIRECT_DESC is on.
 */
#define INDIRECT	true

/* Run @w through the ring driver on vring 0; return ops per second. */
static double run_ring(struct vblk *b, const struct workload *w,
		       uint64_t size)
{
	struct vblk_req req[MAX_QD];
	uint8_t *buf[MAX_QD];
	unsigned int i, inflight = 0;
	uint64_t ops = 0, pos = 0;
	double t0, t1;
	uint32_t len;
	void *c;

	for (i = 0; i < w->qd; i++) {
		if (vblk_req_init(b, &req[i]))
			return -1;
		buf[i] = vblk_alloc(b, w->bs, 4096);
		if (!buf[i])
			return -1;
		memset(buf[i], 0x5a, w->bs);
	}
	t0 = now();
	for (i = 0; i < w->qd; i++) {
		if (vblk_submit(b, 0, &req[i], w->write ? VIRTIO_BLK_T_OUT :
				VIRTIO_BLK_T_IN, next_off(w, size, &pos) / 512,
				buf[i], w->bs, 1, INDIRECT))
			return -1;
		inflight++;
	}
	vblk_kick(b, 0);
	for (;;) {
		int got = 0;

		while (vblk_get_used(b, 0, &c, &len) == 0) {
			struct vblk_req *r = c;

			if (*r->status != VIRTIO_BLK_S_OK)
				return -1;
			ops++;
			inflight--;
			got++;
			if (now() - t0 < secs) {
				i = r - req;
				if (vblk_submit(b, 0, r, w->write ?
						VIRTIO_BLK_T_OUT :
						VIRTIO_BLK_T_IN,
						next_off(w, size, &pos) / 512,
						buf[i], w->bs, 1, INDIRECT))
					return -1;
				inflight++;
			}
		}
		if (got)
			vblk_kick(b, 0);
		if (!inflight)
			break;
		if (!got && vblk_wait(b, 0, 5000))
			return -1;
	}
	t1 = now();
	return ops / (t1 - t0);
}

/* (c): io_uring on the backing store. */
struct uring {
	int fd;
	unsigned int *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static int uring_init(struct uring *u, unsigned int entries)
{
	struct io_uring_params p = {};
	void *sq, *cq;

	u->fd = syscall(__NR_io_uring_setup, entries, &p);
	if (u->fd < 0)
		return -errno;
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned int),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd,
		  IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries *
		  sizeof(struct io_uring_cqe), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_CQ_RING);
	u->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		       u->fd, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || u->sqes == MAP_FAILED)
		return -ENOMEM;
	u->sq_head = sq + p.sq_off.head;
	u->sq_tail = sq + p.sq_off.tail;
	u->sq_mask = sq + p.sq_off.ring_mask;
	u->sq_array = sq + p.sq_off.array;
	u->cq_head = cq + p.cq_off.head;
	u->cq_tail = cq + p.cq_off.tail;
	u->cq_mask = cq + p.cq_off.ring_mask;
	u->cqes = cq + p.cq_off.cqes;
	return 0;
}

static void uring_queue(struct uring *u, int fd, bool write, void *buf,
			size_t len, uint64_t off, uint64_t data)
{
	unsigned int tail = *u->sq_tail, idx = tail & *u->sq_mask;
	struct io_uring_sqe *s = &u->sqes[idx];

	memset(s, 0, sizeof(*s));
	s->opcode = write ? IORING_OP_WRITE : IORING_OP_READ;
	s->fd = fd;
	s->addr = (uintptr_t)buf;
	s->len = len;
	s->off = off;
	s->user_data = data;
	u->sq_array[idx] = idx;
	__atomic_store_n(u->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

static double run_uring(int fd, const struct workload *w, uint64_t size)
{
	struct uring u;
	uint8_t *buf;
	unsigned int i, inflight = 0, submit = 0;
	uint64_t ops = 0, pos = 0;
	double t0, t1;

	if (uring_init(&u, MAX_QD))
		return -1;
	buf = aligned_alloc(4096, w->bs * w->qd);
	memset(buf, 0x5a, w->bs * w->qd);
	t0 = now();
	for (i = 0; i < w->qd; i++) {
		uring_queue(&u, fd, w->write, buf + i * w->bs, w->bs,
			    next_off(w, size, &pos), i);
		submit++;
	}
	for (;;) {
		unsigned int head, tail;

		if (syscall(__NR_io_uring_enter, u.fd, submit, 1,
			    IORING_ENTER_GETEVENTS, NULL, 0) < 0)
			return -1;
		inflight += submit;
		submit = 0;
		head = *u.cq_head;
		tail = __atomic_load_n(u.cq_tail, __ATOMIC_ACQUIRE);
		for (; head != tail; head++) {
			struct io_uring_cqe *c = &u.cqes[head & *u.cq_mask];

			if (c->res != (int)w->bs)
				return -1;
			ops++;
			inflight--;
			if (now() - t0 < secs) {
				uring_queue(&u, fd, w->write,
					    buf + c->user_data * w->bs, w->bs,
					    next_off(w, size, &pos),
					    c->user_data);
				submit++;
			}
		}
		__atomic_store_n(u.cq_head, head, __ATOMIC_RELEASE);
		if (!inflight && !submit)
			break;
	}
	t1 = now();
	close(u.fd);
	free(buf);
	return ops / (t1 - t0);
}

static double run_mode(char mode, int fd, const struct workload *w,
		       uint64_t size)
{
	struct vblk_opts o = {
		.nvq = 1, .num = RING, .arena_size = 16 << 20,
		.features = FEATURES, .backend_fd = fd,
	};
	struct ubackend ub = { .fd = fd };
	struct vblk b;
	double r;

	if (mode == 'c')
		return run_uring(fd, w, size);
	if (mode == 'b') {
		o.no_device = true;
		if (vblk_open(&b, &o))
			return -1;
		ub.b = &b;
		atomic_init(&ub.stop, false);
		pthread_create(&ub.thread, NULL, ubackend_run, &ub);
		r = run_ring(&b, w, size);
		atomic_store(&ub.stop, true);
		pthread_join(ub.thread, NULL);
	} else {
		if (vblk_open(&b, &o)) {
			fprintf(stderr, "vhost-blk: %s\n", vblk_err);
			return -1;
		}
		r = run_ring(&b, w, size);
	}
	vblk_close(&b);
	return r;
}

/* Is backing store @name to be measured (BENCH_BACKING)? */
static bool backing_wanted(const char *name)
{
	const char *backing = getenv("BENCH_BACKING");

	return !backing || !strcmp(backing, name);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The median of reps runs per mode; the modes take turns run by run, so
 * that drift of the emulated machine's speed hits all of them alike.
 */
#define MAX_REPS	9
static unsigned int reps = 5;

static double median(double *r)
{
	qsort(r, reps, sizeof(r[0]), cmp_double);
	return r[reps / 2];
}

static void bench(const char *name, int fd, uint64_t size)
{
	const char *only = getenv("BENCH_ONLY");
	const char *modes = getenv("BENCH_MODES");
	unsigned int i;

	printf("# backing: %s (%llu MiB)\n", name,
	       (unsigned long long)(size >> 20));
	printf("# %-20s %12s %12s %12s %7s %7s\n", "workload",
	       "a:vhost-blk", "b:userspace", "c:io_uring", "a/c", "a/b");
	for (i = 0; i < ARRAY_SIZE(workloads); i++) {
		const struct workload *w = &workloads[i];
		double ra[MAX_REPS] = {}, rb[MAX_REPS] = {}, rc[MAX_REPS] = {};
		double a, b, c, k = w->mbps ? w->bs / 1e6 : 1;
		unsigned int j;

		if (only && !strstr(w->name, only))
			continue;
		for (j = 0; j < reps; j++) {
			if (!modes || strchr(modes, 'c'))
				rc[j] = run_mode('c', fd, w, size);
			if (!modes || strchr(modes, 'b'))
				rb[j] = run_mode('b', fd, w, size);
			if (!modes || strchr(modes, 'a'))
				ra[j] = run_mode('a', fd, w, size);
		}
		a = median(ra);
		b = median(rb);
		c = median(rc);
		printf("BENCH %s %s %.0f %.0f %.0f %.2f %.2f %s\n", name,
		       w->name, a * k, b * k, c * k, a / c, a / b,
		       w->mbps ? "MB/s" : "IOPS");
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	uint64_t size = 256 << 20;
	int fd;

	if (argc > 1)
		secs = atof(argv[1]);
	if (argc > 2)
		reps = atoi(argv[2]);
	if (reps < 1 || reps > MAX_REPS) {
		fprintf(stderr, "repetitions: 1 to %d\n", MAX_REPS);
		return 1;
	}
	if (backing_wanted("null_blk")) {
		fd = open("/dev/nullb0", O_RDWR | O_DIRECT | O_CLOEXEC);
		if (fd < 0) {
			perror("# /dev/nullb0");
		} else {
			bench("null_blk", fd, 1ULL << 30);
			close(fd);
		}
	}
	if (!backing_wanted("tmpfs"))
		return 0;
	fd = open("/tmp/bench.img", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		  0600);
	if (fd < 0 || ftruncate(fd, size) ||
	    fallocate(fd, 0, 0, size)) {
		perror("# /tmp/bench.img");
		return 1;
	}
	bench("tmpfs", fd, size);
	close(fd);
	unlink("/tmp/bench.img");
	return 0;
}
