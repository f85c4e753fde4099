#!/usr/bin/env bats
# weir-lake-write: tables checked by readers that share no code with weir
# (DuckDB over the data files, tests/delta-replay.js over the log).

load helper

setup() {
	T=$BATS_TEST_TMPDIR/t
}

replay() {
	node "$TOP/tests/delta-replay.js" "$@"
}

# The table's rows as DuckDB reads the live files the independent replay
# lists, with the partition values of each file added.  $2 is the select
# list over the data columns.
table_rows() {
	local t=$1 sel=${2:-*} list
	replay "$t" | jq -c '.files[] | {path, partitionValues}' >"$BATS_TEST_TMPDIR/live"
	[ -s "$BATS_TEST_TMPDIR/live" ] || return 0
	list=$(jq -r '.path' "$BATS_TEST_TMPDIR/live" | sed "s/'/''/g; s/.*/'&'/" | paste -sd,)
	duckdb_query "SELECT $sel, filename FROM read_parquet([$list], filename=true, union_by_name=true)" |
		jq -c --slurpfile live <(jq -s . "$BATS_TEST_TMPDIR/live") \
			'. as $r | ([$live[0][] | select(.path == $r.filename) | .partitionValues][0]) as $pv | $r + $pv | del(.filename)'
}

versions() {
	ls "$1/_delta_log" | grep -c '^[0-9]\{20\}\.json$'
}

@test "synopsis matches the man page" {
	check_synopsis weir-lake-write
}

@test "creates a table that DuckDB and an independent replay read back" {
	printf '%s\n' '{"id":1,"name":"a","ts":"2024-01-02T03:04:05Z","amount":12.30,"day":"2024-01-02"}' \
		'{"id":2,"name":"b","ts":"2024-01-02T03:04:06.5+01:00","amount":0.05,"day":"2024-01-03"}' \
		'{"id":3,"name":null,"ts":null,"amount":null,"day":null}' >"$BATS_TEST_TMPDIR/in"
	run weir-lake-write -s 'id BIGINT NOT NULL, name STRING, ts TIMESTAMP, amount DECIMAL(10,2), day DATE' "$T" <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_output ''
	[ "$(versions "$T")" -eq 1 ]
	run replay "$T"
	assert_success
	[ "$(jq '.files | length' <<<"$output")" -eq 1 ]
	[ "$(jq -c .protocol <<<"$output")" = '{"minReaderVersion":1,"minWriterVersion":2}' ]
	[ "$(jq -c '.files[0].stats | {numRecords, minValues, maxValues, nullCount}' <<<"$output")" = \
		'{"numRecords":3,"minValues":{"id":1,"name":"a","ts":"2024-01-02T02:04:06.500Z","amount":0.05,"day":"2024-01-02"},"maxValues":{"id":3,"name":"b","ts":"2024-01-02T03:04:05.000Z","amount":12.3,"day":"2024-01-03"},"nullCount":{"id":0,"name":1,"ts":1,"amount":1,"day":1}}' ]
	table_rows "$T" "id::INT AS id, name, strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') AS ts, amount::VARCHAR AS amount, day::VARCHAR AS day" >"$BATS_TEST_TMPDIR/got"
	cat >"$BATS_TEST_TMPDIR/want" <<-'EOF'
	{"id":1,"name":"a","ts":"2024-01-02T03:04:05.000000Z","amount":"12.30","day":"2024-01-02"}
	{"id":2,"name":"b","ts":"2024-01-02T02:04:06.500000Z","amount":"0.05","day":"2024-01-03"}
	{"id":3,"name":null,"ts":null,"amount":null,"day":null}
	EOF
	same_rows "$BATS_TEST_TMPDIR/got" "$BATS_TEST_TMPDIR/want"
	# the commit says what it did
	run jq -c 'select(.commitInfo) | .commitInfo | {operation, operationParameters, operationMetrics: (.operationMetrics | {numFiles, numOutputRows})}' "$T/_delta_log/00000000000000000000.json"
	assert_output '{"operation":"WRITE","operationParameters":{"mode":"Append","partitionBy":"[]"},"operationMetrics":{"numFiles":"1","numOutputRows":"3"}}'
	# appending adds a version; the protocol and metadata are not repeated
	printf '{"id":4,"name":"d"}\n' | weir-lake-write "$T"
	[ "$(versions "$T")" -eq 2 ]
	run jq -c 'keys[0]' "$T/_delta_log/00000000000000000001.json"
	assert_output $'"commitInfo"\n"add"'
	[ "$(table_rows "$T" "id::INT AS id" | jq -s 'map(.id) | sort' -c)" = '[1,2,3,4]' ]
}

