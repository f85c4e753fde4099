#!/usr/bin/env bats
# weir-parse: schemas, casts, timestamps, filters, envelopes, dead letters,
# the framed encoding round trip, and hostile input.

load helper

setup() {
	T=$BATS_TEST_TMPDIR
	SCHEMA_ALL='b BOOLEAN, i8 TINYINT, i16 SMALLINT, i32 INT, i64 BIGINT, f FLOAT, d DOUBLE, dec DECIMAL(20,4), s STRING, bin BINARY, dt DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, arr ARRAY<INT>, m MAP<STRING,DOUBLE>, mi MAP<INT,STRING>, st STRUCT<a STRING, b ARRAY<STRUCT<c DECIMAL(5,2)>>>, v VOID'
}

# ids of the records of $T/events that pass a filter
ids() {
	weir-parse -q "$@" -c id <"$T/events" | jq -r .id | paste -sd, -
}

events() {
	cat >"$T/events" <<'EOF'
{"id":1,"action":"purchase","amount":12.5,"country":"DE","user":{"age":30},"ts":"2024-01-01T10:00:00Z","url":"/p/1","ok":true}
{"id":2,"action":"view","amount":null,"country":"FR","user":{"age":null},"ts":"2024-01-02T10:00:00Z","url":"/c/2","ok":false}
{"id":3,"action":"purchase","amount":"7","country":"US","ts":"2023-12-31T23:59:59Z","url":"/p/100%","ok":"true"}
{"id":4,"action":"click","amount":100,"country":"de","user":{"age":17},"ts":1704153600,"url":"_p_","ok":null}
{"id":5,"action":"Purchase","amount":10,"country":null,"user":{"age":65},"ts":"2024-01-03","url":"/p/é/x"}
EOF
}

@test "parse: --help, --version, synopsis and man page" {
	run weir-parse --help
	assert_success
	assert_line --index 0 --partial "usage: weir-parse"
	run weir-parse --version
	assert_output "weir-parse 0.1.0"
	check_synopsis weir-parse
	run mandoc -T lint -W warning "$TOP/man/weir-parse.1"
	assert_success
	assert_output ""
}

@test "parse: usage errors exit 2 before reading input" {
	run weir-parse --bogus
	assert_failure 2
	assert_line --partial "usage: weir-parse"
	run weir-parse -s 'a INTEGR'
	assert_failure 2
	assert_output "weir-parse: bad schema 'a INTEGR': unknown type: near 'INTEGR'"
	run weir-parse -s '@/nonexistent/schema'
	assert_failure 2
	assert_output "weir-parse: cannot open schema file '/nonexistent/schema': No such file or directory"
	run weir-parse -s 'a INT' -c 'b'
	assert_failure 2
	assert_output "weir-parse: --select: no column 'b' in the schema"
	run weir-parse -s 'a INT' -w 'b = 1'
	assert_failure 2
	assert_output "weir-parse: --where: no column 'b' in the schema"
	run weir-parse -c 'a,,b'
	assert_failure 2
	assert_output "weir-parse: bad --select: expected a column name at offset 2: 'a,,b'"
	run weir-parse -c 'a AS'
	assert_failure 2
	run weir-parse -m 'topic, partitio'
	assert_failure 2
	assert_output "weir-parse: --meta: unknown envelope field 'partitio' (topic, partition, offset, timestamp, timestamp_type, key, headers)"
	run weir-parse -s 'topic STRING' -m topic
	assert_failure 2
	assert_output "weir-parse: --meta column 'topic' is also a schema column (rename it with AS)"
	run weir-parse -e dlq
	assert_failure 2
	assert_line --index 0 "weir-parse: --on-error dlq needs --dlq FILE"
	run weir-parse -e drop -d "$T/x"
	assert_failure 2
	assert_line --index 0 "weir-parse: --dlq is only used with --on-error dlq"
	run weir-parse -e ignore
	assert_failure 2
	run weir-parse -t '%Y-%Q'
	assert_failure 2
	assert_line --index 0 "weir-parse: bad --ts-format '%Y-%Q': unknown directive '%Q'"
	run weir-parse --epoch ns
	assert_failure 2
	run weir-parse --envelope maybe
	assert_failure 2
	run weir-parse --infer -s 'a INT'
	assert_failure 2
	run weir-parse --sample 0 --infer
	assert_failure 2
	run weir-parse /nonexistent/input
	assert_failure 2
	assert_output "weir-parse: cannot open '/nonexistent/input': No such file or directory"
}

@test "parse: a record with every type, and the framed schema frame says them" {
	echo '{"b":true,"i8":-1,"i16":300,"i32":70000,"i64":9007199254740993,"f":1.5,"d":2.25e-3,"dec":"12.345678","s":"héllo\n","bin":"AAEC/w==","dt":"2024-02-29","ts":"2024-01-02T03:04:05.678+01:00","ntz":"2024-01-02T03:04:05","arr":[1,null,3],"m":{"x":1.5,"y":null},"mi":{"7":"seven"},"st":{"a":"z","b":[{"c":1.5}]},"v":null,"extra":"dropped"}' >"$T/in"
	run weir-parse -q -s "$SCHEMA_ALL" <"$T/in"
	assert_success
	assert_output '{"b":true,"i8":-1,"i16":300,"i32":70000,"i64":9007199254740993,"f":1.5,"d":0.00225,"dec":12.3457,"s":"héllo\n","bin":"AAEC/w==","dt":"2024-02-29","ts":"2024-01-02T02:04:05.678000Z","ntz":"2024-01-02T03:04:05.000000","arr":[1,null,3],"m":{"x":1.5,"y":null},"mi":{"7":"seven"},"st":{"a":"z","b":[{"c":1.50}]},"v":null}'
	# the schema frame carries the Delta schema of what is written
	weir-parse -q --framed -s 'a BIGINT NOT NULL, m MAP<INT,STRING>' <<<'{"a":1,"m":{"2":"x"}}' >"$T/framed"
	run bash -c "head -c 4 '$T/framed' | od -An -tx1"
	assert_output " ff 57 52 31"
	run grep -c '"name":"a","type":"long","nullable":false' "$T/framed"
	assert_output 1
	run weir-parse -q <"$T/framed"
	assert_output '{"a":1,"m":{"2":"x"}}'
}

