#!/usr/bin/env bats
# Exactly-once across processes (weir(7)): weir-ingest --resume-from and
# --ordered, restore 0 in the stateful tools, weir-lake-write after a
# restore, and small pipelines cut short the way a crash cuts them.  The
# random kills are in tests/crash/.

load helper
bats_require_minimum_version 1.5.0

setup_file() {
	start_broker
	short_fetch_wait
}

teardown_file() {
	stop_broker
}

setup() {
	cd "$BATS_TEST_TMPDIR"
}

ENV='topic STRING, partition INT, offset BIGINT, timestamp BIGINT, timestamp_type STRING, key STRING, value STRING'

# topic NAME with PARTS partitions, and N records per partition with values
# p<partition>-<offset>
topic() {
	local name=$1 parts=$2 n=$3 p i
	broker_cmd topic "$name" "$parts"
	for p in $(seq 0 $((parts - 1))); do
		for i in $(seq 0 $((n - 1))); do
			echo "{\"partition\":$p,\"value\":\"p$p-$i\",\"timestamp\":$((1000 * (i + 1) + p))}"
		done
	done | weir-ingest -P -b "$BROKERS" -t "$name"
}

# a table whose last commit for app id A is barrier $1 with sources $2
commit_barrier() {
	printf '{"topic":"x","partition":0,"offset":0,"value":"old"}\n{"@weir":"barrier","id":%s,"sources":%s}\n' "$1" "$2" |
		weir-lake-write -s "$ENV" t --app-id A >/dev/null
}

@test "resume: no table yet: restore 0 first, barriers from 1, the start of -o" {
	topic r0 1 3
	run weir-ingest -C -b "$BROKERS" -t r0 -e -o 1 --checkpoint-interval 10 --resume-from t --app-id A
	assert_success
	run jq -c 'if has("@weir") then . else .value end' <<<"$output"
	assert_output '{"@weir":"restore","id":0}
"p0-1"
"p0-2"
{"@weir":"barrier","id":1,"sources":{"r0":{"0":3}}}'
	[ ! -e t/_delta_log ]
}

@test "resume: from the table's last barrier for the app id: its offsets, restore N, barriers from N+1" {
	topic r1 2 5
	commit_barrier 7 '{"r1":{"0":3,"1":1}}'
	# another app's later commit does not count
	printf '{"value":"other"}\n{"@weir":"barrier","id":99,"sources":{"r1":{"0":5,"1":5}}}\n' |
		weir-lake-write t --app-id B >/dev/null
	run weir-ingest -C -b "$BROKERS" -t r1 -e --ordered --checkpoint-interval 100 --resume-from t --app-id A
	assert_success
	run jq -c 'if has("@weir") then . else .value end' <<<"$output"
	assert_output '{"@weir":"restore","id":7}
"p1-1"
"p1-2"
"p0-3"
"p1-3"
"p0-4"
"p1-4"
{"@weir":"barrier","id":8,"sources":{"r1":{"0":5,"1":5}},"committed":7}'
}

@test "resume: a partition the barrier did not record starts where -o says; -G resumes too" {
	topic r2 2 4
	commit_barrier 3 '{"r2":{"1":2}}'
	run bash -c "weir-ingest -C -b $BROKERS -t r2 -e -o 3 --checkpoint-interval 100 --resume-from t --app-id A | jq -r 'if has(\"@weir\") then .[\"@weir\"] + (.id | tostring) else .value end' | sort"
	assert_output 'barrier4
p0-3
p1-2
p1-3
restore3'
	run bash -c "weir-ingest -G rg -b $BROKERS -X session.timeout.ms=4000 -e --checkpoint-interval 100 --resume-from t --app-id A r2 | jq -r 'if has(\"@weir\") then .[\"@weir\"] + (.id | tostring) else .value end' | sort"
	assert_output 'barrier4
p0-0
p0-1
p0-2
p0-3
p1-2
p1-3
restore3'
}

