#!/usr/bin/env bats
# weir-dedup: Spark's deduplication conformance cases, late records, state
# bounds, barriers and restore.

load helper
bats_require_minimum_version 1.5.0

setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/dedup.XXXXXX")
}

teardown() {
	rm -rf "$T"
}

# batches "10 11" "25" ...: one micro-batch per argument, each value a record
# {"value":N} (Spark's MemoryStream[Int]), a barrier after each batch.
batches() {
	local id=0 b v
	for b in "$@"; do
		for v in $b; do
			printf '{"value":%s}\n' "$v"
		done
		id=$((id + 1))
		printf '{"@weir":"barrier","id":%d}\n' "$id"
	done
}

# pairs "a:17" "b:22 c:21" ...: the same for (key, seconds) tuples.
pairs() {
	local id=0 b p
	for b in "$@"; do
		for p in $b; do
			printf '{"k":"%s","t":%s}\n' "${p%%:*}" "${p#*:}"
		done
		id=$((id + 1))
		printf '{"@weir":"barrier","id":%d}\n' "$id"
	done
}

# state_after N ARGS...: state_keys reported by --stats after the first N
# batches of $T/in.
state_after() {
	local n=$1
	shift
	awk -v n="$n" '{print} /"@weir":"barrier"/ && ++b == n {exit}' "$T/in" >"$T/prefix"
	weir-dedup "$@" --stats <"$T/prefix" 2>&1 >/dev/null | sed -n 's/.*state_keys=\([0-9]*\).*/\1/p'
}

@test "synopsis matches the man page, which lints clean" {
	check_synopsis weir-dedup
	run mandoc -T lint -W warning "$TOP/man/weir-dedup.1"
	assert_success
	assert_output ""
}

@test "Spark StreamingDeduplicationSuite: deduplicate with watermark (micro-batches)" {
	# dropDuplicates() on (value, eventTime), withWatermark 10 s: the key
	# includes the event time, which is --within 0.
	batches "$(for i in 1 2 3 4 5; do echo 10 11 12 13 14 15; done)" 25 10 45 >"$T/in"
	args=(--key value --time value --time-unit s --within 0 --delay 10s --advance barrier)
	run weir-dedup "${args[@]}" <"$T/in"
	assert_success
	assert_output "$(batches "10 11 12 13 14 15" 25 "" 45)"
	# state rows after each batch (and its no-data batch): 6, 1, 1, 1
	[ "$(state_after 1 "${args[@]}")" = 6 ]
	[ "$(state_after 2 "${args[@]}")" = 1 ]
	[ "$(state_after 3 "${args[@]}")" = 1 ]
	[ "$(state_after 4 "${args[@]}")" = 1 ]
}

@test "the same case with the watermark moving per record gives the same answer" {
	batches "$(for i in 1 2 3 4 5; do echo 10 11 12 13 14 15; done)" 25 10 45 >"$T/in"
	run --separate-stderr weir-dedup --key value --time value --time-unit s --within 0 --delay 10s --stats <"$T/in"
	assert_success
	assert_output "$(batches "10 11 12 13 14 15" 25 "" 45)"
	[[ $stderr == *"records=33 passed=8 duplicates=24 late=1 bad=0 state_keys=1 "* ]]
}

@test "Spark dropDuplicatesWithinWatermark: all columns with event time" {
	batches "$(for i in 1 2 3 4 5; do echo 10 11 12 13 14 15; done)" "13 14 15 16 17" 5 35 55 >"$T/in"
	args=(--time value --time-unit s --within 10s --advance barrier)
	run weir-dedup "${args[@]}" --late "$T/late" <"$T/in"
	assert_success
	assert_output "$(batches "10 11 12 13 14 15" "16 17" "" 35 55)"
	assert_equal "$(cat "$T/late")" '{"value":5}'
	local n want=(6 8 8 3 1)
	for n in 1 2 3 4 5; do
		assert_equal "$(state_after $n "${args[@]}")" "${want[n - 1]}"
	done
}

