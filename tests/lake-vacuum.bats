#!/usr/bin/env bats
# weir-lake-vacuum: vacuum, compaction, checkpoints and log cleanup.  Most
# tables here are written by hand (a few lines of JSON log and dummy data
# files: vacuum never reads data), so each test states exactly which version
# references what and how old everything is; a jq replay of the log, which
# shares no code with weir, checks that every retained version keeps its
# files.

load helper
bats_require_minimum_version 1.5.0

setup() {
	T=$BATS_TEST_TMPDIR/t
	mkdir -p "$T/_delta_log"
	NOW=$(($(date +%s) * 1000))
	HOUR=3600000
	DAY=86400000
	SCHEMA='{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},{\"name\":\"p\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}'
}

# commit V TIME_MS ACTION...: version V of $T, committed at TIME_MS
commit() {
	local v=$1 ts=$2
	shift 2
	{
		printf '{"commitInfo":{"timestamp":%s,"operation":"WRITE"}}\n' "$ts"
		printf '%s\n' "$@"
	} >"$T/_delta_log/$(printf %020d "$v").json"
}

# metadata [CONFIGURATION_JSON [PARTITION_COLUMNS_JSON]]: protocol + metaData actions
protocol() { echo '{"protocol":{"minReaderVersion":1,"minWriterVersion":2}}'; }
metadata() {
	printf '{"metaData":{"id":"6d2c0a4e-0000-4000-8000-000000000000","format":{"provider":"parquet","options":{}},"schemaString":"%s","partitionColumns":%s,"configuration":%s,"createdTime":%s}}' \
		"$SCHEMA" "${2:-[]}" "${1:-{\}}" "$NOW"
}
add() { printf '{"add":{"path":"%s","partitionValues":%s,"size":4,"modificationTime":%s,"dataChange":true}}' "$1" "${2:-{\}}" "$NOW"; }
remove() { printf '{"remove":{"path":"%s","deletionTimestamp":%s,"dataChange":true}}' "$1" "$2"; }
# data PATH AGE: a data file (4 bytes) last modified AGE ago ("10 days")
data() {
	mkdir -p "$(dirname "$T/$1")"
	printf 'PAR1' >"$T/$1"
	touch -d "$2 ago" "$T/$1"
}

# Paths live at version V, by a jq replay of the JSON commits 0..V.
live_at() {
	local i files=()
	for ((i = 0; i <= $1; i++)); do files+=("$T/_delta_log/$(printf %020d "$i").json"); done
	jq -rn 'reduce (inputs | select(.add or .remove)) as $a ({};
		if $a.add then .[$a.add.path] = 1 else del(.[$a.remove.path]) end) | keys[]' "${files[@]}"
}

# Every file of versions FROM..TO is still there.
versions_intact() {
	local v f
	for ((v = $1; v <= $2; v++)); do
		for f in $(live_at "$v"); do
			[ -f "$T/$f" ] || fail "version $v lost '$f'"
		done
	done
}

# The usual history: versions 10, 9 days and 1 hour old; the window (168 h)
# starts inside version 1.  Version 2 removes b.parquet with no
# deletionTimestamp (a writer bug Delta's tombstone rule alone would turn
# into a deleted file that version 1 still needs).
history() {
	commit 0 $((NOW - 10 * DAY)) "$(protocol)" "$(metadata "$@")" "$(add a.parquet)" "$(add b.parquet)" "$(add c.parquet)"
	commit 1 $((NOW - 9 * DAY)) "$(remove a.parquet $((NOW - 9 * DAY)))" "$(add d.parquet)"
	commit 2 $((NOW - HOUR)) '{"remove":{"path":"b.parquet","dataChange":true}}' "$(add e.parquet)"
	commit 3 $((NOW - HOUR)) "$(remove c.parquet $((NOW - HOUR)))"
	for f in a b c d e; do data $f.parquet "10 days"; done
	data orphan.parquet "10 days"
	data fresh.parquet "1 minute"
	data .hidden.parquet "10 days"
	data _tmp/staged.parquet "10 days"
	data _SUCCESS "10 days"
}

@test "synopsis matches the man page" {
	check_synopsis weir-lake-vacuum
}

@test "deletes only what no retained version references, and what is old enough" {
	history
	run weir-lake-vacuum --dry-run "$T"
	assert_success
	assert_output - <<-EOF
	4	a.parquet
	4	orphan.parquet
	vacuum: would delete 2 files (8 B), keep 5; retention 168h, versions 1 to 3
	EOF
	[ -f "$T/a.parquet" ] && [ -f "$T/orphan.parquet" ]

	run weir-lake-vacuum "$T"
	assert_success
	assert_output "vacuum: deleted 2 files (8 B) and 0 directories, kept 5; retention 168h, versions 1 to 3"
	[ ! -e "$T/a.parquet" ] && [ ! -e "$T/orphan.parquet" ]
	for f in b c d e fresh; do [ -f "$T/$f.parquet" ] || fail "$f.parquet was deleted"; done
	[ -f "$T/.hidden.parquet" ] && [ -f "$T/_tmp/staged.parquet" ] && [ -f "$T/_SUCCESS" ]
	versions_intact 1 3

	# nothing left to do: a rerun deletes nothing
	run weir-lake-vacuum "$T"
	assert_success
	assert_output "vacuum: deleted 0 files (0 B) and 0 directories, kept 5; retention 168h, versions 1 to 3"
}