@test "resume: offsets outside the partition, lost offsets and foreign commits are errors" {
	topic r3 1 2
	commit_barrier 2 '{"r3":{"0":9}}'
	run --separate-stderr weir-ingest -C -b "$BROKERS" -t r3 -e --checkpoint-interval 10 --resume-from t --app-id A
	assert_failure 1
	assert_equal "$stderr" "weir-ingest: cannot resume topic 'r3' partition 0 at offset 9 (barrier 2): it holds offsets 0 to 2"
	# a txn without weir's sources: not a barrier commit of weir-lake-write
	mkdir -p u/_delta_log
	cp t/_delta_log/00000000000000000000.json u/_delta_log/
	jq -c 'if .commitInfo then .commitInfo |= del(.weir) else . end' t/_delta_log/00000000000000000000.json >u/_delta_log/00000000000000000000.json
	run --separate-stderr weir-ingest -C -b "$BROKERS" -t r3 -e --checkpoint-interval 10 --resume-from u --app-id A
	assert_failure 2
	assert_equal "$stderr" "weir-ingest: cannot resume from 'u': version 0 commits barrier 2 for app id 'A' but records no sources (not written by weir-lake-write from a barrier)"
	# the commit is gone from the log (a checkpoint holds the txn only)
	for i in $(seq 1 10); do printf '{"value":"x"}\n' | weir-lake-write t >/dev/null; done
	rm t/_delta_log/00000000000000000000.json
	run --separate-stderr weir-ingest -C -b "$BROKERS" -t r3 -e --checkpoint-interval 10 --resume-from t --app-id A
	assert_failure 2
	assert_equal "$stderr" "weir-ingest: cannot resume from 't': the commit of barrier 2 for app id 'A' is no longer in its log"
}

@test "resume: -B goes on after the lines each file's and member's barrier recorded; a file that shrank is reported" {
	printf 'a\nb\nc\n' >f1.txt
	printf 'd\ne\n' >f2.txt
	tar cf both.tar f1.txt f2.txt
	backfill() { weir-ingest -B --raw f1.txt both.tar --checkpoint-interval 2 --resume-from s --app-id A; }
	local envelope='topic STRING, partition INT, offset BIGINT, timestamp TIMESTAMP, timestamp_type STRING, key STRING, value STRING'
	# a run cut after barrier 2: f1.txt whole and the first line of the
	# tar's first member committed
	backfill | head -n 7 | weir-lake-write -s "$envelope" s --app-id A >/dev/null
	run bash -c "$(declare -f backfill); backfill | jq -c 'if .value then [.topic, .partition, .offset, .value] else . end'"
	assert_success
	assert_output '{"@weir":"restore","id":2}
["both.tar",0,1,"b"]
["both.tar",0,2,"c"]
{"@weir":"barrier","id":3,"sources":{"both.tar":{"0":3},"f1.txt":{"0":3}},"committed":2}
["both.tar",1,0,"d"]
["both.tar",1,1,"e"]
{"@weir":"barrier","id":4,"sources":{"both.tar":{"0":3,"1":2},"f1.txt":{"0":3}},"committed":2}'
	backfill | weir-lake-write s --app-id A >/dev/null
	run bash -c "weir-lake-cat s | jq -r '[.topic, .partition, .offset, .value] | @tsv' | sort"
	assert_output "$(printf 'both.tar\t0\t0\ta\nboth.tar\t0\t1\tb\nboth.tar\t0\t2\tc\nboth.tar\t1\t0\td\nboth.tar\t1\t1\te\nf1.txt\t0\t0\ta\nf1.txt\t0\t1\tb\nf1.txt\t0\t2\tc')"
	# everything committed: a rerun writes nothing but the restore
	run backfill
	assert_success
	assert_output '{"@weir":"restore","id":4}'
	printf 'a\n' >f1.txt
	run --separate-stderr backfill
	assert_failure 1
	assert_output '{"@weir":"restore","id":4}'
	assert_equal "$stderr" "weir-ingest: cannot resume 'f1.txt' partition 0 after line 3 (barrier 4): it now ends at line 1; it has changed since"
}

