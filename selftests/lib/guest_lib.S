/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-side library: GICv3 set-up and interrupt wait, shared by the
 * selftests' guest code.  Every routine clobbers x0-x7 and x16-x17 only.
 */
#include "guest_asm.h"

	GUEST_TEXT

/* gic_init: enable the distributor and this CPU's interface for group 1. */
	.globl	gic_init
gic_init:
	movl	x0, KG_GICD_GPA
	mov	w1, #0x13		/* ARE | EnableGrp1 | EnableGrp0 */
	str	w1, [x0, #GICD_CTLR]
	mrs	x1, ICC_SRE_EL1
	orr	x1, x1, #1
	msr	ICC_SRE_EL1, x1
	isb
	mov	x1, #0xff
	msr	ICC_PMR_EL1, x1
	mov	x1, #1
	msr	ICC_IGRPEN1_EL1, x1
	isb
	ret

/*
 * gic_enable_spi: x0 = INTID (>= 32), x1 = 1 for edge, 0 for level.
 * Group 1, priority 0x80, routed to CPU 0, then enabled.
 */
	.globl	gic_enable_spi
gic_enable_spi:
	movl	x2, KG_GICD_GPA
	lsr	x3, x0, #5		/* word index */
	and	x4, x0, #31
	mov	w5, #1
	lsl	w5, w5, w4		/* bit in word */
	add	x6, x2, #GICD_IGROUPR
	ldr	w7, [x6, x3, lsl #2]
	orr	w7, w7, w5
	str	w7, [x6, x3, lsl #2]
	add	x6, x2, #GICD_IPRIORITYR
	mov	w7, #0x80
	strb	w7, [x6, x0]
	/* ICFGR: two bits per INTID, bit 1 of the pair set for edge */
	lsr	x3, x0, #4
	and	x4, x0, #15
	lsl	x4, x4, #1
	add	x4, x4, #1
	mov	w5, #1
	lsl	w5, w5, w4
	add	x6, x2, #GICD_ICFGR
	ldr	w7, [x6, x3, lsl #2]
	bic	w7, w7, w5
	cbz	x1, 1f
	orr	w7, w7, w5
1:	str	w7, [x6, x3, lsl #2]
	movz	x6, #GICD_IROUTER
	add	x6, x2, x6
	str	xzr, [x6, x0, lsl #3]
	lsr	x3, x0, #5
	and	x4, x0, #31
	mov	w5, #1
	lsl	w5, w5, w4
	add	x6, x2, #GICD_ISENABLER
	str	w5, [x6, x3, lsl #2]
	dsb	sy
	ret

/*
 * gic_wait_irq: wait (WFI, interrupts masked in PSTATE) for an interrupt and
 * acknowledge it.  Returns the INTID in x0.
 */
	.globl	gic_wait_irq
gic_wait_irq:
1:	mrs	x0, ICC_IAR1_EL1
	cmp	x0, #KG_SPURIOUS
	b.lo	2f
	wfi
	b	1b
2:	ret

/* gic_eoi: x0 = INTID to end (EOImode 0: priority drop and deactivate). */
	.globl	gic_eoi
gic_eoi:
	msr	ICC_EOIR1_EL1, x0
	isb
	ret
