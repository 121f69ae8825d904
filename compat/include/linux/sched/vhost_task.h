/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For kernels without <linux/sched/vhost_task.h> (before 6.4): the
 * interface is declared in kvmarm_compat.h, which Kbuild includes in front
 * of every file, and kvmarm_compat.c implements it.
 */
