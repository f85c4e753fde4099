#!/usr/bin/env bats
# weir-lag: consumer-group lag as kafka-consumer-groups shows it, lag in
# seconds as kafka-lag-exporter estimates it, Burrow's statuses, the
# Prometheus and JSON outputs, and Delta table freshness and lag.  Committed
# offsets are seeded with standalone commits (weir-lag --commit) and
# messages produced with kcat; --now lets samples be minutes apart without
# waiting.

load helper
bats_require_minimum_version 1.5.0

teardown() {
	stop_broker
}

# produce TOPIC PARTITION COUNT
produce() {
	seq "$3" | kcat -P -b "$BROKERS" -t "$1" -p "$2" -X linger.ms=0
}

# commit GROUP TOPIC:PARTITION:OFFSET...
commit() {
	local g=$1 a=()
	shift
	for c in "$@"; do a+=(--commit "$c"); done
	weir-lag -b "$BROKERS" -g "$g" "${a[@]}"
}

# kafka-consumer-groups' row layout (ConsumerGroupCommand.printOffsets) for
# the given topic column width, with the member columns empty
kcg_row() {
	printf "%-15s %-${1}s %-10s %-15s %-15s %-15s %-15s %-15s %s\n" "${@:2}"
}

# Validate Prometheus text exposition format 0.0.4 on stdin: metric and label
# names, label value and HELP escapes, one HELP and TYPE per family before
# its samples, families not split, values, no duplicate series.
prom_valid() {
	awk '
	function fail(m) { printf "line %d: %s: %s\n", NR, m, $0; bad = 1; exit 1 }
	function family(n) {
		if (n != cur) { if (n in done) fail("family split"); if (cur != "") done[cur] = 1; cur = n }
	}
	/^$/ { next }
	/^#/ {
		if ($2 != "HELP" && $2 != "TYPE") next
		if ($3 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/) fail("bad metric name")
		if (($2, $3) in seen) fail("second " $2)
		seen[$2, $3] = 1
		family($3)
		if ($2 == "TYPE") {
			if (NF != 4 || $4 !~ /^(counter|gauge|histogram|summary|untyped)$/) fail("bad type")
			if ($3 in sampled) fail("TYPE after samples")
		} else {
			doc = substr($0, length("# HELP " $3) + 2)
			gsub(/\\\\|\\n/, "", doc)
			if (index(doc, "\\")) fail("bad escape in HELP")
		}
		next
	}
	{
		if (!match($0, /^[a-zA-Z_:][a-zA-Z0-9_:]*/)) fail("bad metric name")
		name = substr($0, 1, RLENGTH); rest = substr($0, RLENGTH + 1)
		family(name)
		if (!(("TYPE", name) in seen)) fail("sample without TYPE")
		sampled[name] = 1
		split("", lab); key = name
		if (substr(rest, 1, 1) == "{") {
			i = 2
			while (substr(rest, i, 1) != "}") {
				if (!match(substr(rest, i), /^[a-zA-Z_][a-zA-Z0-9_]*/)) fail("bad label name")
				ln = substr(rest, i, RLENGTH); i += RLENGTH
				if (ln ~ /^__/) fail("reserved label name")
				if (ln in lab) fail("duplicate label")
				lab[ln] = 1
				if (substr(rest, i, 2) != "=\"") fail("expected =\"")
				i += 2; v = ""
				for (;;) {
					c = substr(rest, i, 1)
					if (c == "") fail("unterminated label value")
					if (c == "\"") { i++; break }
					if (c == "\\") {
						d = substr(rest, i + 1, 1)
						if (d != "\\" && d != "\"" && d != "n") fail("bad escape in label value")
						v = v c d; i += 2; continue
					}
					v = v c; i++
				}
				key = key SUBSEP ln "=" v
				c = substr(rest, i, 1)
				if (c == ",") i++
				else if (c != "}") fail("expected , or }")
			}
			rest = substr(rest, i + 1)
		}
		if (rest !~ /^ [^ ]/) fail("expected one space before the value")
		n = split(substr(rest, 2), f, " ")
		if (n < 1 || n > 2) fail("expected value [timestamp]")
		if (f[1] !~ /^(NaN|[+-]Inf|[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|[-+]?\.[0-9]+([eE][-+]?[0-9]+)?)$/) fail("bad value")
		if (n == 2 && f[2] !~ /^-?[0-9]+$/) fail("bad timestamp")
		if (key in series) fail("duplicate series")
		series[key] = 1
	}
	END { if (bad) exit 1 }'
}

