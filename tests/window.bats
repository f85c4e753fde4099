#!/usr/bin/env bats
# weir-window: the conformance cases of notes/streaming-semantics.md §5 as
# exact golden tests, boundaries, every aggregate against a brute-force
# reference, barrier/restore across kill -9, limits, and the man page examples.
load helper

setup() {
	D=$(mktemp -d "${BATS_TMPDIR:-/tmp}/window.XXXXXX")
	export -f compact spark flink_rows
}

teardown() {
	rm -rf "$D"
}

# Spark test input: each argument is one micro-batch of values (seconds);
# batches are separated by barriers, as in ARCHITECTURE §4.
batches() {
	local b=0 first=1 batch v
	for batch in "$@"; do
		[ $first = 1 ] || { b=$((b + 1)); echo "{\"@weir\":\"barrier\",\"id\":$b}"; }
		first=0
		for v in $batch; do echo "{\"v\":$v}"; done
	done
}

# Rows as "start,count" in seconds, control records as "kind:t|id".
compact() {
	jq -r 'if has("@weir") then "\(.["@weir"]):\(if (.t // 0) > 9e18 then "end" else .t // .id end)"
	       else "\(.window_start | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601),\(.n)" end'
}

spark() {
	weir-window --tumble 5s -t v --time-unit s -d 10s -a 'count(*) AS n' --advance barrier --no-flush "$@"
}

@test "synopsis matches the man page, which lints clean" {
	run check_synopsis weir-window
	assert_success
	run mandoc -T lint -W warning "$TOP/man/weir-window.1"
	assert_success
	assert_output ""
}

@test "help, version and usage errors" {
	run weir-window --help
	assert_success
	assert_line --index 0 --partial "usage: weir-window"
	run weir-window --version
	assert_success
	run weir-window -t ts -a 'count(*)'
	[ "$status" -eq 2 ]
	assert_output --partial "give a window"
	run weir-window --tumble 5m -a 'count(*)'
	[ "$status" -eq 2 ]
	assert_output --partial "--time"
	run weir-window --tumble 5m -t ts -a 'median(x)'
	[ "$status" -eq 2 ]
	assert_output --partial "unknown aggregate function 'median'"
	run weir-window --tumble 5m -t ts -a 'sum(*)'
	[ "$status" -eq 2 ]
	run weir-window --tumble 5m -t ts -a 'count(*), count(*)'
	[ "$status" -eq 2 ]
	assert_output --partial "duplicate output column 'count(*)'"
	run weir-window --slide 1m,5m -t ts -a 'count(*)'
	[ "$status" -eq 2 ]
	assert_output --partial "slide must not be longer"
	run weir-window --tumble 5m --offset 5m -t ts -a 'count(*)'
	[ "$status" -eq 2 ]
	run weir-window --session 5m -t ts -a 'count(*)' --emit update
	[ "$status" -eq 2 ]
	assert_output --partial "not supported for session windows"
	run weir-window --tumble 5x -t ts -a 'count(*)'
	[ "$status" -eq 2 ]
	run weir-window --tumble 5m --session 1m -t ts -a 'count(*)'
	[ "$status" -eq 2 ]
	run weir-window --tumble 5m -t ts -a 'approx_percentile(x, 1.5)'
	[ "$status" -eq 2 ]
	run weir-window --tumble 5m -t ts -a 'count(*)' --max-state lots
	[ "$status" -eq 2 ]
	run weir-window --tumble 4000000d -t ts -a 'count(*)'
	assert_failure 2
	assert_output "weir-window: invalid window size: '4000000d' (longer than 10000 years)"
}

@test "Spark append mode (EventTimeWatermarkSuite)" {
	batches "10 11 12 13 14 15" "25" "10" >"$D/in"
	run bash -c "spark <'$D/in' 2>'$D/err' | compact"
	assert_success
	assert_output "$(printf '%s\n' watermark:5000000 barrier:1 10,5 watermark:15000000 barrier:2)"
	# the late 10 is counted
	run cat "$D/err"
	assert_output 'weir-window: 1 late record dropped (keep them with --late FILE)'
	# state held 2 rows after batch 2: they come out when flushed
	run bash -c "weir-window --tumble 5s -t v --time-unit s -d 10s -a 'count(*) AS n' --advance barrier <'$D/in' 2>/dev/null | compact"
	assert_output "$(printf '%s\n' watermark:5000000 barrier:1 10,5 watermark:15000000 barrier:2 15,1 25,1 \
		watermark:end)"
}

@test "Spark update mode" {
	batches "10 11 12 13 14 15" "25" "10 25" "10" >"$D/in"
	run bash -c "spark --emit update <'$D/in' 2>/dev/null | compact"
	assert_success
	assert_output "$(printf '%s\n' 10,5 15,1 watermark:5000000 barrier:1 25,1 watermark:15000000 barrier:2 \
		25,2 barrier:3)"
}

@test "Spark complete mode: no eviction, no late dropping" {
	# The notes transcribe the third answer as (25,2); Spark's test checks
	# the whole table, (10,3),(25,2).
	batches "10 11 12" "25" "25" "10" "25" >"$D/in"
	run bash -c "spark --emit complete <'$D/in' | compact"
	assert_success
	# the watermark moves, but complete mode neither drops nor forgets
	assert_output "$(printf '%s\n' 10,3 watermark:2000000 barrier:1 10,3 25,1 watermark:15000000 barrier:2 \
		10,3 25,2 barrier:3 10,4 25,2 barrier:4 10,4 25,3)"
}

