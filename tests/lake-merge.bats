#!/usr/bin/env bats
# weir-lake-write --merge-on: upserts and deletes by key, checked against a
# reference DuckDB computes from the same change stream, on tables read back
# by DuckDB (the files an independent log replay lists) and weir-lake-cat.

load helper

setup() {
	T=$BATS_TEST_TMPDIR/t
	D=$BATS_TEST_TMPDIR
}

teardown() {
	stop_broker
}

replay() {
	node "$TOP/tests/delta-replay.js" "$@"
}

versions() {
	ls "$1/_delta_log" | grep -c '^[0-9]\{20\}\.json$'
}

# N changes over ids 1..KEYS (a quarter of them deletes), seq 1..N:
# changes N KEYS SEED
changes() {
	awk -v n="$1" -v keys="$2" -v seed="$3" 'BEGIN { srand(seed); split("red green blue", c, " ")
		for (i = 1; i <= n; i++) {
			id = int(rand() * keys) + 1; op = rand() < 0.25 ? "d" : "u"
			printf "{\"seq\":%d,\"op\":\"%s\",\"id\":%d,\"name\":\"n%d\",\"grp\":\"g%d\",\"color\":\"%s\"}\n",
				i, op, id, i, id % 4, c[int(rand() * 3) + 1] } }'
}

# The rows of a table before the changes: ids 1..N, seq 0.
initial() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
		printf "{\"seq\":0,\"id\":%d,\"name\":\"i%d\",\"grp\":\"g%d\",\"color\":\"red\"}\n", i, i, i % 4 }'
}

# A barrier after every K records.
barriers() {
	awk -v k="$1" '{ print } NR % k == 0 { printf "{\"@weir\":\"barrier\",\"id\":%d}\n", NR / k }'
}

SCHEMA='id BIGINT NOT NULL, name STRING, grp STRING, color STRING, seq BIGINT'

# The table's rows as DuckDB reads the live files of the independent log
# replay, partition values (strings here) taken from the log; $2 is the
# select list over the data columns.
table_rows() {
	local t=$1 sel=${2:-*} list
	replay "$t" | jq -c '.files[] | {path, partitionValues}' >"$D/live"
	[ -s "$D/live" ] || return 0
	list=$(jq -r '.path' "$D/live" | sed "s/'/''/g; s/.*/'&'/" | paste -sd,)
	duckdb_query "SELECT $sel, filename FROM read_parquet([$list], filename=true, union_by_name=true)" |
		jq -c --slurpfile live <(jq -s . "$D/live") \
			'. as $r | ([$live[0][] | select(.path == $r.filename) | .partitionValues][0]) as $pv | $r + $pv | del(.filename)'
}

# The final state of initial rows plus changes: per id the change with the
# greatest seq, gone when that is a delete.
reference() {
	cat "$@" >"$D/all"
	duckdb_query "SELECT id::INT AS id, name, grp, color, seq::INT AS seq FROM (
		SELECT *, row_number() OVER (PARTITION BY id ORDER BY seq DESC) AS rn
		FROM read_json('$D/all', columns = {seq: 'BIGINT', op: 'VARCHAR', id: 'BIGINT', name: 'VARCHAR',
			grp: 'VARCHAR', color: 'VARCHAR'})) WHERE rn = 1 AND coalesce(op, '') <> 'd'"
}

# The table equals the reference by both readers.
check_table() {
	local t=$1
	shift
	reference "$@" >"$D/want"
	table_rows "$t" '* EXCLUDE (filename) REPLACE (id::INT AS id, seq::INT AS seq)' >"$D/duck"
	weir-lake-cat "$t" >"$D/cat"
	same_rows "$D/duck" "$D/want"
	same_rows "$D/cat" "$D/want"
	# one row per key
	[ "$(jq -s 'map(.id) | length == (unique | length)' "$D/cat")" = true ]
}

commit() {
	printf '%s/_delta_log/%020d.json' "$1" "$2"
}

# commitInfo.operationMetrics of a version, the named ones
metrics() {
	jq -c "select(.commitInfo) | .commitInfo.operationMetrics | {$3}" "$(commit "$1" "$2")"
}

@test "synopsis and MERGE section of the man page; lint clean" {
	check_synopsis weir-lake-write
	run mandoc -T lint -W warning "$TOP/man/weir-lake-write.1"
	assert_success
	assert_output ''
	grep -q '^\.SH MERGE$' "$TOP/man/weir-lake-write.1"
}