# field of the partition row (or the group line when PARTITION is "group")
# of a --json report in $output
jfield() {
	if [ "$1" = group ]; then
		jq -r "select(.type==\"group\") | .$2" <<<"$output"
	else
		jq -r "select(.type==\"partition\" and .partition==$1) | .$2" <<<"$output"
	fi
}

@test "lag: --help, --version, synopsis and man page" {
	run weir-lag --help
	assert_success
	assert_line --index 0 --partial "usage: weir-lag -b BROKERS"
	run weir-lag --version
	assert_output "weir-lag 0.1.0"
	check_synopsis weir-lag
	run mandoc -T lint -W warning "$TOP/man/weir-lag.1"
	assert_success
	assert_output ""
}

@test "lag: usage errors exit 2 with the synopsis" {
	run weir-lag -g g
	assert_failure 2
	assert_line --index 0 "weir-lag: -b BROKERS is required"
	run weir-lag -b x -g g --fail-on BAD
	assert_failure 2
	assert_line --index 0 "weir-lag: --fail-on wants WARN or ERR: 'BAD'"
	run weir-lag -b x -g g --fail-on ERR
	assert_failure 2
	assert_line --index 0 "weir-lag: --fail-on needs a history: --state FILE or --watch"
	run weir-lag -b x --commit t:0:1
	assert_failure 2
	assert_line --index 0 "weir-lag: --commit needs exactly one -g GROUP"
	run weir-lag -b x -g g --commit t:1
	assert_failure 2
	assert_line --index 0 "weir-lag: --commit wants TOPIC:PARTITION:OFFSET: 't:1'"
	run weir-lag -b x -g g --commit t:0:-1
	assert_failure 2
	assert_output "weir-lag: offset out of range: '-1' (0 to 9223372036854775807)"
	run weir-lag --table t -g g
	assert_failure 2
	assert_line --index 0 "weir-lag: --table does not go with -g, -t or --commit"
	run weir-lag -g g
	assert_failure 2
	assert_line --index 0 "weir-lag: -b BROKERS is required"
	run weir-lag -b x -g g --watch 1s --now 5
	assert_failure 2
	assert_line --index 0 "weir-lag: --now does not go with --watch"
	run weir-lag -b x -g g --count 2
	assert_failure 2
	assert_line --index 0 "weir-lag: --count needs --watch"
	run weir-lag -b x -g g --window 1
	assert_failure 2
	run weir-lag -b x -g g extra
	assert_failure 2
	assert_line --index 0 "weir-lag: unexpected argument: 'extra'"
	assert_line --partial "usage: weir-lag"
}

@test "lag: the table is kafka-consumer-groups --describe, column for column" {
	start_broker --topic orders:3 --topic a-rather-long-topic-name:2
	produce orders 0 10
	produce orders 1 5
	produce a-rather-long-topic-name 0 3
	commit billing orders:0:4 orders:1:5 a-rather-long-topic-name:0:1
	run weir-lag -b "$BROKERS" -g billing
	assert_success
	assert_output "$(
		echo
		kcg_row 24 GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
		kcg_row 24 billing a-rather-long-topic-name 0 1 3 2 - - -
		kcg_row 24 billing orders 0 4 10 6 - - -
		kcg_row 24 billing orders 1 5 5 0 - - -
		echo "TOTAL-LAG 8 MAX-LAG 6"
	)"
	# -t: every partition of the topic, '-' where nothing is committed
	run weir-lag -b "$BROKERS" -g billing -t orders
	assert_success
	assert_output "$(
		echo
		kcg_row 15 GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
		kcg_row 15 billing orders 0 4 10 6 - - -
		kcg_row 15 billing orders 1 5 5 0 - - -
		kcg_row 15 billing orders 2 - 0 - - - -
		echo "TOTAL-LAG 6 MAX-LAG 6"
	)"
}

@test "lag: several groups, a group with no commits, a topic that does not exist" {
	start_broker --topic t:2
	produce t 0 7
	commit a t:0:7
	commit b t:0:2
	run --separate-stderr weir-lag -b "$BROKERS" -g a -g b -g nobody --json
	assert_failure 1
	assert_equal "$stderr" "weir-lag: consumer group 'nobody' has no committed offsets"
	assert_equal "$(jq -c 'select(.type=="group") | [.group, .total_lag, .partitions]' <<<"$output")" \
		"$(printf '%s\n' '["a",0,1]' '["b",5,1]' '["nobody",0,0]')"
	run --separate-stderr weir-lag -b "$BROKERS" -g nobody
	assert_failure 1
	assert_output ""
	run --separate-stderr weir-lag -b "$BROKERS" -g a -t t -t nosuch
	assert_failure 1
	assert_equal "$stderr" "weir-lag: topic 'nosuch' does not exist"
}

