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
# Each layer is its own pipeline with its own consumer group, so each resumes
# where it stopped and one slow layer holds back no other.  Barriers every
# --checkpoint-interval cut the stream consistently; dedup and window snapshot
# their state on them (--state), and weir-lake-write makes each cut one Delta
# commit.
#
# usage: examples/medallion.sh [-b BROKERS -t TOPIC [--once]] [DIR]
#   without -b: starts a weir-broker, produces 15000 sample events (500 users,
#   3% duplicates, 2% up to 3 minutes late, 0.5% malformed) to 'clicks', runs
#   every layer to the end of the topic and shows the tables.
#   with -b: runs on TOPIC until Ctrl-C, or with --once to the end of it.
set -eu
. "$(dirname "$0")/common.sh"

brokers= topic= once=
while [ $# -gt 0 ]; do
	case $1 in
	-b|--brokers) brokers=$2; shift 2 ;;
	-t|--topic) topic=$2; shift 2 ;;
	--once) once=-e; shift ;;
	-*) echo "usage: examples/medallion.sh [-b BROKERS -t TOPIC [--once]] [DIR]" >&2; exit 2 ;;
	*) break ;;
	esac
done
workdir medallion "${1:-}"
cd "$work"

ENVELOPE='topic STRING NOT NULL, partition INT NOT NULL, offset BIGINT NOT NULL,
	timestamp BIGINT, timestamp_type STRING, key STRING,
	headers ARRAY<STRUCT<name: STRING, value: STRING>>, value STRING,
	key_b64 STRING, value_b64 STRING'
EVENT='event_id STRING NOT NULL, user_id BIGINT NOT NULL, session STRING NOT NULL,
	ts TIMESTAMP NOT NULL, action STRING NOT NULL, url STRING, amount DECIMAL(10,2),
	country STRING, device STRING'

if [ -z "$brokers" ]; then
	# one partition keeps the sample's results the same on every run: a
	# consumer catching up on several partitions reads them in chunks, so
	# the watermark runs ahead of the partition it reads last (give --delay
	# room for that on a real topic; weir-broker keeps ~5 MiB per partition)
	step "a broker with topic 'clicks', and 15000 events in it"
	start_broker clicks:1
	brokers=$K topic=clicks once=-e
	gen_events -n 15000 --rate 50 --users 500 --dup 0.03 --late 0.02 --lateness 180 --bad 0.005 \
		--envelope clicks | weir-ingest -P -b "$brokers"
	echo "produced to clicks at $brokers"
fi
[ -n "$topic" ] || { echo "medallion.sh: -b needs -t TOPIC" >&2; exit 2; }

bronze() {
	weir-ingest -G medallion-bronze -b "$brokers" $once --checkpoint-interval 1s "$topic" |
		weir-lake-write --schema "$ENVELOPE" lake/bronze >/dev/null
}

silver() {
	weir-ingest -G medallion-silver -b "$brokers" $once --checkpoint-interval 1s "$topic" |
		weir-parse -q --schema "$EVENT" --dlq dead.ndjson --framed |
		weir-dedup --key event_id --within 10m --time ts --state state/silver --framed |
		weir-lake-write lake/silver >/dev/null
}

gold() {
	weir-ingest -G medallion-gold -b "$brokers" $once --checkpoint-interval 1s "$topic" |
		weir-parse -q --schema "$EVENT" --dlq /dev/null --framed |
		weir-dedup --key event_id --within 10m --time ts --state state/gold-dedup --framed |
		weir-window --tumble 1m --time ts --delay 1m --by device --late late.ndjson \
			--state state/gold-window --framed --agg 'count(*) AS events,
			count_distinct(user_id) AS users, count(amount) AS purchases, sum(amount) AS revenue' |
		weir-lake-write lake/gold >/dev/null
}

step "bronze, silver and gold, three pipelines side by side${once:+, to the end of '$topic'}"
bronze &
b=$!
silver &
s=$!
gold &
g=$!
wait $b $s $g

step "what each layer holds"
echo "bronze: $(weir-lake-cat lake/bronze | wc -l) messages"
echo "silver: $(weir-lake-cat lake/silver | wc -l) distinct events, $(wc -l <dead.ndjson 2>/dev/null || echo 0) dead letters"
echo "gold:   $(weir-lake-cat lake/gold | wc -l) rows (minute x device), $(wc -l <late.ndjson 2>/dev/null || echo 0) late events"

step "gold: per minute and device"
weir-lake-cat lake/gold | jq -r '[.window_start[11:16], .device, .events, .users, .purchases, .revenue] | @tsv' |
	sort | awk -F '\t' 'BEGIN { printf "%-6s  %-8s %7s %6s %9s %10s\n", "minute", "device", "events", "users", "purchases", "revenue" }
		{ printf "%-6s  %-8s %7d %6d %9d %10.2f\n", $1, $2, $3, $4, $5, $6 }'

step "is any layer behind? consumer-group lag, and the age of each table's last commit"
weir-lag -b "$brokers" -g medallion-bronze -g medallion-silver -g medallion-gold | grep -v '^$'
for t in bronze silver gold; do weir-lag --table lake/$t; done | awk 'NF && !(/^TABLE/ && h++)'

echo
echo "tables are in $work/lake"
