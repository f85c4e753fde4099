#!/bin/sh
# bench/merge.sh - MERGE of 100k changes (upserts, deletes, inserts) into a
# Delta table of 10M rows (40 files of 250k rows, ids in order), printed as
# Markdown for bench/run.sh.  Two change sets: clustered (the newest 5% of
# ids, as CDC of recent rows tends to be) and uniform over all ids.  For
# each: weir-lake-write --merge-on (copy-on-write: files read, rewritten,
# time, peak RSS) against DuckDB on the same data, timed inside one DuckDB
# process without start-up or loading: INSERT OR REPLACE + DELETE into a
# table with a primary key (an in-place update), and a copy-on-write like
# weir's, rewriting the whole merged table to Parquet.  The results are
# checked to agree (row count and sums) before anything is printed.
# MERGE_ROWS and MERGE_CHANGES scale it down.
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD
BIN=${WEIR_BIN:-$TOP/build/bin}
N=${MERGE_ROWS:-10000000}
C=${MERGE_CHANGES:-100000}
PER_FILE=$(((N + 39) / 40))
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-bench-merge.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
NODE_PATH=${WEIR_CACHE:-$TOP/.cache}/duckdb/node_modules
export NODE_PATH
if [ ! -d "$NODE_PATH/@duckdb/node-api" ]; then
	mkdir -p "$NODE_PATH/.."
	(cd "$NODE_PATH/.." && npm install --silent --no-audit --no-fund @duckdb/node-api >/dev/null 2>&1) ||
		{ echo "DuckDB (npm @duckdb/node-api) could not be installed" >&2; exit 1; }
fi

# measure CMD...: WALL and CPU in seconds, RSS in MiB (stdin from $IN)
measure() {
	bench/cputime "$tmp/time" "$@" <"$IN" >/dev/null
	read -r w u s kb <"$tmp/time"
	WALL=$(awk -v w="$w" 'BEGIN { printf "%.2f", w }')
	CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
	RSS=$((kb / 1024))
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }

# ---- the table: ids 0..N-1 in order ----
SCHEMA='id BIGINT NOT NULL, user BIGINT, url STRING, amount DECIMAL(10,2)'
start=$(date +%s)
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
	printf "{\"id\":%d,\"user\":%d,\"url\":\"/p/%d\",\"amount\":%d.%02d}\n", i, (i * 7919) % 100003, (i * 31) % 5003, (i * 13) % 1000, i % 100 }' |
	nice "$BIN/weir-lake-write" -s "$SCHEMA" --max-rows "$PER_FILE" "$tmp/base" >/dev/null
built=$(($(date +%s) - start))
live() { node "$TOP/tests/delta-replay.js" "$1" | jq -r '.files[].path' | sed "s/.*/'&'/" | paste -sd,; }
base_files=$(live "$tmp/base")

# ---- the changes: 90% updates, 5% deletes of existing ids, 5% new ids ----
# changes KIND: clustered (updates and deletes in the newest 5% of ids) or uniform
changes() {
	awk -v n="$N" -v c="$C" -v kind="$1" 'BEGIN { srand(kind == "uniform" ? 2 : 1)
		lo = kind == "uniform" ? 0 : int(n * 0.95)
		for (i = 1; i <= c; i++) {
			r = rand(); id = lo + int(rand() * (n - lo))
			if (r < 0.05) { printf "{\"seq\":%d,\"op\":\"d\",\"id\":%d}\n", i, id; continue }
			if (r < 0.10) id = n + i
			printf "{\"seq\":%d,\"op\":\"u\",\"id\":%d,\"user\":%d,\"url\":\"/changed/%d\",\"amount\":%d.%02d}\n",
				i, id, i % 1000, i, i % 977, i % 100 } }'
}
changes clustered >"$tmp/clustered.ndjson"
changes uniform >"$tmp/uniform.ndjson"

