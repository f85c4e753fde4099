#!/bin/bash
# tests/crash/harness.sh - the exactly-once promise of weir(7), tested the
# hard way: kill a stage of a real pipeline with SIGKILL at random moments,
# rerun the same command line each time, and compare the Delta table it ends
# with against the same computation done in one batch run that never saw
# Kafka, barriers or kills.
#
#   weir-ingest -C --ordered --checkpoint-interval ... --resume-from gold
#    | weir-parse | weir-dedup --state | weir-window --state
#    | weir-lake-write gold --app-id gold
#
# or, with --lake, a table-to-table chain that starts at a bronze Delta
# table written first in small commits:
#
#   weir-lake-cat --changes-since 0 --checkpoint-interval ... --end-of-stream
#      --resume-from silver bronze
#    | weir-window --state | weir-lake-write silver --app-id silver
#
# A round starts from an empty table and state and is killed again and
# again until one run reaches the end of the topic (or of bronze's log)
# unkilled; its table must then equal the batch result row for row
# (sorted), with no row twice and none missing, and the late-record files
# of weir-dedup and weir-window (--late) the batch run's byte for byte.
# Rounds repeat until the number of kills is reached.
#
# usage: harness.sh [-n EVENTS] [-k KILLS] [-p PARTITIONS] [-s SEED] [--lake]
#                   [--faults] [--disk-full] [--max-delay SECONDS] [--rtt MS] DIR
#   --faults   while runs go on, also take the broker down for a while,
#              inject request errors and add latency (weir-broker commands)
#   --disk-full  instead of kills, fill the disk of the table (and in every
#              other round of the state too) before a run, so that it fails
#              in the middle, then free it: a small tmpfs when it can be
#              mounted (root), else (or with CRASH_DISK=ulimit) a file size
#              limit (ulimit -f); -k counts these failures
#   --max-delay  kill at most this long after a start (default: the time an
#              uninterrupted run takes, measured first)
#   --rtt MS   the broker answers every request MS late, so that a small
#              topic takes long enough to be killed in the middle
#   --lake     the table-to-table chain: no broker (so no --faults or
#              --rtt, and -p does not apply); the events go into bronze 15
#              to a commit
#   --backfill the source is weir-ingest -B over dumps of the events (two
#              files and a tar.gz of two more) instead of the topic; no
#              broker either
# Prints what it did; exit 0 when every round's table was identical, 1 when
# one was not (the diff is in DIR), 2 on trouble.
set -u

events=200000 kills=20 parts=8 seed=$RANDOM faults=0 diskfull=0 max_delay= rtt=0 lake=0 backfill=0
while [ $# -gt 1 ]; do
	case $1 in
	-n) events=$2; shift 2 ;;
	-k) kills=$2; shift 2 ;;
	-p) parts=$2; shift 2 ;;
	-s) seed=$2; shift 2 ;;
	--faults) faults=1; shift ;;
	--disk-full) diskfull=1; shift ;;
	--max-delay) max_delay=$2; shift 2 ;;
	--rtt) rtt=$2; shift 2 ;;
	--lake) lake=1; shift ;;
	--backfill) backfill=1; shift ;;
	*) echo "harness.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[ $# -eq 1 ] || { echo "usage: harness.sh [-n EVENTS] [-k KILLS] [-p PARTITIONS] [-s SEED] [--lake | --backfill] [--faults] [--disk-full] [--max-delay S] [--rtt MS] DIR" >&2; exit 2; }
[ "$lake$backfill" = 00 ] || [ "$faults$rtt" = 00 ] || { echo "harness.sh: --lake and --backfill have no broker for --faults or --rtt" >&2; exit 2; }
[ "$lake$backfill" != 11 ] || { echo "harness.sh: --lake or --backfill, not both" >&2; exit 2; }
dir=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
RANDOM=$seed
mkdir -p "$dir" && cd "$dir" || exit 2
[ ! -d disk ] || ! mountpoint -q disk || umount disk
rm -rf lake state runs ref* late.* broker disk bronze dumps
mkdir -p runs broker

