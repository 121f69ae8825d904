#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vdpa_blk_bench - fio in a second-level guest on the same backing four
# ways, in one boot of the emulated host:
#   (a) QEMU's vhost-vdpa-device-pci on a vdpa-blk device (the guest's
#       virtqueues served by the device),
#   (b) QEMU's best userspace path: virtio-blk-pci with an iothread,
#       aio=io_uring, cache.direct=on,
#   (c) QEMU's block layer on the vdpa-blk device through libblkio
#       (virtio-blk-vhost-vdpa),
#   (d) fio with io_uring on the emulated host itself, the limit.
# Backings: null_blk and a tmpfs file, both opened O_DIRECT.  The guest
# runs Debian 13's fio (scripts/l2-init, fio mode).  Prints one line per
# backing and job:
#   VDPA-BENCH <backing> <job> <a> <b> <c> <d> <a/b> <a/d> <unit>
#
# Usage: vdpa_blk_bench.sh [SECONDS per job] (BENCH_ONLY=a,b,c,d: modes)

SECS=${1:-2}
CFG=/sys/kernel/config/kvmarm-blk
BUS=/sys/bus/vdpa
L2=${L2_DIR:-/l2}
WORK=/tmp/vdpa-blk-bench
NAME=vblk-bench
MODES=$(echo "${BENCH_ONLY:-a,b,c,d}" | tr ',' ' ')
JOBS="4k-randread-qd1:randread:4k:1 4k-randread-qd32:randread:4k:32
4k-randwrite-qd1:randwrite:4k:1 4k-randwrite-qd32:randwrite:4k:32
128k-seqread-qd4:read:128k:4"

say() { echo "# $*"; }
[ -d "$CFG" ] && [ -d "$BUS/drivers/vhost_vdpa" ] && [ -e /dev/kvm ] || {
	say "vdpa_blk_bench: needs vdpa_blk, vhost_vdpa and KVM"
	exit 4
}
rel=$(tail -n 1 /run/nested-releases 2>/dev/null)
export KVMARM_QEMU=${rel%% *}
nested=$(awk '$2 == "/nested" { print $1 }' /proc/mounts)
rm -rf "$WORK"
mkdir -p "$WORK"
echo 0 >"$BUS/drivers_autoprobe"
ulimit -l unlimited

# A second-level guest running the fio jobs, with "$@" for its disk; its
# results in $WORK/<mode>.
run_l2() {	# mode, then QEMU arguments
	m=$1
	shift
	timeout 900 qemu-system-aarch64 -M virt,gic-version=3 -accel kvm \
		-cpu host -m 512 -smp 1 -nographic -nodefaults -serial stdio \
		-no-reboot -kernel "$L2/vmlinuz" -initrd "$L2/initrd.cpio.gz" \
		-append "console=ttyAMA0 panic=-1 loglevel=4 kvmarm.l2=fio kvmarm.fio_secs=$SECS" \
		"$@" \
		-drive file="$nested",if=none,id=nested,format=raw,readonly=on \
		-device virtio-blk-pci,drive=nested \
		</dev/null >"$WORK/$m.log" 2>&1
	grep -q '^L2-DONE' "$WORK/$m.log" ||
		sed 's/^/# L2: /' "$WORK/$m.log" | tail -n 15
	sed -n 's/^L2-FIO //p' "$WORK/$m.log" | tr -d '\r' >"$WORK/$m"
	sed -n 's/^L2-IRQ //p' "$WORK/$m.log" | tr -d '\r' >"$WORK/$m.irq"
}

# The same jobs on the emulated host.
run_host() {	# backing
	: >"$WORK/d"
	for job in $JOBS; do
		IFS=: read -r name rw bs qd <<-EOF
		$job
		EOF
		chroot "/nested/$KVMARM_QEMU" /usr/bin/fio --name="$name" \
			--filename="$1" --direct=1 --ioengine=io_uring \
			--rw="$rw" --bs="$bs" --iodepth="$qd" --runtime="$SECS" \
			--time_based --norandommap --randrepeat=0 \
			--output-format=terse --terse-version=3 >"$WORK/fio.out" 2>&1
		echo "$name $(awk -F';' 'NF > 50 { print $8, $7, $49, $48 }' "$WORK/fio.out")" \
			>>"$WORK/d"
	done
}

# The figure of @job in a mode's results: IOPS for 4k, MB/s for 128k.
figure() {	# mode job
	awk -v j="$2" '$1 == j {
		r = $2 + $4; bw = $3 + $5
		if (j ~ /^128k/) printf "%d", bw * 1024 / 1000000
		else printf "%d", r
	}' "$WORK/$1" 2>/dev/null
}

for backing in null_blk tmpfs; do
	case $backing in
	null_blk) dev=/dev/nullb0 ;;
	tmpfs)
		dev=$WORK/tmpfs.img
		dd if=/dev/zero of="$dev" bs=1M count=256 2>/dev/null
		;;
	esac
	for m in a b c d; do : >"$WORK/$m"; done
	mkdir "$CFG/$NAME"
	echo 1 >"$CFG/$NAME/direct"
	echo "$dev" >"$CFG/$NAME/backing"
	vdpa dev add name "$NAME" mgmtdev kvmarm-blk
	echo vhost_vdpa >"$BUS/devices/$NAME/driver_override"
	echo "$NAME" >"$BUS/drivers_probe"
	vdev=/dev/$(basename "$(ls -d "$BUS/devices/$NAME"/vhost-vdpa-* | head -n 1)")
	for m in $MODES; do
		say "$backing: mode $m"
		case $m in
		a) run_l2 a -device vhost-vdpa-device-pci,vhostdev="$vdev" ;;
		b) run_l2 b -object iothread,id=io0 \
			-drive file="$dev",if=none,id=d0,format=raw,cache.direct=on,aio=io_uring \
			-device virtio-blk-pci,drive=d0,iothread=io0 ;;
		c) run_l2 c -object memory-backend-memfd,id=mem,size=512M,share=on \
			-machine memory-backend=mem -object iothread,id=io0 \
			-blockdev driver=virtio-blk-vhost-vdpa,path="$vdev",node-name=d0,cache.direct=on \
			-device virtio-blk-pci,drive=d0,iothread=io0 ;;
		d) run_host "$dev" ;;
		esac
	done
	vdpa dev del "$NAME"
	rmdir "$CFG/$NAME"
	for job in $JOBS; do
		name=${job%%:*}
		a=$(figure a "$name") b=$(figure b "$name")
		c=$(figure c "$name") d=$(figure d "$name")
		unit=IOPS
		case $name in 128k*) unit=MB/s ;; esac
		# Interrupts per request in the guest, (a) and (b).
		for m in a b; do
			awk -v j="$name" -v s="$SECS" -v f="$(figure "$m" "$name")" \
				-v u="$name" '$1 == j && f > 0 {
				n = f * s; if (u ~ /^128k/) n = f * 1000000 / 131072 * s
				printf "# %s: %s %.2f interrupts per request\n", j, "'"$m"'", $2 / n
			}' "$WORK/$m.irq" 2>/dev/null
		done
		echo "VDPA-BENCH $backing $name ${a:--} ${b:--} ${c:--} ${d:--}" \
			"$(awk -v a="${a:-0}" -v b="${b:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }')" \
			"$(awk -v a="${a:-0}" -v d="${d:-0}" 'BEGIN { if (d > 0) printf "%.2f", a / d; else printf "-" }')" \
			"$unit"
	done
	rm -f "$WORK/tmpfs.img"
done
echo 1 >"$BUS/drivers_autoprobe"
rm -rf "$WORK"
