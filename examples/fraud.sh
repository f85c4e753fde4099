#!/bin/sh
# Fraud detection: payments enriched from a table, sliding windows, alerts.
#
# Payments arrive on the topic 'payments'.  Each is joined with its card's
# row in the Delta table lake/cards (stream–static enrichment: the table is
# held in memory, and --refresh would pick up new versions).  A 10-minute
# window sliding every minute, per card, counts payments, countries and
# spend; a card is suspicious when it pays in 3 or more countries within 10
# minutes (a stolen card being tried) or spends more than its limit.  Each
# suspicious card raises one alert per 10 minutes, produced to the topic
# 'alerts' for the case-management system to consume.
#
# usage: examples/fraud.sh [DIR]     (DIR: where files and tables go)
set -eu
. "$(dirname "$0")/common.sh"
workdir fraud "${1:-}"
cd "$work"

step "cards: a Delta table of 40 cards with home country and 10-minute limit"
awk 'BEGIN {
	split("DE FR NL ES IT", c, " ")
	for (i = 1; i <= 40; i++)
		printf "{\"card_id\":%d,\"customer\":\"c%03d\",\"home_country\":\"%s\",\"limit_eur\":%d}\n", i, i * 7 % 1000, c[i % 5 + 1], 500 + i % 4 * 500
}' | weir-lake-write --schema 'card_id BIGINT NOT NULL, customer STRING, home_country STRING, limit_eur DECIMAL(10,2)' lake/cards
weir-lake-cat lake/cards | head -n 2

step "payments: an hour of them on the topic 'payments', with two frauds in it"
start_broker payments:1 alerts:1
# every card pays at home every 6 to 15 minutes; card 7 is tried in four
# countries within 5 minutes at 10:20, card 23 spends 3 x 900 at 10:40, and
# card 12 pays once abroad (a traveller: no alert)
awk 'BEGIN {
	split("DE FR NL ES IT", c, " ")
	t0 = 1714557600; n = 0
	for (i = 1; i <= 40; i++)
		for (t = t0 + i * 13 % 360; t < t0 + 3600; t += 360 + (i * 37 + t) % 540)
			pay(i, t, c[i % 5 + 1], 5 + (i * t) % 120)
	split("US BR TH RU", far, " ")
	for (k = 1; k <= 4; k++)
		pay(7, t0 + 1200 + k * 60, far[k], 1 + k)
	for (k = 1; k <= 3; k++)
		pay(23, t0 + 2400 + k * 120, "NL", 900)
	pay(12, t0 + 1800, "PT", 42)
}
function pay(card, t, country, amount) {
	printf "%d\t{\"txn_id\":\"t%05d\",\"card_id\":%d,\"ts\":\"%s\",\"amount\":%.2f,\"country\":\"%s\"}\n",
		t, ++n, card, iso(t), amount, country
}
function iso(t,   d, s) {
	s = t - 1714521600
	return sprintf("2024-05-01T%02d:%02d:%02dZ", int(s / 3600), int(s % 3600 / 60), s % 60)
}' | sort -n | cut -f 2 >payments.ndjson
jq -c '{key: (.card_id | tostring), value: tojson}' payments.ndjson | weir-ingest -P -b "$K" -t payments
echo "$(weir-ingest -C -b "$K" -t payments -e | wc -l) payments produced"

step "the detector: enrich, window, score, alert"
weir-ingest -C -b "$K" -t payments -e |
	weir-parse -q --framed \
		--schema 'txn_id STRING NOT NULL, card_id BIGINT NOT NULL, ts TIMESTAMP NOT NULL, amount DECIMAL(10,2) NOT NULL, country STRING' |
	weir-join --right lake/cards --on card_id --framed |
	weir-window --slide 10m,1m --time ts --delay 1m --by card_id --framed --agg 'count(*) AS payments,
		count_distinct(country) AS countries, sum(amount) AS spent, first(limit_eur) AS limit_eur,
		first(customer) AS customer, first(home_country) AS home_country' |
	weir-parse -q --where 'countries >= 3 OR spent > limit_eur' |
	weir-dedup --key card_id --within 10m --time window_start |
	grep -v '"@weir"' |
	jq -c '{key: (.card_id | tostring),
		value: ({card_id, customer, home_country, window_end, payments, countries, spent,
			rule: (if .countries >= 3 then "countries" else "over_limit" end)} | tojson)}' |
	weir-ingest -P -b "$K" -t alerts
echo "alerts produced: $(weir-ingest -C -b "$K" -t alerts -e | wc -l)"

step "the alerts topic, as the case-management system reads it"
weir-ingest -C -b "$K" -t alerts -e | jq -c '.value | fromjson'

echo
echo "files and tables are in $work"