@test "the man page's examples run" {
	cd "$D"
	printf '{"id":1,"v":"a"}\n{"id":2,"v":"b"}\n' |
		weir-lake-write -s 'id BIGINT NOT NULL, v STRING' lake/dim
	printf '{"id":2,"v":"B"}\n{"id":3,"v":"c"}\n{"id":1,"op":"d"}\n' |
		weir-lake-write --merge-on id --delete-when "op = 'd'" lake/dim
	run weir-lake-cat lake/dim
	assert_success
	assert_output $'{"id":2,"v":"B"}\n{"id":3,"v":"c"}'
	cat >changes.ndjson <<-'EOF'
	{"before":null,"after":{"id":1,"name":"ann"},"source":{"ts_ms":1},"op":"c"}
	{"before":{"id":1,"name":"ann"},"after":{"id":1,"name":"anne"},"source":{"ts_ms":2},"op":"u"}
	{"before":null,"after":{"id":2,"name":"bob"},"source":{"ts_ms":3},"op":"c"}
	{"before":{"id":2,"name":"bob"},"after":null,"source":{"ts_ms":4},"op":"d"}
	EOF
	weir-lake-write -s 'id INT NOT NULL, name STRING' --merge-on id \
		--cdc debezium lake/customers <changes.ndjson
	run weir-lake-cat lake/customers
	assert_output '{"id":1,"name":"anne"}'
}

@test "unpartitioned: batches at barriers equal the reference; a replay with --app-id changes nothing" {
	initial 150 >"$D/init"
	weir-lake-write -s "$SCHEMA" --max-rows 50 "$T" <"$D/init"
	changes 1200 300 7 >"$D/ch"
	barriers 200 <"$D/ch" >"$D/stream"
	run weir-lake-write --merge-on id --delete-when "op = 'd'" --app-id cdc "$T" <"$D/stream"
	assert_success
	# barriers are forwarded after their commits
	assert_output "$(seq 6 | sed 's/.*/{"@weir":"barrier","id":&}/')"
	[ "$(versions "$T")" -eq 9 ]
	check_table "$T" "$D/init" "$D/ch"
	for v in 3 4 5 6 7 8; do
		[ "$(jq -r 'select(.commitInfo) | .commitInfo.operation' "$(commit "$T" $v)")" = MERGE ]
		[ "$(metrics "$T" $v numSourceRows)" = '{"numSourceRows":"200"}' ]
	done
	[ "$(jq -c 'select(.txn) | .txn | {appId, version}' "$(commit "$T" 8)")" = '{"appId":"cdc","version":6}' ]
	cp "$D/cat" "$D/before"
	run weir-lake-write -v --merge-on id --delete-when "op = 'd'" --app-id cdc "$T" <"$D/stream"
	assert_success
	[ "$(versions "$T")" -eq 9 ]
	[ "$(grep -c 'already committed for app id' <<<"$output")" -eq 6 ]
	weir-lake-cat "$T" >"$D/after"
	same_rows "$D/after" "$D/before"
	# without --app-id a replayed batch is applied again, to the same rows
	barriers 200 <<<"$(tail -n 200 "$D/ch")" >"$D/last"
	weir-lake-write --merge-on id --delete-when "op = 'd'" "$T" <"$D/last"
	[ "$(versions "$T")" -eq 10 ]
	weir-lake-cat "$T" >"$D/after"
	same_rows "$D/after" "$D/before"
}

@test "partitioned by a column of the key: last change per key by --order-by within shuffled batches" {
	initial 100 >"$D/init"
	weir-lake-write -s "$SCHEMA" -p grp "$T" <"$D/init"
	changes 1000 200 11 >"$D/ch"
	# each batch of 250 (--max-rows) arrives out of order; seq says which change is last
	awk '{ printf "%d %d %s\n", int((NR - 1) / 250), (NR * 7919) % 1009, $0 }' "$D/ch" |
		sort -k1,1n -k2,2n | cut -d' ' -f3- >"$D/shuffled"
	run cmp -s "$D/shuffled" "$D/ch"
	assert_failure 1
	run weir-lake-write --merge-on grp,id --delete-when "op = 'd'" --order-by seq --max-rows 250 "$T" <"$D/shuffled"
	assert_success
	[ "$(versions "$T")" -eq 5 ]
	check_table "$T" "$D/init" "$D/ch"
	# the table has its partitions, and each data file one partition
	[ "$(replay "$T" | jq -c '[.files[].partitionValues.grp] | unique')" = '["g0","g1","g2","g3"]' ]
	[ "$(replay "$T" | jq '.partitionColumns == ["grp"]')" = true ]
}

