#!/bin/sh
# bench/window.sh - weir-window against DuckDB on the same events.
#
#   1M events (deterministic, 100 per second, 1000 keys, up to 2 s out of
#   order): tumbling 1-minute count+sum by key, weir from NDJSON and from
#   framed input, each with NDJSON output and framed (as between stages),
#   and how much faster framed input is for the same output; DuckDB
#   GROUP BY time_bucket over read_ndjson (threads=2);
#   sliding 10m/1m and 30 s session windows reported; then peak RSS for 10M
#   events with 1M distinct keys held in one open window.
#
# Run from the repository after `make`: sh bench/window.sh [EVENTS]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${WEIR_BIN:-$top/build/bin}
out=$top/bench/out/window
mkdir -p "$out"
n=${1:-1000000}

# Events: ts as canonical ISO strings (what weir-parse emits), key, amount
# with two decimals, and a sequence number.
gen() {
	awk -v N="$1" -v K="$2" -v SPAN="$3" 'BEGIN {
		srand(42); base = 1714521600
		for (i = 0; i < N; i++) {
			ms = int(i * (SPAN * 1000.0 / N) + rand() * 2000)
			s = base + int(ms / 1000)
			printf "{\"ts\":\"%s.%03dZ\",\"key\":\"k%d\",\"amount\":%.2f,\"n\":%d}\n",
				strftime("%Y-%m-%dT%H:%M:%S", s, 1), ms % 1000, int(rand() * K), int(rand() * 100000) / 100, i
		}
	}'
}

# "wall cpu maxrss_kb" for a command (cpu = user + system, all threads):
# the medians of $runs runs each (BENCH_RUNS, default 9, for weir; 1 for
# the peers, which take far longer), timed by bench/cputime to the
# microsecond; the output goes to $out/last.  The machine may be shared:
# wall times are noisy there, CPU times less so.
runs=${BENCH_RUNS:-9}
timed() {
	k=$1
	shift
	: >"$out/times"
	while [ "$k" -gt 0 ]; do
		"$top/bench/cputime" "$out/time" "$@" >"$out/last"
		cat "$out/time" >>"$out/times"
		k=$((k - 1))
	done
	printf '%.3f %.3f %s\n' "$(cut -d' ' -f1 "$out/times" | median)" \
		"$(awk '{ print $2 + $3 }' "$out/times" | median)" "$(awk '$4 > m { m = $4 } END { print m }' "$out/times")"
}
# the median of numbers, one per line
median() {
	sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

[ -s "$out/ev.ndjson" ] && [ "$(wc -l <"$out/ev.ndjson")" -eq "$n" ] || gen "$n" 1000 $((n / 100)) >"$out/ev.ndjson"

# Framed input typed the way a pipeline carries it between stages.
"$bin/weir-parse" --schema 'ts TIMESTAMP NOT NULL, key STRING, amount DECIMAL(12,2), n BIGINT' --framed \
	<"$out/ev.ndjson" >"$out/ev.framed" 2>/dev/null
# Inputs just written are still being written back to disk: that work
# would land in the first runs' times.
sync

agg='count(*) AS n, sum(amount) AS total'
echo "events: $n ($(du -m "$out/ev.ndjson" | cut -f1) MB NDJSON, $(du -m "$out/ev.framed" | cut -f1) MB framed)"

# The main comparison in rounds of four runs: input NDJSON or framed,
# output NDJSON or framed (as between stages), one right after the other,
# so that a slow spell of the shared machine lands on a whole round rather
# than on one kind of run.  Ratios are taken within each round, and their
# medians reported with the medians of the times.
: >"$out/rounds"
k=0
while [ "$k" -lt "$runs" ]; do
	for run in jj:ev.ndjson: fj:ev.framed: jf:ev.ndjson:--framed ff:ev.framed:--framed; do
		kind=${run%%:*} file=${run#*:} flag=${file#*:} file=${file%%:*}
		"$top/bench/cputime" "$out/time" nice "$bin/weir-window" $flag --tumble 1m -t ts -d 5s -b key -a "$agg" \
			"$out/$file" >"$out/last.$kind"
		echo "$k $kind $(cat "$out/time")" >>"$out/rounds"
	done
	k=$((k + 1))
done
rows=$(grep -vc '@weir' "$out/last.jj")
rows_f=$(grep -vc '@weir' "$out/last.fj")
# the median wall or cpu time of one kind of run, or of a ratio of two kinds
# taken round by round
of() {
	awk -v what="$1" -v a="$2" -v b="${3:-}" '{ t[$1, $2] = what == "wall" ? $3 : $4 + $5; n = $1 + 1 }
		END { for (i = 0; i < n; i++) print b == "" ? t[i, a] : t[i, a] / t[i, b] }' "$out/rounds" | median
}
w_json=$(of wall jj) c_json=$(of cpu jj) w_framed=$(of wall fj) c_framed=$(of cpu fj)
w_jf=$(of wall jf) c_jf=$(of cpu jf) w_ff=$(of wall ff) c_ff=$(of cpu ff)

cache=${WEIR_CACHE:-$top/.cache}/duckdb
if [ ! -d "$cache/node_modules/@duckdb/node-api" ]; then
	mkdir -p "$cache"
	(cd "$cache" && npm install --silent --no-audit --no-fund @duckdb/node-api >/dev/null 2>&1)
fi
export NODE_PATH=$cache/node_modules DUCKDB_THREADS=2
set -- $(timed 1 nice node "$top/tests/duckdb-query.js" "COPY (SELECT time_bucket(INTERVAL 1 minute, ts::TIMESTAMP) AS window_start,
	key, count(*) AS n, sum(amount) AS total FROM read_ndjson('$out/ev.ndjson') GROUP BY ALL) TO '$out/duck.json' (FORMAT json)")
duck=$1 c_duck=$2
rows_d=$(wc -l <"$out/duck.json")
set -- $(timed 1 nice node -e 'require("@duckdb/node-api")')
node_start=$1 c_node=$2

echo "tumbling 1m count+sum by key ($rows rows; framed $rows_f; DuckDB $rows_d; weir: medians of $runs rounds):"
printf '  weir NDJSON in   wall %.3fs  cpu %.3fs (NDJSON out)\n' "$w_json" "$c_json"
printf '  weir framed in   wall %.3fs  cpu %.3fs (NDJSON out)\n' "$w_framed" "$c_framed"
printf '  weir NDJSON in   wall %.3fs  cpu %.3fs (framed out)\n' "$w_jf" "$c_jf"
printf '  weir framed in   wall %.3fs  cpu %.3fs (framed out, as between stages)\n' "$w_ff" "$c_ff"
printf '  weir NDJSON in / framed in, same output (goal: 3x): NDJSON out cpu %.2fx, wall %.2fx; framed out cpu %.2fx, wall %.2fx\n' \
	"$(of cpu jj fj)" "$(of wall jj fj)" "$(of cpu jf ff)" "$(of wall jf ff)"
echo "  DuckDB       wall ${duck}s  cpu ${c_duck}s (threads=2; node start alone: wall ${node_start}s cpu ${c_node}s)"
awk -v a="$w_json" -v b="$w_framed" -v d="$duck" -v ca="$c_json" -v cb="$c_framed" -v cd="$c_duck" 'BEGIN {
	printf "  DuckDB/weir wall: NDJSON %.2fx, framed %.2fx; cpu: NDJSON %.2fx, framed %.2fx\n", d / a, d / b, cd / ca, cd / cb }'

# The same shape with 10 keys ("per region"): few rows out and all state in
# the first-level cache, so the ratio shows what the encoding alone saves.
[ -s "$out/ev10.ndjson" ] && [ "$(wc -l <"$out/ev10.ndjson")" -eq "$n" ] || gen "$n" 10 $((n / 100)) >"$out/ev10.ndjson"
"$bin/weir-parse" --schema 'ts TIMESTAMP NOT NULL, key STRING, amount DECIMAL(12,2), n BIGINT' --framed \
	<"$out/ev10.ndjson" >"$out/ev10.framed" 2>/dev/null
sync
set -- $(timed "$runs" nice "$bin/weir-window" --tumble 1m -t ts -d 5s -b key -a "$agg" "$out/ev10.ndjson")
c10_json=$2
set -- $(timed "$runs" nice "$bin/weir-window" --tumble 1m -t ts -d 5s -b key -a "$agg" "$out/ev10.framed")
awk -v a="$c10_json" -v b="$2" -v r="$(grep -vc '@weir' "$out/last")" 'BEGIN {
	printf "same with 10 keys (%d rows): NDJSON cpu %.3fs, framed cpu %.3fs, NDJSON/framed %.2fx\n", r, a, b, a / b }'

