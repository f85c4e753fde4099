#!/bin/sh
# bench/latency.sh - how long an event takes from weir-ingest -P to a Delta
# commit that shows it, and how many events per second a pipeline sustains,
# exactly-once (barriers every second, txn commits, state snapshots) against
# at-least-once (no barriers, a commit every second).
#
#   producer:  gen-events --realtime at RATE/s for SECONDS | weir-ingest -P
#              (the Kafka timestamp is the time of producing)
#   pipeline:  weir-ingest -C | weir-parse -m 'timestamp AS produced'
#              | weir-dedup --key event_id --within 10m | weir-lake-write
#   exactly-once adds --checkpoint-interval 1s --resume-from/--app-id,
#   --state, and with --ordered the fixed partition order of weir(7);
#   at-least-once commits with --max-interval 1s.
#
# Latency of an event = commitInfo.timestamp of the commit that added it -
# its Kafka timestamp; p50/p99/max over all events.  Sustained rate = events
# / (last commit - first produce).  Then capacity: the same pipelines over
# the whole topic produced beforehand, events / wall time.  No window in the
# pipeline: a window adds its watermark delay, which is semantics, not cost.
# Everything (broker, producer, pipeline) shares the machine; numbers from a
# machine shared with other work are noisy.
#
# Run from the repository after `make`: sh bench/latency.sh [RATE] [SECONDS]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${WEIR_BIN:-$top/build/bin}
export PATH="$bin:$PATH"
rate=${1:-100000}
secs=${2:-20}
parts=4
out=$top/bench/out/latency
rm -rf "$out"
mkdir -p "$out"
cd "$out" || exit 2

EVENT='event_id STRING NOT NULL, user_id BIGINT NOT NULL, session STRING NOT NULL,
	ts TIMESTAMP NOT NULL, action STRING NOT NULL, url STRING, amount DECIMAL(10,2),
	country STRING, device STRING'
SILVER="$EVENT, produced TIMESTAMP"

mkfifo ctl
weir-broker <ctl >broker.out 2>broker.err &
broker=$!
exec 7>ctl
trap 'echo quit >&7; wait $broker 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s broker.out ] && break; sleep 0.05; done
B=$(head -n 1 broker.out)
printf 'fetch.wait.max.ms=10\n' >kafka.properties
export WEIR_KAFKA_CONFIG=$out/kafka.properties

# mode topic table: the pipeline, in the background; its pid in $pp
pipeline() {
	local mode=$1 topic=$2 table=$3
	case $mode in
	alo)
		weir-ingest -C -b "$B" -t "$topic" |
			weir-parse -q -s "$EVENT" -m 'timestamp AS produced' --dlq /dev/null --framed |
			weir-dedup --key event_id --within 10m --time ts --framed |
			weir-lake-write -s "$SILVER" --max-interval 1s "$table" >/dev/null ;;
	eos*)
		weir-ingest -C -b "$B" -t "$topic" --checkpoint-interval 1s $(ordered_flag "$mode") \
			--resume-from "$table" --app-id bench |
			weir-parse -q -s "$EVENT" -m 'timestamp AS produced' --dlq /dev/null --framed |
			weir-dedup --key event_id --within 10m --time ts --state "$table.state" --framed |
			weir-lake-write -s "$SILVER" "$table" --app-id bench >/dev/null ;;
	esac
}
ordered_flag() {
	case $1 in
	eos-ordered) echo --ordered ;;
	eos-idle) echo --ordered --idle 1s ;;
	esac
}

rows() { weir-lake-cat --history "$1" 2>/dev/null | jq -s '[.[].operationMetrics.numOutputRows // "0" | tonumber] | add // 0'; }

# wait until the table holds n rows (or 30 s without progress)
wait_rows() {
	local table=$1 n=$2 last=-1 same=0 r
	while :; do
		r=$(rows "$table")
		[ "$r" -ge "$n" ] && return 0
		if [ "$r" = "$last" ]; then
			same=$((same + 1))
			[ "$same" -ge 60 ] && return 1
		else
			same=0 last=$r
		fi
		sleep 0.5
	done
}

