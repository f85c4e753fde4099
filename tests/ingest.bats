#!/usr/bin/env bats
# weir-ingest against a weir-broker shared by the file.  Every test uses its
# own topics.  Single-partition topics keep outputs in a fixed order so they
# can be compared whole; envelopes given to -P carry explicit timestamps so
# consumed envelopes are golden too.

load helper

setup_file() {
	start_broker --brokers 2
	short_fetch_wait
}

teardown_file() {
	stop_broker
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	# fault tests leave the shared broker as they found it
	broker_cmd up all
	broker_cmd clearerr Produce
}

# consume a topic to its end, envelopes minus nothing
consume() {
	weir-ingest -C -b "$BROKERS" -e "$@"
}

@test "ingest: --help, --version, synopsis, man page" {
	run weir-ingest --help
	assert_success
	assert_line --index 0 --partial "usage: weir-ingest -C"
	run weir-ingest --version
	assert_output "weir-ingest 0.1.0"
	check_synopsis weir-ingest
	run mandoc -T lint -W warning "$TOP/man/weir-ingest.1"
	assert_output ""
}

@test "ingest: usage errors exit 2 with the synopsis" {
	run weir-ingest --no-such-option
	assert_failure 2
	assert_line --partial "usage: weir-ingest"
	run weir-ingest -b x
	assert_failure 2
	assert_line --index 0 "weir-ingest: give a mode: -C, -G, -P, -L, -Q or -B"
	run weir-ingest -C -P -b x -t t
	assert_failure 2
	assert_line --index 0 "weir-ingest: give only one of -C, -G, -P, -L, -Q, -B"
	run weir-ingest -C -t t
	assert_line --index 0 "weir-ingest: no brokers: give -b or bootstrap.servers"
	run weir-ingest -C -b x
	assert_line --index 0 "weir-ingest: no topic: give -t"
	run weir-ingest -C -b x -t t extra
	assert_line --index 0 "weir-ingest: unexpected argument: 'extra'"
	run weir-ingest -C -b x -t t -o soon
	assert_failure 2
	assert_output "weir-ingest: invalid offset: 'soon'"
	run weir-ingest -C -b x -t t -o 1 -o 2
	assert_output "weir-ingest: more than one start offset: '2'"
	run weir-ingest -C -b x -t t -o s@yesterday
	assert_output "weir-ingest: invalid start time: 's@yesterday'"
	run weir-ingest -C -b x -t t -m 0
	assert_failure 2
	run weir-ingest -C -b x -t t --checkpoint-interval 0
	assert_failure 2
	run weir-ingest -C -b x -t t --checkpoint-interval 5parsecs
	assert_failure 2
	run weir-ingest -C -b x -t t --raw --checkpoint-interval 10
	assert_line --index 0 "weir-ingest: --checkpoint-interval needs envelopes, not --raw"
	run weir-ingest -G g -b x -p 1 t
	assert_line --index 0 "weir-ingest: -p does not go with -G: the group assigns partitions"
	run weir-ingest -P -b x -t t -o 5
	assert_line --index 0 "weir-ingest: -o and -e are for -C and -G"
	run weir-ingest -C -b x -t t -o stored
	assert_line --index 0 "weir-ingest: -o stored needs -G"
	run weir-ingest -P -b x -t t -D ''
	assert_output "weir-ingest: bad delimiter: empty"
	run weir-ingest -P -b x -t t -K '\q'
	assert_output "weir-ingest: bad key delimiter: unknown escape '\\q'"
	run weir-ingest -P -b x -t t -H =v
	assert_output "weir-ingest: bad header: '=v' (want NAME[=VALUE])"
	run weir-ingest -Q -b x -t nocolon
	assert_output "weir-ingest: bad query: 'nocolon' (want TOPIC[:PARTITION]:TIME)"
	run weir-ingest -L -b x -J -t a --framed
	assert_failure 2
	assert_line --index 0 "weir-ingest: --framed is for -C, -G and -B"
	run weir-ingest -B -k key
	assert_line --index 0 "weir-ingest: -k is for -P and -B --raw"
	run weir-ingest -L -b x -K :
	assert_line --index 0 "weir-ingest: --raw, -D and -K are for -C, -G, -P and -B"
	run weir-ingest -P -b x -t t -c 5
	assert_line --index 0 "weir-ingest: -c is for -C, -G and -B"
	run weir-ingest -Q -b x -t t:0:end -p 1
	assert_line --index 0 "weir-ingest: -p is for -C and -P"
	run weir-ingest -B -t t
	assert_failure 2
	assert_line --index 0 "weir-ingest: -t does not go with -B: each file is its own topic"
}

@test "ingest: an unreachable broker is a clear error, exit 1, within -m" {
	local mode
	for mode in "-C -t t" "-P -t t" "-L" "-Q -t t:0:end" "-G g t"; do
		SECONDS=0
		# shellcheck disable=SC2086
		run weir-ingest $mode -b 127.0.0.1:1 -m 1s </dev/null
		assert_failure 1
		assert_line --partial "cannot get metadata from '127.0.0.1:1': "
		[ "$SECONDS" -le 3 ] || fail "$mode took $SECONDS s"
	done
}

