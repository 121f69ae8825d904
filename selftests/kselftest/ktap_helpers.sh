# SPDX-License-Identifier: GPL-2.0
#
# KTAP for the shell tests, out of tree.  In-tree they source the kernel's
# tools/testing/selftests/kselftest/ktap_helpers.sh from the same relative
# path; this file offers the same functions with the same meaning, and
# adds a totals line to ktap_skip_all() for the test host's count.
# POSIX sh (busybox).
#
#   ktap_print_header               TAP version 13
#   ktap_set_plan N                 1..N
#   ktap_print_msg TEXT             # TEXT
#   ktap_test_pass DESC             ok N DESC
#   ktap_test_fail DESC             not ok N DESC
#   ktap_test_skip DESC             ok N DESC # SKIP
#   ktap_test_result DESC CMD...    pass or fail by CMD's exit status
#   ktap_skip_all REASON            1..0 # SKIP REASON (the caller exits
#                                   with KSFT_SKIP)
#   ktap_print_totals               the kselftest harness's totals line
#   ktap_finished                   the totals; exits 0 if every planned
#                                   test passed or was skipped, else 1

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

KSFT_NUM_TESTS=0
KTAP_TESTNO=1
KTAP_CNT_PASS=0
KTAP_CNT_FAIL=0
KTAP_CNT_SKIP=0

ktap_print_header() {
	echo "TAP version 13"
}

ktap_set_plan() {
	KSFT_NUM_TESTS=$1
	echo "1..$KSFT_NUM_TESTS"
}

ktap_print_msg() {
	echo "# $*"
}

# result description [directive]
__ktap_result() {
	echo "$1 $KTAP_TESTNO $2${3:+ # $3}"
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
}

ktap_test_pass() {
	__ktap_result ok "$1"
	KTAP_CNT_PASS=$((KTAP_CNT_PASS + 1))
}

ktap_test_fail() {
	__ktap_result "not ok" "$1"
	KTAP_CNT_FAIL=$((KTAP_CNT_FAIL + 1))
}

ktap_test_skip() {
	__ktap_result ok "$1" SKIP
	KTAP_CNT_SKIP=$((KTAP_CNT_SKIP + 1))
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
	echo "# Totals: pass:$KTAP_CNT_PASS fail:$KTAP_CNT_FAIL xfail:0 xpass:0 skip:$KTAP_CNT_SKIP error:0"
}

ktap_skip_all() {
	echo "1..0 # SKIP $*"
	KTAP_CNT_SKIP=$((KTAP_CNT_SKIP + 1))
	ktap_print_totals
}

ktap_finished() {
	ktap_print_totals
	if [ $((KTAP_CNT_PASS + KTAP_CNT_SKIP)) -eq "$KSFT_NUM_TESTS" ]; then
		exit "$KSFT_PASS"
	fi
	exit "$KSFT_FAIL"
}