@test "resume: usage errors" {
	run weir-ingest -C -b x -t t --resume-from t
	assert_failure 2
	assert_line --index 0 "weir-ingest: --resume-from and --app-id go together"
	run weir-ingest -C -b x -t t --resume-from t --app-id A
	assert_line --index 0 "weir-ingest: --resume-from needs --checkpoint-interval: only barriers are committed"
	run weir-ingest -L -b x --resume-from t --app-id A --checkpoint-interval 1
	assert_line --index 0 "weir-ingest: --checkpoint-interval is for -C, -G and -B"
	run weir-ingest -Q -b x -t t:0:1 --resume-from t --app-id A
	assert_line --index 0 "weir-ingest: --resume-from is for -C, -G and -B"
	run weir-ingest -C -b x -t t --resume-from t --app-id '' --checkpoint-interval 1
	assert_line --index 0 "weir-ingest: --app-id must not be empty"
	run weir-ingest -G g -b x --ordered t
	assert_line --index 0 "weir-ingest: --ordered is for -C"
}

@test "ordered: partitions merged by timestamp, ties to the lower partition, the same every run" {
	broker_cmd topic ord 3
	# partition 2 runs ahead in time, partition 0 and 1 tie
	for i in 0 1 2 3; do
		echo "{\"partition\":0,\"value\":\"a$i\",\"timestamp\":$((1000 + 10 * i))}"
		echo "{\"partition\":1,\"value\":\"b$i\",\"timestamp\":$((1000 + 10 * i))}"
		echo "{\"partition\":2,\"value\":\"c$i\",\"timestamp\":$((1025 + 10 * i))}"
	done | weir-ingest -P -b "$BROKERS" -t ord
	run bash -c "weir-ingest -C -b $BROKERS -t ord -e --ordered | jq -r .value | paste -sd ' '"
	assert_output "a0 b0 a1 b1 a2 b2 c0 a3 b3 c1 c2 c3"
	for _ in 1 2 3; do
		run bash -c "weir-ingest -C -b $BROKERS -t ord -e --ordered | jq -r .value | paste -sd ' '"
		assert_output "a0 b0 a1 b1 a2 b2 c0 a3 b3 c1 c2 c3"
	done
	# from a cut, the rest comes in the same order
	run bash -c "weir-ingest -C -b $BROKERS -t ord -e --ordered --checkpoint-interval 7 | jq -c 'select(has(\"@weir\")) | .sources' | head -n 1"
	assert_output '{"ord":{"0":3,"1":3,"2":1}}'
	commit_barrier 1 '{"ord":{"0":3,"1":3,"2":1}}'
	run bash -c "weir-ingest -C -b $BROKERS -t ord -e --ordered --checkpoint-interval 100 --resume-from t --app-id A | jq -r 'select(has(\"value\")) | .value' | paste -sd ' '"
	assert_output "a3 b3 c1 c2 c3"
}

@test "ordered: a partition without records holds the others back until it has one" {
	broker_cmd topic hold 2
	echo '{"partition":0,"value":"x","timestamp":1}' | weir-ingest -P -b "$BROKERS" -t hold
	weir-ingest -C -b "$BROKERS" -t hold --ordered >out 2>err 3>&- &
	local pid=$!
	sleep 1
	[ ! -s out ] || fail "a record came out while partition 1 was empty: $(cat out)"
	echo '{"partition":1,"value":"y","timestamp":2}' | weir-ingest -P -b "$BROKERS" -t hold
	for _ in $(seq 100); do [ "$(wc -l <out)" -ge 1 ] && break; sleep 0.05; done
	kill -TERM "$pid"
	wait "$pid"
	run jq -r .value out
	# x is taken once y stands beside it; y waits for partition 0's next
	assert_output "x"
	# with --idle, an empty partition holds the others back only so long
	run bash -c "timeout 10 weir-ingest -C -b $BROKERS -t hold --ordered --idle 300ms -c 2 | jq -r .value | paste -sd ' '"
	assert_output "x y"
	echo '{"partition":0,"value":"z","timestamp":3}' | weir-ingest -P -b "$BROKERS" -t hold
	run bash -c "timeout 10 weir-ingest -C -b $BROKERS -t hold --ordered --idle 300ms -c 3 | jq -r .value | paste -sd ' '"
	assert_output "x y z"
	run weir-ingest -C -b "$BROKERS" -t hold --idle 1s
	assert_failure 2
	assert_line --index 0 "weir-ingest: --idle goes with --ordered"
}