@test "ingest: envelopes round-trip through -P and -C, field by field" {
	broker_cmd topic rt 2
	cat >in.ndjson <<'EOF'
{"key":"k1","value":"v1","timestamp":1700000000001}
{"key":null,"value":null,"timestamp":1700000000002}
{"key":"","value":"","timestamp":1700000000003}
{"key_b64":"AP8=","value_b64":"/wABAg==","timestamp":1700000000004}
{"value":"h","timestamp":1700000000005,"headers":[{"name":"a","value":"1"},{"name":"a","value":"1"},{"name":"n","value":null},{"name":"e","value":""},{"name":"b","value_b64":"gA=="},{"name_b64":"/w==","value":"x"}]}
{"value":{"nested":[1,2.50,"x"]},"timestamp":"2023-11-14T22:13:20.006Z"}
{"value":"to partition 1","partition":1,"timestamp":1700000000007,"topic":"rt","offset":99,"timestamp_type":"log_append"}
{"value":"nul\u0000inside","timestamp":1700000000008,"key":"caf\u00e9"}
EOF
	run weir-ingest -P -b "$BROKERS" -t rt -p 0 in.ndjson
	assert_success
	assert_output ""
	run consume -t rt -p 0
	assert_success
	assert_output - <<'EOF'
{"topic":"rt","partition":0,"offset":0,"timestamp":1700000000001,"timestamp_type":"create","key":"k1","value":"v1"}
{"topic":"rt","partition":0,"offset":1,"timestamp":1700000000002,"timestamp_type":"create","key":null,"value":null}
{"topic":"rt","partition":0,"offset":2,"timestamp":1700000000003,"timestamp_type":"create","key":"","value":""}
{"topic":"rt","partition":0,"offset":3,"timestamp":1700000000004,"timestamp_type":"create","key_b64":"AP8=","value_b64":"/wABAg=="}
{"topic":"rt","partition":0,"offset":4,"timestamp":1700000000005,"timestamp_type":"create","key":null,"headers":[{"name":"a","value":"1"},{"name":"a","value":"1"},{"name":"n","value":null},{"name":"e","value":""},{"name":"b","value_b64":"gA=="},{"name_b64":"/w==","value":"x"}],"value":"h"}
{"topic":"rt","partition":0,"offset":5,"timestamp":1700000000006,"timestamp_type":"create","key":null,"value":"{\"nested\":[1,2.50,\"x\"]}"}
{"topic":"rt","partition":0,"offset":6,"timestamp":1700000000008,"timestamp_type":"create","key":"café","value":"nul\u0000inside"}
EOF
	run consume -t rt -p 1
	assert_output '{"topic":"rt","partition":1,"offset":0,"timestamp":1700000000007,"timestamp_type":"create","key":null,"value":"to partition 1"}'
	# what -C wrote produces the same messages again
	consume -t rt -p 0 | jq -c 'del(.topic, .partition)' | weir-ingest -P -b "$BROKERS" -t rt2
	run bash -c "weir-ingest -C -b $BROKERS -e -t rt2 | jq -c 'del(.topic, .partition, .offset)' | sort"
	assert_equal "$output" "$(consume -t rt -p 0 | jq -c 'del(.topic, .partition, .offset)' | sort)"
}

@test "ingest: a timestamp of 0 cannot be produced: it is said once, and the record still goes" {
	broker_cmd topic t0 1
	printf '%s\n' '{"value":"a","timestamp":0}' '{"value":"b","timestamp":0}' '{"value":"c","timestamp":5}' >in.ndjson
	run weir-ingest -P -b "$BROKERS" -t t0 in.ndjson
	assert_success
	assert_output "weir-ingest: timestamp 0 (1970-01-01T00:00:00Z) cannot be produced: librdkafka sends the current time instead (said once)"
	run bash -c "weir-ingest -C -b $BROKERS -t t0 -e | jq -r '[.value, (.timestamp > 1700000000000), .timestamp] | @tsv'"
	assert_success
	assert_line --index 0 --regexp $'^a\ttrue\t'
	assert_line --index 1 --regexp $'^b\ttrue\t'
	assert_line --index 2 $'c\tfalse\t5'
}

@test "ingest: a malformed envelope names its line; nothing after it is lost or reordered" {
	broker_cmd topic bad 1
	printf '%s\n' '{"value":"1"}' '{"value":' '{"vaule":"x"}' '' '{"value":"4","key_b64":"***"}' \
		'{"value":"5","partition":"zero"}' '[1]' '{"value":"7","key":"k","key_b64":"aw=="}' \
		'{"value":"8","headers":{"a":"b"}}' '{"value":"9","timestamp":"noon"}' '{"value":"10"}' \
		'{"@weir":"barrier","id":1,"sources":{}}' '{"value":"12"}' >in.ndjson
	run weir-ingest -P -b "$BROKERS" -t bad in.ndjson
	assert_failure 1
	assert_output - <<'EOF'
weir-ingest: 'in.ndjson' line 2: bad envelope: unexpected end of input at byte 10: skipped
weir-ingest: 'in.ndjson' line 3: bad envelope: unknown field 'vaule': skipped
weir-ingest: 'in.ndjson' line 5: bad envelope: 'key_b64' is not valid base64: skipped
weir-ingest: 'in.ndjson' line 6: bad envelope: 'partition' is not a partition number: skipped
weir-ingest: 'in.ndjson' line 7: bad envelope: not a JSON object: skipped
weir-ingest: 'in.ndjson' line 8: bad envelope: both 'key' and 'key_b64': skipped
weir-ingest: 'in.ndjson' line 9: bad envelope: 'headers' is not an array: skipped
weir-ingest: 'in.ndjson' line 10: bad envelope: 'timestamp' is not milliseconds since the epoch or an ISO-8601 time: skipped
EOF
	run bash -c "weir-ingest -C -b $BROKERS -t bad -e | jq -r .value | paste -sd ' '"
	assert_output "1 10 12"
	# on standard input the message says "line N"
	run weir-ingest -P -b "$BROKERS" -t bad <<<'{"value":1,}'
	assert_failure 1
	assert_output --regexp "^weir-ingest: line 1: bad envelope: .*: skipped$"
}

