#!/bin/sh
# bench/vacuum.sh - weir-lake-vacuum at scale, printed as Markdown for
# bench/run.sh:
#  1. vacuum of a table with 100k data files (100 partitions, half of the
#     files removed 10 days ago), against removing the same files with
#     find | xargs rm (the floor: what the unlinks alone cost);
#  2. compaction throughput: --optimize of a table of many small files
#     against DuckDB rewriting the same files into one (read_parquet ->
#     COPY TO, zstd, threads=2), in MB/s of input.
# VACUUM_FILES and OPTIMIZE_FILES scale the two parts down for a quick look.
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD
BIN=${WEIR_BIN:-$TOP/build/bin}
N=${VACUUM_FILES:-100000}
M=${OPTIMIZE_FILES:-2000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-bench-vacuum.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# peak resident set of a command, in MiB
rss() { /usr/bin/time -f %M -o "$tmp/rss" "$@" >/dev/null && awk '{ printf "%.0f", $1 / 1024 }' "$tmp/rss"; }

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

t=$(now)
"$BIN/weir-lake-vacuum" -q --dry-run "$T" >/dev/null
dry=$(since "$t")
t=$(now)
"$BIN/weir-lake-vacuum" -q "$T"
vac=$(since "$t")
left=$(find "$T" -name '*.parquet' | wc -l)
[ "$left" -eq $((N / 2)) ] || { echo "vacuum left $left files, expected $((N / 2))" >&2; exit 1; }
make_files "$T/gone"
mb=$(rss "$BIN/weir-lake-vacuum" -q --dry-run "$T")
t=$(now)
(cd "$T" && xargs rm <gone)
floor=$(since "$t")

echo "### vacuum of a table with $N files"
echo
echo "$N add actions in version 0, half of them removed 10 days ago in version 1; 100 partitions."
echo
echo "| run | seconds |"
echo "|---|---|"
echo "| weir-lake-vacuum --dry-run (replay, walk $N files) | $dry |"
echo "| weir-lake-vacuum (deletes $((N / 2)) files) | $vac |"
echo "| floor: \`xargs rm\` of the same $((N / 2)) files | $floor |"
echo
echo "Vacuum takes $(ratio "$vac" "$floor")× the time of the bare unlinks; peak RSS of the dry run $mb MiB."
echo

# ---- 2. compaction throughput ----
[ -x "$BIN/weir-lake-write" ] || { echo "(compaction: weir-lake-write not built, skipped)"; exit 0; }
C=$tmp/c
# M commits of ~1000 rows each: the small files a streaming writer leaves
seq 1 "$((M * 1000))" | awk -v m="$M" '{
	printf "{\"id\":%d,\"user\":\"user-%d\",\"url\":\"https://example.com/p/%d\",\"n\":%d.%02d}\n", $1, $1 % 977, $1 % 5003, $1 % 1000, $1 % 100
}' >"$tmp/rows.ndjson"
"$BIN/weir-lake-write" --schema 'id BIGINT NOT NULL, user STRING, url STRING, n DOUBLE' --max-rows 1000 \
	"$C" <"$tmp/rows.ndjson" >/dev/null
files=$(find "$C" -name '*.parquet' | wc -l)
bytes=$(find "$C" -name '*.parquet' -printf '%s\n' | awk '{ s += $1 } END { print s }')
mbytes=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
cp -r "$C" "$tmp/c2"

t=$(now)
"$BIN/weir-lake-vacuum" -q --optimize --target-size 1G "$C"
opt=$(since "$t")

NODE_PATH=${WEIR_CACHE:-$TOP/.cache}/duckdb/node_modules
if [ ! -d "$NODE_PATH/@duckdb/node-api" ]; then
	mkdir -p "$NODE_PATH/.."
	(cd "$NODE_PATH/.." && npm install --silent --no-audit --no-fund @duckdb/node-api >/dev/null 2>&1) ||
		{ echo "(DuckDB could not be installed: no comparison)"; exit 0; }
fi
export NODE_PATH
t=$(now)
node tests/duckdb-query.js "COPY (SELECT * FROM read_parquet('$tmp/c2/*.parquet')) TO '$tmp/duck.parquet' (FORMAT parquet, COMPRESSION zstd)" >/dev/null
duck=$(since "$t")

echo "### compaction of $files small files ($mbytes MB)"
echo
echo "| run | seconds | MB/s |"
echo "|---|---|---|"
echo "| weir-lake-vacuum --optimize (read, rewrite, commit) | $opt | $(ratio "$mbytes" "$opt") |"
echo "| DuckDB read_parquet → COPY TO (zstd, threads=2) | $duck | $(ratio "$mbytes" "$duck") |"
echo
echo "Ratio DuckDB / weir: $(ratio "$duck" "$opt")."
