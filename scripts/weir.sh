#!/bin/sh
# weir - run weir-NAME, git style: `weir ingest -C ...` is `weir-ingest -C ...`.
# Looks beside itself first so an uninstalled build tree works.
here=$(dirname "$0")
case "${1:-}" in
""|help|-h|--help)
	echo "usage: weir PROGRAM [ARGS...]"
	echo
	echo "programs:"
	for p in "$here"/weir-*; do
		[ -x "$p" ] || continue
		n=${p##*/weir-}
		# the first line of --help after the synopsis says what it does
		d=$("$p" --help 2>/dev/null | sed -n '/^$/{n;p;q;}')
		printf '  %-12s %s\n' "$n" "$d"
	done
	exit 0 ;;
--version|-V)
	echo "weir 0.1.0"; exit 0 ;;
esac
prog=$1
shift
if [ -x "$here/weir-$prog" ]; then
	exec "$here/weir-$prog" "$@"
fi
if command -v "weir-$prog" >/dev/null 2>&1; then
	exec "weir-$prog" "$@"
fi
echo "weir: unknown program: '$prog' (see 'weir help')" >&2
exit 2