@test "ingest: -P needs a topic from -t or the envelope" {
	broker_cmd topic named 1
	run weir-ingest -P -b "$BROKERS" <<<'{"value":"x"}
{"topic":"named","value":"y"}'
	assert_failure 1
	assert_output "weir-ingest: line 1: no topic (give -t or a \"topic\" field): skipped"
	run bash -c "weir-ingest -C -b $BROKERS -t named -e | jq -r .value"
	assert_output "y"
}

@test "ingest: raw produce: -K, -k, -D, -H, -Z, empty records" {
	broker_cmd topic raw 1
	printf 'k1:v1\nnokey\n\nk3:\n:v4\nk5:a:b\n' | weir-ingest -P -b "$BROKERS" -t raw -K : -k fixed -H h1=x -H h1=y -H nul
	run bash -c "weir-ingest -C -b $BROKERS -t raw -e | jq -c '[.key, .value, .headers]'"
	assert_output - <<'EOF'
["k1","v1",[{"name":"h1","value":"x"},{"name":"h1","value":"y"},{"name":"nul","value":null}]]
["fixed","nokey",[{"name":"h1","value":"x"},{"name":"h1","value":"y"},{"name":"nul","value":null}]]
["k3","",[{"name":"h1","value":"x"},{"name":"h1","value":"y"},{"name":"nul","value":null}]]
["","v4",[{"name":"h1","value":"x"},{"name":"h1","value":"y"},{"name":"nul","value":null}]]
["k5","a:b",[{"name":"h1","value":"x"},{"name":"h1","value":"y"},{"name":"nul","value":null}]]
EOF
	broker_cmd topic rawz 1
	printf 'k3:\n:v4\n' | weir-ingest -P -b "$BROKERS" -t rawz -K : -Z
	run bash -c "weir-ingest -C -b $BROKERS -t rawz -e | jq -c '[.key, .value]'"
	assert_output '["k3",null]
[null,"v4"]'
	# a multi-byte delimiter given with escapes, binary records
	broker_cmd topic rawd 1
	printf 'a\x00\xff||b\n||||c' | weir-ingest -P -b "$BROKERS" -t rawd -D '\x7c|'
	run bash -c "weir-ingest -C -b $BROKERS -t rawd -e | jq -c '[.value, .value_b64]'"
	assert_output '[null,"YQD/"]
["b\n",null]
["c",null]'
}

@test "ingest: every compression codec" {
	local z
	for z in none gzip snappy lz4 zstd; do
		broker_cmd topic "z$z" 1
		seq 1 500 | weir-ingest -P -b "$BROKERS" -t "z$z" -z "$z" -r
		run bash -c "weir-ingest -C -b $BROKERS -t z$z -e | jq -r .value | md5sum"
		assert_equal "$output" "$(seq 1 500 | md5sum)"
	done
	run weir-ingest -P -b "$BROKERS" -t znone -z rot13 </dev/null
	assert_failure 2
	assert_output --partial "weir-ingest: bad Kafka property 'compression.type'"
}

@test "ingest: -P reads files in order, compressed ones too; an unreadable one is reported" {
	broker_cmd topic files 1
	printf '{"value":"a"}\n' >one.ndjson
	printf '{"value":"b"}\n{"value":"c"}\n' | gzip >two.ndjson.gz
	run weir-ingest -P -b "$BROKERS" -t files one.ndjson missing.ndjson two.ndjson.gz
	assert_failure 1
	assert_output "weir-ingest: cannot read 'missing.ndjson': No such file or directory"
	run bash -c "weir-ingest -C -b $BROKERS -t files -e | jq -r .value | paste -sd ' '"
	assert_output "a b c"
}

@test "ingest: idempotence is on by default; -X dump redacts secrets; -X list" {
	run weir-ingest -P -b "$BROKERS" -X dump -X sasl.password=hunter2 -X ssl.key.password=p2
	assert_success
	assert_line "enable.idempotence = true"
	assert_line "sasl.password = [redacted]"
	assert_line "ssl.key.password = [redacted]"
	refute_output --partial hunter2
	refute_output --partial p2
	run weir-ingest -P -b "$BROKERS" -X enable.idempotence=false -X dump
	assert_line "enable.idempotence = false"
	run weir-ingest -X list
	assert_success
	assert_output --partial "bootstrap.servers"
	run weir-ingest -C -b x -t t -X no.such.property=1
	assert_failure 2
	assert_output --partial "weir-ingest: bad Kafka property 'no.such.property'"
	run weir-ingest -C -b x -t t -X novalue
	assert_failure 2
	assert_output "weir-ingest: expected key=value: 'novalue'"
}

