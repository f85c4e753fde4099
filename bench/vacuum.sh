#!/bin/sh
# bench/vacuum.sh - weir-lake-vacuum at scale, printed as Markdown for
# bench/run.sh:
#  1. vacuum of a table with 100k data files (100 partitions, half of the
#     files removed 10 days ago), against removing the same files with
#     xargs rm (the floor: what the unlinks alone cost);
#  2. compaction throughput: --optimize of a table of 1000 small files
#     against DuckDB rewriting the same files into one (read_parquet ->
#     COPY TO, zstd, threads=2), in MB/s of input.
# The machine is shared, so CPU time (user + sys) is reported beside wall
# time.  VACUUM_FILES and OPTIMIZE_FILES scale the two parts down.
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD
BIN=${WEIR_BIN:-$TOP/build/bin}
N=${VACUUM_FILES:-100000}
M=${OPTIMIZE_FILES:-1000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-bench-vacuum.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# measure CMD...: WALL and CPU in seconds, RSS in MiB
measure() {
	bench/cputime "$tmp/time" "$@" >/dev/null
	read -r w u s kb <"$tmp/time"
	WALL=$(awk -v w="$w" 'BEGIN { printf "%.2f", w }')
	CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
	RSS=$((kb / 1024))
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

# ---- 1. vacuum of 100k files ----
T=$tmp/t
mkdir -p "$T/_delta_log"
old_ms=$((($(date +%s) - 10 * 86400) * 1000))
awk -v n="$N" -v t="$old_ms" -v out="$T/_delta_log" 'BEGIN {
	v0 = out "/00000000000000000000.json"; v1 = out "/00000000000000000001.json"
	printf "{\"commitInfo\":{\"timestamp\":%d,\"operation\":\"WRITE\"}}\n", t > v0
	print "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}" > v0
	printf "{\"metaData\":{\"id\":\"bench\",\"format\":{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":\"{\\\"type\\\":\\\"struct\\\",\\\"fields\\\":[{\\\"name\\\":\\\"id\\\",\\\"type\\\":\\\"long\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}},{\\\"name\\\":\\\"p\\\",\\\"type\\\":\\\"integer\\\",\\\"nullable\\\":true,\\\"metadata\\\":{}}]}\",\"partitionColumns\":[\"p\"],\"configuration\":{},\"createdTime\":%d}}\n", t > v0
	printf "{\"commitInfo\":{\"timestamp\":%d,\"operation\":\"DELETE\"}}\n", t + 3600000 > v1
	for (i = 0; i < n; i++) {
		path = sprintf("p=%d/part-%07d-c000.snappy.parquet", i % 100, i)
		printf "{\"add\":{\"path\":\"%s\",\"partitionValues\":{\"p\":\"%d\"},\"size\":512,\"modificationTime\":%d,\"dataChange\":true}}\n", path, i % 100, t > v0
		if (i % 2 == 0)
			printf "{\"remove\":{\"path\":\"%s\",\"deletionTimestamp\":%d,\"dataChange\":true,\"partitionValues\":{\"p\":\"%d\"},\"size\":512}}\n", path, t + 3600000, i % 100 > v1
		print path > (out "/../files")
		if (i % 2 == 0)
			print path > (out "/../gone")
	}
}'
make_files() {
	(cd "$T" && awk 'BEGIN { for (p = 0; p < 100; p++) print "p=" p }' | xargs mkdir -p &&
		xargs truncate -s 512 <"$1" && xargs touch -d @$((old_ms / 1000)) <"$1")
}
make_files "$T/files"

measure "$BIN/weir-lake-vacuum" -q --dry-run "$T"
dry_wall=$WALL dry_cpu=$CPU dry_rss=$RSS
measure "$BIN/weir-lake-vacuum" -q "$T"
vac_wall=$WALL vac_cpu=$CPU vac_rss=$RSS
left=$(find "$T" -name '*.parquet' | wc -l)
[ "$left" -eq $((N / 2)) ] || { echo "vacuum left $left files, expected $((N / 2))" >&2; exit 1; }
make_files "$T/gone"
measure sh -c "cd '$T' && xargs rm <gone"
rm_wall=$WALL rm_cpu=$CPU

echo "### vacuum of a table with $N files"
echo
echo "$N add actions in version 0, half of them removed 10 days ago in version 1; 100 partitions."
echo
echo "| run | wall s | CPU s | peak RSS MiB |"
echo "|---|---|---|---|"
echo "| weir-lake-vacuum --dry-run (replay, walk $N files) | $dry_wall | $dry_cpu | $dry_rss |"
echo "| weir-lake-vacuum (deletes $((N / 2)) files) | $vac_wall | $vac_cpu | $vac_rss |"
echo "| floor: \`xargs rm\` of the same $((N / 2)) files | $rm_wall | $rm_cpu | |"
echo
echo "Vacuum takes $(ratio "$vac_wall" "$rm_wall")× the wall time of the bare unlinks ($(ratio "$vac_cpu" "$rm_cpu")× the CPU)."
echo

# ---- 2. compaction throughput ----
[ -x "$BIN/weir-lake-write" ] || { echo "(compaction: weir-lake-write not built, skipped)"; exit 0; }
C=$tmp/c
# M commits of 1000 rows each: the small files a streaming writer leaves
seq 1 "$((M * 1000))" | awk '{
	printf "{\"id\":%d,\"user\":\"user-%d\",\"url\":\"https://example.com/p/%d\",\"n\":%d.%02d}\n", $1, $1 % 977, $1 % 5003, $1 % 1000, $1 % 100
}' >"$tmp/rows.ndjson"
"$BIN/weir-lake-write" --schema 'id BIGINT NOT NULL, user STRING, url STRING, n DOUBLE' --max-rows 1000 \
	"$C" <"$tmp/rows.ndjson" >/dev/null
