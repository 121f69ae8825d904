#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vdpa_blk_qemu_test - unmodified QEMU and libvirt put a guest on vdpa-blk.
#
# A vdpa-blk device on a file is bound to vhost_vdpa, and Debian 13's
# QEMU 10.0 runs a second-level guest on it three ways: the guest's
# virtqueues served by the device (-device vhost-vdpa-device-pci), QEMU's
# block layer on it through libblkio (-blockdev virtio-blk-vhost-vdpa),
# and libvirt's <disk type='vhostvdpa'> (libvirtd started here).  Each
# guest writes random data and a file system (scripts/l2-init, disk mode);
# after it is gone the host finds both in the backing, byte for byte.
# KTAP output (../kselftest/ktap_helpers.sh).

CFG=/sys/kernel/config/kvmarm-blk
BUS=/sys/bus/vdpa
L2=${L2_DIR:-/l2}
TIMEOUT=${L2_TIMEOUT:-150}
WORK=/tmp/vdpa-blk-qemu
NAME=vblk-qemu

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"

ktap_print_header
if [ ! -d "$BUS" ]; then
	ktap_skip_all "this kernel has no vDPA bus (CONFIG_VDPA)"
	exit "$KSFT_SKIP"
fi
if [ ! -d "$CFG" ]; then
	ktap_skip_all "vdpa_blk is not loaded"
	exit "$KSFT_SKIP"
fi
if [ ! -d "$BUS/drivers/vhost_vdpa" ]; then
	ktap_skip_all "vhost_vdpa is not loaded"
	exit "$KSFT_SKIP"
fi
for need in /dev/kvm "$L2/vmlinuz" "$L2/initrd.cpio.gz"; do
	if [ ! -e "$need" ]; then
		ktap_skip_all "$need missing"
		exit "$KSFT_SKIP"
	fi
done
# See qemu_passthrough_test.sh: no Linux guest runs under KVM on the
# emulated host with 16 KiB pages.
page_kb=$(awk '/^KernelPageSize:/ { print $2; exit }' /proc/self/smaps)
if [ "${page_kb:-4}" != 4 ]; then
	ktap_skip_all "the emulated host runs no Linux guest under KVM with $page_kb KiB pages"
	exit "$KSFT_SKIP"