@test "parse: casts follow the documented rules, one case per line" {
	local type input want got bad=""
	while IFS=$'\t' read -r type input want; do
		[[ $type == "#"* || -z $type ]] && continue
		rm -f "$T/dlq"
		got=$(printf '{"v":%s}\n' "$input" | weir-parse -q -s "v $type" -d "$T/dlq")
		if [ -z "$got" ]; then
			got="!$(jq -r .reason "$T/dlq")"
		else
			got=${got#\{\"v\":}
			got=${got%\}}
		fi
		[ "$got" = "$want" ] || bad+="$type $input: want $want, got $got"$'\n'
	done <"$TOP/tests/parse/casts.tsv"
	[ -z "$bad" ] || fail "$bad"
}

@test "parse: timestamps from patterns, epoch units and ranges" {
	printf '%s\n' '{"t":"02/Jan/2024:03:04:05 +0100"}' '{"t":"2024-01-02T03:04:05Z"}' '{"t":"Tue, 2 January 2024 03:04:05 PM UTC"}' \
		'{"t":"2024.002 7:08:09.5"}' '{"t":"@1700000000.25"}' '{"t":"99-12-31 23:59"}' >"$T/in"
	run weir-parse -q -s 't TIMESTAMP' -t '%d/%b/%Y:%H:%M:%S %z' -t '%a, %e %B %Y %I:%M:%S %p %Z' \
		-t '%Y.%j %H:%M:%S.%f' -t '@%s.%f' -t '%y-%m-%d %H:%M' <"$T/in"
	assert_success
	assert_output - <<'EOF'
{"t":"2024-01-02T02:04:05.000000Z"}
{"t":"2024-01-02T03:04:05.000000Z"}
{"t":"2024-01-02T15:04:05.000000Z"}
{"t":"2024-01-02T07:08:09.500000Z"}
{"t":"2023-11-14T22:13:20.250000Z"}
{"t":"1999-12-31T23:59:00.000000Z"}
EOF
	# --epoch forces the unit the magnitude would guess otherwise
	run weir-parse -q -s 't TIMESTAMP' --epoch ms <<<'{"t":86400000}'
	assert_output '{"t":"1970-01-02T00:00:00.000000Z"}'
	run weir-parse -q -s 't TIMESTAMP' --epoch us <<<'{"t":1}'
	assert_output '{"t":"1970-01-01T00:00:00.000001Z"}'
	run weir-parse -q -s 't TIMESTAMP' --epoch s <<<'{"t":1700000000123}'
	assert_failure 1
	assert_output "weir-parse: bad record at line 1 of '-': timestamp out of range (years 0001 to 9999): 1700000000123: field 't'"
	# dates through patterns and timestamps; a pattern that does not match falls back to ISO-8601
	run weir-parse -q -s 'd DATE' -t '%d.%m.%Y' <<<$'{"d":"29.02.2024"}\n{"d":"2024-03-01"}\n{"d":"31.04.2024"}' -e drop
	assert_output $'{"d":"2024-02-29"}\n{"d":"2024-03-01"}'
	run weir-parse -q -s 't TIMESTAMP' <<<'{"t":"10000-01-01T00:00:00Z"}'
	assert_failure 1
	# a leap second, with a fraction or not, ISO or through a pattern, is
	# its minute's last microsecond: after 59.9 and inside the minute
	printf '%s\n' '{"t":"2024-12-31T23:59:60Z"}' '{"t":"2024-12-31T23:59:60.5Z"}' '{"t":"2024-12-31T23:59:60.25+01:00"}' \
		'{"t":"2024-12-31T23:59:59.9Z"}' '{"t":"31.12.2024 23:59:60"}' >"$T/in"
	run weir-parse -q -s 't TIMESTAMP' -t '%d.%m.%Y %H:%M:%S' "$T/in"
	assert_success
	assert_output - <<'EOF'
{"t":"2024-12-31T23:59:59.999999Z"}
{"t":"2024-12-31T23:59:59.999999Z"}
{"t":"2024-12-31T22:59:59.999999Z"}
{"t":"2024-12-31T23:59:59.900000Z"}
{"t":"2024-12-31T23:59:59.999999Z"}
EOF
}

