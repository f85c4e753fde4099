#!/bin/sh
# Cron backfill: rebuild a time range of a table from an archive of dumps.
#
# The hourly clicks table missed two hours (the streaming job was down from
# 02:00 to 04:00).  The topic no longer holds them, but every hour a cron job
# archived what it consumed (`weir-ingest -C ... -o s@... -o e@...`, Kafka
# envelopes) into one .tar.zst per day.  weir-ingest -B reads such archives
# (tar, zip, gzip, zstd, xz, ...) as if they were the topic, weir-parse
# --where keeps the range, and weir-lake-write --mode overwrite
# --replace-where swaps exactly those hours in one atomic commit: readers see
# the old hours or the new ones, never half, and running the job twice (cron
# retries) changes nothing.
#
# usage: examples/backfill.sh [DIR]     (DIR: where the archive and table go)
set -eu
. "$(dirname "$0")/common.sh"
workdir backfill "${1:-}"
cd "$work"

EVENT='event_id STRING NOT NULL, user_id BIGINT NOT NULL, session STRING NOT NULL,
	ts TIMESTAMP NOT NULL, action STRING NOT NULL, url STRING, amount DECIMAL(10,2),
	country STRING, device STRING'

# backfill ARCHIVE FROM TO: the hours in [FROM, TO) of lake/clicks_hourly,
# rebuilt from ARCHIVE.  The range is bounded and complete, so the window's
# delay may be as long as a day: nothing is late, and the end of the input
# closes every window.
backfill() {
	weir-ingest -B "$1" |
		weir-parse -q --schema "$EVENT" --where "ts >= TIMESTAMP '$2' AND ts < TIMESTAMP '$3'" \
			--dlq dead.ndjson --framed |
		weir-dedup --key event_id --within 1h --time ts --framed |
		weir-window --tumble 1h --time ts --delay 24h --by action --framed \
			--agg 'count(*) AS events, count_distinct(user_id) AS users, sum(amount) AS revenue' |
		weir-lake-write --partition-by window_start --mode overwrite \
			--replace-where "window_start >= TIMESTAMP '$2' AND window_start < TIMESTAMP '$3'" \
			lake/clicks_hourly >/dev/null
}

# rows per hour of the table, "HH:MM n"
hours() {
	weir-lake-cat "$@" lake/clicks_hourly | jq -r '.window_start[11:16]' | sort | uniq -c |
		awk '{ printf "%s %d  ", $2, $1 } END { print "" }'
}

step "the archive: six hourly dumps of 2024-01-01 in one .tar.zst"
mkdir dumps
gen_events -n 10800 --rate 0.5 --dup 0.01 --late 0.01 --envelope clicks >day.ndjson
split -l 1800 -d --additional-suffix=.ndjson day.ndjson dumps/clicks-2024-01-01T
tar -cf - dumps/*.ndjson | zstd -q >clicks-2024-01-01.tar.zst
tar -tf clicks-2024-01-01.tar.zst --use-compress-program='zstd -d' | sed 's/^/  /'

step "the table as the streaming job left it: 02:00 and 03:00 are missing"
backfill clicks-2024-01-01.tar.zst 2024-01-01T00:00:00Z 2024-01-01T02:00:00Z
backfill clicks-2024-01-01.tar.zst 2024-01-01T04:00:00Z 2024-01-01T06:00:00Z
hours

step "the cron job: backfill 02:00 to 04:00 from the archive"
backfill clicks-2024-01-01.tar.zst 2024-01-01T02:00:00Z 2024-01-01T04:00:00Z
hours
weir-lake-cat --history --limit 1 lake/clicks_hourly |
	jq -r '"one commit, version \(.version): \(.operationParameters.predicate), \(.operationMetrics.numRemovedFiles) files replaced"'

step "run it again: a new version, the same rows"
v=$(weir-lake-cat --describe lake/clicks_hourly | jq .version)
backfill clicks-2024-01-01.tar.zst 2024-01-01T02:00:00Z 2024-01-01T04:00:00Z
weir-lake-cat --at-version "$v" lake/clicks_hourly | sort >before.ndjson
weir-lake-cat lake/clicks_hourly | sort >after.ndjson
if cmp -s before.ndjson after.ndjson; then
	echo "version $((v + 1)) has the same $(wc -l <after.ndjson) rows as version $v"
else
	echo "version $((v + 1)) differs from version $v" && exit 1
fi

step "the same hours from a plain .ndjson.gz dump agree with the table"
gzip -c day.ndjson >clicks-2024-01-01.ndjson.gz
mv lake/clicks_hourly lake/clicks_hourly.cron
backfill clicks-2024-01-01.ndjson.gz 2024-01-01T02:00:00Z 2024-01-01T04:00:00Z
weir-lake-cat lake/clicks_hourly | sort >from-gz.ndjson
mv lake/clicks_hourly lake/clicks_hourly.gz && mv lake/clicks_hourly.cron lake/clicks_hourly
n=$(wc -l <from-gz.ndjson)
if [ "$(grep -F -x -c -f from-gz.ndjson after.ndjson)" -eq "$n" ]; then
	echo "all $n rows of 02:00-04:00 built from the .ndjson.gz are in the table as they are"
else
	echo "the rows built from the .ndjson.gz differ from the table's" && exit 1
fi

step "the backfilled hours"
weir-lake-cat --where "window_start >= TIMESTAMP '2024-01-01T02:00:00Z' AND window_start < TIMESTAMP '2024-01-01T04:00:00Z'" \
	lake/clicks_hourly | jq -r '[.window_start[11:16], .action, .events, .users, .revenue // ""] | @tsv' | sort |
	awk -F '\t' '{ printf "%s  %-12s %6d %6d %10s\n", $1, $2, $3, $4, $5 == "" ? "" : sprintf("%.2f", $5) }'

echo
echo "the archive and the table are in $work"