@test "partitioned by a column outside the key: an update moves its row to another partition" {
	initial 60 >"$D/init"
	weir-lake-write -s "$SCHEMA" -p color "$T" <"$D/init"
	changes 400 90 23 >"$D/ch"
	barriers 100 <"$D/ch" | weir-lake-write --merge-on id --delete-when "op = 'd'" "$T" >/dev/null
	check_table "$T" "$D/init" "$D/ch"
	[ "$(replay "$T" | jq -c '[.files[].partitionValues.color] | unique')" = '["blue","green","red"]' ]
}

@test "only files that hold an affected key are rewritten" {
	# ten files of 100 ids each: 0-99, 100-199, ...
	seq 0 999 | sed 's/.*/{"id":&,"v":"a"}/' | weir-lake-write -s 'id BIGINT NOT NULL, v STRING' --max-rows 100 "$T"
	[ "$(versions "$T")" -eq 10 ]
	replay "$T" | jq -r '.files[] | "\(.stats.minValues.id) \(.path)"' | sort -n >"$D/files"
	printf '%s\n' '{"id":5,"v":"b"}' '{"id":17,"v":"b"}' '{"id":350,"v":"b"}' '{"id":720,"op":"d"}' '{"id":5000,"v":"new"}' |
		weir-lake-write --merge-on id --delete-when "op = 'd'" "$T"
	run metrics "$T" 10 'numTargetFilesBeforeSkipping, numTargetFilesAfterSkipping, numTargetFilesRemoved, numTargetFilesAdded, numTargetRowsInserted, numTargetRowsUpdated, numTargetRowsDeleted, numTargetRowsCopied, numOutputRows'
	assert_output '{"numTargetFilesBeforeSkipping":"10","numTargetFilesAfterSkipping":"3","numTargetFilesRemoved":"3","numTargetFilesAdded":"1","numTargetRowsInserted":"1","numTargetRowsUpdated":"3","numTargetRowsDeleted":"1","numTargetRowsCopied":"296","numOutputRows":"300"}'
	# the removes are exactly the files of ids 0-99, 300-399 and 700-799
	diff <(jq -r 'select(.remove) | .remove.path' "$(commit "$T" 10)" | sort) \
		<(awk '$1 == 0 || $1 == 300 || $1 == 700 { print $2 }' "$D/files" | xargs -n1 basename | sort)
	[ "$(jq -c 'select(.add)' "$(commit "$T" 10)" | wc -l)" -eq 1 ]
	[ "$(weir-lake-cat "$T" | jq -s -c 'length, (map(select(.v != "a")) | sort_by(.id))')" = \
		$'1000\n[{"id":5,"v":"b"},{"id":17,"v":"b"},{"id":350,"v":"b"},{"id":5000,"v":"new"}]' ]

	# stats that admit a key make a file read; it is rewritten only when it holds the key
	rm -rf "$T"
	seq 0 2 98 | sed 's/.*/{"id":&}/' | weir-lake-write -s 'id BIGINT NOT NULL, v STRING' "$T"
	seq 1 2 99 | sed 's/.*/{"id":&}/' | weir-lake-write "$T"
	echo '{"id":51,"v":"x"}' | weir-lake-write --merge-on id "$T"
	run metrics "$T" 2 'numTargetFilesAfterSkipping, numTargetFilesRemoved, numTargetRowsUpdated, numTargetRowsCopied'
	assert_output '{"numTargetFilesAfterSkipping":"2","numTargetFilesRemoved":"1","numTargetRowsUpdated":"1","numTargetRowsCopied":"49"}'

	# partitions prune without stats: only the partition of the key is read
	rm -rf "$T"
	printf '{"day":"2024-05-0%d","id":%d}\n' 1 1 2 1 3 1 4 1 1 2 2 2 |
		weir-lake-write -s 'day DATE NOT NULL, id INT NOT NULL, v STRING' -p day "$T"
	echo '{"day":"2024-05-02","id":2,"v":"x"}' | weir-lake-write --merge-on day,id "$T"
	run metrics "$T" 1 'numTargetFilesBeforeSkipping, numTargetFilesAfterSkipping, numTargetFilesRemoved, numTargetRowsUpdated, numTargetRowsCopied'
	assert_output '{"numTargetFilesBeforeSkipping":"4","numTargetFilesAfterSkipping":"1","numTargetFilesRemoved":"1","numTargetRowsUpdated":"1","numTargetRowsCopied":"1"}'
	[ "$(weir-lake-cat "$T" | jq -s -c 'sort_by(.day, .id) | map([.day, .id, .v])')" = \
		'[["2024-05-01",1,null],["2024-05-01",2,null],["2024-05-02",1,null],["2024-05-02",2,"x"],["2024-05-03",1,null],["2024-05-04",1,null]]' ]
}