. "$here/gold.sh"
# --no-flush in the batch run: a pipeline that stops at the end of the topic
# (-e) leaves the windows the watermark has not closed in its snapshot for
# the next run, as Spark's Trigger.AvailableNow does; they are not in its table
window_opts=(--tumble 10s --time ts --delay 30s --by device --agg "$AGG")
# the table the pipeline writes
sink=gold
[ "$lake" = 0 ] || sink=silver
# the mock answers an empty fetch only after fetch.wait.max.ms: keep the end
# of each -e run short
printf 'fetch.wait.max.ms=20\n' >kafka.properties
# back quickly when the broker returns (--faults); the default backoff
# grows to 10 s
printf 'reconnect.backoff.max.ms=500\n' >>kafka.properties
export WEIR_KAFKA_CONFIG=$PWD/kafka.properties

say() { printf '%s\n' "$*"; }
trouble() { say "harness: $*" >&2; cleanup; exit 2; }

# ---- the broker, driven through a FIFO ----
broker_pid=
cleanup() {
	[ "$diskfull" != 1 ] || ! mountpoint -q disk 2>/dev/null || umount disk
	[ -n "$broker_pid" ] || return 0
	echo quit >&7 2>/dev/null
	exec 7>&-
	kill "$broker_pid" 2>/dev/null
	wait "$broker_pid" 2>/dev/null
	broker_pid=
}
trap 'cleanup' EXIT

# ---- the source ----
# --lake: the events, typed, in small commits of a bronze table; its first
# version holds no rows, since the pipeline reads --changes-since 0
if [ "$lake" = 1 ]; then
	"$top/scripts/gen-events" -n "$events" --rate "$(( events / 400 + 1 ))" --users 2000 --dup 0.03 --late 0.02 \
		--lateness 120 >events.ndjson || trouble "gen-events failed"
	weir-lake-write -s "$EVENT" bronze </dev/null &&
		weir-parse -q --schema "$EVENT" --dlq /dev/null --framed <events.ndjson |
		weir-lake-write --max-rows 15 bronze >/dev/null || trouble "writing bronze failed"
	end_offsets="bronze at version $(weir-lake-cat --describe bronze | jq .version)"
	input="$events events in bronze, a table-to-table chain"
else
	# ---- the events: duplicates, late and broken ones, keyed by user ----
	# about 7 minutes of event time whatever the count
	"$top/scripts/gen-events" -n "$events" --rate "$(( events / 400 + 1 ))" --users 2000 --dup 0.03 --late 0.02 --lateness 120 \
		--bad 0.002 --envelope ev --partitions "$parts" >events.ndjson || trouble "gen-events failed"
fi
if [ "$backfill" = 1 ]; then
	# the topic's dumps as a cron job archives them: envelopes, in four
	# pieces, the last two in one tar.gz, read in the order given
	mkdir dumps
	split -n l/4 -d events.ndjson dumps/part || trouble "split failed"
	tar czf dumps/late.tgz -C dumps part02 part03 || trouble "tar failed"
	dumps=(dumps/part00 dumps/part01 dumps/late.tgz)
	end_offsets="dumps of $(wc -l <events.ndjson) lines"
	input="$events events in dumps read by weir-ingest -B"