# "p50 p99 max first_produce last_commit events" of a table
latencies() {
	local table=$1
	for f in "$table"/_delta_log/*.json; do
		jq -r -s '(map(select(.commitInfo)) | .[0].commitInfo.timestamp) as $t
			| .[] | select(.add) | "\($t) \(.add.path)"' "$f"
	done | while read -r t path; do
		weir-lake-cat --parquet "$table/$path" --columns produced |
			jq -r --arg t "$t" '"\($t) \((.produced[0:19] + "Z" | fromdate) * 1000 + (.produced[20:23] | tonumber))"'
	done | awk '{ print $1 - $2, $2, $1 }' | sort -n | awk '
		{ l[NR] = $1; if (!first || $2 < first) first = $2; if ($3 > last) last = $3 }
		END {
			if (!NR) { print "- - - 0 0 0"; exit }
			p50 = l[int(NR * 0.50) > 0 ? int(NR * 0.50) : 1]; p99 = l[int(NR * 0.99) > 0 ? int(NR * 0.99) : 1]
			printf "%d %d %d %.0f %.0f %d\n", p50, p99, l[NR], first, last, NR
		}'
}

n=$((rate * secs))
modes="alo eos eos-ordered eos-idle"
: >rows.md
: >notes.md
for mode in $modes; do
	topic=live-$mode table=$out/$mode
	echo "topic $topic $parts" >&7
	sleep 0.3
	flag=$(ordered_flag "$mode")
	pipeline "$mode" "$topic" "$table" 2>"$mode.err" &
	pp=$!
	sleep 2 # connected and waiting
	t0=$(date +%s.%N)
	nice "$top/scripts/gen-events" -n "$n" --rate "$rate" --realtime --users 100000 |
		weir-ingest -P -b "$B" -t "$topic" --raw -z lz4 2>>"$mode.err"
	t1=$(date +%s.%N)
	prate=$(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "%.0f", n / (b - a) }')
	wait_rows "$table" "$n" ||
		echo "$mode: $((n - $(rows "$table"))) events were still held back 30 s after the producer stopped (not in the figures)" >>notes.md
	pkill -TERM -P "$pp" 2>/dev/null
	kill -TERM "$pp" 2>/dev/null
	wait "$pp" 2>/dev/null
	set -- $(latencies "$table")
	p50=$1 p99=$2 max=$3 first=$4 last=$5 cnt=$6
	sust=$(awk -v f="$first" -v l="$last" -v n="$cnt" 'BEGIN { printf "%.0f", (l > f ? n / ((l - f) / 1000) : 0) }')

	# capacity: the topic is full, read it from the beginning to the end
	table2=$out/$mode-cap
	t0=$(date +%s.%N)
	case $mode in
	alo)
		weir-ingest -C -b "$B" -t "$topic" -e |
			weir-parse -q -s "$EVENT" -m 'timestamp AS produced' --dlq /dev/null --framed |
			weir-dedup --key event_id --within 10m --time ts --framed |
			weir-lake-write -s "$SILVER" --max-interval 1s "$table2" >/dev/null ;;
	*)
		weir-ingest -C -b "$B" -t "$topic" -e --checkpoint-interval 1s $flag --resume-from "$table2" --app-id bench |
			weir-parse -q -s "$EVENT" -m 'timestamp AS produced' --dlq /dev/null --framed |
			weir-dedup --key event_id --within 10m --time ts --state "$table2.state" --framed |
			weir-lake-write -s "$SILVER" "$table2" --app-id bench >/dev/null ;;
	esac 2>>"$mode.err"
	t1=$(date +%s.%N)
	cap=$(awk -v a="$t0" -v b="$t1" -v n="$(rows "$table2")" 'BEGIN { printf "%.0f", n / (b - a) }')
	case $mode in
	alo) name="at-least-once (--max-interval 1s)" ;;
	eos) name="exactly-once (1 s barriers)" ;;
	eos-ordered) name="exactly-once, --ordered" ;;
	eos-idle) name="exactly-once, --ordered --idle 1s" ;;
	esac
	echo "| $name | $prate | $p50 | $p99 | $max | $sust | $cap |" >>rows.md
done

echo "Produce-to-visible latency, exactly-once vs at-least-once: $n events at $rate/s for $secs s"
echo "on $parts partitions (weir-broker, producer and pipeline all on this machine); pipeline"
echo "ingest | parse | dedup | lake-write, commits every second."
echo
echo "| mode | produced/s | p50 ms | p99 ms | max ms | sustained events/s | capacity events/s |"
echo "|---|---|---|---|---|---|---|"
cat rows.md
[ -s notes.md ] && { echo; cat notes.md; }
echo
echo "Produced/s: the rate the producer reached (target $rate/s).  Sustained: events in the table / (last"
echo "commit - first produce).  Capacity: the whole topic read from the start, events / wall time."
echo "--ordered waits for every partition to have a record, so when producing stops the last records"
echo "of the busier partitions wait for more; --idle bounds that wait (weir-ingest(1)), once per"
echo "partition that runs dry, which is the max of that row."
