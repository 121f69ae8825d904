#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vdpa_blk_test - vdpa-blk devices as the host's own disks (virtio_vdpa).
#
# The management device is listed by iproute2's vdpa; devices are set up
# in configfs, added and deleted with vdpa, and bound to virtio_vdpa, so
# that the host's virtio_blk drives them as /dev/vdX.  Checks the settings'
# errors, data written through the device byte for byte in the backing
# (file and block device), flush, discard, a file system, read-only
# devices, several queues, deletion while I/O is in flight and module
# unload.  KTAP output (../kselftest/ktap_helpers.sh).

CFG=/sys/kernel/config/kvmarm-blk
BUS=/sys/bus/vdpa
WORK=/tmp/vdpa-blk-test

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"

fails() { ! "$@" 2>/dev/null; }

ktap_print_header
# What the test needs: a folder, and why the test skips without it.
for need in "$BUS:this kernel has no vDPA bus (CONFIG_VDPA)" \
	"$CFG:vdpa_blk is not loaded" \
	"$BUS/drivers/virtio_vdpa:virtio_vdpa is not loaded"; do
	[ -d "${need%%:*}" ] && continue
	ktap_skip_all "${need#*:}"
	exit "$KSFT_SKIP"
done
if ! command -v vdpa >/dev/null; then
	ktap_skip_all "iproute2's vdpa is not installed"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 27

# Kernel reports from here on are this test's.
dmesg_start=$(dmesg | wc -l)
# Devices are bound by hand: vhost_vdpa is loaded as well.
echo 0 >"$BUS/drivers_autoprobe"
rm -rf "$WORK"
mkdir -p "$WORK"

# The /dev/vdX of vDPA device $1, once virtio_blk has it.
disk_of() {
	for _i in 1 2 3 4 5 6 7 8 9 10; do
		for _b in "$BUS/devices/$1"/virtio*/block/vd*; do
			[ -e "$_b" ] && { echo "/dev/${_b##*/}"; return 0; }
		done
		sleep 0.2
	done
	return 1
}
add() {		# name: add and bind to virtio_vdpa
	vdpa dev add name "$1" mgmtdev kvmarm-blk || return 1
	echo virtio_vdpa >"$BUS/devices/$1/driver_override"
	echo "$1" >"$BUS/drivers_probe"
	disk_of "$1" >/dev/null
}
del() { vdpa dev del "$1"; }
sectors() { cat "/sys/block/${1#/dev/}/size"; }

# 1. The management device.
ktap_test_result "vdpa mgmtdev show lists kvmarm-blk" \
	sh -c 'vdpa mgmtdev show | grep -q "^kvmarm-blk:"'

# 2-6. Settings that cannot make a device.
ktap_test_result "dev add without settings fails" fails vdpa dev add name nocfg mgmtdev kvmarm-blk
mkdir "$CFG/blk0"
ktap_test_result "dev add without a backing fails" fails vdpa dev add name blk0 mgmtdev kvmarm-blk
ktap_test_result "a backing that does not exist is refused" \
	fails sh -c "echo $WORK/missing >$CFG/blk0/backing"
ktap_test_result "a directory as backing is refused" \
	fails sh -c "echo $WORK >$CFG/blk0/backing"
bad_queues() {
	! echo 0 >"$CFG/blk0/num_queues" 2>/dev/null &&
		! echo 17 >"$CFG/blk0/num_queues" 2>/dev/null
}
ktap_test_result "num_queues 0 and 17 are refused" bad_queues

# 7-8. A 64 MiB file on tmpfs.
dd if=/dev/zero of="$WORK/file.img" bs=1M count=64 2>/dev/null
echo "$WORK/file.img" >"$CFG/blk0/backing"
ktap_test_result "the backing is shown" [ "$(cat "$CFG/blk0/backing")" = "$WORK/file.img" ]
add blk0
disk=$(disk_of blk0)
ktap_test_result "blk0 is $disk on virtio_vdpa, 131072 sectors" \
	[ -n "$disk" -a "$(sectors "$disk")" = 131072 ]

# 9. Settings of a device that exists stay.
ktap_test_result "settings in use cannot change (EBUSY)" \
	fails sh -c "echo 1 >$CFG/blk0/read_only"

# 10-12. Data, byte for byte, in the backing.
dd if=/dev/urandom of="$WORK/pattern" bs=1M count=8 2>/dev/null
dd if="$WORK/pattern" of="$WORK/pattern.9" bs=512 count=9 2>/dev/null
dd if="$WORK/pattern" of="$WORK/pattern.tail" bs=1M skip=1 count=7 2>/dev/null
dd if="$WORK/pattern" of="$disk" bs=64k seek=256 conv=fsync 2>/dev/null
echo 3 >/proc/sys/vm/drop_caches
ktap_test_result "8 MiB written read back through the device" \
	sh -c "dd if=$disk bs=64k skip=256 count=128 2>/dev/null | cmp -s - $WORK/pattern"
ktap_test_result "and they are in the backing at 16 MiB" \
	sh -c "dd if=$WORK/file.img bs=64k skip=256 count=128 2>/dev/null | cmp -s - $WORK/pattern"