@test "a shorter retention than the table's is refused without --force-retention" {
	history
	run weir-lake-vacuum --retain 1h "$T"
	[ "$status" -eq 2 ]
	assert_output "weir-lake-vacuum: retention 1h is shorter than the table's 168h: readers of older versions and writers still in flight could lose files (--force-retention to do it anyway)"
	[ -f "$T/a.parquet" ] && [ -f "$T/orphan.parquet" ]

	# forced to 2 hours: version 1 is still the one current at the cutoff
	run weir-lake-vacuum --retain 2h --force-retention "$T"
	assert_success
	assert_output "vacuum: deleted 2 files (8 B) and 0 directories, kept 5; retention 2h, versions 1 to 3"
	versions_intact 1 3
	# forced to 30 minutes: only version 3 is retained
	run weir-lake-vacuum --retain 30m --force-retention "$T"
	assert_success
	assert_output "vacuum: deleted 2 files (8 B) and 0 directories, kept 3; retention 30m, versions 3 to 3"
	for f in a b c orphan; do [ ! -e "$T/$f.parquet" ] || fail "$f.parquet was kept"; done
	[ -f "$T/fresh.parquet" ]
	versions_intact 3 3
}

@test "the table's deletedFileRetentionDuration is the default and the floor" {
	history '{"delta.deletedFileRetentionDuration":"interval 2 weeks"}'
	data orphan.parquet "20 days"
	run weir-lake-vacuum --json -n "$T"
	assert_success
	[ "$(jq -c '.vacuum | [.retention_hours, .oldest_retained_version, .files_to_delete]' <<<"$output")" = "[336,0,1]" ]
	run weir-lake-vacuum -n --retain 'interval 13 days' "$T"
	[ "$status" -eq 2 ]
	assert_output --partial "retention 312h is shorter than the table's 336h"
	run weir-lake-vacuum -n --retain '3 weeks' "$T"
	assert_success
	assert_output --partial "retention 504h"
}

@test "retention intervals: Delta's forms and weir durations; months and nonsense refused" {
	history
	for r in '7d' '168h' 'interval 1 week' 'interval 6 days 24 hours' '168 HOURS' '10080 minutes' 'interval 604800 seconds'; do
		run weir-lake-vacuum --json -n --retain "$r" "$T"
		assert_success
		[ "$(jq .vacuum.retention_hours <<<"$output")" = 168 ] || fail "'$r' is not 168 hours"
	done
	for r in 'interval 1 month' '1 year' 'interval' 'interval -1 days' 'seven days' '7 fortnights' ''; do
		run weir-lake-vacuum -n --retain "$r" "$T"
		[ "$status" -eq 2 ] || fail "'$r' was accepted"
		assert_output --partial "invalid retention: '$r'"
	done
	history '{"delta.deletedFileRetentionDuration":"interval 1 month"}'
	run weir-lake-vacuum -n "$T"
	[ "$status" -eq 2 ]
	assert_output "weir-lake-vacuum: table property delta.deletedFileRetentionDuration is not an interval: 'interval 1 month'"
}

@test "crafted paths in the log stop the run, naming the path, before anything is deleted" {
	mkdir -p "$BATS_TEST_TMPDIR/outside"
	echo secret >"$BATS_TEST_TMPDIR/outside/x.parquet"
	touch -d '10 days ago' "$BATS_TEST_TMPDIR/outside/x.parquet"
	data orphan.parquet "10 days"
	for p in '../outside/x.parquet' "$BATS_TEST_TMPDIR/outside/x.parquet" "file://$BATS_TEST_TMPDIR/outside/x.parquet" \
		'%2E%2E/outside/x.parquet' 'sub/%2e%2e/%2e%2e/outside/x.parquet' 'sub/..%2F..%2Foutside/x.parquet'; do
		for how in add remove; do
			if [ $how = add ]; then
				commit 0 $((NOW - 10 * DAY)) "$(protocol)" "$(metadata)" "$(add "$p")"
			else
				commit 0 $((NOW - 10 * DAY)) "$(protocol)" "$(metadata)" "$(add "$p")"
				commit 1 $((NOW - HOUR)) "$(remove "$p" $((NOW - HOUR)))"
			fi
			run weir-lake-vacuum --retain 0h --force-retention "$T"
			[ "$status" -eq 2 ] || fail "$how '$p': status $status"
			assert_output "weir-lake-vacuum: refusing table '$T': file path in the log is not a plain path inside the table: '$p'"
			rm -f "$T/_delta_log/"*.json
		done
	done
	[ "$(cat "$BATS_TEST_TMPDIR/outside/x.parquet")" = secret ]
	[ -f "$T/orphan.parquet" ]
}

