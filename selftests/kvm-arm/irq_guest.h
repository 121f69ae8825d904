/* SPDX-License-Identifier: GPL-2.0 */
/* Guest entry points in irq_guest.S. */
#ifndef KVMARM_IO_IRQ_GUEST_H
#define KVMARM_IO_IRQ_GUEST_H

extern const char doorbell_guest[];
extern const char spi_guest[];

#endif
