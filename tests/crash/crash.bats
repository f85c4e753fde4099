#!/usr/bin/env bats
# The exactly-once promise of weir(7) under SIGKILL, broker faults and a
# full disk: tests/crash/harness.sh runs the pipeline
#   weir-ingest | weir-parse | weir-dedup | weir-window | weir-lake-write
# (or, with --lake, the table-to-table chain
#   weir-lake-cat bronze | weir-window | weir-lake-write silver;
# with --backfill, weir-ingest -B over dumps of the topic as the source)
# again and again, breaks it at random, and compares the table it ends with
# against the same computation done in one batch run.  make check runs the
# short versions; make soak (WEIR_SOAK=1) 200 kills over 200k events, 100
# kills of the chain and 100 of the backfill, and WEIR_CRASH_FULL=1 the 20
# kills over 200k events of the issue, 20 kills of the chain over 60k events
# and 20 of the backfill over 200k.

load ../helper

harness() {
	run "$TOP/tests/crash/harness.sh" "$@" "$BATS_TEST_TMPDIR/h"
	echo "$output" | grep '^harness:' | sed 's/^/# /' >&3 || true
	[ "$status" -eq 0 ] || fail "$output"
	assert_line "harness: every table identical to the batch run"
	assert_line --regexp '^harness: an uninterrupted run: identical'
}

@test "crash: random stages killed at random moments, rerun each time: the batch run's table" {
	[ -z "${WEIR_SOAK:-}" ] || skip "make soak runs the long version"
	harness -n 20000 -k 6 -s 11 --rtt 20
	assert_line --regexp '^harness: [0-9]+ kills in [0-9]+ runs'
}

@test "crash: broker down, request errors and latency during the runs change nothing" {
	[ -z "${WEIR_SOAK:-}" ] || skip "make soak runs the long version"
	harness -n 20000 -k 3 -s 12 --faults --rtt 40
	assert_line --regexp '^harness: [0-9]+ broker faults: '
	[[ ! $output =~ "harness: 0 broker faults" ]]
}

@test "crash: a full disk during commits and snapshots, space freed, rerun: the same table" {
	[ -z "${WEIR_SOAK:-}" ] || skip "make soak runs the long version"
	harness -n 20000 -k 5 -s 13 --disk-full
	assert_line --regexp '^harness: 5 runs stopped by a full disk \([1-9][0-9]* in weir-lake-write'
}

@test "crash: a table-to-table chain (weir-lake-cat | weir-window | weir-lake-write) killed at random: the batch run's table" {
	[ -z "${WEIR_SOAK:-}" ] || skip "make soak runs the long version"
	# 600 commits of 15 rows, a barrier after the commit that makes 100
	harness --lake -n 9000 -k 8 -s 21
	assert_line --regexp '^harness: [0-9]+ kills in [0-9]+ runs over [0-9]+ rounds; bronze at version 600$'
}

@test "crash: a backfill from dumps (weir-ingest -B) killed at random and resumed: the batch run's table" {
	[ -z "${WEIR_SOAK:-}" ] || skip "make soak runs the long version"
	harness --backfill -n 20000 -k 6 -s 31
	assert_line --regexp '^harness: [0-9]+ kills in [0-9]+ runs over [0-9]+ rounds; dumps of 20000 lines$'
}

@test "crash: a backfill from dumps, 200k events, 20 kills" {
	[ -n "${WEIR_CRASH_FULL:-}" ] || skip "WEIR_CRASH_FULL=1 runs it"
	harness --backfill -n 200000 -k 20
}

@test "soak: a backfill from dumps, 200k events, 100 kills" {
	[ -n "${WEIR_SOAK:-}" ] || skip "make soak runs it"
	harness --backfill -n 200000 -k 100
}

@test "crash: a table-to-table chain, 60k events, 20 kills" {
	[ -n "${WEIR_CRASH_FULL:-}" ] || skip "WEIR_CRASH_FULL=1 runs it"
	harness --lake -n 60000 -k 20
}

@test "crash: 200k events, 20 kills" {
	[ -n "${WEIR_CRASH_FULL:-}" ] || skip "WEIR_CRASH_FULL=1 runs it (about 2 minutes)"
	harness -n 200000 -k 20 --rtt 10
}

@test "soak: 200k events, 200 kills" {
	[ -n "${WEIR_SOAK:-}" ] || skip "make soak runs it"
	harness -n 200000 -k 200 --rtt 10
}

@test "soak: a table-to-table chain, 60k events, 100 kills" {
	[ -n "${WEIR_SOAK:-}" ] || skip "make soak runs it"
	harness --lake -n 60000 -k 100
}
