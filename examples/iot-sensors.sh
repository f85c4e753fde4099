#!/bin/sh
# IoT sensor averages, with late data and a dead-letter file.
#
# Three temperature sensors report every 15 seconds through a gateway that
# forwards NDJSON (here a file; in production `weir-ingest -C` on the MQTT
# bridge's topic).  We want per-sensor 1-minute averages in a Delta table, and
# the real world gets in the way twice:
#   - the freezer's gateway loses its uplink from 10:03:00 to 10:06:30 and then
#     sends everything it buffered at once.  The watermark (latest event time
#     minus 1 minute) is then 10:05:30: the minutes 10:03 and 10:04 are final
#     already, so their readings are late and go to late.ndjson instead of
#     silently changing results that were written; 10:05 is still open and
#     takes its readings;
#   - three messages are broken (a sensor error code instead of a number, a
#     line cut off by a power loss, a reading without a sensor id): they go to
#     dead.ndjson with the reason, and the stream goes on.
#
# usage: examples/iot-sensors.sh [DIR]     (DIR: where files and tables go)
set -eu
. "$(dirname "$0")/common.sh"
workdir iot-sensors "${1:-}"
cd "$work"

step "readings as the gateway forwards them (epoch milliseconds)"
# 10:00:00 to 10:09:45 UTC on 2024-05-01, one reading per sensor every 15 s
awk 'BEGIN {
	t0 = 1714557600
	split("boiler-1 boiler-2 freezer-1", name, " ")
	split("65 71 -18", base, " ")
	for (i = 0; i < 40; i++) {
		t = t0 + 15 * i
		for (s = 1; s <= 3; s++) {
			temp = base[s] + ((i * 7 + s * 3) % 11 - 5) / 10
			line = sprintf("{\"sensor\":\"%s\",\"ts\":%d000,\"temp_c\":%.1f}", name[s], t, temp)
			if (s == 3 && t >= t0 + 180 && t < t0 + 390) {
				buf = buf line "\n"      # uplink down: the gateway buffers
				continue
			}
			if (s == 3 && t == t0 + 390) {
				printf "%s", buf         # uplink back: the backlog first
				buf = ""
			}
			if (s == 2 && i == 8)
				line = sprintf("{\"sensor\":\"%s\",\"ts\":%d000,\"temp_c\":\"E04\"}", name[s], t)
			if (s == 1 && i == 32)
				line = substr(line, 1, 30)
			print line
		}
		if (i == 20)
			printf "{\"ts\":%d000,\"temp_c\":21.5}\n", t
	}
}' >readings.ndjson
wc -l <readings.ndjson | sed 's/ *$/ readings, e.g.:/'
head -n 3 readings.ndjson

step "type them, aggregate per sensor and minute, write a Delta table"
weir-parse -q --schema 'sensor STRING NOT NULL, ts TIMESTAMP NOT NULL, temp_c DOUBLE NOT NULL' \
	--dlq dead.ndjson readings.ndjson |
	weir-window --tumble 1m --time ts --delay 1m --by sensor --late late.ndjson --framed \
		--agg 'count(*) AS readings, avg(temp_c) AS avg_c, min(temp_c) AS min_c, max(temp_c) AS max_c' |
	weir-lake-write lake/sensor_1m >/dev/null
echo "table lake/sensor_1m: $(weir-lake-cat lake/sensor_1m | wc -l) rows"

step "the freezer's minutes: 10:03 and 10:04 are missing, 10:05 is complete"
weir-lake-cat lake/sensor_1m --where "sensor = 'freezer-1'" |
	jq -r '[.window_start[11:16], .sensor, .readings, (.avg_c * 100 | round / 100), .min_c, .max_c] | @tsv' |
	sort

step "late readings, kept in late.ndjson for a batch correction"
echo "$(wc -l <late.ndjson | tr -d ' ') late readings, from $(jq -r .ts late.ndjson | sort | head -n 1) to $(jq -r .ts late.ndjson | sort | tail -n 1)"

step "dead letters, kept in dead.ndjson with the reason"
jq -r '"line \(.line): \(.reason)\(if .field then " (\(.field))" else "" end)"' dead.ndjson

echo
echo "files and tables are in $work"