@test "restore 0: window, dedup and join start empty and drop the snapshots of an earlier attempt" {
	mkdir -p st/w st/d st/j
	printf '{"@weir":"barrier","id":1}\n{"@weir":"barrier","id":2}\n' >b.ndjson
	weir-window --tumble 1m --time t --agg 'count(*) AS n' --state st/w <b.ndjson >/dev/null
	weir-dedup --key k --state st/d <b.ndjson >/dev/null
	[ "$(ls st/w st/d | grep -c snapshot)" -eq 4 ]
	printf '{"@weir":"restore","id":0}\n{"t":0,"k":1}\n{"@weir":"barrier","id":1}\n' >r.ndjson
	run --separate-stderr weir-window --tumble 1m --time t --agg 'count(*) AS n' --state st/w <r.ndjson
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(ls st/w)" "snapshot-00000000000000000001.bin"
	run --separate-stderr weir-dedup --key k --state st/d <r.ndjson
	assert_success
	assert_equal "$(ls st/d)" "snapshot-00000000000000000001.bin"
	assert_output '{"@weir":"restore","id":0}
{"t":0,"k":1}
{"@weir":"barrier","id":1}'
	# restore 0 without --state is no news: no warning
	run --separate-stderr weir-dedup --key k <r.ndjson
	assert_equal "$stderr" ""
	# a stream-stream join
	printf '{"@weir":"restore","id":0}\n{"k":1,"t":"2024-01-01T00:00:00Z"}\n{"@weir":"barrier","id":1}\n' >l.ndjson
	cp l.ndjson rr.ndjson
	touch st/j/snapshot-00000000000000000005.bin
	run --separate-stderr weir-join --left-stream l.ndjson --right-stream rr.ndjson --on k --between 'r.t - 1m AND r.t + 1m' \
		--time t --state st/j
	assert_success
	assert_equal "$(ls st/j)" "snapshot-00000000000000000001.bin"
}

@test "lake-write: rows after a restore are committed only by a barrier" {
	printf '{"@weir":"restore","id":4}\n{"v":1}\n' | weir-lake-write -s 'v INT' t --app-id A
	[ ! -e t/_delta_log/00000000000000000000.json ] || [ "$(weir-lake-cat t | wc -l)" -eq 0 ]
	printf '{"@weir":"restore","id":4}\n{"v":1}\n{"@weir":"barrier","id":5,"sources":{}}\n' |
		weir-lake-write -s 'v INT' t --app-id A >/dev/null
	run weir-lake-cat t
	assert_output '{"v":1}'
}

# The pipeline of weir(7) with a crash emulated: `head` cuts the stream
# after some records, so the later stages see a stream that stops mid-way,
# as they do when an earlier stage is killed.
. "$BATS_TEST_DIRNAME/crash/gold.sh"

gold_after() {
	weir-ingest -C -b "$BROKERS" -t clk -e --ordered --checkpoint-interval 500 --resume-from gold --app-id g |
		head -n "$1" |
		weir-parse -q --schema "$EVENT" --dlq /dev/null |
		weir-dedup --key event_id --within 10m --time ts --state st/dedup |
		weir-window --tumble 10s --time ts --delay 20s --by device --agg "$AGG" --state st/window |
		weir-lake-write --schema "$GOLD" gold --app-id g >/dev/null
}