dd if="$WORK/pattern" of="$disk" bs=512 seek=7 count=9 conv=fsync 2>/dev/null
ktap_test_result "unaligned sectors (7..15) land where they belong" \
	sh -c "dd if=$WORK/file.img bs=512 skip=7 count=9 2>/dev/null | cmp -s - $WORK/pattern.9"

# 13. Discard punches a hole: the range reads as zeroes.
blkdiscard -o $((16 << 20)) -l $((1 << 20)) "$disk" 2>/dev/null
ktap_test_result "discard of 1 MiB at 16 MiB zeroes the backing there" \
	[ "$(dd if="$WORK/file.img" bs=1M skip=16 count=1 2>/dev/null | tr -d '\0' | wc -c)" = 0 ]

# 14. Deletion: the disk goes away.
del blk0
ktap_test_result "dev del blk0 removes $disk" [ ! -e "$disk" -a ! -e "$BUS/devices/blk0" ]
ktap_test_result "the data stays in the backing after deletion" \
	sh -c "dd if=$WORK/file.img bs=1M skip=17 count=7 2>/dev/null | cmp -s - $WORK/pattern.tail"

# 16-19. A block device (loop on tmpfs) with a file system, four queues.
dd if=/dev/zero of="$WORK/loop.img" bs=1M count=32 2>/dev/null
loop=$(losetup -f)
losetup "$loop" "$WORK/loop.img"
mkdir "$CFG/blk1"
echo 4 >"$CFG/blk1/num_queues"
echo "$loop" >"$CFG/blk1/backing"
add blk1
disk=$(disk_of blk1)
nq=$(ls -d /sys/block/"${disk#/dev/}"/mq/* 2>/dev/null | wc -l)
cpus=$(grep -c ^processor /proc/cpuinfo)
want=$((cpus < 4 ? cpus : 4))
ktap_test_result "blk1 on $loop has $want queues (4 offered, $cpus CPUs)" [ "$nq" = "$want" ]
mkdir -p "$WORK/mnt"
ktap_test_result "a file system is made and mounted on $disk" \
	sh -c "mke2fs -q $disk >/dev/null 2>&1 && mount -t ext2 $disk $WORK/mnt"
cp "$WORK/pattern" "$WORK/mnt/pattern"
umount "$WORK/mnt"
echo 3 >/proc/sys/vm/drop_caches
mount -t ext2 "$disk" "$WORK/mnt"
ktap_test_result "a file in it survives umount and mount" cmp -s "$WORK/mnt/pattern" "$WORK/pattern"
umount "$WORK/mnt"
del blk1
# Through a loop device of its own: the settings still hold $loop open
# for writing, which a kernel without BLK_DEV_WRITE_MOUNTED refuses to
# mount.
sync
mount -t ext2 -o ro,loop "$WORK/loop.img" "$WORK/mnt" 2>/dev/null
ktap_test_result "the file system is in the block device after deletion" \
	cmp -s "$WORK/mnt/pattern" "$WORK/pattern"
umount "$WORK/mnt" 2>/dev/null

# 20-21. Read-only.
echo 1 >"$CFG/blk1/read_only"
add blk1
disk=$(disk_of blk1)
ktap_test_result "a read-only device is a read-only disk" \
	[ "$(cat /sys/block/"${disk#/dev/}"/ro)" = 1 ]
ktap_test_result "the file system mounts read-only from it" \
	sh -c "mount -t ext2 -o ro $disk $WORK/mnt && cmp -s $WORK/mnt/pattern $WORK/pattern"
umount "$WORK/mnt" 2>/dev/null
del blk1
losetup -d "$loop"

# 22-23. Deletion and unload while I/O is in flight.
echo 0 >"$CFG/blk1/read_only"
echo "$WORK/file.img" >"$CFG/blk1/backing"
add blk1
disk=$(disk_of blk1)
dd if=/dev/urandom of="$disk" bs=64k count=1024 oflag=direct 2>/dev/null &
io=$!
sleep 0.3
ktap_test_result "rmmod vdpa_blk while a device is in use fails (busy)" fails rmmod vdpa_blk
timeout 30 vdpa dev del blk1
rc=$?
wait "$io" 2>/dev/null
ktap_test_result "dev del during writes returns (rc $rc) and $disk is gone" \
	[ "$rc" = 0 -a ! -e "$disk" ]

# 24-25. Unload and load again.
rmdir "$CFG/blk0" "$CFG/blk1"
ktap_test_result "rmmod vdpa_blk after its devices are gone" rmmod vdpa_blk
ktap_test_result "modprobe vdpa_blk again lists the management device" \
	sh -c "modprobe vdpa_blk && vdpa mgmtdev show | grep -q '^kvmarm-blk:'"

# 26-27. The kernel said nothing bad.
ktap_test_result "no kernel warnings or oopses" \
	sh -c "! dmesg | tail -n +$((dmesg_start + 1)) | grep -E 'WARNING:|BUG:|Oops|Call trace:'"
echo 1 >"$BUS/drivers_autoprobe"
ktap_test_result "autoprobe restored" [ "$(cat "$BUS/drivers_autoprobe")" = 1 ]
rm -rf "$WORK"
ktap_finished