@test "parse: filters" {
	events
	[ "$(ids -w 'action = "purchase"')" = 1,3 ]
	[ "$(ids -w "action = 'purchase' AND amount > 10")" = 1 ]
	[ "$(ids -w "action = 'purchase' and amount > 10")" = 1 ]
	[ "$(ids -w 'amount > 10 OR amount IS NULL')" = 1,2,4 ]
	[ "$(ids -w 'amount >= 10')" = 1,4,5 ]
	[ "$(ids -w 'amount = 12.50')" = 1 ]
	[ "$(ids -w 'amount IN (7, 100)')" = 3,4 ]
	[ "$(ids -w 'amount BETWEEN 7 AND 12.5')" = 1,3,5 ]
	[ "$(ids -w 'NOT amount BETWEEN 7 AND 12.5')" = 4 ]
	[ "$(ids -w 'amount NOT BETWEEN 7 AND 12.5')" = 4 ]
	[ "$(ids -w "country IN ('DE', 'FR')")" = 1,2 ]
	[ "$(ids -w "country NOT IN ('DE', 'FR')")" = 3,4 ]
	[ "$(ids -w "country NOT IN ('DE', NULL)")" = "" ]
	[ "$(ids -w "country = 'DE'")" = 1 ]
	[ "$(ids -w 'user.age IS NULL')" = 2,3 ]
	[ "$(ids -w 'user.age IS NOT NULL AND user.age < 18')" = 4 ]
	[ "$(ids -w 'user.age > 17.5')" = 1,5 ]
	[ "$(ids -w "ts >= TIMESTAMP '2024-01-02T00:00:00Z'")" = 2,5 ]
	[ "$(ids -w "ts < '2024-01-01T12:00:00Z'")" = 1,3 ]
	[ "$(ids -w "url LIKE '/p/%'")" = 1,3,5 ]
	[ "$(ids -w "url LIKE '/p/_/x'")" = 5 ]
	[ "$(ids -w "url LIKE '%\\%'")" = 3 ]
	[ "$(ids -w "url LIKE '\\_p\\_'")" = 4 ]
	[ "$(ids -w "url NOT LIKE '/p/%'")" = 2,4 ]
	[ "$(ids -w 'ok')" = 1,3 ]
	[ "$(ids -w 'NOT ok')" = 2 ]
	[ "$(ids -w 'ok = TRUE')" = 1,3 ]
	[ "$(ids -w '(action = "purchase" OR action = "click") AND NOT country = "US"')" = 1,4 ]
	[ "$(ids -w 'id = 1 OR id == 2 OR id <> id')" = 1,2 ]
	[ "$(ids -w 'id != 3 AND id < 5')" = 1,2,4 ]
	[ "$(ids -w '`action` = "view"')" = 2 ]
	[ "$(ids -w 'missing IS NULL')" = 1,2,3,4,5 ]
	[ "$(ids -w 'missing = 1 OR NULL')" = "" ]
	[ "$(ids -w 'TRUE')" = 1,2,3,4,5 ]
	[ "$(ids -w 'FALSE OR id = -1')" = "" ]
	# typed: the same text, now compared as timestamps and booleans
	local s='id INT, action STRING, amount DECIMAL(10,2), country STRING, user STRUCT<age INT>, ts TIMESTAMP, url STRING, ok BOOLEAN'
	[ "$(ids -s "$s" -w "ts >= TIMESTAMP '2024-01-02T00:00:00Z'")" = 2,4,5 ]
	[ "$(ids -s "$s" -w "ts > DATE '2024-01-02'")" = 2,5 ]
	[ "$(ids -s "$s" -w "ts < '2024-01-01T12:00:00+01:00'")" = 1,3 ]
	[ "$(ids -s "$s" -w 'amount > 10')" = 1,4 ]
	# the counts say how many were filtered
	run weir-parse -w 'id > 3' <"$T/events"
	assert_line --index 2 "weir-parse: read 5, good 2, bad 0, filtered 3, coerced 0, control 0"
}

@test "parse: filter syntax errors name the position" {
	run weir-parse -w 'action = '
	assert_failure 2
	assert_output "weir-parse: bad --where expression: unexpected end of expression at offset 9: 'action = '"
	run weir-parse -w "a = 'x"
	assert_output "weir-parse: bad --where expression: unterminated string at offset 4: 'a = 'x'"
	run weir-parse -w '(a = 1'
	assert_output "weir-parse: bad --where expression: expected ')' at offset 6: '(a = 1'"
	run weir-parse -w 'a IS 5'
	assert_output "weir-parse: bad --where expression: expected NULL or NOT NULL after IS at offset 5: 'a IS 5'"
	run weir-parse -w 'a LIKE 5'
	assert_output "weir-parse: bad --where expression: LIKE needs a quoted pattern at offset 7: 'a LIKE 5'"
	run weir-parse -w 'a = 1 b'
	assert_output "weir-parse: bad --where expression: unexpected text after the expression at offset 6: 'a = 1 b'"
	run weir-parse -w 'a = -b'
	assert_output "weir-parse: bad --where expression: expected a number after '-' (there is no arithmetic) at offset 4: 'a = -b'"
	run weir-parse -w 'AND = 1'
	assert_output "weir-parse: bad --where expression: expected a value, not 'AND' at offset 0: 'AND = 1'"
	run weir-parse -w "ts > TIMESTAMP 'junk'"
	assert_output "weir-parse: bad --where expression: bad timestamp literal at offset 15: 'ts > TIMESTAMP 'junk''"
	run weir-parse -w "a NOT b"
	assert_output "weir-parse: bad --where expression: expected IN, LIKE or BETWEEN after NOT at offset 2: 'a NOT b'"
	run weir-parse -w "$(printf '(%.0s' {1..300})a"
	assert_failure 2
	assert_output --partial "expression nested too deep"
}

@test "parse: --select renames, nests, and * expands" {
	run weir-parse -q -c 'user.id AS uid, `odd name`, x.y' <<<'{"user":{"id":7},"odd name":1,"x":2}'
	assert_output '{"uid":7,"odd name":1,"y":null}'
	run weir-parse -q -s 'user STRUCT<id INT, name STRING>, n INT' -c 'user.name AS who, *' <<<'{"user":{"id":7,"name":"ann"},"n":1}'
	assert_output '{"who":"ann","user":{"id":7,"name":"ann"},"n":1}'
	run weir-parse -q -s 'a INT' -c 'a, a'
	assert_failure 2
	assert_output "weir-parse: --select names column 'a' twice"
	# the output schema follows the projection
	weir-parse -q -s 'user STRUCT<id BIGINT NOT NULL>' -c 'user.id AS uid' --framed <<<'{"user":{"id":1}}' >"$T/f"
	run grep -c '{"name":"uid","type":"long","nullable":true' "$T/f"
	assert_output 1
	# without --schema a framed input's schema is passed on, projected; a
	# column it lacks is a null string
	weir-parse -q -c 'uid, nope' --framed <"$T/f" >"$T/g"
	run grep -ac '"fields":\[{"name":"uid","type":"long","nullable":true,"metadata":{}},{"name":"nope","type":"string","nullable":true' "$T/g"
	assert_output 1
	run weir-parse -q <"$T/g"
	assert_output '{"uid":1,"nope":null}'
}

