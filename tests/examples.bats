#!/usr/bin/env bats
# Every script in examples/ runs here, on its small built-in data, and what it
# prints and writes is checked: the numbers a reader would look at, and the
# tables against what the input implies (counted with jq or awk, not weir).

load helper
bats_require_minimum_version 1.5.0

setup() {
	D=$BATS_TEST_TMPDIR/work
}

@test "every example is tested here" {
	local e
	for e in "$TOP"/examples/*.sh; do
		e=$(basename "$e")
		[ "$e" = common.sh ] && continue
		grep -q "examples/$e" "$BATS_TEST_FILENAME" || fail "examples/$e has no test"
		# line 2 says in one sentence what it is (make demo lists them so)
		sed -n 2p "$TOP/examples/$e" | grep -q '^# [A-Z].*\.$' || fail "examples/$e has no one-line summary"
		sed -n 3p "$TOP/examples/$e" | grep -q '^#$' || fail "examples/$e: the summary is not one line"
	done
}

@test "examples refuse a work directory that is not empty" {
	mkdir -p "$D" && touch "$D/x"
	run sh "$TOP/examples/iot-sensors.sh" "$D"
	[ "$status" -eq 2 ]
	[[ $output == *"'$D' is not empty"* ]]
}

@test "examples/iot-sensors.sh: late backlog to late.ndjson, broken readings to dead.ndjson" {
	run sh "$TOP/examples/iot-sensors.sh" "$D"
	[ "$status" -eq 0 ] || fail "$output"
	assert_line "121 readings, e.g.:"
	assert_line "table lake/sensor_1m: 28 rows"
	# the freezer's minutes: 10:03 and 10:04 lost to the outage, the rest full
	assert_output --partial "$(printf '10:02\tfreezer-1\t4\t-17.83\t-18.3\t-17.5\n10:05\tfreezer-1\t4\t-17.95\t-18.3\t-17.6')"
	assert_line "8 late readings, from 2024-05-01T10:03:00.000000Z to 2024-05-01T10:04:45.000000Z"
	assert_line 'line 26: not a number: "E04" (temp_c)'
	assert_line "line 55: missing required field (sensor)"
	assert_line "line 98: truncated object"
	assert_line "weir-window: 8 late records dropped"
	# nothing lost: every reading is in the table, late, or dead
	local in_table
	in_table=$(weir-lake-cat "$D/lake/sensor_1m" | jq -s 'map(.readings) | add')
	[ "$in_table" -eq $((121 - 8 - 3)) ]
	# per-sensor averages over the on-time readings, computed by jq alone
	run diff <(weir-lake-cat "$D/lake/sensor_1m" |
			jq -r '[.sensor, .window_start[11:16], .readings, (.avg_c * 1e6 | round)] | @tsv' | sort) \
		<(jq -R 'fromjson? // empty' "$D/readings.ndjson" |
			jq -s --slurpfile late "$D/late.ndjson" -r '
				($late | map(.sensor + " " + .ts[0:19])) as $l
				| map(select(.sensor and (.temp_c | type) == "number"))
				| map(. + {iso: (.ts / 1000 | todate)})
				| map(select((.sensor + " " + .iso[0:19]) as $k | $l | index($k) | not))
				| group_by([.sensor, .iso[11:16]])[]
				| [.[0].sensor, .[0].iso[11:16], length, (map(.temp_c) | add / length * 1e6 | round)] | @tsv' |
			sort)
	[ "$status" -eq 0 ] || fail "table differs from jq's averages: $output"
}

@test "examples/debug-table.sh: history, time travel, diff, one commit's rows, file statistics" {
	run sh "$TOP/examples/debug-table.sh" "$D"
	[ "$status" -eq 0 ] || fail "$output"
	assert_line "$(printf "2\tWRITE\tOverwrite\trows=2\tremoved_files=1\tday = '2024-05-01'")"
	assert_line "$(printf '1\tWRITE\tAppend\trows=1\tremoved_files=0\t')"
	assert_line "$(printf '0\tWRITE\tAppend\trows=2\tremoved_files=0\t')"
	assert_line '{"version":2,"schema":"order_id BIGINT NOT NULL, day DATE, country STRING, amount DECIMAL(10,2)","partitionColumns":["day"],"numFiles":2}'
	assert_output --partial '== 4. time travel: the table as of version 1
{"order_id":1,"day":"2024-05-01","country":"DE","amount":10.50}
{"order_id":2,"day":"2024-05-01","country":"FR","amount":20.00}
{"order_id":3,"day":"2024-05-02","country":"DE","amount":30.00}
'
	assert_output --partial '== 5. diff of version 1 and version 2 (- gone, + new)
- {"order_id":2,"day":"2024-05-01","country":"FR","amount":20.00}
+ {"order_id":4,"day":"2024-05-01","country":"NL","amount":5.25}
'
	assert_line '{"order_id":4,"day":"2024-05-01","country":"NL","amount":5.25}'
	assert_line --regexp '^\{"remove":"day=2024-05-01/part-[0-9a-f-]+-c000\.zstd\.parquet"\}$'
	assert_line --regexp '^\{"add":"day=2024-05-01/part-[0-9a-f-]+-c000\.zstd\.parquet"\}$'
	assert_line '{"rows":1,"columns":{"order_id":{"min":3,"max":3},"country":{"min":"DE","max":"DE"},"amount":{"min":30,"max":30}}}'
	# the diff the recipe prints is the real one: the table now holds 1, 3, 4
	run weir-lake-cat "$D/lake/orders"
	[ "$(jq -s -c 'map(.order_id) | sort' <<<"$output")" = "[1,3,4]" ]
}

# The sample data examples/medallion.sh produces, as gen-events writes it.
medallion_events() {
	"$TOP/scripts/gen-events" -n 20000 --rate 50 --users 500 --dup 0.03 --late 0.02 --lateness 180 --bad 0.005
}

@test "examples/medallion.sh: bronze keeps every message, silver the distinct good events, gold their closed windows, across a resume" {
	run sh "$TOP/examples/medallion.sh" "$D"
	[ "$status" -eq 0 ] || fail "$output"
	local addr
	addr=$(sed -n 's/^produced to clicks at //p' <<<"$output")
	[ -n "$addr" ]
	medallion_events >"$BATS_TEST_TMPDIR/events"
	# what the events imply, counted by jq: good events parse, the rest are dead letters
	jq -R -c 'fromjson? // "bad" | if type == "object" and (.user_id | type) == "number" and .ts != "yesterday" then . else "bad" end' \
		"$BATS_TEST_TMPDIR/events" >"$BATS_TEST_TMPDIR/typed"
	local dead distinct late first
	dead=$(grep -c '^"bad"$' "$BATS_TEST_TMPDIR/typed")
	distinct=$(grep -v '^"bad"$' "$BATS_TEST_TMPDIR/typed" | jq -r .event_id | sort -u | wc -l)
	first=$(head -n 12000 "$BATS_TEST_TMPDIR/typed" | grep -v '^"bad"$' | jq -r .event_id | sort -u | wc -l)
	late=$(wc -l <"$D/late.ndjson")
	# the first run, then the second going on from where the first stopped
	assert_line "bronze: 12000 messages"
	assert_line --regexp "^silver: $first distinct events, [0-9]+ dead letters\$"
	assert_line "bronze: 20000 messages"
	assert_line "silver: $distinct distinct events, $dead dead letters"
	assert_line "gold:   15 rows (minute x device), $late late events"
	[ "$late" -gt 50 ] && [ "$dead" -gt 50 ] || fail "the sample has too few late ($late) or dead ($dead) events"
	# both runs' late records are in the file, each once
	[ "$(sed -n 's/^weir-window: \([0-9]*\) late records dropped$/\1/p' <<<"$output" | paste -sd+ | bc)" -eq "$late" ]
	[ "$(jq -r .event_id "$D/late.ndjson" | sort | uniq -d | wc -l)" -eq 0 ]
	assert_line --regexp '^00:04   web +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+\.[0-9][0-9]$'
	for l in bronze silver gold; do
		assert_line --regexp "^$l +[0-9]+ +[0-9.]+ +20000 +20000 +0\$"
	done
	# gold equals jq's aggregation of the distinct good events that were not
	# late, over the minutes the final watermark (latest event - 1m) closed
	run diff <(weir-lake-cat "$D/lake/gold" |
			jq -r '[.window_start[11:16], .device, .events, .users, .purchases, (.revenue * 100 | round)] | @tsv' | sort) \
		<(grep -v '^"bad"$' "$BATS_TEST_TMPDIR/typed" |
			jq -s -r --slurpfile late "$D/late.ndjson" '
				def secs: (.[0:2] | tonumber) * 3600 + (.[3:5] | tonumber) * 60 + (.[6:] | sub("Z$"; "") | tonumber);
				($late | map({(.event_id): true}) | add) as $l
				| unique_by(.event_id) | (map(.ts[11:] | secs) | max) as $max
				| map(select($l[.event_id] | not))
				| group_by([.ts[11:16], .device])[]
				| select((.[0].ts[11:16] + ":00" | secs) + 120 <= $max)
				| [.[0].ts[11:16], .[0].device, length, (map(.user_id) | unique | length),
				   (map(select(.amount != null)) | length), (map(.amount // 0) | add * 100 | round)] | @tsv' | sort)
	[ "$status" -eq 0 ] || fail "gold differs from jq's aggregation: $output"
	# the broker is gone: its address refuses connections
	run bash -c "exec 3<>/dev/tcp/${addr%:*}/${addr##*:}"
	assert_failure
}

@test "make demo: scripts/demo.sh shows the pipeline, the gold table and the lag, and lists the examples" {
	run env TMPDIR="$BATS_TEST_TMPDIR" sh "$TOP/scripts/demo.sh"
	[ "$status" -eq 0 ] || fail "$output"
	assert_line "weir demo: clickstream from Kafka into bronze, silver and gold Delta tables"
	assert_line "$(printf "\tweir-lake-write --schema \"\$GOLD\" --app-id gold lake/gold >/dev/null")"
	assert_line "bronze: 20000 messages"
	assert_line --regexp '^minute +device +events +users +purchases +revenue$'
	assert_line --regexp '^layer +version +committed \(s ago\) +offsets +end +lag$'
	assert_line --regexp '^gold +[0-9]+ +[0-9.]+ +20000 +20000 +0$'
	assert_line 'weir-ingest -C -b $K -t clicks -e --ordered --checkpoint-interval 1s \'
	assert_line "$(printf '\t--resume-from lake/gold --app-id gold |')"
	assert_line "tables are in $BATS_TEST_TMPDIR/weir-demo/lake"
	assert_line --regexp '^  iot-sensors\.sh +IoT sensor averages, with late data and a dead-letter file\.$'
	[ -d "$BATS_TEST_TMPDIR/weir-demo/lake/gold/_delta_log" ]
}

@test "examples/backfill.sh: the missing hours come back from the archive, once, as jq counts them" {
	run sh "$TOP/examples/backfill.sh" "$D"
	[ "$status" -eq 0 ] || fail "$output"
	assert_line "  dumps/clicks-2024-01-01T05.ndjson"
	assert_line "00:00 4  01:00 4  04:00 4  05:00 4  "
	assert_line "00:00 4  01:00 4  02:00 4  03:00 4  04:00 4  05:00 4  "
	assert_line "one commit, version 2: window_start >= TIMESTAMP '2024-01-01T02:00:00Z' AND window_start < TIMESTAMP '2024-01-01T04:00:00Z', 0 files replaced"
	assert_line "version 3 has the same 24 rows as version 2"
	assert_line "all 8 rows of 02:00-04:00 built from the .ndjson.gz are in the table as they are"
	# the backfilled hours, computed from the dumps by jq alone
	run diff <(sed -n '/== 6\./,/^$/p' <<<"$output" | sed '1d;/^$/d') \
		<(jq -r '.value | fromjson' "$D/day.ndjson" | jq -s -r '
			unique_by(.event_id) | map(select(.ts >= "2024-01-01T02" and .ts < "2024-01-01T04"))
			| group_by([.ts[11:13], .action])[]
			| [.[0].ts[11:13] + ":00", .[0].action, length, (map(.user_id) | unique | length),
			   (map(.amount // 0) | add)] | @tsv' | sort |
			awk -F '\t' '{ printf "%s  %-12s %6d %6d %10s\n", $1, $2, $3, $4, $5 == 0 ? "" : sprintf("%.2f", $5) }')
	[ "$status" -eq 0 ] || fail "backfilled hours differ from jq's counts: $output"
	# six hours of four actions, and the table's log says what happened
	[ "$(weir-lake-cat "$D/lake/clicks_hourly" | wc -l)" -eq 24 ]
	[ "$(weir-lake-cat --history "$D/lake/clicks_hourly" | jq -s -c 'map(.operationMetrics.numRemovedFiles) | reverse')" = '["0","0","0","2"]' ]
}

@test "examples/fraud.sh: two alerts on the alerts topic, enriched from the cards table; the traveller raises none" {
	run sh "$TOP/examples/fraud.sh" "$D"
	[ "$status" -eq 0 ] || fail "$output"
	assert_line '{"card_id":1,"customer":"c007","home_country":"FR","limit_eur":1000.00}'
	assert_line "248 payments produced"
	assert_line "alerts produced: 2"
	# card 7: NL at 10:19, then US 10:21 and BR 10:22 make 3 countries in
	# [10:13, 10:23); card 23: 3 x 900 from 10:42 to 10:46 with 72 at home
	assert_line '{"card_id":7,"customer":"c049","home_country":"NL","window_end":"2024-05-01T10:23:00.000000Z","payments":3,"countries":3,"spent":77,"rule":"countries"}'
	assert_line '{"card_id":23,"customer":"c161","home_country":"ES","window_end":"2024-05-01T10:47:00.000000Z","payments":4,"countries":2,"spent":2772,"rule":"over_limit"}'
	refute_output --partial '"card_id":12,'
	# the input the alerts come from, as jq sees it
	[ "$(jq -s -c '[.[] | select(.card_id == 23 and .ts >= "2024-05-01T10:37" and .ts < "2024-05-01T10:47") | .amount] | add' "$D/payments.ndjson")" = 2772 ]
	[ "$(jq -s -c '[.[] | select(.card_id == 12) | .country] | unique' "$D/payments.ndjson")" = '["NL","PT"]' ]
}

@test "examples/debug-topic.sh: partition counts, peeks, one offset, headers, raw bytes, offset by time" {
	run sh "$TOP/examples/debug-topic.sh" "$D"
	[ "$status" -eq 0 ] || fail "$output"
	# what the generator wrote, partition by partition, counted by jq
	"$TOP/scripts/gen-events" -n 300 --rate 1 --envelope clicks --partitions 3 >"$BATS_TEST_TMPDIR/env"
	local p n
	for p in 0 1 2; do
		n=$(jq -s --argjson p $p 'map(select(.partition == $p)) | length' "$BATS_TEST_TMPDIR/env")
		[ "$p" -eq 2 ] && n=$((n + 2)) # the two messages added by hand
		assert_line "partition $p: $n messages, offsets 0 to $n"
	done
	assert_line "clicks: 3 partitions, leaders [1]"
	assert_line "$(jq -c 'select(.partition == 1) | {offset, key, event: (.value | fromjson | {event_id, ts, action})}' "$BATS_TEST_TMPDIR/env" | tail -n 1)"
	assert_line "$(jq -c 'select(.partition == 0 and .offset == 40) | {offset, timestamp: (.timestamp / 1000 | todate), key}' "$BATS_TEST_TMPDIR/env")"
	assert_line '{"offset":109,"key":"debug","headers":[{"name":"trace","value":"abc"},{"name":"origin","value":"test"}],"value":"hello","value_b64":null}'
	assert_line --regexp '^ 377 376 +n +o +t +U +T +F +- +8$'
	# the mock broker has no timestamp index; reading timestamps finds the offset
	assert_line '{"topic":"clicks","partition":0,"time":1704067320000,"offset":-1}'
	assert_line "offset $(jq -s 'map(select(.partition == 0 and .timestamp >= 1704067320000)) | .[0].offset' "$BATS_TEST_TMPDIR/env")"
	[ "$(grep -c '^{"partition":1,"offset":[0-9]*,"ts":"2024-01-01T' <<<"$output")" -eq \
		"$(jq -s 'map(select(.key == "7")) | length' "$BATS_TEST_TMPDIR/env")" ]
}

@test "examples/cdc.sh: Debezium changes merged into a dimension table; a replay changes nothing" {
	run sh "$TOP/examples/cdc.sh" "$D"
	[ "$status" -eq 0 ] || fail "$output"
	assert_line "offset 9: tombstone"
	assert_line "committed version 1: merged 4 changes: 1 inserted, 2 updated, 0 deleted; 1 of 1 files read, 1 rewritten, 1 written"
	assert_line "$(printf '2\tMERGE\tinserted=1\tupdated=1\tdeleted=1')"
	assert_line "barrier 3 already committed for app id 'customers-cdc': skipped"
	assert_line "table version: 2 before, 2 after"
	assert_line '{"id":3,"name":"Linus","email":"linus@kernel.example","tier":"silver","country":"FI"}'
	assert_line '{"id":4,"tier":"silver","email":"barbara@example.org"}'
	# the table equals the last change per key (by source.ts_ms) of the
	# stream, deletes removed, as jq replays it
	run diff <(weir-lake-cat "$D/lake/dim_customers" | jq -c . | sort) \
		<(jq -c 'select(.value) | .value | fromjson' "$D/changes.ndjson" | jq -s -c '
			group_by((.after // .before).id)[] | sort_by(.source.ts_ms) | last
			| select(.op != "d") | .after' | sort)
	[ "$status" -eq 0 ] || fail "table differs from jq's replay: $output"
}

@test "examples/medallion.sh -b: on a topic of ours, stopped at its end twice, the tables match the sample run's" {
	start_broker --topic clicks:4
	medallion_events_envelopes() {
		"$TOP/scripts/gen-events" -n 20000 --rate 50 --users 500 --dup 0.03 --late 0.02 --lateness 180 --bad 0.005 \
			--envelope clicks --partitions 4
	}
	medallion_events_envelopes | head -n 5000 | weir-ingest -P -b "$BROKERS"
	run sh "$TOP/examples/medallion.sh" -b "$BROKERS" -t clicks --once "$D"
	[ "$status" -eq 0 ] || fail "$output"
	assert_line "bronze: 5000 messages"
	medallion_events_envelopes | tail -n +5001 | weir-ingest -P -b "$BROKERS"
	run sh "$TOP/examples/medallion.sh" -b "$BROKERS" -t clicks --once "$D"
	[ "$status" -eq 0 ] || fail "$output"
	stop_broker
	assert_line "bronze: 20000 messages"
	# the sample run cuts the same events at 12000 instead of 5000
	run sh "$TOP/examples/medallion.sh" "$BATS_TEST_TMPDIR/sample"
	[ "$status" -eq 0 ] || fail "$output"
	local t
	for t in bronze silver gold; do
		diff <(weir-lake-cat "$D/lake/$t" | sort) <(weir-lake-cat "$BATS_TEST_TMPDIR/sample/lake/$t" | sort) >/dev/null ||
			fail "$t differs between the two ways of running it"
	done
	run sh "$TOP/examples/medallion.sh" -b "$BROKERS" "$D"
	assert_failure 2
}