@test "Spark dropDuplicatesWithinWatermark: key columns without the event time" {
	pairs a:17 a:16 a:13 "b:22 c:21" a:21 d:25 >"$T/in"
	args=(--key k --time t --time-unit s --within 2s --advance barrier)
	run --separate-stderr weir-dedup "${args[@]}" --stats <"$T/in"
	assert_success
	assert_output "$(pairs a:17 "" "" "b:22 c:21" a:21 d:25)"
	[[ $stderr == *"duplicates=1 late=1 "* ]]
	local n want=(1 1 1 2 3 2)
	for n in 1 2 3 4 5 6; do
		assert_equal "$(state_after $n "${args[@]}")" "${want[n - 1]}"
	done
	# per record the watermark moves inside batch 4 too: same answer
	run weir-dedup --key k --time t --time-unit s --within 2s <"$T/in"
	assert_output "$(pairs a:17 "" "" "b:22 c:21" a:21 d:25)"
}

@test "SPARK-39650: a key is dropped whatever else changed in the record" {
	printf '%s\n' '{"k":"a","t":1}' '{"k":"a","t":2,"x":"new"}' '{"k":"b","t":3}' >"$T/in"
	run weir-dedup --key k --time t --time-unit s --within 10s <"$T/in"
	assert_success
	assert_output "$(printf '%s\n' '{"k":"a","t":1}' '{"k":"b","t":3}')"
}

@test "a key expires exactly when the watermark reaches first time + D" {
	# within 5 s, delay 0: key a at 10 expires at 15.  At wm 14 a repeat is
	# dropped, at wm 15 the key is gone and a@16 is new; a@15 would be late.
	printf '%s\n' '{"k":"a","t":10}' '{"k":"z","t":14}' '{"k":"a","t":14.5}' \
		'{"k":"z","t":15}' '{"k":"a","t":15}' '{"k":"a","t":16}' >"$T/in"
	run --separate-stderr weir-dedup --key k --time t --time-unit s --within 5s --delay 0 --stats <"$T/in"
	assert_success
	assert_output "$(printf '%s\n' '{"k":"a","t":10}' '{"k":"z","t":14}' '{"k":"a","t":16}')"
	[[ $stderr == *"records=6 passed=3 duplicates=2 late=1 "* ]]
}

@test "numbers equal in value are one key; the whole record is the default key" {
	printf '%s\n' '{"id":1}' '{"id":1.0}' '{"id":1e0}' '{"id":"1"}' '{"id":1.5}' '{"id":1.50}' '{"id":1, "x":null}' \
		'{ "id" : 1 }' >"$T/in"
	run weir-dedup --key id <"$T/in"
	assert_success
	assert_output "$(printf '%s\n' '{"id":1}' '{"id":"1"}' '{"id":1.5}')"
	run weir-dedup <"$T/in"
	assert_output "$(printf '%s\n' '{"id":1}' '{"id":"1"}' '{"id":1.5}' '{"id":1, "x":null}')"
}

@test "nested key paths, and a missing column equals null" {
	printf '%s\n' '{"u":{"id":1},"n":1}' '{"u":{"id":1},"n":2}' '{"u":{},"n":3}' '{"n":4}' '{"u":{"id":null},"n":5}' >"$T/in"
	run weir-dedup --key u.id <"$T/in"
	assert_success
	assert_output "$(printf '%s\n' '{"u":{"id":1},"n":1}' '{"u":{},"n":3}')"
}

@test "--keep last writes each key's last record in first-seen order at the end" {
	printf '%s\n' '{"id":2,"v":"a"}' '{"id":1,"v":"b"}' '{"@weir":"watermark","t":5}' '{"id":2,"v":"c"}' '{"id":3,"v":"d"}' '{"id":1,"v":"e"}' >"$T/in"
	run weir-dedup --key id --keep last <"$T/in"
	assert_success
	assert_output "$(printf '%s\n' '{"@weir":"watermark","t":5}' '{"id":2,"v":"c"}' '{"id":1,"v":"e"}' '{"id":3,"v":"d"}')"
}