@test "ingest: configuration from \$WEIR_KAFKA_CONFIG, then -F, then -X" {
	printf 'bootstrap.servers=%s\nclient.id=from-env\nsasl.password=hunter2\n' "$BROKERS" >env.properties
	printf 'client.id: from-file\n' >file.properties
	WEIR_KAFKA_CONFIG=$PWD/env.properties run weir-ingest -L -X dump
	assert_line "client.id = from-env"
	assert_line "sasl.password = [redacted]"
	WEIR_KAFKA_CONFIG=$PWD/env.properties run weir-ingest -L -F file.properties -X dump
	assert_line "client.id = from-file"
	WEIR_KAFKA_CONFIG=$PWD/env.properties run weir-ingest -L -X client.id=from-x -F file.properties -X dump
	assert_line "client.id = from-file"
	# bootstrap.servers from the file is enough
	broker_cmd topic cfg 1
	WEIR_KAFKA_CONFIG=$PWD/env.properties run weir-ingest -L -t cfg
	assert_success
	run weir-ingest -L -F nonexistent.properties
	assert_failure 2
	assert_output "weir-ingest: cannot open config file 'nonexistent.properties': No such file or directory"
}

@test "ingest: delivery failures are counted, named and make exit 1" {
	broker_cmd topic fail 1
	broker_cmd err Produce 50 TOPIC_AUTHORIZATION_FAILED
	run weir-ingest -P -b "$BROKERS" -t fail <<<'{"value":"x"}
{"value":"y"}'
	assert_failure 1
	assert_line --regexp "^weir-ingest: line [12]: delivery to topic 'fail' failed: Broker: Topic authorization failed$"
	assert_line "weir-ingest: 2 of 2 messages were not delivered"
	broker_cmd clearerr Produce
	# a partition the topic does not have
	run weir-ingest -P -b "$BROKERS" -t fail <<<'{"value":"x","partition":7}'
	assert_failure 1
	assert_output "weir-ingest: line 1: cannot produce to topic 'fail': Local: Unknown partition: skipped"
}

@test "ingest: a broker that goes away mid-stream: undelivered messages fail the run" {
	broker_cmd topic away 1
	mkfifo in
	weir-ingest -P -b "$BROKERS" -t away -X message.timeout.ms=1500 <in >out 2>err 3>&- &
	local pid=$!
	exec 5>in
	echo '{"value":"before"}' >&5
	for _ in $(seq 100); do
		[ "$(weir-ingest -C -b "$BROKERS" -t away -e 2>/dev/null | wc -l)" = 1 ] && break
		sleep 0.1
	done
	broker_cmd down all
	echo '{"value":"after"}' >&5
	exec 5>&-
	local st=0
	wait "$pid" || st=$?
	assert_equal "$st" 1
	run cat err
	assert_output --partial "line 2: delivery to topic 'away' failed: Local: Message timed out"
	assert_output --partial "1 of 2 messages were not delivered"
}

@test "ingest: SIGTERM stops -P reading, and what was read is delivered" {
	broker_cmd topic sig 1
	mkfifo in
	weir-ingest -P -b "$BROKERS" -t sig <in 2>err 3>&- &
	local pid=$!
	exec 5>in
	printf '{"value":"1"}\n{"value":"2"}\n' >&5
	for _ in $(seq 100); do
		[ "$(weir-ingest -C -b "$BROKERS" -t sig -e 2>/dev/null | wc -l)" = 2 ] && break
		sleep 0.1
	done
	kill -TERM "$pid"
	local st=0
	wait "$pid" || st=$?
	exec 5>&-
	assert_equal "$st" 0
	run bash -c "weir-ingest -C -b $BROKERS -t sig -e | jq -r .value | paste -sd ' '"
	assert_output "1 2"
}

# ten messages 0..9 with timestamps 1000*(i+1) in a one-partition topic
ten() {
	broker_cmd topic "$1" 1
	local i
	for i in $(seq 0 9); do echo "{\"value\":\"$i\",\"timestamp\":$((1000 * (i + 1)))}"; done |
		weir-ingest -P -b "$BROKERS" -t "$1"
}

@test "ingest: -o beginning, end, N, -N; -c" {
	ten offs
	run bash -c "weir-ingest -C -b $BROKERS -t offs -e -o beginning | jq -r .value | paste -sd ' '"
	assert_output "0 1 2 3 4 5 6 7 8 9"
	run weir-ingest -C -b "$BROKERS" -t offs -e -o end
	assert_success
	assert_output ""
	run bash -c "weir-ingest -C -b $BROKERS -t offs -e -o 7 | jq -r .offset | paste -sd ' '"
	assert_output "7 8 9"
	run bash -c "weir-ingest -C -b $BROKERS -t offs -e -o -3 | jq -r .offset | paste -sd ' '"
	assert_output "7 8 9"
	run bash -c "weir-ingest -C -b $BROKERS -t offs -e -o -30 | jq -r .offset | paste -sd ' '"
	assert_output "0 1 2 3 4 5 6 7 8 9"
	run bash -c "weir-ingest -C -b $BROKERS -t offs -c 4 | jq -r .offset | paste -sd ' '"
	assert_success
	assert_output "0 1 2 3"
	run bash -c "weir-ingest -C -b $BROKERS -t offs -c 0"
	assert_output ""
}