set -- $(timed "$runs" nice "$bin/weir-window" --slide 10m,1m -t ts -d 5s -b key -a "$agg" "$out/ev.ndjson")
echo "sliding 10m/1m: NDJSON wall ${1}s cpu ${2}s ($(grep -vc '@weir' "$out/last") rows)"
set -- $(timed "$runs" nice "$bin/weir-window" --slide 10m,1m -t ts -d 5s -b key -a "$agg" "$out/ev.framed")
echo "sliding 10m/1m: framed wall ${1}s cpu ${2}s"
set -- $(timed "$runs" nice "$bin/weir-window" --session 30s -t ts -d 5s -b key -a "$agg" "$out/ev.ndjson")
echo "session 30s gap: NDJSON wall ${1}s cpu ${2}s ($(grep -vc '@weir' "$out/last") rows)"
set -- $(timed "$runs" nice "$bin/weir-window" --session 30s -t ts -d 5s -b key -a "$agg" "$out/ev.framed")
echo "session 30s gap: framed wall ${1}s cpu ${2}s"

# 10M events over one hour with 1M distinct keys: one open window holds
# every key at once, the worst case for state.
big=$((n * 10))
gen "$big" 1000000 3600 | "$top/bench/cputime" "$out/time" nice "$bin/weir-window" --tumble 1h -t ts -d 5s \
	-b key -a "$agg" >"$out/last"
set -- $(cat "$out/time")
echo "10x events ($big) with 1M distinct keys, 1h window: weir cpu $(awk -v u="$2" -v s="$3" 'BEGIN { printf "%.2f", u + s }')s," \
	"peak RSS $(($4 / 1024)) MB, $(grep -vc '@weir' "$out/last") rows"
