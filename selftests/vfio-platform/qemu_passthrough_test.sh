#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# qemu_passthrough_test - unmodified QEMU passes the PL031 to a KVM guest.
#
# The RTC is bound to vfio-amba; vfio-platform-qemu builds the guest's
# device tree and runs Debian's qemu-system-aarch64 with -accel kvm and
# -device vfio-platform, once with every QEMU release the test host has
# (/run/nested-releases: Debian 12's 7.2 and Debian 13's 10.0).  In the
# second-level guest the stock rtc-pl031 driver binds, reads the time and
# takes an alarm interrupt.  Where QEMU's trace shows the interrupt wired
# as an irqfd with a resamplefd, QEMU must never handle it itself.  KTAP
# output (../kselftest/ktap_helpers.sh).

BUS=amba
DEV=9010000.pl031
SYSDEV=/sys/bus/$BUS/devices/$DEV
L2=${L2_DIR:-/l2}
TIMEOUT=${L2_TIMEOUT:-150}

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
driver_of() { d=$(readlink "$SYSDEV/driver" 2>/dev/null); echo "${d##*/}"; }

RELEASES=/run/nested-releases
ktap_print_header
for need in "$RELEASES" /dev/kvm "$L2/vmlinuz" "$L2/initrd.cpio.gz" "$SYSDEV"; do
	if [ ! -e "$need" ]; then
		ktap_skip_all "$need missing"
		exit "$KSFT_SKIP"
	fi
done
# On a host with 16 KiB pages the emulated machine starts no Linux guest
# under KVM at all (its vCPU never exits, whatever the guest's page size,
# QEMU release or transparent huge pages), while the small guests of
# passthrough_test run there.  Say so instead of timing out.
page_kb=$(awk '/^KernelPageSize:/ { print $2; exit }' /proc/self/smaps)
if [ "${page_kb:-4}" != 4 ]; then
	ktap_skip_all "the emulated host runs no Linux guest under KVM with $page_kb KiB pages"
	exit "$KSFT_SKIP"
fi
nrel=$(wc -l <"$RELEASES")
ktap_set_plan $((2 + 5 * nrel))

# 1. Hand the RTC to vfio-amba.
host=$(driver_of)
[ -z "$host" ] || echo "$DEV" >"/sys/bus/$BUS/drivers/$host/unbind"
echo vfio-amba >"$SYSDEV/driver_override"
echo "$DEV" >"/sys/bus/$BUS/drivers_probe"
ktap_test_result "RTC bound to vfio-amba (was ${host:-unbound})" [ "$(driver_of)" = vfio-amba ]

# 2-6, with the QEMU of one Debian release.
run_guest() {	# release version
	export KVMARM_QEMU=$1
	qv="QEMU ${2%% *} (Debian $1)"
	WORK=/tmp/qemu-passthrough-$1
	# 2. Run the second-level guest with unmodified QEMU.
	rm -rf "$WORK"
	mkdir -p "$WORK"
	set -- -m 256 -smp 1 -nographic -nodefaults -serial stdio -no-reboot \
		-kernel "$L2/vmlinuz" -initrd "$L2/initrd.cpio.gz" \
		-append "console=ttyAMA0 panic=-1 loglevel=4" \
		-trace "vfio_platform_*" -trace "vfio_intp_*" -D "$WORK/qemu.log"
	echo "# $(vfio-platform-qemu --print --workdir "$WORK" "$SYSDEV" -- "$@")"
	start=$(date +%s)
	# The RTC's own time, which the fuzzer or an earlier test may have
	# set away from the system clock: the guest must read that.
	rtc_offset=0
	for r in /sys/class/rtc/rtc*/since_epoch; do
		[ -r "$r" ] || continue
		rtc_offset=$(($(cat "$r") - start))
		break
	done
	timeout "$TIMEOUT" vfio-platform-qemu --workdir "$WORK" "$SYSDEV" -- "$@" \
		</dev/null >"$WORK/console.log" 2>&1
	rc=$?
	host_now=$(($(date +%s) + rtc_offset))
	sed 's/^/# L2: /' "$WORK/console.log" | grep -v '^# L2: $'
	echo "# second-level guest ran $((host_now - rtc_offset - start)) s (exit $rc)"
	ktap_test_result "$qv: second-level guest booted and powered off" \
		grep -q '^L2-IRQS' "$WORK/console.log"

	# 3. The stock driver owns the passed-through RTC in the guest.
	ktap_test_result "$qv: rtc-pl031 drives the passed-through RTC in the guest" \
		grep -q '^L2-RTC rtc[0-9]* c000000\.[a-z0-9]* driver=rtc-pl031' \
		"$WORK/console.log"

	# 4. It reads the host's time.
	l2time=$(sed -n 's/^L2-TIME \([0-9]*\).*/\1/p' "$WORK/console.log" | tr -d '\r')
	ok_time() {
		[ -n "$l2time" ] || return 1
		d=$((host_now - l2time))
		[ "$d" -lt 0 ] && d=$((-d))
		echo "# guest RTC $l2time, host RTC $host_now (difference ${d} s, boot included)"
		[ "$d" -le "$TIMEOUT" ]
}
ktap_test_result "$qv: guest reads the host's time through the RTC" ok_time

# 5. The alarm interrupt arrives in the guest.
irqs=$(sed -n 's/^L2-IRQS \([0-9]*\).*/\1/p' "$WORK/console.log" | tr -d '\r')
ktap_test_result "$qv: alarm interrupt delivered to the guest (${irqs:-0} in /proc/interrupts)" \
	[ "${irqs:-0}" -ge 1 ]

# 6. QEMU used the in-kernel path: irqfd + resamplefd, no userspace IRQ.
# QEMU sets up the irqfd only when its in-kernel GIC model maps interrupt
# lines to KVM GSIs.  The GICv3 model of Debian 12's QEMU 7.2 maps none
# (its GICv2 model does), so that QEMU falls back to injecting from
# userspace, which the trace shows; the kernel side of the in-kernel path
# is then covered by passthrough_test.  A QEMU that sets up the irqfd
# turns this into a hard check.
sed 's/^/# qemu: /' "$WORK/qemu.log" | head -n 12
irqfd=$(grep -c 'vfio_platform_start_level_irqfd_injection' "$WORK/qemu.log")
user=$(grep -c 'vfio_platform_intp_interrupt' "$WORK/qemu.log")
eoi=$(grep -c 'vfio_platform_eoi' "$WORK/qemu.log")
no_user_irq() { [ "$user" = 0 ] && [ "$eoi" = 0 ]; }
if [ "$irqfd" -gt 0 ]; then
	ktap_test_result "$qv injected through irqfd+resamplefd and handled no interrupt itself ($user, $eoi)" \
		no_user_irq
else
	echo "# $qv did not set up irqfd for the GICv3 (no GSI mapping): it injected $user interrupt(s) from userspace and unmasked $eoi by ioctl"
	ktap_test_skip "$qv: its GICv3 model cannot use irqfd"
fi

}

exec 3<"$RELEASES"
while read -r rel ver <&3; do
	run_guest "$rel" "$ver"
done
exec 3<&-

# 7. The host gets its RTC back.
echo "$DEV" >"/sys/bus/$BUS/drivers/vfio-amba/unbind"
echo >"$SYSDEV/driver_override"
echo "$DEV" >"/sys/bus/$BUS/drivers_probe"
ktap_test_result "RTC back with ${host:-no driver}" [ "$(driver_of)" = "$host" ]

ktap_finished