@test "symbolic links leading out stop the run before anything is deleted; links inside are not followed" {
	history
	mkdir -p "$BATS_TEST_TMPDIR/outside/p=1"
	echo secret >"$BATS_TEST_TMPDIR/outside/p=1/x.parquet"
	touch -d '10 days ago' "$BATS_TEST_TMPDIR/outside/p=1/x.parquet"
	ln -s "$BATS_TEST_TMPDIR/outside/p=1" "$T/p=1"
	run weir-lake-vacuum "$T"
	[ "$status" -eq 2 ]
	assert_output - <<-EOF
	weir-lake-vacuum: symbolic link leads out of the table: 'p=1' -> '$BATS_TEST_TMPDIR/outside/p=1'
	weir-lake-vacuum: refusing to vacuum table '$T': it links outside itself (nothing was deleted)
	EOF
	rm "$T/p=1"
	mkdir "$T/p=2"
	ln -s ../../outside/p=1/x.parquet "$T/p=2/y.parquet"
	ln -s /nonexistent "$T/p=2/dangling.parquet"
	run weir-lake-vacuum "$T"
	[ "$status" -eq 2 ]
	[ ${#lines[@]} -eq 3 ]
	assert_line "weir-lake-vacuum: symbolic link does not resolve: 'p=2/dangling.parquet' -> '/nonexistent'"
	assert_line "weir-lake-vacuum: symbolic link leads out of the table: 'p=2/y.parquet' -> '../../outside/p=1/x.parquet'"
	assert_line -n 2 "weir-lake-vacuum: refusing to vacuum table '$T': it links outside itself (nothing was deleted)"
	[ -f "$T/a.parquet" ] && [ -f "$T/orphan.parquet" ]
	[ "$(cat "$BATS_TEST_TMPDIR/outside/p=1/x.parquet")" = secret ]

	# a link that stays inside is left alone, and so is its target
	rm -r "$T/p=2"
	ln -s a.parquet "$T/alias.parquet"
	run weir-lake-vacuum -v "$T"
	assert_success
	assert_line "weir-lake-vacuum: not following symbolic link 'alias.parquet' -> 'a.parquet'"
	[ -L "$T/alias.parquet" ]
}

@test "emptied partition directories go, unless they changed since the cutoff (a writer may be about to use them)" {
	SCHEMA='{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}},{\"name\":\"p\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}},{\"name\":\"_q\",\"type\":\"string\",\"nullable\":true,\"metadata\":{}}]}'
	commit 0 $((NOW - 10 * DAY)) "$(protocol)" "$(metadata '{}' '["p","_q"]')" \
		"$(add 'p=1/_q=x/a.parquet' '{"p":"1","_q":"x"}')" "$(add 'p=2/_q=x/b.parquet' '{"p":"2","_q":"x"}')"
	commit 1 $((NOW - 9 * DAY)) "$(remove 'p=1/_q=x/a.parquet' $((NOW - 9 * DAY)))"
	data 'p=1/_q=x/a.parquet' "10 days"
	printf crc >"$T/p=1/_q=x/.a.parquet.crc"
	data 'p=2/_q=x/b.parquet' "10 days"
	data 'p=2/_q=y/orphan.parquet' "10 days"
	mkdir -p "$T/p=3/_q=x" "$T/p=4"
	find "$T" -mindepth 1 -type d ! -name _delta_log -exec touch -d '10 days ago' {} +
	# a partition a writer has just made, and one that changed lately
	mkdir "$T/p=5"
	data 'p=6/old.parquet' "10 days"
	run weir-lake-vacuum -v "$T"
	assert_success
	assert_output - <<-EOF
	weir-lake-vacuum: removed 'p=1/_q=x/a.parquet'
	weir-lake-vacuum: removed 'p=2/_q=y/orphan.parquet'
	weir-lake-vacuum: removed 'p=6/old.parquet'
	weir-lake-vacuum: removed directory 'p=4'
	weir-lake-vacuum: removed directory 'p=3/_q=x'
	weir-lake-vacuum: removed directory 'p=3'
	weir-lake-vacuum: removed directory 'p=2/_q=y'
	weir-lake-vacuum: removed directory 'p=1/_q=x'
	weir-lake-vacuum: removed directory 'p=1'
	vacuum: deleted 3 files (15 B) and 6 directories, kept 1; retention 168h, versions 1 to 1
	EOF
	[ -f "$T/p=2/_q=x/b.parquet" ]
	[ ! -e "$T/p=1" ] && [ ! -e "$T/p=3" ] && [ ! -e "$T/p=4" ]
	[ -d "$T/p=5" ] && [ -d "$T/p=6" ]
	# once quiet for the whole window, the emptied one goes too
	touch -d '8 days ago' "$T/p=6"
	run weir-lake-vacuum "$T"
	assert_success
	assert_output "vacuum: deleted 0 files (0 B) and 1 directories, kept 1; retention 168h, versions 1 to 1"
	[ ! -e "$T/p=6" ] && [ -d "$T/p=5" ]
}

@test "--archive moves the files into a new tar.zst outside the table" {
	history
	cp -p "$T/a.parquet" "$BATS_TEST_TMPDIR/a.expected"
	run weir-lake-vacuum --archive "$BATS_TEST_TMPDIR/old.tar.zst" "$T"
	assert_success
	assert_output "vacuum: archived and deleted 2 files (8 B) and 0 directories, kept 5; retention 168h, versions 1 to 3"
	[ ! -e "$T/a.parquet" ] && [ ! -e "$T/orphan.parquet" ]
	run tar --zstd -tf "$BATS_TEST_TMPDIR/old.tar.zst"
	assert_success
	assert_output "a.parquet
orphan.parquet"
	mkdir "$BATS_TEST_TMPDIR/x"
	tar --zstd -xf "$BATS_TEST_TMPDIR/old.tar.zst" -C "$BATS_TEST_TMPDIR/x"
	cmp "$BATS_TEST_TMPDIR/x/a.parquet" "$BATS_TEST_TMPDIR/a.expected"
	[ "$(stat -c %Y "$BATS_TEST_TMPDIR/x/a.parquet")" = "$(stat -c %Y "$BATS_TEST_TMPDIR/a.expected")" ]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR" | grep '^\.old\.tar\.zst\.')" ] || fail "temporary archive left behind"

	run weir-lake-vacuum --archive "$BATS_TEST_TMPDIR/old.tar.zst" "$T"
	[ "$status" -eq 2 ]
	assert_output "weir-lake-vacuum: archive already exists: '$BATS_TEST_TMPDIR/old.tar.zst'"
	run weir-lake-vacuum --archive "$T/_old.tar.zst" "$T"
	[ "$status" -eq 2 ]
	assert_output "weir-lake-vacuum: archive must be outside the table: '$T/_old.tar.zst'"
	# nothing to vacuum: no archive made
	run weir-lake-vacuum --archive "$BATS_TEST_TMPDIR/none.tar.zst" "$T"
	assert_success
	[ ! -e "$BATS_TEST_TMPDIR/none.tar.zst" ]
}

@test "--json summary" {
	history
	run weir-lake-vacuum --json --dry-run "$T"
	assert_success
	[ "$(jq -c 'del(.vacuum.cutoff) | .table = "T"' <<<"$output")" = \
		'{"table":"T","dry_run":true,"vacuum":{"version":3,"retention_hours":168,"oldest_retained_version":1,"files_scanned":7,"bytes_scanned":28,"files_kept":5,"files_to_delete":2,"bytes_to_delete":8,"files":[{"path":"a.parquet","size":4},{"path":"orphan.parquet","size":4}]}}' ]
	run weir-lake-vacuum --json "$T"
	assert_success
	[ "$(jq -c '.vacuum | del(.cutoff)' <<<"$output")" = \
		'{"version":3,"retention_hours":168,"oldest_retained_version":1,"files_scanned":7,"bytes_scanned":28,"files_kept":5,"files_deleted":2,"bytes_freed":8,"dirs_removed":0,"failed":0,"archive":null}' ]
	cutoff=$(jq -r .vacuum.cutoff <<<"$output")
	[[ $cutoff == 20??-??-??T??:??:??.???000Z ]]
}

@test "progress only on a terminal; silent under cron but for the summary" {
	command -v script >/dev/null || skip "script(1) not installed"
	history
	run --separate-stderr weir-lake-vacuum -n "$T"
	assert_success
	[ -z "$stderr" ]
	run weir-lake-vacuum -q "$T"
	assert_success
	assert_output ""
	history
	run script -qec "weir-lake-vacuum -n '$T' 2>&1 >/dev/null" /dev/null
	assert_success
	[[ $output == $'\r'"weir-lake-vacuum: "*$'\r\e[K' ]] || fail "no progress on a terminal: $output"
}

@test "a table it cannot write is refused, naming the feature; nothing is deleted" {
	data orphan.parquet "10 days"
	commit 0 $((NOW - 10 * DAY)) '{"protocol":{"minReaderVersion":1,"minWriterVersion":7,"writerFeatures":["rowTracking"]}}' "$(metadata)"
	run weir-lake-vacuum "$T"
	[ "$status" -eq 2 ]
	assert_output "weir-lake-vacuum: refusing to vacuum table '$T': table requires writer feature 'rowTracking', which weir does not implement"
	[ -f "$T/orphan.parquet" ]
	run weir-lake-vacuum "$BATS_TEST_TMPDIR/none"
	[ "$status" -eq 2 ]
	mkdir "$BATS_TEST_TMPDIR/empty"
	run weir-lake-vacuum "$BATS_TEST_TMPDIR/empty"
	[ "$status" -eq 2 ]
	assert_output --partial "is not a Delta table"
}

@test "usage errors" {
	run weir-lake-vacuum
	[ "$status" -eq 2 ]
	assert_line "weir-lake-vacuum: missing TABLE"
	run weir-lake-vacuum a b
	[ "$status" -eq 2 ]
	run weir-lake-vacuum --where 'p = 1' "$T"
	[ "$status" -eq 2 ]
	assert_line "weir-lake-vacuum: --target-size and --where go with --optimize"
	run weir-lake-vacuum --checkpoint --archive x.tar.zst "$T"
	[ "$status" -eq 2 ]
	run weir-lake-vacuum --log-retention 1d "$T"
	[ "$status" -eq 2 ]
	run weir-lake-vacuum --optimize --target-size 12Q "$T"
	[ "$status" -eq 2 ]
}

@test "kill -9 in the middle leaves a valid table; a rerun finishes the job" {
	commit 0 $((NOW - 10 * DAY)) "$(protocol)" "$(metadata)" "$(add keep.parquet)"
	data keep.parquet "10 days"
	midway=
	for attempt in 1 2 3 4 5; do
		mkdir -p "$T/o"
		(cd "$T/o" && seq -f 'f%g.parquet' 1 3000 | xargs touch -d '10 days ago')
		weir-lake-vacuum "$T" >/dev/null 2>&1 &
		pid=$!
		# kill it as soon as the first file is gone
		while [ "$(ls "$T/o" 2>/dev/null | wc -l)" -ge 3000 ] && kill -0 $pid 2>/dev/null; do :; done
		kill -9 $pid 2>/dev/null || true
		wait $pid || true
		left=$(ls "$T/o" 2>/dev/null | wc -l)
		[ -f "$T/keep.parquet" ]
		run weir-lake-vacuum --dry-run --json "$T"
		assert_success
		[ "$(jq .vacuum.files_to_delete <<<"$output")" -eq "$left" ]
		if [ "$left" -gt 0 ] && [ "$left" -lt 3000 ]; then
			midway=$left
			break
		fi
	done
	[ -n "$midway" ] || fail "vacuum was never caught in the middle"
	run weir-lake-vacuum "$T"
	assert_success
	assert_output "vacuum: deleted $midway files (0 B) and 0 directories, kept 1; retention 168h, versions 0 to 0"
	[ -z "$(ls -A "$T/o")" ]
	[ -f "$T/keep.parquet" ]
}

# old_commits FIRST LAST [CONFIGURATION_JSON]: versions FIRST..LAST, 40 days
# old, each adding fV.parquet
old_commits() {
	local v
	for ((v = $1; v <= $2; v++)); do
		if [ "$v" = 0 ]; then
			commit 0 $((NOW - 40 * DAY)) "$(protocol)" "$(metadata "${3:-}")" "$(add f0.parquet)"
		else
			commit "$v" $((NOW - 40 * DAY)) "$(add "f$v.parquet")"
		fi
		data "f$v.parquet" "40 days"
	done
}

@test "log cleanup deletes only behind a complete checkpoint at or before the cutoff" {
	old_commits 0 5
	run weir-lake-vacuum --checkpoint "$T"
	assert_success
	assert_output "checkpoint: version 5"
	old_commits 6 7
	commit 8 $((NOW - HOUR)) "$(remove f1.parquet $((NOW - HOUR)))"
	# an incomplete multi-part checkpoint is no checkpoint
	printf x >"$T/_delta_log/00000000000000000007.checkpoint.0000000001.0000000002.parquet"
	mkdir -p "$T/_delta_log/.tmp"
	touch -d '40 days ago' "$T/_delta_log/.tmp/abandoned.json"
	touch "$T/_delta_log/.tmp/in-flight.json"
	before=$(weir-lake-vacuum -n --retain 0 --force-retention "$T")

	run weir-lake-vacuum --log-cleanup --dry-run "$T"
	assert_success
	assert_output - <<-EOF
	_delta_log/00000000000000000000.json
	_delta_log/00000000000000000001.json
	_delta_log/00000000000000000002.json
	_delta_log/00000000000000000003.json
	_delta_log/00000000000000000004.json
	_delta_log/.tmp/abandoned.json
	log-cleanup: would delete 5 log files before checkpoint 5 and 1 stale temporary files
	EOF
	[ -f "$T/_delta_log/00000000000000000000.json" ]

	run weir-lake-vacuum --log-cleanup "$T"
	assert_success
	assert_output "log-cleanup: deleted 5 log files before checkpoint 5 and 1 stale temporary files"
	run ls -A "$T/_delta_log" "$T/_delta_log/.tmp"
	assert_output - <<-EOF
	$T/_delta_log:
	.tmp
	00000000000000000005.checkpoint.parquet
	00000000000000000005.json
	00000000000000000006.json
	00000000000000000007.checkpoint.0000000001.0000000002.parquet
	00000000000000000007.json
	00000000000000000008.json
	_last_checkpoint

	$T/_delta_log/.tmp:
	in-flight.json
	EOF
	# the table reads the same
	[ "$(weir-lake-vacuum -n --retain 0 --force-retention "$T")" = "$before" ]
	run weir-lake-vacuum --log-cleanup --json "$T"
	assert_success
	[ "$(jq -c '.log_cleanup | del(.cutoff)' <<<"$output")" = '{"checkpoint":5,"files_deleted":0,"temporaries":0,"failed":0,"disabled":false}' ]
}

@test "log cleanup without a checkpoint old enough deletes nothing" {
	old_commits 0 5
	commit 6 $((NOW - HOUR)) "$(add f6.parquet)"
	run weir-lake-vacuum --checkpoint --log-cleanup "$T"
	assert_success
	assert_line -n 0 "checkpoint: version 6"
	assert_line -n 1 --regexp "^log-cleanup: no checkpoint at or before 20..-..-..T00:00:00.000000Z, no log entry deleted; deleted 0 stale temporary files$"
	[ "$(ls "$T/_delta_log" | grep -c 'json$')" -eq 7 ]
}

@test "log retention: the table's property, the floor, and enableExpiredLogCleanup=false" {
	old_commits 0 5 '{"delta.logRetentionDuration":"interval 60 days"}'
	run weir-lake-vacuum --checkpoint --log-cleanup "$T"
	assert_success
	assert_line -n 1 --partial "log-cleanup: no checkpoint at or before"
	run weir-lake-vacuum --log-cleanup --log-retention 10d "$T"
	[ "$status" -eq 2 ]
	assert_output "weir-lake-vacuum: log retention 240h is shorter than the table's 1440h: time travel would end sooner than promised (--force-retention to do it anyway)"
	run weir-lake-vacuum --log-cleanup --log-retention 10d --force-retention "$T"
	assert_success
	assert_output "log-cleanup: deleted 5 log files before checkpoint 5 and 0 stale temporary files"

	rm -r "$T"
	mkdir -p "$T/_delta_log"
	old_commits 0 5 '{"delta.enableExpiredLogCleanup":"false"}'
	run weir-lake-vacuum --checkpoint --log-cleanup "$T"
	assert_success
	assert_line -n 1 "log-cleanup: disabled by the table (delta.enableExpiredLogCleanup=false)"
	[ -f "$T/_delta_log/00000000000000000000.json" ]
}

# ---- tables written by weir-lake-write, read back by DuckDB ----

# rows (id, s) of table $1 at version $2 (default: the newest), as DuckDB
# reads the files the independent replay (tests/delta-replay.js) lists
rows_at() {
	local list
	list=$(node "$TOP/tests/delta-replay.js" "$1" ${2:+"$2"} | jq -r '.files[].path' | sed "s/'/''/g; s/.*/'&'/" | paste -sd,)
	[ -n "$list" ] || return 0
	duckdb_query "SELECT id, s FROM read_parquet([$list]) ORDER BY id"
}

# rows FIRST LAST: NDJSON records id FIRST..LAST in partitions a, b, c
rows() {
	seq "$1" "$2" | awk '{ printf "{\"id\":%d,\"p\":\"%s\",\"s\":\"x%d\"}\n", $1, substr("abc", $1 % 3 + 1, 1), $1 }'
}

write() { # write [lake-write options...] <records
	weir-lake-write -s 'id BIGINT NOT NULL, p STRING, s STRING' -p p "$@" "$T"
}

@test "--optimize bin-packs small files per partition, dataChange=false, same rows" {
	duckdb_ready
	rm -r "$T"
	rows 1 600 | write --max-rows 50
	rows_at "$T" >"$BATS_TEST_TMPDIR/before"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/before")" -eq 600 ]

	# bins stay under the target
	run weir-lake-vacuum --optimize --dry-run --target-size 4k "$T"
	assert_success
	echo "$output" | awk -F'\t' 'NF == 3 { if ($1 > 4096 || $2 + 0 < 2) exit 1; n++ } END { exit n < 3 }' ||
		fail "bins do not fit: $output"
	[ "$(ls "$T/_delta_log" | grep -c 'json$')" -eq 12 ]

	run weir-lake-vacuum --optimize --where "p = 'a'" --json "$T"
	assert_success
	[ "$(jq -c '.optimize | [.read_version, .version, .files_removed, .files_added, .partitions, .committed]' <<<"$output")" = '[11,12,12,1,1,true]' ]
	run weir-lake-vacuum --optimize --json "$T"
	assert_success
	[ "$(jq -c '.optimize | [.read_version, .version, .files_removed, .files_added, .partitions, .committed]' <<<"$output")" = '[12,13,24,2,2,true]' ]
	run weir-lake-vacuum --optimize --dry-run "$T"
	assert_success
	assert_output "optimize: nothing to compact at version 13"
	run jq -c 'select(.add or .remove) | (.add // .remove).dataChange' "$T/_delta_log/00000000000000000013.json"
	[ "$(sort -u <<<"$output")" = false ]
	[ "$(jq -r 'select(.commitInfo) | .commitInfo.operation' "$T/_delta_log/00000000000000000013.json")" = OPTIMIZE ]
	[ "$(node "$TOP/tests/delta-replay.js" "$T" | jq '.files | length')" -eq 3 ]
	rows_at "$T" | diff - "$BATS_TEST_TMPDIR/before"

	# streaming readers skip the compactions: no rows "added" since 11
	run weir-lake-cat --changes-since 11 "$T"
	assert_success
	assert_output ""

	run weir-lake-vacuum --optimize "$T"
	assert_success
	assert_output "optimize: nothing to compact at version 13"
	run weir-lake-vacuum --optimize --where "s = 'x1'" "$T"
	[ "$status" -eq 2 ]
	assert_output --partial "invalid --where 's = 'x1''"

	# the compacted files go at the next vacuum past the window
	run weir-lake-vacuum --retain 0h --force-retention "$T"
	assert_success
	assert_output --regexp "^vacuum: deleted 36 files "
	rows_at "$T" | diff - "$BATS_TEST_TMPDIR/before"
}

