#!/bin/sh
# bench/parquet.sh - the Parquet writer and reader against DuckDB.
#
#   1M generated events (ids, keys, a URL out of 500, an action out of 5, a
#   timestamp, an amount with two decimals, a latency, a flag) as NDJSON:
#   write zstd Parquet with weir-lake-cat --write-parquet and with DuckDB
#   COPY ... (FORMAT parquet, COMPRESSION zstd) from read_ndjson with the
#   same column types, threads=2; compare time and file size.  Then read
#   each file back to NDJSON: weir-lake-cat --parquet vs DuckDB COPY ...
#   (FORMAT json).  Also weir writing from framed (typed) input, which is
#   what a pipeline stage hands lake-write.
#
# Run from the repository after `make`: sh bench/parquet.sh [EVENTS]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${WEIR_BIN:-$top/build/bin}
out=$top/bench/out/parquet
mkdir -p "$out"
n=${1:-1000000}

gen() {
	awk -v N="$1" 'BEGIN {
		srand(7); base = 1714521600
		split("view click purchase share login", act, " ")
		for (i = 0; i < N; i++) {
			s = base + int(i / 50)
			printf "{\"event_id\":%d,\"user_id\":%d,\"ts\":\"%s.%06dZ\",\"url\":\"/p/%d\",\"action\":\"%s\",\"amount\":%.2f,\"latency\":%.3f,\"ok\":%s}\n",
				i, int(rand() * 100000), strftime("%Y-%m-%dT%H:%M:%S", s, 1), int(rand() * 1000000),
				int(rand() * 500), act[1 + int(rand() * 5)], int(rand() * 1000000) / 100,
				rand() * 250, rand() < 0.9 ? "true" : "false"
		}
	}'
}

timed() {
	"$top/bench/cputime" "$out/time" "$@" >"$out/last"
	awk '{ printf "%.3f %.3f %s\n", $1, $2 + $3, $4 }' "$out/time"
}

[ -s "$out/ev.ndjson" ] && [ "$(wc -l <"$out/ev.ndjson")" -eq "$n" ] || gen "$n" >"$out/ev.ndjson"
schema='event_id BIGINT NOT NULL, user_id BIGINT, ts TIMESTAMP, url STRING, action STRING, amount DECIMAL(10,2), latency DOUBLE, ok BOOLEAN'
cols="{event_id: 'BIGINT', user_id: 'BIGINT', ts: 'TIMESTAMPTZ', url: 'VARCHAR', action: 'VARCHAR', amount: 'DECIMAL(10,2)', latency: 'DOUBLE', ok: 'BOOLEAN'}"

cache=${WEIR_CACHE:-$top/.cache}/duckdb
if [ ! -d "$cache/node_modules/@duckdb/node-api" ]; then
	mkdir -p "$cache"
	(cd "$cache" && npm install --silent --no-audit --no-fund @duckdb/node-api >/dev/null 2>&1)
fi
export NODE_PATH="$cache/node_modules" DUCKDB_THREADS=2 TZ=UTC
duck() { node "$top/tests/duckdb-query.js" "$1"; }

rm -f "$out/weir.parquet" "$out/duck.parquet"
set -- $(timed "$bin/weir-lake-cat" --write-parquet "$out/weir.parquet" --schema "$schema" <"$out/ev.ndjson")
w_write=$1 w_write_cpu=$2 w_write_rss=$3
set -- $(timed node "$top/tests/duckdb-query.js" "SELECT 1")
d_start=$1
set -- $(timed node "$top/tests/duckdb-query.js" "COPY (SELECT * FROM read_ndjson('$out/ev.ndjson', columns = $cols)) TO '$out/duck.parquet' (FORMAT parquet, COMPRESSION zstd)")
d_write=$1 d_write_cpu=$2
w_size=$(wc -c <"$out/weir.parquet")
d_size=$(wc -c <"$out/duck.parquet")

"$bin/weir-parse" --schema "$schema" --framed <"$out/ev.ndjson" >"$out/ev.framed" 2>/dev/null || true
w_framed=-
if [ -s "$out/ev.framed" ]; then
	set -- $(timed "$bin/weir-lake-cat" --write-parquet "$out/weir-framed.parquet" --schema "$schema" <"$out/ev.framed")
	w_framed=$1
fi

set -- $(timed "$bin/weir-lake-cat" --parquet "$out/weir.parquet")
w_read=$1 w_read_cpu=$2 w_read_rss=$3
w_rows=$(wc -l <"$out/last")
rm -f "$out/duck.json"
set -- $(timed node "$top/tests/duckdb-query.js" "COPY (SELECT * FROM read_parquet('$out/weir.parquet')) TO '$out/duck.json' (FORMAT json)")
d_read=$1 d_read_cpu=$2
d_rows=$(wc -l <"$out/duck.json")
set -- $(timed "$bin/weir-lake-cat" --parquet "$out/duck.parquet")
w_read_d=$1

# DuckDB must read our file to the same rows we do (spot check the sums).
check=$(duck "SELECT count(*)::INT AS n, sum(event_id)::DOUBLE AS s, sum(amount)::DOUBLE AS a FROM read_parquet('$out/weir.parquet')")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
cat <<EOT
events: $n ($(du -m "$out/ev.ndjson" | cut -f1) MB NDJSON); DuckDB threads=2; DuckDB's node start-up alone: ${d_start} s (included in its times)

| step | weir | DuckDB | DuckDB/weir |
|---|---|---|---|
| write zstd Parquet from NDJSON, wall s | $w_write | $d_write | $(ratio "$d_write" "$w_write") |
| write, CPU s | $w_write_cpu | $d_write_cpu | $(ratio "$d_write_cpu" "$w_write_cpu") |
| file size, bytes | $w_size | $d_size | $(ratio "$d_size" "$w_size") |
| read back to NDJSON, wall s ($w_rows / $d_rows rows) | $w_read | $d_read | $(ratio "$d_read" "$w_read") |
| read, CPU s | $w_read_cpu | $d_read_cpu | $(ratio "$d_read_cpu" "$w_read_cpu") |

weir peak RSS: write ${w_write_rss} KB, read ${w_read_rss} KB.  weir writing from framed input: ${w_framed} s.
weir reading DuckDB's file: ${w_read_d} s.  DuckDB's check of weir's file: $check
EOT
