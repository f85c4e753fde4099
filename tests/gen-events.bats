#!/usr/bin/env bats
# scripts/gen-events, the deterministic clickstream the demo, the examples,
# tests and benchmarks share: same options, same bytes; the ratios it is
# given are the ratios it writes.

load helper

G=$TOP/scripts/gen-events

@test "gen-events: deterministic by seed, and valid JSON" {
	a=$("$G" -n 500 --late 0.1 --dup 0.1 | md5sum)
	b=$("$G" -n 500 --late 0.1 --dup 0.1 | md5sum)
	c=$("$G" -n 500 --late 0.1 --dup 0.1 --seed 2 | md5sum)
	[ "$a" = "$b" ]
	[ "$a" != "$c" ]
	run bash -c "'$G' -n 500 --late 0.1 --dup 0.1 | jq -c 'keys' | sort -u"
	assert_output '["action","amount","country","device","event_id","session","ts","url","user_id"]'
}

@test "gen-events: count, rate and start fix event time; purchases carry amounts" {
	run "$G" -n 3 --rate 2 --start 2024-05-01T10:00:00Z
	assert_success
	[ "${#lines[@]}" -eq 3 ]
	[ "$(jq -r .ts <<<"$output" | paste -sd' ')" = "2024-05-01T10:00:00.000000Z 2024-05-01T10:00:00.500000Z 2024-05-01T10:00:01.000000Z" ]
	run bash -c "'$G' -n 2000 | jq -r 'select((.action == \"purchase\") != (.amount != null))' | wc -l"
	assert_output 0
	run bash -c "'$G' -n 2000 --users 7 | jq -r .user_id | sort -un | paste -sd,"
	assert_output 1,2,3,4,5,6,7
}

@test "gen-events: --dup repeats earlier events, --late sets events back but never before --start" {
	run bash -c "'$G' -n 10000 --dup 0.2 | jq -r .event_id | sort | uniq -d | wc -l"
	# about 20% of 10000 are repeats of events within the last 256
	[ "$output" -gt 1500 ] && [ "$output" -lt 2000 ] || fail "dup count $output"
	run bash -c "'$G' -n 10000 --late 0.1 --lateness 60 --start 2024-01-01T00:00:00Z | jq -r .ts |
		awk 'NR > 1 && \$0 < prev { late++ } { if (\$0 > prev) prev = \$0 } \$0 < \"2024-01-01T00:00:00\" { early++ }
			END { print late + 0, early + 0 }'"
	read -r late early <<<"$output"
	[ "$late" -gt 800 ] && [ "$late" -lt 1200 ] || fail "late count $late"
	[ "$early" -eq 0 ]
}

@test "gen-events: sessions end after 30 minutes without an event of the user" {
	# 2 users, one event every 20 minutes: each user's gap is 40 minutes on
	# average, so sessions keep starting
	run bash -c "'$G' -n 200 --users 2 --rate 0.000833333 | jq -r .session | sort -u | wc -l"
	[ "$output" -gt 20 ]
	run bash -c "'$G' -n 200 --users 2 | jq -r .session | sort -u | paste -sd,"
	assert_output u1-1,u2-1
}

@test "gen-events: --envelope wraps events as weir-ingest does, partitioned by user" {
	run bash -c "'$G' -n 300 --envelope clicks --partitions 3 | jq -c '[.topic, .partition, (.key | tonumber) % 3 == .partition, (.value | fromjson | .user_id | tostring) == .key]' | sort -u"
	assert_output '["clicks",0,true,true]
["clicks",1,true,true]
["clicks",2,true,true]'
	# offsets count up from 0 in each partition
	run bash -c "'$G' -n 300 --envelope clicks --partitions 3 | jq -s -c 'group_by(.partition) | map((map(.offset)) == [range(length)]) | unique'"
	assert_output '[true]'
}

@test "gen-events: --bad breaks events three ways, and weir-parse dead-letters each" {
	run bash -c "'$G' -n 3000 --bad 0.1 | weir-parse -q -s 'event_id STRING, user_id BIGINT NOT NULL, ts TIMESTAMP NOT NULL' --dlq '$BATS_TEST_TMPDIR/dlq' | wc -l"
	good=$output
	run jq -r .reason "$BATS_TEST_TMPDIR/dlq"
	bad=${#lines[@]}
	[ $((good + bad)) -eq 3000 ]
	[ "$bad" -gt 240 ] && [ "$bad" -lt 360 ] || fail "bad count $bad"
	[ "$(printf '%s\n' "${lines[@]}" | sed 's/:.*//' | sort -u | paste -sd'|')" = 'not a number|not a timestamp|truncated object' ]
}

@test "gen-events: bad options exit 2" {
	run "$G" --late 2
	assert_failure 2
	assert_output "gen-events: invalid --late: '2'"
	run "$G" -n x
	assert_failure 2
	run "$G" --ts days
	assert_failure 2
	run "$G" extra
	assert_failure 2
	run bash -c "'$G' --help | head -n 1"
	assert_output --partial "usage: gen-events"
}
