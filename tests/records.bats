#!/usr/bin/env bats
# The framed encoding's row frames (weir-records(5)): records whose keys are
# the schema's field names travel as their values alone, every other record
# as a data frame, and readers see the same records either way; lying or
# cut-short row frames are bad records with a reason, never a crash.

load helper

setup() {
	T=$BATS_TEST_TMPDIR
}

# The magic and the schema frame weir-parse writes for the DDL $1.
stream_head() {
	weir-parse -q --framed -s "$1" </dev/null
}

# A schema frame alone, for a schema change in mid-stream.
schema_frame() {
	stream_head "$1" | tail -c +5
}

# frame KIND FORMAT: one frame whose payload is printf FORMAT (under 128 bytes).
frame() {
	# shellcheck disable=SC2059
	printf "$2" >"$T/payload"
	printf "%s\\$(printf %03o "$(wc -c <"$T/payload")")" "$1"
	cat "$T/payload"
}

@test "records: row and data frames mixed read as the same records" {
	{
		stream_head 'a BIGINT, b STRING'
		frame R '\002\002\005\001x'                       # {"a":1,"b":"x"}
		frame D '\013\002\001a\002\004\001b\005\001y'     # {"a":2,"b":"y"}, the schema's keys
		frame D '\013\001\001c\002\006'                   # {"c":3}
		frame D '\013\002\001b\005\001z\001a\002\012'     # {"b":"z","a":5}
		frame R '\000\005\000'                            # {"a":null,"b":""}
	} >"$T/in"
	run weir-parse -q <"$T/in"
	assert_success
	assert_output - <<'EOF'
{"a":1,"b":"x"}
{"a":2,"b":"y"}
{"c":3}
{"b":"z","a":5}
{"a":null,"b":""}
EOF
	# columns are found by position within a layout, by name across them
	run weir-parse -q -w 'a >= 2 OR c = 3' <"$T/in"
	assert_output - <<'EOF'
{"a":2,"b":"y"}
{"c":3}
{"b":"z","a":5}
EOF
	run weir-parse -q -w 'b = "x" OR b = "z" OR b IS NULL' <"$T/in"
	assert_output - <<'EOF'
{"a":1,"b":"x"}
{"c":3}
{"b":"z","a":5}
EOF
	# written again: the schema's keys in order make row frames, any other
	# keys (another order included) data frames
	{
		stream_head 'a BIGINT, b STRING'
		frame R '\002\002\005\001x'
		frame R '\002\004\005\001y'
		frame D '\013\001\001c\002\006'
		frame D '\013\002\001b\005\001z\001a\002\012'
		frame R '\000\005\000'
	} >"$T/want"
	weir-parse -q --framed <"$T/in" >"$T/got"
	cmp "$T/want" "$T/got"
}

@test "records: a record with fewer, more or other keys than the schema is a data frame" {
	{
		stream_head 'a BIGINT, b STRING'
		frame D '\013\001\001a\002\002'                           # {"a":1}
		frame D '\013\003\001a\002\002\001b\005\000\001c\000'     # {"a":1,"b":"","c":null}
		frame D '\013\002\001a\002\002\001B\005\000'              # {"a":1,"B":""}
		frame D '\013\002\001a\002\002\002bb\005\000'             # {"a":1,"bb":""}
		frame D '\013\000'                                        # {}
	} >"$T/in"
	weir-parse -q --framed <"$T/in" >"$T/got"
	cmp "$T/in" "$T/got"
	run weir-parse -q <"$T/got"
	assert_output - <<'EOF'
{"a":1}
{"a":1,"b":"","c":null}
{"a":1,"B":""}
{"a":1,"bb":""}
{}
EOF
}

@test "records: a schema change in mid-stream changes the keys of row frames" {
	{
		stream_head 'a BIGINT, b STRING'
		frame R '\002\002\005\001x'
		schema_frame 'b STRING, a BIGINT'
		frame R '\005\001y\002\004'
		schema_frame 'n BIGINT'
		frame R '\002\006'
		schema_frame 'a BIGINT, b STRING'
		frame R '\002\010\005\001w'
	} >"$T/in"
	run weir-parse -q <"$T/in"
	assert_output - <<'EOF'
{"a":1,"b":"x"}
{"b":"y","a":2}
{"n":3}
{"a":4,"b":"w"}
EOF
	run weir-parse -q -w 'a = 2 OR n = 3 OR b = "w"' <"$T/in"
	assert_output - <<'EOF'
{"b":"y","a":2}
{"n":3}
{"a":4,"b":"w"}
EOF
	# passed on, the stream keeps its schema frames and row frames
	weir-parse -q --framed <"$T/in" >"$T/got"
	cmp "$T/in" "$T/got"
	# an untyped schema frame ends row frames: records go as data frames
	{
		stream_head 'a BIGINT'
		frame R '\002\002'
		printf 'S\000'
		frame D '\013\001\001a\002\004'
	} >"$T/in2"
	weir-parse -q --framed <"$T/in2" >"$T/got"
	cmp "$T/in2" "$T/got"
}

