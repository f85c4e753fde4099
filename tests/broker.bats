#!/usr/bin/env bats
# weir-broker: the mock cluster daemon every Kafka test runs against.  kcat
# (written elsewhere) is the client here, so these tests do not lean on
# weir-ingest.

load helper

teardown() {
	stop_broker
}

# kcat -L -J as one line per topic: "name partitions [error]"
topics() {
	kcat -L -J -b "$BROKERS" -m 5 "$@" 2>/dev/null |
		jq -r '.topics[] | "\(.topic) \(.partitions | length)\(if .error then " " + .error else "" end)"' | sort
}

@test "broker: --help, --version and the man page synopsis" {
	run weir-broker --help
	assert_success
	assert_line --index 0 --partial "usage: weir-broker"
	run weir-broker --version
	assert_success
	assert_output "weir-broker 0.1.0"
	check_synopsis weir-broker
	run mandoc -T lint -W warning "$TOP/man/weir-broker.1"
	assert_success
	assert_output ""
}

@test "broker: bad usage exits 2 with the synopsis" {
	run weir-broker --bogus
	assert_failure 2
	assert_line --partial "usage: weir-broker"
	run weir-broker extra
	assert_failure 2
	assert_line --index 0 "weir-broker: unexpected argument: 'extra'"
	run weir-broker --topic nocount </dev/null
	assert_failure 2
	assert_output "weir-broker: bad topic: 'nocount' (want NAME:PARTITIONS)"
	run weir-broker --topic t:0 </dev/null
	assert_failure 2
	run weir-broker --brokers 0 </dev/null
	assert_failure 2
	assert_output "weir-broker: broker count out of range: '0' (1 to 100)"
}

@test "broker: prints the bootstrap address, ends at end of stdin" {
	run timeout 20 weir-broker --brokers 3 </dev/null
	assert_success
	assert_output --regexp '^127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+$'
}

@test "broker: port file matches stdout and is removed at exit" {
	start_broker --brokers 2
	assert_equal "$(head -n 1 "$BROKER_DIR/out")" "$BROKERS"
	run kcat -L -J -b "$BROKERS" -m 5
	assert_success
	assert_equal "$(jq '.brokers | length' <<<"$output")" 2
	local dir=$BROKER_DIR
	exec {BROKER_FD}>&-
	for _ in $(seq 100); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.05; done
	run kill -0 "$BROKER_PID"
	assert_failure 1
	[ ! -e "$dir/port" ]
	rm -rf "$dir"
	unset BROKER_PID
}

@test "broker: SIGTERM and SIGINT stop it cleanly" {
	local sig
	for sig in TERM INT; do
		start_broker
		kill -s "$sig" "$BROKER_PID"
		wait "$BROKER_PID"
		[ ! -e "$BROKER_DIR/port" ]
		rm -rf "$BROKER_DIR"
		exec {BROKER_FD}>&-
		unset BROKER_PID
	done
}

@test "broker: --no-stdin ignores end of input and runs until a signal" {
	local pf=$BATS_TEST_TMPDIR/port
	weir-broker --no-stdin --port-file "$pf" </dev/null >/dev/null 3>&- &
	local pid=$!
	for _ in $(seq 100); do [ -s "$pf" ] && break; sleep 0.05; done
	sleep 0.3
	run kill -0 "$pid"
	assert_success
	run kcat -L -b "$(cat "$pf")" -m 5
	assert_success
	kill "$pid"
	wait "$pid"
}

@test "broker: --topic creates topics with their partition counts" {
	start_broker --brokers 3 --topic a:3 --topic b.c-d:1 --topic x:y:2
	run topics
	assert_output "a 3
b.c-d 1
x:y 2"
}

@test "broker: topic command; duplicates and bad counts are answered with an error" {
	start_broker
	broker_cmd topic fresh 7
	run topics -t fresh
	assert_output "fresh 7"
	run broker_cmd topic fresh 7
	assert_failure 1
	assert_output "broker_cmd topic fresh 7: error: topic: Broker: Topic already exists"
	run broker_cmd topic other 0
	assert_failure 1
	assert_output "broker_cmd topic other 0: error: bad partition count: '0'"
	run broker_cmd topic other
	assert_failure 1
	assert_output "broker_cmd topic other: error: usage: topic NAME PARTITIONS"
	# a failed command does not stop the broker
	broker_cmd ping
}

@test "broker: unknown commands and bad arguments" {
	start_broker --brokers 2
	run broker_cmd frobnicate
	assert_output "broker_cmd frobnicate: error: unknown command: 'frobnicate'"
	run broker_cmd down 3
	assert_output "broker_cmd down 3: error: bad broker id: '3'"
	run broker_cmd err NoSuchApi 1 _TRANSPORT
	assert_output "broker_cmd err NoSuchApi 1 _TRANSPORT: error: bad API: 'NoSuchApi'"
	run broker_cmd err Produce 1 NO_SUCH_ERROR
	assert_output "broker_cmd err Produce 1 NO_SUCH_ERROR: error: bad error code: 'NO_SUCH_ERROR'"
	run broker_cmd err Produce 1 _TRANSPORT _TRANSPORT
	assert_output "broker_cmd err Produce 1 _TRANSPORT _TRANSPORT: error: more codes than COUNT"
	run broker_cmd coordinator cluster g 1
	assert_output "broker_cmd coordinator cluster g 1: error: bad coordinator type: 'cluster'"
	# comments and blank lines get no answer; the next command does
	echo "# a comment" >&"$BROKER_FD"
	echo "" >&"$BROKER_FD"
	broker_cmd ping
	assert_equal "$(grep -c . "$BROKER_DIR/out")" 8
	# every error also went to stderr, prefixed
	run cat "$BROKER_DIR/err"
	assert_line --index 0 "weir-broker: unknown command: 'frobnicate'"
}