@test "Spark session windows, append mode (StreamingSessionWindowSuite)" {
	{
		for w in hello world spark streaming; do echo "{\"w\":\"$w\",\"t\":40}"; done
		for w in world hello structured streaming; do echo "{\"w\":\"$w\",\"t\":41}"; done
		echo '{"@weir":"barrier","id":1}'
		for w in spark streaming; do echo "{\"w\":\"$w\",\"t\":25}"; done
		echo '{"@weir":"barrier","id":2}'
		for w in spark streaming; do echo "{\"w\":\"$w\",\"t\":0}"; done
		echo '{"@weir":"barrier","id":3}'
		for w in spark streaming; do echo "{\"w\":\"$w\",\"t\":30}"; done
		echo '{"@weir":"barrier","id":4}'
		for w in hello apache spark; do echo "{\"w\":\"$w\",\"t\":60}"; done
		echo '{"@weir":"barrier","id":5}'
		for w in structured streaming; do echo "{\"w\":\"$w\",\"t\":90}"; done
	} >"$D/in"
	run bash -c "weir-window --session 10s -t t --time-unit s -d 30s -b w -a 'count(*) AS n' --advance barrier \
		--no-flush --late '$D/late' <'$D/in' 2>'$D/err' | jq -r 'if has(\"@weir\") then .[\"@weir\"] else
		[.w, (.window_start, .window_end | sub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdateiso8601), .n] | join(\",\") end'"
	assert_success
	# (word, start, end, n); durations 25, 26, 11, 11, 10 as in Spark
	assert_output "$(printf '%s\n' watermark barrier barrier barrier barrier watermark barrier \
		spark,25,50,3 hello,40,51,2 world,40,51,2 structured,41,51,1 streaming,25,51,4 watermark)"
	run cat "$D/err"
	assert_output 'weir-window: 2 late records dropped'
	run cat "$D/late"
	assert_output "$(printf '%s\n' '{"w":"spark","t":0}' '{"w":"streaming","t":0}')"
	# a second run appends: a resumed pipeline keeps the first run's late records
	weir-window --session 10s -t t --time-unit s -d 30s -b w -a 'count(*) AS n' --advance barrier \
		--no-flush --late "$D/late" <"$D/in" >/dev/null 2>&1
	[ "$(wc -l <"$D/late")" -eq 4 ]
}

# Flink's WindowOperatorTest feeds watermarks itself.  Flink fires a window
# when wm >= end - 1 where weir (Spark) fires when end <= wm: Flink's
# watermark W is weir's W + 1 ms.
flink_wm() {
	local w
	for w in "$@"; do echo "{\"@weir\":\"watermark\",\"t\":$(((w + 1) * 1000))}"; done
}

flink_rows() {
	jq -r 'if has("@weir") then "wm:\(.t / 1000 - 1)" else
	       "\(.k)=\(.s) [\(.window_start),\(.window_end))" end' | sed 's/1970-01-01T00:00://g; s/\.000000Z//g; s/1969-12-31T23:59:5/-/g'
}

@test "Flink sliding windows (testSlidingEventTimeWindows)" {
	{
		for kv in key2:3999 key2:3000 key1:20 key1:0 key1:999 key2:1998 key2:1999 key2:1000; do
			echo "{\"k\":\"${kv%:*}\",\"t\":${kv#*:},\"v\":1}"
		done
		flink_wm 999 1999 2999 3999 4999 5999 6999 7999
	} >"$D/in"
	run bash -c "weir-window --slide 3s,1s -t t -d 1d -b k -a 'sum(v) AS s' --no-flush <'$D/in' | flink_rows"
	assert_success
	# window starts -2000 and -1000 print as -8 and -9 seconds past 23:59:50
	assert_output "$(printf '%s\n' 'key1=3 [-8,01)' wm:999 'key1=3 [-9,02)' 'key2=3 [-9,02)' wm:1999 \
		'key1=3 [00,03)' 'key2=3 [00,03)' wm:2999 'key2=5 [01,04)' wm:3999 'key2=2 [02,05)' wm:4999 \
		'key2=2 [03,06)' wm:5999 wm:7999)"
}

@test "Flink tumbling windows (testTumblingEventTimeWindows)" {
	{
		for kv in key2:3999 key2:3000 key1:20 key1:0 key1:999 key2:1998 key2:1999 key2:1000; do
			echo "{\"k\":\"${kv%:*}\",\"t\":${kv#*:},\"v\":1}"
		done
		flink_wm 999 1999 2999 3999 4999 5999
	} >"$D/in"
	run bash -c "weir-window --tumble 3s -t t -d 1d -b k -a 'sum(v) AS s' --no-flush <'$D/in' | flink_rows"
	assert_success
	assert_output "$(printf '%s\n' 'key1=3 [00,03)' 'key2=3 [00,03)' wm:2999 'key2=2 [03,06)' wm:5999)"
}

@test "Flink session windows (testSessionWindows)" {
	{
		for x in key2:1:0 key2:2:1000 key2:3:2500 key1:1:10 key1:2:1000 key1:3:2500 \
			key2:4:5501 key2:5:6000 key2:5:6000 key2:6:6050; do
			IFS=: read -r k v t <<<"$x"
			echo "{\"k\":\"$k\",\"v\":$v,\"t\":$t}"
		done
		flink_wm 12000
		echo '{"k":"key2","v":10,"t":15000}'
		echo '{"k":"key2","v":20,"t":15000}'
		flink_wm 17999
	} >"$D/in"
	run bash -c "weir-window --session 3s -t t -d 1d -b k -a 'sum(v) AS s' --no-flush <'$D/in' | flink_rows"
	assert_success
	# 5501 > 5500: no merge; sessions that only touch would merge
	assert_output "$(printf '%s\n' 'key2=6 [00,05.500000Z)' 'key1=6 [00.010000Z,05.500000Z)' \
		'key2=20 [05.501000Z,09.050000Z)' wm:12000 'key2=30 [15,18)' wm:17999)"
}

@test "an event that bridges two sessions merges them, and avg counts every value" {
	printf '%s\n' '{"t":0,"v":1}' '{"t":20,"v":3}' '{"t":10,"v":2}' >"$D/in"
	run bash -c "weir-window --session 15s -t t --time-unit s -d 1m -a 'avg(v) AS a, sum(v) AS s, count(v) AS c' \
		<'$D/in' | jq -c 'select(has(\"@weir\") | not) | [.window_start[17:19], .window_end[17:19], .a, .s, .c]'"
	assert_success
	assert_output '["00","35",2,6,3]'
}

@test "boundaries: event at a window's end, at the watermark, out of order within the delay" {
	# Delay 2.  5 opens [5,10), not [0,5).  3 comes after the watermark 3 but
	# its window [0,5) is not final: counted.  After 9 the watermark is 7:
	# 4 is late ([0,5) is final), 8 is not.  After 12 it is 10: 9 is late,
	# its window's end equals the watermark; 10 opens [10,15).
	printf '%s\n' '{"t":0}' '{"t":5}' '{"t":3}' '{"t":9}' '{"t":4}' '{"t":8}' '{"t":12}' '{"t":9}' '{"t":10}' >"$D/in"
	run bash -c "weir-window --tumble 5s -t t --time-unit s -d 2s -a 'count(*) AS n, min(t) AS lo, max(t) AS hi' \
		--late '$D/late' <'$D/in' 2>'$D/err' | jq -c 'select(has(\"@weir\") | not) | [.lo, .hi, .n]'"
	assert_success
	assert_output "$(printf '%s\n' '[0,3,2]' '[5,9,3]' '[10,12,2]')"
	run cat "$D/late"
	assert_output "$(printf '%s\n' '{"t":4}' '{"t":9}')"
	run cat "$D/err"
	assert_output 'weir-window: 2 late records dropped'
	# a session event is late when its time + gap is at or before the watermark
	printf '%s\n' '{"t":20}' '{"t":8}' '{"t":9}' >"$D/in"
	run bash -c "weir-window --session 5s -t t --time-unit s -d 7s -a 'count(*) AS n' <'$D/in' 2>/dev/null |
		jq -r 'select(.n) | .window_start[17:19]'"
	assert_output "$(printf '%s\n' 09 20)"
}

@test "boundaries: a window is final exactly when its end reaches the watermark" {
	printf '%s\n' '{"t":1}' '{"t":14}' '{"@weir":"barrier","id":1}' '{"t":15}' '{"@weir":"barrier","id":2}' >"$D/in"
	run bash -c "weir-window --tumble 5s -t t --time-unit s -d 10s -a 'count(*) AS n' --no-flush <'$D/in' | compact"
	assert_success
	# watermark 4 after 14: [0,5) stays; 5 after 15: [0,5) is final
	assert_output "$(printf '%s\n' watermark:4000000 barrier:1 0,1 watermark:5000000 barrier:2)"
}

@test "boundaries: negative offsets and times before the epoch" {
	printf '%s\n' '{"t":-1}' '{"t":1}' '{"t":3}' '{"t":-3}' >"$D/in"
	run bash -c "weir-window --tumble 5s --offset -2s -t t --time-unit s -d 1m -a 'count(*) AS n' <'$D/in' |
		jq -r 'select(has(\"@weir\") | not) | \"\(.window_start) \(.window_end) \(.n)\"'"
	assert_success
	assert_output "$(printf '%s\n' '1969-12-31T23:59:53.000000Z 1969-12-31T23:59:58.000000Z 1' \
		'1969-12-31T23:59:58.000000Z 1970-01-01T00:00:03.000000Z 2' \
		'1970-01-01T00:00:03.000000Z 1970-01-01T00:00:08.000000Z 1')"
	# Spark: sliding 10/4 with offset 1: windows whose start <= t < end
	run bash -c "echo '{\"t\":10}' | weir-window --slide 10s,4s --offset 1s -t t --time-unit s -a 'count(*) AS n' |
		jq -r 'select(has(\"@weir\") | not) | .window_start'"
	assert_output "$(printf '%s\n' 1970-01-01T00:00:01.000000Z 1970-01-01T00:00:05.000000Z 1970-01-01T00:00:09.000000Z)"
}

@test "event time from timestamps strings, dates, and numbers in each unit" {
	printf '%s\n' '{"t":"2024-05-01T10:00:59.999999Z"}' '{"t":"2024-05-01T12:01:00+02:00"}' '{"t":"2024-05-01"}' >"$D/in"
	run bash -c "weir-window --tumble 1m -t t -d 1d -a 'count(*) AS n' <'$D/in' | jq -r 'select(.n) | \"\(.window_start) \(.n)\"'"
	assert_output "$(printf '%s\n' '2024-05-01T00:00:00.000000Z 1' '2024-05-01T10:00:00.000000Z 1' '2024-05-01T10:01:00.000000Z 1')"
	for u in s:1714557600 ms:1714557600000 us:1714557600000000; do
		run bash -c "echo '{\"t\":${u#*:}}' | weir-window --tumble 1h -t t --time-unit ${u%:*} -a 'count(*) AS n' | jq -r 'select(.n) | .window_start'"
		assert_output 2024-05-01T10:00:00.000000Z
	done
}

@test "numbers of seconds or milliseconds are truncated to the microsecond, as Spark casts them" {
	# 4.9999999 s is 4.999999 s, in [0, 5): late once the watermark is 5
	printf '%s\n' '{"t":5}' '{"t":4.9999999}' '{"t":0.000001}' >"$D/in"
	run weir-window --tumble 5s -t t --time-unit s -a 'count(*) AS n' "$D/in"
	assert_success
	assert_output - <<-'EOF'
	{"window_start":"1970-01-01T00:00:05.000000Z","window_end":"1970-01-01T00:00:10.000000Z","n":1}
	{"@weir":"watermark","t":9223372036854775807}
	weir-window: 2 late records dropped (keep them with --late FILE)
	EOF
	# exact to the last digit, either way from zero, and from doubles
	printf '%s\n' '{"t":0.000001}' '{"t":-0.0000019}' '{"t":1e-6}' '{"t":-2.5e-6}' >"$D/in"
	run weir-window --tumble 1us -t t --time-unit s -d 1s -a 'count(*) AS n' "$D/in"
	assert_success
	[ "$(jq -r 'select(.n) | .window_start' <<<"$output" | tr '\n' ' ')" = \
		'1969-12-31T23:59:59.999998Z 1969-12-31T23:59:59.999999Z 1970-01-01T00:00:00.000001Z ' ]
}

@test "avg of an exact sum is the double nearest the mean" {
	# not the double nearest 0.3 divided by 3, 0.09999999999999999
	printf '{"t":1,"x":%s,"i":%s}\n' 0.1 1 0.1 2 0.1 2 >"$D/in"
	run weir-window --tumble 1m -t t --time-unit s -a 'avg(x) AS a, avg(i) AS b' "$D/in"
	assert_success
	assert_line --index 0 --partial '"a":0.1,"b":1.6666666666666667}'
	# 0.07499999999999999999999999999999999825: nearer 0.075's double than the one below
	printf '{"t":1,"x":%s}\n' 0.3 -0.000000000000000000000000000000000007 0 0 >"$D/in"
	run weir-window --tumble 1m -t t --time-unit s -a 'avg(x) AS a' "$D/in"
	assert_line --index 0 --partial '"a":0.075}'
	# next to a halfway point between two doubles (Python: float(Fraction(148889081297118526237, 3 * 10**18)))
	printf '{"t":1,"x":%s}\n' 49.629693765706175412 49.629693765706175412 49.629693765706175413 >"$D/in"
	run weir-window --tumble 1m -t t --time-unit s -a 'avg(x) AS a' "$D/in"
	assert_line --index 0 --partial '"a":49.62969376570618}'
}

@test "event times outside years 1 to 9999 are bad records, not windows that overflow" {
	printf '%s\n' '{"t":-9223372036854}' '{"t":9223372036854}' '{"t":5}' '{"t":6}' '{"t":"0000-12-31T23:59:59Z"}' \
		'{"t":253402300799}' >"$D/in"
	run weir-window --tumble 1s -t t --time-unit s -d 1h -a 'count(*) AS n' "$D/in"
	assert_failure 1
	assert_line "weir-window: bad record at '$D/in' record 1: event time field 't' is outside years 1 to 9999"
	assert_line "weir-window: bad record at '$D/in' record 2: event time field 't' is outside years 1 to 9999"
	assert_line "weir-window: bad record at '$D/in' record 5: event time field 't' is outside years 1 to 9999"
	[ "$(grep '^{' <<<"$output" | jq -r 'select(.n) | .window_start' | tr '\n' ' ')" = \
		'1970-01-01T00:00:05.000000Z 1970-01-01T00:00:06.000000Z 9999-12-31T23:59:59.000000Z ' ]
	# an upstream watermark far below them says nothing
	printf '%s\n' '{"@weir":"watermark","t":-9223372036854775000}' '{"t":1}' '{"t":2}' >"$D/wm"
	run weir-window --slide 10s,5s -t t --time-unit s -a 'count(*) AS n' "$D/wm"
	assert_success
	[ "$(grep -c '"n":2' <<<"$output")" -eq 2 ]
	# so does dedup (and join, which asks the same)
	run weir-dedup -k t -t t --time-unit s "$D/in"
	assert_failure 1
	assert_line "weir-dedup: bad record 1 in '$D/in': event time field 't' is outside years 1 to 9999"
	# ISO times in the expanded year form are out of range too; a string
	# that is no time in any year is not a time
	printf '{"t":"%s"}\n' 10000-01-01T00:00:00Z +10000-01-01 -0001-12-31T23:59:59Z 12345-nonsense >"$D/iso"
	run weir-window --tumble 1s -t t -a 'count(*) AS n' "$D/iso"
	assert_failure 1
	for i in 1 2 3; do
		assert_line "weir-window: bad record at '$D/iso' record $i: event time field 't' is outside years 1 to 9999"
	done
	assert_line "weir-window: bad record at '$D/iso' record 4: event time field 't' is not a time"
}

@test "bad records are reported with their position and make the status 1" {
	printf '%s\n' '{"t":1,"x":1}' 'not json' '{"x":2}' '{"t":"soon"}' '{"t":2,"x":"many"}' '[1]' '{"t":3,"x":3}' >"$D/in"
	run weir-window --tumble 1m -t t --time-unit s -a 'sum(x) AS s, count(*) AS n' "$D/in"
	[ "$status" -eq 1 ]
	assert_line "weir-window: bad record at '$D/in' record 3: no event time field 't'"
	assert_line "weir-window: bad record at '$D/in' record 4: event time field 't' is not a time"
	assert_line "weir-window: bad record at '$D/in' record 5: 'x' is not a number"
	assert_line --partial "record 2:"
	assert_line --partial "record 6:"
	assert_line --partial '"s":4,"n":2'
}

@test "update mode per record, and upstream watermarks advance the tool's own" {
	printf '%s\n' '{"t":1}' '{"t":2}' '{"@weir":"watermark","t":6000000}' '{"t":7}' '{"@weir":"other","x":1}' >"$D/in"
	run bash -c "weir-window --tumble 5s -t t --time-unit s -d 1m --emit update -a 'count(*) AS n' <'$D/in' | compact"
	assert_success
	assert_output "$(printf '%s\n' 0,1 0,2 watermark:6000000 5,1 other:null watermark:end)"
}

# A deterministic mix of types: x integers with nulls and gaps, y decimals,
# s strings; i is the arrival order (first/last are by arrival).
gen_events() {
	awk -v N="$1" 'BEGIN { srand(7); for (i = 0; i < N; i++) {
		t = 1714557600000 + int(i * 37 + rand() * 3000); g = substr("abcde", int(rand() * 5) + 1, 1)
		r = rand(); x = (r < 0.1) ? "null" : int(rand() * 50) - 10
		printf "{\"i\":%d,\"t\":%.0f,\"g\":\"%s\",", i, t, g
		if (r > 0.95) printf "\"y\":%.2f,\"s\":\"s%d\"}\n", rand() * 1000, int(rand() * 40)
		else printf "\"x\":%s,\"y\":%.2f,\"s\":\"s%d\"}\n", x, rand() * 1000 - 100, int(rand() * 40) }
	}'
}