@test "parse: Kafka envelopes, values as text, objects or base64, and meta columns" {
	cat >"$T/env" <<'EOF'
{"topic":"clicks","partition":2,"offset":41,"timestamp":1700000000123,"timestamp_type":"create","key":"u1","headers":[{"name":"h","value":"v"},{"name":"n","value":null}],"value":"{\"user_id\":\"7\",\"url\":\"/a\"}"}
{"topic":"clicks","partition":2,"offset":42,"timestamp":null,"timestamp_type":"none","key":null,"value":{"user_id":8,"url":"/b"}}
{"topic":"clicks","partition":2,"offset":43,"timestamp":1700000000125,"timestamp_type":"log_append","key_b64":"/w==","value_b64":"eyJ1c2VyX2lkIjo5fQ=="}
{"topic":"clicks","partition":2,"offset":44,"timestamp":1700000000126,"timestamp_type":"create","key":"t","value":null}
{"topic":"clicks","partition":2,"offset":45,"timestamp":1700000000127,"timestamp_type":"create","key":"t","value":"{\"user_id\":"}
{"topic":"clicks","partition":2,"offset":46,"timestamp":1700000000128,"timestamp_type":"create","key":"t","value":"[1]"}
{"topic":"clicks","partition":2,"offset":47,"timestamp":1700000000129,"timestamp_type":"create","key":"t","value_b64":"!!"}
{"user_id":10}
EOF
	run weir-parse -s 'user_id BIGINT NOT NULL, url STRING' -m 'topic, partition, offset AS off, timestamp AS kts, timestamp_type, key, headers' -d "$T/dlq" <"$T/env"
	assert_success
	assert_output - <<'EOF'
{"user_id":7,"url":"/a","topic":"clicks","partition":2,"off":41,"kts":"2023-11-14T22:13:20.123000Z","timestamp_type":"create","key":"u1","headers":[{"name":"h","value":"v"},{"name":"n","value":null}]}
{"user_id":8,"url":"/b","topic":"clicks","partition":2,"off":42,"kts":null,"timestamp_type":"none","key":null,"headers":null}
{"user_id":9,"url":null,"topic":"clicks","partition":2,"off":43,"kts":"2023-11-14T22:13:20.125000Z","timestamp_type":"log_append","key":"/w==","headers":null}
weir-parse: read 8, good 3, bad 5, filtered 0, coerced 1, control 0
EOF
	run jq -c '[.reason, .field, .line, .topic, .partition, .offset]' "$T/dlq"
	assert_output - <<'EOF'
["value is null (a tombstone)","value",4,"clicks",2,44]
["value is not JSON: unexpected end of input at byte 11","value",5,"clicks",2,45]
["value is not a JSON object","value",6,"clicks",2,46]
["not a Kafka envelope: 'value_b64' is not valid base64",null,7,"clicks",2,47]
["not a Kafka envelope: unknown field 'user_id'",null,8,null,null,null]
EOF
	# --envelope no takes envelopes as plain events; yes refuses plain ones
	run weir-parse -q --envelope no -c 'offset' <"$T/env" -e drop
	assert_line --index 0 '{"offset":41}'
	run weir-parse -q --envelope yes <<<'{"user_id":10}'
	assert_failure 1
	assert_output "weir-parse: bad record at line 1 of '-': not a Kafka envelope: unknown field 'user_id'"
	# plain events: meta columns are null
	run weir-parse -q -m offset <<<'{"a":1}'
	assert_output '{"a":1,"offset":null}'
}

@test "parse: envelopes from gen-events, end to end" {
	"$TOP/scripts/gen-events" -n 200 --envelope clicks --partitions 3 --ts ms >"$T/env"
	run weir-parse -s 'event_id STRING NOT NULL, user_id BIGINT NOT NULL, ts TIMESTAMP NOT NULL, amount DECIMAL(10,2)' \
		-m partition -w "amount > 100 AND partition = 1" <"$T/env"
	assert_success
	[ "${#lines[@]}" -ge 2 ]
	# every written row satisfies the filter
	run bash -c "weir-parse -q -s 'user_id BIGINT, amount DECIMAL(10,2)' -m partition -w 'amount > 100 AND partition = 1' <'$T/env' | jq -s 'all(.amount > 100 and .partition == 1) and length > 0'"
	assert_output true
}

