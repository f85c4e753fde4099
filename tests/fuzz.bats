#!/usr/bin/env bats
# Inputs the fuzzers (scripts/fuzz.sh, make fuzz) once found, replayed
# through the tools: each must end in a dead letter, a clear error or
# success, never a crash or a sanitizer report.  tests/fuzz/regress/NAME-WHY
# belongs to the target tests/fuzz/NAME_fuzz.c.

load helper

# status 0..2 and no sanitizer report: anything else is a crash
survives() {
	run "$@"
	[ "$status" -le 2 ] || fail "exit status $status from: $*"$'\n'"$output"
	[[ $output != *Sanitizer* && $output != *"runtime error"* ]] || fail "$output"
}

@test "fuzz: regression inputs replay cleanly through the tools" {
	local f n=0 schema_all='b BOOLEAN, i8 TINYINT, i32 INT, i64 BIGINT, f FLOAT, d DOUBLE, dec DECIMAL(20,4), s STRING, bin BINARY, dt DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, arr ARRAY<INT>, m MAP<STRING,DOUBLE>, mi MAP<INT,STRING>, st STRUCT<a STRING NOT NULL, b ARRAY<STRUCT<c DECIMAL(5,2)>>>, v VOID'
	for f in "$TOP"/tests/fuzz/regress/*; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		case $(basename "$f") in
		json-*)
			survives weir-parse -q -e drop "$f"
			survives weir-parse -q -e drop -s "$schema_all" "$f"
			;;
		schema-*)
			# the first byte chose DDL or Delta JSON; the rest is the schema
			tail -c +2 "$f" >"$BATS_TEST_TMPDIR/schema"
			survives weir-parse -q -s "@$BATS_TEST_TMPDIR/schema" </dev/null
			;;
		expr-*)
			survives weir-parse -q -w "$(tr -d '\000' <"$f")" </dev/null
			;;
		frame-*)
			survives weir-parse -q -e drop "$f"
			survives weir-parse --infer "$f"
			;;
		lines-*)
			survives weir-ingest -B "$f"
			;;
		*)
			fail "$(basename "$f"): no target of that name"
			;;
		esac
	done
	[ "$n" -gt 0 ]
}

@test "fuzz: the found inputs are rejected with their reasons" {
	run weir-parse -q -w "$(cat "$TOP/tests/fuzz/regress/expr-empty-backquoted-name")" </dev/null
	assert_failure 2
	assert_output --partial "expression is not valid UTF-8 at offset 0"
	run weir-parse -q -w '`` = 1' </dev/null
	assert_failure 2
	assert_output "weir-parse: bad --where expression: empty \`name\` at offset 0: '\`\` = 1'"
	tail -c +2 "$TOP/tests/fuzz/regress/schema-ddl-name-not-utf8" >"$BATS_TEST_TMPDIR/schema"
	run weir-parse -q -s "@$BATS_TEST_TMPDIR/schema" </dev/null
	assert_failure 2
	assert_output --partial "column name is not UTF-8"
	# Delta schema JSON with two columns of one name, which DDL refused
	# already and Delta forbids
	tail -c +2 "$TOP/tests/fuzz/regress/schema-json-duplicate-names" >"$BATS_TEST_TMPDIR/schema"
	run weir-parse -q -s "@$BATS_TEST_TMPDIR/schema" </dev/null
	assert_failure 2
	assert_output "weir-parse: bad schema '$BATS_TEST_TMPDIR/schema': duplicate column name: 'm'"
	# a cpio header whose name size is far past the file's end; libarchive
	# gives no reason of its own
	run weir-ingest -B "$TOP/tests/fuzz/regress/lines-cpio-name-size-past-the-end"
	assert_failure 1
	assert_output "weir-ingest: cannot read '$TOP/tests/fuzz/regress/lines-cpio-name-size-past-the-end': damaged or truncated archive"
}