@test "ingest: -o e@TIME stops each partition before its first later message" {
	ten endt
	# no -e needed: every partition reaching its end time ends the run
	run bash -c "weir-ingest -C -b $BROKERS -t endt -o e@4000 | jq -r .value | paste -sd ' '"
	assert_success
	assert_output "0 1 2"
	run bash -c "weir-ingest -C -b $BROKERS -t endt -o 2 -o e@1970-01-01T00:00:06Z | jq -r .value | paste -sd ' '"
	assert_output "2 3 4"
}

@test "ingest: -o s@TIME starts at the lookup's answer (the mock answers -1: the end)" {
	# weir-broker cannot look up offsets by time (ListOffsets by timestamp
	# returns -1, see weir-broker(1)); -1 means "no message that late" and
	# starts at the end, which is what is tested here.  Against a real
	# broker s@4000 would start at offset 3.
	ten startt
	run weir-ingest -C -b "$BROKERS" -t startt -e -o s@4000
	assert_success
	assert_output ""
	run weir-ingest -C -b "$BROKERS" -t startt -e -o s@2020-01-01T00:00:00Z -v
	assert_line "weir-ingest: reading topic 'startt' partition 0 from offset 10"
}

@test "ingest: -p chooses partitions; a missing partition or topic error is exit 1" {
	broker_cmd topic parts 3
	for p in 0 1 2; do echo "{\"value\":\"p$p\",\"partition\":$p}"; done | weir-ingest -P -b "$BROKERS" -t parts
	run bash -c "weir-ingest -C -b $BROKERS -t parts -p 2 -p 0 -e | jq -r .value | sort | paste -sd ' '"
	assert_output "p0 p2"
	run weir-ingest -C -b "$BROKERS" -t parts -p 3 -e
	assert_failure 1
	assert_output "weir-ingest: topic 'parts' has no partition 3 (it has 3)"
	broker_cmd topicerr denied TOPIC_AUTHORIZATION_FAILED
	run weir-ingest -C -b "$BROKERS" -t denied -e
	assert_failure 1
	assert_output "weir-ingest: topic 'denied': Broker: Topic authorization failed"
	broker_cmd topicerr denied 0
}

@test "ingest: several topics at once; all partitions of each" {
	broker_cmd topic ma 2
	broker_cmd topic mb 1
	printf '{"value":"a0","partition":0}\n{"value":"a1","partition":1}\n' | weir-ingest -P -b "$BROKERS" -t ma
	printf '{"value":"b0"}\n' | weir-ingest -P -b "$BROKERS" -t mb
	run bash -c "weir-ingest -C -b $BROKERS -t ma -t mb -e | jq -r '.topic + \":\" + (.partition|tostring) + \":\" + .value' | sort | paste -sd ' '"
	assert_output "ma:0:a0 ma:1:a1 mb:0:b0"
}

@test "ingest: a live stream is written as it arrives, and SIGTERM ends it cleanly" {
	broker_cmd topic live 2
	weir-ingest -C -b "$BROKERS" -t live -o end -v >out 2>err 3>&- &
	local pid=$!
	# "end" is where the end is once both partitions are placed
	for _ in $(seq 200); do [ "$(grep -c "reading topic 'live'" err)" = 2 ] && break; sleep 0.05; done
	echo '{"value":"first"}' | weir-ingest -P -b "$BROKERS" -t live
	for _ in $(seq 100); do grep -q first out && break; sleep 0.05; done
	run jq -r .value out
	assert_output "first"
	echo '{"value":"second"}' | weir-ingest -P -b "$BROKERS" -t live
	for _ in $(seq 100); do grep -q second out && break; sleep 0.05; done
	kill -TERM "$pid"
	local st=0
	wait "$pid" || st=$?
	assert_equal "$st" 0
	run jq -r .value out
	assert_output "first
second"
}

@test "ingest: --raw output with -K and -D" {
	broker_cmd topic rawout 1
	printf '{"key":"k","value":"v"}\n{"value":"w"}\n{"key":"n","value":null}\n' | weir-ingest -P -b "$BROKERS" -t rawout
	weir-ingest -C -b "$BROKERS" -t rawout -e --raw >out
	printf 'v\nw\n\n' | cmp - out
	run bash -c "weir-ingest -C -b $BROKERS -t rawout -e -K = -D '|'"
	assert_output "k=v|=w|n=|"
}

@test "ingest: --framed output starts with the framed magic" {
	broker_cmd topic framed 1
	echo '{"value":"x"}' | weir-ingest -P -b "$BROKERS" -t framed
	weir-ingest -C -b "$BROKERS" -t framed -e --framed >out
	run od -An -c -N4 out
	assert_output --regexp '377 +W +R +1'
	WEIR_FRAMED=1 weir-ingest -C -b "$BROKERS" -t framed -e >out2
	cmp out out2
}