@test "parse: error modes dlq, drop and fail" {
	printf '%s\n' '{"a":1}' '{"a":"x"}' 'not json' '{"a":3}' >"$T/in"
	run weir-parse -s 'a INT' -d "$T/dlq" <"$T/in"
	assert_success
	assert_output $'{"a":1}\n{"a":3}\nweir-parse: read 4, good 2, bad 2, filtered 0, coerced 0, control 0'
	run cat "$T/dlq"
	assert_output - <<'EOF'
{"reason":"not a number: \"x\"","field":"a","input":"-","line":2,"raw":"{\"a\":\"x\"}"}
{"reason":"invalid literal","field":null,"input":"-","line":3,"raw":"not json"}
EOF
	# dead letters are appended, never truncated
	weir-parse -q -s 'a INT' -d "$T/dlq" <"$T/in" >/dev/null
	[ "$(wc -l <"$T/dlq")" -eq 4 ]
	run weir-parse -s 'a INT' -e drop <"$T/in"
	assert_success
	assert_output $'{"a":1}\n{"a":3}\nweir-parse: read 4, good 2, bad 2, filtered 0, coerced 0, control 0'
	# fail is the default without --dlq: what came before is written
	run weir-parse -s 'a INT' <"$T/in"
	assert_failure 1
	assert_output $'{"a":1}\nweir-parse: bad record at line 2 of \'-\': not a number: "x": field \'a\''
	run weir-parse -e fail "$T/in"
	assert_failure 1
	assert_output $'{"a":1}\n{"a":"x"}\nweir-parse: bad record at line 3 of \''"$T/in"$'\': invalid literal'
}

@test "parse: control records pass through in order, NDJSON and framed" {
	printf '%s\n' '{"@weir":"restore","id":3}' '{"a":"1"}' '{"@weir":"barrier","id":4,"sources":{"t":{"0":17}}}' '{"a":"bad"}' \
		'{"a":2}' '{"@weir":"watermark","t":1700000000000000}' >"$T/in"
	run weir-parse -s 'a INT' -e drop <"$T/in"
	assert_output - <<'EOF'
{"@weir":"restore","id":3}
{"a":1}
{"@weir":"barrier","id":4,"sources":{"t":{"0":17}}}
{"a":2}
{"@weir":"watermark","t":1700000000000000}
weir-parse: read 3, good 2, bad 1, filtered 0, coerced 1, control 3
EOF
	run bash -c "weir-parse -q -s 'a INT' -e drop --framed <'$T/in' | weir-parse -q --framed | weir-parse -q"
	assert_output - <<'EOF'
{"@weir":"restore","id":3}
{"a":1}
{"@weir":"barrier","id":4,"sources":{"t":{"0":17}}}
{"a":2}
{"@weir":"watermark","t":1700000000000000}
EOF
}