@test "a pipeline cut short again and again ends with the rows of one that never was" {
	broker_cmd topic clk 3
	"$TOP/scripts/gen-events" -n 6000 --rate 50 --users 300 --dup 0.05 --late 0.03 --lateness 60 \
		--envelope clk --partitions 3 >ev.ndjson
	weir-ingest -P -b "$BROKERS" <ev.ndjson
	# the batch run: the same order --ordered reads, no barriers
	weir-ingest -C -b "$BROKERS" -t clk -e --ordered |
		weir-parse -q --schema "$EVENT" --dlq /dev/null |
		weir-dedup --key event_id --within 10m --time ts |
		weir-window --tumble 10s --time ts --delay 20s --by device --agg "$AGG" --no-flush |
		weir-lake-write --schema "$GOLD" ref >/dev/null
	local n
	for n in 700 1900 1950 2600 4100 4101 5000; do
		gold_after "$n" 2>/dev/null
	done
	gold_after 1000000
	[ "$(weir-lake-cat ref | wc -l)" -gt 20 ]
	run diff <(weir-lake-cat ref | sort) <(weir-lake-cat gold | sort)
	assert_success
	# every cut made progress: commits came from more than one run
	[ "$(weir-lake-cat --history gold | jq -r .weir.barrier | sort -un | wc -l)" -gt 8 ]
}

# ---- Kafka to Kafka: -P --app-id commits a transaction per barrier ----
# weir-broker is librdkafka's mock cluster: its EndTxn writes no transaction
# markers and read_committed is not emulated, so records of an aborted
# transaction that reached it stay visible.  These tests cut streams at
# barriers (nothing aborted is ever sent) and check the transactions and
# checkpoints; that an aborted transaction stays invisible needs a real
# broker.

k2k() {
	weir-ingest -C -b "$BROKERS" -t kin -e --ordered --checkpoint-interval 6 --resume-from kafka:kck --app-id K |
		head -n "$1" | jq -c 'del(.topic, .partition)' |
		weir-ingest -P -b "$BROKERS" -t kout --app-id K --checkpoint-topic kck
}

@test "-P --app-id: a checkpoint per barrier in its transaction; the source resumes from it, nothing twice" {
	broker_cmd topic kin 2
	broker_cmd topic kout 1
	broker_cmd topic kck 1
	for i in $(seq 0 19); do echo "{\"partition\":$((i % 2)),\"value\":\"v$i\",\"timestamp\":$((1000 + i))}"; done |
		weir-ingest -P -b "$BROKERS" -t kin
	k2k 8  # restore 0, six records, barrier 1: cut at the barrier
	k2k 15 # restore 1, six, barrier 2, six, barrier 3
	k2k 100
	run bash -c "weir-ingest -C -b $BROKERS -t kck -e | jq -c '[.key, (.value | fromjson)]'"
	assert_output '["K",{"barrier":1,"sources":{"kin":{"0":3,"1":3}}}]
["K",{"barrier":2,"sources":{"kin":{"0":6,"1":6}}}]
["K",{"barrier":3,"sources":{"kin":{"0":9,"1":9}}}]
["K",{"barrier":4,"sources":{"kin":{"0":10,"1":10}}}]'
	run bash -c "weir-ingest -C -b $BROKERS -t kout -e | jq -r .value | paste -sd ' '"
	assert_output "v0 v1 v2 v3 v4 v5 v6 v7 v8 v9 v10 v11 v12 v13 v14 v15 v16 v17 v18 v19"
	# a rerun at the end produces nothing
	k2k 100
	run bash -c "weir-ingest -C -b $BROKERS -t kout -e | wc -l"
	assert_output 20
}

@test "-P --app-id: records of barriers it committed are not produced again; a restore past them is an error" {
	broker_cmd topic pout 1
	broker_cmd topic pck 1
	sink() { weir-ingest -P -b "$BROKERS" -t pout --app-id P --checkpoint-topic pck "$@"; }
	printf '%s\n' '{"@weir":"restore","id":0}' '{"value":"a"}' '{"@weir":"barrier","id":1,"sources":{}}' \
		'{"value":"b"}' '{"@weir":"barrier","id":2,"sources":{}}' | sink
	# from an older restore: a and b were committed, c is new
	printf '%s\n' '{"@weir":"restore","id":0}' '{"value":"a"}' '{"@weir":"barrier","id":1,"sources":{}}' \
		'{"value":"b"}' '{"@weir":"barrier","id":2,"sources":{}}' '{"value":"c"}' \
		'{"@weir":"barrier","id":3,"sources":{}}' | sink -v 2>err
	grep -q "barrier 1 already committed: skipped" err
	run bash -c "weir-ingest -C -b $BROKERS -t pout -e | jq -r .value | paste -sd ' '"
	assert_output "a b c"
	run --separate-stderr sink <<<'{"@weir":"restore","id":7}'
	assert_failure 2
	assert_equal "$stderr" "weir-ingest: restore 7 is past barrier 3, the last one committed to topic 'pck': resume the source from kafka:pck"
	# without barriers the whole input is one transaction
	printf '%s\n' '{"value":"d"}' '{"value":"e"}' | sink
	run bash -c "weir-ingest -C -b $BROKERS -t pout -e | jq -r .value | paste -sd ' '"
	assert_output "a b c d e"
}