@test "every aggregate against a brute-force DuckDB computation" {
	gen_events 4000 >"$D/ev"
	weir-window --tumble 10s -t t -d 5s -b g -a 'count(*) AS n, count(x) AS nx, sum(x) AS sx, avg(y) AS ay,
		min(s) AS mins, max(y) AS maxy, min(x) AS minx, first(x) AS fx, last(x) AS lx, count_distinct(x) AS dx,
		approx_count_distinct(s) AS ds, stddev(y) AS sdy, approx_percentile(y, 0.9) AS p90, sum(y) AS sy' "$D/ev" \
		2>"$D/err" | jq -c 'select(has("@weir") | not) | .ws = (.window_start | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601 * 1000)' >"$D/weir"
	[ ! -s "$D/err" ] || { cat "$D/err"; false; }
	duckdb_query "SELECT (t // 10000) * 10000 AS ws, g, count(*) AS n, count(x) AS nx, sum(x) AS sx,
		avg(y)::DOUBLE AS ay, min(s) AS mins, max(y)::DOUBLE AS maxy, min(x) AS minx,
		list(x ORDER BY i)[1] AS fx, list(x ORDER BY i)[-1] AS lx, count(DISTINCT x) AS dx,
		count(DISTINCT s) AS ds, stddev_samp(y::DOUBLE) AS sdy, sum(y)::DOUBLE AS sy,
		list_sort(list(y::DOUBLE))[greatest(1, ceil(0.9 * count(y)))::INT] AS p90
		FROM read_ndjson('$D/ev', columns={i: 'BIGINT', t: 'BIGINT', g: 'VARCHAR', x: 'BIGINT',
		y: 'DECIMAL(10,2)', s: 'VARCHAR'}) GROUP BY ALL" >"$D/duck"
	[ "$(wc -l <"$D/weir")" -eq "$(wc -l <"$D/duck")" ]
	[ "$(wc -l <"$D/weir")" -gt 50 ]
	run jq -n --slurpfile w "$D/weir" --slurpfile d "$D/duck" '
		def num: if type == "string" then (tonumber? // .) else . end;
		def close(a; b; tol): ((a | num) - (b | num) | fabs) <= tol * ([(b | num | fabs), 1] | max);
		($d | map({key: "\(.ws)|\(.g)", value: .}) | from_entries) as $D
		| [$w[] | . as $r | $D["\(.ws)|\(.g)"] as $e
		   | select($e == null
			or ([.n, .nx, .sx, .mins, .minx, .fx, .lx, .dx, .ds | num] != [$e.n, $e.nx, $e.sx, $e.mins, $e.minx, $e.fx, $e.lx, $e.dx, $e.ds | num])
			or (close(.ay; $e.ay; 1e-12) | not) or (close(.maxy; $e.maxy; 0) | not) or (close(.sy; $e.sy; 1e-12) | not)
			or (close(.sdy; $e.sdy; 1e-9) | not) or (close(.p90; $e.p90; 0.01) | not))
		   | {weir: $r, duck: $e}] | .[:3][]'
	assert_success
	assert_output ""
}

@test "approx_count_distinct and approx_percentile stay within their stated error on large inputs" {
	awk 'BEGIN { srand(11); for (i = 0; i < 60000; i++) {
		printf "{\"t\":%d,\"u\":\"user%d\",\"lat\":%.3f}\n", i, int(rand() * 40000), exp(rand() * 12) }
	}' >"$D/ev"
	weir-window --tumble 1h -t t -a 'approx_count_distinct(u) AS du, count_distinct(u) AS eu,
		approx_percentile(lat, 0.5) AS p50, approx_percentile(lat, 0.99) AS p99,
		approx_percentile(lat, 0) AS p0, approx_percentile(lat, 1) AS p100' "$D/ev" | jq -c 'select(.du)' >"$D/weir"
	duckdb_query "WITH s AS (SELECT list_sort(list(lat)) AS l, count(*) AS n FROM read_ndjson('$D/ev', columns={t: 'BIGINT', u: 'VARCHAR', lat: 'DOUBLE'}))
		SELECT l[ceil(0.5 * n)::INT] AS p50, l[ceil(0.99 * n)::INT] AS p99, l[1] AS p0, l[n] AS p100 FROM s" >"$D/duck"
	run jq -n --slurpfile w "$D/weir" --slurpfile d "$D/duck" '$w[0] as $w | $d[0] as $d |
		def rel(a; b): ((a - b) / b | fabs);
		[ (rel($w.du; $w.eu) < 0.05), (rel($w.p50; $d.p50) <= 0.01), (rel($w.p99; $d.p99) <= 0.01),
		  ($w.p0 == $d.p0), ($w.p100 == $d.p100), ($w.eu > 30000) ] | all'
	assert_output true
}

