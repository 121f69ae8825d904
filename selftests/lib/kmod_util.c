// SPDX-License-Identifier: GPL-2.0
/*
 * Module helpers for selftests that unload and reload one of our modules.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "kmod_util.h"

int module_loaded(const char *name)
{
	size_t n = strlen(name);
	char line[256];
	int found = 0;
	FILE *f;

	f = fopen("/proc/modules", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ' ')
			found = 1;
	fclose(f);
	return found;
}

int module_unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

int module_reload(const char *file)
{
	char path[512];
	struct utsname u;
	int fd, ret;

	if (uname(&u))
		return -errno;
	snprintf(path, sizeof(path), "/lib/modules/%s/updates/%s", u.release,
		 file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}
