#!/bin/sh
# Seeds for the Parquet fuzz target into directory $1: the shared fixtures
# (read from $WEIR_FIXTURES, never copied into the repository) and small
# files our own writer makes with every codec and nesting shape.
set -eu
dir=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
fx=${WEIR_FIXTURES:-$top/../shared/fixtures}
if [ -d "$fx/parquet" ]; then
	for f in "$fx"/parquet/*.parquet "$fx"/parquet/bad_data/*.parquet; do
		[ "$(wc -c <"$f")" -le 262144 ] && cp "$f" "$dir/fixture-$(basename "$f")"
	done
fi
bin=${WEIR_BIN:-$top/build/bin}
[ -x "$bin/weir-lake-cat" ] || exit 0
rows='{"a":1,"s":"x","l":[1,null],"m":{"k":2.5},"st":{"t":"2024-01-01T00:00:00Z","d":1.25}}
{"a":null,"s":null,"l":[],"m":null,"st":null}
{"a":3,"s":"yy","l":null,"m":{},"st":{"t":null,"d":-3.5}}'
for c in zstd snappy gzip none lz4_raw brotli; do
	echo "$rows" | "$bin/weir-lake-cat" --write-parquet "$dir/weir-$c.parquet" --codec "$c" \
		--schema 'a BIGINT, s STRING, l ARRAY<INT>, m MAP<STRING,DOUBLE>, st STRUCT<t: TIMESTAMP, d: DECIMAL(20,2)>'
done