@test "ingest: barriers every N records with exact sources, and a last one" {
	ten bar
	run weir-ingest -C -b "$BROKERS" -t bar -e -o 5 --checkpoint-interval 2
	assert_success
	assert_output - <<'EOF'
{"topic":"bar","partition":0,"offset":5,"timestamp":6000,"timestamp_type":"create","key":null,"value":"5"}
{"topic":"bar","partition":0,"offset":6,"timestamp":7000,"timestamp_type":"create","key":null,"value":"6"}
{"@weir":"barrier","id":1,"sources":{"bar":{"0":7}}}
{"topic":"bar","partition":0,"offset":7,"timestamp":8000,"timestamp_type":"create","key":null,"value":"7"}
{"topic":"bar","partition":0,"offset":8,"timestamp":9000,"timestamp_type":"create","key":null,"value":"8"}
{"@weir":"barrier","id":2,"sources":{"bar":{"0":9}}}
{"topic":"bar","partition":0,"offset":9,"timestamp":10000,"timestamp_type":"create","key":null,"value":"9"}
{"@weir":"barrier","id":3,"sources":{"bar":{"0":10}}}
EOF
	# nothing read, nothing to cut
	run weir-ingest -C -b "$BROKERS" -t bar -e -o end --checkpoint-interval 2
	assert_output ""
}

@test "ingest: barriers over many partitions are consistent cuts" {
	broker_cmd topic cut 4
	seq 1 400 | weir-ingest -P -b "$BROKERS" -t cut -r -K :
	broker_cmd topic cut2 1
	seq 1 50 | weir-ingest -P -b "$BROKERS" -t cut2 -r
	weir-ingest -C -b "$BROKERS" -t cut -t cut2 -e --checkpoint-interval 37 >out
	# every record before a barrier lies below its cut, every record after
	# at or above it; and every partition is in every barrier
	run jq -n -r -c '
		[inputs] as $all
		| [range(0; $all | length) | select($all[.]["@weir"] == "barrier")] as $bi
		| [$bi[] as $b | $all[$b].sources as $s
		   | range(0; $all | length) as $i | $all[$i] | select(has("value"))
		   | ($s[.topic][.partition | tostring]) as $cut
		   | select(($i < $b and .offset >= $cut) or ($i > $b and .offset < $cut))] | length,
		  ([$bi[] | $all[.].sources | [.[] | keys[]] | length] | unique),
		  ($bi | length), ([$all[] | select(has("value"))] | length),
		  ([$bi[] | $all[.].id] == [range(1; ($bi | length) + 1)])' out
	assert_output "0
[5]
13
450
true"
}

@test "ingest: barriers by time, also while the topic is quiet" {
	broker_cmd topic tbar 1
	weir-ingest -C -b "$BROKERS" -t tbar --checkpoint-interval 300ms >out 2>err 3>&- &
	local pid=$!
	sleep 0.5
	echo '{"value":"a"}' | weir-ingest -P -b "$BROKERS" -t tbar
	for _ in $(seq 60); do grep -q barrier out && break; sleep 0.05; done
	echo '{"value":"b"}' | weir-ingest -P -b "$BROKERS" -t tbar
	sleep 1
	kill -TERM "$pid"
	wait "$pid"
	run jq -c 'if has("value") then .value else [.id, .sources] end' out
	assert_output '"a"
[1,{"tbar":{"0":1}}]
"b"
[2,{"tbar":{"0":2}}]'
}

@test "ingest: -G reads as a group, commits what it wrote, -o overrides commits" {
	broker_cmd topic grp 2
	for i in 1 2 3 4; do echo "{\"value\":\"$i\",\"partition\":$((i % 2))}"; done | weir-ingest -P -b "$BROKERS" -t grp
	local g=(-b "$BROKERS" -X session.timeout.ms=4000)
	run bash -c "weir-ingest -G gA ${g[*]} -c 3 grp | jq -r .value | wc -l"
	assert_output 3
	run bash -c "weir-ingest -G gA ${g[*]} -e grp | jq -r .value | wc -l"
	assert_output 1
	run bash -c "weir-ingest -G gA ${g[*]} -e -o beginning grp | jq -r .value | sort | paste -sd ' '"
	assert_output "1 2 3 4"
}

@test "ingest: -G with a regex subscription, cooperative rebalancing and barriers" {
	broker_cmd topic re.one 1
	broker_cmd topic re.two 1
	broker_cmd topic other 1
	echo '{"value":"1"}' | weir-ingest -P -b "$BROKERS" -t re.one
	echo '{"value":"2"}' | weir-ingest -P -b "$BROKERS" -t re.two
	echo '{"value":"x"}' | weir-ingest -P -b "$BROKERS" -t other
	run bash -c "weir-ingest -G gre -b $BROKERS -X partition.assignment.strategy=cooperative-sticky -e --checkpoint-interval 10 '^re\\..*' | jq -c 'if has(\"value\") then .value else .sources end' | sort"
	assert_output '"1"
"2"
{"re.one":{"0":1},"re.two":{"0":1}}'
}

@test "ingest: -L lists brokers and topics, human and JSON" {
	broker_cmd topic list.a 2
	broker_cmd leader list.a 0 1
	broker_cmd leader list.a 1 2
	run bash -c "weir-ingest -L -b $BROKERS -t list.a | sed -E 's/:[0-9]+/:PORT/g'"
	assert_success
	assert_output --regexp '^Metadata for the topics given \(from broker [12]: 127.0.0.1:PORT/[12]\):'
	assert_line " 2 brokers:"
	assert_line "  broker 1 at 127.0.0.1:PORT"
	assert_line "  broker 2 at 127.0.0.1:PORT"
	assert_line " 1 topics:"
	assert_line '  topic "list.a" with 2 partitions:'
	assert_line "    partition 0, leader 1, replicas: 1,2, isrs: 1,2"
	assert_line "    partition 1, leader 2, replicas: 1,2, isrs: 1,2"
	run bash -c "weir-ingest -L -b $BROKERS -t list.a -J | jq -c '[.brokers[].id, (.topics[] | .topic, .error, [.partitions[] | .partition, .leader, .replicas, .error])]'"
	assert_output '[1,2,"list.a",null,[0,1,[1,2],null,1,2,[1,2],null]]'
	# all topics
	run bash -c "weir-ingest -L -b $BROKERS -J | jq -r '.topics[].topic' | grep -c '^list.a$'"
	assert_output 1
	broker_cmd topicerr list.a TOPIC_AUTHORIZATION_FAILED
	run weir-ingest -L -b "$BROKERS" -t list.a
	assert_failure 1
	assert_line '  topic "list.a" with 2 partitions: Broker: Topic authorization failed'
	broker_cmd topicerr list.a 0
}