@test "parse: records whose keys change from one to the next are typed by name every time" {
	# fields are found by position while the keys repeat: every change of
	# keys, order, case, duplicates or escapes must be noticed
	cat >"$T/in" <<'EOF'
{"a":1,"b":"x","c":2}
{"a":2,"b":"y","c":3}
{"b":"z","a":3}
{"a":4,"b":"w","c":5,"d":0}
{"A":5,"b":"v","c":6}
{"a":6,"b":"u","c":7}
{"@weir":"watermark","t":1}
{"a":7,"a":8,"b":"t","c":8}
{"a":9,"b\u0041":"s","c":9}
{"a":10,"b\u0041":"r","c":10}
{"a":11,"b":"q","c":11}
{"a":null,"b":"p","c":12}
{"a":12,"b":"o","c":"bad"}
{"a":13,"b":"n\"","c":13}
EOF
	run weir-parse -s 'a BIGINT NOT NULL, b STRING, c INT' -c 'c, a, b' -d "$T/dlq" <"$T/in"
	assert_success
	assert_output - <<'EOF'
{"c":2,"a":1,"b":"x"}
{"c":3,"a":2,"b":"y"}
{"c":null,"a":3,"b":"z"}
{"c":5,"a":4,"b":"w"}
{"c":6,"a":5,"b":"v"}
{"c":7,"a":6,"b":"u"}
{"@weir":"watermark","t":1}
{"c":8,"a":8,"b":"t"}
{"c":9,"a":9,"b":null}
{"c":10,"a":10,"b":null}
{"c":11,"a":11,"b":"q"}
{"c":13,"a":13,"b":"n\""}
weir-parse: read 13, good 11, bad 2, filtered 0, coerced 0, control 1
EOF
	run cat "$T/dlq"
	assert_output - <<'EOF'
{"reason":"null in a NOT NULL field","field":"a","input":"-","line":12,"raw":"{\"a\":null,\"b\":\"p\",\"c\":12}"}
{"reason":"not a number: \"bad\"","field":"c","input":"-","line":13,"raw":"{\"a\":12,\"b\":\"o\",\"c\":\"bad\"}"}
EOF
	# a key read with escapes is not matched by its bytes: these are
	# other keys, or no JSON at all
	cat >"$T/in" <<'EOF'
{"a\\b":1}
{"a\b":2}
{"x\"y":3}
{"x"y":4}
EOF
	run weir-parse -d "$T/dlq2" <"$T/in"
	assert_success
	assert_output - <<'EOF'
{"a\\b":1}
{"a\b":2}
{"x\"y":3}
weir-parse: read 4, good 3, bad 1, filtered 0, coerced 0, control 0
EOF
	run cat "$T/dlq2"
	assert_output '{"reason":"expected '"':'"'","field":null,"input":"-","line":4,"raw":"{\"x\"y\":4}"}'
}

@test "parse: NDJSON -> framed -> NDJSON is lossless (property test over generated records)" {
	local seed
	for seed in 1 2 3 4 5 6; do
		awk -v seed=$seed -v count=1500 -f "$TOP/tests/parse/gen-typed.awk" >"$T/in"
		weir-parse -q -e drop -s "$SCHEMA_ALL" <"$T/in" >"$T/a"
		[ "$(wc -l <"$T/a")" -gt 500 ] || fail "seed $seed: too few valid records"
		# typed: through the framed encoding, once and twice
		weir-parse -q -e drop -s "$SCHEMA_ALL" --framed <"$T/in" | weir-parse -q >"$T/b"
		cmp "$T/a" "$T/b" || fail "seed $seed: typed framed round trip differs"
		WEIR_FRAMED=1 weir-parse -q -e drop -s "$SCHEMA_ALL" <"$T/in" | WEIR_FRAMED=1 weir-parse -q | weir-parse -q >"$T/b"
		cmp "$T/a" "$T/b" || fail "seed $seed: double framed round trip differs"
		# the canonical forms read back as themselves
		weir-parse -q -s "$SCHEMA_ALL" <"$T/a" >"$T/c"
		cmp "$T/a" "$T/c" || fail "seed $seed: canonical output is not a fixed point"
		# untyped JSON (decimals, floats, escapes) survives too
		weir-parse -q -e drop <"$T/in" >"$T/d"
		weir-parse -q -e drop --framed <"$T/in" | weir-parse -q >"$T/e"
		cmp "$T/d" "$T/e" || fail "seed $seed: untyped framed round trip differs"
	done
}

@test "parse: hostile input becomes dead letters or clear errors, never a crash" {
	# binary garbage, invalid UTF-8, truncated lines, CRLF, blank lines
	{
		printf '{"a":1}\r\n'
		printf '\n   \n'
		perl -e 'srand(7); print map { chr(int(rand(256))) } 1..3000' | tr -d '\n'
		printf '\n{"a":"\xff\xfe"}\n'
		printf '{"a":2\n'
		printf '{"a":3}'
	} >"$T/in"
	run weir-parse -s 'a INT' -d "$T/dlq" <"$T/in"
	assert_success
	assert_output $'{"a":1}\n{"a":3}\nweir-parse: read 5, good 2, bad 3, filtered 0, coerced 0, control 0'
	run jq -r '[.line, .reason, (has("raw_base64"))] | @tsv' "$T/dlq"
	assert_line --index 1 $'5\tinvalid UTF-8 in string\ttrue'
	assert_line --index 2 $'6\ttruncated object\tfalse'
	# lines longer than WEIR_MAX_RECORD are skipped without being held whole
	{
		echo '{"a":1}'
		printf '{"a":"'; head -c 300000 /dev/zero | tr '\0' x; echo '"}'
		echo '{"a":2}'
	} >"$T/long"
	run env WEIR_MAX_RECORD=100000 weir-parse -q -s 'a STRING' -d "$T/dlq2" <"$T/long"
	assert_success
	assert_output $'{"a":"1"}\n{"a":"2"}'
	run jq -c '[.line, .reason, .truncated, (.raw | length)]' "$T/dlq2"
	assert_output '[2,"record longer than the limit (WEIR_MAX_RECORD)",true,4096]'
	# deep nesting
	printf '%s\n' "$(printf '[%.0s' {1..300})" '{"a":4}' >"$T/deep"
	run weir-parse -q -e drop <"$T/deep"
	assert_output '{"a":4}'
	run weir-parse -q <"$T/deep"
	assert_failure 1
	assert_output "weir-parse: bad record at line 1 of '-': nesting too deep"
	# truncated and corrupt framed input
	weir-parse -q -s 'a INT' --framed <<<$'{"a":1}\n{"a":2}' >"$T/f"
	head -c -2 "$T/f" >"$T/ftrunc"
	run weir-parse -q -e drop <"$T/ftrunc"
	assert_output '{"a":1}'
	run weir-parse -q <"$T/ftrunc"
	assert_failure 1
	assert_output $'{"a":1}\nweir-parse: bad record at frame 3 of \'-\': truncated frame'
	# cut inside a frame's header (a writer killed mid-write): truncated too
	{ cat "$T/f"; printf 'R'; } >"$T/fcut"
	{ cat "$T/f"; printf 'R\200\200'; } >"$T/fcut2"
	for f in fcut fcut2; do
		run weir-parse -q <"$T/$f"
		assert_failure 1
		assert_output $'{"a":1}\n{"a":2}\nweir-parse: bad record at frame 4 of \'-\': truncated frame'
	done
	{ head -c 4 "$T/f"; printf 'Z\001x'; } >"$T/fbad"
	run weir-parse -q <"$T/fbad"
	assert_failure 1
	assert_output "weir-parse: bad record at frame 1 of '-': corrupt frame header"
}

@test "parse: --infer proposes a schema from a sample" {
	cat >"$T/in" <<'EOF'
{"id":1,"price":9.99,"at":"2024-05-01T10:00:00Z","day":"2024-05-01","tags":["a"],"user":{"name":"x"},"mixed":1,"n":null,"f":1e3}
{"id":2,"price":10,"at":"2024-05-01T11:00:00+02:00","day":"2024-05-02","tags":[],"user":{"name":"y","age":3},"mixed":"s","n":null,"f":2.5}
{"id":12345678901,"price":123.456,"at":"2024-05-01","day":"2024-05-03","user":{"name":null},"mixed":true}
EOF
	run weir-parse --infer <"$T/in"
	assert_success
	assert_output 'id BIGINT, price DECIMAL(10,3), at TIMESTAMP, day DATE, tags ARRAY<STRING>, user STRUCT<name STRING, age BIGINT>, mixed STRING, n STRING, f DOUBLE'
	# the inferred schema reads the sample
	run weir-parse -q -s "$(weir-parse --infer <"$T/in")" <"$T/in"
	assert_success
	# --sample stops early; envelopes are looked into
	run weir-parse --infer --sample 1 <"$T/in"
	assert_output 'id BIGINT, price DECIMAL(10,2), at TIMESTAMP, day DATE, tags ARRAY<STRING>, user STRUCT<name STRING>, mixed BIGINT, n STRING, f DOUBLE'
	"$TOP/scripts/gen-events" -n 50 --envelope t >"$T/env"
	run weir-parse --infer <"$T/env"
	assert_output 'event_id STRING, user_id BIGINT, session STRING, ts TIMESTAMP, action STRING, url STRING, amount DECIMAL(10,2), country STRING, device STRING'
	run weir-parse --infer </dev/null
	assert_failure 1
	assert_output "weir-parse: no records to infer a schema from"
}

@test "parse: counts on SIGUSR1 while waiting for input" {
	mkfifo "$T/fifo"
	weir-parse -q <"$T/fifo" >"$T/out" 2>"$T/err" &
	local pid=$!
	exec 7>"$T/fifo"
	echo '{"a":1}' >&7
	local i
	for i in $(seq 50); do [ -s "$T/out" ] && break; sleep 0.1; done
	kill -USR1 "$pid"
	for i in $(seq 50); do [ -s "$T/err" ] && break; sleep 0.1; done
	exec 7>&-
	wait "$pid"
	run cat "$T/err"
	assert_output "weir-parse: read 1, good 1, bad 0, filtered 0, coerced 0, control 0"
}

@test "parse: several inputs in order, and a full disk fails with status 2" {
	echo '{"a":1}' >"$T/1"
	echo '{"a":2}' >"$T/2"
	run weir-parse -q "$T/1" - "$T/2" <<<'{"a":"stdin"}'
	assert_output $'{"a":1}\n{"a":"stdin"}\n{"a":2}'
	# an input that cannot be opened ends the run, after what came before
	run weir-parse -q "$T/1" "$T/missing" "$T/2"
	assert_failure 2
	assert_output $'{"a":1}\nweir-parse: cannot open \''"$T/missing"$'\': No such file or directory'
	run bash -c "weir-parse -q <'$T/1' >/dev/full"
	assert_failure 2
	assert_output "weir-parse: write failure on standard output: No space left on device"
	run bash -c "weir-parse -q -s 'a INT' -d /dev/full <<<'{\"a\":\"x\"}'"
	assert_failure 2
	assert_output "weir-parse: write failure on dead-letter file '/dev/full': No space left on device"
	# a dead-letter reader that goes away is an error, not a quiet exit
	mkfifo "$T/fifo"
	head -c 1 <"$T/fifo" >/dev/null &
	run bash -c "yes '{\"a\":\"x\"}' | head -n 5000 | weir-parse -q -s 'a INT' -d '$T/fifo'"
	assert_failure 2
	assert_output "weir-parse: dead-letter file '$T/fifo' closed by its reader"
}

@test "parse: the man page examples run" {
	run bash -c "echo '{\"user\":{\"id\":7},\"action\":\"purchase\",\"amount\":\"12.5\"}' | weir-parse -q -s 'user STRUCT<id BIGINT>, action STRING, amount DECIMAL(10,2)' -c 'user.id AS uid, amount' -w 'action = \"purchase\" AND amount > 10'"
	assert_output '{"uid":7,"amount":12.50}'
	run bash -c "echo '{\"id\":1,\"price\":9.99,\"at\":\"2024-05-01T10:00:00Z\"}' | weir-parse --infer"
	assert_output 'id BIGINT, price DECIMAL(10,2), at TIMESTAMP'
}

@test "parse: the framed bytes are exactly those weir-records(5) shows" {
	printf '\377WR1S\125%s\122\002\002\002' \
		'{"type":"struct","fields":[{"name":"a","type":"long","nullable":true,"metadata":{}}]}' >"$T/want"
	echo '{"a":1}' | weir-parse -q -s 'a BIGINT' --framed >"$T/got"
	cmp "$T/want" "$T/got"
	# a record without the schema's keys goes in a data frame: the page's
	# two records, passed on from data frames
	{ head -c -4 "$T/want"; printf '\104\006\013\001\001a\002\002\104\006\013\001\001b\002\002'; } >"$T/in"
	printf '\104\006\013\001\001b\002\002' >>"$T/want"
	weir-parse -q --framed <"$T/in" >"$T/got"
	cmp "$T/want" "$T/got"
	printf '\377WR1S\000C\033{"@weir":"watermark","t":5}' >"$T/want"
	echo '{"@weir":"watermark","t":5}' | weir-parse -q --framed >"$T/got"
	cmp "$T/want" "$T/got"
	# an empty framed stream still says what it is
	weir-parse -q --framed </dev/null >"$T/got"
	printf '\377WR1S\000' >"$T/want"
	cmp "$T/want" "$T/got"
	# WEIR_FRAMED=1 for a whole pipeline, WEIR_FRAMED=0 for the last stage
	run bash -c "echo '{\"a\":1}' | WEIR_FRAMED=1 weir-parse -q -s 'a INT' | WEIR_FRAMED=0 weir-parse -q"
	assert_output '{"a":1}'
}

@test "parse: lib/expr pruning over partition values and min/max stats" {
	# not reachable through weir-parse options: a table of cases in C
	cc -std=gnu11 -D_GNU_SOURCE -g -fsanitize=address,undefined -Wall -Werror -I"$TOP/lib" -o "$T/expr-prune" \
		"$TOP/tests/parse/expr-prune.c" "$TOP"/lib/{expr,json,value,buf,diag,timeutil,base64}.c -lm
	run "$T/expr-prune"
	assert_success
	assert_output ""
}

@test "parse: weir-ingest -C | weir-parse, with a dead-letter topic fed through a FIFO" {
	start_broker --topic clicks:2 --topic dlq:1
	"$TOP/scripts/gen-events" -n 50 --ts ms >"$T/ev"
	echo '{"event_id":"bad","user_id":"nobody"}' >>"$T/ev"
	weir-ingest -P -b "$BROKERS" -t clicks --raw <"$T/ev"
	mkfifo "$T/dlq"
	weir-ingest -P -b "$BROKERS" -t dlq --raw <"$T/dlq" &
	local producer=$!
	weir-ingest -C -b "$BROKERS" -t clicks -e --checkpoint-interval 20 |
		weir-parse -q -s 'event_id STRING NOT NULL, user_id BIGINT NOT NULL, ts TIMESTAMP' -m 'partition, offset' \
			--dlq "$T/dlq" >"$T/out"
	# 50 typed rows with their Kafka position, the barriers passed through
	run jq -s -c '[(map(select(has("@weir") | not)) | length), (map(select(.["@weir"] == "barrier")) | length > 0),
		(map(.ts | select(. != null)) | min),
		(map(select(has("@weir") | not)) | all(.partition == 0 or .partition == 1) and all(.offset >= 0))]' "$T/out"
	assert_output '[50,true,"2024-01-01T00:00:00.000000Z",true]'
	wait "$producer"
	run bash -c "weir-ingest -C -b '$BROKERS' -t dlq -e | jq -r '.value | fromjson | [.reason, .field, .topic] | @tsv'"
	assert_output $'not a number: "nobody"\tuser_id\tclicks'
	stop_broker
}

