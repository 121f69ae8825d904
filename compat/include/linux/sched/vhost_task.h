/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For kernels without <linux/sched/vhost_task.h> (before 6.4), on Kbuild's
 * include path only there: the interface is declared in kvmarm_compat.h,
 * which every file that calls it includes after the kernel's headers, and
 * kvmarm_compat.c implements it.
 */