@test "lag: a consumer that reads follows, and its lag goes to 0" {
	start_broker --topic t:1
	produce t 0 20
	run weir-lag -b "$BROKERS" -g reader -t t --json
	assert_failure 1
	assert_equal "$(jfield 0 lag)" null
	# a real group member (3 s first join on the mock) reads everything and
	# commits when it leaves
	timeout 30 kcat -b "$BROKERS" -G reader -o beginning -e t >/dev/null 2>&1
	run weir-lag -b "$BROKERS" -g reader --json
	assert_success
	assert_equal "$(jfield 0 offset) $(jfield 0 end) $(jfield 0 lag)" "20 20 0"
	produce t 0 5
	run weir-lag -b "$BROKERS" -g reader --json
	assert_equal "$(jfield 0 lag)" 5
}

@test "lag: JSON is one object per line with every field" {
	start_broker --topic t:2
	produce t 0 10
	commit g t:0:3
	run weir-lag -b "$BROKERS" -g g -t t --json --now 1700000000000
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	for l in "${lines[@]}"; do
		[ "$(jq -c . <<<"$l" | wc -l)" -eq 1 ] || fail "not one object: $l"
	done
	assert_line --index 0 '{"type":"partition","group":"g","topic":"t","partition":0,"offset":3,"end":10,"start":0,"lag":7,"lag_seconds":null,"status":null,"consumer_id":null,"host":null,"client_id":null,"time":"2023-11-14T22:13:20.000000Z"}'
	assert_line --index 1 '{"type":"partition","group":"g","topic":"t","partition":1,"offset":null,"end":0,"start":0,"lag":null,"lag_seconds":null,"status":null,"consumer_id":null,"host":null,"client_id":null,"time":"2023-11-14T22:13:20.000000Z"}'
	assert_line --index 2 '{"type":"group","group":"g","status":null,"partitions":2,"total_lag":7,"max_lag":7,"max_lag_seconds":null,"time":"2023-11-14T22:13:20.000000Z"}'
}

