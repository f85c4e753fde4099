#!/bin/sh
# Clickstream medallion: bronze, silver and gold Delta tables from one topic.
#
#   bronze  every Kafka message as it arrived (the envelope: topic, partition,
#           offset, timestamp, key, headers, value), for audit and replay
#   silver  typed events, broken ones in a dead-letter file, duplicates
#           (producer retries) dropped by event_id within 10 minutes
#   gold    per minute and device: events, users, purchases and revenue;
#           events later than the 1-minute watermark go to late.ndjson
#
# Each layer is its own pipeline reading the topic, and each is exactly-once
# on its own: weir-ingest cuts the stream with a barrier every second
# (--checkpoint-interval), dedup and window snapshot their state on each
# barrier (--state), and weir-lake-write commits each cut as one Delta commit
# tagged with the layer's app id and the cut's offsets.  Stop a layer any
# way at all (Ctrl-C, kill -9, a reboot) and run the same command again:
# --resume-from starts it at the offsets of its table's last commit, the
# stateful stages reload the snapshot of that barrier, and the table ends as
# if nothing had happened.  --ordered merges the partitions by timestamp, so
# a resumed run sees the same interleaving, and the same watermark, as one
# that never stopped.
#
# Gold holds the windows the watermark has closed: the last minute or two of
# the topic stay open until later events (or the next run) close them.
#
# usage: examples/medallion.sh [DIR]
#        examples/medallion.sh -b BROKERS -t TOPIC [--once] DIR
#   without -b: starts a weir-broker, produces 12000 sample events (500 users,
#   3% duplicates, 2% up to 3 minutes late, 0.5% malformed) to 'clicks' (4
#   partitions), runs every layer to the end of the topic, produces 8000 more
#   and runs the same layers again: they go on where they stopped.
#   with -b: runs on TOPIC until Ctrl-C, or with --once to its end; run it
#   again with the same DIR and it goes on from where it stopped.
set -eu
. "$(dirname "$0")/common.sh"

brokers= topic= once=
while [ $# -gt 0 ]; do
	case $1 in
	-b|--brokers) brokers=$2; shift 2 ;;
	-t|--topic) topic=$2; shift 2 ;;
	--once) once=-e; shift ;;
	-*) break ;;
	*) break ;;
	esac