# A merge reading from a FIFO: its first batch (barrier 1) is committed
# before the test goes on, so its snapshot is the table as it was then.
start_merge() {
	mkfifo "$D/fifo"
	weir-lake-write --merge-on id "$@" <"$D/fifo" >"$D/merge.out" 2>"$D/merge.err" &
	MERGE_PID=$!
	exec {MERGE_FD}>"$D/fifo"
	printf '{"id":1,"v":"first"}\n{"@weir":"barrier","id":1}\n' >&"$MERGE_FD"
	local i
	for i in $(seq 400); do
		grep -q barrier "$D/merge.out" && return 0
		sleep 0.025
	done
	cat "$D/merge.err" >&2
	return 1
}

# Send the merge's second batch and wait for its exit status.
finish_merge() {
	printf '%s\n' "$@" >&"$MERGE_FD"
	exec {MERGE_FD}>&-
	MERGE_STATUS=0
	wait "$MERGE_PID" || MERGE_STATUS=$?
}

@test "concurrent merges: a rewritten file conflicts clearly; blind appends and other files do not" {
	seq 1 100 | sed 's/.*/{"id":&,"v":"a"}/' | weir-lake-write -s 'id BIGINT NOT NULL, v STRING' --max-rows 50 "$T"
	start_merge "$T"
	# another writer rewrites the file of ids 51-100
	echo '{"id":60,"v":"other"}' | weir-lake-write --merge-on id "$T"
	finish_merge '{"id":70,"v":"mine"}' '{"@weir":"barrier","id":2}'
	[ "$MERGE_STATUS" -eq 1 ]
	run cat "$D/merge.err"
	assert_output --regexp "^weir-lake-write: commit conflict on '.*/t': concurrent delete of a file this write removes \(version 3\)$"
	# the table is as the winner left it, and the loser's files are gone
	[ "$(weir-lake-cat "$T" | jq -s -c 'map(select(.v != "a")) | sort_by(.id)')" = '[{"id":1,"v":"first"},{"id":60,"v":"other"}]' ]
	[ "$(versions "$T")" -eq 4 ]
	[ "$(find "$T" -name '*.parquet' | wc -l)" -eq 4 ]

	# a blind append, and a merge of another file, are retried past
	rm -f "$D/fifo"
	start_merge "$T"
	echo '{"id":500,"v":"appended"}' | weir-lake-write "$T"
	echo '{"id":2,"v":"other"}' | weir-lake-write --merge-on id "$T"
	finish_merge '{"id":80,"v":"mine"}' '{"@weir":"barrier","id":2}'
	[ "$MERGE_STATUS" -eq 0 ]
	[ "$(versions "$T")" -eq 8 ]
	[ "$(jq -r 'select(.commitInfo) | .commitInfo | "\(.operation) \(.readVersion)"' "$(commit "$T" 7)")" = 'MERGE 6' ]
	[ "$(weir-lake-cat "$T" | jq -s -c 'map(select(.v != "a")) | sort_by(.id)')" = \
		'[{"id":1,"v":"first"},{"id":2,"v":"other"},{"id":60,"v":"other"},{"id":80,"v":"mine"},{"id":500,"v":"appended"}]' ]
	[ "$(weir-lake-cat "$T" | wc -l)" -eq 101 ]

	# a file the merge read and did not rewrite, rewritten concurrently, conflicts too
	rm -rf "$T" "$D/fifo"
	seq 2 2 100 | sed 's/.*/{"id":&,"v":"a"}/' | weir-lake-write -s 'id BIGINT NOT NULL, v STRING' "$T"
	seq 3 2 99 | sed 's/.*/{"id":&,"v":"a"}/' | weir-lake-write "$T"
	start_merge "$T"
	echo '{"id":50,"v":"other"}' | weir-lake-write --merge-on id "$T"
	finish_merge '{"id":51,"v":"mine"}' '{"@weir":"barrier","id":2}'
	[ "$MERGE_STATUS" -eq 1 ]
	grep -q 'concurrent delete in version 3 of data this write read' "$D/merge.err"

	# a concurrent merge that adds one of our keys conflicts even without a file in common
	rm -rf "$T" "$D/fifo"
	echo '{"id":1,"v":"a"}' | weir-lake-write -s 'id BIGINT NOT NULL, v STRING' "$T"
	start_merge "$T"
	echo '{"id":9,"v":"other"}' | weir-lake-write --merge-on id "$T"
	finish_merge '{"id":9,"v":"mine"}' '{"@weir":"barrier","id":2}'
	[ "$MERGE_STATUS" -eq 1 ]
	grep -q 'concurrent append in version 2 touches data this write read' "$D/merge.err"
	[ "$(weir-lake-cat "$T" | jq -s -c 'sort_by(.id)')" = '[{"id":1,"v":"first"},{"id":9,"v":"other"}]' ]
}

