// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO for platform and AMBA devices: interrupts.
 *
 * Each interrupt is one VFIO IRQ index with one vector.  A level interrupt
 * is masked in the hard-IRQ handler when it fires (AUTOMASKED) and stays
 * masked until userspace unmasks it, by ioctl or by an unmask eventfd -
 * which is what KVM's IRQFD resamplefd signals on the guest's EOI.  An edge
 * interrupt that fires while masked is remembered and delivered on unmask.
 *
 * A level interrupt's trigger is also an irq bypass producer: a hypervisor
 * whose irqfd consumes the same eventfd may forward the interrupt to its
 * guest (KVM/arm64 with the kvm-arm patches), so that the guest's EOI
 * deactivates it.  The interrupt is then "forwarded to a vCPU": the host's
 * handler only signals the trigger, without masking, as the interrupt
 * stays active until the guest is done with it.
 */
#include <linux/eventfd.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "kvmarm_compat.h"
#include "vfio_platform_private.h"

static bool irq_forwarding;
module_param(irq_forwarding, bool, 0644);
MODULE_PARM_DESC(irq_forwarding,
		 "Offer each level interrupt wired to an eventfd to an irq bypass consumer, so that a kernel whose KVM forwards SPIs (the kvm-arm patches) delivers it to the guest without EOI exits; takes effect when a trigger is set. Only on such a kernel: elsewhere, on a GICv4 host, KVM takes a producer whose irqfd a VMM routes to an MSI for an LPI and leaves the line active for good (default: off)");

static void vfio_platform_irq_mask(struct vfio_platform_irq *irq)
{
	unsigned long flags;

	spin_lock_irqsave(&irq->lock, flags);
	if (!irq->masked) {
		irq->masked = true;
		if (irq->level && irq->requested)
			disable_irq_nosync(irq->hwirq);
	}
	spin_unlock_irqrestore(&irq->lock, flags);
}

/*
 * Unmask with @irq->lock held.  Return: whether an edge that fired while
 * the interrupt was masked is now to be delivered.
 */
static bool vfio_platform_irq_unmask_locked(struct vfio_platform_irq *irq)
{
	lockdep_assert_held(&irq->lock);
	if (!irq->masked)
		return false;
	irq->masked = false;
	if (irq->level && irq->requested)
		enable_irq(irq->hwirq);
	if (!irq->pending)
		return false;
	irq->pending = false;
	return true;
}

/*
 * Signal the trigger, if any, from process context.  Never under
 * @irq->lock: an eventfd's wake-up takes the eventfd's own lock, which an
 * unmask or mask eventfd's wake-up holds when it takes @irq->lock (the
 * same eventfd may be both).  @irq->trigger_lock keeps the trigger from
 * being put meanwhile.
 */
static void vfio_platform_irq_signal(struct vfio_platform_irq *irq)
{
	mutex_lock(&irq->trigger_lock);
	if (irq->trigger)
		eventfd_signal(irq->trigger);
	mutex_unlock(&irq->trigger_lock);
}

/* VFIO_IRQ_SET_ACTION_UNMASK by ioctl. */
static void vfio_platform_irq_unmask(struct vfio_platform_irq *irq)
{
	unsigned long flags;
	bool replay;

	spin_lock_irqsave(&irq->lock, flags);
	replay = vfio_platform_irq_unmask_locked(irq);
	spin_unlock_irqrestore(&irq->lock, flags);
	if (replay)
		vfio_platform_irq_signal(irq);
}

/*
 * virqfd handlers: called from the wake-up of the unmask or mask eventfd,
 * in atomic context and inside that eventfd's signal, where signalling
 * another eventfd is refused (and the interrupt lost).  An edge to replay
 * is signalled from the virqfd's thread instead.
 *
 * An unmask eventfd signalled from hard-IRQ context was signalled by this
 * driver's own handler: the same eventfd is the trigger, or a chain of
 * interrupts leads back to it.  Unmasking there would let a level line
 * that is still asserted fire again at once, forever, without the CPU
 * ever leaving hard-IRQ context; the thread unmasks instead.  KVM's
 * resamplefd signals from task context and keeps the fast path.
 */