# The events for the snapshot tests: barriers every 10 records.
gen_barriered() {
	awk 'BEGIN { srand(3); for (i = 0; i < 80; i++) {
		if (i && i % 10 == 0) printf "{\"@weir\":\"barrier\",\"id\":%d}\n", i / 10
		printf "{\"t\":%d,\"k\":\"k%d\",\"x\":%d,\"s\":\"v%d\"}\n", i * 700 + int(rand() * 4000), int(rand() * 4), int(rand() * 100), int(rand() * 9) }
	}'
}

# Run to the end; run again but kill -9 after barrier 3 has passed (with
# more input already read); resume from snapshot 3 with the input after it.
# The output up to barrier 3 plus the resumed output must equal the full run.
crash_and_resume() {
	gen_barriered >"$D/in"
	weir-window "$@" --state "$D/full-state" <"$D/in" >"$D/full" 2>/dev/null
	local cut
	cut=$(grep -n '"barrier","id":3}' "$D/in" | cut -d: -f1)
	mkfifo "$D/fifo"
	weir-window "$@" --state "$D/state" <"$D/fifo" >"$D/crashed" 2>/dev/null &
	local pid=$! i fd
	exec {fd}>"$D/fifo"
	head -n $((cut + 5)) "$D/in" >&"$fd"
	for i in $(seq 200); do
		grep -q '"barrier","id":3}' "$D/crashed" && break
		sleep 0.05
	done
	kill -9 "$pid"
	wait "$pid" || true
	exec {fd}>&-
	grep -q '"barrier","id":3}' "$D/crashed"
	ls "$D/state" | grep -q 'snapshot-0*3.bin'
	{ echo '{"@weir":"restore","id":3}'; tail -n +$((cut + 1)) "$D/in"; } |
		weir-window "$@" --state "$D/state" >"$D/resumed" 2>/dev/null
	# restore prunes every other snapshot, then barriers 4.. are written
	[ ! -e "$D/state/snapshot-00000000000000000002.bin" ]
	head -n 1 "$D/resumed" | grep -qx '{"@weir":"restore","id":3}'
	sed -n '1,/"barrier","id":3}/p' "$D/full" >"$D/expect"
	tail -n +2 "$D/resumed" >>"$D/expect"
	diff "$D/full" "$D/expect"
	[ "$(grep -vc '@weir' "$D/full")" -gt 10 ]
}