fi
# The newest QEMU the host has; vhost-vdpa-device-pci came with 8.0.
rel=$(tail -n 1 /run/nested-releases 2>/dev/null)
export KVMARM_QEMU=${rel%% *}
qv="QEMU $(echo "${rel#* }" | cut -d' ' -f1) (Debian $KVMARM_QEMU)"
if ! qemu-system-aarch64 -device help 2>/dev/null | grep -q vhost-vdpa-device-pci; then
	ktap_skip_all "$qv has no vhost-vdpa-device-pci"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 14

rm -rf "$WORK"
mkdir -p "$WORK/mnt"
echo 0 >"$BUS/drivers_autoprobe"
dd if=/dev/zero of="$WORK/disk.img" bs=1M count=64 2>/dev/null
mkdir "$CFG/$NAME"
echo "$WORK/disk.img" >"$CFG/$NAME/backing"
vdpa dev add name "$NAME" mgmtdev kvmarm-blk
echo vhost_vdpa >"$BUS/devices/$NAME/driver_override"
echo "$NAME" >"$BUS/drivers_probe"
vdev=
for v in "$BUS/devices/$NAME"/vhost-vdpa-*; do
	[ -e "$v" ] && vdev=/dev/${v##*/}
done
ktap_test_result "$NAME is $vdev on vhost_vdpa" [ -c "$vdev" ]
# vhost-vdpa pins the guest's RAM against RLIMIT_MEMLOCK.
ulimit -l unlimited

# The guest's lines in $1 agree with each other and with the backing.
check_guest() {	# log label
	log=$1
	md5=$(sed -n 's/^L2-MD5 \([0-9a-f]*\).*/\1/p' "$log" | tr -d '\r')
	back=$(sed -n 's/^L2-READBACK \([0-9a-f]*\).*/\1/p' "$log" | tr -d '\r')
	fs=$(sed -n 's/^L2-FS \([0-9a-f]*\).*/\1/p' "$log" | tr -d '\r')
	ktap_test_result "$2: the guest read back what it wrote ($md5)" \
		[ -n "$md5" -a "$md5" = "$back" -a "$md5" = "$fs" ]
	host=$(dd if="$WORK/disk.img" bs=64k skip=768 count=64 2>/dev/null |
		md5sum | cut -d' ' -f1)
	file=
	if mount -t ext2 -o ro,loop "$WORK/disk.img" "$WORK/mnt" 2>/dev/null; then
		file=$(md5sum <"$WORK/mnt/p" | cut -d' ' -f1)
		umount "$WORK/mnt"
	fi
	ktap_test_result "$2: the data and the guest's file system are in the backing" \
		[ -n "$md5" -a "$host" = "$md5" -a "$file" = "$md5" ]
	# The next run starts from zeroes.
	dd if=/dev/zero of="$WORK/disk.img" bs=1M count=64 conv=notrunc 2>/dev/null
}

# QEMU with a 256 MiB guest on $vdev, plus "$@".
run_qemu() {	# label, then QEMU arguments
	label=$1
	shift
	log=$WORK/$(echo "$label" | tr -c 'a-z0-9\n' -).log
	timeout "$TIMEOUT" qemu-system-aarch64 -M virt,gic-version=3 \
		-accel kvm -cpu host -m 256 -smp 1 -nographic -nodefaults \
		-serial stdio -no-reboot -kernel "$L2/vmlinuz" \
		-initrd "$L2/initrd.cpio.gz" \
		-append "console=ttyAMA0 panic=-1 loglevel=4 kvmarm.l2=disk" \
		"$@" </dev/null >"$log" 2>&1
	rc=$?
	sed 's/^/# L2: /' "$log" | grep -v '^# L2: $' | tail -n 20
	ktap_test_result "$label: the guest ran and powered off (exit $rc)" \
		grep -q '^L2-DONE' "$log"
	ktap_test_result "$label: the guest saw the 131072-sector disk" \
		grep -q '^L2-DISK vda 131072 sectors' "$log"
	check_guest "$log" "$label"
}

# 2-5. The guest's virtqueues served by the device.
run_qemu "$qv vhost-vdpa-device-pci" \
	-device vhost-vdpa-device-pci,vhostdev="$vdev"

# 6-9. QEMU's block layer through libblkio; its memory regions must be
# shared file descriptors.
run_qemu "$qv virtio-blk-vhost-vdpa (libblkio)" \
	-object memory-backend-memfd,id=mem,size=256M,share=on \
	-machine memory-backend=mem \
	-blockdev driver=virtio-blk-vhost-vdpa,path="$vdev",node-name=d0,cache.direct=on \
	-device virtio-blk-pci,drive=d0

# 10-13. libvirt.
run_libvirt() {
	label="libvirt $(libvirtd --version | awk '{ print $NF }') <disk type='vhostvdpa'>"
	log=$WORK/libvirt-console.log
	mkdir -p /run/libvirt
	virtlogd -d
	libvirtd -d
	for i in 1 2 3 4 5 6 7 8 9 10; do
		virsh -c qemu:///system version >/dev/null 2>&1 && break
		sleep 1
	done
	cat >"$WORK/domain.xml" <<-EOF
	<domain type='kvm'>
	  <name>vdpa-blk-test</name>
	  <memory unit='MiB'>256</memory>
	  <vcpu>1</vcpu>
	  <memoryBacking>
	    <source type='memfd'/>
	    <access mode='shared'/>
	  </memoryBacking>
	  <os>
	    <type arch='aarch64' machine='virt'>hvm</type>
	    <kernel>$L2/vmlinuz</kernel>
	    <initrd>$L2/initrd.cpio.gz</initrd>
	    <cmdline>console=ttyAMA0 panic=-1 loglevel=4 kvmarm.l2=disk</cmdline>
	  </os>
	  <features><gic version='3'/></features>
	  <cpu mode='host-passthrough'/>
	  <on_poweroff>destroy</on_poweroff>
	  <on_reboot>destroy</on_reboot>
	  <on_crash>destroy</on_crash>
	  <devices>
	    <emulator>/usr/bin/qemu-system-aarch64</emulator>
	    <disk type='vhostvdpa' device='disk'>
	      <driver name='qemu' type='raw' cache='none' io='threads'/>
	      <source dev='$vdev'/>
	      <target dev='vda' bus='virtio'/>
	    </disk>
	    <serial type='file'>
	      <source path='$log'/>
	      <target port='0'/>
	    </serial>
	    <controller type='usb' model='none'/>
	    <memballoon model='none'/>
	  </devices>
	</domain>
	EOF
	virsh -c qemu:///system define "$WORK/domain.xml" >"$WORK/virsh.log" 2>&1
	virsh -c qemu:///system start vdpa-blk-test >>"$WORK/virsh.log" 2>&1
	rc=$?
	sed 's/^/# virsh: /' "$WORK/virsh.log"
	ktap_test_result "$label: virsh start (exit $rc)" [ "$rc" = 0 ]
	[ "$rc" = 0 ] || sed 's/^/# libvirtd: /' /nested/*/var/log/libvirt/qemu/vdpa-blk-test.log 2>/dev/null | tail -n 20
	for i in $(seq "$TIMEOUT"); do
		[ "$rc" = 0 ] || break
		virsh -c qemu:///system domstate vdpa-blk-test 2>/dev/null |
			grep -q 'shut off' && break
		sleep 1
	done
	sed 's/^/# L2: /' "$log" 2>/dev/null | grep -v '^# L2: $' | tail -n 20
	ktap_test_result "$label: the guest ran and powered off" grep -q '^L2-DONE' "$log"
	check_guest "$log" "$label"
	virsh -c qemu:///system destroy vdpa-blk-test >/dev/null 2>&1
	virsh -c qemu:///system undefine vdpa-blk-test >/dev/null 2>&1
	kill "$(cat /run/libvirtd.pid 2>/dev/null)" \
		"$(cat /run/virtlogd.pid 2>/dev/null)" 2>/dev/null
}
if command -v libvirtd >/dev/null && command -v virsh >/dev/null; then
	run_libvirt
else
	for i in 1 2 3 4; do ktap_test_skip "libvirt is not installed"; done
fi

# 14. The device goes away cleanly.
vdpa dev del "$NAME"
rmdir "$CFG/$NAME"
echo 1 >"$BUS/drivers_autoprobe"
ktap_test_result "$NAME deleted, $vdev gone" [ ! -e "$vdev" ]
rm -rf "$WORK"
ktap_finished