# Debezium events of the forms a stream can carry them in.
@test "Debezium: envelopes, deletes, key changes, tombstones, bad events" {
	cat >"$D/cdc" <<-'EOF'
	{"schema":{"type":"struct"},"payload":{"before":null,"after":{"id":1,"name":"a","region":"eu"},"source":{"ts_ms":100},"op":"r"}}
	{"before":null,"after":{"id":2,"name":"b","region":"us"},"source":{"ts_ms":110},"op":"c"}
	{"topic":"db.t","partition":0,"offset":2,"key":"{\"id\":3}","value":"{\"before\":null,\"after\":{\"id\":3,\"name\":\"c\",\"region\":\"us\"},\"source\":{\"ts_ms\":120},\"op\":\"c\"}"}
	{"topic":"db.t","partition":0,"offset":3,"payload":"{\"schema\":{},\"payload\":{\"before\":{\"id\":1,\"name\":\"a\",\"region\":\"eu\"},\"after\":{\"id\":1,\"name\":\"a2\",\"region\":\"eu\"},\"source\":{\"ts_ms\":130},\"op\":\"u\"}}"}
	{"@weir":"barrier","id":1}
	{"before":{"id":2,"name":null,"region":null},"after":null,"source":{"ts_ms":140},"op":"d"}
	{"topic":"db.t","partition":0,"offset":5,"key":"{\"id\":2}","value":null}
	{"schema":null,"payload":null}
	{"before":{"id":3,"name":"c","region":"us"},"after":{"id":30,"name":"c","region":"eu"},"source":{"ts_ms":150},"op":"u"}
	{"before":null,"after":{"id":4,"name":"late","region":"eu"},"source":{"ts_ms":170},"op":"c"}
	{"before":null,"after":{"id":4,"name":"early","region":"eu"},"source":{"ts_ms":160},"op":"c"}
	{"before":null,"after":null,"source":{"ts_ms":180},"op":"t"}
	{"before":null,"after":null,"source":{"ts_ms":190},"op":"d"}
	{"topic":"db.t","partition":0,"offset":9,"value":"not json"}
	{"after":{"id":null,"name":"x","region":"eu"},"op":"c"}
	{"id":5,"name":"plain"}
	{"@weir":"barrier","id":2}
	EOF
	run weir-lake-write -v -s 'id INT NOT NULL, name STRING, region STRING' -p region --merge-on id --cdc debezium \
		--app-id db --dlq "$D/dlq" "$T" <"$D/cdc"
	assert_success
	assert_line --partial 'merged 4 changes: 3 inserted, 0 updated, 0 deleted'
	assert_line --partial 'merged 4 changes: 2 inserted, 0 updated, 2 deleted'
	assert_line 'weir-lake-write: 2 tombstones (null values) ignored'
	assert_line 'weir-lake-write: 5 records rejected (written to the dead-letter file)'
	run jq -r .error "$D/dlq"
	assert_output - <<-'EOF'
	Debezium truncate events are not supported
	Debezium delete without a before image (the key is unknown)
	the message value is not JSON: invalid literal at byte 0
	field 'id' is null but the column is NOT NULL
	not a Debezium change event (no op, payload or envelope value)
	EOF
	[ "$(weir-lake-cat "$T" | jq -s -c 'sort_by(.id)')" = \
		'[{"id":1,"name":"a2","region":"eu"},{"id":4,"name":"late","region":"eu"},{"id":30,"name":"c","region":"eu"}]' ]
	# --order-by names a path in the event; arrival order breaks ties
	rm -rf "$T"
	printf '%s\n' '{"after":{"id":1,"name":"x"},"source":{"ts_ms":5,"lsn":2},"op":"c"}' \
		'{"after":{"id":1,"name":"y"},"source":{"ts_ms":9,"lsn":1},"op":"u"}' \
		'{"after":{"id":2,"name":"p"},"source":{"ts_ms":1,"lsn":7},"op":"c"}' \
		'{"after":{"id":2,"name":"q"},"source":{"ts_ms":1,"lsn":7},"op":"u"}' |
		weir-lake-write -s 'id INT NOT NULL, name STRING' --merge-on id --cdc debezium --order-by source.lsn "$T"
	[ "$(weir-lake-cat "$T" | jq -s -c 'sort_by(.id)')" = '[{"id":1,"name":"x"},{"id":2,"name":"q"}]' ]
}

