/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code of passthrough_test and irq_bench, in pl031_guest.c. */
#ifndef KVMARM_IO_PL031_GUEST_H
#define KVMARM_IO_PL031_GUEST_H

/* GUEST_SYNC stages */
enum {
	PL031_READY = 1,	/* set up, before the first interrupt */
	PL031_HELD,		/* value: the INTID held active (param 2) */
};

void pl031_guest(unsigned long cpu);
void pl031_smp_guest(unsigned long cpu);

#endif