# Start an optimize of $T and stop it (SIGSTOP) once it is writing its new
# file, i.e. after it read the snapshot and before it commits; sets OPT_PID.
optimize_paused() {
	touch "$BATS_TEST_TMPDIR/mark"
	weir-lake-vacuum --optimize --json "$T" >"$BATS_TEST_TMPDIR/opt.out" 2>"$BATS_TEST_TMPDIR/opt.err" &
	OPT_PID=$!
	local i
	for i in $(seq 2000); do
		[ -n "$(find "$T" -name '*.parquet' -newer "$BATS_TEST_TMPDIR/mark" | head -1)" ] && break
		kill -0 $OPT_PID 2>/dev/null || fail "optimize finished before it could be paused"
		sleep 0.005
	done
	kill -STOP $OPT_PID
}

@test "--optimize retries past a concurrent blind append" {
	duckdb_ready
	rm -r "$T"
	rows 1 40000 | write --max-rows 10000
	optimize_paused
	rows 40001 40010 | write
	kill -CONT $OPT_PID
	wait $OPT_PID
	[ "$(jq -c '.optimize | [.read_version, .version, .files_removed, .files_added, .committed]' "$BATS_TEST_TMPDIR/opt.out")" = '[3,5,12,3,true]' ]
	run rows_at "$T"
	[ "${#lines[@]}" -eq 40010 ]
	[ "$(node "$TOP/tests/delta-replay.js" "$T" | jq '.files | length')" -eq 6 ]
}