@test "partitions with nulls and special characters" {
	printf '%s\n' '{"k":"a b","n":1,"v":1}' '{"k":"x/y","n":2,"v":2}' '{"k":"50%","n":null,"v":3}' \
		'{"k":null,"n":3,"v":4}' '{"k":"","n":4,"v":5}' '{"k":"c:d=e","n":5,"v":6}' |
		weir-lake-write -s 'k STRING, n INT, v BIGINT' -p k,n "$T"
	run bash -c "cd '$T' && find . -name '*.parquet' | sed 's|/part-.*||' | sort"
	assert_output - <<-'EOF'
	./k=50%25/n=__HIVE_DEFAULT_PARTITION__
	./k=__HIVE_DEFAULT_PARTITION__/n=3
	./k=__HIVE_DEFAULT_PARTITION__/n=4
	./k=a b/n=1
	./k=c%3Ad%3De/n=5
	./k=x%2Fy/n=2
	EOF
	# add.path is URI-escaped once more
	run jq -r 'select(.add) | .add.path | sub("/part-.*"; "")' "$T/_delta_log/00000000000000000000.json"
	assert_line 'k=a%20b/n=1'
	assert_line 'k=50%2525/n=__HIVE_DEFAULT_PARTITION__'
	table_rows "$T" "v::INT AS v" >"$BATS_TEST_TMPDIR/got"
	cat >"$BATS_TEST_TMPDIR/want" <<-'EOF'
	{"v":1,"k":"a b","n":"1"}
	{"v":2,"k":"x/y","n":"2"}
	{"v":3,"k":"50%","n":null}
	{"v":4,"k":null,"n":"3"}
	{"v":5,"k":null,"n":"4"}
	{"v":6,"k":"c:d=e","n":"5"}
	EOF
	same_rows "$BATS_TEST_TMPDIR/got" "$BATS_TEST_TMPDIR/want"
	# data files hold the data columns only
	run duckdb_query "SELECT name FROM parquet_schema('$(replay "$T" | jq -r '.files[0].path')') WHERE name <> 'spark_schema' AND name <> 'schema'"
	assert_output '{"name":"v"}'
}

@test "records that do not fit go to the dead-letter file, or stop the write" {
	printf '%s\n' '{"id":1,"ts":"2024-01-01T00:00:00Z"}' '{"id":"two"}' 'not json' '{"id":3,"extra":1}' \
		'{"ts":"2024-01-01T00:00:00Z"}' '{"id":4,"ts":"yesterday"}' '{"id":5}' >"$BATS_TEST_TMPDIR/in"
	run weir-lake-write -s 'id BIGINT NOT NULL, ts TIMESTAMP' --dlq "$BATS_TEST_TMPDIR/dlq" "$T" <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_output 'weir-lake-write: 5 records rejected (written to the dead-letter file)'
	run jq -c '[.pos, .error]' "$BATS_TEST_TMPDIR/dlq"
	assert_output - <<-'EOF'
	[2,"field 'id': expected an integer, got string"]
	[3,"invalid literal"]
	[4,"field 'extra' is not in the table schema"]
	[5,"field 'id' is null but the column is NOT NULL"]
	[6,"field 'ts': expected a timestamp, got string"]
	EOF
	[ "$(jq -r .raw "$BATS_TEST_TMPDIR/dlq" | sed -n 1p)" = '{"id":"two"}' ]
	[ "$(table_rows "$T" "id::INT AS id" | jq -s -c 'map(.id) | sort')" = '[1,5]' ]
	# fail: nothing of the batch is committed
	run weir-lake-write --on-error fail "$T" <"$BATS_TEST_TMPDIR/in"
	assert_failure 2
	assert_output "weir-lake-write: record 2: field 'id': expected an integer, got string"
	[ "$(versions "$T")" -eq 1 ]
	run weir-lake-write --on-error drop "$T" <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_output 'weir-lake-write: 5 records rejected'
	[ "$(versions "$T")" -eq 2 ]
}

@test "--merge-schema adds nullable columns; without it they are refused" {
	printf '{"a":1}\n' | weir-lake-write -s 'a BIGINT' "$T"
	run weir-lake-write "$T" <<<'{"a":2,"b":"x"}'
	assert_failure 2
	assert_output "weir-lake-write: record 1: field 'b' is not in the table schema"
	run weir-lake-write --merge-schema "$T" <<<'{"a":2,"b":"x","c":{"d":1.5}}'
	assert_success
	[ "$(replay "$T" 0 | jq -c .columns)" = '["a"]' ]
	[ "$(replay "$T" | jq -c .columns)" = '["a","b","c"]' ]
	run jq -r 'select(.metaData) | .metaData.schemaString | fromjson | .fields[1:] | map("\(.name) \(.type | tostring) \(.nullable)") | .[]' "$T/_delta_log/00000000000000000001.json"
	assert_output - <<-'EOF'
	b string true
	c {"type":"struct","fields":[{"name":"d","type":"double","nullable":true,"metadata":{}}]} true
	EOF
	table_rows "$T" 'a::INT AS a, b, c' >"$BATS_TEST_TMPDIR/got"
	printf '%s\n' '{"a":1,"b":null,"c":null}' '{"a":2,"b":"x","c":{"d":1.5}}' >"$BATS_TEST_TMPDIR/want"
	same_rows "$BATS_TEST_TMPDIR/got" "$BATS_TEST_TMPDIR/want"
	# a type change is refused even with --merge-schema
	run weir-lake-write --merge-schema -s 'a STRING' "$T" </dev/null
	assert_failure 2
	assert_output "weir-lake-write: --schema: column 'a' is string but the table has long (type changes are not supported)"
}

