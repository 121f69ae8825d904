/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest entry and exception vectors: what guest code needs in assembly.
 *
 * The harness starts every vCPU at guest_start with x0 = the vCPU's index,
 * x1 = the guest function to run and SP_EL1 = its stack.  guest_start
 * installs the vectors and calls the function; should it return, the vCPU
 * waits for ever.  An exception saves the registers on the stack, calls
 * guest_exception(regs, vector) and, should that return, restores them.
 *
 * guest_text starts on a page boundary: guest C addresses its constants
 * ADRP-relative, which holds only if guest_text keeps its offset within a
 * page where the harness copies it.
 */

#define FRAME_SIZE	(34 * 8)	/* x0-x30, ELR, SPSR, padding */

	.section guest_text, "ax"
	.balign	4096

	.globl	guest_start
guest_start:
	adrp	x2, guest_vectors
	add	x2, x2, :lo12:guest_vectors
	msr	vbar_el1, x2
	isb
	blr	x1
1:	wfi
	b	1b

.macro	vector idx
	.balign	0x80
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #16 * 0]
	mov	x1, #\idx
	b	exception_entry
.endm

	.balign	2048
guest_vectors:
	.irp	idx, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	vector	\idx
	.endr

exception_entry:
	stp	x2, x3, [sp, #16 * 1]
	stp	x4, x5, [sp, #16 * 2]
	stp	x6, x7, [sp, #16 * 3]
	stp	x8, x9, [sp, #16 * 4]
	stp	x10, x11, [sp, #16 * 5]
	stp	x12, x13, [sp, #16 * 6]
	stp	x14, x15, [sp, #16 * 7]
	stp	x16, x17, [sp, #16 * 8]
	stp	x18, x19, [sp, #16 * 9]
	stp	x20, x21, [sp, #16 * 10]
	stp	x22, x23, [sp, #16 * 11]
	stp	x24, x25, [sp, #16 * 12]
	stp	x26, x27, [sp, #16 * 13]
	stp	x28, x29, [sp, #16 * 14]
	mrs	x2, elr_el1
	stp	x30, x2, [sp, #16 * 15]
	mrs	x2, spsr_el1
	str	x2, [sp, #16 * 16]
	mov	x0, sp
	bl	guest_exception
	ldr	x2, [sp, #16 * 16]
	msr	spsr_el1, x2
	ldp	x30, x2, [sp, #16 * 15]
	msr	elr_el1, x2
	ldp	x28, x29, [sp, #16 * 14]
	ldp	x26, x27, [sp, #16 * 13]
	ldp	x24, x25, [sp, #16 * 12]
	ldp	x22, x23, [sp, #16 * 11]
	ldp	x20, x21, [sp, #16 * 10]
	ldp	x18, x19, [sp, #16 * 9]
	ldp	x16, x17, [sp, #16 * 8]
	ldp	x14, x15, [sp, #16 * 7]
	ldp	x12, x13, [sp, #16 * 6]
	ldp	x10, x11, [sp, #16 * 5]
	ldp	x8, x9, [sp, #16 * 4]
	ldp	x6, x7, [sp, #16 * 3]
	ldp	x4, x5, [sp, #16 * 2]
	ldp	x2, x3, [sp, #16 * 1]
	ldp	x0, x1, [sp, #16 * 0]
	add	sp, sp, #FRAME_SIZE
	eret
