#!/usr/bin/env bats
# weir-lake-cat on tables: time travel, schema evolution across versions,
# --follow while writers commit, --changes-since, framed round trips.

load helper
bats_require_minimum_version 1.5.0

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

# ---- barriers and resuming: a table as an exactly-once source ----

# t: version 0 {"v":1}, 1 {2,3}, 2 {4}, 3 {5,6,7}, 4 {8}; named "t" as the
# barriers name it
five_commits() {
	cd "$BATS_TEST_TMPDIR"
	printf '{"v":1}\n' | weir-lake-write -s 'v INT' t
	printf '{"v":2}\n{"v":3}\n' | weir-lake-write t
	printf '{"v":4}\n' | weir-lake-write t
	printf '{"v":5}\n{"v":6}\n{"v":7}\n' | weir-lake-write t
	printf '{"v":8}\n' | weir-lake-write t
}

# wait until FILE has N lines (5 s at most)
wait_lines() {
	local i
	for i in $(seq 100); do
		[ "$(wc -l <"$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	fail "$1 has $(wc -l <"$1") lines, not $2: $(cat "$1")"
}

@test "--checkpoint-interval N: barriers between whole commits, the next version as the source, a last one at the end" {
	five_commits
	run weir-lake-cat --changes-since 0 --checkpoint-interval 2 t
	assert_success
	# version 3's three rows stay together although the interval is 2
	assert_output '{"v":2}
{"v":3}
{"@weir":"barrier","id":1,"sources":{"t":{"0":2}}}
{"v":4}
{"v":5}
{"v":6}
{"v":7}
{"@weir":"barrier","id":2,"sources":{"t":{"0":4}}}
{"v":8}
{"@weir":"barrier","id":3,"sources":{"t":{"0":5}}}'
	# the catch-up ends with one barrier, the last here
	run weir-lake-cat --changes-since 1 --checkpoint-interval 100 t
	assert_output '{"v":4}
{"v":5}
{"v":6}
{"v":7}
{"v":8}
{"@weir":"barrier","id":1,"sources":{"t":{"0":5}}}'
	# no rows, no barrier: nothing new, or commits whose rows --where drops
	run weir-lake-cat --changes-since 4 --checkpoint-interval 1 t
	assert_success
	assert_output ''
	run weir-lake-cat --changes-since 0 --checkpoint-interval 1 --where 'v > 5' t
	assert_output '{"v":6}
{"v":7}
{"@weir":"barrier","id":1,"sources":{"t":{"0":4}}}
{"v":8}
{"@weir":"barrier","id":2,"sources":{"t":{"0":5}}}'
}

@test "--follow --checkpoint-interval: a barrier after the snapshot, after the commit that fills the interval, and at SIGTERM" {
	five_commits
	weir-lake-cat --follow --interval 10ms --checkpoint-interval 3 t >out 2>err &
	local pid=$!
	wait_lines out 9
	printf '{"v":9}\n{"v":10}\n' | weir-lake-write t
	printf '{"v":11}\n' | weir-lake-write t
	printf '{"v":12}\n' | weir-lake-write t
	wait_lines out 14
	kill -TERM "$pid"
	wait "$pid"
	[ ! -s err ] || fail "$(cat err)"
	# the snapshot's rows come in file order
	run bash -c "head -n 8 out | jq .v | sort -n | paste -sd ' '"
	assert_output "1 2 3 4 5 6 7 8"
	run tail -n +9 out
	assert_output '{"@weir":"barrier","id":1,"sources":{"t":{"0":5}}}
{"v":9}
{"v":10}
{"v":11}
{"@weir":"barrier","id":2,"sources":{"t":{"0":7}}}
{"v":12}
{"@weir":"barrier","id":3,"sources":{"t":{"0":8}}}'
}

@test "--checkpoint-interval DURATION: the barrier comes at a poll once the time is up; an idle table writes none" {
	cd "$BATS_TEST_TMPDIR"
	printf '' | weir-lake-write -s 'v INT' t
	weir-lake-cat --follow --interval 10ms --checkpoint-interval 300ms t >out 2>err &
	local pid=$!
	sleep 0.3
	printf '{"v":1}\n' | weir-lake-write t
	wait_lines out 2
	# idle since: no barrier without rows, at the polls or at the end
	sleep 0.7
	kill -TERM "$pid"
	wait "$pid"
	run cat out err
	assert_output '{"v":1}
{"@weir":"barrier","id":1,"sources":{"t":{"0":2}}}'
}

@test "--end-of-stream: a watermark at infinity before the last barrier, which comes even without rows" {
	five_commits
	# (jq would round the watermark: compared as text)
	run weir-lake-cat --changes-since 2 --checkpoint-interval 10 --end-of-stream t
	assert_success
	assert_output '{"v":5}
{"v":6}
{"v":7}
{"v":8}
{"@weir":"watermark","t":9223372036854775807}
{"@weir":"barrier","id":1,"sources":{"t":{"0":5}}}'
	run weir-lake-cat --changes-since 4 --checkpoint-interval 10 --end-of-stream t
	assert_output '{"@weir":"watermark","t":9223372036854775807}
{"@weir":"barrier","id":1,"sources":{"t":{"0":5}}}'
}

@test "--resume-from: restore N, the version its commit recorded, barriers from N+1; restore 0 and a fresh start without one" {
	five_commits
	resumed() { weir-lake-cat --checkpoint-interval 2 --resume-from s --app-id A "$@" t; }
	# no sink yet: restore 0, then what a run without --resume-from writes
	run resumed --changes-since 0
	assert_success
	assert_output "{\"@weir\":\"restore\",\"id\":0}
$(weir-lake-cat --changes-since 0 --checkpoint-interval 2 t)"
	[ ! -e s ]
	# a run cut after barrier 1, which the sink commits
	resumed --changes-since 0 | head -n 4 | weir-lake-write -s 'v INT' s --app-id A >/dev/null
	# another app id's later commit does not count
	printf '{"v":0}\n{"@weir":"barrier","id":9,"sources":{"t":{"0":5}}}\n' | weir-lake-write s --app-id B >/dev/null
	local want='{"@weir":"restore","id":1}
{"v":4}
{"v":5}
{"v":6}
{"v":7}
{"@weir":"barrier","id":2,"sources":{"t":{"0":4}},"committed":1}
{"v":8}
{"@weir":"barrier","id":3,"sources":{"t":{"0":5}},"committed":1}'
	run resumed --changes-since 0
	assert_output "$want"
	# the recorded version overrides --changes-since
	run resumed --changes-since 3
	assert_output "$want"
	# --follow goes on from it too, without a snapshot
	weir-lake-cat --follow --interval 10ms --checkpoint-interval 2 --resume-from s --app-id A t >out &
	local pid=$!
	wait_lines out 8
	kill -TERM "$pid"
	wait "$pid"
	run cat out
	assert_output "$want"
	# an app id the sink has no commit of: restore 0, and --follow's snapshot
	weir-lake-cat --follow --interval 10ms --checkpoint-interval 2 --resume-from s --app-id C t >out &
	pid=$!
	wait_lines out 10
	kill -TERM "$pid"
	wait "$pid"
	run bash -c "sed -n '2,9p' out | jq .v | sort -n | paste -sd ' '"
	assert_output "1 2 3 4 5 6 7 8"
	assert_equal "$(sed -n '1p;10p' out)" '{"@weir":"restore","id":0}
{"@weir":"barrier","id":1,"sources":{"t":{"0":5}}}'
}

@test "--checkpoint-interval on a read of the latest version: the snapshot, a barrier, and resumed the commits since" {
	five_commits
	# a cron job copying t, run after each batch of commits: the first run
	# is the snapshot (version 0 included), the next ones only what came since
	run weir-lake-cat --checkpoint-interval 100 --resume-from s --app-id A t
	assert_success
	assert_equal "$(sed -n '1p;10p' <<<"$output")" '{"@weir":"restore","id":0}
{"@weir":"barrier","id":1,"sources":{"t":{"0":5}}}'
	assert_equal "$(sed -n '2,9p' <<<"$output" | jq .v | sort -n | paste -sd ' ')" "1 2 3 4 5 6 7 8"
	weir-lake-write -s 'v INT' s --app-id A <<<"$output" >/dev/null
	printf '{"v":9}\n{"v":10}\n' | weir-lake-write t
	run weir-lake-cat --checkpoint-interval 100 --resume-from s --app-id A t
	assert_output '{"@weir":"restore","id":1}
{"v":9}
{"v":10}
{"@weir":"barrier","id":2,"sources":{"t":{"0":6}},"committed":1}'
	weir-lake-write s --app-id A <<<"$output" >/dev/null
	# nothing new: no barrier, unless the end is the end of the stream
	run weir-lake-cat --checkpoint-interval 100 --resume-from s --app-id A t
	assert_output '{"@weir":"restore","id":2}'
	run weir-lake-cat --checkpoint-interval 100 --resume-from s --app-id A --end-of-stream t
	assert_output '{"@weir":"restore","id":2}
{"@weir":"watermark","t":9223372036854775807}
{"@weir":"barrier","id":3,"sources":{"t":{"0":6}},"committed":2}'
	run bash -c "weir-lake-cat s | jq .v | sort -n | paste -sd ' '"
	assert_output "1 2 3 4 5 6 7 8 9 10"
}

@test "--resume-from: a barrier that does not name the table, a bad or lost version, a lost commit and kafka: are errors" {
	five_commits
	# a sink whose last commit for app id A is the barrier $2
	sink() { printf '{"v":0}\n%s\n' "$2" | weir-lake-write -s 'v INT' "$1" --app-id A >/dev/null; }
	resume() { run --separate-stderr weir-lake-cat --changes-since 0 --checkpoint-interval 2 --resume-from "$@"; }
	sink s1 '{"@weir":"barrier","id":3,"sources":{"./t":{"0":2},"clicks":{"0":7}}}'
	resume s1 --app-id A t
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" "weir-lake-cat: cannot resume from 's1': barrier 3 has no version of table 't' (its sources: './t', 'clicks')"
	sink s2 '{"@weir":"barrier","id":3,"sources":{"t":{"0":"2"}}}'
	resume s2 --app-id A t
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" "weir-lake-cat: cannot resume from 's2': barrier 3 has a bad version for table 't'"
	sink s3 '{"@weir":"barrier","id":3,"sources":{"t":{"0":9}}}'
	resume s3 --app-id A t
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" "weir-lake-cat: cannot resume from 's3': barrier 3 read 't' up to version 8, past its latest version 4"
	sink s4 '{"@weir":"barrier","id":3,"sources":{"nosuch":{"0":2}}}'
	run --separate-stderr weir-lake-cat --follow --checkpoint-interval 2 --resume-from s4 --app-id A nosuch
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" "weir-lake-cat: cannot resume from 's4': barrier 3 read 'nosuch' up to version 1, but 'nosuch' is not a Delta table"
	# log cleanup behind the checkpoint of version 10: versions 0 to 9 are
	# gone, 10 on can be read
	for i in $(seq 5 11); do printf '{"v":%d}\n' $((i + 4)) | weir-lake-write t; done
	rm t/_delta_log/0000000000000000000[0-9].json
	sink s5 '{"@weir":"barrier","id":3,"sources":{"t":{"0":7}}}'
	resume s5 --app-id A t
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" "weir-lake-cat: cannot resume from 's5': barrier 3 goes on at version 7 of 't', which is no longer in its log"
	sink s6 '{"@weir":"barrier","id":3,"sources":{"t":{"0":11}}}'
	resume s6 --app-id A t
	assert_success
	assert_output '{"@weir":"restore","id":3}
{"v":15}
{"@weir":"barrier","id":4,"sources":{"t":{"0":12}},"committed":3}'
	# the sink's commit of the barrier is gone (a checkpoint holds the txn only)
	for i in $(seq 1 10); do printf '{"v":0}\n' | weir-lake-write s6 >/dev/null; done
	rm s6/_delta_log/00000000000000000000.json
	resume s6 --app-id A t
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" "weir-lake-cat: cannot resume from 's6': the commit of barrier 3 for app id 'A' is no longer in its log"
	# a txn without weir's sources: not a barrier commit of weir-lake-write
	mkdir -p s7/_delta_log
	jq -c 'if .commitInfo then .commitInfo |= del(.weir) else . end' s1/_delta_log/00000000000000000000.json \
		>s7/_delta_log/00000000000000000000.json
	resume s7 --app-id A t
	assert_failure 2
	assert_equal "$stderr" "weir-lake-cat: cannot resume from 's7': version 0 commits barrier 3 for app id 'A' but records no sources (not written by weir-lake-write from a barrier)"
	resume kafka:ck --app-id A t
	assert_failure 2
	assert_output ''
	assert_equal "$stderr" "weir-lake-cat: cannot resume from 'kafka:ck': a checkpoint topic holds the barriers of weir-ingest -P; weir-lake-cat resumes from the Delta table its barriers are committed to"
}

@test "--checkpoint-interval, --resume-from, --app-id, --end-of-stream: usage errors" {
	run weir-lake-cat --checkpoint-interval 10 --at-version 1 t
	assert_failure 2
	assert_line --index 0 "weir-lake-cat: --checkpoint-interval reads the latest version, --changes-since or --follow"
	run weir-lake-cat --changes-since 0 --checkpoint-interval 0 t
	assert_failure 2
	assert_line --index 0 "weir-lake-cat: checkpoint interval out of range: '0' (1 to 9223372036854775807)"
	run weir-lake-cat --changes-since 0 --checkpoint-interval 1x t
	assert_line --index 0 "weir-lake-cat: invalid checkpoint interval: '1x' (want e.g. 500ms, 10s, 5m, 2h, 7d)"
	run weir-lake-cat --follow --checkpoint-interval 1 --resume-from s t
	assert_failure 2
	assert_line --index 0 "weir-lake-cat: --resume-from and --app-id go together"
	run weir-lake-cat --follow --checkpoint-interval 1 --app-id A t
	assert_line --index 0 "weir-lake-cat: --resume-from and --app-id go together"
	run weir-lake-cat --follow --checkpoint-interval 1 --resume-from s --app-id '' t
	assert_line --index 0 "weir-lake-cat: --app-id must not be empty"
	run weir-lake-cat --follow --resume-from s --app-id A t
	assert_failure 2
	assert_line --index 0 "weir-lake-cat: --resume-from needs --checkpoint-interval: only barriers are committed"
	run weir-lake-cat --changes-since 0 --end-of-stream t
	assert_line --index 0 "weir-lake-cat: --end-of-stream goes with --checkpoint-interval"
	run weir-lake-cat --follow --checkpoint-interval 1 --end-of-stream t
	assert_failure 2
	assert_line --index 0 "weir-lake-cat: --end-of-stream needs an end: not with --follow"
	run weir-lake-cat --parquet x.parquet --checkpoint-interval 1
	assert_failure 2
	assert_line --index 0 "weir-lake-cat: table options need a TABLE"
}

# bronze -> silver through a window, as weir(7)'s pipeline with the table
# as its source; `head` cuts the stream after some records, as a crash of
# weir-lake-cat does
. "$BATS_TEST_DIRNAME/crash/gold.sh"

silver_after() {
	weir-lake-cat --changes-since 0 --checkpoint-interval 300 --end-of-stream --resume-from silver --app-id s bronze |
		head -n "$1" |
		weir-window --tumble 10s --time ts --delay 20s --by device --agg "$AGG" --state st --framed |
		weir-lake-write --schema "$GOLD" silver --app-id s >/dev/null
}

@test "a table-to-table chain cut short again and again ends with the rows of one that never was" {
	cd "$BATS_TEST_TMPDIR"
	weir-lake-write -s "$EVENT" bronze </dev/null
	"$TOP/scripts/gen-events" -n 3000 --rate 20 --users 300 --dup 0.05 --late 0.03 --lateness 60 |
		weir-parse -q --schema "$EVENT" --dlq /dev/null --framed | weir-lake-write --max-rows 40 bronze >/dev/null
	# the batch run: every row once, no barriers, the windows flushed at the end
	weir-lake-cat --changes-since 0 bronze |
		weir-window --tumble 10s --time ts --delay 20s --by device --agg "$AGG" |
		weir-lake-write --schema "$GOLD" ref >/dev/null 2>&1
	local n
	for n in 250 700 701 1500 2400 2950; do
		silver_after "$n" 2>/dev/null
	done
	silver_after 1000000 2>/dev/null
	[ "$(weir-lake-cat ref | wc -l)" -gt 20 ]
	run diff <(weir-lake-cat ref | sort) <(weir-lake-cat silver | sort)
	assert_success
	# every cut made progress: commits came from more than one run
	[ "$(weir-lake-cat --history silver | jq -r .weir.barrier | sort -un | wc -l)" -ge 8 ]
}

@test "the man page examples run as printed" {
	cd "$BATS_TEST_TMPDIR"
	check_man_examples "$TOP/man/weir-lake-cat.1"
	[ "$MAN_EXAMPLES" -eq 6 ]
}