elif [ "$lake" = 0 ]; then
	mkfifo broker/ctl
	weir-broker --topic "ev:$parts" <broker/ctl >broker/out 2>broker/err &
	broker_pid=$!
	exec 7>broker/ctl
	for _ in $(seq 200); do [ -s broker/out ] && break; sleep 0.05; done
	B=$(head -n 1 broker/out)
	[ -n "$B" ] || trouble "weir-broker did not start: $(cat broker/err)"
	# one command, answered by one line
	bcmd() {
		local before
		before=$(wc -l <broker/out)
		echo "$*" >&7
		for _ in $(seq 200); do [ "$(wc -l <broker/out)" -gt "$before" ] && return 0; sleep 0.02; done
		return 1
	}
	# lz4 batches keep every partition under the mock's ~5 MiB retention cap
	weir-ingest -P -b "$B" -z lz4 -X batch.num.messages=100 events.ndjson || trouble "producing failed"
	low=$(weir-ingest -Q -b "$B" -t ev:beginning | awk '{ s += $4 } END { print s }')
	[ "$low" = 0 ] || trouble "the broker dropped records (log start offsets sum to $low): fewer events or more partitions"
	end_offsets="end offsets $(weir-ingest -Q -b "$B" -t ev:end | awk '{ printf "%s%s:%s", n++ ? "," : "", $2, $4 }')"
	[ "$rtt" = 0 ] || bcmd rtt all "$rtt" || trouble "the broker did not take 'rtt all $rtt'"
	input="$events events on $parts partitions, broker $B$([ "$faults" = 1 ] && echo ", with broker faults")"
fi

# ---- the batch run: no Kafka, no barriers, no kills ----
# The order weir-ingest --ordered reads the topic in: partitions merged by
# timestamp, ties to the lower partition, each partition in offset order.
merge_order() {
	awk '{
		match($0, /"partition":[0-9]+/); p = substr($0, RSTART + 12, RLENGTH - 12) + 0
		match($0, /"timestamp":-?[0-9]+/); t = substr($0, RSTART + 12, RLENGTH - 12) + 0
		n[p]++; line[p, n[p]] = $0; ts[p, n[p]] = t; if (p > maxp) maxp = p
	}
	END {
		for (p = 0; p <= maxp; p++) i[p] = 1
		for (;;) {
			best = -1
			for (p = 0; p <= maxp; p++)
				if (i[p] <= n[p] && (best < 0 || ts[p, i[p]] < bt)) { best = p; bt = ts[p, i[p]] }
			if (best < 0) break
			print line[best, i[best]]; i[best]++
		}
	}' "$@"
}
# --lake: bronze's rows in commit order, and the windows flushed at the
# end, as --end-of-stream does.
if [ "$lake" = 1 ]; then
	weir-lake-cat --changes-since 0 bronze |
		weir-window "${window_opts[@]}" --late ref.late.window --framed |
		weir-lake-write --schema "$GOLD" ref >/dev/null 2>ref.err
else
	if [ "$backfill" = 1 ]; then cat events.ndjson; else merge_order events.ndjson; fi |
		weir-parse -q --schema "$EVENT" --dlq /dev/null --framed |
		weir-dedup --key event_id --within 10m --time ts --late ref.late.dedup --framed |
		weir-window "${window_opts[@]}" --no-flush --late ref.late.window --framed |
		weir-lake-write --schema "$GOLD" ref >/dev/null 2>ref.err
fi || trouble "the batch run failed: $(cat ref.err)"
weir-lake-cat ref | sort >ref.rows
[ -s ref.rows ] || trouble "the batch run wrote no rows"