@test "Debezium: a generated change stream equals a jq reduction of it" {
	# creates, updates and deletes in every wrapping, a tombstone after each delete
	awk 'BEGIN { srand(5); ts = 1000
		for (i = 1; i <= 600; i++) {
			id = int(rand() * 80) + 1; ts += int(rand() * 3)
			del = rand() < 0.3
			if (del) ev = sprintf("{\"before\":{\"id\":%d,\"name\":null},\"after\":null,\"source\":{\"ts_ms\":%d},\"op\":\"d\"}", id, ts)
			else ev = sprintf("{\"before\":null,\"after\":{\"id\":%d,\"name\":\"v%d\"},\"source\":{\"ts_ms\":%d},\"op\":\"%s\"}", id, i, ts, rand() < 0.5 ? "c" : "u")
			if (i % 3 == 0) print ev
			else if (i % 3 == 1) printf "{\"schema\":{},\"payload\":%s}\n", ev
			else { gsub(/"/, "\\\"", ev); printf "{\"topic\":\"t\",\"partition\":0,\"offset\":%d,\"value\":\"%s\"}\n", i, ev }
			if (del) printf "{\"topic\":\"t\",\"partition\":0,\"offset\":%d,\"value\":null}\n", i
			if (i % 100 == 0) printf "{\"@weir\":\"barrier\",\"id\":%d}\n", i / 100 } }' >"$D/cdc"
	[ "$(grep -c '"value":null' "$D/cdc")" -gt 100 ]
	run weir-lake-write -v -s 'id INT NOT NULL, name STRING' --merge-on id --cdc debezium --app-id t "$T" <"$D/cdc"
	assert_success
	assert_line "weir-lake-write: $(grep -c '"value":null' "$D/cdc") tombstones (null values) ignored"
	jq -c 'select(has("@weir") | not) | select(.value != null or (has("topic") | not))
		| if has("topic") then .value | fromjson elif has("payload") then .payload else . end' "$D/cdc" |
		jq -s -c 'reduce .[] as $e ({}; if $e.op == "d" then del(.[$e.before.id | tostring])
			else .[$e.after.id | tostring] = $e.after end) | [.[]] | .[]' >"$D/want"
	weir-lake-cat "$T" >"$D/cat"
	same_rows "$D/cat" "$D/want"
	table_rows "$T" '* EXCLUDE (filename)' >"$D/duck"
	same_rows "$D/duck" "$D/want"
}

