/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code for passthrough_test: drive a PL031 RTC at KG_DEV_GPA.
 *
 * Parameters: 0 = the RTC's INTID, 1 = number of interrupts to take.
 * Each round clears the RTC interrupt, sets the match register to the
 * current count (the RTC raises its level interrupt at once), waits for the
 * SPI, checks the INTID, clears the interrupt at the RTC and EOIs.  Reports
 * READY before the first round and DONE with the count after the last;
 * FAIL with the INTID if a wrong interrupt arrives.
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
	movl	x21, KG_DEV_GPA
	mov	x22, #0
	report	KG_TAG_READY, xzr
1:	mov	w1, #1
	str	wzr, [x21, #RTC_IMSC]
	str	w1, [x21, #RTC_ICR]
	str	w1, [x21, #RTC_IMSC]
2:	ldr	w2, [x21, #RTC_DR]
	str	w2, [x21, #RTC_MR]
	ldr	w3, [x21, #RTC_RIS]
	cbz	w3, 2b			/* the second changed in between */
	bl	gic_wait_irq
	cmp	x0, x19
	b.ne	3f
	mov	w1, #1
	str	w1, [x21, #RTC_ICR]
	bl	gic_eoi
	add	x22, x22, #1
	cmp	x22, x20
	b.lo	1b
	report	KG_TAG_DONE, x22
4:	wfi
	b	4b
3:	report	KG_TAG_FAIL, x0
	b	4b