# ---- the pipeline, one command line for every run ----
# Each stage records its pid and exit status under runs/N/.
stage() {
	local name=$1
	shift
	"$@" <&0 2>"$run/err.$name" &
	local pid=$!
	echo "$pid" >"$run/pid.$name"
	wait "$pid"
	echo $? >"$run/status.$name"
}
pipeline() {
	ulimit -f "$fsize"
	if [ "$lake" = 1 ]; then
		stage cat weir-lake-cat --changes-since 0 --checkpoint-interval 100 --end-of-stream \
			--resume-from lake/silver --app-id silver --framed bronze |
			stage window weir-window "${window_opts[@]}" --state state/window --late "$late_window" --framed |
			stage write weir-lake-write --schema "$GOLD" lake/silver --app-id silver >/dev/null
		return
	fi
	if [ "$backfill" = 1 ]; then
		stage ingest weir-ingest -B --checkpoint-interval 100 --resume-from lake/gold --app-id gold "${dumps[@]}"
	else
		stage ingest weir-ingest -C -b "$B" -t ev -e --ordered --checkpoint-interval 100ms \
			--resume-from lake/gold --app-id gold
	fi |
		stage parse weir-parse -q --schema "$EVENT" --dlq "$dlq" --framed |
		stage dedup weir-dedup --key event_id --within 10m --time ts --state state/dedup --late "$late_dedup" --framed |
		stage window weir-window "${window_opts[@]}" --state state/window --late "$late_window" --framed |
		stage write weir-lake-write --schema "$GOLD" lake/gold --app-id gold >/dev/null
}
STAGES=(ingest parse dedup window write)
[ "$lake" = 0 ] || STAGES=(cat window write)
# dead letters are at-least-once (weir(7)); a file size limit would stop
# weir-parse on them before the table or the state see a full disk
dlq=dead.ndjson
[ "$diskfull" = 1 ] && dlq=/dev/null
# late records are exactly-once (a restore cuts their files back); with a
# full disk they go to a device, as dead letters do
late_dedup=late.dedup late_window=late.window
[ "$diskfull" = 1 ] && late_dedup=/dev/null late_window=/dev/null
# the late records of the round match the batch run's
late_same() {
	[ "$diskfull" = 1 ] && return 0
	local f
	for f in "${LATE[@]}"; do
		cmp -s "ref.late.$f" "late.$f" || return 1
	done
}
LATE=(dedup window)
[ "$lake" = 0 ] || LATE=(window)

alive() {
	local s
	for s in "${STAGES[@]}"; do
		[ -f "$run/pid.$s" ] && [ ! -f "$run/status.$s" ] && return 0
	done
	return 1
}

# the barrier the table has committed, - before it exists
committed() {
	local b
	b=$(weir-lake-cat --history --limit 1 lake/$sink 2>/dev/null | grep -o '"barrier":[0-9]*' | cut -d: -f2)
	echo "${b:--}"
}

# Random broker trouble while a run goes on, undone before the next run.
fault_pid=
faults_start() {
	[ "$faults" = 1 ] || return 0
	(
		RANDOM=$(( seed + nrun ))
		sleep "0.$(( RANDOM % 4 ))"
		while :; do
			local f d
			case $(( RANDOM % 4 )) in
			0) d=$(( RANDOM % 2 )).$(( RANDOM % 10 + 1 ))
			   f="down all for $d s"; bcmd down all; sleep "$d"; bcmd up all ;;
			1) f="err Fetch $(( RANDOM % 5 + 1 )) _TRANSPORT"; bcmd "$f" ;;
			2) f="err ListOffsets 1 NOT_LEADER_FOR_PARTITION"; bcmd "$f" ;;
			3) f="rtt all $(( RANDOM % 200 + 20 ))"; bcmd "$f"; sleep 1; bcmd rtt all "$rtt"; f="$f for 1 s" ;;
			esac
			echo "$f" >>"$run/faults"
			sleep "$(( RANDOM % 2 )).$(( RANDOM % 10 + 1 ))"
		done
	) &
	fault_pid=$!
}
faults_stop() {
	[ -n "$fault_pid" ] || return 0
	kill "$fault_pid" 2>/dev/null
	wait "$fault_pid" 2>/dev/null
	fault_pid=
	bcmd up all
	bcmd rtt all "$rtt"
	bcmd clearerr Fetch
	bcmd clearerr ListOffsets
}

# Messages no run may print, killed or not: a stage that cannot restore,
# resume or commit has broken the promise.
BAD='corrupt|no state snapshot|cannot restore|cannot resume|internal error|AddressSanitizer|runtime error|LeakSanitizer|other options'

# ---- a disk that fills up ----
# lake/ and state/ live on disk/: a 32 MiB tmpfs, filled to a few KiB before
# a run; without the rights to mount one, a file size limit instead.
fsize=unlimited
if [ "$diskfull" = 1 ]; then
	mkdir disk
	if [ "${CRASH_DISK:-}" != ulimit ] && mount -t tmpfs -o size=32m weir-crash disk 2>/dev/null; then
		diskmode=tmpfs
	else
		diskmode=ulimit
	fi
