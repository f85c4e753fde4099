#!/bin/sh
# bench/dedup-join.sh - weir-join and weir-dedup against DuckDB on the same
# files, then the memory of both over long streams.
#
#   enrich: 1M events (scripts/gen-events, 100k users) inner-joined with a
#     100k-row user dimension: weir-join --right vs DuckDB's hash join, both
#     writing NDJSON to a file (DuckDB threads=2);
#   dedup: 1M events of which 10% repeat a recent one: weir-dedup --key
#     event_id (with and without a 10-minute event-time bound) vs DuckDB
#     SELECT DISTINCT ON (event_id);
#   memory: peak RSS of weir-dedup --within 10m over 2M and 10M events, and
#     of a stream-stream join with a 10-minute range over 2x1M and 2x5M
#     events, streamed from the generator (no files): constant memory means
#     the same peak for both sizes.
#
# Run from the repository after `make`: sh bench/dedup-join.sh [EVENTS]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${WEIR_BIN:-$top/build/bin}
out=$top/bench/out/dedup-join
mkdir -p "$out"
n=${1:-1000000}
gen() { sh "$top/scripts/gen-events" "$@"; }

# "wall cpu maxrss_kb" of a command (cpu = user + system); its output goes
# to $out/last.  The machine may be shared: wall times are noisy there, CPU
# times less so.
timed() {
	"$top/bench/cputime" "$out/time" "$@" >"$out/last"
	awk '{ printf "%.3f %.3f %s\n", $1, $2 + $3, $4 }' "$out/time"
}

ev=$out/events.ndjson
users=$out/users.ndjson
[ -s "$ev" ] && [ "$(wc -l <"$ev")" -eq "$n" ] || gen -n "$n" --users 100000 --dup 0.1 --seed 7 >"$ev"
[ -s "$users" ] || awk 'BEGIN {
	for (u = 1; u <= 100000; u++)
		printf "{\"user_id\":%d,\"name\":\"user %d\",\"segment\":\"%s\",\"signup\":\"2023-%02d-%02d\",\"score\":%d.%02d}\n",
			u, u, substr("abcdefgh", 1 + u % 8, 1), 1 + u % 12, 1 + u % 28, u % 1000, u % 100
}' >"$users"

cache=${WEIR_CACHE:-$top/.cache}/duckdb
if [ ! -d "$cache/node_modules/@duckdb/node-api" ]; then
	mkdir -p "$cache"
	(cd "$cache" && npm install --silent --no-audit --no-fund @duckdb/node-api >/dev/null 2>&1)
fi
export NODE_PATH=$cache/node_modules DUCKDB_THREADS=2
duck() { timed nice node "$top/tests/duckdb-query.js" "$1"; }
set -- $(timed nice node -e 'require("@duckdb/node-api")')
node_start=$1

ratio() {
	awk -v w="$1" -v d="$2" -v cw="$3" -v cd="$4" 'BEGIN {
		printf "  weir/DuckDB time: wall %.2fx, cpu %.2fx (DuckDB/weir wall %.2fx)\n", w / d, cw / cd, d / w }'
}

echo "events: $n ($(du -m "$ev" | cut -f1) MB NDJSON), dimension: 100000 users; DuckDB threads=2, node start ${node_start}s wall"
echo

set -- $(timed nice "$bin/weir-join" --right "$users" --on user_id <"$ev")
wj=$1 cj=$2 rj=$3
rows=$(wc -l <"$out/last")
set -- $(duck "COPY (SELECT * FROM read_ndjson('$ev') e JOIN read_ndjson('$users') u USING (user_id))
	TO '$out/duck-join.json' (FORMAT json)")
dj=$1 cdj=$2
drows=$(wc -l <"$out/duck-join.json")
echo "enrich (inner join with the dimension; $rows rows, DuckDB $drows):"
echo "  weir-join  wall ${wj}s  cpu ${cj}s  peak RSS $((rj / 1024)) MB"
echo "  DuckDB     wall ${dj}s  cpu ${cdj}s"
ratio "$wj" "$dj" "$cj" "$cdj"
echo

set -- $(timed nice "$bin/weir-dedup" --key event_id "$ev")
wd=$1 cd=$2 rd=$3
rows=$(wc -l <"$out/last")
set -- $(timed nice "$bin/weir-dedup" --key event_id --within 10m --time ts "$ev")
wd2=$1 cd2=$2
rows2=$(wc -l <"$out/last")
set -- $(duck "COPY (SELECT DISTINCT ON (event_id) * FROM read_ndjson('$ev')) TO '$out/duck-dedup.json' (FORMAT json)")
dd=$1 cdd=$2
drows=$(wc -l <"$out/duck-dedup.json")
echo "dedup (10% duplicates; $rows rows kept, within 10m $rows2, DuckDB $drows):"
echo "  weir-dedup --key event_id               wall ${wd}s  cpu ${cd}s  peak RSS $((rd / 1024)) MB"
echo "  weir-dedup --key event_id --within 10m  wall ${wd2}s  cpu ${cd2}s"
echo "  DuckDB DISTINCT ON                      wall ${dd}s  cpu ${cdd}s"
ratio "$wd" "$dd" "$cd" "$cdd"
echo

# Memory: 1000 events per second of event time, so 2M events are 33 minutes
# and 10M are 2.8 hours, both far past the 20 minutes (--within 10m plus the
# same delay) a key is held.
echo "memory, 10-minute bounds, events streamed from the generator:"
for m in 2000000 10000000; do
	set -- $(timed sh -c "sh '$top/scripts/gen-events' -n $m --rate 1000 --users 100000 --dup 0.1 |
		nice '$bin/weir-dedup' --key event_id --within 10m --time ts --stats 2>'$out/stats' >/dev/null")
	echo "  dedup $m events: wall ${1}s, peak RSS $(($3 / 1024)) MB; $(sed 's/.*stats: //' "$out/stats")"
done
for m in 1000000 5000000; do
	rm -f "$out/l.fifo" "$out/r.fifo"
	mkfifo "$out/l.fifo" "$out/r.fifo"
	gen -n $m --rate 500 --users 1000000 --seed 1 >"$out/l.fifo" &
	gen -n $m --rate 500 --users 1000000 --seed 2 >"$out/r.fifo" &
	set -- $(timed sh -c "nice '$bin/weir-join' --left-stream '$out/l.fifo' --right-stream '$out/r.fifo' \
		--on user_id --between 'r.ts - 10m AND r.ts' --delay 10s --max-drift 1m --stats 2>'$out/stats'")
	wait
	echo "  join 2x$m events (range 10m, delay 10s, max drift 1m): wall ${1}s, peak RSS $(($3 / 1024)) MB;" \
		"$(wc -l <"$out/last") pairs; $(sed 's/.*stats: //' "$out/stats")"
done
rm -f "$out/l.fifo" "$out/r.fifo"
