#!/bin/sh
# bench/lag.sh - weir-lag on a 1,000-partition group on the embedded broker:
# committed offsets, log-end offsets, lag in seconds and Burrow's status with
# a state file whose windows are full.  Goal: one evaluation under 1 s.
# There is no peer that runs on the mock broker (kafka-consumer-groups needs
# a JVM and DescribeGroups, Burrow needs __consumer_offsets), so the row for
# comparison is kcat -L, a bare metadata request for the same topic.
# Usage: sh bench/lag.sh [PARTITIONS]   (WEIR_BIN: the binaries, default build/bin)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${WEIR_BIN:-$top/build/bin}
n=${1:-1000}
work=$(mktemp -d "${TMPDIR:-/tmp}/weir-bench-lag.XXXXXX")
mkfifo "$work/ctl"
"$bin/weir-broker" --topic "big:$n" --port-file "$work/port" <"$work/ctl" >/dev/null 2>"$work/broker.err" &
broker=$!
exec 3>"$work/ctl"
trap 'echo quit >&3; exec 3>&-; wait $broker; rm -rf "$work"' EXIT
i=0
while [ ! -s "$work/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
b=$(cat "$work/port")

now() { date +%s.%N; }
ms() { echo "($2 - $1) * 1000" | bc -l | sed 's/\..*//; s/^$/0/'; }
# best of 5 runs of a command, in ms
best() {
	bst=
	for _ in 1 2 3 4 5; do
		t0=$(now)
		"$@" >/dev/null
		t1=$(now)
		m=$(ms "$t0" "$t1")
		[ -z "$bst" ] || [ "$m" -lt "$bst" ] && bst=$m
	done
	echo "$bst"
}

# 100,000 messages over the partitions, and a commit on each partition
seq 100000 | kcat -P -b "$b" -t big -p -1 -X linger.ms=50
commits=$(awk -v n="$n" 'BEGIN { for (p = 0; p < n; p++) printf " --commit big:%d:%d", p, p % 50 }')
# shellcheck disable=SC2086
"$bin/weir-lag" -b "$b" -g bench $commits
echo "input: topic of $n partitions, 100,000 messages, a committed offset on each partition"
echo

st=$work/state
# fill the windows (10 samples) and the end-offset tables first
for i in 1 2 3 4 5 6 7 8 9 10; do
	"$bin/weir-lag" -b "$b" -g bench -t big -s "$st" --now "${i}000" >/dev/null
	seq 100 | kcat -P -b "$b" -t big -p -1
done
rows=$("$bin/weir-lag" -b "$b" -g bench -t big --json | grep -c '"type":"partition"')
[ "$rows" -eq "$n" ] || { echo "expected $n partitions, got $rows" >&2; exit 1; }

plain=$(best "$bin/weir-lag" -b "$b" -g bench -t big)
nt=$(best "$bin/weir-lag" -b "$b" -g bench)
k=11
state_run() { k=$((k + 1)); "$bin/weir-lag" -b "$b" -g bench -t big -s "$st" --now "${k}000" --prom; }
full=$(best state_run)
kcat=$(best kcat -L -b "$b" -t big)
echo "| what | best of 5 |"
echo "|---|---|"
echo "| weir-lag table, -t big | ${plain} ms |"
echo "| weir-lag table, topics found from the group's commits | ${nt} ms |"
echo "| weir-lag --prom with --state, full windows (status, lag seconds, atomic state write) | ${full} ms |"
echo "| kcat -L -t big (metadata only, for scale) | ${kcat} ms |"
echo
echo "state file: $(wc -c <"$st") bytes for $n partitions"
echo "goal: one evaluation of $n partitions under 1000 ms: $([ "$full" -lt 1000 ] && echo met || echo MISSED)"