@test "lag: Prometheus text passes the exposition-format rules, escapes included" {
	start_broker --topic t:2 --topic u:1
	produce t 0 10
	produce u 0 4
	commit 'we"ird\group' t:0:4 u:0:1
	commit plain t:0:10
	st=$BATS_TEST_TMPDIR/state
	run weir-lag -b "$BROKERS" -g 'we"ird\group' -g plain -t t -t u --prom -s "$st" \
		--cluster "$(printf 'c"1\\\nx')" --now 1000000
	assert_success
	prom_valid <<<"$output"
	assert_line 'kafka_consumergroup_group_lag{cluster_name="c\"1\\\nx",group="we\"ird\\group",topic="t",partition="0",member_host="",consumer_id="",client_id=""} 6'
	assert_line 'kafka_consumergroup_group_offset{cluster_name="c\"1\\\nx",group="we\"ird\\group",topic="t",partition="1",member_host="",consumer_id="",client_id=""} NaN'
	assert_line 'kafka_consumergroup_group_sum_lag{cluster_name="c\"1\\\nx",group="we\"ird\\group"} 9'
	assert_line 'kafka_consumergroup_group_topic_sum_lag{cluster_name="c\"1\\\nx",group="we\"ird\\group",topic="u"} 3'
	assert_line 'kafka_consumergroup_group_max_lag{cluster_name="c\"1\\\nx",group="plain"} 0'
	assert_line 'kafka_consumergroup_group_lag_seconds{cluster_name="c\"1\\\nx",group="plain",topic="t",partition="0",member_host="",consumer_id="",client_id=""} 0'
	assert_line 'burrow_kafka_consumer_status{cluster="c\"1\\\nx",consumer_group="plain"} 1'
	# each partition once although two groups read it
	[ "$(grep -c '^kafka_partition_latest_offset{' <<<"$output")" -eq 3 ]
	assert_line 'kafka_partition_latest_offset{cluster_name="c\"1\\\nx",topic="t",partition="0"} 10'
	assert_line 'kafka_partition_earliest_offset{cluster_name="c\"1\\\nx",topic="u",partition="0"} 0'
	# the validator itself rejects what breaks the rules
	run prom_valid <<<'# TYPE a gauge
a{x="unterminated} 1'
	assert_failure 1
	run prom_valid <<<'# TYPE a gauge
a{x="bad \q escape"} 1'
	assert_failure 1
	run prom_valid <<<'# TYPE a-b gauge'
	assert_failure 1
	run prom_valid <<<'# TYPE a gauge
# TYPE b gauge
a 1
b 1
a 2'
	assert_failure 1
	run prom_valid <<<'# TYPE a gauge
a{x="1"} 1
a{x="1"} 2'
	assert_failure 1
	run prom_valid <<<'# TYPE a gauge
a{1x="1"} 1'
	assert_failure 1
	run prom_valid <<<'# TYPE a gauge
a 1.5x'
	assert_failure 1
}

@test "lag: lag in seconds is kafka-lag-exporter's interpolation over the state's log-end points" {
	start_broker --topic t:1
	st=$BATS_TEST_TMPDIR/state
	produce t 0 100
	commit g t:0:0
	run weir-lag -b "$BROKERS" -g g -s "$st" --now 1000000 --json
	assert_success
	assert_equal "$(jfield 0 lag_seconds)" null # one point
	produce t 0 100
	commit g t:0:100
	run weir-lag -b "$BROKERS" -g g -s "$st" --now 1010000 --json
	# points (100, 1000 s) (200, 1010 s): offset 100 was produced at 1000 s
	assert_output --partial '"lag_seconds":10.000,'
	produce t 0 100
	commit g t:0:150
	run weir-lag -b "$BROKERS" -g g -s "$st" --now 1020000 --json
	# between (100, 1000 s) and (200, 1010 s): 150 was produced at 1005 s
	assert_output --partial '"lag_seconds":15.000,'
	commit g t:0:50
	run weir-lag -b "$BROKERS" -g g -s "$st" --now 1030000 --json
	# before the first point: extrapolated along (100, 1000 s) (300, 1030 s)
	# (the flat run 300@1020 s, 300@1030 s) gives 50 at 992.5 s
	assert_output --partial '"lag_seconds":37.500,'
	commit g t:0:300
	run weir-lag -b "$BROKERS" -g g -s "$st" --now 1040000 --json
	assert_output --partial '"lag_seconds":0.000,'
	# the flat run kept only its ends
	assert_equal "$(jq -c 'select(.ends) | .ends' "$st")" '[[100,1000000],[200,1010000],[300,1020000],[300,1040000]]'
	# the consumer behind a topic that has not moved for the whole history
	commit g t:0:299
	rm "$st"
	weir-lag -b "$BROKERS" -g g -s "$st" --now 1000000 >/dev/null
	run weir-lag -b "$BROKERS" -g g -s "$st" --now 1001000 --json
	assert_equal "$(jfield 0 lag_seconds)" Infinity
	run weir-lag -b "$BROKERS" -g g -s "$st" --now 1002000 --prom
	assert_line 'kafka_consumergroup_group_lag_seconds{cluster_name="default",group="g",topic="t",partition="0",member_host="",consumer_id="",client_id=""} +Inf'
}

# status of partition 0 and of the group after a sample at --now $1
status_at() {
	run weir-lag -b "$BROKERS" -g g -s "$st" --now "$1" --json "${@:2}"
	echo "$(jfield 0 status) $(jfield group status)"
}

@test "lag: Burrow's statuses, scenario by scenario" {
	start_broker --topic t:1
	st=$BATS_TEST_TMPDIR/state
	produce t 0 100
	commit g t:0:100
	# caught up: OK, however long it stays so
	[ "$(status_at 1000000)" = "OK OK" ]
	[ "$(status_at 1060000)" = "OK OK" ]
	# WARN: the consumer moves, but its lag never shrinks across the window
	rm "$st"
	produce t 0 100 # end 200
	commit g t:0:120
	[ "$(status_at 1100000)" = "OK OK" ] # one sample shows no trend
	produce t 0 50 # end 250
	commit g t:0:160
	[ "$(status_at 1160000)" = "WARN WARN" ]
	# --allowed-lag: a lag that small counts as caught up
	[ "$(status_at 1170000 --allowed-lag 90)" = "OK OK" ]
	run weir-lag -b "$BROKERS" -g g -s "$st" --now 1190000 --fail-on WARN
	assert_failure 1
	assert_line --regexp '^TOTAL-LAG 90 MAX-LAG 90 MAX-LAG-SECONDS [0-9.]+ STATUS WARN$'
	# once the lag shrinks within the window: OK
	commit g t:0:240
	[ "$(status_at 1240000)" = "OK OK" ]
	run weir-lag -b "$BROKERS" -g g -s "$st" --now 1250000 --fail-on WARN
	assert_success
	# STOP: no new commit for longer than the window's commits span while
	# producers go on; the group is ERR
	rm "$st"
	produce t 0 10 # end 260
	commit g t:0:200
	status_at 2000000 >/dev/null
	produce t 0 10
	commit g t:0:210
	[ "$(status_at 2060000)" = "WARN WARN" ]
	produce t 0 10
	[ "$(status_at 2120000)" = "WARN WARN" ] # 60 s since the commit; the commits span 60 s
	produce t 0 10                           # end 290
	[ "$(status_at 2180000)" = "STOP ERR" ]  # 120 s
	run weir-lag -b "$BROKERS" -g g -s "$st" --now 2190000 --fail-on ERR
	assert_failure 1
	# ... but not when the window saw the partition caught up at that offset
	rm "$st"
	commit g t:0:290
	status_at 3000000 >/dev/null
	produce t 0 10 # end 300
	[ "$(status_at 3060000)" = "OK OK" ]
	[ "$(status_at 3500000)" = "OK OK" ]
	# REWIND: the offset went back and stayed below where it was
	rm "$st"
	commit g t:0:250
	status_at 4000000 >/dev/null
	commit g t:0:100
	[ "$(status_at 4060000)" = "REWIND ERR" ]
	commit g t:0:200
	[ "$(status_at 4120000)" = "REWIND ERR" ]
	# ... forgiven once the consumer regains the old offset
	commit g t:0:260
	[ "$(status_at 4180000)" = "OK OK" ]
}

@test "lag: STALL from a scripted window: one offset committed again and again" {
	start_broker --topic t:1
	st=$BATS_TEST_TMPDIR/state
	produce t 0 200
	commit g t:0:100
	# what sampling records when an active member keeps committing offset
	# 100: each sample is a fresh commit (the mock cannot describe members)
	printf '%s\n' '{"weir-lag-state":1}' \
		'{"group":"g","topic":"t","partition":0,"at":2000,"window":[[100,1000,200],[100,2000,200]]}' >"$st"
	[ "$(status_at 3000)" = "STALL ERR" ]
	assert_equal "$(jq -c 'select(.group) | .window' "$st")" '[[100,1000,200],[100,2000,200],[100,2000,200]]'
	# sampled without an owner, the same offset keeps its first date: STOP
	[ "$(status_at 5000)" = "STOP ERR" ]
}

@test "lag: the state file: window size, stale samples, refusing foreign files" {
	start_broker --topic t:1
	st=$BATS_TEST_TMPDIR/state
	produce t 0 10
	for i in 1 2 3 4 5; do
		commit g "t:0:$i"
		weir-lag -b "$BROKERS" -g g -s "$st" --now "${i}000" --window 3 >/dev/null
	done
	assert_equal "$(jq -c 'select(.group) | .window' "$st")" '[[3,3000,10],[4,4000,10],[5,5000,10]]'
	# a sample not newer than the last one is reported but not recorded
	commit g t:0:9
	run weir-lag -b "$BROKERS" -g g -s "$st" --now 4000 --window 3 --json
	assert_success
	assert_equal "$(jfield 0 lag)" 1
	assert_equal "$(jq -c 'select(.group) | .window | length' "$st")" 3
	assert_equal "$(jq -c 'select(.group) | .at' "$st")" 5000
	# a smaller window keeps the newest samples
	weir-lag -b "$BROKERS" -g g -s "$st" --now 6000 --window 2 >/dev/null
	assert_equal "$(jq -c 'select(.group) | .window' "$st")" '[[5,5000,10],[9,6000,10]]'
	# not a state file: refused, left alone
	echo 'precious' >"$BATS_TEST_TMPDIR/other"
	run weir-lag -b "$BROKERS" -g g -s "$BATS_TEST_TMPDIR/other"
	assert_failure 2
	assert_output "weir-lag: '$BATS_TEST_TMPDIR/other' is not a weir-lag state file (refusing to overwrite it)"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/other")" precious
	printf '%s\n' '{"weir-lag-state":1}' '{"topic":"t","partition":0,"ends":[[1]]}' >"$st"
	run weir-lag -b "$BROKERS" -g g -s "$st"
	assert_failure 2
	assert_output "weir-lag: bad state file '$st' line 2: sample"
	# no temporary file is left behind
	rm "$st"
	weir-lag -b "$BROKERS" -g g -s "$st" >/dev/null
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR" | grep -c tmp)" 0
}

@test "lag: --watch reports again with trend sparklines, and -o replaces a file" {
	start_broker --topic t:1
	produce t 0 10
	commit g t:0:0
	run weir-lag -b "$BROKERS" -g g --watch 200ms --count 3
	assert_success
	[ "$(grep -c '^GROUP ' <<<"$output")" -eq 3 ]
	assert_line --index 0 --regexp '^GROUP +TOPIC +PARTITION +CURRENT-OFFSET +LOG-END-OFFSET +LAG +CONSUMER-ID +HOST +CLIENT-ID +LAG-SECONDS +STATUS +TREND$'
	assert_line --regexp '^g +t +0 +0 +10 +10 +- +- +- +inf +STOP +███$'
	# JSON under --watch: a stream of reports
	run weir-lag -b "$BROKERS" -g g --watch 100ms --count 2 --json
	[ "$(jq -r 'select(.type=="group") | .status' <<<"$output" | paste -sd' ')" = "OK ERR" ]
	# SIGTERM ends the loop after the report in progress, with status 0
	weir-lag -b "$BROKERS" -g g --watch 100ms --prom -o "$BATS_TEST_TMPDIR/lag.prom" &
	pid=$!
	sleep 1
	kill -TERM "$pid"
	wait "$pid"
	prom_valid <"$BATS_TEST_TMPDIR/lag.prom"
	grep -q '^kafka_consumergroup_group_lag{.*} 10$' "$BATS_TEST_TMPDIR/lag.prom"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep tmp)" ]
}

