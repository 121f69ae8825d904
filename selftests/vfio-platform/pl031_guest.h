/* SPDX-License-Identifier: GPL-2.0 */
/* Guest entry point in pl031_guest.S. */
#ifndef KVMARM_IO_PL031_GUEST_H
#define KVMARM_IO_PL031_GUEST_H

extern const char pl031_guest[];
extern const char pl031_smp_guest[];

#endif
