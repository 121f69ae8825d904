// SPDX-License-Identifier: GPL-2.0
/*
 * vhost_ring worker: one thread of the owner per device, the works queued
 * to it, and flushing them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/vhost_task.h>
#include <linux/slab.h>

#include "vhost_ring.h"
#include "vhost_ring_internal.h"

#define VHR_WORK_QUEUED		0

/**
 * vhr_work_init() - prepare a work item
 * @work: the work
 * @fn:   what it runs on the device's worker
 */
void vhr_work_init(struct vhr_work *work, vhr_work_fn_t fn)
{
	clear_bit(VHR_WORK_QUEUED, &work->flags);
	work->fn = fn;
}

/* Run @work on @dev's worker; see vhr_vq_work_queue(). */
static bool vhr_worker_queue(struct vhr_dev *dev, struct vhr_work *work)
{
	struct vhr_worker *w;
	unsigned long flags;
	bool queued = false;

	/*
	 * The worker is woken after its lock is dropped: the read side keeps
	 * it (and its task) alive until then, vhr_dev_cleanup() waits.
	 */
	rcu_read_lock();
	w = rcu_dereference(dev->worker);
	if (!w)
		goto out;
	if (test_and_set_bit(VHR_WORK_QUEUED, &work->flags)) {
		queued = true;
		goto out;
	}
	spin_lock_irqsave(&w->lock, flags);
	queued = !w->killed;
	if (queued)
		llist_add(&work->node, &w->works);
	spin_unlock_irqrestore(&w->lock, flags);
	if (queued)
		vhost_task_wake(w->task);
	else
		clear_bit(VHR_WORK_QUEUED, &work->flags);
out:
	rcu_read_unlock();
	return queued;
}

/**
 * vhr_vq_work_queue() - run @work on the worker of @vq's device
 * @vq:   the vring the work is for
 * @work: the work; queueing it again before it runs is a no-op
 *
 * May be called from any context.
 *
 * Return: false if it will not run: no owner yet, or the owner was killed.
 */
bool vhr_vq_work_queue(struct vhr_virtqueue *vq, struct vhr_work *work)
{
	return vhr_worker_queue(vq->dev, work);
}

/**
 * vhr_worker_killed() - has the owner been killed
 * @dev: the device
 *
 * Once it has, no work runs any more: the device completes what is left
 * without touching the owner's memory.
 *
 * Return: true if the device's worker accepts no more work.
 */
bool vhr_worker_killed(struct vhr_dev *dev)
{
	struct vhr_worker *w;
	bool killed;

	rcu_read_lock();
	w = rcu_dereference(dev->worker);
	killed = w && READ_ONCE(w->killed);
	rcu_read_unlock();
	return killed;
}

/* The worker thread's body: run what is queued; false if nothing was. */
static bool vhr_worker_fn(void *data)
{
	struct vhr_worker *w = data;
	struct vhr_work *work, *next;
	struct llist_node *node;

	node = llist_del_all(&w->works);
	if (!node)
		return false;
	node = llist_reverse_order(node);
	/* The works leave the list before their flag is cleared. */
	smp_wmb();
	llist_for_each_entry_safe(work, next, node, node) {
		clear_bit(VHR_WORK_QUEUED, &work->flags);
		__set_current_state(TASK_RUNNING);
		work->fn(work);
		cond_resched();
	}
	return true;
}

/* The owner was killed: run what is queued, then accept nothing more. */
static void vhr_worker_kill(void *data)
{
	struct vhr_worker *w = data;

	spin_lock_irq(&w->lock);
	WRITE_ONCE(w->killed, true);
	spin_unlock_irq(&w->lock);
	vhr_worker_fn(w);
}

/**
 * vhr_worker_create() - start the device's worker, a thread of the owner
 * @dev: the device, being given its owner
 *
 * Return: 0 or a negative errno.
 */
int vhr_worker_create(struct vhr_dev *dev)
{
	struct vhost_task *task;
	struct vhr_worker *w;
	char name[TASK_COMM_LEN];
	int ret;

	w = kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);
	if (!w)
		return -ENOMEM;
	init_llist_head(&w->works);
	spin_lock_init(&w->lock);
	snprintf(name, sizeof(name), "%s-%d", dev->name, current->pid);
	task = vhost_task_create(vhr_worker_fn, vhr_worker_kill, w, name);
	if (IS_ERR_OR_NULL(task)) {
		/* NULL: 6.11 and early 6.12 on any failure. */
		ret = task ? PTR_ERR(task) : -ENOMEM;
		pr_err_ratelimited("%s: cannot create the worker thread: %d\n",
				   dev->name, ret);
		kfree(w);
		return ret;
	}
	w->task = task;
	rcu_assign_pointer(dev->worker, w);
	vhost_task_start(task);
	return 0;
}

/**
 * vhr_worker_free() - stop the device's worker and free it, if it has one
 * @dev: the device, with @dev->mutex held
 */
void vhr_worker_free(struct vhr_dev *dev)
{
	struct vhr_worker *w;

	w = rcu_dereference_protected(dev->worker,
				      lockdep_is_held(&dev->mutex));
	if (!w)
		return;
	/* No waker may still be using the task (vhr_worker_queue()). */
	RCU_INIT_POINTER(dev->worker, NULL);
	synchronize_rcu();
	vhost_task_stop(w->task);
	kfree(w);
}

struct vhr_flush_work {
	struct vhr_work work;
	struct completion done;
};

static void vhr_flush_fn(struct vhr_work *work)
{
	complete(&container_of(work, struct vhr_flush_work, work)->done);
}

/**
 * vhr_dev_flush() - wait until the works queued so far have run
 * @dev: the device
 */
void vhr_dev_flush(struct vhr_dev *dev)
{
	struct vhr_flush_work f;

	vhr_work_init(&f.work, vhr_flush_fn);
	init_completion(&f.done);
	if (vhr_worker_queue(dev, &f.work))
		wait_for_completion(&f.done);
}