@test "--merge-schema adds struct members at any depth; older files read them as null" {
	weir-lake-write -s 'id BIGINT, s STRUCT<a: BIGINT>, l ARRAY<STRUCT<x: BIGINT>>, m MAP<STRING, STRUCT<p: BIGINT>>' "$T" \
		<<<'{"id":1,"s":{"a":1},"l":[{"x":1}],"m":{"k":{"p":1}}}'
	local rec='{"id":2,"s":{"a":2,"b":"x"},"l":[{"x":2},{"x":3,"y":true}],"m":{"k":{"p":2,"q":{"deep":1}}}}'
	run weir-lake-write "$T" <<<"$rec"
	assert_failure 2
	assert_output "weir-lake-write: record 1: field 's.b' is not in the table schema"
	run weir-lake-write --merge-schema "$T" <<<"$rec"
	assert_success
	[ "$(versions "$T")" -eq 2 ]
	run weir-lake-cat --describe "$T"
	assert_success
	[ "$(jq -r .schema <<<"$output")" = 'id BIGINT, s STRUCT<a BIGINT, b STRING>, l ARRAY<STRUCT<x BIGINT, y BOOLEAN>>, m MAP<STRING,STRUCT<p BIGINT, q STRUCT<deep BIGINT>>>' ]
	# DuckDB, uniting the old file's columns with the new one's by name,
	# reads the old rows with the new members null
	table_rows "$T" 'id::INT AS id, s, l, to_json(m) AS m' >"$BATS_TEST_TMPDIR/got"
	printf '%s\n' '{"id":1,"s":{"a":"1","b":null},"l":[{"x":"1","y":null}],"m":"{\"k\":{\"p\":1,\"q\":null}}"}' \
		'{"id":2,"s":{"a":"2","b":"x"},"l":[{"x":"2","y":null},{"x":"3","y":true}],"m":"{\"k\":{\"p\":2,\"q\":{\"deep\":1}}}"}' \
		>"$BATS_TEST_TMPDIR/want"
	same_rows "$BATS_TEST_TMPDIR/got" "$BATS_TEST_TMPDIR/want"
	# weir reads the old file's rows in the table's type, the members it lacks null
	run weir-lake-cat "$T"
	assert_success
	sort <<<"$output" >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/got")" "$(printf '%s\n' \
		'{"id":1,"s":{"a":1,"b":null},"l":[{"x":1,"y":null}],"m":{"k":{"p":1,"q":null}}}' \
		'{"id":2,"s":{"a":2,"b":"x"},"l":[{"x":2,"y":null},{"x":3,"y":true}],"m":{"k":{"p":2,"q":{"deep":1}}}}')"
	# so do a MERGE that rewrites the old file, adding a member itself, and
	# a compaction
	weir-lake-write --merge-on id --merge-schema "$T" <<<'{"id":1,"s":{"a":10,"c":true}}'
	weir-lake-vacuum --optimize "$T" >/dev/null
	run weir-lake-cat "$T"
	assert_success
	sort <<<"$output" >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/got")" "$(printf '%s\n' \
		'{"id":1,"s":{"a":10,"b":null,"c":true},"l":null,"m":null}' \
		'{"id":2,"s":{"a":2,"b":"x","c":null},"l":[{"x":2,"y":null},{"x":3,"y":true}],"m":{"k":{"p":2,"q":{"deep":1}}}}')"
}

