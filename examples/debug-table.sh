#!/bin/sh
# Table debugging recipes: history, time travel, diff of two versions, files.
#
# "The dashboard changed overnight: what happened to the table?"
#
# A Delta table is a log of commits; weir-lake-cat reads any version of it, so
# the questions on-call asks have one-line answers: who wrote what and when
# (history), what the table looked like before (time travel), exactly which
# rows changed between two versions (diff), what one commit added, and what a
# data file holds (its Parquet footer and statistics).
#
# usage: examples/debug-table.sh [DIR]     (DIR: where the table goes)
set -eu
. "$(dirname "$0")/common.sh"
workdir debug-table "${1:-}"
cd "$work"

step "a table with three commits: two appends, then a rewrite of one day"
printf '%s\n' '{"order_id":1,"day":"2024-05-01","country":"DE","amount":10.50}' \
	'{"order_id":2,"day":"2024-05-01","country":"FR","amount":20.00}' |
	weir-lake-write --schema 'order_id BIGINT NOT NULL, day DATE, country STRING, amount DECIMAL(10,2)' \
		--partition-by day lake/orders
printf '%s\n' '{"order_id":3,"day":"2024-05-02","country":"DE","amount":30.00}' |
	weir-lake-write lake/orders
# the nightly job corrects 2024-05-01: order 2 was refunded, order 4 arrived late
printf '%s\n' '{"order_id":1,"day":"2024-05-01","country":"DE","amount":10.50}' \
	'{"order_id":4,"day":"2024-05-01","country":"NL","amount":5.25}' |
	weir-lake-write --mode overwrite --replace-where "day = '2024-05-01'" lake/orders
echo "written: lake/orders"

step "history: one line per commit, newest first"
weir-lake-cat --history lake/orders |
	jq -r '[.version, .operation, .operationParameters.mode, "rows=" + .operationMetrics.numOutputRows,
		"removed_files=" + (.operationMetrics.numRemovedFiles // "0"), .operationParameters.predicate // ""] | @tsv'

step "what the table is now: schema, partitions, files"
weir-lake-cat --describe lake/orders | jq -c '{version, schema, partitionColumns, numFiles}'

step "time travel: the table as of version 1"
weir-lake-cat --at-version 1 lake/orders | sort

step "diff of version 1 and version 2 (- gone, + new)"
# rows come out in the table's column order, so sorted lines compare exactly
weir-lake-cat --at-version 1 lake/orders | sort >v1.ndjson
weir-lake-cat --at-version 2 lake/orders | sort >v2.ndjson
diff v1.ndjson v2.ndjson | sed -n 's/^< /- /p; s/^> /+ /p' || true

step "the rows commits after version 1 added (version 2 also removed a file: it warns)"
weir-lake-cat --changes-since 1 lake/orders 2>&1

step "the raw log: which files version 2 removed and added"
jq -c 'if .add then {add: .add.path} elif .remove then {remove: .remove.path} else empty end' \
	lake/orders/_delta_log/00000000000000000002.json

step "inside one data file: rows, and the min/max statistics readers use to skip it"
f=$(ls lake/orders/day=2024-05-02/*.parquet)
weir-lake-cat --parquet "$f" --meta | jq -c '{rows: .num_rows, columns: [.row_groups[0].columns[] | {(.path): {min: .statistics.min, max: .statistics.max}}] | add}'

echo
echo "the table is in $work/lake/orders"
