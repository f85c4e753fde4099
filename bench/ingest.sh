#!/bin/sh
# bench/ingest.sh - weir-ingest against kcat on the same data in one run:
#   consume: weir-ingest -C (envelopes) vs kcat -C -J, the same topic on the
#            embedded broker, to /dev/null; goal: ratio >= 1.0
#   produce: weir-ingest -P --raw vs kcat -P, the same lines (for scale)
#   backfill: weir-ingest -B from a tar.zst of 1M NDJSON lines on one core;
#            goal: >= 1M records/s.  zstd -dc | wc -l is the floor.
# The broker is librdkafka's mock in the same machine: consumption is bound
# by its one-batch-per-fetch latency, so treat the consume figures as a
# like-for-like comparison, not as broker numbers (notes/kafka.md §4).
# The machine is shared: wall time, CPU time (user+sys) and peak RSS are
# all shown, best of 3 by wall time.
# Usage: sh bench/ingest.sh [MESSAGES] [BACKFILL_RECORDS]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${WEIR_BIN:-$top/build/bin}
n=${1:-400000}
nb=${2:-1000000}
parts=8
work=$(mktemp -d "${TMPDIR:-/tmp}/weir-bench-ingest.XXXXXX")
mkfifo "$work/ctl"
"$bin/weir-broker" --topic "bench:$parts" --topic "kp:$parts" --topic "wp:$parts" \
	--port-file "$work/port" <"$work/ctl" >/dev/null 2>"$work/broker.err" &
broker=$!
exec 3>"$work/ctl"
trap 'echo quit >&3; exec 3>&-; wait $broker; rm -rf "$work"' EXIT
i=0
while [ ! -s "$work/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
b=$(cat "$work/port")

# run CMD... 3 times; print "wall user+sys rss_kb" of the fastest
best() {
	bst=
	for _ in 1 2 3; do
		"$top/bench/cputime" "$work/t" "$@" >/dev/null 2>"$work/err" ||
			{ cat "$work/err" >&2; exit 1; }
		line=$(tail -n 1 "$work/t")
		w=${line%% *}
		if [ -z "$bst" ] || [ "$(echo "$w < ${bst%% *}" | bc -l)" = 1 ]; then bst=$line; fi
	done
	echo "$bst" | awk '{ printf "%.3f %.3f %s\n", $1, $2 + $3, $4 }'
}
rate() { echo "$1 / $2" | bc -l | awk '{ printf "%.0f", $1 }'; }
ratio() { echo "$1 / $2" | bc -l | awk '{ printf "%.2f", $1 }'; }
row() { # what, "wall cpu rss", records
	set -- "$1" $2 "$3"
	echo "| $1 | $2 s | $3 s | $(rate "$5" "$2") | $(rate "$5" "$3") | $(($4 / 1024)) MiB |"
}

# ~80-byte events, keyed, spread over the partitions; big batches so each
# fetch from the mock carries many messages
awk -v n="$n" 'BEGIN { srand(7); for (i = 0; i < n; i++)
	printf "u%d:{\"user_id\":%d,\"url\":\"/p/%d\",\"ts\":\"2024-05-01T10:%02d:%02d.000Z\"}\n",
	i % 5000, int(rand() * 100000), int(rand() * 1000), int(i / 60) % 60, i % 60 }' >"$work/lines"
pk="-X linger.ms=50 -X batch.num.messages=10000 -X batch.size=1000000"
# shellcheck disable=SC2086
kcat -P -b "$b" -t bench -K : $pk -l "$work/lines"
got=$(kcat -C -b "$b" -t bench -e -q -f '.' | wc -c)
[ "$got" -eq "$n" ] || { echo "topic holds $got of $n messages (mock retention?)" >&2; exit 1; }
echo "input: $n messages of about 80 bytes, keyed, $parts partitions, on weir-broker"
echo

echo "| what | wall | CPU | records/s (wall) | records/s (CPU) | peak RSS |"
echo "|---|---|---|---|---|---|"
wc=$(best "$bin/weir-ingest" -C -b "$b" -t bench -e)
kc=$(best kcat -C -b "$b" -t bench -e -J -q)
row "consume: weir-ingest -C (envelopes)" "$wc" "$n"
row "consume: kcat -C -J" "$kc" "$n"
# shellcheck disable=SC2086
wp=$(best "$bin/weir-ingest" -P -b "$b" -t wp -K : $pk "$work/lines")
# shellcheck disable=SC2086
kp=$(best kcat -P -b "$b" -t kp -K : $pk -l "$work/lines")
row "produce: weir-ingest -P -K : (idempotent, every report checked)" "$wp" "$n"
row "produce: kcat -P -K : -l" "$kp" "$n"

# backfill: 1M raw NDJSON lines in a tar.zst, one core
awk -v n="$nb" 'BEGIN { srand(11); for (i = 0; i < n; i++)
	printf "{\"user_id\":%d,\"url\":\"/p/%d\",\"ts\":\"2024-05-01T10:%02d:%02d.000Z\"}\n",
	int(rand() * 100000), int(rand() * 1000), int(i / 60) % 60, i % 60 }' >"$work/day.ndjson"
(cd "$work" && tar cf - day.ndjson | zstd -q -o day.tar.zst)
# the same records as an envelope dump, for a replay
"$bin/weir-ingest" -B --raw "$work/day.tar.zst" | zstd -q -o "$work/dump.ndjson.zst"
one="taskset -c 0"
command -v taskset >/dev/null || one=
bf=$(best $one "$bin/weir-ingest" -B --raw "$work/day.tar.zst")
bd=$(best $one "$bin/weir-ingest" -B "$work/dump.ndjson.zst")
zf=$(best $one sh -c "zstd -dc '$work/day.tar.zst' | wc -l")
row "backfill: weir-ingest -B --raw day.tar.zst" "$bf" "$nb"
row "backfill: weir-ingest -B dump.ndjson.zst (envelopes checked, replayed)" "$bd" "$nb"
row "floor: zstd -dc day.tar.zst \\| wc -l" "$zf" "$nb"
echo
echo "input: $nb NDJSON lines of about 70 bytes; day.tar.zst is $(($(wc -c <"$work/day.tar.zst") / 1024)) KiB," \
	"dump.ndjson.zst $(($(wc -c <"$work/dump.ndjson.zst") / 1024)) KiB; backfills pinned to one core${one:+ (taskset -c 0)}"
echo
set -- $wc
w1=$1 c1=$2
set -- $kc
echo "consume ratio kcat/weir: $(ratio "$1" "$w1") by wall time, $(ratio "$2" "$c1") by CPU time (goal >= 1.0)"
set -- $bf
echo "backfill: $(rate "$nb" "$1") records/s by wall time, $(rate "$nb" "$2") by CPU time (goal >= 1,000,000)"