@test "--optimize refuses a real conflict: files it compacts were removed meanwhile" {
	duckdb_ready
	rm -r "$T"
	rows 1 40000 | write --max-rows 10000
	optimize_paused
	rows 1 30 | write --mode overwrite
	kill -CONT $OPT_PID
	st=0
	wait $OPT_PID || st=$?
	[ "$st" -eq 1 ]
	run cat "$BATS_TEST_TMPDIR/opt.err"
	assert_output "weir-lake-vacuum: compaction of table '$T' not committed: concurrent delete of a file this write removes (version 4)"
	[ "$(jq -c '.optimize.committed' "$BATS_TEST_TMPDIR/opt.out")" = false ]
	# its new file is gone again (the 3 new ones are the overwrite's), and
	# the overwrite is the table
	[ "$(find "$T" -path "$T/_delta_log" -prune -o -name '*.parquet' -newer "$BATS_TEST_TMPDIR/mark" -print | wc -l)" -eq 3 ]
	[ "$(ls "$T/_delta_log" | grep -c 'json$')" -eq 5 ]
	run rows_at "$T"
	[ "${#lines[@]}" -eq 30 ]
}

@test "a killed --optimize leaves the table as it was; a rerun compacts, a vacuum takes its orphan" {
	duckdb_ready
	rm -r "$T"
	rows 1 40000 | write --max-rows 10000
	rows_at "$T" >"$BATS_TEST_TMPDIR/before"
	optimize_paused
	kill -9 $OPT_PID
	wait $OPT_PID || true
	# the pause lands after its first new file, but under load it may have
	# written one per partition by then: each is an orphan for vacuum
	orphans=$(find "$T" -path "$T/_delta_log" -prune -o -name '*.parquet' -newer "$BATS_TEST_TMPDIR/mark" -print | wc -l)
	[ "$orphans" -ge 1 ]
	[ "$(ls "$T/_delta_log" | grep -c 'json$')" -eq 4 ]
	rows_at "$T" | diff - "$BATS_TEST_TMPDIR/before"
	run weir-lake-vacuum --optimize --json "$T"
	assert_success
	[ "$(jq -c '.optimize | [.version, .files_removed, .files_added]' <<<"$output")" = '[4,12,3]' ]
	rows_at "$T" | diff - "$BATS_TEST_TMPDIR/before"
	run weir-lake-vacuum --json --retain 0h --force-retention "$T"
	assert_success
	[ "$(jq .vacuum.files_deleted <<<"$output")" -eq $((12 + orphans)) ] # 12 compacted, and the killed run's
	rows_at "$T" | diff - "$BATS_TEST_TMPDIR/before"
}

