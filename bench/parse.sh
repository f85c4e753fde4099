#!/bin/sh
# bench/parse.sh - weir-parse against its peers on the same events, one run.
#
#   1. projection + casts to NDJSON: weir-parse vs `jq -c` (the same
#      projection) vs DuckDB read_ndjson with the same columns and types
#      (threads=1, npm @duckdb/node-api, COPY ... TO a file);
#   2. the next stage reading weir-parse's framed output vs its NDJSON;
#   3. peak RSS of weir-parse on N events and on 10 N (a pipe, nothing kept).
#
# Input: scripts/gen-events (deterministic).  Each time is the median of
# BENCH_RUNS runs (default 5; jq runs once, it is the slow one).  The
# machine is shared, so wall-clock times swing with the load: CPU time
# (user + system, children included) is reported too and the ratios use it;
# for DuckDB the time of the query inside node is also given, without
# node's start-up.  Prints Markdown for bench/RESULTS.md; BENCH_EVENTS
# changes the size.
set -eu
cd "$(dirname "$0")/.."
n=${BENCH_EVENTS:-1000000}
runs=${BENCH_RUNS:-5}
out=bench/out/parse
mkdir -p "$out"
P=build/bin/weir-parse
[ -x "$P" ] || { echo "bench/parse.sh: build first (make)" >&2; exit 2; }

schema='event_id STRING NOT NULL, user_id BIGINT NOT NULL, ts TIMESTAMP, action STRING, amount DECIMAL(10,2), country STRING'
select='user_id, ts, action, amount, country'
typed='user_id BIGINT NOT NULL, ts TIMESTAMP, action STRING, amount DECIMAL(10,2), country STRING'

# the median of numbers, one per line
median() {
	sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# timed K CMD: run the shell command K times, timed by bench/cputime to the
# microsecond; sets W (median wall seconds) and C (median CPU seconds)
timed() {
	k=$1
	: >"$out/times"
	while [ "$k" -gt 0 ]; do
		bench/cputime "$out/time" sh -c "$2"
		cat "$out/time" >>"$out/times"
		k=$((k - 1))
	done
	W=$(cut -d' ' -f1 "$out/times" | median)
	C=$(awk '{ print $2 + $3 }' "$out/times" | median)
}
ratio() { echo "$1 $2" | awk '{printf "%.1f", $1 / $2}'; }
ms() { echo "$1" | awk '{printf "%.0f", $1 * 1000}'; }

scripts/gen-events -n "$n" >"$out/events.ndjson"
size=$(wc -c <"$out/events.ndjson" | awk '{printf "%.0f MB", $1 / 1e6}')
load=$(cut -d' ' -f1 /proc/loadavg)

# DuckDB from npm, installed into the same cache the tests use
duck=${WEIR_CACHE:-.cache}/duckdb
if [ ! -d "$duck/node_modules/@duckdb/node-api" ]; then
	mkdir -p "$duck"
	(cd "$duck" && npm install --silent --no-audit --no-fund @duckdb/node-api >/dev/null 2>&1) || duck=""
fi
cat >"$out/duck.js" <<'EOF'
const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const [input, output, timing] = process.argv.slice(2);
  const inst = await DuckDBInstance.create(':memory:', { threads: '1' });
  const con = await inst.connect();
  const t0 = process.hrtime.bigint();
  await con.run(`COPY (SELECT user_id, ts, action, amount, country FROM read_ndjson('${input}',
    columns={event_id: 'VARCHAR', user_id: 'BIGINT', ts: 'TIMESTAMPTZ', action: 'VARCHAR',
             amount: 'DECIMAL(10,2)', country: 'VARCHAR'})) TO '${output}' (FORMAT JSON)`);
  require('fs').writeFileSync(timing, String(Number(process.hrtime.bigint() - t0) / 1e9));
})().catch((e) => { console.error(e.message); process.exit(1); });
EOF

timed "$runs" "$P -q -s '$schema' -c '$select' <$out/events.ndjson >$out/weir.ndjson"
w_weir=$W c_weir=$C
timed 1 "jq -c '{user_id, ts, action, amount, country}' <$out/events.ndjson >$out/jq.ndjson"
w_jq=$W c_jq=$C
rows=$(wc -l <"$out/weir.ndjson")
[ "$rows" -eq "$(wc -l <"$out/jq.ndjson")" ] || { echo "bench/parse.sh: jq wrote a different number of rows" >&2; exit 1; }
if [ -n "$duck" ]; then
	# the query's own time comes from each run's file, so one run at a time
	: >"$out/duck.runs"
	for _ in $(seq "$runs"); do
		timed 1 "NODE_PATH=$duck/node_modules node $out/duck.js $out/events.ndjson $out/duck.ndjson $out/duck.time"
		echo "$W $C $(cat "$out/duck.time")" >>"$out/duck.runs"
	done
	w_duck=$(cut -d' ' -f1 "$out/duck.runs" | median)
	c_duck=$(cut -d' ' -f2 "$out/duck.runs" | median)
	q=$(cut -d' ' -f3 "$out/duck.runs" | median)
	[ "$rows" -eq "$(wc -l <"$out/duck.ndjson")" ] || { echo "bench/parse.sh: DuckDB wrote a different number of rows" >&2; exit 1; }
