// SPDX-License-Identifier: GPL-2.0
/*
 * Guest code for kvm_arm_test.
 *
 * doorbell_guest: store param 0 to the ioeventfd doorbell (4 bytes), then
 * GUEST_DONE.
 *
 * spi_guest: enable SPI (param 0) as an edge interrupt, SPI_READY, wait
 * for the interrupt, SPI_TAKEN with the acknowledged INTID, EOI,
 * GUEST_DONE.
 */
#include "guest.h"
#include "irq_guest.h"

void doorbell_guest(unsigned long cpu)
{
	writel(guest_param(0), KG_MMIO_DOORBELL);
	GUEST_DONE(0);
}

void spi_guest(unsigned long cpu)
{
	unsigned int intid;

	gicv3_init();
	gicv3_enable_spi(guest_param(0), true);
	GUEST_SYNC(SPI_READY);
	intid = gicv3_wait_irq();
	GUEST_SYNC_ARGS(SPI_TAKEN, intid);
	gicv3_eoi(intid);
	GUEST_DONE(0);
}
