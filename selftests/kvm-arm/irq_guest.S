/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest code for kvm_arm_test.
 *
 * doorbell_guest: store param 0 to the ioeventfd doorbell, then report DONE.
 *
 * spi_guest: enable SPI (param 0) as an edge interrupt, report READY, wait
 * for the interrupt, report the acknowledged INTID as VALUE, EOI, report
 * DONE.
 */
#include "guest_asm.h"

	GUEST_TEXT

	.globl	doorbell_guest
doorbell_guest:
	param	x0, 0
	movl	x1, KG_MMIO_DOORBELL
	str	w0, [x1]
	report	KG_TAG_DONE, xzr
1:	wfi
	b	1b

	.globl	spi_guest
spi_guest:
	bl	gic_init
	param	x0, 0
	mov	x1, #1
	bl	gic_enable_spi
	report	KG_TAG_READY, xzr
	bl	gic_wait_irq
	mov	x19, x0
	report	KG_TAG_VALUE, x19
	mov	x0, x19
	bl	gic_eoi
	report	KG_TAG_DONE, xzr
1:	wfi
	b	1b
