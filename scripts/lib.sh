# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the kvmarm-io scripts (sourced, not run).

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CACHE:-$TOP/.cache}
OUT=${OUT:-$TOP/out}
KSFT_DIR=$CACHE/linux-source/tree/tools/testing/selftests
LINUX_SRC=$CACHE/linux-source

die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }
log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

# A cached kernel is named by its release (uname -r: 6.12.118+deb13-arm64,
# 7.3.4+deb13-arm64-16k).  $CACHE/kernels.list has one line per kernel:
#   name abi flavour version suite     (7.x-16k 7.3.4+deb13 arm64-16k ...)
# $CACHE/kernels-debug.list lists the referee kernels (scripts/debug-kernel)
# in the same format (6.12-debug 6.12.118-kvmarm debug 6.12.118-1 source):
# they are resolved by name but are not part of the default matrix.
klists() {
	echo "$CACHE/kernels.list"
	[ ! -f "$CACHE/kernels-debug.list" ] || echo "$CACHE/kernels-debug.list"
}

# All cached kernels, one release per line (oldest first).
kernel_abis() {
	[ -f "$CACHE/kernels.list" ] || die "no kernels cached: run scripts/setup"
	awk '{ print $2 "-" $3 }' "$CACHE/kernels.list"
}

# Resolve a name ("6.12", "7.x-16k"), a series ("7.3"), an ABI
# ("7.3.4+deb13", the 4 KiB flavour) or a release to the release.
resolve_abi() {
	local want=$1 name abi flavour ver suite
	[ -f "$CACHE/kernels.list" ] || die "no kernels cached: run scripts/setup"
	while read -r name abi flavour ver suite; do
		case $want in
		"$name" | "$abi-$flavour") ;;
		"$abi" | "${abi%.*}" | "${abi%.*+*}") [ "$flavour" = arm64 ] || continue ;;
		"${abi%.*+*}-16k") [ "$flavour" = arm64-16k ] || continue ;;
		*) continue ;;
		esac
		echo "$abi-$flavour"
		return 0
	done < <(cat $(klists))
	die "kernel '$want' is not cached (have: $(kernel_abis | tr '\n' ' '))"
}

kfield() {	# release field-number
	awk -v r="$1" -v f="$2" '$2 "-" $3 == r { print $f }' $(klists)
}
# A referee kernel (built from source with the kernel's checkers).
is_debug_kernel() { [ "$(kfield "$1" 3)" = debug ]; }
series_of() { kfield "$1" 1; }
kabi() { kfield "$1" 2; }
ksuite() { kfield "$1" 5; }

kroot() { echo "$CACHE/kernels/$1/root"; }
# Headers: the release's own (arm64), or the amd64 flavour of its ABI.
kdir() {	# release [arm64|amd64]
	case ${2:-arm64} in
	arm64) echo "$(kroot "$1")/usr/src/linux-headers-$1" ;;
	*) echo "$(kroot "$1")/usr/src/linux-headers-$(kabi "$1")-$2" ;;
	esac
}
# The amd64 release whose headers kdir KERNEL amd64 names.
amd64_release() { echo "$(kabi "$1")-amd64"; }
# Of the given kernels, one per amd64 header tree (the 16 KiB-page flavour
# shares its ABI's), in order.
amd64_kernels() {	# release...
	local k seen=" "
	for k in "$@"; do
		case $seen in *" $(kabi "$k") "*) continue ;; esac
		seen+="$(kabi "$k") "
		echo "$k"
	done
}
krelease() { echo "$1"; }
kimage() {
	local r
	r=$(kroot "$1")
	if [ -f "$r/boot/vmlinuz-$1" ]; then
		echo "$r/boot/vmlinuz-$1"
	else
		echo "$r/usr/lib/modules/$1/vmlinuz.unsigned"
	fi
}
kmoddir() { echo "$(kroot "$1")/lib/modules/$1"; }
# Page size of a cached kernel, in bytes.
kpagesize() {
	local s
	s=$(sed -n 's/^CONFIG_\(ARM64_\)\{0,1\}PAGE_SHIFT=//p' "$(kdir "$1")/.config" |
		head -n 1)
	echo $((1 << ${s:-12}))
}