# age VERSION...: make these commits (and their removes) 10 days old
age() {
	local v f
	for v in "$@"; do
		f=$T/_delta_log/$(printf %020d "$v").json
		jq -c --argjson t $((NOW - 10 * DAY)) \
			'if .commitInfo then .commitInfo.timestamp = $t elif .remove then .remove.deletionTimestamp = $t else . end' \
			"$f" >"$f.new"
		mv "$f.new" "$f"
	done
}

@test "time travel to every retained version still reads after vacuum" {
	duckdb_ready
	rm -r "$T"
	rows 1 300 | write --max-rows 100 # versions 0-2
	rows 1001 1100 | write --mode overwrite # 3 replaces them
	rows 301 400 | write # 4
	weir-lake-vacuum -q --optimize "$T" # 5 replaces the files of 3 and 4
	rows 401 450 | write # 6
	age 0 1 2 3
	find "$T" -name '*.parquet' -exec touch -d '10 days ago' {} +
	for v in 3 4 5 6; do rows_at "$T" $v >"$BATS_TEST_TMPDIR/want.$v"; done
	[ "$(wc -l <"$BATS_TEST_TMPDIR/want.6")" -eq 250 ]

	run weir-lake-vacuum "$T"
	assert_success
	assert_output --regexp '^vacuum: deleted 9 files \(.*\) and 0 directories, kept 12; retention 168h, versions 3 to 6$'
	for v in 3 4 5 6; do
		rows_at "$T" $v | diff - "$BATS_TEST_TMPDIR/want.$v" || fail "version $v reads differently"
	done
	# version 2 is outside the window: its files are gone
	run rows_at "$T" 2
	assert_failure 1
	assert_line --regexp '^IO Error: No files found that match the pattern ".*\.parquet"$'
}