@test "a number with more digits than a DOUBLE holds is rounded once, as its text reads" {
	# 6353093552187065643.4 as a double rounded, then divided by ten,
	# rounds twice and ends one step too high (...066e+18)
	run weir-parse -q -s 'x DOUBLE' <<'IN'
{"x":6353093552187065643.4}
{"x":0.1234567890123456789012345}
{"x":-9007199254740993.5}
{"x":0.1}
IN
	assert_success
	assert_output '{"x":6.353093552187065e+18}
{"x":0.12345678901234568}
{"x":-9007199254740994.0}
{"x":0.1}'
}

@test "decimals print every digit, the scale kept, beyond 64 bits and below one" {
	run weir-parse -q -s 'd DECIMAL(38,5)' <<'IN'
{"d":"-1234567890123456789012345678.90123"}
{"d":0}
{"d":"-0.05"}
{"d":7}
{"d":"99999999999999999999999999999999.99999"}
{"d":"10203.0405"}
IN
	assert_success
	assert_output '{"d":-1234567890123456789012345678.90123}
{"d":0.00000}
{"d":-0.05000}
{"d":7.00000}
{"d":99999999999999999999999999999999.99999}
{"d":10203.04050}'
	run weir-parse -q -s 'd DECIMAL(18,0)' <<<'{"d":"-900719925474099"}'
	assert_output '{"d":-900719925474099}'
	# the limits of scale 0, 1 and 38
	run weir-parse -q -s 'a DECIMAL(38,0), b DECIMAL(3,1), c DECIMAL(38,38)' <<'IN'
{"a":"99999999999999999999999999999999999999","b":"-0.5","c":"0.99999999999999999999999999999999999999"}
{"a":"-99999999999999999999999999999999999999","b":0,"c":"-0.00000000000000000000000000000000000001"}
IN
	assert_success
	assert_output '{"a":99999999999999999999999999999999999999,"b":-0.5,"c":0.99999999999999999999999999999999999999}
{"a":-99999999999999999999999999999999999999,"b":0.0,"c":-0.00000000000000000000000000000000000001}'
	# values no option reaches (INT128_MIN, scales past a type's): lib/value.c
	# against a digit-by-digit rendering
	cc -std=gnu11 -D_GNU_SOURCE -g -fsanitize=address,undefined -Wall -Werror -I"$TOP/lib" -o "$T/decimal-format" \
		"$TOP/tests/parse/decimal-format.c" "$TOP"/lib/{value,buf,diag}.c -lm
	run "$T/decimal-format"
	assert_success
	assert_output ""
}