fi

echo "$n events ($size of NDJSON from scripts/gen-events), schema \`$schema\`, projection \`$select\`; load average $load on $(nproc) cores when it started."
echo
echo "| projection + casts, NDJSON out | wall ms | CPU ms | ratio, CPU (peer / weir) | ratio, wall |"
echo "|---|---|---|---|---|"
echo "| weir-parse | $(ms "$w_weir") | $(ms "$c_weir") | | |"
echo "| jq -c | $(ms "$w_jq") | $(ms "$c_jq") | $(ratio "$c_jq" "$c_weir") (goal 20) | $(ratio "$w_jq" "$w_weir") |"
if [ -n "$duck" ]; then
	echo "| DuckDB read_ndjson, threads=1 (node) | $(ms "$w_duck") | $(ms "$c_duck") | $(ratio "$c_duck" "$c_weir") (goal 1.0) | $(ratio "$w_duck" "$w_weir") |"
	echo "| DuckDB, the query alone (wall) | $(ms "$q") | | | $(ratio "$q" "$w_weir") |"
else
	echo "| DuckDB | not measured: npm @duckdb/node-api could not be installed | | | |"
fi

# the next stage: a filter that keeps nothing (reading costs); the same
# when the stage needs the types back (NDJSON must be cast again, framed
# values arrive typed); and a pass-through that writes what it reads
"$P" -q -s "$schema" -c "$select" --framed <"$out/events.ndjson" >"$out/weir.framed"
# stage NDJSON-ARGS FRAMED-ARGS WHAT: the two runs alternate, so that a
# change in the machine's load falls on both sides of the ratio alike; these
# runs are short, so there are three times as many
stage() {
	: >"$out/times.n"
	: >"$out/times.f"
	for _ in $(seq $((runs * 3))); do
		bench/cputime "$out/time" sh -c "$P -q $1 <$out/weir.ndjson >/dev/null"
		cat "$out/time" >>"$out/times.n"
		bench/cputime "$out/time" sh -c "$P -q $2 <$out/weir.framed >/dev/null"
		cat "$out/time" >>"$out/times.f"
	done
	wn=$(cut -d' ' -f1 "$out/times.n" | median) cn=$(awk '{ print $2 + $3 }' "$out/times.n" | median)
	wf=$(cut -d' ' -f1 "$out/times.f" | median) cf=$(awk '{ print $2 + $3 }' "$out/times.f" | median)
	echo "| $3 | $(ms "$cn") | $(ms "$cf") | $(ratio "$cn" "$cf") | $(ratio "$wn" "$wf") |"
}
echo
echo "| the next stage reads weir-parse's output | NDJSON CPU ms | framed CPU ms | ratio, CPU (goal 3) | ratio, wall |"
echo "|---|---|---|---|---|"
stage "-w 'amount > 1000000'" "-w 'amount > 1000000'" "weir-parse -w on a number (reads, keeps nothing)"
stage "-s '$typed' -w \"ts < TIMESTAMP '2000-01-01T00:00:00Z'\"" "-w \"ts < TIMESTAMP '2000-01-01T00:00:00Z'\"" \
	"weir-parse -w on the timestamp: the types are needed (NDJSON is cast again with -s)"
stage "" "--framed" "weir-parse passing records on in the encoding it reads"
echo "| bytes | $(wc -c <"$out/weir.ndjson") | $(wc -c <"$out/weir.framed") | | |"

rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
r1=$(rss "$P" -q -s "$schema" -c "$select" "$out/events.ndjson")
r10=$(scripts/gen-events -n $((n * 10)) | rss "$P" -q -s "$schema" -c "$select")
echo
echo "Peak RSS of weir-parse (goal under 32 MB whatever the input size): $(echo "$r1" | awk '{printf "%.1f MB", $1 / 1024}') on $n events, $(echo "$r10" | awk '{printf "%.1f MB", $1 / 1024}') on $((n * 10)) events through a pipe."
rm -f "$out/events.ndjson" "$out/jq.ndjson" "$out/duck.ndjson"