@test "lag: --watch on a terminal redraws the screen" {
	command -v script >/dev/null || skip "script(1) not installed"
	start_broker --topic t:1
	produce t 0 10
	commit g t:0:4
	run script -qec "weir-lag -b '$BROKERS' -g g --watch 100ms --count 2" /dev/null
	assert_success
	[ "$(grep -c $'\e\\[H\e\\[2J' <<<"$output")" -eq 2 ]
	assert_line --partial "weir-lag every 0.1s: "
	assert_line --regexp '^g +t +0 +4 +10 +6 .*█'
}

@test "lag: a broker that goes away: a clear error within the timeout, exit 2" {
	start_broker --topic t:1
	commit g t:0:0
	broker_cmd down all
	SECONDS=0
	run timeout 60 weir-lag -b "$BROKERS" -g g -m 2s
	assert_failure 2
	assert_line --partial "weir-lag: cannot get metadata from '$BROKERS': "
	[ "$SECONDS" -lt 20 ] || fail "took $SECONDS s"
	run timeout 60 weir-lag -b "$BROKERS" -g g -m 2s --commit t:0:1
	assert_failure 2
	[ "$SECONDS" -lt 40 ] || fail "took $SECONDS s"
	broker_cmd up all
	run weir-lag -b "$BROKERS" -g g
	assert_success
	# a broker that answers too late is no better
	broker_cmd rtt all 30000
	SECONDS=0
	run timeout 60 weir-lag -b "$BROKERS" -g g -m 1s --json
	assert_failure 2
	assert_line --partial "weir-lag: cannot get metadata from '$BROKERS': "
	[ "$SECONDS" -lt 10 ] || fail "took $SECONDS s"
}

