/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Module helpers for selftests that unload and reload one of our modules.
 */
#ifndef KVMARM_IO_KMOD_UTIL_H
#define KVMARM_IO_KMOD_UTIL_H

/* 1 if @name (with underscores) is in /proc/modules, 0 if not, -1 on error. */
int module_loaded(const char *name);
/* delete_module(@name, O_NONBLOCK): 0 or -errno. */
int module_unload(const char *name);
/* Load updates/@file of the running kernel's modules: 0 or -errno. */
int module_reload(const char *file);

#endif
