#!/bin/sh
# make bench: run every bench/*.sh side by side with its peer, one after the
# other (the machine has two cores; parallel runs would measure each other),
# and write bench/RESULTS.md with the machine, the date and every script's
# report.  Scripts print Markdown; a script that fails is reported, not hidden.
set -u
cd "$(dirname "$0")/.."
out=bench/RESULTS.md
tmp=$(mktemp)
{
	echo "# weir benchmark results"
	echo
	echo "Written by \`make bench\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo
	echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
		"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
		"$(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)."
	echo "Peers: $(kcat -V 2>/dev/null | head -1 | cut -c1-40); $(jq --version 2>/dev/null)."
	echo "Ratios are peer time / weir time (above 1.0 weir is faster) unless a row says otherwise."
	echo
} >"$tmp"
for b in bench/*.sh; do
	[ "$b" = bench/run.sh ] && continue
	name=$(basename "$b" .sh)
	echo "== $name" >&2
	echo "## $name" >>"$tmp"
	echo >>"$tmp"
	if ! nice sh "$b" >>"$tmp" 2>bench/"$name".log; then
		echo "**failed** (see bench/$name.log)" >>"$tmp"
	fi
	echo >>"$tmp"
done
mv "$tmp" "$out"
echo "wrote $out" >&2