@test "--merge-schema: objects that say no type add nothing; a racing writer's columns and ours merge" {
	weir-lake-write -s 'id BIGINT, s STRUCT<a: BIGINT>' "$T" <<<'{"id":1,"s":{"a":1}}'
	# an empty object, or one of nulls, would be a struct without members,
	# which Parquet cannot store: such records go to the dead-letter file
	printf '%s\n' '{"id":2,"s":{"a":2,"e":{}}}' '{"id":3,"s":{"a":3,"m":{"x":null}},"n":{}}' '{"id":4,"s":{"a":4}}' |
		weir-lake-write --merge-schema --dlq "$BATS_TEST_TMPDIR/dlq" "$T" 2>/dev/null
	run jq -r .error "$BATS_TEST_TMPDIR/dlq"
	assert_output - <<-'EOF'
	field 's.e' is not in the table schema
	field 's.m' is not in the table schema
	EOF
	[ "$(weir-lake-cat --describe "$T" | jq -r .schema)" = 'id BIGINT, s STRUCT<a BIGINT>' ]
	# a writer adding s.b holds its batch open while another adds z and
	# commits first: the first retries on the new version with both
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	weir-lake-write --merge-schema "$T" <"$BATS_TEST_TMPDIR/fifo" &
	local first=$!
	exec 7>"$BATS_TEST_TMPDIR/fifo"
	echo '{"id":5,"s":{"a":5,"b":"x"}}' >&7
	# (its data file appears once it has the record, the table read)
	local i=0
	while [ "$(ls "$T"/*.parquet | wc -l)" -eq 2 ] && [ $((i += 1)) -lt 100 ]; do sleep 0.1; done
	weir-lake-write --merge-schema "$T" <<<'{"id":6,"z":1}'
	exec 7>&-
	wait "$first"
	[ "$(weir-lake-cat --describe "$T" | jq -r .schema)" = 'id BIGINT, s STRUCT<a BIGINT, b STRING>, z BIGINT' ]
	run weir-lake-cat "$T"
	assert_success
	sort <<<"$output" >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/got")" "$(printf '%s\n' '{"id":1,"s":{"a":1,"b":null},"z":null}' \
		'{"id":4,"s":{"a":4,"b":null},"z":null}' '{"id":5,"s":{"a":5,"b":"x"},"z":null}' '{"id":6,"s":null,"z":1}')"
}

@test "a null the table has no column for is as good as absent; a refused record adds no columns" {
	weir-lake-write -s 'id BIGINT NOT NULL, s STRUCT<a: BIGINT>' "$T" <<<'{"id":1,"s":{"a":1}}'
	# without --merge-schema, at the top and in a struct, and in a MERGE
	printf '%s\n' '{"id":2,"z":null}' '{"id":3,"s":{"a":3,"b":null}}' | weir-lake-write "$T"
	weir-lake-write --merge-on id "$T" <<<'{"id":1,"s":{"a":10,"b":null},"z":null}'
	[ "$(weir-lake-cat --describe "$T" | jq -r .schema)" = 'id BIGINT NOT NULL, s STRUCT<a BIGINT>' ]
	run weir-lake-cat "$T"
	assert_success
	sort <<<"$output" >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/got")" "$(printf '%s\n' '{"id":1,"s":{"a":10}}' '{"id":2,"s":null}' '{"id":3,"s":{"a":3}}')"
	# a record that would not fit even with its new columns is refused for
	# what is wrong with it, and its new columns are not added
	printf '%s\n' '{"id":"four","y":1,"s":{"a":4,"c":true}}' '{"id":5,"s":{"a":"five","c":true}}' \
		'{"s":{"a":6,"c":true},"y":2}' '{"id":7,"w":"x"}' |
		weir-lake-write --merge-schema --dlq "$BATS_TEST_TMPDIR/dlq" "$T" 2>/dev/null
	run jq -c '[.pos, .error]' "$BATS_TEST_TMPDIR/dlq"
	assert_output - <<-'EOF'
	[1,"field 'id': expected an integer, got string"]
	[2,"field 's.a': expected an integer, got string"]
	[3,"field 'id' is null but the column is NOT NULL"]
	EOF
	[ "$(weir-lake-cat --describe "$T" | jq -r .schema)" = 'id BIGINT NOT NULL, s STRUCT<a BIGINT>, w STRING' ]
	# so in a MERGE
	run weir-lake-write --merge-schema --merge-on id "$T" <<<'{"id":8,"s":{"a":"eight"},"v":1}'
	assert_failure 2
	assert_output "weir-lake-write: record 1: field 's.a': expected an integer, got string"
	[ "$(weir-lake-cat --describe "$T" | jq -r .schema)" = 'id BIGINT NOT NULL, s STRUCT<a BIGINT>, w STRING' ]
	# nor one refused for its key in a MERGE, or for --replace-where, in a
	# batch that commits
	local P=$BATS_TEST_TMPDIR/part
	weir-lake-write -s 'p BIGINT, v BIGINT' -p p "$P" <<<'{"p":1,"v":1}'
	printf '%s\n' '{"p":1,"v":null,"u":1}' '{"p":1,"u":1}' '{"p":1,"v":2}' |
		weir-lake-write --merge-schema --merge-on v --dlq "$BATS_TEST_TMPDIR/dlq2" "$P" 2>/dev/null
	printf '%s\n' '{"p":2,"v":3,"q":1}' '{"p":1,"v":5}' |
		weir-lake-write --merge-schema -m overwrite -w 'p = 1' --dlq "$BATS_TEST_TMPDIR/dlq2" "$P" 2>/dev/null
	run jq -c '[.pos, .error]' "$BATS_TEST_TMPDIR/dlq2"
	assert_output - <<-'EOF'
	[1,"key column 'v' is null"]
	[2,"key column 'v' is null"]
	[1,"record does not match --replace-where"]
	EOF
	[ "$(versions "$P")" -eq 3 ]
	[ "$(weir-lake-cat --describe "$P" | jq -r .schema)" = 'p BIGINT, v BIGINT' ]
	# of two members of one name the record holds the last, which types the
	# column, and whose null is absence
	weir-lake-write --merge-schema "$T" <<<'{"id":12,"v":1,"s":{"a":1,"d":null},"s":{"a":12,"d":null,"d":1.5},"v":"x","z":1,"z":null}'
	[ "$(weir-lake-cat --describe "$T" | jq -r .schema)" = 'id BIGINT NOT NULL, s STRUCT<a BIGINT, d DOUBLE>, w STRING, v STRING' ]
	[ "$(weir-lake-cat --where 'id = 12' "$T")" = '{"id":12,"s":{"a":12,"d":1.5},"w":null,"v":"x"}' ]
}

