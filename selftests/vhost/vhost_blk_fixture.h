/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fixture of the tests of /dev/vhost-blk that need one device: four
 * queues of 64 entries on a 32 MiB file (BACKING), and room for a shadow
 * of the disk's contents.
 */
#ifndef KVMARM_IO_VHOST_BLK_FIXTURE_H
#define KVMARM_IO_VHOST_BLK_FIXTURE_H

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vhost_blk_util.h"

FIXTURE(blk) {
	struct vblk b;
	int backing;
	uint8_t *shadow;
};

FIXTURE_SETUP(blk)
{
	struct vblk_opts o = {
		.nvq = 4, .num = 64, .arena_size = 96 << 20,
		.features = FEATURES,
	};

	self->b.fd = -1;
	self->shadow = NULL;
	if (access("/dev/vhost-blk", R_OK | W_OK))
		SKIP(return, "/dev/vhost-blk missing");
	self->backing = make_backing(BACKING, DISK_SIZE, O_RDWR);
	ASSERT_LE(0, self->backing);
	o.backend_fd = self->backing;
	ASSERT_EQ(0, vblk_open(&self->b, &o)) TH_LOG("%s", vblk_err);
	self->shadow = calloc(1, DISK_SIZE);
	ASSERT_NE(NULL, self->shadow);
}

FIXTURE_TEARDOWN(blk)
{
	vblk_close(&self->b);
	if (self->backing >= 0)
		close(self->backing);
	free(self->shadow);
	unlink(BACKING);
}

#endif /* KVMARM_IO_VHOST_BLK_FIXTURE_H */