fi
# Fill the disk but `free` bytes (tmpfs), or limit files to `free` bytes.
disk_fill() {
	local free=$1
	if [ "$diskmode" = tmpfs ]; then
		local avail
		avail=$(df -B1 --output=avail disk | tail -n 1)
		[ "$avail" -le "$free" ] || fallocate -l "$((avail - free))" disk/filler
	else
		fsize=$(( free / 1024 + 1 ))
	fi
}
disk_free() {
	rm -f disk/filler
	fsize=unlimited
}
# table (and state) on the small disk, from the start of a round
disk_layout() {
	rm -rf disk/lake disk/state lake state
	mkdir -p disk/lake disk/state state
	ln -s disk/lake lake
	if [ $(( nround % 2 )) = 0 ]; then
		rmdir state
		ln -s disk/state state
	fi
}

nkill=0 nrun=0 nround=0 failed=0 nfull_write=0 nfull_state=0
say "harness: $input, seed $seed$([ "$diskfull" = 1 ] && echo ", disk full by $diskmode")"
say "harness: batch run: $(wc -l <ref.rows) rows"

# A run that never crashed, timed: kills strike anywhere within that time.
nrun=1 run=runs/1
mkdir -p "$run"
t0=$(date +%s.%N)
pipeline
t1=$(date +%s.%N)
weir-lake-cat lake/$sink | sort >gold.rows
if cmp -s gold.rows ref.rows && late_same; then
	say "harness: an uninterrupted run: identical, in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
else
	say "harness: an uninterrupted run: DIFFERENT from the batch run; diff in $dir/uninterrupted.diff"
	diff ref.rows gold.rows >uninterrupted.diff
	failed=1