@test "-P --app-id: usage errors" {
	run weir-ingest -P -b x --app-id A
	assert_failure 2
	assert_line --index 0 "weir-ingest: -P: --app-id and --checkpoint-topic go together"
	run weir-ingest -C -b x -t t --checkpoint-topic c
	assert_line --index 0 "weir-ingest: --checkpoint-topic is for -P"
	run weir-ingest -P -b x --resume-from t --app-id A --checkpoint-topic c
	assert_line --index 0 "weir-ingest: --resume-from is for -C, -G and -B"
}

@test "-P --app-id: a source that did not resume from the checkpoints is refused before anything goes out twice" {
	broker_cmd topic nout 1
	broker_cmd topic nck 1
	printf '%s\n' '{"value":"a"}' '{"@weir":"barrier","id":1,"sources":{}}' |
		weir-ingest -P -b "$BROKERS" -t nout --app-id N --checkpoint-topic nck
	# (a long linger keeps the refused record from reaching the mock, which
	# would show it although its transaction never commits)
	run --separate-stderr weir-ingest -P -b "$BROKERS" -t nout --app-id N --checkpoint-topic nck -X linger.ms=1000 \
		<<<$'{"value":"a"}\n{"@weir":"barrier","id":1,"sources":{}}'
	assert_failure 2
	assert_equal "$stderr" "weir-ingest: barrier 1 was committed before, but 1 records came before it without a restore: resume the source from kafka:nck"
	run bash -c "weir-ingest -C -b $BROKERS -t nout -e | jq -r .value | paste -sd ' '"
	assert_output "a"
}

@test "--end-of-stream: a watermark at infinity before the last barrier, which comes even without new records" {
	topic eos1 1 3
	run weir-ingest -C -b "$BROKERS" -t eos1 -e --checkpoint-interval 2 --end-of-stream
	assert_success
	# (jq would round the watermark: the control records are compared as text)
	run bash -c 'sed "s/^{\"topic.*\"value\":\"\([^\"]*\)\"}$/\1/"' <<<"$output"
	assert_output 'p0-0
p0-1
{"@weir":"barrier","id":1,"sources":{"eos1":{"0":2}}}
p0-2
{"@weir":"watermark","t":9223372036854775807}
{"@weir":"barrier","id":2,"sources":{"eos1":{"0":3}}}'
	run weir-ingest -C -b "$BROKERS" -t eos1 -e -o end --checkpoint-interval 2 --end-of-stream
	assert_output '{"@weir":"watermark","t":9223372036854775807}
{"@weir":"barrier","id":1,"sources":{"eos1":{"0":3}}}'
	run weir-ingest -C -b "$BROKERS" -t eos1 --checkpoint-interval 2 --end-of-stream
	assert_failure 2
	assert_line --index 0 "weir-ingest: --end-of-stream needs an end: -e, -c or -o e@TIME"
	run weir-ingest -C -b "$BROKERS" -t eos1 -e --end-of-stream
	assert_line --index 0 "weir-ingest: --end-of-stream is for -C, -G and -B with --checkpoint-interval"
}

