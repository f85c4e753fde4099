#!/bin/sh
# bench/delta.sh - weir-lake-write against DuckDB on the same input, in one
# run: 1M NDJSON events into a Delta table (zstd) versus DuckDB's
# COPY ... TO parquet (zstd) with 2 threads; then the time to open a table
# of 1,000 commits with checkpoints (weir-lake-cat --describe).
# Usage: sh bench/delta.sh [EVENTS]   (WEIR_BIN: the binaries, default build/bin)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${WEIR_BIN:-$top/build/bin}
n=${1:-1000000}
work=$(mktemp -d "${TMPDIR:-/tmp}/weir-bench-delta.XXXXXX")
trap 'rm -rf "$work"' EXIT

cache=${WEIR_CACHE:-$top/.cache}/duckdb
if [ ! -d "$cache/node_modules/@duckdb/node-api" ]; then
	mkdir -p "$cache"
	(cd "$cache" && npm install --silent --no-audit --no-fund @duckdb/node-api >/dev/null 2>&1)
fi
export NODE_PATH="$cache/node_modules"
duck() { DUCKDB_THREADS=2 node "$top/tests/duckdb-query.js" "$1"; }
now() { date +%s.%N; }

# the same events for both: ids, users, urls, ISO timestamps, amounts
awk -v n="$n" 'BEGIN { srand(42); for (i = 0; i < n; i++) {
	printf "{\"id\":%d,\"user\":%d,\"url\":\"/p/%d\",\"ts\":\"2024-05-%02dT%02d:%02d:%02d.%06dZ\",\"amount\":%.2f}\n",
		i, int(rand() * 100000), int(rand() * 500), 1 + i % 28, int(rand() * 24), int(rand() * 60), int(rand() * 60), i % 1000000, rand() * 1000 } }' >"$work/events.ndjson"
echo "input: $n events, $(du -m "$work/events.ndjson" | cut -f1) MB NDJSON"

# wall and CPU seconds, peak RSS in KB (the machine is shared: CPU time is
# the steadier measure); both under nice, as equals
timed() {
	"$top/bench/cputime" "$work/time" nice "$@" >/dev/null
	awk '{ printf "%.3f %.3f %d\n", $1, $2 + $3, $4 }' "$work/time"
}
set -- $(timed "$bin/weir-lake-write" -s 'id BIGINT, user BIGINT, url STRING, ts TIMESTAMP, amount DECIMAL(10,2)' \
	"$work/lake" <"$work/events.ndjson")
w=$1 wc=$2 wm=$3
set -- $(timed env DUCKDB_THREADS=2 node "$top/tests/duckdb-query.js" "COPY (SELECT * FROM read_json('$work/events.ndjson', columns = {id: 'BIGINT', \"user\": 'BIGINT', url: 'VARCHAR', ts: 'TIMESTAMPTZ', amount: 'DECIMAL(10,2)'})) TO '$work/duck.parquet' (FORMAT parquet, COMPRESSION zstd)")
d=$1 dc=$2
set -- $(timed node "$top/tests/duckdb-query.js" "SELECT 1")
ds=$1
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
echo "weir-lake-write (zstd):      ${w} s wall, ${wc} s CPU, $(du -k "$work/lake" | tail -1 | cut -f1) KB, peak RSS $((wm / 1024)) MB"
echo "duckdb COPY TO parquet:      ${d} s wall, ${dc} s CPU, $(du -k "$work/duck.parquet" | cut -f1) KB (includes node start: ${ds} s wall)"
echo "ratio weir/duckdb:           $(ratio "$w" "$d") wall, $(ratio "$wc" "$dc") CPU"
rows=$(duck "SELECT count(*)::INT AS n FROM read_parquet('$work/lake/*.parquet')")
echo "duckdb reads the weir files: $rows"

# 1,000 commits, a checkpoint every 10
seq 1 1000 | sed 's/.*/{"v":&}/' | "$bin/weir-lake-write" -s 'v INT' --max-rows 1 "$work/k"
best=
for _ in 1 2 3 4 5; do
	t0=$(now)
	"$bin/weir-lake-cat" --describe "$work/k" >/dev/null
	t1=$(now)
	ms=$(echo "($t1 - $t0) * 1000" | bc -l | sed 's/\..*//')
	[ -z "$best" ] || [ "$ms" -lt "$best" ] && best=$ms
done
echo "open a 1,000-commit table (checkpoint at 1000): best of 5 ${best} ms (goal < 50 ms)"
