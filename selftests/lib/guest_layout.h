/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest physical layout shared by the harness and guest code.
 */
#ifndef KVMARM_IO_GUEST_LAYOUT_H
#define KVMARM_IO_GUEST_LAYOUT_H

#define KG_GICD_GPA		0x08000000
#define KG_GICR_GPA		0x080a0000
#define KG_MMIO_UCALL		0x10000000	/* guest ucalls: kg_ucall.h */
#define KG_MMIO_DOORBELL	0x10010000	/* free for KVM_IOEVENTFD */
#define KG_DEV_GPA		0x20000000	/* where tests map devices */
#define KG_RAM_GPA		0x40000000
#define KG_RAM_SIZE		0x00200000
#define KG_PARAM_OFF		0x00100000	/* parameter page in RAM */
#define KG_PARAM(i)		(KG_RAM_GPA + KG_PARAM_OFF + 8 * (i))
#define KG_STACK_TOP		(KG_RAM_GPA + KG_RAM_SIZE)

#endif