@test "kill -9 between barriers and restore gives identical output: tumbling, every aggregate" {
	crash_and_resume --tumble 5s -t t -d 2s -b k -a 'count(*) AS n, sum(x) AS sx, avg(x) AS ax, min(s) AS mn,
		max(s) AS mx, first(s) AS f, last(x) AS l, count_distinct(s) AS d, approx_count_distinct(x) AS ad,
		approx_percentile(x, 0.5) AS p, stddev(x) AS sd'
}

@test "kill -9 between barriers and restore gives identical output: sliding, update mode, barrier advance" {
	crash_and_resume --slide 6s,2s -t t -d 3s -b k --emit update --advance barrier -a 'count(*) AS n, sum(x) AS sx'
}

@test "kill -9 between barriers and restore gives identical output: sliding from panes" {
	crash_and_resume --slide 6s,2s -t t -d 3s -b k -a 'count(*) AS n, sum(x) AS sx, avg(x) AS ax, min(s) AS mn,
		max(s) AS mx, first(s) AS f, last(x) AS l, count_distinct(s) AS d, approx_count_distinct(x) AS ad'
}

@test "sliding windows from panes give what updating every window gives" {
	# stddev cannot come from panes: with it the run goes window by window,
	# and without its column the rows must be the same bytes.  Values tie
	# (3 and 3.0) so min and max must keep the one that came first; in the
	# second input a float at record 150 turns the panes into windows.
	local a='count(*) AS n, sum(v) AS sv, avg(v) AS av, min(v) AS lo, max(v) AS hi, first(s) AS f,
		last(v) AS l, count_distinct(s) AS d, approx_count_distinct(v) AS ad' f
	for f in 0 1; do
		awk -v F="$f" 'BEGIN { srand(5); for (i = 0; i < 300; i++) {
			v = int(rand() * 20); x = rand() < 0.3 ? v ".0" : v
			if (i == 150 && F) x = "5e-1"
			printf "{\"t\":%d,\"k\":\"k%d\",\"v\":%s,\"s\":\"s%d\"}\n",
				i * 300 + int(rand() * 3000), int(rand() * 5), x, int(rand() * 7) } }' >"$D/in$f"
		weir-window --slide 10s,5s -t t -d 2s -b k -a "$a" <"$D/in$f" >"$D/panes$f" 2>"$D/err"
		weir-window --slide 10s,5s -t t -d 2s -b k -a "$a, stddev(v) AS sd" <"$D/in$f" 2>/dev/null |
			sed 's/,"sd":[^}]*}$/}/' >"$D/windows$f"
		[ "$(grep -vc '@weir' "$D/panes$f")" -gt 50 ]
		run diff "$D/panes$f" "$D/windows$f"
		assert_success
	done
	run cmp -s "$D/panes0" "$D/panes1"
	assert_failure
}

@test "kill -9 between barriers and restore gives identical output: sessions" {
	crash_and_resume --session 1500ms -t t -d 1s -b k -a 'count(*) AS n, first(x) AS f, last(x) AS l, min(x) AS lo'
}

