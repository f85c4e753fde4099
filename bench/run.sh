#!/bin/sh
# make bench: run every bench/*.sh side by side with its peer, one after the
# other (the machine has two cores; parallel runs would measure each other),
# and write bench/RESULTS.md with the machine, the date and every script's
# report.  Scripts print Markdown; a script that fails is reported, not hidden.
#
# sh bench/run.sh NAME...  runs only bench/NAME.sh and replaces its section
# in the existing RESULTS.md, keeping the others; each section says when it
# ran, so a file that mixes runs shows it.
set -u
cd "$(dirname "$0")/.."
out=bench/RESULTS.md
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.old"' EXIT

if [ $# -gt 0 ]; then
	for n; do
		[ -f "bench/$n.sh" ] || { echo "bench/run.sh: no bench/$n.sh" >&2; exit 2; }
	done
	[ -f "$out" ] || { echo "bench/run.sh: no $out to update: run make bench first" >&2; exit 2; }
	names=$*
else
	names=$(for b in bench/*.sh; do [ "$b" = bench/run.sh ] || basename "$b" .sh; done)
fi

# the DuckDB the scripts install into the cache on first use
duckdb=$(jq -r .version "${WEIR_CACHE:-.cache}/duckdb/node_modules/@duckdb/node-api/package.json" 2>/dev/null)
{
	echo "# weir benchmark results"
	echo
	echo "Written by \`make bench\`; each section says when it ran."
	echo
	echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
		"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
		"$(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)." \
		"The machine is shared with other work: wall times include waiting for" \
		"a core, so the scripts report CPU time beside them where they can."
	echo "Peers: kcat $(kcat -V 2>/dev/null | sed -n 's/^Version \([^ ]*\).*librdkafka \([^ ]*\).*/\1 (librdkafka \2)/p')," \
		"$(jq --version 2>/dev/null), DuckDB ${duckdb:-(installed on first use)} (npm @duckdb/node-api)."
	echo "Ratios are peer time / weir time (above 1.0 weir is faster) unless a row says otherwise."
	echo
} >"$tmp"

# section NAME FILE: the "## NAME" part of FILE, up to the next one
section() {
	awk -v h="## $1" '$0 == h { on = 1; print; next } /^## / { on = 0 } on' "$2"
}

[ -f "$out" ] && cp "$out" "$tmp.old"
for b in bench/*.sh; do
	[ "$b" = bench/run.sh ] && continue
	name=$(basename "$b" .sh)
	case " $(echo $names) " in
	*" $name "*) ;;
	*)
		# not asked for: keep what the last run wrote, if anything
		[ -f "$tmp.old" ] && section "$name" "$tmp.old" >>"$tmp"
		continue ;;
	esac
	echo "== $name" >&2
	{
		echo "## $name"
		echo
		echo "Run $(date -u '+%Y-%m-%d %H:%M UTC')."
		echo
	} >>"$tmp"
	if ! nice sh "$b" >>"$tmp" 2>bench/"$name".log; then
		echo "**failed** (see bench/$name.log)" >>"$tmp"
	fi
	echo >>"$tmp"
done
mv "$tmp" "$out"
echo "wrote $out" >&2