@test "writer, optimize, vacuum and reader at once: no reader fails, no row is lost" {
	duckdb_ready
	rm -r "$T"
	rows 1 1000 | write --max-rows 100
	weir-lake-vacuum -q --optimize "$T"
	age 0 1 2 3 4 5 6 7 8 9 10
	find "$T" -name '*.parquet' -exec touch -d '10 days ago' {} +
	data p=a/orphan.parquet "10 days"
	# each write waits for a read after the one before, so that reads and
	# writes interleave however slow the machine is
	echo 0 >"$BATS_TEST_TMPDIR/reads"
	(for i in $(seq 0 19); do
		w=0 # a reader that stopped must not leave the writer waiting
		while [ "$(cat "$BATS_TEST_TMPDIR/reads")" -le "$i" ]; do
			sleep 0.05
			w=$((w + 1))
			[ "$w" -lt 1200 ] || exit 1
		done
		rows $((1001 + i * 10)) $((1010 + i * 10)) | write || exit 1
	done) &
	writer=$!
	(for i in 1 2 3 4 5; do weir-lake-vacuum -q --optimize --vacuum "$T" || exit 1; done) &
	maint=$!
	last=0
	reads=0
	while kill -0 $writer 2>/dev/null || kill -0 $maint 2>/dev/null; do
		rows_at "$T" >"$BATS_TEST_TMPDIR/seen" || fail "a reader failed after $reads reads"
		n=$(wc -l <"$BATS_TEST_TMPDIR/seen")
		[ "$n" -ge "$last" ] || fail "rows went from $last to $n"
		[ "$(jq -r .id "$BATS_TEST_TMPDIR/seen" | sort -u | wc -l)" -eq "$n" ] || fail "duplicate rows"
		last=$n
		reads=$((reads + 1))
		echo "$reads" >"$BATS_TEST_TMPDIR/reads"
	done
	wait $writer
	wait $maint
	[ ! -e "$T/p=a/orphan.parquet" ]
	rows_at "$T" | jq -r .id >"$BATS_TEST_TMPDIR/ids"
	seq 1 1200 | diff - "$BATS_TEST_TMPDIR/ids"
	[ "$reads" -ge 20 ]
}