@test "a restore cuts the late-record file back to its barrier: each late record once" {
	gen_barriered >"$D/in"
	local a=(--tumble 5s -t t -b k -a 'count(*) AS n') cut i
	weir-window "${a[@]}" --late "$D/full-late" <"$D/in" >/dev/null 2>&1
	# late records on both sides of barrier 3 (at lines 30, 37, 60, 75, 83)
	[ "$(wc -l <"$D/full-late")" -eq 5 ]
	# snapshots to barrier 7 written, then a restart from 3, the last one
	# the sink committed: the replay writes the late records after 3 again
	echo '{"old":"line"}' >"$D/late"
	weir-window "${a[@]}" --state "$D/s" --late "$D/late" <"$D/in" >/dev/null 2>&1
	cut=$(grep -n '"barrier","id":3}' "$D/in" | cut -d: -f1)
	{ echo '{"@weir":"restore","id":3}'; tail -n +$((cut + 1)) "$D/in"; } >"$D/replay"
	weir-window "${a[@]}" --state "$D/s" --late "$D/late" <"$D/replay" >/dev/null 2>&1
	run diff <(echo '{"old":"line"}'; cat "$D/full-late") "$D/late"
	assert_success
	# before the first commit: a second attempt's restore 0 cuts the file
	# back to where the first attempt's found it
	{ echo '{"@weir":"restore","id":0}'; cat "$D/in"; } >"$D/from0"
	for i in 1 2; do
		weir-window "${a[@]}" --state "$D/s0" --late "$D/late0" <"$D/from0" >/dev/null 2>&1
	done
	run diff "$D/full-late" "$D/late0"
	assert_success
	# a file put in its place since (rotated) is not cut: it is another file
	mv "$D/late" "$D/late.1"
	seq 1000 >"$D/late"
	weir-window "${a[@]}" --state "$D/s" --late "$D/late" <"$D/replay" >/dev/null 2>&1
	[ "$(head -n 1000 "$D/late")" = "$(seq 1000)" ]
	[ "$(wc -l <"$D/late")" -eq 1004 ]
	# a device (or a pipe) is left alone
	weir-window "${a[@]}" --state "$D/s2" --late /dev/null <"$D/in" >/dev/null 2>&1
	run weir-window "${a[@]}" --state "$D/s2" --late /dev/null <"$D/replay"
	assert_success
}

@test "restore needs the snapshot, written with the same options" {
	run bash -c "echo '{\"@weir\":\"restore\",\"id\":7}' | weir-window --tumble 5s -t t -a 'count(*)' --state '$D/s'"
	[ "$status" -eq 2 ]
	assert_output "weir-window: no state snapshot 7 in '$D/s' to restore"
	printf '%s\n' '{"t":1}' '{"@weir":"barrier","id":1}' | weir-window --tumble 5s -t t -a 'count(*)' --state "$D/s" >/dev/null
	run bash -c "echo '{\"@weir\":\"restore\",\"id\":1}' | weir-window --tumble 6s -t t -a 'count(*)' --state '$D/s'"
	[ "$status" -eq 2 ]
	assert_output "weir-window: state snapshot 1 in '$D/s' was written with other options (tumble size=5000000us slide=5000000us gap=0us offset=0us emit=append by= aggregates=count(*))"
	echo garbage >"$D/s/snapshot-00000000000000000001.bin"
	run bash -c "echo '{\"@weir\":\"restore\",\"id\":1}' | weir-window --tumble 5s -t t -a 'count(*)' --state '$D/s'"
	[ "$status" -eq 2 ]
	assert_output "weir-window: corrupt state snapshot 1 in '$D/s': no checksum"
	# one byte changed at rest, the count's (last before the checksum):
	# without the checksum the window restored with a count of -2
	printf '%s\n' '{"t":1}' '{"@weir":"barrier","id":1}' | weir-window --tumble 5s -t t -a 'count(*)' --state "$D/s" >/dev/null
	f=$D/s/snapshot-00000000000000000001.bin
	printf '\003' | dd of="$f" bs=1 seek=$(($(stat -c %s "$f") - 9)) conv=notrunc status=none
	run bash -c "echo '{\"@weir\":\"restore\",\"id\":1}' | weir-window --tumble 5s -t t -a 'count(*)' --state '$D/s'"
	[ "$status" -eq 2 ]
	assert_output "weir-window: corrupt state snapshot 1 in '$D/s': checksum mismatch"
}

@test "--max-state fails clearly instead of growing" {
	gen_events 3000 >"$D/ev"
	run bash -c "weir-window --tumble 10s -t t -d 1h -b i -a 'count(*)' --max-state 500 <'$D/ev' >/dev/null"
	[ "$status" -eq 2 ]
	assert_output "weir-window: state limit exceeded: 501 rows held, more than --max-state 500"
	run bash -c "weir-window --tumble 10s -t t -d 1h -b i -a 'count_distinct(s)' --max-state 1M <'$D/ev' >/dev/null"
	[ "$status" -eq 2 ]
	assert_output --partial "bytes held, more than --max-state 1048576"
	# evicted windows leave the state: a short delay stays small
	run bash -c "weir-window --tumble 10s -t t -d 5s -b g -a 'count(*)' --max-state 100 <'$D/ev' >/dev/null"
	assert_success
}

@test "keys of closed windows are kept, swept when many, and come back as one key" {
	# 6000 long keys in even windows, 6000 short ones in odd windows, 100
	# in all: closing a window idles more keys than are swept at once
	awk 'BEGIN { for (w = 0; w < 4; w++) for (r = 0; r < 2; r++) {
		for (i = 0; i < 6000; i++)
			printf "{\"t\":%d,\"k\":\"%s%d\"}\n", w * 10 + r, w % 2 ? "b" : "a-key-long-enough-for-the-heap-", i
		for (i = 0; i < 100; i++)
			printf "{\"t\":%d,\"k\":\"p%d\"}\n", w * 10 + r, i } }' >"$D/ev"
	run bash -c "weir-window --tumble 10s -t t --time-unit s -b k -a 'count(*) AS n' <'$D/ev' |
		jq -r 'select(.n) | \"\\(.window_start) \\(.k) \\(.n)\"' | sort | uniq -c | awk '{ print \$1, \$4 }' | sort | uniq -c"
	assert_success
	assert_output "  24400 1 2"
}

@test "processing time puts every record in the current window" {
	run bash -c "printf '%s\n' '{\"a\":1}' '{\"a\":2}' | weir-window --tumble 1h -t now -a 'count(*) AS n, sum(a) AS s' | jq -c 'select(.n) | [.n, .s]'"
	assert_success
	assert_output '[2,3]'
}

@test "processing time closes windows while the input is quiet" {
	run bash -c "{ echo '{\"a\":1}'; sleep 1.5; } | timeout 10 weir-window --tumble 200ms -t now -a 'count(*) AS n' | head -n 1 | jq .n"
	assert_success
	assert_output 1
}

@test "framed output announces a schema and chains into a second window" {
	printf '%s\n' '{"t":1,"k":"a","x":1.50}' '{"t":2,"k":"a","x":2}' '{"t":7,"k":"b","x":4}' >"$D/in"
	weir-window --framed --tumble 5s -t t --time-unit s -b k -a 'count(*) AS n, sum(x) AS sx, avg(x) AS ax' "$D/in" >"$D/out"
	run grep -ac '"name":"window_start","type":"timestamp","nullable":false' "$D/out"
	assert_output 1
	run grep -ac '"name":"n","type":"long","nullable":false' "$D/out"
	assert_output 1
	run grep -ac '"name":"ax","type":"double","nullable":true' "$D/out"
	assert_output 1
	run bash -c "weir-window --tumble 10s -t window_start -a 'sum(n) AS n, max(window_end) AS last' <'$D/out' | jq -c 'select(.n)'"
	assert_output '{"window_start":"1970-01-01T00:00:00.000000Z","window_end":"1970-01-01T00:00:10.000000Z","n":3,"last":"1970-01-01T00:00:10.000000Z"}'
	WEIR_FRAMED=1 weir-window --tumble 5s -t t --time-unit s -a 'count(*)' "$D/in" | head -c 4 | od -An -c | grep -q 'W   R   1'
}

