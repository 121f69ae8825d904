// SPDX-License-Identifier: GPL-2.0
/*
 * kvmarm_compat.c - the bodies of what kvmarm_compat.h supplies to kernels
 * that lack it.  Out of tree only: linked into the modules that call them,
 * and empty on a kernel that has everything.
 */
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/memcontrol.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "kvmarm_compat.h"

#ifndef KVMARM_HAVE_KIOCB_START_WRITE
void kiocb_start_write(struct kiocb *iocb)
{
	struct inode *inode = file_inode(iocb->ki_filp);

	sb_start_write(inode->i_sb);
	/* Released for lockdep: the completion takes it over. */
	__sb_writers_release(inode->i_sb, SB_FREEZE_WRITE);
}

void kiocb_end_write(struct kiocb *iocb)
{
	struct inode *inode = file_inode(iocb->ki_filp);

	__sb_writers_acquired(inode->i_sb, SB_FREEZE_WRITE);
	sb_end_write(inode->i_sb);
}
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
/* As 6.8's vfs_iocb_iter_write(): the write holds freeze protection. */
#undef vfs_iocb_iter_write
ssize_t kvmarm_vfs_iocb_iter_write(struct file *file, struct kiocb *iocb,
				   struct iov_iter *iter)
{
	ssize_t ret;

	kiocb_start_write(iocb);
	ret = vfs_iocb_iter_write(file, iocb, iter);
	if (ret != -EIOCBQUEUED)
		kiocb_end_write(iocb);
	return ret;
}
#endif

#if !defined(KVMARM_HAVE_VHOST_TASK) || !IS_ENABLED(CONFIG_VHOST_TASK)
/*
 * A vhost_task on a kthread.  It runs with the owner's credentials, as a
 * vhost_task does: a kernel thread's are root's, and the owner's quotas
 * and limits (a file system's reserved blocks) would not apply to the
 * guest's writes, nor to the slow requests that take the worker's
 * credentials along.  Nor does memcg charge a kernel thread's
 * __GFP_ACCOUNT allocations (the requests the worker allocates for the
 * guest): they are charged to the owner's memory cgroup, as a
 * vhost_task's, a thread of the owner, are.
 */
struct vhost_task {
	bool (*fn)(void *arg);
	void *arg;
	struct mm_struct *mm;
	const struct cred *cred;	/* the owner's */
	struct task_struct *task;
};

static int vhost_task_fn(void *data)
{
	struct vhost_task *vtsk = data;
	struct mem_cgroup *memcg, *old_memcg;
	const struct cred *old;

	old = override_creds(vtsk->cred);
	kthread_use_mm(vtsk->mm);
	memcg = get_mem_cgroup_from_mm(vtsk->mm);
	old_memcg = set_active_memcg(memcg);
	for (;;) {
		/* Pairs with the barrier in wake_up_process(). */
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop()) {
			__set_current_state(TASK_RUNNING);
			break;
		}
		if (!vtsk->fn(vtsk->arg))
			schedule();
	}
	set_active_memcg(old_memcg);
	mem_cgroup_put(memcg);
	kthread_unuse_mm(vtsk->mm);
	revert_creds(old);
	return 0;
}

/* @handle_kill is never called: nothing kills a kthread. */
struct vhost_task *vhost_task_create(bool (*fn)(void *),
				     void (*handle_kill)(void *), void *arg,
				     const char *name)
{
	struct vhost_task *vtsk;
	int ret;

	vtsk = kzalloc(sizeof(*vtsk), GFP_KERNEL);
	if (!vtsk)
		return ERR_PTR(-ENOMEM);
	vtsk->fn = fn;
	vtsk->arg = arg;
	vtsk->mm = get_task_mm(current);
	if (!vtsk->mm) {
		ret = -EINVAL;
		goto err_free;
	}
	vtsk->cred = get_current_cred();
	vtsk->task = kthread_create(vhost_task_fn, vtsk, "%s", name);
	if (IS_ERR(vtsk->task)) {
		ret = PTR_ERR(vtsk->task);
		goto err_mm;
	}
	/* Account the worker to the owner's cgroups. */
	ret = cgroup_attach_task_all(current, vtsk->task);
	if (ret)
		goto err_task;
	return vtsk;

err_task:
	kthread_stop(vtsk->task);
err_mm:
	put_cred(vtsk->cred);
	mmput(vtsk->mm);
err_free:
	kfree(vtsk);
	return ERR_PTR(ret);
}

void vhost_task_start(struct vhost_task *vtsk)
{
	wake_up_process(vtsk->task);
}

void vhost_task_stop(struct vhost_task *vtsk)
{
	kthread_stop(vtsk->task);
	put_cred(vtsk->cred);
	mmput(vtsk->mm);
	kfree(vtsk);
}

void vhost_task_wake(struct vhost_task *vtsk)
{
	wake_up_process(vtsk->task);
}
#endif