@test "the man page's examples run" {
	old_commits 0 0
	sed -n '/^\.SH EXAMPLES/,/^\.SH/{/^\.nf/,/^\.fi/p}' "$TOP/man/weir-lake-vacuum.1" | grep -v '^\.\(nf\|fi\)$' |
		sed 's/^15 3 \* \* \* //; s/\\-/-/g; s/\\e%/%/g' |
		sed "s|/srv/lake/clicks|$T|; s| lake/clicks| $T|; s|/backup/|$BATS_TEST_TMPDIR/|" >"$BATS_TEST_TMPDIR/examples"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/examples")" -eq 3 ]
	while read -r cmd; do
		run bash -c "$cmd"
		assert_success
	done <"$BATS_TEST_TMPDIR/examples"
	[ -f "$T/_delta_log/00000000000000000000.checkpoint.parquet" ]
}

@test "Spark- and delta-rs-written fixtures vacuum (on a copy) and still read to their expected snapshot" {
	need_fixtures
	deleted=0
	for name in basic-with-inserts-deletes-checkpoint multi-part-checkpoint simple_table \
		simple_table_with_checkpoint python-0.25.5-checkpoint data-reader-primitives \
		data-reader-partition-values data-reader-nested-struct data-reader-array-primitives data-reader-map \
		kernel-timestamp-INT96 kernel-timestamp-TIMESTAMP_MICROS time-travel-schema-changes-a \
		time-travel-schema-changes-b time-travel-start-start20-start40 snapshot-vacuumed \
		data-skipping-basic-stats-all-types delta-0.8.0-partitioned delta-0.8.0-null-partition; do
		cp -r "$WEIR_FIXTURES/delta/$name" "$BATS_TEST_TMPDIR/$name"
		chmod -R u+w "$BATS_TEST_TMPDIR/$name"
		want=$WEIR_FIXTURES/delta-expected/$name.ndjson
		# (the expected rows of data-reader-array-primitives hold DuckDB's
		# rendering of binary in lists; tests/delta.bats canonicalises that
		# one, here it must read as it did before the vacuum)
		if [ $name = data-reader-array-primitives ]; then
			want=$BATS_TEST_TMPDIR/$name.before
			weir-lake-cat "$BATS_TEST_TMPDIR/$name" >"$want"
		fi
		run weir-lake-vacuum --json --retain 0h --force-retention "$BATS_TEST_TMPDIR/$name"
		assert_success
		deleted=$((deleted + $(jq .vacuum.files_deleted <<<"$output")))
		weir-lake-cat "$BATS_TEST_TMPDIR/$name" >"$BATS_TEST_TMPDIR/$name.got" || fail "$name does not read after vacuum"
		same_rows "$BATS_TEST_TMPDIR/$name.got" "$want" || fail "$name does not read to its expected rows"
	done
	# simple_table 32, basic-with-inserts-deletes-checkpoint 7, data-skipping-basic-stats-all-types 1 (an orphan)
	[ "$deleted" -eq 40 ]
	# tables it does not understand are refused, untouched
	for name in versions-not-contiguous deltalog-invalid-protocol-version dv-partitioned-with-checkpoint \
		table-with-columnmapping-mode-name checkpoint-v2-table; do
		cp -r "$WEIR_FIXTURES/delta/$name" "$BATS_TEST_TMPDIR/$name"
		chmod -R u+w "$BATS_TEST_TMPDIR/$name"
		before=$(cd "$BATS_TEST_TMPDIR/$name" && find . | sort)
		run weir-lake-vacuum --retain 0h --force-retention "$BATS_TEST_TMPDIR/$name"
		[ "$status" -eq 2 ] || fail "$name: status $status"
		[[ $output == "weir-lake-vacuum: "*"$name"* ]] || fail "$name: $output"
		[ "$(cd "$BATS_TEST_TMPDIR/$name" && find . | sort)" = "$before" ]
	done
}
