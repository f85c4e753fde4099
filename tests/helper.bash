# Shared setup for every tests/*.bats file.
#
# WEIR_BIN      directory of the weir-* binaries under test (make check sets it
#               to the sanitizer build); defaults to build/bin
# WEIR_FIXTURES the shared conformance fixtures; default ../shared/fixtures

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
if [ -d "$BATS_TEST_DIRNAME/../../tests" ] && [ ! -f "$BATS_TEST_DIRNAME/helper.bash" ]; then
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
fi
: "${WEIR_BIN:=$TOP/build/bin}"
: "${WEIR_FIXTURES:=$TOP/../shared/fixtures}"
export WEIR_BIN WEIR_FIXTURES
export PATH="$WEIR_BIN:$PATH"
# Leak reports from librdkafka's background threads at exit are noise; every
# other sanitizer finding fails the test.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
unset WEIR_FRAMED WEIR_KAFKA_CONFIG

# Skip (saying why) when the shared fixtures are not there.
need_fixtures() {
	[ -d "$WEIR_FIXTURES" ] || skip "fixtures not found at $WEIR_FIXTURES (set WEIR_FIXTURES)"
}

# Start a weir-broker for this test file or test; sets BROKERS.  Arguments go
# to weir-broker.  The broker reads commands from a FIFO kept open in
# BROKER_FD and answers each with one line in $BROKER_DIR/out.
start_broker() {
	local dir
	dir=$(mktemp -d "${BATS_TMPDIR:-/tmp}/weir-broker.XXXXXX")
	mkfifo "$dir/ctl"
	weir-broker --port-file "$dir/port" "$@" <"$dir/ctl" >"$dir/out" 2>"$dir/err" 3>&- &
	BROKER_PID=$!
	exec {BROKER_FD}>"$dir/ctl"
	BROKER_DIR=$dir
	local i
	for i in $(seq 200); do
		[ -s "$dir/port" ] && break
		kill -0 "$BROKER_PID" 2>/dev/null || break
		sleep 0.05
	done
	[ -s "$dir/port" ] || { cat "$dir/err" >&2; return 1; }
	BROKERS=$(cat "$dir/port")
	export BROKERS BROKER_PID BROKER_DIR BROKER_FD
}

# Point every weir tool at Kafka properties with a short fetch wait: the
# mock answers an empty fetch only after fetch.wait.max.ms, which every -e
# run pays once at its end, so the default would slow a file down.
short_fetch_wait() {
	printf 'fetch.wait.max.ms=20\n' >"$BATS_FILE_TMPDIR/kafka.properties"
	export WEIR_KAFKA_CONFIG=$BATS_FILE_TMPDIR/kafka.properties
}

# Send one control command to the running broker ("topic NAME 4", "down 1")
# and wait for its answer; fails (printing the answer) unless it is "ok".
broker_cmd() {
	local before i last
	before=$(wc -l <"$BROKER_DIR/out")
	echo "$*" >&"$BROKER_FD"
	for i in $(seq 400); do
		[ "$(wc -l <"$BROKER_DIR/out")" -gt "$before" ] && break
		sleep 0.025
	done
	last=$(tail -n 1 "$BROKER_DIR/out")
	[ "$(wc -l <"$BROKER_DIR/out")" -gt "$before" ] && [ "$last" = ok ] && return 0
	echo "broker_cmd $*: ${last:-no answer}" >&2
	return 1
}

stop_broker() {
	[ -n "${BROKER_PID:-}" ] || return 0
	# "quit" rather than only closing the FIFO: background clients a test
	# started may hold the FIFO open too
	echo quit >&"$BROKER_FD" 2>/dev/null || true
	exec {BROKER_FD}>&-
	local i
	for i in $(seq 100); do
		kill -0 "$BROKER_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill "$BROKER_PID" 2>/dev/null || true
	wait "$BROKER_PID" 2>/dev/null || true
	rm -rf "$BROKER_DIR"
	unset BROKER_PID
}

# DuckDB, the independent reader: installed from npm into a cache on first
# use.  duckdb_query SQL prints one JSON object per row.  Skips when npm's
# registry is unreachable.
duckdb_ready() {
	local cache="${WEIR_CACHE:-$TOP/.cache}/duckdb"
	if [ ! -d "$cache/node_modules/@duckdb/node-api" ]; then
		mkdir -p "$cache"
		(cd "$cache" && npm install --silent --no-audit --no-fund @duckdb/node-api >/dev/null 2>&1) ||
			skip "DuckDB (npm @duckdb/node-api) could not be installed"
	fi
	export NODE_PATH="$cache/node_modules"
}

duckdb_query() {
	duckdb_ready
	node "$TOP/tests/duckdb-query.js" "$@"
}

# The SYNOPSIS of a man page must equal the usage paragraph of --help.
check_synopsis() {
	local name=$1
	diff <("$name" --help | sed -n '1,/^$/p' | sed '/^$/d; s/^usage: //; s/^       //') \
		<(sed -n '/^\.SH SYNOPSIS/,/^\.SH/p' "$TOP/man/$name.1" | sed '1d;$d' |
			grep -v '^\.\(nf\|fi\|PP\|br\)' | sed 's/\\f[BIRP]//g; s/\\-/-/g; s/\\\\/\\/g; s/\\(em/—/g')
}

# Run every "$ command" of the example blocks (.EX) of man page $1, in the
# current directory, and check that it succeeds and prints the lines after
# it (up to a blank line or the end of the block); MAN_EXAMPLES counts them.
check_man_examples() {
	local cmd="" expect="" line
	MAN_EXAMPLES=0
	while IFS= read -r line; do
		if [ "${line#\$ }" != "$line" ] || [ -z "$line" ]; then
			if [ -n "$cmd" ]; then
				run bash -c "$cmd" </dev/null
				assert_success
				assert_output "$expect"
				MAN_EXAMPLES=$((MAN_EXAMPLES + 1))
			fi
			cmd="" expect=""
			[ -z "$line" ] || cmd="${line#\$ }"
		elif [ -n "$cmd" ]; then
			expect="${expect:+$expect
}$line"
		fi
	done < <(awk '/^\.EX/ { ex = 1; next } /^\.EE/ { ex = 0; print ""; next } ex' "$1" | sed 's/\\e/\\/g; s/\\-/-/g')
}

# Compare two NDJSON files as sets of rows with keys sorted (the fixtures'
# comparison rule: numbers compare numerically).
same_rows() {
	diff <(jq -cS . "$1" | sort) <(jq -cS . "$2" | sort)
}