@test "a sum's framed type follows its typed column, even when the first window's sum is NULL" {
	printf '%s\n' '{"t":1,"k":"a","x":null,"i":null}' '{"t":2,"k":"b","x":2.25,"i":3}' |
		weir-parse -q -s 't BIGINT, k STRING, x DECIMAL(10,2), i INT' --framed >"$D/in"
	weir-window --framed --tumble 5s -t t --time-unit s -b k -a 'sum(x) AS sx, sum(i) AS si' "$D/in" >"$D/out"
	run grep -ac '"name":"sx","type":"decimal(38,2)"' "$D/out"
	assert_output 1
	run grep -ac '"name":"si","type":"long"' "$D/out"
	assert_output 1
	run bash -c "weir-window --tumble 5s -t t --time-unit s -b k -a 'sum(x) AS sx' '$D/in' | jq -c 'select(.k) | [.k, .sx]'"
	assert_output '["a",null]
["b",2.25]'
}

@test "string keys are escaped as JSON wants, at every length around the short ones" {
	printf '%s\n' '{"t":1,"k":"a\"b"}' '{"t":2,"k":"tab\there"}' '{"t":3,"k":"0123456789abcde\\"}' \
		'{"t":4,"k":"ünï"}' '{"t":5,"k":"\u0001x"}' '{"t":6,"k":"0123456789abcdef"}' \
		'{"t":7,"k":"0123456789abcdefg"}' '{"t":8,"k":"\u001f/"}' >"$D/in"
	run bash -c "weir-window --tumble 1h -t t -b k -a 'count(*) AS n' '$D/in' | grep -o '\"k\":.*,'"
	assert_success
	assert_output '"k":"a\"b",
"k":"tab\there",
"k":"0123456789abcde\\",
"k":"ünï",
"k":"\u0001x",
"k":"0123456789abcdef",
"k":"0123456789abcdefg",
"k":"\u001f/",'
}

@test "a full output fails with status 2" {
	run bash -c "echo '{\"t\":1}' | weir-window --tumble 5s -t t -a 'count(*)' >/dev/full"
	[ "$status" -eq 2 ]
}

@test "the man page examples run as printed" {
	cd "$D"
	check_man_examples "$TOP/man/weir-window.1"
	[ "$MAN_EXAMPLES" -eq 5 ]
}

@test "typed input, which takes the short path, gives the rows NDJSON input gives" {
	# out of order by up to 3 s, some records minutes late, keys of every
	# length around the short ones and null, amounts and counts with nulls
	awk 'BEGIN { srand(7); base = 1714521600
		for (i = 0; i < 4000; i++) {
			ms = 300000 + i * 250 + int(rand() * 3000) - (i % 97 == 0 ? 200000 : 0)
			r = rand(); k = r < 0.05 ? "null" : r < 0.1 ? "\"key-" i % 7 "-longer-than-fourteen\"" : "\"k" int(rand() * 30) "\""
			a = rand() < 0.1 ? "null" : sprintf("%.2f", rand() * 1000 - 100)
			c = rand() < 0.1 ? "null" : int(rand() * 50)
			printf "{\"ts\":\"%s.%03dZ\",\"key\":%s,\"amount\":%s,\"c\":%s}\n",
				strftime("%Y-%m-%dT%H:%M:%S", base + int(ms / 1000), 1), ms % 1000, k, a, c
		} }' >"$D/ev"
	# the second half in another field order: a second layout to learn
	head -n 2000 "$D/ev" | weir-parse -q -s 'ts TIMESTAMP NOT NULL, key STRING, amount DECIMAL(12,2), c INT' --framed >"$D/a"
	tail -n 2000 "$D/ev" | weir-parse -q -s 'c INT, amount DECIMAL(12,2), key STRING, ts TIMESTAMP NOT NULL' --framed >"$D/b"
	head -n 2000 "$D/ev" >"$D/na"
	tail -n 2000 "$D/ev" >"$D/nb"
	local agg='count(*) AS n, count(c) AS nc, sum(amount) AS s, avg(c) AS ac, sum(c) AS sc'
	for w in '--tumble 1m -d 5s' '--slide 2m,30s -d 10s' '--tumble 1m --emit complete'; do
		rm -f "$D/late.want" "$D/late.got"
		weir-window $w -t ts -b key -a "$agg" --late "$D/late.want" "$D/na" "$D/nb" >"$D/want" 2>"$D/want.err"
		weir-window $w -t ts -b key -a "$agg" --late "$D/late.got" "$D/a" "$D/b" >"$D/got" 2>"$D/got.err"
		[ "$(grep -vc '@weir' "$D/want")" -gt 100 ]
		diff "$D/want" "$D/got"
		diff "$D/want.err" "$D/got.err"
		touch "$D/late.want" "$D/late.got"
		[ "$(jq -r .key "$D/late.want")" = "$(jq -r .key "$D/late.got")" ]
		late=$((${late:-0} + $(wc -l <"$D/late.want")))
	done
	[ "$late" -gt 0 ]
}

@test "of equal minima the first to come stays, whether sessions merge or not" {
	# 1.0 comes first, in the session at 20 s; 1 opens an earlier session,
	# and the record at 12 s bridges the two
	printf '%s\n' '{"t":20,"k":"a","x":1.0}' '{"t":5,"k":"a","x":1}' '{"t":12,"k":"a","x":5}' >"$D/in"
	run weir-window --session 10s -t t --time-unit s -d 1m -b k -a 'min(x) AS lo, max(x) AS hi, count(*) AS n' "$D/in"
	assert_success
	assert_line --index 0 '{"window_start":"1970-01-01T00:00:05.000000Z","window_end":"1970-01-01T00:00:30.000000Z","k":"a","lo":1.0,"hi":5,"n":3}'
	run weir-window --tumble 1m -t t --time-unit s -d 1m -b k -a 'min(x) AS lo, max(x) AS hi, count(*) AS n' "$D/in"
	assert_line --index 0 '{"window_start":"1970-01-01T00:00:00.000000Z","window_end":"1970-01-01T00:01:00.000000Z","k":"a","lo":1.0,"hi":5,"n":3}'
}