@test "two members whose names differ only in case are refused, not one of them dropped" {
	weir-lake-write -s 'id BIGINT, v BIGINT, s STRUCT<a: BIGINT>' "$T" <<<'{"id":1,"v":1}'
	# column names ignore case: "v" and "V" both name column v; a null one
	# is absence, as for any member without a column
	printf '%s
' '{"id":2,"v":2,"V":20}' '{"id":3,"V":3,"v":null}' '{"id":4,"v":4,"V":null}' \
		'{"id":5,"s":{"a":5,"A":50}}' '{"ID":6,"Id":60}' '{"Id":7,"V":7}' |
		weir-lake-write --dlq "$BATS_TEST_TMPDIR/dlq" "$T" 2>/dev/null
	run jq -c '[.pos, .error]' "$BATS_TEST_TMPDIR/dlq"
	assert_output - <<-'EOF'
	[1,"field 'V' and 'v' are one column: column names ignore case"]
	[2,"field 'V' and 'v' are one column: column names ignore case"]
	[4,"field 's.A' and 'a' are one column: column names ignore case"]
	[5,"field 'Id' and 'ID' are one column: column names ignore case"]
	EOF
	run weir-lake-cat --where 'id > 1' "$T"
	assert_output - <<-'EOF'
	{"id":4,"v":4,"s":null}
	{"id":7,"v":7,"s":null}
	EOF
	# in a MERGE, and with --merge-schema, which then adds no column
	run weir-lake-write --merge-on id "$T" <<<'{"id":1,"v":10,"V":11}'
	assert_failure 2
	assert_output "weir-lake-write: record 1: field 'V' and 'v' are one column: column names ignore case"
	run weir-lake-write --merge-schema "$T" <<<'{"id":8,"z":1,"Z":2}'
	assert_failure 2
	assert_output "weir-lake-write: record 1: field 'Z' and 'z' are one column: column names ignore case"
	[ "$(weir-lake-cat --describe "$T" | jq -r .schema)" = 'id BIGINT, v BIGINT, s STRUCT<a BIGINT>' ]
	[ "$(weir-lake-cat "$T" | wc -l)" -eq 3 ]
}

@test "records too wide to scan by name are judged as narrow ones are" {
	# objects over 16 members and structs over 16 fields are indexed by
	# name: every answer of the indexes against plain scans, both sides
	cc -std=gnu11 -D_GNU_SOURCE -g -fsanitize=address,undefined -Wall -Werror -I"$TOP/lib" \
		-o "$BATS_TEST_TMPDIR/name-index" "$TOP/tests/parse/name-index.c" "$TOP"/lib/{schema,json,value,buf,diag,base64,timeutil}.c -lm
	run "$BATS_TEST_TMPDIR/name-index"
	assert_success
	assert_output ""
	# the refusals above, in records and structs padded with 30 null members
	weir-lake-write -s 'id BIGINT, v BIGINT, s STRUCT<a: BIGINT>' "$T" <<<'{"id":1,"v":1}'
	pad=$(seq 0 29 | awk '{ printf "\"p%d\":null,", $1 }')
	printf '%s\n' "{$pad\"id\":2,\"v\":2,\"V\":20}" "{$pad\"id\":3,\"V\":3,\"v\":null}" \
		"{\"id\":4,\"s\":{$pad\"a\":4,\"A\":40}}" "{$pad\"id\":5,\"extra\":1}" "{\"id\":6,\"s\":{$pad\"a\":6,\"b\":1}}" \
		"{$pad\"Id\":7,\"v\":null,\"v\":7,\"s\":{$pad\"A\":7}}" |
		weir-lake-write --dlq "$BATS_TEST_TMPDIR/dlq" "$T" 2>/dev/null
	run jq -c '[.pos, .error]' "$BATS_TEST_TMPDIR/dlq"
	assert_output - <<-'EOF'
	[1,"field 'V' and 'v' are one column: column names ignore case"]
	[2,"field 'V' and 'v' are one column: column names ignore case"]
	[3,"field 's.A' and 'a' are one column: column names ignore case"]
	[4,"field 'extra' is not in the table schema"]
	[5,"field 's.b' is not in the table schema"]
	EOF
	run sh -c 'weir-lake-cat "$1" | jq -s -c "sort_by(.id)[]"' sh "$T"
	assert_output - <<-'EOF'
	{"id":1,"v":1,"s":null}
	{"id":7,"v":7,"s":{"a":7}}
	EOF
	# a table of 40 columns: members and columns found by name ignoring
	# case, a second column of one name refused
	w=$BATS_TEST_TMPDIR/wide
	weir-lake-write -s "$(seq 0 39 | awk '{ printf "%sc%d BIGINT", (NR > 1 ? ", " : ""), $1 }')" "$w" <<<'{"C5":5,"c39":39,"c0":0}'
	run weir-lake-cat -c c39,C5,c1 --where 'C0 = 0' "$w"
	assert_output '{"c39":39,"c5":5,"c1":null}'
	run weir-lake-write --merge-schema "$w" <<<'{"c1":1,"x":1,"X":2}'
	assert_failure 2
	assert_output "weir-lake-write: record 1: field 'X' and 'x' are one column: column names ignore case"
}

