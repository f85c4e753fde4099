#!/bin/sh
# Build every libFuzzer target tests/fuzz/NAME_fuzz.c against lib/ with
# clang -fsanitize=fuzzer,address,undefined and run each for $FUZZ_SECONDS
# (default 600), nice'd.  A target's corpus starts from its committed
# regression inputs (tests/fuzz/corpus-NAME/) plus seeds from
# tests/fuzz/NAME_seeds.sh when present; crashers land in build-fuzz/NAME/
# and must be added to tests/fuzz/corpus-NAME/ once fixed.
set -eu
cd "$(dirname "$0")/.."
: "${FUZZ_SECONDS:=600}"
: "${CC_FUZZ:=clang}"
out=build-fuzz
mkdir -p "$out"
pkgs="rdkafka libarchive libzstd snappy zlib liblz4 libbrotlienc libbrotlidec"
cflags="-std=gnu11 -g -O1 -D_GNU_SOURCE -Ilib -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $(pkg-config --cflags $pkgs)"
libs="$(pkg-config --libs $pkgs) -lm -lpthread"
status=0
for src in tests/fuzz/*_fuzz.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" _fuzz.c)
	bin=$out/${name}_fuzz
	echo "fuzz: building $name" >&2
	# shellcheck disable=SC2086
	$CC_FUZZ $cflags -o "$bin" "$src" lib/*.c $libs
	work=$out/$name/corpus
	mkdir -p "$work" "$out/$name/crashes"
	[ -d "tests/fuzz/corpus-$name" ] && cp -n tests/fuzz/corpus-"$name"/* "$work"/ 2>/dev/null || true
	[ -x "tests/fuzz/${name}_seeds.sh" ] && "tests/fuzz/${name}_seeds.sh" "$work"
	echo "fuzz: running $name for ${FUZZ_SECONDS}s" >&2
	if ! nice "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
		-artifact_prefix="$out/$name/crashes/" -print_final_stats=1 "$work" 2>"$out/$name/log"; then
		echo "fuzz: $name found a problem; see $out/$name/log and $out/$name/crashes/" >&2
		status=1
	fi
	tail -n 12 "$out/$name/log" >&2
done
exit $status