@test "--end-of-stream: the windows still open at the end land in the last commit" {
	broker_cmd topic eos2 2
	"$TOP/scripts/gen-events" -n 3000 --rate 50 --users 100 --late 0.02 --lateness 30 --envelope eos2 --partitions 2 |
		weir-ingest -P -b "$BROKERS"
	weir-ingest -C -b "$BROKERS" -t eos2 -e --ordered |
		weir-parse -q --schema "$EVENT" --dlq /dev/null |
		weir-window --tumble 10s --time ts --delay 20s --by device --agg "$AGG" |
		weir-lake-write --schema "$GOLD" ref >/dev/null
	weir-ingest -C -b "$BROKERS" -t eos2 -e --ordered --checkpoint-interval 300 --end-of-stream \
		--resume-from gold --app-id g |
		weir-parse -q --schema "$EVENT" --dlq /dev/null |
		weir-window --tumble 10s --time ts --delay 20s --by device --agg "$AGG" --state st |
		weir-lake-write --schema "$GOLD" gold --app-id g 2>err >/dev/null
	[ ! -s err ] || fail "$(cat err)"
	run diff <(weir-lake-cat ref | sort) <(weir-lake-cat gold | sort)
	assert_success
	# the last window is there: 60 s of events in 10 s windows, 3 devices
	[ "$(weir-lake-cat gold | jq -r .window_start | sort -u | wc -l)" -eq 6 ]
}

@test "--end-of-stream: a stream join writes the outer rows the end frees before the last barrier, even with --no-flush" {
	printf '%s\n' '{"k":1,"t":"2024-01-01T00:00:00Z"}' '{"@weir":"watermark","t":9223372036854775807}' \
		'{"@weir":"barrier","id":1,"sources":{}}' >l.ndjson
	printf '%s\n' '{"@weir":"watermark","t":9223372036854775807}' '{"@weir":"barrier","id":1,"sources":{}}' >r.ndjson
	run weir-join --left-stream l.ndjson --right-stream r.ndjson --on k --between 'r.t - 1m AND r.t + 1m' \
		--time t --type left --no-flush
	assert_success
	assert_line --index 0 '{"k":1,"t":"2024-01-01T00:00:00Z"}'
	assert_line --index 1 --partial '"@weir":"barrier","id":1'
}

@test "snapshots the table has committed past are dropped while the pipeline runs" {
	broker_cmd topic prune 2
	"$TOP/scripts/gen-events" -n 6000 --rate 50 --users 100 --envelope prune --partitions 2 >ev.ndjson
	head -n 3000 ev.ndjson | weir-ingest -P -b "$BROKERS"
	prune_run() {
		weir-ingest -C -b "$BROKERS" -t prune -e --checkpoint-interval 200 --resume-from gold --app-id g |
			weir-parse -q --schema "$EVENT" --dlq /dev/null |
			weir-dedup --key event_id --within 10m --time ts --state st/dedup |
			weir-window --tumble 10s --time ts --delay 20s --by device --agg "$AGG" --state st/window |
			weir-lake-write --schema "$GOLD" gold --app-id g 2>/dev/null |
			jq -c 'select(."@weir" == "barrier") | [.id, .committed]'
	}
	prune_run >run1
	[ "$(weir-lake-cat --history --limit 1 gold | jq .weir.barrier)" -eq 15 ]
	tail -n +3001 ev.ndjson | weir-ingest -P -b "$BROKERS"
	prune_run >run2
	# the barriers say what the table had committed when they were cut:
	# from the restored 15 on, never less
	run jq -s -c 'map(.[0]), (map(.[1]) | (.[0] == 15) and (. == sort))' run2
	assert_output '[16,17,18,19,20,21,22,23,24,25,26,27,28,29,30]
true'
	[ "$(weir-lake-cat --history --limit 1 gold | jq .weir.barrier)" -eq 30 ]
	# what a restart needs is there (the snapshot of barrier 30), nothing
	# older than the last "committed" the stages saw
	local last f n
	last=$(jq -s '.[-1][1]' run2)
	for d in st/dedup st/window; do
		[ -f "$d/snapshot-00000000000000000030.bin" ]
		for f in "$d"/snapshot-*.bin; do
			n=$(basename "$f" .bin)
			[ "$((10#${n#snapshot-}))" -ge "$last" ] || fail "$f is older than barrier $last"
		done
	done
}

