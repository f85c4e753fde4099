#!/bin/sh
# make demo: weir's first run.  An embedded Kafka broker, a generated
# clickstream with the usual dirt in it (duplicates, late and malformed
# events), and a bronze/silver/gold pipeline into Delta tables: the pipeline
# is examples/medallion.sh, run here on its sample data.  Everything runs in
# the foreground and stops at the end; tables stay in $TMPDIR/weir-demo.
set -eu
cd "$(dirname "$0")/.."
dir=${TMPDIR:-/tmp}/weir-demo
rm -rf "$dir"

cat <<'EOF'
weir demo: clickstream from Kafka into bronze, silver and gold Delta tables

  weir-broker      an in-memory Kafka broker (nothing to install or configure)
  gen-events       a deterministic clickstream: users, sessions, purchases,
                   3% duplicates, 2% late events, 0.5% malformed ones
  weir-ingest -P   produces it to the topic 'clicks'
  then three pipelines read the topic, each exactly-once into its own table:
    bronze  weir-ingest | weir-lake-write                    raw messages
    silver  weir-ingest | weir-parse | weir-dedup | weir-lake-write
    gold    weir-ingest | weir-parse | weir-dedup | weir-window | weir-lake-write
  they run to the end of the topic, more events arrive, and the same
  commands go on from where their tables say they stopped;
  weir-lake-cat and weir-lag show what came out.

The gold pipeline, as examples/medallion.sh runs it:

EOF
{
	sed -n '/^from_topic() {/,/^}/p' examples/medallion.sh |
		sed '1d;$d; s/"lake\/\$1"/lake\/gold/; s/"\$1"/gold/; s/"\$brokers"/$K/; s/"\$topic"/clicks/; s/\$once/-e/' | sed '$s/$/ |/'
	sed -n '/^gold() {/,/^}/p' examples/medallion.sh | sed '1,2d;$d'
} | sed 's/^\t//'

sh examples/medallion.sh "$dir"

echo
echo "The broker is stopped and nothing is left running.  Next, the examples"
echo "(each runs on its own sample data: sh examples/NAME.sh):"
for f in examples/*.sh; do
	[ "$f" = examples/common.sh ] && continue
	printf '  %-22s %s\n' "${f#examples/}" "$(sed -n '2s/^# //p' "$f")"
done
cat <<'EOF'
the manual: man -l man/weir.7 (the pipeline model), man -l man/weir-NAME.1
the tests:  make check
EOF