static int vfio_platform_unmask_handler(void *opaque, void *unused)
{
	struct vfio_platform_irq *irq = opaque;
	unsigned long flags;
	bool thread = false;

	spin_lock_irqsave(&irq->lock, flags);
	if (in_hardirq()) {
		irq->unmask_deferred = true;
		thread = true;
	} else if (vfio_platform_irq_unmask_locked(irq)) {
		irq->replay = true;
		thread = true;
	}
	spin_unlock_irqrestore(&irq->lock, flags);
	return thread;
}

static void vfio_platform_unmask_thread(void *opaque, void *unused)
{
	struct vfio_platform_irq *irq = opaque;
	unsigned long flags;
	bool replay;

	spin_lock_irqsave(&irq->lock, flags);
	if (irq->unmask_deferred) {
		irq->unmask_deferred = false;
		if (vfio_platform_irq_unmask_locked(irq))
			irq->replay = true;
	}
	replay = irq->replay;
	irq->replay = false;
	spin_unlock_irqrestore(&irq->lock, flags);
	if (replay)
		vfio_platform_irq_signal(irq);
}

static int vfio_platform_mask_handler(void *opaque, void *unused)
{
	vfio_platform_irq_mask(opaque);
	return 0;
}

/*
 * The hard-IRQ handler, and the loopback trigger (under @igate).  The
 * trigger is signalled after @irq->lock is dropped (see
 * vfio_platform_irq_signal()); it stays valid until then, as tearing it
 * down waits in free_irq() for the handler, and takes @igate.
 */
static irqreturn_t vfio_platform_irq_handler(int hwirq, void *dev_id)
{
	struct vfio_platform_irq *irq = dev_id;
	struct eventfd_ctx *trigger = NULL;
	bool signal = false;
	unsigned long flags;

	spin_lock_irqsave(&irq->lock, flags);
	if (irq->level && irqd_is_forwarded_to_vcpu(irq_get_irq_data(hwirq))) {
		/* Active until the guest deactivates it: nothing to mask. */
		signal = !irq->masked;
	} else if (irq->level) {
		/* Keep the line quiet until userspace has serviced it. */
		if (!irq->masked) {
			if (irq->requested)
				disable_irq_nosync(irq->hwirq);
			irq->masked = true;
			signal = true;
		}
	} else if (irq->masked) {
		irq->pending = true;
	} else {
		signal = true;
	}
	if (signal)
		trigger = irq->trigger;
	spin_unlock_irqrestore(&irq->lock, flags);
	if (trigger)
		eventfd_signal(trigger);
	return IRQ_HANDLED;
}

/*
 * Once @requested is clear, no mask or unmask (an eventfd's, concurrently)
 * touches the line any more, so it is cleared before free_irq(); a level
 * line that is not masked is disabled first, so that it cannot fire
 * unserviced until free_irq() removes the handler.  Called with @igate
 * held, which keeps the trigger from a loopback signal meanwhile (see
 * vfio_platform_irq_handler()).
 */
static void vfio_platform_irq_free_trigger(struct vfio_platform_irq *irq)
{
	struct eventfd_ctx *trigger;
	unsigned long flags;

	lockdep_assert_held(&irq->vdev->igate);
	if (!irq->trigger)
		return;
	/* The consumer lets the interrupt go, while it is still ours. */
	if (irq->producing) {
		irq_bypass_unregister_producer(&irq->producer);
		irq->producing = false;
	}
	mutex_lock(&irq->trigger_lock);
	spin_lock_irqsave(&irq->lock, flags);
	if (irq->level && !irq->masked)
		disable_irq_nosync(irq->hwirq);
	irq->requested = false;
	irq->pending = false;
	trigger = irq->trigger;
	irq->trigger = NULL;
	spin_unlock_irqrestore(&irq->lock, flags);
	mutex_unlock(&irq->trigger_lock);
	free_irq(irq->hwirq, irq);
	/* The line's next user gets it as it was. */
	if (irq->status_set)
		irq_clear_status_flags(irq->hwirq, irq->status_set);
	irq->status_set = 0;
	eventfd_ctx_put(trigger);
}

