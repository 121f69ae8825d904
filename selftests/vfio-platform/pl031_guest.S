/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code for passthrough_test: drive a PL031 RTC at KG_DEV_GPA.
 *
 * Parameters: 0 = the RTC's INTID, 1 = number of interrupts to take,
 * 2 = hold: take the first interrupt, report VALUE with its INTID and
 * stop there, with the interrupt active (neither cleared nor EOI'd);
 * 3 = where to store, for each interrupt, the counter ticks from the write
 * that raises the RTC's line to the acknowledge (0: nowhere); 4 = back to
 * back: raise the line for the next interrupt before the EOI of this one.
 * Each round clears the RTC interrupt, sets the match register to the
 * current count (the RTC raises its level interrupt at once), waits for the
 * SPI, checks the INTID and that the RTC's line is up, clears the interrupt
 * at the RTC and EOIs.  Reports READY before the first round and DONE with
 * the count after the last; FAIL with the INTID if a wrong interrupt
 * arrives, with 0x10000 added if it came with the RTC's line down (a
 * spurious or duplicate one).
 */
#include "guest_asm.h"

#define RTC_DR		0x00
#define RTC_MR		0x04
#define RTC_IMSC	0x10
#define RTC_RIS		0x14
#define RTC_ICR		0x1c

	GUEST_TEXT

	.globl	pl031_guest
pl031_guest:
	bl	gic_init
	param	x0, 0
	mov	x1, #0			/* level */
	bl	gic_enable_spi
	param	x19, 0
	param	x20, 1
	param	x23, 2
	param	x25, 3
	param	x27, 4
	movl	x21, KG_DEV_GPA
	mov	x22, #0
	report	KG_TAG_READY, xzr
1:	mov	w1, #1
	str	wzr, [x21, #RTC_IMSC]
	str	w1, [x21, #RTC_ICR]
	str	w1, [x21, #RTC_IMSC]
	bl	pl031_raise
2:	bl	gic_wait_irq
	isb
	mrs	x26, cntvct_el0
	cmp	x0, x19
	b.ne	3f
	ldr	w3, [x21, #RTC_RIS]	/* the RTC's line: else a spurious one */
	cbz	w3, 8f
	cbz	x25, 6f
	sub	x26, x26, x24
	str	x26, [x25, x22, lsl #3]
6:	cbz	x23, 5f
	report	KG_TAG_VALUE, x0
	b	4f
5:	mov	w1, #1
	str	w1, [x21, #RTC_ICR]
	add	x22, x22, #1
	cbz	x27, 7f
	cmp	x22, x20
	b.hs	7f
	bl	pl031_raise			/* back to back: raised before the EOI */
	bl	gic_eoi
	b	2b
7:	bl	gic_eoi
	cmp	x22, x20
	b.lo	1b
	report	KG_TAG_DONE, x22
4:	wfi
	b	4b
8:	orr	x0, x0, #0x10000	/* taken with the line low */
3:	report	KG_TAG_FAIL, x0
	b	4b

/* Raise the RTC's line: match the current count; x24 = when.  x0 kept. */
pl031_raise:	ldr	w2, [x21, #RTC_DR]
	isb
	mrs	x24, cntvct_el0
	str	w2, [x21, #RTC_MR]
	ldr	w3, [x21, #RTC_RIS]
	cbz	w3, pl031_raise		/* the second changed in between */
	ret

/*
 * pl031_smp_guest: the same with two vCPUs (x0 = the vCPU's index).  vCPU 0
 * drives the RTC and routes the SPI (GICD_IROUTER) to vCPU 0 and 1 in
 * turns: it takes its own interrupts, and waits for vCPU 1 to count the
 * others in parameter 5.  Parameters 0 and 1 as above.  vCPU 1 takes,
 * clears and EOIs the interrupts routed to it, for ever.  An interrupt
 * that comes with the RTC's line down is EOI'd and counted in parameter 6
 * (the irqfd path may deliver one, the guest's EOI and the resample being
 * apart; a forwarded SPI never).
 */
	.globl	pl031_smp_guest
pl031_smp_guest:
	mov	x20, x0
	bl	gic_init
	param	x19, 0
	movl	x21, KG_DEV_GPA
	movl	x28, KG_PARAM(5)
	cbnz	x20, 20f
	mov	x0, x19
	mov	x1, #0			/* level */
	bl	gic_enable_spi
	param	x20, 1
	movl	x27, (KG_GICD_GPA + GICD_IROUTER)
	mov	x22, #0
	report	KG_TAG_READY, xzr
11:	and	x23, x22, #1		/* this round's vCPU */
	str	x23, [x27, x19, lsl #3]
	dsb	sy
	mov	w1, #1
	str	wzr, [x21, #RTC_IMSC]
	str	w1, [x21, #RTC_ICR]
	ldr	x26, [x28]
	/*
	 * Raised masked, then let out: else vCPU 1 could take and clear it
	 * before pl031_raise reads RIS, which would then raise it again.
	 */
	bl	pl031_raise
	mov	w1, #1
	str	w1, [x21, #RTC_IMSC]
	cbnz	x23, 13f
15:	bl	gic_wait_irq
	cmp	x0, x19
	b.ne	3b
	ldr	w3, [x21, #RTC_RIS]
	cbz	w3, 16f
	mov	w1, #1
	str	w1, [x21, #RTC_ICR]
	bl	gic_eoi
	b	14f
16:	bl	gic_eoi			/* spurious: counted, not taken */
	bl	count_spurious
	b	15b
13:	ldr	x5, [x28]		/* vCPU 1's count moves on */
	cmp	x5, x26
	b.eq	13b
14:	add	x22, x22, #1
	cmp	x22, x20
	b.lo	11b
	report	KG_TAG_DONE, x22
	b	4b

20:	bl	gic_wait_irq
	cmp	x0, x19
	b.ne	3b
	ldr	w3, [x21, #RTC_RIS]
	cbz	w3, 21f
	mov	w1, #1
	str	w1, [x21, #RTC_ICR]
	bl	gic_eoi
	ldr	x5, [x28]
	add	x5, x5, #1
	str	x5, [x28]
	b	20b
21:	bl	gic_eoi
	bl	count_spurious
	b	20b

/* One more interrupt that came with the RTC's line down, in parameter 6. */
count_spurious:
	movl	x6, KG_PARAM(6)
	ldr	x5, [x6]
	add	x5, x5, #1
	str	x5, [x6]
	ret