@test "broker: down and up all brokers; clients fail within their timeout, then recover" {
	start_broker --brokers 2 --topic t:1
	broker_cmd down all
	SECONDS=0
	run kcat -L -b "$BROKERS" -m 2
	assert_failure 1
	assert_output --partial "Failed to acquire metadata"
	[ "$SECONDS" -le 4 ]
	broker_cmd up all
	run topics -t t
	assert_output "t 1"
}

@test "broker: down one broker leaves the others serving" {
	start_broker --brokers 3
	broker_cmd down 1
	run kcat -L -J -b "$BROKERS" -m 5
	assert_success
	broker_cmd up 1
}

@test "broker: err makes the next requests of an API fail" {
	start_broker --topic t:1
	broker_cmd err Produce 2 TOPIC_AUTHORIZATION_FAILED
	run kcat -P -b "$BROKERS" -t t <<<"m1"
	assert_failure 1
	assert_output --partial "Delivery failed for message: Broker: Topic authorization failed"
	# the second queued error, by number (29), then nothing is left
	run kcat -P -b "$BROKERS" -t t <<<"m2"
	assert_failure 1
	run kcat -P -b "$BROKERS" -t t <<<"m3"
	assert_success
	run kcat -C -b "$BROKERS" -t t -e -q
	assert_output "m3"
}

@test "broker: err with numbers, several codes, and clearerr" {
	start_broker --topic t:1
	# 0 = Produce, 29 = TOPIC_AUTHORIZATION_FAILED
	broker_cmd err 0 3 29
	broker_cmd clearerr Produce
	run kcat -P -b "$BROKERS" -t t <<<"ok"
	assert_success
	# two codes: the first a retriable one librdkafka retries past, the
	# last repeated to fill COUNT
	broker_cmd err Produce 3 NOT_ENOUGH_REPLICAS TOPIC_AUTHORIZATION_FAILED
	run kcat -P -b "$BROKERS" -t t <<<"m"
	assert_failure 1
	assert_output --partial "Topic authorization failed"
}

@test "broker: brokererr fails one request on one broker" {
	start_broker --topic t:1
	broker_cmd brokererr 1 Produce TOPIC_AUTHORIZATION_FAILED 0
	run kcat -P -b "$BROKERS" -t t <<<"m"
	assert_failure 1
	run kcat -P -b "$BROKERS" -t t <<<"m"
	assert_success
}

@test "broker: topicerr is reported in metadata" {
	start_broker --topic t:2
	broker_cmd topicerr t TOPIC_AUTHORIZATION_FAILED
	run topics -t t
	assert_output "t 2 Broker: Topic authorization failed"
}

@test "broker: rtt delays every response" {
	start_broker
	broker_cmd rtt all 1500
	SECONDS=0
	run kcat -L -b "$BROKERS" -m 10
	assert_success
	[ "$SECONDS" -ge 1 ]
	broker_cmd rtt 1 0
}

@test "broker: leader moves a partition, -1 leaves it leaderless" {
	start_broker --brokers 3 --topic t:2
	broker_cmd leader t 0 3
	run bash -c "kcat -L -J -b $BROKERS -t t | jq -c '[.topics[0].partitions[] | .leader]'"
	assert_output --regexp '^\[3,[123]\]$'
	broker_cmd leader t 1 -1
	run bash -c "kcat -L -J -b $BROKERS -t t | jq -c '[.topics[0].partitions[] | .leader]'"
	assert_output "[3,-1]"
}

@test "broker: follower, wmarks, coordinator, apiversion and rack are accepted" {
	start_broker --brokers 2 --topic t:1
	broker_cmd follower t 0 2
	broker_cmd wmarks t 0 0 -1
	broker_cmd coordinator group g1 2
	broker_cmd coordinator transaction tx 1
	broker_cmd rack all r1
	# with Metadata disabled no client gets anywhere
	broker_cmd apiversion Metadata -1 -1
	run kcat -L -b "$BROKERS" -m 2
	assert_failure 1
	broker_cmd apiversion Metadata 0 2
	run kcat -L -b "$BROKERS" -m 5
	assert_success
}

@test "broker: quit stops it and answers first" {
	start_broker
	echo quit >&"$BROKER_FD"
	wait "$BROKER_PID"
	assert_equal "$(tail -n 1 "$BROKER_DIR/out")" ok
	exec {BROKER_FD}>&-
	rm -rf "$BROKER_DIR"
	unset BROKER_PID
}

@test "broker: >/dev/full exits 2" {
	run bash -c 'weir-broker </dev/null >/dev/full'
	assert_failure 2
	assert_output --partial "write failure on standard output"
}