@test "lag: group discovery needs ListGroups, which weir-broker lacks" {
	start_broker --topic t:1
	run timeout 60 weir-lag -b "$BROKERS" -m 2s
	assert_failure 2
	assert_output --regexp "^weir-lag: cannot list the consumer groups of '$BROKERS': .* \(name them with -g\)$"
	# the same capability check keeps DescribeGroups away from it: no hang
	commit g t:0:0
	run timeout 60 weir-lag -b "$BROKERS" -g g -v
	assert_success
	assert_line --partial "weir-lag: no group members: the broker cannot list groups: "
	run timeout 60 weir-lag -b "$BROKERS" -g g --no-members
	assert_success
}

@test "lag: Kafka properties pass through, secrets stay hidden, stdout is checked" {
	run weir-lag -b 127.0.0.1:1 -g g -X sasl.password=hunter2 -X client.id=lagger -X dump
	assert_success
	assert_line "sasl.password = [redacted]"
	assert_line "client.id = lagger"
	assert_line "isolation.level = read_uncommitted"
	refute_output --partial hunter2
	run weir-lag -b 127.0.0.1:1 -g g -X nonsense.property=1
	assert_failure 2
	assert_output --partial "bad Kafka property 'nonsense.property'"
	start_broker --topic t:1
	commit g t:0:0
	run bash -c "weir-lag -b '$BROKERS' -g g >/dev/full"
	assert_failure 2
}

# a Delta log by hand: version 0 creates, 1 is a weir-lake-write commit of
# app "app" with its barrier's sources, 2 a commit by someone else
make_table() {
	mkdir -p "$1/_delta_log"
	printf '%s\n' '{"commitInfo":{"timestamp":1000000,"operation":"WRITE"}}' \
		'{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}' \
		'{"metaData":{"id":"x","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[]}","partitionColumns":[],"configuration":{}}}' \
		>"$1/_delta_log/00000000000000000000.json"
	printf '%s\n' '{"commitInfo":{"timestamp":1005000,"operation":"STREAMING UPDATE","weir":{"appId":"app","barrier":7,"sources":{"t":{"0":150,"1":20}}}}}' \
		'{"txn":{"appId":"app","version":7}}' >"$1/_delta_log/00000000000000000001.json"
	printf '%s\n' '{"commitInfo":{"timestamp":1008000,"operation":"WRITE"}}' >"$1/_delta_log/00000000000000000002.json"
}