@test "a framed stream's new struct members need --merge-schema; its type changes are refused by path" {
	weir-parse -q --framed --schema 'id BIGINT, s STRUCT<a: BIGINT>' <<<'{"id":1,"s":{"a":1}}' | weir-lake-write "$T"
	weir-parse -q --framed --schema 'id BIGINT, s STRUCT<a: BIGINT, b: ARRAY<STRUCT<z: INT>>>' \
		<<<'{"id":2,"s":{"a":2,"b":[{"z":7}]}}' >"$BATS_TEST_TMPDIR/wider"
	run weir-lake-write "$T" <"$BATS_TEST_TMPDIR/wider"
	assert_failure 2
	assert_output "weir-lake-write: stream schema: column 's' has struct members that table '$T' lacks (use --merge-schema to add them)"
	run weir-lake-write --merge-schema "$T" <"$BATS_TEST_TMPDIR/wider"
	assert_success
	[ "$(weir-lake-cat --describe "$T" | jq -r .schema)" = 'id BIGINT, s STRUCT<a BIGINT, b ARRAY<STRUCT<z INT>>>' ]
	weir-parse -q --framed --schema 'id BIGINT, s STRUCT<b: ARRAY<STRUCT<z: STRING>>>' <<<'{"id":3,"s":{"b":[{"z":"x"}]}}' \
		>"$BATS_TEST_TMPDIR/changed"
	run weir-lake-write --merge-schema "$T" <"$BATS_TEST_TMPDIR/changed"
	assert_failure 2
	assert_output "weir-lake-write: stream schema: column 's.b.element.z' is string but the table has integer (type changes are not supported)"
	# a stream without some members writes them as null
	weir-parse -q --framed --schema 'id BIGINT, s STRUCT<b: ARRAY<STRUCT<z: INT>>>' <<<'{"id":4,"s":{"b":[]}}' |
		weir-lake-write "$T"
	run weir-lake-cat "$T"
	assert_success
	sort <<<"$output" >"$BATS_TEST_TMPDIR/got"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/got")" "$(printf '%s\n' '{"id":1,"s":{"a":1,"b":null}}' \
		'{"id":2,"s":{"a":2,"b":[{"z":7}]}}' '{"id":4,"s":{"a":null,"b":[]}}')"
}

@test "barriers commit with txn and sources; committed barriers are skipped" {
	cat >"$BATS_TEST_TMPDIR/in" <<-'EOF'
	{"id":1}
	{"id":2}
	{"@weir":"barrier","id":1,"sources":{"clicks":{"0":2}}}
	{"id":3}
	{"@weir":"barrier","id":2,"sources":{"clicks":{"0":3}}}
	{"@weir":"barrier","id":3,"sources":{"clicks":{"0":3}}}
	{"id":4}
	EOF
	run weir-lake-write -s 'id BIGINT' --app-id app1 "$T" <"$BATS_TEST_TMPDIR/in"
	assert_success
	# barriers are forwarded; the row after the last barrier waits for its replay
	assert_output - <<-'EOF'
	{"@weir":"barrier","id":1,"sources":{"clicks":{"0":2}}}
	{"@weir":"barrier","id":2,"sources":{"clicks":{"0":3}}}
	{"@weir":"barrier","id":3,"sources":{"clicks":{"0":3}}}
	weir-lake-write: 1 rows after the last barrier not committed (the source replays them)
	EOF
	[ "$(versions "$T")" -eq 3 ]
	run jq -c 'select(.txn) | .txn | {appId, version}' "$T/_delta_log/00000000000000000001.json"
	assert_output '{"appId":"app1","version":2}'
	run jq -c 'select(.commitInfo) | .commitInfo | [.operation, .weir]' "$T/_delta_log/00000000000000000001.json"
	assert_output '["STREAMING UPDATE",{"appId":"app1","barrier":2,"sources":{"clicks":{"0":3}}}]'
	# the same input again changes nothing; a new barrier commits
	run weir-lake-write --app-id app1 -v "$T" <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_line 'weir-lake-write: barrier 1 already committed for app id '"'app1'"': skipped'
	[ "$(versions "$T")" -eq 3 ]
	printf '%s\n' '{"id":4}' '{"@weir":"barrier","id":4,"sources":{}}' | weir-lake-write --app-id app1 "$T" >/dev/null
	[ "$(replay "$T" | jq -c .txn)" = '{"app1":4}' ]
	[ "$(table_rows "$T" "id::INT AS id" | jq -s -c 'map(.id) | sort')" = '[1,2,3,4]' ]
}