@test "rows written in place stay whole across the writer's flushes, as json_write writes their values" {
	# 8000 rows, about 1 MB: the writer flushes at 256 KiB, after whole
	# lines; keys of every length from 1 to 40, some needing escapes, some
	# numbers; sums negative, below one, past 32 and 64 bits, NULL.  Each
	# key has one record, so its row holds the record's values as
	# weir-parse writes them.
	awk 'BEGIN { for (i = 0; i < 8000; i++) {
			k = substr("abcdefghijklmnopqrstuvwxyz0123456789ABCD", 1, 1 + i % 40)
			k = i % 13 == 0 ? "\"q\\\"" k i "\"" : i % 17 == 0 ? "\"t\\t" k i "\"" : i % 19 == 0 ? i : "\"" k i "\""
			a = i % 11 == 0 ? "null" : i % 7 == 0 ? "\"-0.05\"" : i % 5 == 0 ? "\"" i "9999999999999999.99\"" \
			    : i % 3 == 0 ? "\"" 42949672 + i ".9" i % 10 "\"" : "\"" (i - 4000) "." i % 100 "\""
			printf "{\"ts\":%d,\"key\":%s,\"amount\":%s}\n", i, k, a
		} }' >"$D/in"
	local s='ts BIGINT NOT NULL, key STRING, amount DECIMAL(38,2)'
	weir-parse -q -s "$s" <"$D/in" >"$D/typed"
	weir-parse -q -s "$s" --framed <"$D/in" >"$D/typed.framed"
	sed 's/^{"ts":[0-9]*,\(.*\),"amount":\(.*\)}$/{"window_start":"1970-01-01T00:00:00.000000Z","window_end":"1970-01-01T01:00:00.000000Z",\1,"n":1,"s":\2}/' \
		"$D/typed" >"$D/want"
	echo '{"@weir":"watermark","t":9223372036854775807}' >>"$D/want"
	for f in typed typed.framed; do
		weir-window --tumble 1h -t ts --time-unit ms -b key -a 'count(*) AS n, sum(amount) AS s' "$D/$f" >"$D/rows"
		[ "$(wc -c <"$D/rows")" -gt 900000 ]
		diff "$D/want" "$D/rows"
	done
	grep -qF '{"window_start":"1970-01-01T00:00:00.000000Z","window_end":"1970-01-01T01:00:00.000000Z","key":"q\"a0","n":1,"s":null}' "$D/rows"
	grep -qF '"key":"t\tabcdefghijklmnopqr17","n":1,"s":-3983.17}' "$D/rows"
	grep -qF '"key":"19","n":1,"s":-3981.19}' "$D/rows"
	grep -qF '"key":"abcdefghijklmnopqrstuv21","n":1,"s":-0.05}' "$D/rows"
	grep -qF '"key":"abcdefghijklmnop4815","n":1,"s":48159999999999999999.99}' "$D/rows"
	grep -qF '"key":"abcdefghijklmnopqrstuvwxyz0123456789ABCD6999","n":1,"s":42956671.99}' "$D/rows"
	grep -qF '"key":"abcd7003","n":1,"s":3003.30}' "$D/rows"
}

@test "a framed column typed from a first NULL takes its first value's type, exact sums kept exact" {
	# untyped input whose first window sums only nulls: its sum column is
	# announced DOUBLE; the decimal and the integer past 2^53 that follow
	# must come out as they are, not rounded into that guess
	printf '%s\n' '{"ts":0,"k":"a","x":null}' '{"ts":1500,"k":"a","x":12345678901234567.89}' \
		'{"ts":1600,"k":"a","x":0.01}' '{"ts":2500,"k":"a","x":9007199254740993}' >"$D/in"
	weir-window --framed --tumble 1s -t ts --time-unit ms -b k -a 'sum(x) AS s, max(x) AS hi' "$D/in" >"$D/framed"
	[ "$(grep -ao '"name":"window_start"' "$D/framed" | wc -l)" -eq 2 ]
	run weir-parse -q "$D/framed"
	[ "$status" -eq 0 ]
	[ "${lines[2]}" = '{"window_start":"1970-01-01T00:00:01.000000Z","window_end":"1970-01-01T00:00:02.000000Z","k":"a","s":12345678901234567.90,"hi":12345678901234567.89}' ]
	[ "${lines[4]}" = '{"window_start":"1970-01-01T00:00:02.000000Z","window_end":"1970-01-01T00:00:03.000000Z","k":"a","s":9007199254740993.00,"hi":9007199254740993.00}' ]
	[ "${#lines[@]}" -eq 6 ]
	# sums a double holds faithfully stay doubles under the guess, so that
	# a table made from the first schema frame takes them all
	printf '%s\n' '{"ts":0,"k":"a","x":null}' '{"ts":1500,"k":"a","x":3}' '{"ts":2500,"k":"a","x":4.25}' >"$D/in"
	weir-window --framed --tumble 1s -t ts --time-unit ms -b k -a 'sum(x) AS s' "$D/in" | weir-lake-write "$D/t" >/dev/null
	run weir-lake-cat "$D/t"
	[ "$status" -eq 0 ]
	[ "$(sed 's/.*"s":\([^,}]*\).*/\1/' <<<"$output" | sort | paste -sd' ')" = '3.0 4.25 null' ]
}

@test "framed rows written straight from the state decode to the rows NDJSON output has" {
	# keys short and long (a length of two bytes), escaped, integers,
	# null and true (a new schema each time a key's type changes); sums of
	# decimals past 64 bits, of integers, and an integer where a decimal
	# sum's column stands (written as the column's type)
	awk 'BEGIN { for (i = 0; i < 3000; i++) {
			k = substr("abcdefghijklmnopqrstuvwxyz0123456789", 1, 1 + i % 36)
			k = i % 13 == 0 ? "\"q\\\"" k i "\"" : i % 47 == 0 ? "\"" sprintf("%0150d", i) "\"" : i % 19 == 0 ? i \
			    : i % 23 == 0 ? "null" : i % 31 == 0 ? "true" : i % 37 == 0 ? -i * 1000000007 : "\"" k "\""
			a = i % 11 == 5 ? "null" : i % 5 == 0 ? i + 1 "9999999999999999.99" : i % 41 == 0 ? 7 : sprintf("%d.%02d", i - 1500, i % 100)
			printf "{\"ts\":%d,\"key\":%s,\"amount\":%s,\"c\":%s}\n", i * 100, k, a, i % 7 == 0 ? "9223372036854775807" : i
		} }' >"$D/in"
	# the streams' sums were taken from the general way's output, before
	# rows were written straight: the same bytes, schemas and all
	local a='count(*) AS n, sum(amount) AS s, sum(c) AS sc, count(key) AS nk, max(amount) AS hi'
	for w in '--tumble 1s 83373f3697aaf83013856a595af2830a' '--session 300ms ec185518a42beecce238bbea35b2cce3' \
		'--slide 2s,1s a03832667ad4c1a623eafeb8eff62a88'; do
		set -- $w
		w="$1 $2"
		weir-window --framed $w -t ts --time-unit ms -b key -a "$a" "$D/in" >"$D/framed" 2>"$D/err"
		[ ! -s "$D/err" ]
		[ "$(md5sum <"$D/framed")" = "$3  -" ]
		[ "$(grep -ac '"name":"window_start"' "$D/framed")" -gt 100 ]
		weir-parse -q <"$D/framed" | jq -c . >"$D/got"
		weir-window $w -t ts --time-unit ms -b key -a "$a" "$D/in" | jq -c . >"$D/want"
		[ "$(wc -l <"$D/want")" -gt 1500 ]
		diff "$D/want" "$D/got"
	done
}