fi
[ -n "$max_delay" ] || max_delay=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
while [ "$nkill" -lt "$kills" ]; do
	nround=$((nround + 1))
	rm -rf lake state dead.ndjson late.*
	[ "$diskfull" = 1 ] && disk_layout
	progress= round_runs=0
	while :; do
		round_runs=$((round_runs + 1))
		if [ "$round_runs" -gt $(( 50 + 5 * kills )) ]; then
			say "harness: round $nround: no clean end after $round_runs runs"
			failed=1
			break
		fi
		nrun=$((nrun + 1))
		run=runs/$nrun
		mkdir -p "$run"
		faults_start
		full=
		if [ "$diskfull" = 1 ] && [ "$nkill" -lt "$kills" ]; then
			# the first run of a round surely fills it up, later ones may
			if [ -z "$progress" ]; then
				full=$(( RANDOM % 8 * 1024 ))
			elif [ $(( RANDOM % 4 )) != 0 ]; then
				full=$(( RANDOM % 48 * 1024 ))
			fi
			[ -z "$full" ] || disk_fill "$full"
		fi
		pipeline &
		ppid=$!
		# a moment anywhere from the start-up to the end of a run
		delay=$(awk -v r="$RANDOM" -v m="$max_delay" 'BEGIN { printf "%.3f", 0.02 + (r / 32767) * m }')
		[ "$diskfull" = 1 ] || sleep "$delay"
		killed=
		# with faults, half the runs are left to the faults alone
		if [ "$diskfull" != 1 ] && { [ "$faults" != 1 ] || [ $(( RANDOM % 2 )) = 0 ]; } && alive; then
			victim=$(( RANDOM % (${#STAGES[@]} + 1) ))
			if [ "$victim" -eq "${#STAGES[@]}" ]; then
				killed=all # the machine went down: every stage at once
				for s in "${STAGES[@]}"; do
					[ -f "$run/pid.$s" ] && kill -9 "$(cat "$run/pid.$s")" 2>/dev/null
				done
			else
				s=${STAGES[$victim]}
				[ -f "$run/pid.$s" ] && kill -9 "$(cat "$run/pid.$s")" 2>/dev/null && killed=$s
			fi
		fi
		# the others end on their own: end of input or a closed pipe
		# (with faults, a run may take a while to reach the end)
		for _ in $(seq $(( faults == 1 ? 1800 : 600 ))); do alive || break; sleep 0.05; done
		if alive; then
			say "harness: run $nrun: stages still running $(( faults == 1 ? 90 : 30 )) s after ${killed:+the kill of }${killed:-the start}"
			failed=1
			for s in "${STAGES[@]}"; do
				[ -f "$run/pid.$s" ] && kill -9 "$(cat "$run/pid.$s")" 2>/dev/null
			done
		fi
		wait "$ppid" 2>/dev/null
		faults_stop
		if grep -E -H "$BAD" "$run"/err.* >&2; then
			say "harness: run $nrun: a stage reported trouble (above)"
			failed=1
		fi
		if [ -n "$full" ]; then
			disk_free
			# a run the full disk stopped counts as a kill
			if grep -q -E 'No space left on device|File too large' "$run/err.write"; then
				killed=disk nfull_write=$((nfull_write + 1))
			elif grep -q -E 'No space left on device|File too large' "$run"/err.*; then
				killed=disk nfull_state=$((nfull_state + 1))
			fi
		fi
		if [ -n "$killed" ]; then
			nkill=$((nkill + 1))
			progress="$progress $(committed)"
			continue
		fi
		# not killed: it ended by itself, at the end of the topic or by a
		# fault; only a clean end closes the round
		ok=1
		for s in "${STAGES[@]}"; do
			st=$(cat "$run/status.$s" 2>/dev/null || echo none)
			case $s:$st in
			parse:1|dedup:1) ;; # broken events counted (weir-parse, weir-dedup)
			*:0) ;;
			*) ok=0 ;;
			esac
		done
		[ "$ok" = 1 ] && break
		say "harness: run $nrun ended unkilled but not cleanly ($(for s in "${STAGES[@]}"; do printf '%s=%s ' "$s" "$(cat "$run/status.$s" 2>/dev/null)"; done)): again"
		[ "$faults" = 1 ] || [ -n "$full" ] || failed=1
	done
	# a rerun after the end changes nothing
	weir-lake-cat lake/$sink | sort >gold.rows
	nrun=$((nrun + 1)) run=runs/$nrun
	mkdir -p "$run"
	pipeline
	weir-lake-cat lake/$sink | sort >gold.again
	if ! cmp -s gold.rows gold.again; then
		say "harness: round $nround: a rerun after the end changed the table"
		failed=1
	fi
	dups=$(uniq -d gold.rows | wc -l)
	if ! late_same; then
		say "harness: round $nround: late records differ from the batch run's: $dir/late.*.round$nround"
		for f in "${LATE[@]}"; do cp "late.$f" "late.$f.round$nround"; done
		failed=1
	fi
	if cmp -s gold.rows ref.rows && [ "$dups" = 0 ]; then
		say "harness: round $nround: identical ($(wc -l <gold.rows) rows), barriers committed at the kills:${progress:- none}"
	else
		say "harness: round $nround: DIFFERENT from the batch run ($(wc -l <gold.rows) rows, $dups duplicated); diff in $dir/round$nround.diff"
		diff ref.rows gold.rows >"round$nround.diff"
		cp -r lake "lake.round$nround"
		failed=1
	fi
done
[ "$faults" = 1 ] && say "harness: $(cat runs/*/faults 2>/dev/null | wc -l) broker faults: $(cat runs/*/faults 2>/dev/null | cut -d' ' -f1-2 | sort | uniq -c | awk '{ printf "%s%s %s x%s", n++ ? ", " : "", $2, $3, $1 }')"
if [ "$diskfull" = 1 ]; then
	say "harness: $nkill runs stopped by a full disk ($nfull_write in weir-lake-write, $nfull_state in a snapshot) in $nrun runs over $nround rounds"
else
	say "harness: $nkill kills in $nrun runs over $nround rounds; $end_offsets"
fi
[ "$failed" = 0 ] && say "harness: every table identical to the batch run" && exit 0
exit 1