@test "lag: table freshness of any Delta table, without a broker" {
	tb=$BATS_TEST_TMPDIR/tb
	make_table "$tb"
	run weir-lag --table "$tb" --now 1010000
	assert_success
	assert_output "$(printf '\n%-*s %-10s %-27s %s\n%-*s %-10s %s %s' ${#tb} TABLE VERSION LAST-COMMIT AGE-SECONDS \
		${#tb} "$tb" 2 1970-01-01T00:16:48.000000Z 2.000)"
	run weir-lag --table "$tb" --now 1010000 --max-age 2s
	assert_success
	run weir-lag --table "$tb" --now 1010000 --max-age 1s --json
	assert_failure 1
	assert_output "{\"type\":\"table\",\"table\":\"$tb\",\"version\":2,\"last_commit\":\"1970-01-01T00:16:48.000000Z\",\"age_seconds\":2.000,\"time\":\"1970-01-01T00:16:50.000000Z\"}"
	run weir-lag --table "$tb" --now 1010000 --prom
	prom_valid <<<"$output"
	assert_line "weir_table_commit_age_seconds{table=\"$tb\"} 2"
	assert_line "weir_table_version{table=\"$tb\"} 2"
	# without commitInfo times, the file's modification time
	mkdir -p "$BATS_TEST_TMPDIR/bare/_delta_log"
	echo '{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}' >"$BATS_TEST_TMPDIR/bare/_delta_log/00000000000000000000.json"
	touch -d @1700000000 "$BATS_TEST_TMPDIR/bare/_delta_log/00000000000000000000.json"
	run weir-lag --table "$BATS_TEST_TMPDIR/bare" --now 1700000060000 --json
	assert_output --partial '"age_seconds":60.000,'
	run weir-lag --table "$BATS_TEST_TMPDIR/nothing"
	assert_failure 2
	assert_output "weir-lag: '$BATS_TEST_TMPDIR/nothing' is not a Delta table: no commit in its _delta_log"
	mkdir -p "$BATS_TEST_TMPDIR/broken/_delta_log"
	echo '{"commitInfo":' >"$BATS_TEST_TMPDIR/broken/_delta_log/00000000000000000000.json"
	run weir-lag --table "$BATS_TEST_TMPDIR/broken"
	assert_failure 2
	assert_output --regexp "^weir-lag: table '$BATS_TEST_TMPDIR/broken': malformed commit 00000000000000000000.json line 1: "
}

@test "lag: a table's committed source offsets against the topic" {
	start_broker --topic t:2
	produce t 0 290
	produce t 1 50
	tb=$BATS_TEST_TMPDIR/tb
	make_table "$tb"
	st=$BATS_TEST_TMPDIR/state
	run weir-lag --table "$tb" --app-id app -b "$BROKERS" --now 1010000 -s "$st" --json
	assert_success
	assert_equal "$(jq -c 'select(.type=="partition") | [.group, .partition, .offset, .end, .lag]' <<<"$output")" \
		"$(printf '%s\n' '["app",0,150,290,140]' '["app",1,20,50,30]')"
	# the window dates the offsets by the table commit that recorded them
	assert_equal "$(jq -c 'select(.group and .partition == 0) | .window' "$st")" '[[150,1005000,290]]'
	run weir-lag --table "$tb" --app-id app -b "$BROKERS" --now 1020000 -s "$st" --json
	# 15 s since the commit against a window spanning none: the writer stopped
	assert_equal "$(jfield group status)" ERR
	assert_equal "$(jfield 0 status)" STOP
	run weir-lag --table "$tb" --app-id nobody -b "$BROKERS"
	assert_failure 1
	assert_output --partial "weir-lag: table '$tb' has no commit by app id 'nobody'"
}

@test "lag: a table written by weir-lake-write" {
	start_broker --topic clicks:2
	produce clicks 0 30
	produce clicks 1 12
	tb=$BATS_TEST_TMPDIR/gold
	printf '%s\n' '{"k":1}' '{"@weir":"barrier","id":1,"sources":{"clicks":{"0":10,"1":12}}}' \
		'{"k":2}' '{"@weir":"barrier","id":2,"sources":{"clicks":{"0":25,"1":12}}}' |
		weir-lake-write -s 'k BIGINT' -a gold "$tb"
	run weir-lag --table "$tb" --app-id gold -b "$BROKERS" --json
	assert_success
	assert_equal "$(jq -c 'select(.type=="partition") | [.topic, .partition, .offset, .lag]' <<<"$output")" \
		"$(printf '%s\n' '["clicks",0,25,5]' '["clicks",1,12,0]')"
	assert_equal "$(jfield group total_lag)" 5
}