@test "ingest: -Q beginning and end; a time (the mock answers -1)" {
	ten query
	run weir-ingest -Q -b "$BROKERS" -t query:beginning -t query:0:end -t query:0:5000 -t query:1970-01-01T00:00:05Z
	assert_success
	# -1 for the times: weir-broker does not look up offsets by time (see
	# weir-broker(1)); a real broker answers 4 for both
	assert_output "query 0 -2 0
query 0 -1 10
query 0 5000 -1
query 0 5000 -1"
	run weir-ingest -Q -b "$BROKERS" -t query:0:end -J
	assert_output '{"topic":"query","partition":0,"time":-1,"offset":10}'
	run weir-ingest -Q -b "$BROKERS" -t query:3:end
	assert_failure 1
	assert_output "weir-ingest: topic 'query' has no partition 3 (it has 1)"
}

@test "ingest: interop: what weir-ingest -P writes, kcat reads byte for byte" {
	broker_cmd topic w2k 1
	cat >in.ndjson <<'EOF'
{"key":"k","value":"plain","headers":[{"name":"a","value":"1"},{"name":"a","value":"2"},{"name":"n","value":null},{"name":"e","value":""}]}
{"key":null,"value":null}
{"key":"","value":""}
{"key_b64":"AP8=","value_b64":"/wABAgMKDQ=="}
EOF
	weir-ingest -P -b "$BROKERS" -t w2k in.ndjson
	kcat -C -b "$BROKERS" -t w2k -e -q -f 'K%K:%k S%S:%s H%h\n' >got
	printf 'K1:k S5:plain Ha=1,a=2,n=NULL,e=\nK-1: S-1: H\nK0: S0: H\nK2:\0\377 S7:\377\0\1\2\3\n\r H\n' >want
	cmp got want
	# headers in kcat's JSON: order, duplicates and nulls kept
	run bash -c "kcat -C -b $BROKERS -t w2k -e -q -J -c 1 | jq -c .headers"
	assert_output '["a","1","a","2","n",null,"e",""]'
}

@test "ingest: interop: what kcat -P writes, weir-ingest -C reads exactly" {
	broker_cmd topic k2w 1
	printf '\0\377\1bin\n' >bin.dat
	kcat -P -b "$BROKERS" -t k2w -k bkey bin.dat
	printf 'k1:v1\nk2:\n:v3\n' | kcat -P -b "$BROKERS" -t k2w -K : -Z -H a=1 -H a=2 -H n
	run bash -c "weir-ingest -C -b $BROKERS -t k2w -e | jq -c 'del(.timestamp)'"
	assert_output - <<'EOF'
{"topic":"k2w","partition":0,"offset":0,"timestamp_type":"create","key":"bkey","value_b64":"AP8BYmluCg=="}
{"topic":"k2w","partition":0,"offset":1,"timestamp_type":"create","key":"k1","headers":[{"name":"a","value":"1"},{"name":"a","value":"2"},{"name":"n","value":null}],"value":"v1"}
{"topic":"k2w","partition":0,"offset":2,"timestamp_type":"create","key":"k2","headers":[{"name":"a","value":"1"},{"name":"a","value":"2"},{"name":"n","value":null}],"value":null}
{"topic":"k2w","partition":0,"offset":3,"timestamp_type":"create","key":null,"headers":[{"name":"a","value":"1"},{"name":"a","value":"2"},{"name":"n","value":null}],"value":"v3"}
EOF
	# the bytes themselves
	weir-ingest -C -b "$BROKERS" -t k2w -e -c 1 | jq -r .value_b64 | base64 -d | cmp - bin.dat
}

