#!/bin/sh
# bench/parse.sh - weir-parse against its peers on the same events, one run.
#
#   1. projection + casts to NDJSON: weir-parse vs `jq -c` (the same
#      projection) vs DuckDB read_ndjson with the same columns and types
#      (threads=1, npm @duckdb/node-api, COPY ... TO a file);
#   2. the next stage reading weir-parse's framed output vs its NDJSON;
#   3. peak RSS of weir-parse on 1M events and on 10M (a pipe, nothing kept).
#
# Input: scripts/gen-events (deterministic).  Times are the best of
# BENCH_RUNS runs (default 3; jq runs once, it is the slow one), wall clock.
# Prints Markdown for bench/RESULTS.md.  BENCH_EVENTS changes the size.
set -eu
cd "$(dirname "$0")/.."
n=${BENCH_EVENTS:-1000000}
runs=${BENCH_RUNS:-3}
out=bench/out/parse
mkdir -p "$out"
P=build/bin/weir-parse
[ -x "$P" ] || { echo "bench/parse.sh: build first (make)" >&2; exit 2; }

schema='event_id STRING NOT NULL, user_id BIGINT NOT NULL, ts TIMESTAMP, action STRING, amount DECIMAL(10,2), country STRING'
select='user_id, ts, action, amount, country'

now() { date +%s.%N; }
# best wall-clock seconds of $1 runs of the rest of the command line
best() {
	k=$1
	shift
	b=""
	while [ "$k" -gt 0 ]; do
		t0=$(now)
		"$@"
		t1=$(now)
		b=$(echo "$t0 $t1 ${b:-1e9}" | awk '{d = $2 - $1; print (d < $3 ? d : $3)}')
		k=$((k - 1))
	done
	echo "$b"
}
ratio() { echo "$1 $2" | awk '{printf "%.1f", $1 / $2}'; }
ms() { echo "$1" | awk '{printf "%.0f ms", $1 * 1000}'; }

scripts/gen-events -n "$n" >"$out/events.ndjson"
size=$(wc -c <"$out/events.ndjson" | awk '{printf "%.0f MB", $1 / 1e6}')

weir_ndjson() { "$P" -q -s "$schema" -c "$select" <"$out/events.ndjson" >"$out/weir.ndjson"; }
weir_framed() { "$P" -q -s "$schema" -c "$select" --framed <"$out/events.ndjson" >"$out/weir.framed"; }
jq_run() { jq -c '{user_id, ts, action, amount, country}' <"$out/events.ndjson" >"$out/jq.ndjson"; }

# DuckDB from npm, installed into the same cache the tests use
duck=${WEIR_CACHE:-.cache}/duckdb
if [ ! -d "$duck/node_modules/@duckdb/node-api" ]; then
	mkdir -p "$duck"
	(cd "$duck" && npm install --silent --no-audit --no-fund @duckdb/node-api >/dev/null 2>&1) || duck=""
fi
cat >"$out/duck.js" <<'EOF'
const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const [input, output] = process.argv.slice(2);
  const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await inst.connect();
  await con.run(`COPY (SELECT user_id, ts, action, amount, country FROM read_ndjson('${input}',
    columns={event_id: 'VARCHAR', user_id: 'BIGINT', ts: 'TIMESTAMPTZ', action: 'VARCHAR',
             amount: 'DECIMAL(10,2)', country: 'VARCHAR'})) TO '${output}' (FORMAT JSON)`);
})().catch((e) => { console.error(e.message); process.exit(1); });
EOF
duck_run() { NODE_PATH=$duck/node_modules node "$out/duck.js" "$out/events.ndjson" "$out/duck.ndjson"; }

t_weir=$(best "$runs" weir_ndjson)
t_jq=$(best 1 jq_run)
rows=$(wc -l <"$out/weir.ndjson")
[ "$rows" -eq "$(wc -l <"$out/jq.ndjson")" ] || { echo "bench/parse.sh: jq wrote a different number of rows" >&2; exit 1; }
if [ -n "$duck" ]; then
	t_duck=$(best "$runs" duck_run)
	[ "$rows" -eq "$(wc -l <"$out/duck.ndjson")" ] || { echo "bench/parse.sh: DuckDB wrote a different number of rows" >&2; exit 1; }
fi

echo "$n events ($size of NDJSON from scripts/gen-events), schema \`$schema\`, projection \`$select\`."
echo
echo "| projection + casts, NDJSON out | time | ratio (peer / weir) |"
echo "|---|---|---|"
echo "| weir-parse | $(ms "$t_weir") | |"
echo "| jq -c | $(ms "$t_jq") | $(ratio "$t_jq" "$t_weir") (goal 20) |"
if [ -n "$duck" ]; then
	echo "| DuckDB read_ndjson, threads=1 | $(ms "$t_duck") | $(ratio "$t_duck" "$t_weir") (goal 1.0) |"
else
	echo "| DuckDB | not measured: npm @duckdb/node-api could not be installed | |"
fi

# the next stage: a filter that keeps nothing (reading costs); the same
# when the stage needs the types back (NDJSON must be cast again, framed
# values arrive typed); and a pass-through that writes what it reads
weir_framed
typed='user_id BIGINT NOT NULL, ts TIMESTAMP, action STRING, amount DECIMAL(10,2), country STRING'
filter() { "$P" -q -w 'amount > 1000000' <"$1" >/dev/null; }
retype_ndjson() { "$P" -q -s "$typed" -w "ts < TIMESTAMP '2000-01-01T00:00:00Z'" <"$out/weir.ndjson" >/dev/null; }
retype_framed() { "$P" -q -w "ts < TIMESTAMP '2000-01-01T00:00:00Z'" <"$out/weir.framed" >/dev/null; }
pass_framed() { "$P" -q --framed <"$out/weir.framed" >/dev/null; }
pass_ndjson() { "$P" -q <"$out/weir.ndjson" >/dev/null; }
t_rn=$(best "$runs" filter "$out/weir.ndjson")
t_rf=$(best "$runs" filter "$out/weir.framed")
t_tn=$(best "$runs" retype_ndjson)
t_tf=$(best "$runs" retype_framed)
t_pn=$(best "$runs" pass_ndjson)
t_pf=$(best "$runs" pass_framed)
echo
echo "| the next stage reads weir-parse's output | NDJSON | framed | ratio (goal 3) |"
echo "|---|---|---|---|"
echo "| weir-parse -w on a number (reads, keeps nothing) | $(ms "$t_rn") | $(ms "$t_rf") | $(ratio "$t_rn" "$t_rf") |"
echo "| weir-parse -w on the timestamp, types needed (NDJSON cast again with -s) | $(ms "$t_tn") | $(ms "$t_tf") | $(ratio "$t_tn" "$t_tf") |"
echo "| weir-parse (reads and writes the same encoding) | $(ms "$t_pn") | $(ms "$t_pf") | $(ratio "$t_pn" "$t_pf") |"
echo "| bytes | $(wc -c <"$out/weir.ndjson") | $(wc -c <"$out/weir.framed") | |"

rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
r1=$(rss "$P" -q -s "$schema" -c "$select" "$out/events.ndjson")
r10=$(scripts/gen-events -n $((n * 10)) | rss "$P" -q -s "$schema" -c "$select")
echo
echo "Peak RSS of weir-parse (goal under 32 MB whatever the input size): $(echo "$r1" | awk '{printf "%.1f MB", $1 / 1024}') on $n events, $(echo "$r10" | awk '{printf "%.1f MB", $1 / 1024}') on $((n * 10)) events through a pipe."
rm -f "$out/events.ndjson" "$out/jq.ndjson" "$out/duck.ndjson"