/*
 * The consumer changes how the interrupt is delivered between stop and
 * start: no handler runs meanwhile.  Not disable_irq(): it also waits
 * for the interrupt to be inactive at the GIC, which a forwarded one that
 * the (halted) guest holds never becomes.
 */
static void vfio_platform_irq_bypass_stop(struct irq_bypass_producer *prod)
{
	disable_irq_nosync(prod->irq);
	synchronize_hardirq(prod->irq);
}

/*
 * Now forwarded, an instance that the handler masked before is the
 * guest's to deactivate, and no resample will unmask it: unmask it here.
 */
static void vfio_platform_irq_bypass_start(struct irq_bypass_producer *prod)
{
	struct vfio_platform_irq *irq = container_of(prod,
						     struct vfio_platform_irq,
						     producer);
	unsigned long flags;

	spin_lock_irqsave(&irq->lock, flags);
	if (irqd_is_forwarded_to_vcpu(irq_get_irq_data(irq->hwirq)) &&
	    irq->masked && irq->requested) {
		irq->masked = false;
		enable_irq(irq->hwirq);
	}
	spin_unlock_irqrestore(&irq->lock, flags);
	enable_irq(prod->irq);
}

/* Offer a level interrupt to an irq bypass consumer (KVM) to forward. */
static int vfio_platform_irq_bypass_register(struct vfio_platform_irq *irq,
					     struct eventfd_ctx *trigger)
{
	struct irq_bypass_producer *prod = &irq->producer;

	memset(prod, 0, sizeof(*prod));
	prod->stop = vfio_platform_irq_bypass_stop;
	prod->start = vfio_platform_irq_bypass_start;
	return KVMARM_IRQ_BYPASS_REGISTER(prod, trigger, irq->hwirq);
}