@test "lag: a table fed from another table lags in versions, without a broker" {
	cd "$BATS_TEST_TMPDIR"
	for k in 1 2 3; do echo "{\"k\":$k}" | weir-lake-write -s 'k BIGINT' bronze; done
	weir-lake-cat --checkpoint-interval 1 bronze | weir-lake-write -s 'k BIGINT' -a silver silver >/dev/null
	run weir-lag --table silver --app-id silver --json
	assert_success
	assert_equal "$(jq -c 'select(.type=="partition") | [.topic, .partition, .offset, .end, .lag]' <<<"$output")" \
		'["bronze",0,3,3,0]'
	# two more bronze commits the silver writer has not read
	for k in 4 5; do echo "{\"k\":$k}" | weir-lake-write bronze; done
	run weir-lag --table silver --app-id silver
	assert_success
	assert_line --regexp '^silver +bronze +0 +3 +5 +2 '
	# a source topic beside it needs a broker; a file is neither
	mkdir -p gold/_delta_log
	cp silver/_delta_log/*.json gold/_delta_log/
	sed -i 's/"sources":{"bronze":{"0":3}}/"sources":{"bronze":{"0":3},"clicks":{"0":7},"in\/a.ndjson":{"0":9}}/' \
		gold/_delta_log/*.json
	grep -q '"clicks"' gold/_delta_log/*.json
	run weir-lag --table gold --app-id silver
	assert_failure 1
	assert_line "weir-lag: table 'gold': source 'in/a.ndjson' is neither a Kafka topic nor a Delta table: its lag is unknown"
	assert_line "weir-lag: table 'gold': source topic 'clicks' needs -b BROKERS for its log-end offsets"
	assert_line --regexp '^silver +bronze +0 +3 +5 +2 '
}

@test "lag: the man page examples run" {
	start_broker --topic clicks:2
	produce clicks 0 290
	export K=$BROKERS
	cd "$BATS_TEST_TMPDIR"
	mkdir -p var/lib/weir var/lib/node_exporter/textfile
	make_table lake/gold/clicks_5m
	now=$(date +%s%3N)
	sed -i "s/\"appId\":\"app\"/\"appId\":\"clicks-gold\"/; s/\"t\":{/\"clicks\":{/; s/\"timestamp\":[0-9]*/\"timestamp\":$now/" \
		lake/gold/clicks_5m/_delta_log/*.json
	commit clicks-etl clicks:0:5
	# a silver table one bronze version behind
	for k in 1 2 3; do echo "{\"k\":$k}" | weir-lake-write -s 'k BIGINT' lake/bronze/clicks; done
	weir-lake-cat --checkpoint-interval 1 lake/bronze/clicks |
		weir-lake-write -s 'k BIGINT' -a clicks-silver lake/silver/clicks >/dev/null
	echo '{"k":4}' | weir-lake-write lake/bronze/clicks
	# the examples with this broker, paths under the test directory, and the
	# endless --watch bounded
	sed -n '/^\.SH EXAMPLES/,/^\.SH/p' "$TOP/man/weir-lag.1" | sed -n '/^\.RS/,/^\.RE/p' |
		grep -v '^\.R[SE]' | sed 's/\\e$/\\/; s/\\-/-/g' |
		sed -e 's/localhost:9092/"$K"/g; s/k1:9092/"$K"/g; s|/var/lib|var/lib|g' \
			-e 's/^\* \* \* \* \* //; s/--watch 5s/--watch 100ms --count 2/' >examples.sh
	[ "$(grep -c '^weir-lag' examples.sh)" -eq 6 ]
	run bash -e examples.sh
	assert_success
	prom_valid <var/lib/node_exporter/textfile/weir-lag.prom
	grep -q '^kafka_consumergroup_group_lag{.*group="clicks-etl",topic="clicks",partition="0".*} 285$' \
		var/lib/node_exporter/textfile/weir-lag.prom
	# the reset and the table
	assert_line --regexp '^clicks-etl +clicks +0 +0 +290 +290 '
	assert_line --regexp '^clicks-gold +clicks +0 +150 +290 +140 '
	assert_line "TOTAL-LAG 140 MAX-LAG 140"
	assert_line --regexp '^clicks-silver +lake/bronze/clicks +0 +3 +4 +1 '
}