@test "man page example runs as documented" {
	run bash -c "printf '%s\n' '{\"id\":1,\"v\":\"a\"}' '{\"id\":2,\"v\":\"b\"}' '{\"id\":1,\"v\":\"c\"}' | weir-dedup --key id --keep last"
	assert_success
	want=$(sed -n '/^printf/,/^\.fi/p' "$TOP/man/weir-dedup.1" | sed '1,2d;$d')
	assert_output "$want"
}

@test "--ttl forgets a key after the given processing time" {
	{
		echo '{"k":"a","n":1}'
		echo '{"k":"a","n":2}'
		sleep 1.3
		echo '{"k":"a","n":3}'
		echo '{"k":"a","n":4}'
	} | weir-dedup --key k --ttl 1s >"$T/out"
	assert_equal "$(cat "$T/out")" "$(printf '%s\n' '{"k":"a","n":1}' '{"k":"a","n":3}')"
}

@test "late records are counted and appended to --late" {
	echo '{"old":1}' >"$T/late"
	# watermark 90 after the first record: 90 is late, 91 is not
	printf '%s\n' '{"k":1,"t":100}' '{"k":2,"t":50}' '{"k":3,"t":91}' '{"k":4,"t":90}' >"$T/in"
	run --separate-stderr weir-dedup --key k --time t --time-unit s --within 1m --delay 10s --late "$T/late" --stats <"$T/in"
	assert_success
	assert_output "$(printf '%s\n' '{"k":1,"t":100}' '{"k":3,"t":91}')"
	assert_equal "$(cat "$T/late")" "$(printf '%s\n' '{"old":1}' '{"k":2,"t":50}' '{"k":4,"t":90}')"
	[[ $stderr == *"late=2 "* ]]
}

@test "timestamps and ISO text are event times too" {
	# k 1 expires at 00:15; k 2 at 00:20 moves the watermark there
	printf '%s\n' '{"k":1,"ts":"2024-01-01T00:10:00Z"}' '{"k":1,"ts":"2024-01-01T00:14:59.999999Z"}' \
		'{"k":2,"ts":"2024-01-01T00:20:00Z"}' '{"k":3,"ts":"2024-01-01 00:15:00"}' '{"k":1,"ts":"2024-01-01T00:15:00.000001Z"}' >"$T/in"
	run --separate-stderr weir-dedup --key k --time ts --within 5m --stats <"$T/in"
	assert_success
	assert_output "$(printf '%s\n' '{"k":1,"ts":"2024-01-01T00:10:00Z"}' '{"k":2,"ts":"2024-01-01T00:20:00Z"}' '{"k":1,"ts":"2024-01-01T00:15:00.000001Z"}')"
	[[ $stderr == *"duplicates=1 late=1 "* ]]
}

@test "state stays bounded by the watermark over many keys" {
	# 200000 distinct keys, one per millisecond: with --within 1s and a
	# 1 s delay a key lives about 2 s of event time, so about 2000 keys.
	awk 'BEGIN { for (i = 0; i < 200000; i++) printf "{\"id\":%d,\"t\":%d}\n", i, i }' >"$T/in"
	run --separate-stderr weir-dedup --key id --time t --within 1s --stats <"$T/in"
	assert_success
	[ "${#lines[@]}" -eq 200000 ]
	peak=$(sed -n 's/.*peak_keys=\([0-9]*\).*/\1/p' <<<"$stderr")
	keys=$(sed -n 's/.*state_keys=\([0-9]*\).*/\1/p' <<<"$stderr")
	[ "$peak" -le 2001 ] && [ "$peak" -ge 2000 ]
	[ "$keys" -le 2001 ]
	# without a bound every key stays
	run --separate-stderr weir-dedup --key id --stats <"$T/in"
	[[ $stderr == *"state_keys=200000 "* ]]
}

@test "--max-state fails clearly instead of growing" {
	awk 'BEGIN { for (i = 0; i < 50000; i++) printf "{\"id\":%d}\n", i }' >"$T/in"
	run --separate-stderr weir-dedup --key id --max-state 1M <"$T/in"
	assert_failure 2
	[[ $stderr == "weir-dedup: state exceeds --max-state: "* ]]
}