# Two topics joined on user and time, each read by its own weir-ingest that
# resumes from the same table; barriers every 40 records on each, aligned
# by the join; --advance barrier makes the watermarks a function of the
# barriers, which count records and so fall at the same places in every
# run.  `head` cuts the left input short, as a crash of its ingest would.
join_run() {
	local table=$1 cut=$2
	weir-ingest -C -b "$BROKERS" -t jclicks -e --checkpoint-interval 40 --resume-from "$table" --app-id j |
		head -n "$cut" |
		weir-parse -q --schema "$EVENT" --dlq /dev/null |
		weir-join --on user_id --between 'r.ts - 30s AND r.ts + 30s' --type left --advance barrier \
			--state "$table.state" --right-stream <(
				weir-ingest -C -b "$BROKERS" -t jbuys -e --checkpoint-interval 40 --resume-from "$table" --app-id j |
					weir-parse -q --schema "$EVENT" --select 'user_id, ts, amount AS paid' --dlq /dev/null) |
		weir-lake-write --schema "$EVENT, right_ts TIMESTAMP, paid DECIMAL(10,2)" "$table" --app-id j >/dev/null
}

@test "a stream-stream join cut short again and again ends with the rows of a run that never was" {
	broker_cmd topic jclicks 1
	broker_cmd topic jbuys 1
	"$TOP/scripts/gen-events" -n 1500 --rate 20 --users 40 --seed 3 --envelope jclicks | weir-ingest -P -b "$BROKERS"
	"$TOP/scripts/gen-events" -n 1500 --rate 20 --users 40 --seed 4 --envelope jbuys | weir-ingest -P -b "$BROKERS"
	join_run whole 1000000 2>/dev/null
	local n
	for n in 100 260 261 700 1100; do
		join_run cut "$n" 2>/dev/null
	done
	join_run cut 1000000 2>/dev/null
	[ "$(weir-lake-cat whole | wc -l)" -gt 1000 ]
	run diff <(weir-lake-cat whole | sort) <(weir-lake-cat cut | sort)
	assert_success
	[ "$(weir-lake-cat --history cut | jq -r .weir.barrier | sort -un | wc -l)" -gt 10 ]
}

@test "join: an input that stops in mid-stream holds later barriers back; one that ended for good does not" {
	printf '%s\n' '{"k":1,"t":1}' '{"@weir":"barrier","id":1,"sources":{"l":{"0":1}}}' '{"k":2,"t":2}' >l.ndjson
	printf '%s\n' '{"k":1,"t":1}' '{"@weir":"barrier","id":1,"sources":{"r":{"0":1}}}' '{"k":3,"t":3}' \
		'{"@weir":"barrier","id":2,"sources":{"r":{"0":2}}}' >r.ndjson
	run --separate-stderr weir-join --left-stream l.ndjson --right-stream r.ndjson --on k --between 'r.t AND r.t' \
		--time t --time-unit s
	assert_success
	assert_equal "$(grep -c '"barrier"' <<<"$output")" 1
	assert_line '{"@weir":"barrier","id":1,"sources":{"l":{"0":1},"r":{"0":1}}}'
	assert_equal "$stderr" "weir-join: barrier 2 of the right input not forwarded: the left input ended without the end of its stream (a watermark at +inf), so its records after its last barrier come again after a restart"
	# the same left input, closed for good: barrier 2 passes with its last offsets
	printf '%s\n' '{"k":1,"t":1}' '{"@weir":"watermark","t":9223372036854775807}' \
		'{"@weir":"barrier","id":1,"sources":{"l":{"0":1}}}' >l.ndjson
	run --separate-stderr weir-join --left-stream l.ndjson --right-stream r.ndjson --on k --between 'r.t AND r.t' \
		--time t --time-unit s
	assert_success
	assert_equal "$stderr" ""
	assert_line '{"@weir":"barrier","id":2,"sources":{"r":{"0":2},"l":{"0":1}}}'
}