@test "overwrite and --replace-where" {
	printf '%s\n' '{"p":"a","v":1}' '{"p":"b","v":2}' '{"p":"c","v":3}' | weir-lake-write -s 'p STRING, v INT' -p p "$T"
	printf '%s\n' '{"p":"b","v":20}' '{"p":"b","v":21}' | weir-lake-write -m overwrite -w "p = 'b'" "$T"
	[ "$(table_rows "$T" "v::INT AS v" | jq -s -c 'map(.v) | sort')" = '[1,3,20,21]' ]
	run jq -c 'select(.remove) | .remove.partitionValues' "$T/_delta_log/00000000000000000001.json"
	assert_output '{"p":"b"}'
	run weir-lake-write -m overwrite -w "p IN ('a')" "$T" <<<'{"p":"c","v":9}'
	assert_failure 2
	assert_output 'weir-lake-write: record 1: record does not match --replace-where'
	run weir-lake-write -m overwrite -w "v = 1" "$T" </dev/null
	assert_failure 2
	assert_output "weir-lake-write: bad --replace-where: column 'v' is not a partition column (only partition columns can be used)"
	printf '{"p":"z","v":0}\n' | weir-lake-write -m overwrite "$T"
	[ "$(table_rows "$T" "v::INT AS v" | jq -s -c 'map(.v)')" = '[0]' ]
	run jq -c 'select(.commitInfo) | .commitInfo | [.operationParameters.mode, .isBlindAppend, .operationMetrics.numRemovedFiles]' "$T/_delta_log/00000000000000000002.json"
	assert_output '["Overwrite",false,"3"]'
}

@test "a checkpoint every 10 commits, in Spark's schema, readable by DuckDB" {
	for i in $(seq 0 11); do echo "{\"id\":$i}"; done | weir-lake-write -s 'id BIGINT' --max-rows 1 "$T"
	[ "$(versions "$T")" -eq 12 ]
	[ -f "$T/_delta_log/00000000000000000010.checkpoint.parquet" ]
	run jq -c '{version, size, numOfAddFiles}' "$T/_delta_log/_last_checkpoint"
	assert_output '{"version":10,"size":13,"numOfAddFiles":11}'
	run duckdb_query "SELECT count(add)::INT AS adds, count(metaData)::INT AS meta, count(protocol)::INT AS proto, count(*)::INT AS n FROM read_parquet('$T/_delta_log/00000000000000000010.checkpoint.parquet')"
	assert_output '{"adds":11,"meta":1,"proto":1,"n":13}'
	run duckdb_query "SELECT type, name FROM parquet_schema('$T/_delta_log/00000000000000000010.checkpoint.parquet') WHERE name IN ('version', 'size', 'minReaderVersion', 'dataChange')"
	assert_output - <<-'EOF'
	{"type":"INT64","name":"version"}
	{"type":"INT64","name":"size"}
	{"type":"BOOLEAN","name":"dataChange"}
	{"type":"BOOLEAN","name":"dataChange"}
	{"type":"INT64","name":"size"}
	{"type":"INT32","name":"minReaderVersion"}
	EOF
	[ "$(table_rows "$T" "id::INT AS id" | jq -s -c 'map(.id) | sort | length')" -eq 12 ]
}

@test "four concurrent writers: 200 commits, every row once" {
	printf '' | weir-lake-write -s 'w INT, i INT' "$T"
	for w in 1 2 3 4; do
		(for i in $(seq 1 50); do echo "{\"w\":$w,\"i\":$i}"; done |
			weir-lake-write --max-rows 1 "$T" 2>"$BATS_TEST_TMPDIR/err$w") &
	done
	wait
	cat "$BATS_TEST_TMPDIR"/err* >&2
	[ "$(versions "$T")" -eq 201 ]
	run bash -c "cat '$BATS_TEST_TMPDIR'/err*"
	assert_output ''
	table_rows "$T" 'w, i' | jq -c '[.w, .i]' | sort >"$BATS_TEST_TMPDIR/got"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/got")" -eq 200 ]
	[ "$(sort -u "$BATS_TEST_TMPDIR/got" | wc -l)" -eq 200 ]
	# every commit is a blind append of one file
	run bash -c "cat '$T'/_delta_log/0*.json | jq -c 'select(.commitInfo) | .commitInfo.isBlindAppend' | sort | uniq -c | sed 's/^ *//'"
	assert_output $'1 false\n200 true'
}

