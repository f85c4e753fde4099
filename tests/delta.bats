#!/usr/bin/env bats
# Delta log replay against tables other engines wrote (Spark, delta-rs):
# every readable fixture reads to exactly delta-expected/, the ones weir
# must not read are refused with the reason named.

load helper

setup() {
	need_fixtures
	D=$WEIR_FIXTURES/delta
	E=$WEIR_FIXTURES/delta-expected
}

# The fixture rows are DuckDB's; the one place its text differs from the
# canonical form is a binary inside a list (DuckDB writes "\x00\x00").
canon_expected() {
	jq -c 'if has("as_array_binary") then .as_array_binary |= map(if type == "string" and startswith("\\x")
		then (ltrimstr("\\x") | split("\\x") | map(explode | map(if . >= 97 then . - 87 elif . >= 65 then . - 55 else . - 48 end) | .[0] * 16 + .[1]) | implode | @base64)
		else . end) else . end' "$1"
}

@test "every readable fixture reads to its expected rows, latest and @V" {
	local n=0 f name v
	for f in "$E"/*.ndjson; do
		name=$(basename "$f" .ndjson)
		v=
		case $name in *@*) v=${name#*@}; name=${name%@*} ;; esac
		if [ -n "$v" ]; then
			weir-lake-cat --at-version "$v" "$D/$name" >"$BATS_TEST_TMPDIR/got" || fail "$name@$v: exit $?"
		else
			weir-lake-cat "$D/$name" >"$BATS_TEST_TMPDIR/got" || fail "$name: exit $?"
		fi
		canon_expected "$f" >"$BATS_TEST_TMPDIR/want"
		same_rows "$BATS_TEST_TMPDIR/got" "$BATS_TEST_TMPDIR/want" || fail "$(basename "$f") differs"
		n=$((n + 1))
	done
	[ "$n" -ge 25 ]
}

@test "tables weir cannot read are refused, naming the reason" {
	run weir-lake-cat "$D/versions-not-contiguous"
	assert_failure 2
	assert_output "weir-lake-cat: cannot read table '$D/versions-not-contiguous': versions not contiguous: commit 00000000000000000001.json is missing"
	run weir-lake-cat "$D/deltalog-invalid-protocol-version"
	assert_failure 2
	assert_output --partial "table requires reader version 99"
	run weir-lake-cat "$D/dv-partitioned-with-checkpoint"
	assert_failure 2
	assert_output --partial "reader feature 'deletionVectors'"
	run weir-lake-cat "$D/table-with-columnmapping-mode-name"
	assert_failure 2
	assert_output --partial "reader feature 'columnMapping' (delta.columnMapping.mode=name)"
	run weir-lake-cat "$D/checkpoint-v2-table"
	assert_failure 2
	assert_output --partial "reader feature 'v2Checkpoint'"
	# and at every version, not only the latest
	run weir-lake-cat --describe --at-version 0 "$D/dv-partitioned-with-checkpoint"
	assert_failure 2
	assert_output --partial "deletionVectors"
}

@test "log replay: live files, with and without _last_checkpoint" {
	describe() { weir-lake-cat --describe "$@" | jq -c '[.version, .numFiles, .lastCheckpoint]'; }
	[ "$(describe "$D/checkpoint")" = '[14,1,10]' ]
	[ "$(describe "$D/with_checkpoint_no_last_checkpoint")" = '[3,1,2]' ]
	[ "$(describe "$D/corrupted-last-checkpoint")" = '[10,11,10]' ]
	[ "$(describe "$D/log-replay-special-characters")" = '[1,0,null]' ]
	[ "$(describe --at-version 0 "$D/log-replay-special-characters")" = '[0,1,null]' ]
	[ "$(describe "$D/multi-part-checkpoint")" = '[1,10,1]' ]
	[ "$(describe "$D/basic-with-inserts-deletes-checkpoint")" = '[13,7,10]' ]
	# a copy without _last_checkpoint, or with a stale one, reads the same
	cp -r "$D/simple_table_with_checkpoint" "$BATS_TEST_TMPDIR/t"
	chmod -R u+w "$BATS_TEST_TMPDIR/t"
	weir-lake-cat "$BATS_TEST_TMPDIR/t" >"$BATS_TEST_TMPDIR/a"
	rm "$BATS_TEST_TMPDIR/t/_delta_log/_last_checkpoint"
	weir-lake-cat "$BATS_TEST_TMPDIR/t" >"$BATS_TEST_TMPDIR/b"
	echo '{"version":3,"size":1}' >"$BATS_TEST_TMPDIR/t/_delta_log/_last_checkpoint"
	weir-lake-cat "$BATS_TEST_TMPDIR/t" >"$BATS_TEST_TMPDIR/c"
	same_rows "$BATS_TEST_TMPDIR/a" "$E/simple_table_with_checkpoint.ndjson"
	same_rows "$BATS_TEST_TMPDIR/b" "$BATS_TEST_TMPDIR/a"
	same_rows "$BATS_TEST_TMPDIR/c" "$BATS_TEST_TMPDIR/a"
	# with the checkpoint unreadable, replay falls back to the JSON commits
	echo garbage >"$BATS_TEST_TMPDIR/t/_delta_log/00000000000000000010.checkpoint.parquet"
	weir-lake-cat "$BATS_TEST_TMPDIR/t" >"$BATS_TEST_TMPDIR/d"
	same_rows "$BATS_TEST_TMPDIR/d" "$BATS_TEST_TMPDIR/a"
}

@test "--history, --where with partition pruning and stats skipping, --columns" {
	run weir-lake-cat --history --limit 2 "$D/simple_table"
	assert_success
	[ "$(jq -c '[.version, .operation]' <<<"$output" | paste -sd' ')" = '[4,"DELETE"] [3,"DELETE"]' ] ||
		[ "$(jq -c '.version' <<<"$output" | paste -sd' ')" = '4 3' ]
	run weir-lake-cat -v --where 'as_int = 1' --columns value,as_int "$D/data-reader-partition-values"
	assert_success
	assert_output - <<-'EOF'
	{"value":"1","as_int":1}
	weir-lake-cat: 2 files skipped by partition pruning and statistics
	EOF
	run weir-lake-cat --where 'as_int IS NULL' --columns value "$D/data-reader-partition-values"
	assert_output '{"value":"2"}'
	run weir-lake-cat --where "as_timestamp = '2021-09-08T11:11:11Z'" --columns value "$D/data-reader-partition-values"
	[ "$(sort <<<"$output" | paste -sd' ')" = '{"value":"0"} {"value":"1"}' ]
	run weir-lake-cat --where "as_date > '2021-01-01' AND NOT as_boolean" --columns value "$D/data-reader-partition-values"
	assert_output '{"value":"1"}'
	run weir-lake-cat --where 'nope = 1' "$D/simple_table"
	assert_failure 2
	assert_output "weir-lake-cat: bad --where: no column 'nope' in the table"
}