@test "ingest: -B --raw reads plain, compressed and archived files as topics" {
	printf 'a\nb\n\nc' >raw.txt
	printf '{"n":1}\n{"n":2}\n' >ev.ndjson
	tar cf t.tar raw.txt ev.ndjson
	zstd -q t.tar
	gzip -k ev.ndjson
	xz -k raw.txt
	bzip2 -k raw.txt
	zip -q z.zip ev.ndjson raw.txt
	run bash -c "weir-ingest -B --raw raw.txt ev.ndjson.gz t.tar t.tar.zst raw.txt.xz raw.txt.bz2 z.zip | jq -c '[.topic, .partition, .offset, .value]'"
	assert_success
	assert_output - <<'EOF'
["raw.txt",0,0,"a"]
["raw.txt",0,1,"b"]
["raw.txt",0,3,"c"]
["ev.ndjson.gz",0,0,"{\"n\":1}"]
["ev.ndjson.gz",0,1,"{\"n\":2}"]
["t.tar",0,0,"a"]
["t.tar",0,1,"b"]
["t.tar",0,3,"c"]
["t.tar",1,0,"{\"n\":1}"]
["t.tar",1,1,"{\"n\":2}"]
["t.tar.zst",0,0,"a"]
["t.tar.zst",0,1,"b"]
["t.tar.zst",0,3,"c"]
["t.tar.zst",1,0,"{\"n\":1}"]
["t.tar.zst",1,1,"{\"n\":2}"]
["raw.txt.xz",0,0,"a"]
["raw.txt.xz",0,1,"b"]
["raw.txt.xz",0,3,"c"]
["raw.txt.bz2",0,0,"a"]
["raw.txt.bz2",0,1,"b"]
["raw.txt.bz2",0,3,"c"]
["z.zip",0,0,"{\"n\":1}"]
["z.zip",0,1,"{\"n\":2}"]
["z.zip",1,0,"a"]
["z.zip",1,1,"b"]
["z.zip",1,3,"c"]
EOF
	# compressed data on a pipe, keys split, envelope fields complete
	run bash -c "printf 'k:v\n' | gzip | weir-ingest -B -K :"
	assert_output '{"topic":"-","partition":0,"offset":0,"timestamp":null,"timestamp_type":"none","key":"k","value":"v"}'
}

@test "ingest: -B replays an envelope dump byte for byte and checks it" {
	broker_cmd topic dump 1
	printf '{"key_b64":"/w==","value":"x","timestamp":5}\n{"value":null,"timestamp":6}\n' | weir-ingest -P -b "$BROKERS" -t dump
	weir-ingest -C -b "$BROKERS" -t dump -e --checkpoint-interval 1 >dump.ndjson
	grep -v '"@weir"' dump.ndjson >want
	weir-ingest -B dump.ndjson >got
	cmp got want
	# bad records name file and line, the rest goes on
	printf '%s\n' '{"value":"ok"}' 'not json' '{"value":"x","bogus":1}' '{"value":"ok2"}' | zstd -q >bad.zst
	run bash -c 'weir-ingest -B bad.zst 2>err'
	assert_failure 1
	assert_output '{"value":"ok"}
{"value":"ok2"}'
	run cat err
	assert_output - <<'EOF'
weir-ingest: 'bad.zst' line 2: bad envelope: invalid literal at byte 1: skipped
weir-ingest: 'bad.zst' line 3: bad envelope: unknown field 'bogus': skipped
EOF
	tar cf bad.tar bad.zst dump.ndjson
	run weir-ingest -B bad.tar missing.ndjson
	assert_failure 1
	assert_line "weir-ingest: cannot read 'missing.ndjson': No such file or directory"
}

@test "ingest: -B with -c and barriers keyed by file and member" {
	printf 'a\nb\nc\n' >f1.txt
	printf 'd\ne\n' >f2.txt
	tar cf both.tar f1.txt f2.txt
	run weir-ingest -B --raw f1.txt both.tar --checkpoint-interval 2 -c 7
	assert_success
	run bash -c "weir-ingest -B --raw f1.txt both.tar --checkpoint-interval 2 -c 7 | jq -c 'if .value then .value else [.id, .sources] end'"
	assert_output - <<'EOF'
"a"
"b"
[1,{"f1.txt":{"0":2}}]
"c"
"a"
[2,{"both.tar":{"0":1},"f1.txt":{"0":3}}]
"b"
"c"
[3,{"both.tar":{"0":3},"f1.txt":{"0":3}}]
"d"
[4,{"both.tar":{"0":3,"1":1},"f1.txt":{"0":3}}]
EOF
}

@test "ingest: a record longer than the limit is reported and skipped" {
	{ echo short; head -c 5000 /dev/zero | tr '\0' x; echo; echo after; } >long.txt
	WEIR_MAX_RECORD=4096 run weir-ingest -B --raw long.txt
	assert_failure 1
	assert_line "weir-ingest: 'long.txt' line 2: record longer than the limit (WEIR_MAX_RECORD): skipped"
	assert_equal "$(echo "$output" | grep -c '"value"')" 2
}

@test "ingest: >/dev/full exits 2" {
	broker_cmd topic full 1
	echo '{"value":"x"}' | weir-ingest -P -b "$BROKERS" -t full
	run bash -c "weir-ingest -C -b $BROKERS -t full -e >/dev/full"
	assert_failure 2
	assert_output --partial "write failure on standard output"
	run bash -c "weir-ingest -L -b $BROKERS -t full >/dev/full"
	assert_failure 2
	run bash -c "echo x | weir-ingest -B --raw >/dev/full"
	assert_failure 2
}

@test "ingest: the man page examples run" {
	K=$BROKERS
	printf '%s\n' 'a:1' 'b:2' |
		weir-ingest -P -b $K -t demo -p 0 -K : -H source=example
	run bash -c "weir-ingest -C -b $K -t demo -e | jq -c '[.key, .value, .headers[0].value]'"
	assert_output '["a","1","example"]
["b","2","example"]'
	printf '{"n":1}\n{"n":2}\n' | zstd -q >day.ndjson.zst
	run bash -c "weir-ingest -B --raw day.ndjson.zst | jq -c '[.topic, .offset, .value]'"
	assert_output '["day.ndjson.zst",0,"{\"n\":1}"]
["day.ndjson.zst",1,"{\"n\":2}"]'
}
