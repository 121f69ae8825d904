/* SPDX-License-Identifier: GPL-2.0 */
/* Guest code of kvm_arm_test, in irq_guest.c. */
#ifndef KVMARM_IO_IRQ_GUEST_H
#define KVMARM_IO_IRQ_GUEST_H

/* spi_guest's GUEST_SYNC stages */
enum {
	SPI_READY = 1,		/* the SPI is enabled */
	SPI_TAKEN,		/* value: the INTID acknowledged */
};

void doorbell_guest(unsigned long cpu);
void spi_guest(unsigned long cpu);

#endif
