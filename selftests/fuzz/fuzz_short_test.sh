#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fuzz_short_test - kvmarm_fuzz on every target (vhost-blk, vdpa, vfio)
# for a fixed seed and a few iterations, so that every run of the tests
# replays the same operations.  KTAP output, one result per target (the
# fuzzer's).  FUZZ_SEED and FUZZ_ITERS override the seed and the count;
# scripts/fuzz runs the fuzzer at length.
#
# The fuzzer writes garbage into the PL031's load register, which sets the
# host's RTC; it gives the RTC the system time back when it lets it go.

exec "$(dirname "$0")/kvmarm_fuzz" --target all --seed "${FUZZ_SEED:-20261201}" \
	--iterations "${FUZZ_ITERS:-12}" --threads 2 --ops 64