@test "kill -9 at random moments: always readable, a rerun converges to exactly once" {
	gen() {
		for b in $(seq 1 8); do
			for i in $(seq 1 25); do echo "{\"b\":$b,\"i\":$i}"; done
			echo "{\"@weir\":\"barrier\",\"id\":$b,\"sources\":{}}"
			if [ "${1:-}" = slow ]; then sleep 0.02; fi
		done
	}
	gen >"$BATS_TEST_TMPDIR/all"
	for run in $(seq 1 20); do
		rm -rf "$T"
		gen slow | weir-lake-write -s 'b INT, i INT' --app-id crash "$T" >/dev/null 2>&1 &
		local pid=$!
		sleep "0.0$((RANDOM % 9 + 1))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		if [ -d "$T/_delta_log" ] && ls "$T/_delta_log" | grep -q json; then
			replay "$T" >/dev/null || fail "run $run: table unreadable after kill -9"
		fi
		weir-lake-write -s 'b INT, i INT' --app-id crash "$T" <"$BATS_TEST_TMPDIR/all" >/dev/null
		[ "$(replay "$T" | jq -c .txn)" = '{"crash":8}' ] || fail "run $run: txn $(replay "$T" | jq -c .txn)"
		n=$(replay "$T" | jq '[.files[].stats.numRecords] | add')
		[ "$n" -eq 200 ] || fail "run $run: $n rows instead of 200"
	done
	table_rows "$T" 'b, i' | jq -c '[.b, .i]' | sort -u | wc -l | grep -qx 200
}

@test "SIGTERM commits what arrived (standalone)" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	weir-lake-write -s 'id INT' "$T" <"$BATS_TEST_TMPDIR/fifo" &
	local pid=$!
	exec 7>"$BATS_TEST_TMPDIR/fifo"
	printf '{"id":1}\n{"id":2}\n' >&7
	sleep 0.3
	kill -TERM "$pid"
	wait "$pid"
	exec 7>&-
	[ "$(table_rows "$T" "id::INT AS id" | jq -s -c 'map(.id) | sort')" = '[1,2]' ]
}

@test "a full disk (ulimit -f) is a clean error and leaves the table intact" {
	printf '{"id":0,"s":"x"}\n' | weir-lake-write -s 'id BIGINT, s STRING' "$T"
	run bash -c "ulimit -f 64; for i in \$(seq 1 30000); do echo \"{\\\"id\\\":\$i,\\\"s\\\":\\\"\$RANDOM-\$RANDOM-\$RANDOM-\$i\\\"}\"; done | weir-lake-write --compression none '$T'"
	assert_failure 2
	assert_output --regexp '^weir-lake-write: (cannot write data file|commit to).*File too large'
	[ "$(versions "$T")" -eq 1 ]
	[ "$(table_rows "$T" "id::INT AS id" | jq -s -c 'map(.id)')" = '[0]' ]
}

@test "a new table's parent directories are made" {
	run weir-lake-write -s 'id BIGINT' "$T/lake/gold/t" <<<'{"id":7}'
	assert_success
	[ "$(versions "$T/lake/gold/t")" -eq 1 ]
	[ "$(ls "$T/lake/gold/t"/*.parquet | wc -l)" -eq 1 ]
}

@test "usage errors" {
	run weir-lake-write
	assert_failure 2
	assert_line 'weir-lake-write: missing TABLE'
	run weir-lake-write -m sideways "$T"
	assert_failure 2
	assert_line "weir-lake-write: bad --mode 'sideways' (append or overwrite)"
	run weir-lake-write -w 'p = 1' "$T"
	assert_failure 2
	assert_line 'weir-lake-write: --replace-where needs --mode overwrite'
	run weir-lake-write "$T" <<<'{"a":1}'
	assert_failure 2
	assert_output "weir-lake-write: table '$T' does not exist: give --schema or a typed (framed) stream to create it"
	run weir-lake-write --max-rows 0 "$T"
	assert_failure 2
}

@test "tables with features weir cannot write are refused by name" {
	need_fixtures
	cp -r "$WEIR_FIXTURES/delta/table-with-columnmapping-mode-name" "$T"
	chmod -R u+w "$T"
	run weir-lake-write "$T" <<<'{"a":1}'
	assert_failure 2
	assert_output --partial "columnMapping"
}