files=$(find "$C" -path "$C/_delta_log" -prune -o -name '*.parquet' -print | wc -l)
bytes=$(find "$C" -path "$C/_delta_log" -prune -o -name '*.parquet' -printf '%s\n' | awk '{ s += $1 } END { print s }')
mbytes=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
cp -r "$C" "$tmp/c2"

measure "$BIN/weir-lake-vacuum" -q --optimize --target-size 1G "$C"
opt_wall=$WALL opt_cpu=$CPU opt_rss=$RSS

NODE_PATH=${WEIR_CACHE:-$TOP/.cache}/duckdb/node_modules
if [ ! -d "$NODE_PATH/@duckdb/node-api" ]; then
	mkdir -p "$NODE_PATH/.."
	(cd "$NODE_PATH/.." && npm install --silent --no-audit --no-fund @duckdb/node-api >/dev/null 2>&1) ||
		{ echo "(DuckDB could not be installed: no comparison)"; exit 0; }
fi
export NODE_PATH
measure node tests/duckdb-query.js "SELECT 1"
start_wall=$WALL start_cpu=$CPU
measure node tests/duckdb-query.js \
	"COPY (SELECT * FROM read_parquet('$tmp/c2/*.parquet')) TO '$tmp/duck.parquet' (FORMAT parquet, COMPRESSION zstd)"
duck_wall=$(minus "$WALL" "$start_wall") duck_cpu=$(minus "$CPU" "$start_cpu") duck_rss=$RSS

echo "### compaction of $files small files ($mbytes MB, $M commits of 1000 rows)"
echo
echo "| run | wall s | CPU s | MB/s (wall) | peak RSS MiB |"
echo "|---|---|---|---|---|"
echo "| weir-lake-vacuum --optimize (read, rewrite, commit) | $opt_wall | $opt_cpu | $(ratio "$mbytes" "$opt_wall") | $opt_rss |"
echo "| DuckDB read_parquet → COPY TO (zstd, threads=2), minus node start-up | $duck_wall | $duck_cpu | $(ratio "$mbytes" "$duck_wall") | $duck_rss |"
echo
echo "Ratio DuckDB / weir: $(ratio "$duck_wall" "$opt_wall") in wall time, $(ratio "$duck_cpu" "$opt_cpu") in CPU time."
