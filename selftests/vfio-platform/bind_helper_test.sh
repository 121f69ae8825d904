#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bind_helper_test - scripts/vfio-platform-bind on a real kernel: hand the
# PL031 to vfio-amba and back, refuse an absent device, a DMA-capable
# device without an IOMMU and an unbind while the group is open.  KTAP
# output (../kselftest/ktap_helpers.sh).

B=vfio-platform-bind
RTC=9010000.pl031
VIRTIO=a000000.virtio_mmio
OUT=/tmp/bind-helper.out

. "$(dirname "$0")/../kselftest/ktap_helpers.sh"
check() {	# description, then the command
	_d=$1
	shift
	if "$@"; then
		ktap_test_pass "$_d"
	else
		ktap_test_fail "$_d"
		sed 's/^/# /' "$OUT"
	fi
}
driver_of() { d=$(readlink "/sys/bus/$1/devices/$2/driver" 2>/dev/null); echo "${d##*/}"; }
run() { "$B" "$@" >"$OUT" 2>&1; }

ktap_print_header
if ! command -v "$B" >/dev/null || [ ! -e "/sys/bus/amba/devices/$RTC" ]; then
	ktap_skip_all "$B or $RTC missing"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 8
host=$(driver_of amba "$RTC")

check "bind $RTC" run bind "$RTC"
check "it is bound to vfio-amba and the group is printed" \
	sh -c "[ \"\$(readlink /sys/bus/amba/devices/$RTC/driver)\" != '' ] &&
	       readlink /sys/bus/amba/devices/$RTC/driver | grep -q vfio-amba &&
	       grep -q '^/dev/vfio/[0-9]' $OUT"
check "status names vfio-amba" sh -c "$B status $RTC >$OUT 2>&1 && grep -q vfio-amba $OUT"
grp=$(readlink "/sys/bus/amba/devices/$RTC/iommu_group")
exec 9<>"/dev/vfio/${grp##*/}"
check "unbind refused while the group is open" \
	sh -c "! $B unbind $RTC >$OUT 2>&1 && [ \"\$(readlink /sys/bus/amba/devices/$RTC/driver | sed 's|.*/||')\" = vfio-amba ]"
exec 9>&-
check "unbind gives the RTC back to ${host:-no driver}" \
	sh -c "$B unbind $RTC >$OUT 2>&1 && [ \"\$(readlink /sys/bus/amba/devices/$RTC/driver | sed 's|.*/||')\" = '$host' ]"
check "an absent device is refused" sh -c "! $B bind 1234.nothing >$OUT 2>&1"
if [ -e "/sys/bus/platform/devices/$VIRTIO" ] &&
   [ -z "$(driver_of platform "$VIRTIO")" ]; then
	check "a DMA-capable device without IOMMU is refused with advice" \
		sh -c "! $B bind $VIRTIO >$OUT 2>&1 && grep -q dma_less $OUT"
else
	ktap_test_skip "no free virtio-mmio transport"
fi
check "nothing left: driver_override cleared" \
	sh -c "[ \"\$(cat /sys/bus/amba/devices/$RTC/driver_override)\" = '(null)' ] ||
	       [ -z \"\$(cat /sys/bus/amba/devices/$RTC/driver_override)\" ]"

ktap_finished
