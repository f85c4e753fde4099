#!/usr/bin/env bats
# The Parquet library through weir-lake-cat: files other engines wrote read
# to the rows an independent reader (DuckDB) saw, malformed files fail
# cleanly, and what we write DuckDB reads back identically.

load helper

# Numbers compare numerically (0.0 equals 0); keys sorted.
canon() {
	jq -cS 'walk(if type == "number" then (. * 1000000 | round) / 1000000 else . end)' "$@"
}

ALL_TYPES='b BOOLEAN, i8 TINYINT, i16 SMALLINT, i32 INT, i64 BIGINT, f FLOAT, d DOUBLE, dec DECIMAL(10,3), big DECIMAL(30,5), s STRING, bin BINARY, dt DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, arr ARRAY<BIGINT>, m MAP<STRING,INT>, st STRUCT<x: INT, y: ARRAY<STRUCT<z: STRING>>>, req STRING NOT NULL'

all_types_rows() {
	cat <<'ROWS'
{"b":true,"i8":-128,"i16":32767,"i32":-5,"i64":9007199254740993,"f":1.1,"d":2.5,"dec":12.345,"big":-1234567890123456789012.5,"s":"héllo","bin":"AAEC","dt":"2024-02-29","ts":"2024-01-01T12:00:00.123456Z","ntz":"2024-01-01T12:00:00.000000","arr":[1,null,3],"m":{"a":1,"b":null},"st":{"x":1,"y":[{"z":"q"},null,{"z":null}]},"req":"r1"}
{"b":null,"i8":null,"i16":null,"i32":null,"i64":null,"f":"NaN","d":"-Infinity","dec":-0.001,"big":null,"s":null,"bin":null,"dt":null,"ts":null,"ntz":null,"arr":[],"m":{},"st":{"x":null,"y":null},"req":""}
{"b":false,"i8":null,"i16":null,"i32":7,"i64":null,"f":null,"d":null,"dec":null,"big":0.00001,"s":"","bin":"","dt":"1969-12-31","ts":"1900-01-01T00:00:00.000000Z","ntz":null,"arr":null,"m":null,"st":null,"req":"r3"}
ROWS
}