static int vfio_platform_irq_set_trigger(struct vfio_platform_irq *irq,
					 int fd)
{
	struct vfio_platform_device *vdev = irq->vdev;
	struct eventfd_ctx *trigger;
	unsigned long flags;
	bool forwarding;
	int ret;

	vfio_platform_irq_free_trigger(irq);
	if (fd < 0)
		return 0;

	trigger = eventfd_ctx_fdget(fd);
	if (IS_ERR(trigger)) {
		dev_dbg(vdev->dev, "IRQ %u: fd %d is not an eventfd\n",
			irq->index, fd);
		return PTR_ERR(trigger);
	}
	mutex_lock(&irq->trigger_lock);
	spin_lock_irqsave(&irq->lock, flags);
	irq->trigger = trigger;
	spin_unlock_irqrestore(&irq->lock, flags);
	mutex_unlock(&irq->trigger_lock);

	/*
	 * A masked level interrupt must not fire before it is unmasked.  One
	 * that may be forwarded:
	 * - must not move to another CPU while its handler runs: the guest's
	 *   deactivation could deliver it there, to be dropped as in progress
	 *   and left active (no balancing);
	 * - is masked at once when masked (not lazily, at its next delivery,
	 *   which a forwarded interrupt that the handler did not signal
	 *   would never have): masking deactivates it.
	 */
	forwarding = irq->level && READ_ONCE(irq_forwarding);
	ret = request_irq(irq->hwirq, vfio_platform_irq_handler,
			  IRQF_NO_AUTOEN | (forwarding ? IRQF_NOBALANCING : 0),
			  irq->name, irq);
	if (ret) {
		/* gpiolib's chained handlers leave their parent line so. */
		if (irq_check_status_bit(irq->hwirq, IRQ_NOREQUEST))
			dev_err_ratelimited(vdev->dev,
					    "IRQ %u: line %d cannot be requested: a driver that had the device chained its handler to it; bind it to vfio-platform from boot instead\n",
					    irq->index, irq->hwirq);
		else
			dev_err_ratelimited(vdev->dev,
					    "IRQ %u: request_irq(%d) failed: %d\n",
					    irq->index, irq->hwirq, ret);
		mutex_lock(&irq->trigger_lock);
		spin_lock_irqsave(&irq->lock, flags);
		irq->trigger = NULL;
		spin_unlock_irqrestore(&irq->lock, flags);
		mutex_unlock(&irq->trigger_lock);
		eventfd_ctx_put(trigger);
		return ret;
	}
	/* free_irq() clears UNLAZY, not NO_BALANCING: that one is ours. */
	if (forwarding) {
		irq_set_status_flags(irq->hwirq, IRQ_DISABLE_UNLAZY);
		irq->status_set = IRQ_NO_BALANCING;
	}
	spin_lock_irqsave(&irq->lock, flags);
	irq->requested = true;
	if (!(irq->level && irq->masked))
		enable_irq(irq->hwirq);
	spin_unlock_irqrestore(&irq->lock, flags);

	/* Without a consumer that forwards it, nothing changes. */
	if (forwarding) {
		ret = vfio_platform_irq_bypass_register(irq, trigger);
		irq->producing = !ret;
		if (ret && ret != -EOPNOTSUPP)
			dev_dbg(vdev->dev, "IRQ %u: no irq bypass producer: %d\n",
				irq->index, ret);
	}
	return 0;
}

static int vfio_platform_irq_action(struct vfio_platform_irq *irq,
				    u32 flags, void *data)
{
	u32 action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	u32 type = flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	struct virqfd **vfd;
	int fd;

	if (type == VFIO_IRQ_SET_DATA_EVENTFD) {
		fd = *(s32 *)data;
		switch (action) {
		case VFIO_IRQ_SET_ACTION_TRIGGER:
			return vfio_platform_irq_set_trigger(irq, fd);
		case VFIO_IRQ_SET_ACTION_MASK:
			vfd = &irq->mask;
			if (fd < 0) {
				vfio_virqfd_disable(vfd);
				return 0;
			}
			return vfio_virqfd_enable(irq, vfio_platform_mask_handler,
						  NULL, NULL, vfd, fd);
		case VFIO_IRQ_SET_ACTION_UNMASK:
			vfd = &irq->unmask;
			if (fd < 0) {
				vfio_virqfd_disable(vfd);
				return 0;
			}
			return vfio_virqfd_enable(irq,
						  vfio_platform_unmask_handler,
						  vfio_platform_unmask_thread,
						  NULL, vfd, fd);
		}
		return -EINVAL;
	}

	/* DATA_NONE acts; DATA_BOOL acts when the value is true. */
	if (type == VFIO_IRQ_SET_DATA_BOOL && !*(u8 *)data)
		return 0;
	switch (action) {
	case VFIO_IRQ_SET_ACTION_TRIGGER:
		/* A loopback: signal the trigger as if the device fired. */
		if (!irq->trigger)
			return -EINVAL;
		vfio_platform_irq_handler(irq->hwirq, irq);
		return 0;
	case VFIO_IRQ_SET_ACTION_MASK:
		vfio_platform_irq_mask(irq);
		return 0;
	case VFIO_IRQ_SET_ACTION_UNMASK:
		vfio_platform_irq_unmask(irq);
		return 0;
	}
	return -EINVAL;
}

/**
 * vfio_platform_set_irqs() - VFIO_DEVICE_SET_IRQS on one interrupt
 * @vdev: the device
 * @hdr:  the header, validated by vfio_set_irqs_validate_and_prepare()
 * @data: the item @hdr->count and the data type call for, or NULL
 *
 * Context: with @vdev->igate held: one change at a time, and no trigger
 * torn down while a loopback signals it.
 *
 * Return: 0 or a negative errno.
 */
