# Sourced by every example (and by scripts/demo.sh); not run on its own.
#
# Finds the weir programs (an installed weir, or this checkout's build/bin, or
# $WEIR_BIN), picks the work directory where tables and files go, prints step
# headings, and starts a throwaway weir-broker that is stopped on exit,
# whatever happens.

top=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${WEIR_BIN:-}" ]; then
	PATH=$WEIR_BIN:$PATH
elif [ -x "$top/build/bin/weir-parse" ]; then
	PATH=$top/build/bin:$PATH
fi
export PATH
# the scripts read what the programs print with jq: NDJSON, whatever the shell says
unset WEIR_FRAMED
command -v weir-parse >/dev/null || {
	echo "${0##*/}: weir programs not found: run 'make' first" >&2
	exit 2
}

# gen-events is built from source on first use, so it is always there
gen_events() {
	"$top/scripts/gen-events" "$@"
}

# workdir NAME [DIR]: the directory the example writes into, in $work.  A DIR
# the user names must be new or empty; the default one is ours to recreate.
workdir() {
	if [ -n "${2:-}" ]; then
		work=$2
		mkdir -p "$work"
		if [ -n "$(ls -A "$work")" ]; then
			echo "${0##*/}: '$work' is not empty" >&2
			exit 2
		fi
	else
		work=${TMPDIR:-/tmp}/weir-examples/$1
		rm -rf "$work"
		mkdir -p "$work"
	fi
	work=$(cd "$work" && pwd)
}

step_no=0
step() {
	step_no=$((step_no + 1))
	printf '\n== %s. %s\n' "$step_no" "$*"
}

# start_broker TOPIC:PARTITIONS...: an in-memory Kafka broker on a free port,
# address in $K.  The broker stops at the end of its stdin, a FIFO this shell
# holds open, so however the script ends the broker ends with it; the EXIT
# trap asks it to quit first.
broker_pid=
start_broker() {
	trap stop_broker EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	mkfifo "$work/.broker-ctl"
	args=
	for t; do args="$args --topic $t"; done
	# shellcheck disable=SC2086
	weir-broker --port-file "$work/.broker-port" $args <"$work/.broker-ctl" >"$work/.broker-out" 2>"$work/.broker-err" &
	broker_pid=$!
	exec 9>"$work/.broker-ctl"
	i=0
	while [ ! -s "$work/.broker-port" ]; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! kill -0 "$broker_pid" 2>/dev/null; then
			cat "$work/.broker-err" >&2
			echo "${0##*/}: weir-broker did not start" >&2
			exit 2
		fi
		sleep 0.05
	done
	K=$(cat "$work/.broker-port")
}

stop_broker() {
	[ -n "$broker_pid" ] || return 0
	echo quit >&9 2>/dev/null || true
	exec 9>&-
	i=0
	while kill -0 "$broker_pid" 2>/dev/null && [ $i -lt 100 ]; do
		i=$((i + 1))
		sleep 0.05
	done
	kill "$broker_pid" 2>/dev/null || true
	wait "$broker_pid" 2>/dev/null || true
	broker_pid=
	rm -f "$work/.broker-ctl" "$work/.broker-port" "$work/.broker-out" "$work/.broker-err"
}
