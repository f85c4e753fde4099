#!/bin/sh
# Topic debugging recipes: list, peek, fetch one offset, find an offset by time.
#
# "Consumers say the 00:02 messages of partition 0 are broken": the questions
# that follow are answered by weir-ingest and jq, and every answer is a Kafka
# envelope that keeps exactly what the broker holds — keys, headers, and
# payloads that are not UTF-8 (as value_b64, where kcat -J would mangle them).
#
# Finding an offset by time needs the broker's timestamp index (-Q, and
# -o s@TIME to start there): a real Kafka broker has one, weir-broker (the
# mock cluster used here) does not and answers -1.  Stopping at a time
# (-o e@TIME) reads message timestamps and works everywhere, so it finds the
# same offset the slow way.
#
# usage: examples/debug-topic.sh [DIR]     (DIR: where files go)
set -eu
. "$(dirname "$0")/common.sh"
workdir debug-topic "${1:-}"
cd "$work"

start_broker clicks:3
gen_events -n 300 --rate 1 --envelope clicks --partitions 3 | weir-ingest -P -b "$K"
printf 'hello\n' | weir-ingest -P -b "$K" -t clicks -p 2 --raw -k debug -H trace=abc -H origin=test
printf '\377\376 not UTF-8\n' | weir-ingest -P -b "$K" -t clicks -p 2 --raw

step "topics, partitions, leaders"
weir-ingest -L -b "$K" -J | jq -r '.topics[] | "\(.topic): \(.partitions | length) partitions, leaders \([.partitions[].leader] | unique)"'

step "how many messages each partition holds (offsets of first and next)"
for p in 0 1 2; do
	weir-ingest -C -b "$K" -t clicks -p $p -e | jq -s -r --arg p $p '"partition \($p): \(length) messages, offsets \(.[0].offset) to \(.[-1].offset + 1)"'
done

step "peek: the last 2 messages of partition 1, values decoded"
weir-ingest -C -b "$K" -t clicks -p 1 -o -2 -e | jq -c '{offset, key, event: (.value | fromjson | {event_id, ts, action})}'

step "one message: partition 0, offset 40"
weir-ingest -C -b "$K" -t clicks -p 0 -o 40 -c 1 | jq -c '{offset, timestamp: (.timestamp / 1000 | todate), key}'

step "headers and bytes that are not UTF-8 (the last 2 of partition 2)"
weir-ingest -C -b "$K" -t clicks -p 2 -o -2 -e | jq -c '{offset, key, headers, value, value_b64}'
weir-ingest -C -b "$K" -t clicks -p 2 -o -1 -e | jq -r .value_b64 | base64 -d | od -An -c | head -n 1

step "find the first offset at or after 00:02 in partition 0"
echo "the broker's index: weir-ingest -Q -t clicks:0:2024-01-01T00:02:00Z"
weir-ingest -Q -b "$K" -t clicks:0:2024-01-01T00:02:00Z -J | jq -c .
echo "by reading timestamps up to that time (-o e@...):"
weir-ingest -C -b "$K" -t clicks -p 0 -o beginning -o e@2024-01-01T00:02:00Z -e |
	jq -s -r '"offset \(if length > 0 then .[-1].offset + 1 else 0 end)"'

step "every message of one key (user 7), in order"
weir-ingest -C -b "$K" -t clicks -e | jq -c 'select(.key == "7") | {partition, offset, ts: (.value | fromjson | .ts)}'

echo
echo "broker stopped; files are in $work"