int vfio_platform_set_irqs(struct vfio_platform_device *vdev,
			   struct vfio_irq_set *hdr, void *data)
{
	struct vfio_platform_irq *irq = &vdev->irqs[hdr->index];
	u32 action = hdr->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	u32 type = hdr->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;

	lockdep_assert_held(&vdev->igate);
	/* count == 0 with DATA_NONE: tear the action down. */
	if (!hdr->count) {
		if (type != VFIO_IRQ_SET_DATA_NONE)
			return -EINVAL;
		switch (action) {
		case VFIO_IRQ_SET_ACTION_TRIGGER:
			vfio_platform_irq_free_trigger(irq);
			return 0;
		case VFIO_IRQ_SET_ACTION_MASK:
			vfio_virqfd_disable(&irq->mask);
			return 0;
		case VFIO_IRQ_SET_ACTION_UNMASK:
			vfio_virqfd_disable(&irq->unmask);
			return 0;
		}
		return -EINVAL;
	}
	return vfio_platform_irq_action(irq, hdr->flags, data);
}

/* Back to the state of a freshly opened device. */
void vfio_platform_irq_release_all(struct vfio_platform_device *vdev)
{
	unsigned int i;

	mutex_lock(&vdev->igate);
	for (i = 0; i < vdev->num_irqs; i++) {
		struct vfio_platform_irq *irq = &vdev->irqs[i];

		vfio_virqfd_disable(&irq->unmask);
		vfio_virqfd_disable(&irq->mask);
		vfio_platform_irq_free_trigger(irq);
		irq->masked = false;
		irq->pending = false;
		irq->unmask_deferred = false;
		irq->replay = false;
	}
	mutex_unlock(&vdev->igate);
}

int vfio_platform_irq_init(struct vfio_platform_device *vdev)
{
	unsigned int i, n;
	int hwirq;

	/* -ENOENT past the last one; any other error (deferral) is fatal. */
	for (n = 0; (hwirq = vdev->get_irq(vdev, n)) != -ENOENT; n++) {
		if (hwirq <= 0)
			return dev_err_probe(vdev->dev, hwirq ? hwirq : -EINVAL,
					     "cannot get interrupt %u\n", n);
	}
	if (!n)
		return 0;
	vdev->irqs = kcalloc(n, sizeof(*vdev->irqs), GFP_KERNEL);
	if (!vdev->irqs)
		return -ENOMEM;
	vdev->num_irqs = n;
	for (i = 0; i < n; i++) {
		struct vfio_platform_irq *irq = &vdev->irqs[i];

		hwirq = vdev->get_irq(vdev, i);
		irq->vdev = vdev;
		irq->index = i;
		irq->hwirq = hwirq;
		spin_lock_init(&irq->lock);
		mutex_init(&irq->trigger_lock);
		irq->level = !!(irq_get_trigger_type(hwirq) &
				IRQ_TYPE_LEVEL_MASK);
		irq->flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE;
		if (irq->level)
			irq->flags |= VFIO_IRQ_INFO_AUTOMASKED;
		irq->name = kasprintf(GFP_KERNEL, "vfio-irq[%d](%s)", hwirq,
				      dev_name(vdev->dev));
		if (!irq->name)
			return -ENOMEM;
	}
	return 0;
}

void vfio_platform_irq_cleanup(struct vfio_platform_device *vdev)
{
	unsigned int i;

	for (i = 0; i < vdev->num_irqs; i++) {
		mutex_destroy(&vdev->irqs[i].trigger_lock);
		kfree(vdev->irqs[i].name);
	}
	kfree(vdev->irqs);
	vdev->irqs = NULL;
	vdev->num_irqs = 0;
}