@test "records: weir-window reads row frames across a schema change as it reads NDJSON" {
	cat >"$T/ev" <<'EOF'
{"ts":"2024-05-01T00:00:01Z","key":"x","amount":1.50}
{"ts":"2024-05-01T00:00:20Z","key":"y","amount":2.25}
{"ts":"2024-05-01T00:00:40Z","key":"x","amount":3.00}
{"ts":"2024-05-01T00:01:10Z","key":"y","amount":4.75}
{"ts":"2024-05-01T00:01:30Z","key":"x","amount":0.25}
{"ts":"2024-05-01T00:02:05Z","key":"x","amount":1.00}
EOF
	head -3 "$T/ev" | weir-parse -q --framed -s 'ts TIMESTAMP, key STRING, amount DECIMAL(10,2)' >"$T/f"
	tail -3 "$T/ev" | weir-parse -q --framed -s 'amount DECIMAL(10,2), key STRING, ts TIMESTAMP' | tail -c +5 >>"$T/f"
	weir-window --tumble 1m -t ts -b key -a 'count(*) AS n, sum(amount) AS total' "$T/ev" >"$T/want"
	run weir-window --tumble 1m -t ts -b key -a 'count(*) AS n, sum(amount) AS total' "$T/f"
	assert_success
	assert_output "$(cat "$T/want")"
	run grep -c '"window_start"' "$T/want"
	assert_output 5
}

@test "records: row frames that lie are bad records with a reason" {
	{
		stream_head 'a BIGINT, b STRING'
		frame R '\002\002'                     # 2: one value of two
		frame R ''                             # 3: none
		frame R '\002\002\005\001x\002\004'   # 4: a value too many
		frame R '\002\002\077'                 # 5: no such tag
		frame R '\002\002\005\011x'            # 6: a string longer than the frame
		frame R '\002\002\005\001\377'         # 7: a string that is not UTF-8
		frame R '\002\002\013\011'             # 8: an object count larger than the frame
		frame R '\002\002\005\001x'            # 9: good
		printf 'S\000'
		frame R '\002\002\005\001x'            # 11: no schema to give the keys
		schema_frame 'a BIGINT'
		frame R '\002\012'                     # 13: good
		printf 'R\005\002'                     # 14: cut short by the end of input
	} >"$T/in"
	run weir-parse -q -e dlq -d "$T/dlq" <"$T/in"
	assert_success
	assert_output - <<'EOF'
{"a":1,"b":"x"}
{"a":5}
EOF
	run jq -c '[.frame, .reason]' "$T/dlq"
	assert_output - <<'EOF'
[2,"row frame shorter than its schema"]
[3,"row frame shorter than its schema"]
[4,"row frame longer than its schema"]
[5,"corrupt row frame"]
[6,"corrupt row frame"]
[7,"corrupt row frame"]
[8,"corrupt row frame"]
[11,"row frame without a struct schema"]
[14,"truncated frame"]
EOF
	run weir-parse -q <"$T/in"
	assert_failure 1
	assert_output "weir-parse: bad record at frame 2 of '-': row frame shorter than its schema"
}

@test "records: row frames pass on as the encoder writes them, copied or encoded again" {
	{
		stream_head 'a BIGINT, b STRING'
		frame R '\002\002\005\001x'            # {"a":1,"b":"x"}, copied
		frame R '\002\202\000\005\001y'       # a's 1 in two bytes: encoded again
		frame R '\002\002\005\002\303\251'  # {"a":1,"b":"é"}, copied
	} >"$T/in"
	{
		stream_head 'a BIGINT, b STRING'
		frame R '\002\002\005\001x'
		frame R '\002\002\005\001y'
		frame R '\002\002\005\002\303\251'
	} >"$T/want"
	weir-parse -q --framed <"$T/in" >"$T/out"
	cmp "$T/want" "$T/out"
	weir-parse -q --framed -w 'a = 1' <"$T/in" >"$T/out"
	cmp "$T/want" "$T/out"
}

@test "records: a schema of no fields has empty row frames" {
	{
		printf '\377WR1'
		frame S '{"type":"struct","fields":[]}'
		frame R ''
		frame R '\000'
	} >"$T/in"
	run weir-parse -q -e dlq -d "$T/dlq" <"$T/in"
	assert_output '{}'
	run jq -c '[.frame, .reason]' "$T/dlq"
	assert_output '[3,"row frame longer than its schema"]'
}