# ---- DuckDB: the same merges, timed per statement inside one process ----
cat >"$tmp/duck.js" <<'EOF'
const { DuckDBInstance } = require('@duckdb/node-api');
const [files, dir, ...kinds] = process.argv.slice(2);
// wall and CPU (all of DuckDB's threads) seconds since a start()
const start = () => [process.hrtime.bigint(), process.cpuUsage()];
const took = ([t, c]) => {
  const u = process.cpuUsage(c);
  return [(Number(process.hrtime.bigint() - t) / 1e9).toFixed(2), ((u.user + u.system) / 1e6).toFixed(2)];
};
(async () => {
  const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
  const db = await inst.connect();
  await db.run(`CREATE TABLE base AS SELECT * FROM read_parquet([${files}])`);
  for (const kind of kinds) {
    const ch = `(SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY id ORDER BY seq DESC) AS rn
      FROM read_json('${dir}/${kind}.ndjson', columns = {seq: 'BIGINT', op: 'VARCHAR', id: 'BIGINT',
        "user": 'BIGINT', url: 'VARCHAR', amount: 'DECIMAL(10,2)'})) WHERE rn = 1)`;
    await db.run(`CREATE OR REPLACE TABLE t (id BIGINT PRIMARY KEY, "user" BIGINT, url VARCHAR, amount DECIMAL(10,2))`);
    await db.run(`INSERT INTO t SELECT * FROM base`);
    let t0 = start();
    await db.run(`CREATE TEMP TABLE c AS ${ch}`);
    await db.run(`INSERT OR REPLACE INTO t SELECT id, "user", url, amount FROM c WHERE op <> 'd'`);
    await db.run(`DELETE FROM t WHERE id IN (SELECT id FROM c WHERE op = 'd')`);
    const upsert = took(t0);
    await db.run(`DROP TABLE c`);
    t0 = start();
    await db.run(`COPY (SELECT b.* FROM read_parquet([${files}]) b ANTI JOIN ${ch} c ON b.id = c.id
      UNION ALL SELECT id, "user", url, amount FROM ${ch} WHERE op <> 'd')
      TO '${dir}/${kind}-duck.parquet' (FORMAT parquet, COMPRESSION zstd)`);
    const rewrite = took(t0);
    const r = await db.runAndReadAll(`SELECT count(*)::BIGINT AS n, sum(id)::VARCHAR AS ids,
      sum(amount)::VARCHAR AS amount, sum(length(url))::BIGINT AS urls FROM t`);
    const w = await db.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM read_parquet('${dir}/${kind}-duck.parquet')`);
    const [row] = r.getRowObjectsJson();
    console.log(JSON.stringify({ kind, upsert_s: upsert[0], upsert_cpu: upsert[1], rewrite_s: rewrite[0], rewrite_cpu: rewrite[1],
      check: `${row.n} ${row.ids} ${row.amount} ${row.urls}`, rewritten_rows: w.getRowObjectsJson()[0].n }));
  }
})().catch((e) => { console.error(String(e.message || e)); process.exit(1); });
EOF
nice node "$tmp/duck.js" "$base_files" "$tmp" clustered uniform >"$tmp/duck.out"

# weir's result, summed by DuckDB over the live files of the independent log replay
weir_check() {
	node "$TOP/tests/duckdb-query.js" "SELECT count(*)::BIGINT AS n, sum(id)::VARCHAR AS ids,
		sum(amount)::VARCHAR AS amount, sum(length(url))::BIGINT AS urls FROM read_parquet([$(live "$1")])" |
		jq -r '"\(.n) \(.ids) \(.amount) \(.urls)"'
}

echo "### MERGE of $C changes into a Delta table of $N rows"
echo
echo "40 files of $PER_FILE rows (ids in order; built in ${built} s). Changes: 90% updates, 5% deletes,"
echo "5% new ids, last change per id by seq; clustered = updates and deletes in the newest 5% of ids."
echo "DuckDB (2 threads) is timed inside one process, without start-up or loading the table; its"
echo "rewrite reads the same 40 Parquet files and writes one.  Times are wall / CPU seconds (the machine"
echo "is shared, so CPU time is the steadier figure); ratios are DuckDB / weir in CPU time."
echo
echo "| changes | weir files read / rewritten of 40 | weir s | weir peak RSS MiB | DuckDB INSERT OR REPLACE s | DuckDB rewrite to Parquet s | ratio upsert | ratio rewrite |"
echo "|---|---|---|---|---|---|---|---|"
for kind in clustered uniform; do
	rm -rf "$tmp/t"
	cp -r "$tmp/base" "$tmp/t"
	IN=$tmp/$kind.ndjson
	measure nice "$BIN/weir-lake-write" --merge-on id --delete-when "op = 'd'" --order-by seq "$tmp/t"
	last=$(ls "$tmp/t/_delta_log" | grep '^[0-9]*\.json$' | tail -1)
	m=$(jq -c 'select(.commitInfo) | .commitInfo.operationMetrics' "$tmp/t/_delta_log/$last")
	read_files=$(echo "$m" | jq -r .numTargetFilesAfterSkipping)
	removed=$(echo "$m" | jq -r .numTargetFilesRemoved)
	d=$(grep "\"kind\":\"$kind\"" "$tmp/duck.out")
	up=$(echo "$d" | jq -r .upsert_s) up_cpu=$(echo "$d" | jq -r .upsert_cpu)
	rw=$(echo "$d" | jq -r .rewrite_s) rw_cpu=$(echo "$d" | jq -r .rewrite_cpu)
	want=$(echo "$d" | jq -r .check)
	got=$(weir_check "$tmp/t")
	[ "$got" = "$want" ] || { echo "$kind: weir's table ($got) differs from DuckDB's ($want)" >&2; exit 1; }
	echo "| $kind | $read_files / $removed | $WALL / $CPU | $RSS | $up / $up_cpu | $rw / $rw_cpu | $(ratio "$up_cpu" "$CPU") | $(ratio "$rw_cpu" "$CPU") |"
done
echo
echo "Both results agree (row count, sums of id, amount and url lengths). Ratios above 1.0: weir is faster."