@test "every fixture file reads to the rows DuckDB read" {
	need_fixtures
	local f n
	for f in "$WEIR_FIXTURES"/parquet/*.parquet; do
		n=$(basename "$f" .parquet)
		run weir-lake-cat --parquet "$f"
		[ "$status" -eq 0 ] || fail "$n: exit $status: $output"
		if [ "$n" = int96_from_spark ]; then
			# Row 6 is year 290000: DuckDB converts INT96 through int64
			# nanoseconds, which overflow; we keep the exact microseconds.
			diff <(canon "$WEIR_FIXTURES/parquet-expected/$n.ndjson" | sed 6d) <(echo "$output" | canon | sed 6d) ||
				fail "$n differs"
			[ "$(echo "$output" | sed -n 6p)" = '{"a":"+290000-12-30T23:00:00.000000"}' ] || fail "$n row 6"
			continue
		fi
		diff <(canon "$WEIR_FIXTURES/parquet-expected/$n.ndjson") <(echo "$output" | canon) || fail "$n differs"
	done
}

@test "every malformed file fails cleanly with status 2 and a message" {
	need_fixtures
	local f
	for f in "$WEIR_FIXTURES"/parquet/bad_data/*.parquet; do
		run timeout 60 weir-lake-cat --parquet "$f"
		[ "$status" -eq 2 ] || fail "$(basename "$f"): exit $status: ${output:0:300}"
		[[ ${lines[-1]} == "weir-lake-cat: cannot read '$f': "* ]] || fail "$(basename "$f"): ${lines[-1]}"
		[[ $output != *AddressSanitizer* && $output != *"runtime error"* ]] || fail "$(basename "$f"): sanitizer"
	done
}

@test "specific refusals name the problem" {
	need_fixtures
	run weir-lake-cat --parquet "$WEIR_FIXTURES/parquet/bad_data/PARQUET-1481.parquet"
	[ "$status" -eq 2 ]
	assert_output --partial "corrupt file metadata: unknown physical type"
	run weir-lake-cat --parquet "$WEIR_FIXTURES/parquet/bad_data/ARROW-GH-41321.parquet"
	[ "$status" -eq 2 ]
	assert_output --partial "column 'int64': dictionary index width 254"
	run weir-lake-cat --parquet "$BATS_TEST_DIRNAME/parquet.bats"
	[ "$status" -eq 2 ]
	assert_output --partial "not a Parquet file"
	run weir-lake-cat --parquet /nonexistent.parquet
	[ "$status" -eq 2 ]
	assert_output "weir-lake-cat: cannot read '/nonexistent.parquet': No such file or directory"
	head -c 600 "$WEIR_FIXTURES/parquet/alltypes_plain.parquet" >"$BATS_TEST_TMPDIR/trunc.parquet"
	run weir-lake-cat --parquet "$BATS_TEST_TMPDIR/trunc.parquet"
	[ "$status" -eq 2 ]
	assert_output --partial "no PAR1 magic"
}

@test "a damaged page is refused by its checksum, in the files we write and in parquet-mr's" {
	# one uncompressed page of 700 kB: its middle byte is page data
	seq 1 20000 | awk '{ printf "{\"s\":\"value-%08d-abcdefghijklmnop\"}\n", $1 }' |
		weir-lake-cat --write-parquet "$BATS_TEST_TMPDIR/ours.parquet" --schema 's STRING' --codec none --no-dictionary
	run weir-lake-cat --parquet "$BATS_TEST_TMPDIR/ours.parquet"
	assert_success
	[ "${#lines[@]}" -eq 20000 ]
	printf X | dd of="$BATS_TEST_TMPDIR/ours.parquet" bs=1 seek=350000 conv=notrunc 2>/dev/null
	run weir-lake-cat --parquet "$BATS_TEST_TMPDIR/ours.parquet"
	assert_failure 2
	assert_output "weir-lake-cat: cannot read '$BATS_TEST_TMPDIR/ours.parquet': column 's': page checksum mismatch (stored 2353a3a8, computed 4a1410a8): the file is damaged"
	need_fixtures
	# parquet-mr's dictionary page of binary_field holds its bytes 80 to 121:
	# a changed letter there would change every row's value, silently
	cp "$WEIR_FIXTURES/parquet/rle-dict-snappy-checksum.parquet" "$BATS_TEST_TMPDIR/mr.parquet"
	chmod u+w "$BATS_TEST_TMPDIR/mr.parquet"
	printf Z | dd of="$BATS_TEST_TMPDIR/mr.parquet" bs=1 seek=100 conv=notrunc 2>/dev/null
	run weir-lake-cat --parquet "$BATS_TEST_TMPDIR/mr.parquet"
	assert_failure 2
	assert_output --partial "column 'binary_field': page checksum mismatch (stored b47f772e, computed 3d1cbaaa)"
}

@test "schema as DDL and as Delta JSON; legacy shapes normalised" {
	need_fixtures
	run weir-lake-cat --parquet "$WEIR_FIXTURES/parquet/alltypes_plain.parquet" --schema
	[ "$status" -eq 0 ]
	assert_output 'id INT, bool_col BOOLEAN, tinyint_col INT, smallint_col INT, int_col INT, bigint_col BIGINT, float_col FLOAT, double_col DOUBLE, date_string_col BINARY, string_col BINARY, timestamp_col TIMESTAMP_NTZ'
	run weir-lake-cat --parquet "$WEIR_FIXTURES/parquet/nested_maps.snappy.parquet" --schema
	assert_output 'a MAP<STRING,MAP<INT,BOOLEAN>>, b INT NOT NULL, c DOUBLE NOT NULL'
	run weir-lake-cat --parquet "$WEIR_FIXTURES/parquet/list_columns.parquet" --schema --json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c '.fields[0].type')" = '{"type":"array","elementType":"long","containsNull":true}' ]
	run weir-lake-cat --parquet "$WEIR_FIXTURES/parquet/byte_array_decimal.parquet" --schema
	assert_output 'value DECIMAL(4,2)'
}

@test "--meta shows codecs, encodings and statistics" {
	need_fixtures
	run weir-lake-cat --parquet "$WEIR_FIXTURES/parquet/alltypes_plain.snappy.parquet" --meta
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c '[.num_rows, (.row_groups|length), .row_groups[0].columns[0].codec]')" = '[2,1,"SNAPPY"]' ]
	run weir-lake-cat --parquet "$WEIR_FIXTURES/parquet/int32_decimal.parquet" --meta
	[[ $output == *'"statistics":{"min":1.00,"max":24.00,"null_count":0}'* ]] || fail "$output"
}

@test "--columns reads a projection in the order given; --row-groups a subset" {
	need_fixtures
	run weir-lake-cat --parquet "$WEIR_FIXTURES/parquet/alltypes_plain.parquet" --columns string_col,id
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"string_col":"MA==","id":4}' ]
	[ "${#lines[@]}" -eq 8 ]
	run weir-lake-cat --parquet "$WEIR_FIXTURES/parquet/alltypes_plain.parquet" --columns nope
	[ "$status" -eq 2 ]
	assert_output --partial "no column 'nope' in the file"
	printf '{"a":1}\n{"a":2}\n{"a":3}\n' |
		weir-lake-cat --write-parquet "$BATS_TEST_TMPDIR/rg.parquet" --schema 'a BIGINT' --row-group-size 1
	[ "$(weir-lake-cat --parquet "$BATS_TEST_TMPDIR/rg.parquet" --meta | jq '.row_groups|length')" -eq 3 ]
	run weir-lake-cat --parquet "$BATS_TEST_TMPDIR/rg.parquet" --row-groups 2,0
	assert_output $'{"a":3}\n{"a":1}'
	run weir-lake-cat --parquet "$BATS_TEST_TMPDIR/rg.parquet" --row-groups 3
	[ "$status" -eq 2 ]
	assert_output --partial "no row group 3"
}

@test "framed output carries the same rows, typed (written back from it)" {
	all_types_rows | weir-lake-cat --write-parquet "$BATS_TEST_TMPDIR/a.parquet" --schema "$ALL_TYPES"
	weir-lake-cat --parquet "$BATS_TEST_TMPDIR/a.parquet" --framed >"$BATS_TEST_TMPDIR/framed"
	[ "$(head -c 1 "$BATS_TEST_TMPDIR/framed")" != "{" ]
	weir-lake-cat --write-parquet "$BATS_TEST_TMPDIR/b.parquet" --schema "$ALL_TYPES" <"$BATS_TEST_TMPDIR/framed"
	diff <(weir-lake-cat --parquet "$BATS_TEST_TMPDIR/a.parquet") <(weir-lake-cat --parquet "$BATS_TEST_TMPDIR/b.parquet")
	WEIR_FRAMED=1 weir-lake-cat --parquet "$BATS_TEST_TMPDIR/a.parquet" --columns st,i32 | cmp - <(weir-lake-cat --parquet "$BATS_TEST_TMPDIR/a.parquet" --columns st,i32 --framed)
}

@test "writer: every type, nulls and nesting read back by our reader" {
	all_types_rows >"$BATS_TEST_TMPDIR/in.ndjson"
	run weir-lake-cat --write-parquet "$BATS_TEST_TMPDIR/t.parquet" --schema "$ALL_TYPES" <"$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ] && [ -z "$output" ]
	run weir-lake-cat --parquet "$BATS_TEST_TMPDIR/t.parquet"
	[ "$status" -eq 0 ]
	diff <(canon "$BATS_TEST_TMPDIR/in.ndjson") <(echo "$output" | canon)
	run weir-lake-cat --parquet "$BATS_TEST_TMPDIR/t.parquet" --schema
	assert_output 'b BOOLEAN, i8 TINYINT, i16 SMALLINT, i32 INT, i64 BIGINT, f FLOAT, d DOUBLE, dec DECIMAL(10,3), big DECIMAL(30,5), s STRING, bin BINARY, dt DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, arr ARRAY<BIGINT>, m MAP<STRING,INT>, st STRUCT<x INT, y ARRAY<STRUCT<z STRING>>>, req STRING NOT NULL'
	run weir-lake-cat --parquet "$BATS_TEST_TMPDIR/t.parquet" --meta
	[ "$(echo "$output" | jq -r .created_by)" = "weir version 0.1.0" ]
	[ "$(echo "$output" | jq -c '.row_groups[0].columns[] | select(.path=="i32") | [.codec, .encodings, .statistics]')" = '["ZSTD",["RLE","RLE_DICTIONARY"],{"min":-5,"max":7,"null_count":1}]' ]
	[ "$(echo "$output" | jq -c '.row_groups[0].columns[] | select(.path=="s") | .statistics')" = '{"min":"","max":"héllo","null_count":1}' ]
}

@test "writer: rows that do not fit the schema are refused and the file removed" {
	run weir-lake-cat --write-parquet "$BATS_TEST_TMPDIR/x.parquet" --schema 'a BIGINT NOT NULL' <<<'{"a":1}
{"b":2}'
	[ "$status" -eq 2 ]
	assert_output "weir-lake-cat: stdin: record 2: column 'a' is required but the value is missing"
	[ ! -e "$BATS_TEST_TMPDIR/x.parquet" ]
	run weir-lake-cat --write-parquet "$BATS_TEST_TMPDIR/x.parquet" --schema 'a INT' <<<'{"a":"one"}'
	[ "$status" -eq 2 ]
	assert_output "weir-lake-cat: stdin: record 1: column 'a': string value for a integer column"
	run weir-lake-cat --write-parquet "$BATS_TEST_TMPDIR/x.parquet" --schema 'a TINYINT' <<<'{"a":300}'
	[ "$status" -eq 2 ]
	assert_output "weir-lake-cat: stdin: record 1: column 'a': 300 out of range for byte"
	run weir-lake-cat --write-parquet "$BATS_TEST_TMPDIR/x.parquet" --schema 'a DECIMAL(4,1)' <<<'{"a":1.25}'
	[ "$status" -eq 2 ]
	assert_output "weir-lake-cat: stdin: record 1: column 'a': value has more than 1 decimal places"
	run weir-lake-cat --write-parquet "$BATS_TEST_TMPDIR/x.parquet" <<<'{"a":1}'
	[ "$status" -eq 2 ]
	assert_output --partial "--write-parquet needs --schema"
	run weir-lake-cat --write-parquet "$BATS_TEST_TMPDIR/x.parquet" --schema 'a INT' --codec lzo <<<'{"a":1}'
	[ "$status" -eq 2 ]
	assert_output --partial "unknown codec 'lzo'"
}

# DuckDB reads our file and writes it again as Parquet; reading both with
# our reader must give the same rows and types.  DuckDB's column types are
# checked too, so a column it misread as another type cannot pass.
duck_roundtrip() {
	local f=$1 out=$BATS_TEST_TMPDIR/duck.parquet
	rm -f "$out"
	duckdb_query "COPY (SELECT * FROM read_parquet('$f')) TO '$out' (FORMAT parquet)" >/dev/null
	diff <(weir-lake-cat --parquet "$f" | canon) <(weir-lake-cat --parquet "$out" | canon)
}

@test "writer: DuckDB reads every type, nulls and nesting, with every codec" {
	duckdb_ready
	all_types_rows >"$BATS_TEST_TMPDIR/in.ndjson"
	local c
	for c in zstd snappy gzip none lz4_raw brotli; do
		weir-lake-cat --write-parquet "$BATS_TEST_TMPDIR/$c.parquet" --schema "$ALL_TYPES" --codec "$c" <"$BATS_TEST_TMPDIR/in.ndjson"
		duck_roundtrip "$BATS_TEST_TMPDIR/$c.parquet" || fail "codec $c"
	done
	run duckdb_query "SELECT string_agg(column_name || ' ' || column_type, ', ') AS t FROM (DESCRIBE SELECT * FROM read_parquet('$BATS_TEST_TMPDIR/zstd.parquet'))"
	assert_output '{"t":"b BOOLEAN, i8 TINYINT, i16 SMALLINT, i32 INTEGER, i64 BIGINT, f FLOAT, d DOUBLE, dec DECIMAL(10,3), big DECIMAL(30,5), s VARCHAR, bin BLOB, dt DATE, ts TIMESTAMP WITH TIME ZONE, ntz TIMESTAMP, arr BIGINT[], m MAP(VARCHAR, INTEGER), st STRUCT(x INTEGER, y STRUCT(z VARCHAR)[]), req VARCHAR"}'
	# values in DuckDB's own terms
	run duckdb_query "SELECT i32, s, arr::INT[] AS arr, st, dt::VARCHAR AS dt, strftime(ts, '%Y-%m-%dT%H:%M:%S.%f') AS ts, dec::VARCHAR AS dec, big::VARCHAR AS big, isnan(f) AS nan, map_keys(m) AS mk FROM read_parquet('$BATS_TEST_TMPDIR/zstd.parquet')"
	assert_output '{"i32":-5,"s":"héllo","arr":[1,null,3],"st":{"x":1,"y":[{"z":"q"},null,{"z":null}]},"dt":"2024-02-29","ts":"2024-01-01T12:00:00.123456","dec":"12.345","big":"-1234567890123456789012.50000","nan":false,"mk":["a","b"]}
{"i32":null,"s":null,"arr":[],"st":{"x":null,"y":null},"dt":null,"ts":null,"dec":"-0.001","big":null,"nan":true,"mk":[]}
{"i32":7,"s":"","arr":null,"st":null,"dt":"1969-12-31","ts":"1900-01-01T00:00:00.000000","dec":null,"big":"0.00001","nan":null,"mk":null}'
}

@test "writer: many rows, several row groups and pages, dictionary fallback" {
	duckdb_ready
	jq -nc 'range(0; 30000) | {id: ., k: (. % 7), s: ("v" + (. % 1000 | tostring)), u: ("unique-" + tostring), l: [range(0; . % 4)], o: (if . % 5 == 0 then null else {a: ., b: [(. % 3 | tostring)]} end)}' \
		>"$BATS_TEST_TMPDIR/many.ndjson"
	weir-lake-cat --write-parquet "$BATS_TEST_TMPDIR/many.parquet" \
		--schema 'id BIGINT NOT NULL, k INT, s STRING, u STRING, l ARRAY<INT>, o STRUCT<a: BIGINT, b: ARRAY<STRING>>' \
		--row-group-size 256k --page-size 16k <"$BATS_TEST_TMPDIR/many.ndjson"
	meta=$(weir-lake-cat --parquet "$BATS_TEST_TMPDIR/many.parquet" --meta)
	[ "$(echo "$meta" | jq '.row_groups | length')" -gt 2 ]
	[ "$(echo "$meta" | jq '[.row_groups[].num_rows] | add')" -eq 30000 ]
	diff <(canon "$BATS_TEST_TMPDIR/many.ndjson") <(weir-lake-cat --parquet "$BATS_TEST_TMPDIR/many.parquet" | canon)
	run duckdb_query "SELECT count(*)::INT AS n, sum(id)::DOUBLE AS s, sum(k)::INT AS k, count(DISTINCT s)::INT AS ds, count(DISTINCT u)::INT AS du, sum(len(l))::INT AS ll, count(o)::INT AS o, sum(o.a)::DOUBLE AS oa FROM read_parquet('$BATS_TEST_TMPDIR/many.parquet')"
	assert_output "$(jq -sc '{n: length, s: (map(.id) | add), k: (map(.k) | add), ds: (map(.s) | unique | length), du: (map(.u) | unique | length), ll: (map(.l | length) | add), o: (map(select(.o)) | length), oa: (map(.o.a // 0) | add)}' "$BATS_TEST_TMPDIR/many.ndjson")"
	duck_roundtrip "$BATS_TEST_TMPDIR/many.parquet"
	# a small dictionary limit makes the string column fall back to PLAIN
	weir-lake-cat --write-parquet "$BATS_TEST_TMPDIR/plain.parquet" --schema 'u STRING' --page-size 4k \
		< <(jq -c '{u: (.u * 5)}' "$BATS_TEST_TMPDIR/many.ndjson")
	diff <(jq -c '{u: (.u * 5)}' "$BATS_TEST_TMPDIR/many.ndjson") <(weir-lake-cat --parquet "$BATS_TEST_TMPDIR/plain.parquet")
	[ "$(weir-lake-cat --parquet "$BATS_TEST_TMPDIR/plain.parquet" --meta | jq -c '.row_groups[0].columns[0].encodings')" = '["RLE","PLAIN","RLE_DICTIONARY"]' ]
	weir-lake-cat --write-parquet "$BATS_TEST_TMPDIR/nodict.parquet" --schema 'u STRING' --no-dictionary \
		< <(jq -c '{u}' "$BATS_TEST_TMPDIR/many.ndjson")
	[ "$(weir-lake-cat --parquet "$BATS_TEST_TMPDIR/nodict.parquet" --meta | jq -c '.row_groups[0].columns[0].encodings')" = '["RLE","PLAIN"]' ]
	diff <(jq -c '{u}' "$BATS_TEST_TMPDIR/many.ndjson") <(weir-lake-cat --parquet "$BATS_TEST_TMPDIR/nodict.parquet")
}

@test "reads what DuckDB writes, every codec" {
	duckdb_ready
	local c
	for c in zstd snappy gzip uncompressed lz4 brotli; do
		duckdb_query "COPY (SELECT i::BIGINT AS id, 'x' || (i % 10) AS s, [i, NULL] AS l, {'a': i, 'b': 'q'} AS st, MAP {'k': i} AS m, (i / 3)::DECIMAL(9,2) AS d FROM range(0, 2000) t(i)) TO '$BATS_TEST_TMPDIR/d.parquet' (FORMAT parquet, COMPRESSION $c)" >/dev/null
		run weir-lake-cat --parquet "$BATS_TEST_TMPDIR/d.parquet"
		[ "$status" -eq 0 ] || fail "$c: $output"
		[ "${#lines[@]}" -eq 2000 ]
		[ "${lines[1999]}" = '{"id":1999,"s":"x9","l":[1999,null],"st":{"a":1999,"b":"q"},"m":{"k":1999},"d":666.33}' ] || fail "$c: ${lines[1999]}"
	done
}

@test "the man page example works" {
	cd "$BATS_TEST_TMPDIR"
	printf '{"id":1,"tags":["a"]}\n{"id":2,"tags":null}\n' |
		weir-lake-cat --write-parquet t.parquet --schema 'id BIGINT NOT NULL, tags ARRAY<STRING>'
	run weir-lake-cat --parquet t.parquet
	assert_output $'{"id":1,"tags":["a"]}\n{"id":2,"tags":null}'
	run weir-lake-cat --parquet t.parquet --schema
	assert_output 'id BIGINT NOT NULL, tags ARRAY<STRING>'
}

@test "usage errors" {
	run weir-lake-cat
	[ "$status" -eq 2 ]
	assert_output --partial "nothing to read"
	run weir-lake-cat --parquet x --meta --schema
	[ "$status" -eq 2 ]
	run weir-lake-cat --parquet x --codec zstd
	[ "$status" -eq 2 ]
	assert_output --partial "writing options need --write-parquet"
	check_synopsis weir-lake-cat
}

@test "property: random schemas and rows round-trip through our writer, our reader and DuckDB" {
	duckdb_ready
	local seed d codecs=(zstd snappy gzip none lz4_raw brotli)
	for seed in $(seq 1 ${WEIR_PQ_SEEDS:-25}); do
		d=$BATS_TEST_TMPDIR/p$seed
		mkdir -p "$d"
		node "$BATS_TEST_DIRNAME/parquet-gen.js" "$seed" $((seed * 7 % 200 + 1)) "$d"
		run weir-lake-cat --write-parquet "$d/t.parquet" --schema "$(cat "$d/schema.ddl")" \
			--codec "${codecs[seed % 6]}" --page-size 2k --row-group-size $((seed % 3 == 0 ? 4096 : 1048576)) <"$d/rows.ndjson"
		[ "$status" -eq 0 ] || fail "seed $seed: $output ($(cat "$d/schema.ddl"))"
		diff <(canon "$d/rows.ndjson") <(weir-lake-cat --parquet "$d/t.parquet" | canon) ||
			fail "seed $seed: our reader differs ($(cat "$d/schema.ddl"))"
		[ "$(weir-lake-cat --parquet "$d/t.parquet" --schema)" = "$(cat "$d/schema.ddl")" ] ||
			fail "seed $seed: schema differs: $(weir-lake-cat --parquet "$d/t.parquet" --schema)"
		duckdb_query "COPY (SELECT * FROM read_parquet('$d/t.parquet')) TO '$d/duck.parquet' (FORMAT parquet)" >/dev/null ||
			fail "seed $seed: DuckDB cannot read it ($(cat "$d/schema.ddl"))"
		diff <(canon "$d/rows.ndjson") <(weir-lake-cat --parquet "$d/duck.parquet" | canon) ||
			fail "seed $seed: DuckDB read it differently ($(cat "$d/schema.ddl"))"
	done
}

@test "inputs the fuzzer found stay fixed" {
	local f n=0
	for f in "$BATS_TEST_DIRNAME"/fuzz/corpus-parquet/*; do
		run timeout 60 weir-lake-cat --parquet "$f"
		[ "$status" -eq 0 ] || [ "$status" -eq 2 ] || fail "$(basename "$f"): exit $status: ${output:0:300}"
		[[ $output != *Sanitizer* && $output != *"runtime error"* ]] || fail "$(basename "$f"): $output"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

@test "library: file statistics for Delta and row-group statistics for skipping" {
	local lib=$WEIR_BIN/../libweir.a san=
	[ -f "$lib" ] || skip "no libweir.a next to $WEIR_BIN"
	nm "$lib" 2>/dev/null | grep -q __asan_report && san="-fsanitize=address,undefined"
	# shellcheck disable=SC2046
	cc -std=gnu11 -D_GNU_SOURCE -I"$TOP/lib" $san -o "$BATS_TEST_TMPDIR/api" "$BATS_TEST_DIRNAME/parquet_api.c" "$lib" \
		$(pkg-config --libs rdkafka libarchive libzstd snappy zlib liblz4 libbrotlienc libbrotlidec) -lm -lpthread
	run "$BATS_TEST_TMPDIR/api" "$BATS_TEST_TMPDIR/api.parquet"
	[ "$status" -eq 0 ]
	assert_output - <<'OUT'
empty row: -1 column 'id' is required but the value is missing
rows=3 cols=4
id long nulls=0 min=-2 max=7
s string nulls=1 min="apple" max="pear"
d decimal nulls=1 min=-10.25 max=1.50
st.x integer nulls=2 min=-3 max=-3
row groups=3
rg0 id: yes nulls=0 min=5 max=5
rg0 s: yes nulls=0 min="pear" max="pear"
rg0 d: yes nulls=0 min=1.50 max=1.50
rg0 st: no nulls=-1
rg0 nope: no nulls=-1
rg1 id: yes nulls=0 min=-2 max=-2
rg1 s: yes nulls=1
rg1 d: yes nulls=0 min=-10.25 max=-10.25
rg1 st: no nulls=-1
rg1 nope: no nulls=-1
rg2 id: yes nulls=0 min=7 max=7
rg2 s: yes nulls=0 min="apple" max="apple"
rg2 d: yes nulls=1
rg2 st: no nulls=-1
rg2 nope: no nulls=-1
OUT
}

@test "library: pages compressed on a helper thread give the same bytes; pq_writer_reached is exact" {
	local lib=$WEIR_BIN/../libweir.a san=
	[ -f "$lib" ] || skip "no libweir.a next to $WEIR_BIN"
	nm "$lib" 2>/dev/null | grep -q __asan_report && san="-fsanitize=address,undefined"
	# shellcheck disable=SC2046
	cc -std=gnu11 -D_GNU_SOURCE -I"$TOP/lib" $san -o "$BATS_TEST_TMPDIR/threads" "$BATS_TEST_DIRNAME/parquet_threads.c" \
		"$lib" $(pkg-config --libs rdkafka libarchive libzstd snappy zlib liblz4 libbrotlienc libbrotlidec) -lm -lpthread
	run "$BATS_TEST_TMPDIR/threads" "$BATS_TEST_TMPDIR/t.parquet"
	[ "$status" -eq 0 ]
	assert_output - <<'OUT'
zstd: files alike 2 of 2, reached disagrees 0 of over 300
snappy: files alike 2 of 2, reached disagrees 0 of over 300
gzip: files alike 2 of 2, reached disagrees 0 of over 300
OUT
}

@test "LZO is refused by name" {
	printf '{"a":1}\n' | weir-lake-cat --write-parquet "$BATS_TEST_TMPDIR/lzo.parquet" --schema 'a INT' --codec none
	# the footer's codec field after path_in_schema ["a"]: UNCOMPRESSED (0) -> LZO (3, zigzag 6)
	perl -0777 -pi -e 's/\x19\x18\x01a\x15\x00/\x19\x18\x01a\x15\x06/ or die' "$BATS_TEST_TMPDIR/lzo.parquet"
	run weir-lake-cat --parquet "$BATS_TEST_TMPDIR/lzo.parquet" --meta
	[ "$(echo "$output" | jq -r '.row_groups[0].columns[0].codec')" = LZO ]
	run weir-lake-cat --parquet "$BATS_TEST_TMPDIR/lzo.parquet"
	[ "$status" -eq 2 ]
	assert_output "weir-lake-cat: cannot read '$BATS_TEST_TMPDIR/lzo.parquet': column 'a': unsupported codec LZO"
}

@test "writer: fields in any order, any case, duplicates (last wins), extra fields ignored" {
	printf '%s\n' '{"b":"x","a":1}' '{"a":1,"b":"y","a":2}' '{"A":3,"B":"z","c":true}' '{"b":null}' |
		weir-lake-cat --write-parquet "$BATS_TEST_TMPDIR/o.parquet" --schema 'a BIGINT, b STRING'
	run weir-lake-cat --parquet "$BATS_TEST_TMPDIR/o.parquet"
	assert_output $'{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n{"a":3,"b":"z"}\n{"a":null,"b":null}'
}
