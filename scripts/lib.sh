# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the kvmarm-io scripts (sourced, not run).

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CACHE:-$TOP/.cache}
OUT=${OUT:-$TOP/out}
KSFT_DIR=$CACHE/linux-source/tree/tools/testing/selftests
LINUX_SRC=$CACHE/linux-source

die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }
log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

# All cached kernels, one ABI name per line (6.1 first).
kernel_abis() {
	[ -f "$CACHE/kernels.list" ] || die "no kernels cached: run scripts/setup"
	awk '{ print $2 }' "$CACHE/kernels.list"
}

# Resolve a series ("6.12") or an ABI ("6.12.117+deb12") to the ABI name.
resolve_abi() {
	local want=$1 s abi ver
	[ -f "$CACHE/kernels.list" ] || die "no kernels cached: run scripts/setup"
	while read -r s abi ver; do
		if [ "$want" = "$s" ] || [ "$want" = "$abi" ]; then
			echo "$abi"
			return 0
		fi
	done <"$CACHE/kernels.list"
	die "kernel '$want' is not cached (have: $(kernel_abis | tr '\n' ' '))"
}

series_of() {
	awk -v a="$1" '$2 == a { print $1 }' "$CACHE/kernels.list"
}

kroot() { echo "$CACHE/kernels/$1/root"; }
kdir() { echo "$(kroot "$1")/usr/src/linux-headers-$1-${2:-arm64}"; }
krelease() { echo "$1-arm64"; }
kimage() { echo "$(kroot "$1")/boot/vmlinuz-$1-arm64"; }
kmoddir() { echo "$(kroot "$1")/lib/modules/$1-arm64"; }

# Our out-of-tree modules built for a kernel (after scripts/build).
built_modules() {	# abi
	local d=$OUT/$1/arm64/src
	[ -d "$d" ] || return 0
	find "$d" -name '*.ko' | sort
}
