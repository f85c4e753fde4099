#!/bin/sh
# Change data capture: a database table's Debezium stream into a dimension table.
#
# Debezium publishes every insert, update and delete of the shop database's
# customers table on the topic shop.public.customers: first a snapshot (op
# "r"), then changes ("c", "u", "d"), each with its before and after image
# and the commit time in source.ts_ms; a delete is followed by a tombstone
# (a null value).  weir-lake-write --merge-on id --cdc debezium turns each
# batch of changes into one Delta MERGE: upserts of the after images, deletes
# of the before images' keys, the latest change per key winning by
# source.ts_ms even when changes arrive out of order.  With --app-id, each
# barrier's merge is recorded in the table, so replaying the topic from the
# start (a consumer restart, a redeploy) changes nothing.
#
# usage: examples/cdc.sh [DIR]     (DIR: where the table goes)
set -eu
. "$(dirname "$0")/common.sh"
workdir cdc "${1:-}"
cd "$work"

TOPIC=shop.public.customers
DIM='id BIGINT NOT NULL, name STRING, email STRING, tier STRING, country STRING'

step "the change stream Debezium writes (here made by hand, 12 events)"
start_broker $TOPIC:1
# change OP ID TS_MS BEFORE AFTER: one Debezium event as a Kafka message
# keyed by the row's id (the JSON converter without schemas)
change() {
	printf '{"key":"{\\"id\\":%s}","value":%s}\n' "$2" \
		"$(printf '{"before":%s,"after":%s,"source":{"connector":"postgresql","db":"shop","table":"customers","ts_ms":%s},"op":"%s"}' \
			"$4" "$5" "$3" "$1" | jq -R .)"
}
row() {
	printf '{"id":%s,"name":"%s","email":"%s","tier":"%s","country":"%s"}' "$@"
}
{
	change r 1 1714550400000 null "$(row 1 Ada ada@example.org gold GB)"
	change r 2 1714550400000 null "$(row 2 Grace grace@example.org silver US)"
	change r 3 1714550400000 null "$(row 3 Linus linus@example.org bronze FI)"
	change r 4 1714550400000 null "$(row 4 Barbara barbara@example.org silver US)"
	change c 5 1714554000000 null "$(row 5 Edsger edsger@example.org bronze NL)"
	change u 2 1714554060000 "$(row 2 Grace grace@example.org silver US)" "$(row 2 Grace grace@example.org gold US)"
	# two updates of customer 3 that arrive in the wrong order: 09:05 wins
	change u 3 1714554300000 "$(row 3 Linus linus@example.org bronze FI)" "$(row 3 Linus linus@kernel.example silver FI)"
	change u 3 1714554240000 "$(row 3 Linus linus@example.org bronze FI)" "$(row 3 Linus linus@old.example bronze FI)"
	change d 4 1714554360000 "$(row 4 Barbara barbara@example.org silver US)" null
	printf '{"key":"{\\"id\\":4}","value":null}\n'
	change c 6 1714554420000 null "$(row 6 Frances frances@example.org bronze US)"
	change u 5 1714554480000 "$(row 5 Edsger edsger@example.org bronze NL)" "$(row 5 Edsger edsger@example.org silver NL)"
} >changes.ndjson
weir-ingest -P -b "$K" -t $TOPIC changes.ndjson
weir-ingest -C -b "$K" -t $TOPIC -e | jq -r '"offset \(.offset): " + (.value | if . == null then "tombstone" else
	fromjson | "op \(.op) id \((.after // .before).id) at \(.source.ts_ms / 1000 | todate | .[11:16])" end)'

step "into the dimension table: one MERGE per barrier (every 4 messages)"
weir-ingest -C -b "$K" -t $TOPIC -e --checkpoint-interval 4 |
	weir-lake-write --schema "$DIM" --merge-on id --cdc debezium --app-id customers-cdc -v \
		lake/dim_customers 2>&1 >/dev/null | sed 's/^weir-lake-write: //'

step "the table now: 4 deleted, 3 at its 09:05 update, 2 and 5 upgraded, 6 new"
weir-lake-cat lake/dim_customers | jq -c . | sort

step "what each merge did"
weir-lake-cat --history lake/dim_customers | jq -r '[.version, .operation,
	"inserted=\(.operationMetrics.numTargetRowsInserted // .operationMetrics.numOutputRows)",
	"updated=\(.operationMetrics.numTargetRowsUpdated // 0)", "deleted=\(.operationMetrics.numTargetRowsDeleted // 0)"] | @tsv' | sort -n

step "a consumer restart replays the topic from the start: nothing changes"
v=$(weir-lake-cat --describe lake/dim_customers | jq .version)
weir-ingest -C -b "$K" -t $TOPIC -e --checkpoint-interval 4 |
	weir-lake-write --merge-on id --cdc debezium --app-id customers-cdc -v lake/dim_customers 2>&1 >/dev/null |
	sed 's/^weir-lake-write: //'
echo "table version: $v before, $(weir-lake-cat --describe lake/dim_customers | jq .version) after"

step "time travel: the customers as the snapshot saw them (version 0)"
weir-lake-cat --at-version 0 lake/dim_customers | jq -c '{id, tier, email}' | sort

echo
echo "broker stopped; the table is in $work/lake/dim_customers"