done
if [ -n "$brokers" ] && { [ -z "$topic" ] || [ $# -ne 1 ]; } || [ $# -gt 1 ] || [ "${1:-}" != "${1#-}" ]; then
	echo "usage: examples/medallion.sh [DIR]" >&2
	echo "       examples/medallion.sh -b BROKERS -t TOPIC [--once] DIR" >&2
	exit 2
fi
if [ -n "$brokers" ] && [ -d "$1/lake" ]; then
	work=$(cd "$1" && pwd) # a rerun goes on where the last one stopped
else
	workdir medallion "${1:-}"
fi
cd "$work"

ENVELOPE='topic STRING NOT NULL, partition INT NOT NULL, offset BIGINT NOT NULL,
	timestamp BIGINT, timestamp_type STRING, key STRING,
	headers ARRAY<STRUCT<name: STRING, value: STRING>>, value STRING,
	key_b64 STRING, value_b64 STRING'
EVENT='event_id STRING NOT NULL, user_id BIGINT NOT NULL, session STRING NOT NULL,
	ts TIMESTAMP NOT NULL, action STRING NOT NULL, url STRING, amount DECIMAL(10,2),
	country STRING, device STRING'
# the tables' schemas, so that a layer's first barrier can create its table
SILVER=$EVENT
GOLD='window_start TIMESTAMP NOT NULL, window_end TIMESTAMP NOT NULL, device STRING,
	events BIGINT NOT NULL, users BIGINT NOT NULL, purchases BIGINT NOT NULL, revenue DECIMAL(38,2)'

# from_topic LAYER: the topic, from where LAYER's table says it got to
from_topic() {
	weir-ingest -C -b "$brokers" -t "$topic" $once --ordered --checkpoint-interval 1s \
		--resume-from "lake/$1" --app-id "$1"
}

bronze() {
	from_topic bronze |
		weir-lake-write --schema "$ENVELOPE" --app-id bronze lake/bronze >/dev/null
}

silver() {
	from_topic silver |
		weir-parse -q --schema "$EVENT" --dlq dead.ndjson --framed |
		weir-dedup --key event_id --within 10m --time ts --state state/silver --framed |
		weir-lake-write --schema "$SILVER" --app-id silver lake/silver >/dev/null
}

gold() {
	from_topic gold |
		weir-parse -q --schema "$EVENT" --dlq /dev/null --framed |
		weir-dedup --key event_id --within 10m --time ts --state state/gold-dedup --framed |
		weir-window --tumble 1m --time ts --delay 1m --by device --late late.ndjson --no-flush \
			--state state/gold-window --framed --agg 'count(*) AS events,
			count_distinct(user_id) AS users, count(amount) AS purchases, sum(amount) AS revenue' |
		weir-lake-write --schema "$GOLD" --app-id gold lake/gold >/dev/null
}

# layers: the three pipelines side by side, until the end of the topic with
# --once (or until Ctrl-C)
layers() {
	bronze &
	b=$!
	silver &
	s=$!
	gold &
	g=$!
	wait $b
	wait $s
	wait $g
}

holds() {
	echo "bronze: $(weir-lake-cat lake/bronze | wc -l) messages"
	echo "silver: $(weir-lake-cat lake/silver | wc -l) distinct events, $(cat dead.ndjson 2>/dev/null | wc -l) dead letters"
	echo "gold:   $(weir-lake-cat lake/gold | wc -l) rows (minute x device), $(cat late.ndjson 2>/dev/null | wc -l) late events"
}

if [ -z "$brokers" ]; then
	step "a broker with topic 'clicks' (4 partitions), and the first 12000 of 20000 events"
	start_broker clicks:4
	brokers=$K topic=clicks once=-e
	gen_events -n 20000 --rate 50 --users 500 --dup 0.03 --late 0.02 --lateness 180 --bad 0.005 \
		--envelope clicks --partitions 4 >events.ndjson
	head -n 12000 events.ndjson | weir-ingest -P -b "$brokers"
	echo "produced to clicks at $brokers"

	step "bronze, silver and gold, three pipelines side by side, to the end of 'clicks'"
	layers
	holds

	step "8000 more events arrive: the same commands go on where each table stopped"
	tail -n +12001 events.ndjson | weir-ingest -P -b "$brokers"
	layers
	holds
else
	step "bronze, silver and gold, three pipelines side by side${once:+, to the end of '$topic'}"
	layers
	holds
fi

step "gold: per minute and device (minutes the watermark has closed)"
weir-lake-cat lake/gold | jq -r '[.window_start[11:16], .device, .events, .users, .purchases, .revenue] | @tsv' |
	sort | awk -F '\t' 'BEGIN { printf "%-6s  %-8s %7s %6s %9s %10s\n", "minute", "device", "events", "users", "purchases", "revenue" }
		{ printf "%-6s  %-8s %7d %6d %9d %10.2f\n", $1, $2, $3, $4, $5, $6 }'

step "is any layer behind? the offsets each table has committed, against the topic's end"
for t in bronze silver gold; do
	weir-lag --table lake/$t --app-id $t -b "$brokers" --json | jq -s -r --arg t $t '
		(map(select(.type == "table"))[0]) as $tab | map(select(.type == "partition")) as $p |
		[$t, $tab.version, $tab.age_seconds, ($p | map(.offset) | add), ($p | map(.end) | add),
		 (map(select(.type == "group"))[0].total_lag)] | @tsv'
done | awk -F '\t' 'BEGIN { printf "%-7s %8s %18s %10s %10s %6s\n", "layer", "version", "committed (s ago)", "offsets", "end", "lag" }
	{ printf "%-7s %8d %18.1f %10d %10d %6d\n", $1, $2, $3, $4, $5, $6 }'

echo
echo "tables are in $work/lake"