@test "a restore cuts the late-record file back to its barrier: each late record once" {
	awk 'BEGIN { srand(3); for (i = 0; i < 80; i++) {
		if (i && i % 10 == 0) printf "{\"@weir\":\"barrier\",\"id\":%d}\n", i / 10
		printf "{\"t\":%d,\"k\":\"k%d\"}\n", i * 700 + int(rand() * 4000), int(rand() * 4) } }' >"$T/in"
	args=(-k k -w 2s -t t -d 0s)
	weir-dedup "${args[@]}" -l "$T/full-late" <"$T/in" >/dev/null 2>&1
	[ "$(wc -l <"$T/full-late")" -gt 20 ]
	# snapshots to barrier 7, then a restart from 3, the sink's last commit
	weir-dedup "${args[@]}" -s "$T/s" -l "$T/late" <"$T/in" >/dev/null 2>&1
	{ echo '{"@weir":"restore","id":3}'; awk 'p; /"barrier","id":3}/ { p = 1 }' "$T/in"; } >"$T/replay"
	run weir-dedup "${args[@]}" -s "$T/s" -l "$T/late" <"$T/replay"
	assert_success
	run diff "$T/full-late" "$T/late"
	assert_success
}

@test "barriers snapshot state (the --state directory and its parents are made); restore loads it and prunes the others" {
	printf '%s\n' '{"k":1}' '{"@weir":"barrier","id":1,"sources":{"t":{"0":1}}}' '{"k":2}' '{"k":1}' \
		'{"@weir":"barrier","id":2,"sources":{"t":{"0":3}}}' '{"k":3}' '{"@weir":"barrier","id":3}' '{"k":4}' >"$T/in"
	run weir-dedup --key k --state "$T/state/dedup" <"$T/in"
	assert_success
	assert_output "$(printf '%s\n' '{"k":1}' '{"@weir":"barrier","id":1,"sources":{"t":{"0":1}}}' '{"k":2}' \
		'{"@weir":"barrier","id":2,"sources":{"t":{"0":3}}}' '{"k":3}' '{"@weir":"barrier","id":3}' '{"k":4}')"
	[ "$(ls "$T/state/dedup" | wc -l)" -eq 3 ]
	# the sink committed barrier 2: replay from there after a crash
	printf '%s\n' '{"@weir":"restore","id":2}' '{"k":3}' '{"k":2}' '{"k":4}' '{"k":5}' '{"k":4}' >"$T/in2"
	run weir-dedup --key k --state "$T/state/dedup" <"$T/in2"
	assert_success
	assert_output "$(printf '%s\n' '{"@weir":"restore","id":2}' '{"k":3}' '{"k":4}' '{"k":5}')"
	run ls "$T/state/dedup"
	assert_output "snapshot-00000000000000000002.bin"
}

@test "restore brings back the watermark and the expiry of keys" {
	pairs "a:17 b:16" >"$T/in"
	weir-dedup --key k --time t --time-unit s --within 2s --state "$T/st" <"$T/in" >/dev/null
	# wm 15 in the snapshot: b:15 is late, a:18 a duplicate; c:21 moves the
	# watermark to 19, which expires a (17 + 2), so a:20 is new
	printf '%s\n' '{"@weir":"restore","id":1}' '{"k":"b","t":15}' '{"k":"a","t":18}' '{"k":"c","t":21}' '{"k":"a","t":20}' >"$T/in2"
	run --separate-stderr weir-dedup --key k --time t --time-unit s --within 2s --state "$T/st" --stats <"$T/in2"
	assert_success
	assert_output "$(printf '%s\n' '{"@weir":"restore","id":1}' '{"k":"c","t":21}' '{"k":"a","t":20}')"
	[[ $stderr == *"duplicates=1 late=1 "* ]]
}

@test "--keep last state survives a restore" {
	printf '%s\n' '{"id":1,"v":"a"}' '{"id":2,"v":"b"}' '{"id":1,"v":"c"}' '{"@weir":"barrier","id":7}' '{"id":3,"v":"x"}' >"$T/in"
	weir-dedup --key id --keep last --state "$T/st" <"$T/in" >/dev/null
	printf '%s\n' '{"@weir":"restore","id":7}' '{"id":2,"v":"d"}' '{"id":4,"v":"e"}' >"$T/in2"
	run weir-dedup --key id --keep last --state "$T/st" <"$T/in2"
	assert_success
	assert_output "$(printf '%s\n' '{"@weir":"restore","id":7}' '{"id":1,"v":"c"}' '{"id":2,"v":"d"}' '{"id":4,"v":"e"}')"
}

