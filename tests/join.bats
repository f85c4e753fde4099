#!/usr/bin/env bats
# weir-join: stream-table enrichment, and stream-stream interval joins with
# Spark's conformance case, outer null timing, eviction, late rows, barrier
# alignment and restore.

load helper
bats_require_minimum_version 1.5.0

setup() {
	T=$(mktemp -d "${BATS_TMPDIR:-/tmp}/join.XXXXXX")
	printf '%s\n' '{"user_id":1,"name":"ann","tier":"gold"}' '{"user_id":2,"name":"bob","tier":"blue"}' \
		'{"user_id":2,"name":"bo","tier":"red"}' '{"user_id":null,"name":"nobody","tier":"x"}' >"$T/users"
	printf '%s\n' '{"id":10,"user_id":1,"url":"/a"}' '{"@weir":"barrier","id":1,"sources":{"e":{"0":1}}}' \
		'{"id":11,"user_id":3,"url":"/b"}' '{"id":12,"user_id":2,"url":"/c"}' '{"id":13,"url":"/d"}' >"$T/events"
}

teardown() {
	# writers into FIFOs that a failed test never opened would block forever
	local p
	for p in $(jobs -p); do
		kill "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}

# side FIELD "20" "" "49 50" ...: rows {"k":1,FIELD:N} of one input, one
# micro-batch per argument, a barrier after each.
side() {
	local field=$1 id=0 b v
	shift
	for b in "$@"; do
		for v in $b; do
			printf '{"k":1,"%s":%s}\n' "$field" "$v"
		done
		id=$((id + 1))
		printf '{"@weir":"barrier","id":%d}\n' "$id"
	done
}

# the first N barriers of a file
prefix() {
	awk -v n="$2" '{print} /"@weir":"barrier"/ && ++b == n {exit}' "$1"
}

stat_of() {
	sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$2"
}

@test "synopsis matches the man page, which lints clean" {
	check_synopsis weir-join
	run mandoc -T lint -W warning "$TOP/man/weir-join.1"
	assert_success
	assert_output ""
}

@test "inner enrichment: one row per table match, in order, barriers forwarded unchanged" {
	run weir-join --right "$T/users" --on user_id <"$T/events"
	assert_success
	assert_output "$(printf '%s\n' '{"id":10,"user_id":1,"url":"/a","name":"ann","tier":"gold"}' \
		'{"@weir":"barrier","id":1,"sources":{"e":{"0":1}}}' \
		'{"id":12,"user_id":2,"url":"/c","name":"bob","tier":"blue"}' \
		'{"id":12,"user_id":2,"url":"/c","name":"bo","tier":"red"}')"
}

@test "left outer enrichment pads records without a match (and null keys) with nulls" {
	run weir-join --right "$T/users" --on user_id --type left <"$T/events"
	assert_success
	assert_output "$(printf '%s\n' '{"id":10,"user_id":1,"url":"/a","name":"ann","tier":"gold"}' \
		'{"@weir":"barrier","id":1,"sources":{"e":{"0":1}}}' \
		'{"id":11,"user_id":3,"url":"/b","name":null,"tier":null}' \
		'{"id":12,"user_id":2,"url":"/c","name":"bob","tier":"blue"}' \
		'{"id":12,"user_id":2,"url":"/c","name":"bo","tier":"red"}' \
		'{"id":13,"url":"/d","name":null,"tier":null}')"
}

@test "semi and anti joins write the stream's records unchanged" {
	run weir-join --right "$T/users" --on user_id --type semi <"$T/events"
	assert_success
	assert_output "$(printf '%s\n' '{"id":10,"user_id":1,"url":"/a"}' '{"@weir":"barrier","id":1,"sources":{"e":{"0":1}}}' \
		'{"id":12,"user_id":2,"url":"/c"}')"
	run weir-join --right "$T/users" --on user_id --type anti <"$T/events"
	assert_success
	assert_output "$(printf '%s\n' '{"@weir":"barrier","id":1,"sources":{"e":{"0":1}}}' \
		'{"id":11,"user_id":3,"url":"/b"}' '{"id":13,"url":"/d"}')"
}

@test "l.a=r.b keys keep both columns; clashing right columns are renamed, --prefix renames all" {
	printf '%s\n' '{"uid":1.0,"name":"x"}' '{"uid":2,"right_name":"taken"}' >"$T/in"
	run weir-join --right "$T/users" --on l.uid=r.user_id <"$T/in"
	assert_success
	assert_output "$(printf '%s\n' '{"uid":1.0,"name":"x","user_id":1,"right_name":"ann","tier":"gold"}' \
		'{"uid":2,"right_name":"taken","user_id":2,"name":"bob","tier":"blue"}' \
		'{"uid":2,"right_name":"taken","user_id":2,"name":"bo","tier":"red"}')"
	printf '%s\n' '{"uid":1,"name":"x","right_name":"y"}' >"$T/in"
	run weir-join --right "$T/users" --on r.user_id=l.uid <"$T/in"
	assert_output '{"uid":1,"name":"x","right_name":"y","user_id":1,"right_right_name":"ann","tier":"gold"}'
	run weir-join --right "$T/users" --on l.uid=r.user_id --prefix u_ <"$T/in"
	assert_output '{"uid":1,"name":"x","right_name":"y","u_user_id":1,"u_name":"ann","u_tier":"gold"}'
}

@test "framed records take the general path and give the same rows" {
	weir-join --right "$T/users" --on user_id --type left <"$T/events" >"$T/ndjson"
	weir-dedup --framed <"$T/events" >"$T/events.framed"
	weir-dedup --framed <"$T/users" >"$T/users.framed"
	run weir-join --right "$T/users.framed" --on user_id --type left <"$T/events.framed"
	assert_success
	assert_output "$(cat "$T/ndjson")"
	weir-join --right "$T/users" --on user_id --type left --framed <"$T/events" | weir-dedup --key id,name >"$T/back"
	assert_equal "$(cat "$T/back")" "$(cat "$T/ndjson")"
}

@test "man page example runs as documented" {
	cd "$T"
	run bash -c "$(sed -n '/^printf .*users.ndjson/,/type left$/p' "$TOP/man/weir-join.1" | sed 's/\\e/\\/g; s/\\-/-/g')"
	assert_success
	assert_output "$(sed -n '/type left$/,/^\.fi/p' "$TOP/man/weir-join.1" | sed '1d;$d')"
}

@test "--refresh reloads a table that was replaced" {
	mkfifo "$T/fifo"
	weir-join --right "$T/users" --on user_id --refresh 100ms <"$T/fifo" >"$T/out" &
	pid=$!
	exec {w}>"$T/fifo"
	echo '{"user_id":1}' >&$w
	sleep 0.3
	echo '{"user_id":1,"name":"anna","tier":"new"}' >"$T/users.new"
	mv "$T/users.new" "$T/users"
	sleep 0.3
	echo '{"user_id":1}' >&$w
	exec {w}>&-
	wait $pid
	assert_equal "$(cat "$T/out")" "$(printf '%s\n' '{"user_id":1,"name":"ann","tier":"gold"}' '{"user_id":1,"name":"anna","tier":"new"}')"
}

@test "a Delta table is a table too: all its columns pad, its schema goes downstream" {
	printf '%s\n' '{"user_id":1,"name":"ann"}' '{"user_id":2,"name":"bob"}' |
		weir-lake-write -s 'user_id BIGINT NOT NULL, name STRING, since DATE' "$T/tbl"
	printf '%s\n' '{"user_id":1,"url":"/a"}' '{"user_id":3,"url":"/c"}' >"$T/in"
	run weir-join --right "$T/tbl" --on user_id --type left <"$T/in"
	assert_success
	assert_output "$(printf '%s\n' '{"user_id":1,"url":"/a","name":"ann","since":null}' \
		'{"user_id":3,"url":"/c","name":null,"since":null}')"
	weir-parse --schema 'user_id BIGINT NOT NULL, url STRING' --framed <"$T/in" 2>/dev/null |
		weir-join --right "$T/tbl" --on user_id --type left --framed | weir-lake-write "$T/out"
	run jq -c '.metaData.schemaString // empty | fromjson | [.fields[] | [.name, .type, .nullable]]' \
		"$T/out/_delta_log/00000000000000000000.json"
	assert_output '[["user_id","long",false],["url","string",true],["name","string",true],["since","date",true]]'
}

@test "--refresh reloads a Delta table that got a new version" {
	echo '{"user_id":1,"name":"ann"}' | weir-lake-write -s 'user_id BIGINT, name STRING' "$T/tbl"
	mkfifo "$T/fifo"
	weir-join --right "$T/tbl" --on user_id --refresh 100ms <"$T/fifo" >"$T/out" &
	pid=$!
	exec {w}>"$T/fifo"
	printf '%s\n' '{"user_id":1}' '{"user_id":2}' >&$w
	sleep 0.3
	echo '{"user_id":2,"name":"bob"}' | weir-lake-write "$T/tbl"
	sleep 0.3
	printf '%s\n' '{"user_id":1}' '{"user_id":2}' >&$w
	exec {w}>&-
	wait $pid
	assert_equal "$(cat "$T/out")" "$(printf '%s\n' '{"user_id":1,"name":"ann"}' '{"user_id":1,"name":"ann"}' \
		'{"user_id":2,"name":"bob"}')"
}

@test "a table written by Spark (fixture) joins" {
	need_fixtures
	printf '%s\n' '{"id":1}' '{"id":2}' '{"id":9}' >"$T/in"
	run weir-join --right "$WEIR_FIXTURES/delta/simple_table" --on id --type semi <"$T/in"
	assert_success
	# the latest snapshot holds ids 5, 7, 9 (delta-expected/simple_table.ndjson)
	assert_output '{"id":9}'
	run weir-join --right "$WEIR_FIXTURES/delta/simple_table" --on id --type anti <"$T/in"
	assert_output "$(printf '%s\n' '{"id":1}' '{"id":2}')"
}

@test "bad records in the table or the stream are reported and make the status 1" {
	printf '%s\n' '{"user_id":1,"name":"ann"}' 'oops' >"$T/bad"
	printf '%s\n' '{"user_id":1}' '[]' >"$T/in"
	run --separate-stderr weir-join --right "$T/bad" --on user_id <"$T/in"
	assert_failure 1
	assert_output '{"user_id":1,"name":"ann"}'
	[[ ${stderr_lines[0]} == "weir-join: bad record 2 in '$T/bad': "* ]]
	[[ ${stderr_lines[1]} == "weir-join: bad record 2 in '<stdin>': record is not a JSON object" ]]
}

# ---- stream-stream ----

@test "Spark StreamingInnerJoinSuite: time range with watermark, two side conditions" {
	# L delay 20 s, R delay 30 s, leftTime BETWEEN rightTime - 10s AND rightTime + 5s
	side lt 20 "" "" "49 50 65 66" "30 31" "" "" >"$T/left"
	side rt "" "14 15 25 26 30 31" 60 "" "" 80 "46 50" >"$T/right"
	args=(--on k --between 'l.lt BETWEEN r.rt - 10s AND r.rt + 5s' --time-unit s --left-delay 20s --right-delay 30s
		--advance barrier)
	run --separate-stderr weir-join --right-stream "$T/right" "${args[@]}" --late "$T/late" --stats <"$T/left"
	assert_success
	assert_output "$(printf '%s\n' '{"@weir":"barrier","id":1}' \
		'{"k":1,"lt":20,"rt":15}' '{"k":1,"lt":20,"rt":25}' '{"k":1,"lt":20,"rt":26}' '{"k":1,"lt":20,"rt":30}' \
		'{"@weir":"watermark","t":0}' '{"@weir":"barrier","id":2}' '{"@weir":"barrier","id":3}' \
		'{"k":1,"lt":50,"rt":60}' '{"k":1,"lt":65,"rt":60}' \
		'{"@weir":"watermark","t":30000000}' '{"@weir":"barrier","id":4}' \
		'{"k":1,"lt":31,"rt":26}' '{"k":1,"lt":31,"rt":30}' '{"k":1,"lt":31,"rt":31}' '{"@weir":"barrier","id":5}' \
		'{"@weir":"watermark","t":46000000}' '{"@weir":"barrier","id":6}' \
		'{"k":1,"lt":49,"rt":50}' '{"k":1,"lt":50,"rt":50}' '{"@weir":"barrier","id":7}')"
	# L30 and R46 are late
	assert_equal "$(cat "$T/late")" "$(printf '%s\n' '{"k":1,"lt":30}' '{"k":1,"rt":46}')"
	[[ $stderr == *" late=2 "* ]]
	# state after batch 4: left evicts < 20 (none), right < 25 (14, 15): 10 rows;
	# after batch 6: left evicts < 36, right < 41: 6 rows
	local n want=([4]=10 [6]=6)
	for n in 4 6; do
		prefix "$T/left" $n >"$T/l$n"
		prefix "$T/right" $n >"$T/r$n"
		run --separate-stderr weir-join --right-stream "$T/r$n" "${args[@]}" --no-flush --stats <"$T/l$n"
		assert_success
		assert_equal "$(stat_of state_rows "$stderr")" "${want[n]}"
	done
}

@test "the same case with the watermark moving per record gives the same pairs" {
	side lt 20 "" "" "49 50 65 66" "30 31" "" "" >"$T/left"
	side rt "" "14 15 25 26 30 31" 60 "" "" 80 "46 50" >"$T/right"
	run weir-join --right-stream "$T/right" --on k --between 'r.rt - 10s AND r.rt + 5s' --time lt --time-unit s \
		--left-delay 20s --right-delay 30s <"$T/left"
	assert_success
	assert_equal "$(grep -v '"@weir"' <<<"$output")" "$(printf '%s\n' \
		'{"k":1,"lt":20,"rt":15}' '{"k":1,"lt":20,"rt":25}' '{"k":1,"lt":20,"rt":26}' '{"k":1,"lt":20,"rt":30}' \
		'{"k":1,"lt":50,"rt":60}' '{"k":1,"lt":65,"rt":60}' \
		'{"k":1,"lt":31,"rt":26}' '{"k":1,"lt":31,"rt":30}' '{"k":1,"lt":31,"rt":31}' \
		'{"k":1,"lt":49,"rt":50}' '{"k":1,"lt":50,"rt":50}')"
}

@test "every form of --between says the same" {
	side t 20 "" "" "49 50 65 66" "30 31" "" "" >"$T/left"
	side t "" "14 15 25 26 30 31" 60 "" "" 80 "46 50" >"$T/right"
	common=(--right-stream "$T/right" --on k --time-unit s --left-delay 20s --right-delay 30s --advance barrier)
	want=$(weir-join "${common[@]}" --between 'l.t BETWEEN r.t - 10s AND r.t + 5s' <"$T/left")
	[ -n "$want" ]
	for b in 'r.t - 10s AND r.t + 5s' 'r.t-10s and r.t+5s' 'r.t BETWEEN l.t - 5s AND l.t + 10s' \
		'r.t between l.t-5000ms and l.t+0.1666666666667m'; do
		run weir-join "${common[@]}" --between "$b" <"$T/left"
		assert_success
		assert_output "$want"
	done
}

@test "outer joins write a row without partner when the watermark evicts it" {
	# between r.t - 5s AND r.t + 5s, no delays, micro-batches:
	#  1: L k1@10, L k2@10   2: R k2@12 (pairs with L k2)   3: R k3@20
	#  wm after 2 = min(10, 12) = 10: left evicts t < 5, nothing
	#  4: L k4@40: wm = min(40, 20) = 20: left evicts t < 15: k1@10 (no partner:
	#     a null row) and k2@10 (matched: dropped); right evicts t < 15: k2@12
	#  end: wm +inf: k4@40 (left) and k3@20 (right) are left without partner
	printf '%s\n' '{"k":1,"t":10}' '{"k":2,"t":10}' '{"@weir":"barrier","id":1}' '{"@weir":"barrier","id":2}' \
		'{"@weir":"barrier","id":3}' '{"k":4,"t":40}' '{"@weir":"barrier","id":4}' >"$T/left"
	printf '%s\n' '{"@weir":"barrier","id":1}' '{"k":2,"t":12,"r":"x"}' '{"@weir":"barrier","id":2}' \
		'{"k":3,"t":20,"r":"y"}' '{"@weir":"barrier","id":3}' '{"@weir":"barrier","id":4}' >"$T/right"
	args=(--right-stream "$T/right" --on k --between 'r.t - 5s AND r.t + 5s' --time-unit s --advance barrier)
	run weir-join "${args[@]}" --type left <"$T/left"
	assert_success
	assert_output "$(printf '%s\n' '{"@weir":"barrier","id":1}' '{"k":2,"t":10,"right_t":12,"r":"x"}' \
		'{"@weir":"watermark","t":10000000}' '{"@weir":"barrier","id":2}' '{"@weir":"barrier","id":3}' \
		'{"k":1,"t":10,"right_t":null,"r":null}' '{"@weir":"watermark","t":20000000}' '{"@weir":"barrier","id":4}' \
		'{"k":4,"t":40,"right_t":null,"r":null}')"
	run weir-join "${args[@]}" --type right <"$T/left"
	assert_success
	assert_output "$(printf '%s\n' '{"@weir":"barrier","id":1}' '{"k":2,"t":10,"right_t":12,"r":"x"}' \
		'{"@weir":"watermark","t":10000000}' '{"@weir":"barrier","id":2}' '{"@weir":"barrier","id":3}' \
		'{"@weir":"watermark","t":20000000}' '{"@weir":"barrier","id":4}' \
		'{"k":3,"t":null,"right_t":20,"r":"y"}')"
	# (which input ends first decides the order of the last two)
	run weir-join "${args[@]}" --type full <"$T/left"
	assert_success
	assert_equal "$(grep -v '"@weir"' <<<"$output" | sort)" "$(printf '%s\n' '{"k":2,"t":10,"right_t":12,"r":"x"}' \
		'{"k":1,"t":10,"right_t":null,"r":null}' '{"k":4,"t":40,"right_t":null,"r":null}' \
		'{"k":3,"t":null,"right_t":20,"r":"y"}' | sort)"
	# semi: left rows with a partner, once; anti: those evicted without one
	run weir-join "${args[@]}" --type semi <"$T/left"
	assert_equal "$(grep -v '"@weir"' <<<"$output")" '{"k":2,"t":10}'
	run weir-join "${args[@]}" --type anti <"$T/left"
	assert_equal "$(grep -v '"@weir"' <<<"$output")" "$(printf '%s\n' '{"k":1,"t":10}' '{"k":4,"t":40}')"
	# --no-flush: nothing is evicted at the end
	run weir-join "${args[@]}" --type full --no-flush <"$T/left"
	assert_equal "$(grep -v '"@weir"' <<<"$output")" "$(printf '%s\n' '{"k":2,"t":10,"right_t":12,"r":"x"}' \
		'{"k":1,"t":10,"right_t":null,"r":null}')"
}

@test "the null row waits exactly until the watermark passes time + bound" {
	# left outer, left within [r.t, r.t + 10s] (lo = 0), delays 0, per record:
	# L k1@100 is evicted when wm > 100, i.e. once both inputs are past 100;
	# at wm 100 (batch 2) it stays (Spark's strict bound).
	printf '%s\n' '{"k":1,"t":100}' '{"@weir":"barrier","id":1}' '{"@weir":"barrier","id":2}' \
		'{"k":9,"t":101}' '{"@weir":"barrier","id":3}' >"$T/left"
	printf '%s\n' '{"@weir":"barrier","id":1}' '{"k":8,"t":100}' '{"@weir":"barrier","id":2}' \
		'{"k":8,"t":101}' '{"@weir":"barrier","id":3}' >"$T/right"
	run weir-join --right-stream "$T/right" --on k --between 'r.t AND r.t + 10s' --time-unit s --type left \
		--no-flush <"$T/left"
	assert_success
	assert_output "$(printf '%s\n' '{"@weir":"barrier","id":1}' '{"@weir":"watermark","t":100000000}' \
		'{"@weir":"barrier","id":2}' '{"k":1,"t":100,"right_t":null}' '{"@weir":"watermark","t":101000000}' \
		'{"@weir":"barrier","id":3}')"
}

@test "late rows are dropped and counted; rows past their bound are not stored" {
	# wm 50 after barrier 1 (both inputs at 50, delay 0): t=50 is late.  With
	# left within [r.t + 10s, r.t + 20s], left rows before wm + 10 = 60 can
	# meet no future right row: L k1@50 is evicted (its null row comes at
	# once), and L k2@55, not late, can still meet R k2@40 in state but is not
	# stored; L k3@55 meets nothing and its null row comes at once.
	printf '%s\n' '{"k":1,"t":50}' '{"@weir":"barrier","id":1}' '{"k":1,"t":50}' '{"k":2,"t":55}' \
		'{"k":3,"t":55}' >"$T/left"
	printf '%s\n' '{"k":2,"t":40}' '{"k":9,"t":50}' '{"@weir":"barrier","id":1}' '{"k":1,"t":51}' >"$T/right"
	run --separate-stderr weir-join --right-stream "$T/right" --on k --between 'r.t + 10s AND r.t + 20s' \
		--time-unit s --type left --late "$T/late" --stats --no-flush <"$T/left"
	assert_success
	assert_equal "$(grep -v '"@weir"' <<<"$output")" "$(printf '%s\n' '{"k":1,"t":50,"right_t":null}' \
		'{"k":2,"t":55,"right_t":40}' '{"k":3,"t":55,"right_t":null}')"
	assert_equal "$(cat "$T/late")" '{"k":1,"t":50}'
	[[ $stderr == *" late=1 "* ]]
	# no left row is held; the three right rows are (R k2@40 until wm 60)
	[[ $stderr == *" state_rows=3 "* ]]
}

@test "state stays bounded by the watermark over many rows" {
	awk 'BEGIN { for (i = 0; i < 20000; i++) printf "{\"k\":%d,\"t\":%d}\n", i % 100, i }' >"$T/left"
	awk 'BEGIN { for (i = 0; i < 20000; i++) printf "{\"k\":%d,\"t\":%d,\"v\":%d}\n", i % 100, i + 3, i }' >"$T/right"
	run --separate-stderr weir-join --right-stream "$T/right" --on k --between 'r.t - 50ms AND r.t + 50ms' \
		--delay 10ms --stats --no-flush <"$T/left"
	assert_success
	# same k and |i - (j + 3)| <= 50 ms: j = i, so one pair per row
	[ "${#lines[@]}" -eq 20000 ]
	# rows live about 60 ms of event time: some 130 rows on both sides
	peak=$(stat_of peak_rows "$stderr")
	[ "$peak" -lt 300 ]
}

@test "barriers align: an input that delivered barrier N waits for the other" {
	# The left row after barrier 1 must meet the right row before it only
	# after barrier 1 is forwarded, however early the left input has it.
	mkfifo "$T/r"
	printf '%s\n' '{"k":1,"t":1}' '{"@weir":"barrier","id":1,"sources":{"a":{"0":5}}}' '{"k":2,"t":2}' >"$T/left"
	{
		sleep 0.3
		printf '%s\n' '{"k":2,"t":2,"x":"r"}' '{"@weir":"barrier","id":1,"sources":{"b":{"0":7},"a":{"1":3}}}'
	} >"$T/r" &
	run weir-join --right-stream "$T/r" --on k --between 'r.t - 1s AND r.t + 1s' --time-unit s <"$T/left"
	assert_success
	assert_output "$(printf '%s\n' '{"@weir":"watermark","t":1000000}' \
		'{"@weir":"barrier","id":1,"sources":{"a":{"0":5,"1":3},"b":{"0":7}}}' '{"k":2,"t":2,"right_t":2,"x":"r"}')"
}

@test "--max-drift stops reading an input that runs ahead of the other" {
	# the right input sends t=1, then nothing for a while; the left one sends
	# everything at once after the right's first row, and is read to its end
	# meanwhile unless held back
	awk 'BEGIN { for (i = 1; i <= 60; i++) printf "{\"k\":%d,\"t\":%d}\n", i, i }' >"$T/left"
	mkfifo "$T/l1" "$T/l2" "$T/r1" "$T/r2"
	for f in 1 2; do
		{
			echo '{"k":0,"t":1}'
			sleep 0.8
			awk 'BEGIN { for (i = 2; i <= 60; i++) printf "{\"k\":%d,\"t\":%d}\n", 1000 + i, i }'
		} >"$T/r$f" &
		{
			sleep 0.3
			cat "$T/left"
		} >"$T/l$f" &
	done
	run --separate-stderr weir-join --left-stream "$T/l1" --right-stream "$T/r1" --on k \
		--between 'r.t - 1s AND r.t + 1s' --time-unit s --stats --no-flush
	assert_success
	[ "$(stat_of peak_rows "$stderr")" -ge 60 ]
	run --separate-stderr weir-join --left-stream "$T/l2" --right-stream "$T/r2" --on k \
		--between 'r.t - 1s AND r.t + 1s' --time-unit s --stats --no-flush --max-drift 5s
	assert_success
	[ "$(stat_of peak_rows "$stderr")" -le 15 ]
}

@test "two named FIFOs work as inputs" {
	mkfifo "$T/l" "$T/r"
	printf '%s\n' '{"k":1,"t":5}' '{"k":2,"t":6}' >"$T/l" &
	printf '%s\n' '{"k":2,"t":7,"x":1}' >"$T/r" &
	run weir-join --left-stream "$T/l" --right-stream "$T/r" --on k --between 'r.t - 5s AND r.t + 5s' --time-unit s
	assert_success
	assert_output '{"k":2,"t":6,"right_t":7,"x":1}'
}

@test "barriers out of step on the two inputs are an error" {
	printf '%s\n' '{"@weir":"barrier","id":1}' >"$T/left"
	printf '%s\n' '{"@weir":"barrier","id":2}' >"$T/right"
	run --separate-stderr weir-join --right-stream "$T/right" --on k --between 'r.t AND r.t' <"$T/left"
	assert_failure 2
	[[ $stderr == "weir-join: barriers out of step: "* ]]
}

@test "state is snapshotted on barriers and restored on restore" {
	printf '%s\n' '{"k":1,"t":10}' '{"@weir":"barrier","id":1}' '{"k":2,"t":11}' '{"@weir":"barrier","id":2}' \
		'{"k":3,"t":12}' >"$T/left"
	printf '%s\n' '{"@weir":"barrier","id":1}' '{"@weir":"barrier","id":2}' >"$T/right"
	args=(--on k --between 'r.t - 10s AND r.t + 10s' --time-unit s --type left --state "$T/st")
	run weir-join --right-stream "$T/right" "${args[@]}" --no-flush <"$T/left"
	assert_success
	run ls "$T/st"
	assert_output "$(printf '%s\n' snapshot-00000000000000000001.bin snapshot-00000000000000000002.bin)"
	# restart from barrier 1: k1 is in state, k2 and k3 come again
	printf '%s\n' '{"@weir":"restore","id":1}' '{"k":2,"t":11}' >"$T/left2"
	printf '%s\n' '{"@weir":"restore","id":1}' '{"k":2,"t":14,"x":"b"}' '{"k":1,"t":15,"x":"late partner"}' >"$T/right2"
	run weir-join --right-stream "$T/right2" "${args[@]}" <"$T/left2"
	assert_success
	assert_equal "$(grep -v '"@weir"' <<<"$output" | sort)" "$(printf '%s\n' '{"k":1,"t":10,"right_t":15,"x":"late partner"}' \
		'{"k":2,"t":11,"right_t":14,"x":"b"}' | sort)"
	assert_equal "$(grep -c '"restore"' <<<"$output")" 1
	run ls "$T/st"
	assert_output snapshot-00000000000000000001.bin
	# a restore of another id on the other input is an error
	printf '%s\n' '{"@weir":"restore","id":2}' >"$T/right3"
	run --separate-stderr weir-join --right-stream "$T/right3" "${args[@]}" <"$T/left2"
	assert_failure 2
}

@test "a restore cuts the late-record file back to its barrier: each late row once" {
	side lt 20 "" "" "49 50 65 66" "30 31" "" "" >"$T/left"
	side rt "" "14 15 25 26 30 31" 60 "" "" 80 "46 50" >"$T/right"
	args=(--on k --between 'l.lt BETWEEN r.rt - 10s AND r.rt + 5s' --time-unit s --left-delay 20s --right-delay 30s
		--advance barrier --state "$T/st" --late "$T/late")
	weir-join --right-stream "$T/right" "${args[@]}" <"$T/left" >/dev/null
	# a restart from barrier 3 (L30 and R46, late, come after it)
	local f
	for f in left right; do
		{ echo '{"@weir":"restore","id":3}'; awk 'p; /"barrier","id":3}/ { p = 1 }' "$T/$f"; } >"$T/$f.3"
	done
	run weir-join --right-stream "$T/right.3" "${args[@]}" <"$T/left.3"
	assert_success
	assert_equal "$(cat "$T/late")" "$(printf '%s\n' '{"k":1,"lt":30}' '{"k":1,"rt":46}')"
}

@test "restore keeps outer rows: a row held at the snapshot still gets its null row" {
	printf '%s\n' '{"k":1,"t":10}' '{"@weir":"barrier","id":1}' >"$T/left"
	printf '%s\n' '{"@weir":"barrier","id":1}' >"$T/right"
	args=(--on k --between 'r.t AND r.t' --time-unit s --type left --state "$T/st")
	weir-join --right-stream "$T/right" "${args[@]}" --no-flush <"$T/left" >/dev/null
	printf '%s\n' '{"@weir":"restore","id":1}' >"$T/left2"
	printf '%s\n' '{"@weir":"restore","id":1}' >"$T/right2"
	run weir-join --right-stream "$T/right2" "${args[@]}" <"$T/left2"
	assert_success
	# (the right input has sent no row, so the null row has no right columns)
	assert_output "$(printf '%s\n' '{"@weir":"restore","id":1}' '{"k":1,"t":10}')"
}

@test "usage errors exit 2" {
	run weir-join --on k
	assert_failure 2
	run weir-join --right "$T/users" --right-stream "$T/users" --on k
	assert_failure 2
	run weir-join --right "$T/users" --on user_id --type full
	assert_failure 2
	run weir-join --right "$T/users" --on user_id --between 'r.t AND r.t'
	assert_failure 2
	run weir-join --right-stream "$T/users" --on k
	assert_failure 2
	run weir-join --right "$T/users" --on 'a=b'
	assert_failure 2
	run weir-join --right "$T/users" --on 'l.a=l.b'
	assert_failure 2
	run weir-join --right "$T/users" --on user_id --type sideways
	assert_failure 2
	for b in 'r.t + 5s AND r.t - 5s' 'r.t - 5s AND r.u + 5s' 'l.t BETWEEN l.t AND l.t' 'r.t - 5 parsecs AND r.t' \
		'x.t AND r.t' 'r.t AND' 'r.t AND r.t trailing'; do
		run --separate-stderr weir-join --right-stream "$T/users" --on k --between "$b"
		assert_failure 2
		[[ $stderr == "weir-join: invalid --between: "* ]]
	done
	run weir-join --right "$T/users" --on user_id --prefix ''
	assert_failure 2
	run weir-join --right /nonexistent --on k </dev/null
	assert_failure 2
}

@test "--max-state fails clearly instead of growing, for a table and for stream state" {
	awk 'BEGIN { for (i = 0; i < 20000; i++) printf "{\"k\":%d,\"v\":\"%060d\"}\n", i, i }' >"$T/big"
	run --separate-stderr weir-join --right "$T/big" --on k --max-state 1M </dev/null
	assert_failure 2
	assert_equal "$stderr" "weir-join: table '$T/big' exceeds --max-state"
	# a right input that sends nothing holds the watermark: every left row stays
	awk 'BEGIN { for (i = 0; i < 20000; i++) printf "{\"k\":%d,\"t\":%d}\n", i, i }' >"$T/left"
	mkfifo "$T/quiet"
	sleep 60 >"$T/quiet" 3>&- &
	run --separate-stderr weir-join --right-stream "$T/quiet" --on k --between 'r.t AND r.t' --max-state 1M <"$T/left"
	assert_failure 2
	[[ $stderr == "weir-join: state exceeds --max-state: "* ]]
}

@test "write errors exit 2" {
	run bash -c "weir-join --right '$T/users' --on user_id <'$T/events' >/dev/full"
	assert_failure 2
}