# Our out-of-tree modules built for a kernel (after scripts/build).
built_modules() {	# release
	local d=$OUT/$1/arm64/src
	[ -d "$d" ] || return 0
	find "$d" -name '*.ko' | sort
}

# Debian 13's kernels are configured with gcc-14, whose flags Debian 12's
# gcc 12 refuses: they build in the Debian 13 build root that scripts/setup
# makes.  needs_buildroot KDIR is true for those.
BUILDROOT=$CACHE/buildroot/root
needs_buildroot() {	# kdir
	local v
	v=$(sed -n 's/^CONFIG_GCC_VERSION=//p' "$1/.config")
	[ "${v:-0}" -ge 130000 ]
}

# Run a command in the build root, with this tree, the cache, the output
# folder and /tmp at the same paths as outside (a private mount namespace:
# nothing stays mounted).
in_buildroot() {	# command...
	[ -f "$CACHE/buildroot/.done" ] || die "no build root: run scripts/setup"
	mkdir -p "$OUT"
	unshare --mount --propagation private -- /bin/bash -c '
		set -e
		br=$1 top=$2 cache=$3 out=$4 cwd=$5
		shift 5
		for d in /dev /proc /sys /tmp "$top" "$cache" "$out"; do
			mkdir -p "$br$d"
			mount --rbind "$d" "$br$d"
		done
		exec chroot "$br" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
			PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			/bin/sh -c '\''cd "$0" 2>/dev/null || cd /; exec "$@"'\'' \
			"$cwd" "$@"
	' in_buildroot "$BUILDROOT" "$TOP" "$CACHE" "$OUT" "$PWD" "$@"
}

# make for a kernel tree, with the compiler its headers were built with.
kmake() {	# kdir make-args...
	if needs_buildroot "$1"; then
		in_buildroot make -C "$@"
	else
		make -C "$@"
	fi
}

# Results in KTAP, as the selftests print them: "ok N name", "not ok N
# name", "ok N name # SKIP reason", and at the end the plan and the
# kselftest harness's "# Totals: pass:N fail:N xfail:0 xpass:0 skip:N
# error:0".  scripts/check and scripts/test-install print theirs with
# ktap_begin, ktap_result and ktap_end; scripts/test counts theirs and
# every selftest's with ktap_totals.
ktap_begin() {
	KTAP_N=0 KTAP_PASS=0 KTAP_FAIL=0 KTAP_SKIP=0
	echo "TAP version 13"
}

ktap_result() {	# ok|FAILED|SKIP name [skip reason]
	KTAP_N=$((KTAP_N + 1))
	case $1 in
	ok)
		KTAP_PASS=$((KTAP_PASS + 1))
		echo "ok $KTAP_N $2"
		;;
	SKIP)
		KTAP_SKIP=$((KTAP_SKIP + 1))
		echo "ok $KTAP_N $2 # SKIP ${3:-}"
		;;
	*)
		KTAP_FAIL=$((KTAP_FAIL + 1))
		echo "not ok $KTAP_N $2"
		;;
	esac
}

# The plan and the totals; true when nothing failed.
ktap_end() {
	echo "1..$KTAP_N"
	echo "# Totals: pass:$KTAP_PASS fail:$KTAP_FAIL xfail:0 xpass:0 skip:$KTAP_SKIP error:0"
	[ "$KTAP_FAIL" = 0 ]
}

# "pass fail skip" of the last totals line on stdin, errors counted as
# failures; "0 1 0" when there is none (what printed it did not finish).
ktap_totals() {
	tr -d '\r' |
		sed -n 's/.*# Totals: pass:\([0-9]*\) fail:\([0-9]*\) xfail:[0-9]* xpass:[0-9]* skip:\([0-9]*\) error:\([0-9]*\).*/\1 \2 \3 \4/p' |
		awk '{ p = $1; f = $2 + $4; s = $3; n = 1 }
		     END { if (n) print p, f, s; else print 0, 1, 0 }'
}