@test "restore of a missing snapshot or one made with other options fails" {
	echo '{"@weir":"restore","id":4}' >"$T/in"
	run --separate-stderr weir-dedup --key k --state "$T/st" <"$T/in"
	assert_failure 2
	assert_equal "$stderr" "weir-dedup: no state snapshot 4 in '$T/st' to restore"
	printf '%s\n' '{"k":1}' '{"@weir":"barrier","id":4}' | weir-dedup --key k --state "$T/st" >/dev/null
	run --separate-stderr weir-dedup --key k,j --state "$T/st" <"$T/in"
	assert_failure 2
	[[ $stderr == *"was written with other options (key=k;"* ]]
	printf 'garbage' >"$T/st/snapshot-00000000000000000004.bin"
	run --separate-stderr weir-dedup --key k --state "$T/st" <"$T/in"
	assert_failure 2
	assert_equal "$stderr" "weir-dedup: corrupt state snapshot 4 in '$T/st': no checksum"
}

@test "a barrier without an id is an error" {
	run --separate-stderr weir-dedup <<<'{"@weir":"barrier"}'
	assert_failure 2
	assert_equal "$stderr" "weir-dedup: barrier record 1 in '<stdin>' has no integer id"
}

@test "bad records are reported, dropped, and make the status 1" {
	printf '%s\n' '{"k":1,"t":5}' 'not json' '[1]' '{"k":2}' '{"k":3,"t":"soon"}' '{"k":4,"t":6}' >"$T/in"
	run --separate-stderr weir-dedup --key k --time t --within 1m <"$T/in"
	assert_failure 1
	assert_output "$(printf '%s\n' '{"k":1,"t":5}' '{"k":4,"t":6}')"
	assert_equal "${#stderr_lines[@]}" 4
	[[ ${stderr_lines[0]} == "weir-dedup: bad record 2 in '<stdin>': "* ]]
	assert_equal "${stderr_lines[2]}" "weir-dedup: bad record 4 in '<stdin>': no event time field 't'"
	assert_equal "${stderr_lines[3]}" "weir-dedup: bad record 5 in '<stdin>': event time field 't' is not a time"
}

@test "framed output reads back to the same records, schema included" {
	printf '%s\n' '{"id":1,"x":1.50}' '{"id":1,"x":2}' '{"id":2,"x":"é"}' >"$T/in"
	weir-dedup --key id --framed <"$T/in" >"$T/framed"
	[ "$(head -c 4 "$T/framed" | od -An -tx1 | tr -d ' ')" = ff575231 ]
	run weir-dedup --key id "$T/framed"
	assert_success
	assert_output "$(printf '%s\n' '{"id":1,"x":1.50}' '{"id":2,"x":"é"}')"
	WEIR_FRAMED=1 weir-dedup --key id <"$T/in" | cmp - "$T/framed"
}

@test "usage errors exit 2" {
	run weir-dedup --within 5m
	assert_failure 2
	run weir-dedup --time t --ttl 5s
	assert_failure 2
	run weir-dedup --keep last --time t
	assert_failure 2
	run weir-dedup --keep sometimes
	assert_failure 2
	run --separate-stderr weir-dedup --time t --within 5 parsecs
	assert_failure 2
	run --separate-stderr weir-dedup --time t --within 5parsecs
	assert_failure 2
	assert_equal "$stderr" "weir-dedup: invalid --within: '5parsecs' (want e.g. 500ms, 10s, 5m, 2h, 7d)"
	run weir-dedup --key 'a,,b'
	assert_failure 2
	run weir-dedup /nonexistent
	assert_failure 2
}

@test "write errors exit 2" {
	run bash -c 'echo "{\"a\":1}" | weir-dedup >/dev/full'
	assert_failure 2
}