@test "Debezium from Kafka: weir-ingest envelopes with tombstones, barriers, a rerun commits nothing" {
	start_broker --topic db.customers:1
	cat >"$D/msgs" <<-'EOF'
	{"key":"{\"id\":1}","value":"{\"before\":null,\"after\":{\"id\":1,\"name\":\"a\"},\"source\":{\"ts_ms\":1},\"op\":\"c\"}"}
	{"key":"{\"id\":2}","value":{"before":null,"after":{"id":2,"name":"b"},"source":{"ts_ms":2},"op":"c"}}
	{"key":"{\"id\":1}","value":{"before":{"id":1,"name":"a"},"after":null,"source":{"ts_ms":3},"op":"d"}}
	{"key":"{\"id\":1}","value":null}
	{"key":"{\"id\":2}","value":{"before":{"id":2,"name":"b"},"after":{"id":2,"name":"b2"},"source":{"ts_ms":4},"op":"u"}}
	{"key":"{\"id\":3}","value":{"before":null,"after":{"id":3,"name":"c"},"source":{"ts_ms":5},"op":"r"}}
	EOF
	weir-ingest -P -b "$BROKERS" -t db.customers "$D/msgs"
	pipeline() {
		weir-ingest -C -b "$BROKERS" -t db.customers -e --checkpoint-interval 2 |
			weir-lake-write -v -s 'id INT NOT NULL, name STRING' --merge-on id --cdc debezium --app-id customers "$T"
	}
	run pipeline
	assert_success
	assert_line --partial 'committed version 1: merged 1 changes: 0 inserted, 0 updated, 1 deleted'
	assert_line 'weir-lake-write: 1 tombstones (null values) ignored'
	assert_line '{"@weir":"barrier","id":3,"sources":{"db.customers":{"0":6}}}'
	[ "$(weir-lake-cat "$T" | jq -s -c 'sort_by(.id)')" = '[{"id":2,"name":"b2"},{"id":3,"name":"c"}]' ]
	[ "$(jq -c 'select(.commitInfo) | .commitInfo.weir' "$(commit "$T" 2)")" = \
		'{"appId":"customers","barrier":3,"sources":{"db.customers":{"0":6}}}' ]
	[ "$(versions "$T")" -eq 3 ]
	run pipeline
	stop_broker
	assert_success
	[ "$(grep -c 'already committed for app id' <<<"$output")" -eq 3 ]
	[ "$(versions "$T")" -eq 3 ]
}

@test "merge errors: usage, keys the table cannot have, null keys, schema evolution" {
	run weir-lake-write --delete-when "op = 'd'" "$T"
	assert_failure 2
	assert_line --partial '--delete-when, --order-by and --cdc need --merge-on KEYS'
	run weir-lake-write --merge-on id -m overwrite "$T"
	assert_failure 2
	run weir-lake-write --merge-on id --cdc debezium --delete-when "op = 'd'" "$T"
	assert_failure 2
	run weir-lake-write --merge-on id --cdc maxwell "$T"
	assert_failure 2
	assert_line --partial "bad --cdc 'maxwell' (debezium)"
	run weir-lake-write --merge-on 'id,,x' "$T"
	assert_failure 2
	run weir-lake-write --merge-on id --delete-when "op = " "$T"
	assert_failure 2
	assert_line --partial 'bad merge options'

	echo '{"id":1,"tags":["a"]}' | weir-lake-write -s 'id BIGINT, tags ARRAY<STRING>' "$T"
	run weir-lake-write --merge-on nope "$T" </dev/null
	assert_failure 2
	assert_output "weir-lake-write: bad --merge-on: key column 'nope' is not in the table"
	run weir-lake-write --merge-on tags "$T" </dev/null
	assert_failure 2
	assert_output "weir-lake-write: bad --merge-on: key column 'tags' has type array (keys must be primitive columns)"
	run weir-lake-write --merge-on id "$T" <<<'{"id":null,"tags":["b"]}'
	assert_failure 2
	assert_output "weir-lake-write: record 1: key column 'id' is null"
	[ "$(versions "$T")" -eq 1 ]
	# a delete needs only its key; keys match whatever their case in the record
	printf '%s\n' '{"ID":1,"op":"d"}' '{"id":2,"tags":["c"],"extra":"x"}' |
		weir-lake-write --merge-on id --delete-when "op = 'd'" --merge-schema "$T"
	run weir-lake-cat "$T"
	assert_output '{"id":2,"tags":["c"],"extra":"x"}'
	[ "$(replay "$T" | jq -c .columns)" = '["id","tags","extra"]' ]
	# an append-only table takes no merges
	rm -rf "$T"
	echo '{"id":1}' | weir-lake-write -s 'id BIGINT' "$T"
	jq -c 'if .metaData then .metaData.configuration = {"delta.appendOnly": "true"} else . end' \
		"$(commit "$T" 0)" >"$D/v0" && cp "$D/v0" "$(commit "$T" 0)"
	run weir-lake-write --merge-on id "$T" <<<'{"id":1}'
	assert_failure 2
	assert_output "weir-lake-write: table '$T' is append-only (delta.appendOnly): cannot merge"
}
