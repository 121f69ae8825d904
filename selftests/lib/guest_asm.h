/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Assembler helpers for guest code run by the kvm_guest harness.
 */
#ifndef KVMARM_IO_GUEST_ASM_H
#define KVMARM_IO_GUEST_ASM_H

#include "guest_layout.h"

#define GUEST_TEXT	.section guest_text, "ax"

/* GICv3 CPU interface registers, by encoding. */
#define ICC_PMR_EL1	S3_0_C4_C6_0
#define ICC_IAR1_EL1	S3_0_C12_C12_0
#define ICC_EOIR1_EL1	S3_0_C12_C12_1
#define ICC_SRE_EL1	S3_0_C12_C12_5
#define ICC_IGRPEN1_EL1	S3_0_C12_C12_7

/* Distributor register offsets. */
#define GICD_CTLR	0x0000
#define GICD_IGROUPR	0x0080
#define GICD_ISENABLER	0x0100
#define GICD_ICENABLER	0x0180
#define GICD_ICPENDR	0x0280
#define GICD_IPRIORITYR	0x0400
#define GICD_ICFGR	0x0c00
#define GICD_IROUTER	0x6000

/* Load a 64-bit constant without a literal pool. */
.macro	movl reg, val
	movz	\reg, #((\val) & 0xffff)
	movk	\reg, #(((\val) >> 16) & 0xffff), lsl #16
	movk	\reg, #(((\val) >> 32) & 0xffff), lsl #32
	movk	\reg, #(((\val) >> 48) & 0xffff), lsl #48
.endm

/* Store \reg to the report area under \tag: one MMIO exit (uses x17). */
.macro	report tag, reg
	movl	x17, (KG_MMIO_REPORT + \tag)

	str	\reg, [x17]
.endm

/* Load guest parameter \idx into \reg (uses x17). */
.macro	param reg, idx
	movl	x17, KG_PARAM(\idx)

	ldr	\reg, [x17]
.endm

#endif
