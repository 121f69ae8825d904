# SPDX-License-Identifier: GPL-2.0
#
# KTAP for the shell tests, sourced by them from ../lib/: the header, the
# plan, one line per result and, last, the totals line of the kselftest
# harness, which the test host counts.  POSIX sh (busybox).
#
#   ktap_print_header               TAP version 13
#   ktap_set_plan N                 1..N
#   ktap_print_msg TEXT             # TEXT
#   ktap_test_pass DESC             ok N DESC
#   ktap_test_fail DESC             not ok N DESC
#   ktap_test_skip DESC             ok N # SKIP DESC
#   ktap_test_result DESC CMD...    pass or fail by CMD's exit status
#   ktap_skip_all REASON            a plan of one skipped test; exits 4
#   ktap_finished                   the totals; exits 1 if a test failed,
#                                   else 0

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

KTAP_N=0
KTAP_PASS=0
KTAP_FAIL=0
KTAP_SKIP=0

ktap_print_header() {
	echo "TAP version 13"
}

ktap_set_plan() {
	echo "1..$1"
}

ktap_print_msg() {
	echo "# $*"
}

ktap_test_pass() {
	KTAP_N=$((KTAP_N + 1))
	KTAP_PASS=$((KTAP_PASS + 1))
	echo "ok $KTAP_N $*"
}

ktap_test_fail() {
	KTAP_N=$((KTAP_N + 1))
	KTAP_FAIL=$((KTAP_FAIL + 1))
	echo "not ok $KTAP_N $*"
}

ktap_test_skip() {
	KTAP_N=$((KTAP_N + 1))
	KTAP_SKIP=$((KTAP_SKIP + 1))
	echo "ok $KTAP_N # SKIP $*"
}

ktap_test_result() {
	_ktap_desc=$1
	shift
	if "$@"; then
		ktap_test_pass "$_ktap_desc"
	else
		ktap_test_fail "$_ktap_desc"
	fi
}

ktap_print_totals() {
	echo "# Totals: pass:$KTAP_PASS fail:$KTAP_FAIL xfail:0 xpass:0 skip:$KTAP_SKIP error:0"
}

ktap_skip_all() {
	ktap_set_plan 1
	ktap_test_skip "$*"
	ktap_print_totals
	exit "$KSFT_SKIP"
}

ktap_finished() {
	ktap_print_totals
	[ "$KTAP_FAIL" = 0 ] || exit "$KSFT_FAIL"
	exit "$KSFT_PASS"
}