@test "decimals of different scales compare exactly, as filters and sorts see them" {
	# a filter's literal against a column at another scale takes decimal_cmp
	run weir-parse -q -s 'd DECIMAL(38,2)' --where 'd > 0.005' <<'IN'
{"d":"0.01"}
{"d":"0.00"}
{"d":"-0.01"}
{"d":"999999999999999999999999999999999999.99"}
IN
	assert_success
	assert_output '{"d":0.01}
{"d":999999999999999999999999999999999999.99}'
	# 27 digits in, where the two of a pair are equal as doubles
	cat >"$T/in" <<'IN'
{"a":"123456789012345678901234567","b":"123456789012345678901234567.00000000001"}
{"a":"-123456789012345678901234567","b":"-123456789012345678901234567.00000000001"}
{"a":"5","b":"5.00000000000"}
IN
	run weir-parse -q -s 'a DECIMAL(38,0), b DECIMAL(38,11)' -w 'a < b' "$T/in"
	assert_output '{"a":123456789012345678901234567,"b":123456789012345678901234567.00000000001}'
	run weir-parse -q -s 'a DECIMAL(38,0), b DECIMAL(38,11)' -w 'b < a' "$T/in"
	assert_output '{"a":-123456789012345678901234567,"b":-123456789012345678901234567.00000000001}'
	run weir-parse -q -s 'a DECIMAL(38,0), b DECIMAL(38,11)' -w 'a = b' "$T/in"
	assert_output '{"a":5,"b":5.00000000000}'
	# every pair of scales, edge values and 400k random ones: lib/value.h
	# against an exact comparison of their text
	cc -std=gnu11 -D_GNU_SOURCE -g -fsanitize=address,undefined -Wall -Werror -I"$TOP/lib" -o "$T/decimal-cmp" \
		"$TOP/tests/parse/decimal-cmp.c" "$TOP"/lib/{value,buf,diag}.c -lm
	run "$T/decimal-cmp"
	assert_success
	assert_output ""
}
