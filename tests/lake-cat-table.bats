#!/usr/bin/env bats
# weir-lake-cat on tables: time travel, schema evolution across versions,
# --follow while writers commit, --changes-since, framed round trips.

load helper

setup() {
	T=$BATS_TEST_TMPDIR/t
}

@test "time travel by version and by time; schema evolution is visible per version" {
	printf '{"a":1}\n' | weir-lake-write -s 'a BIGINT' "$T"
	sleep 0.05
	local t1
	t1=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
	sleep 0.05
	printf '{"a":2,"b":"x"}\n' | weir-lake-write --merge-schema "$T"
	run weir-lake-cat --at-version 0 "$T"
	assert_output '{"a":1}'
	run weir-lake-cat --as-of "$t1" "$T"
	assert_output '{"a":1}'
	run weir-lake-cat "$T"
	[ "$(sort <<<"$output" | paste -sd' ')" = '{"a":1,"b":null} {"a":2,"b":"x"}' ]
	run weir-lake-cat --as-of 2000-01-01T00:00:00Z "$T"
	assert_failure 1
	assert_output --partial "no version of '$T' committed at or before that time"
	run weir-lake-cat --at-version 7 "$T"
	assert_failure 2
	assert_output "weir-lake-cat: cannot read table '$T': no version 7 in '$T' (latest is 1)"
	run weir-lake-cat --describe "$T"
	assert_success
	[ "$(jq -c '[.version, .schema, .numFiles, .protocol]' <<<"$output")" = '[1,"a BIGINT, b STRING",2,{"minReaderVersion":1,"minWriterVersion":2}]' ]
	run weir-lake-cat --history "$T"
	[ "$(jq -c '[.version, .operation, .operationMetrics.numOutputRows]' <<<"$output" | paste -sd' ')" = '[1,"WRITE","1"] [0,"WRITE","1"]' ]
}

@test "a framed round trip keeps types and creates the copy from the stream's schema" {
	printf '%s\n' '{"id":1,"ts":"2024-01-02T03:04:05.123456Z","d":"2024-01-02","m":{"k":"v"},"l":[1,2],"x":1.25}' \
		'{"id":2,"ts":null,"d":null,"m":null,"l":[],"x":null}' |
		weir-lake-write -s 'id INT NOT NULL, ts TIMESTAMP, d DATE, m MAP<STRING,STRING>, l ARRAY<BIGINT>, x DECIMAL(5,2)' "$T"
	weir-lake-cat --framed "$T" | weir-lake-write "$BATS_TEST_TMPDIR/copy"
	weir-lake-cat "$T" >"$BATS_TEST_TMPDIR/a"
	weir-lake-cat "$BATS_TEST_TMPDIR/copy" >"$BATS_TEST_TMPDIR/b"
	same_rows "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	run jq -c . "$BATS_TEST_TMPDIR/b"
	assert_line '{"id":1,"ts":"2024-01-02T03:04:05.123456Z","d":"2024-01-02","m":{"k":"v"},"l":[1,2],"x":1.25}'
	[ "$(weir-lake-cat --describe "$BATS_TEST_TMPDIR/copy" | jq -r .schema)" = 'id INT NOT NULL, ts TIMESTAMP, d DATE, m MAP<STRING, STRING>, l ARRAY<BIGINT>, x DECIMAL(5,2)' ] ||
		[ "$(weir-lake-cat --describe "$BATS_TEST_TMPDIR/copy" | jq -r .schema)" = "$(weir-lake-cat --describe "$T" | jq -r .schema)" ]
}

@test "--changes-since streams the rows of later commits" {
	for i in 1 2 3; do printf '{"v":%d}\n' "$i" | weir-lake-write -s 'v INT' "$T"; done
	run weir-lake-cat --changes-since 0 "$T"
	assert_output $'{"v":2}\n{"v":3}'
	run weir-lake-cat --changes-since 2 "$T"
	assert_output ''
	printf '{"v":9}\n' | weir-lake-write -m overwrite "$T"
	run weir-lake-cat --changes-since 2 "$T"
	assert_output - <<-EOF
	weir-lake-cat: version 3 of '$T' removes data; only its added rows are streamed
	{"v":9}
	EOF
}

@test "--follow under four concurrent writers never sees a partial commit" {
	printf '' | weir-lake-write -s 'w INT, i INT' "$T"
	weir-lake-cat --follow --interval 10ms "$T" >"$BATS_TEST_TMPDIR/follow" &
	local reader=$!
	for w in 1 2 3 4; do
		(for i in $(seq 1 100); do echo "{\"w\":$w,\"i\":$i}"; done | weir-lake-write --max-rows 4 "$T") &
	done
	wait %2 %3 %4 %5
	for _ in $(seq 100); do
		[ "$(wc -l <"$BATS_TEST_TMPDIR/follow")" -ge 400 ] && break
		sleep 0.1
	done
	kill -TERM "$reader"
	wait "$reader"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/follow")" -eq 400 ]
	[ "$(jq -c '[.w, .i]' "$BATS_TEST_TMPDIR/follow" | sort -u | wc -l)" -eq 400 ]
	# a commit holds 4 rows of one writer: they arrive together, in order
	run bash -c "jq -c '[.w, ((.i - 1) / 4 | floor)]' '$BATS_TEST_TMPDIR/follow' | uniq -c | awk '\$1 != 4' | head -3"
	assert_output ''
}

@test "--follow waits for a table that does not exist yet" {
	weir-lake-cat --follow --interval 10ms "$T" >"$BATS_TEST_TMPDIR/follow" &
	local reader=$!
	sleep 0.2
	printf '{"v":1}\n' | weir-lake-write -s 'v INT' "$T"
	for _ in $(seq 50); do
		[ -s "$BATS_TEST_TMPDIR/follow" ] && break
		sleep 0.1
	done
	kill -TERM "$reader"
	wait "$reader"
	run cat "$BATS_TEST_TMPDIR/follow"
	assert_output '{"v":1}'
}
