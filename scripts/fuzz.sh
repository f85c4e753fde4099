#!/bin/sh
# make fuzz: build every libFuzzer target tests/fuzz/NAME_fuzz.c against
# lib/ with clang -fsanitize=fuzzer,address,undefined and run each for
# FUZZ_SECONDS (default 600), niced and one after the other (the machine is
# shared).
#
#   FUZZ_SECONDS=60 sh scripts/fuzz.sh          every target, a minute each
#   sh scripts/fuzz.sh json expr                only these targets
#
# A target's corpus (build-fuzz/NAME/corpus) starts from its committed seeds
# (tests/fuzz/corpus-NAME/), the inputs that once broke it
# (tests/fuzz/regress/NAME-*), and whatever tests/fuzz/NAME_seeds.sh DIR
# adds; tests/fuzz/NAME.dict is used when present.  Crashers land in
# build-fuzz/NAME/crashes/; once fixed, add them to tests/fuzz/regress/
# (tests/fuzz.bats replays those through the tools) or corpus-NAME/.
# Exit status: 0 when every target ran clean, 1 when one found a problem,
# 2 when a build failed.
set -u
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-600}
cc=${CC_FUZZ:-clang}
out=build-fuzz
pkgs="rdkafka libarchive libzstd snappy zlib liblz4 libbrotlienc libbrotlidec"
command -v "$cc" >/dev/null || { echo "fuzz: $cc not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
# shellcheck disable=SC2086
cflags="-std=gnu11 -g -O1 -D_GNU_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -Ilib -fno-omit-frame-pointer -fsanitize=address,undefined \
-fno-sanitize-recover=undefined $(pkg-config --cflags $pkgs 2>/dev/null)"
# shellcheck disable=SC2086
libs="$(pkg-config --libs $pkgs 2>/dev/null) -lm -lpthread"

# lib/ once, instrumented for coverage, shared by every target
mkdir -p "$out/obj"
objs=""
for c in lib/*.c; do
	o=$out/obj/$(basename "$c" .c).o
	if [ ! -e "$o" ] || [ "$c" -nt "$o" ] || [ -n "$(find lib -name '*.h' -newer "$o")" ]; then
		# shellcheck disable=SC2086
		$cc $cflags -fsanitize=fuzzer-no-link -c -o "$o" "$c" || exit 2
	fi
	objs="$objs $o"
done

if [ $# -gt 0 ]; then
	targets=""
	for n in "$@"; do targets="$targets tests/fuzz/${n}_fuzz.c"; done
else
	targets=$(ls tests/fuzz/*_fuzz.c)
fi

status=0
for src in $targets; do
	name=$(basename "$src" _fuzz.c)
	bin=$out/${name}_fuzz
	echo "fuzz: building $name" >&2
	# shellcheck disable=SC2086
	$cc $cflags -fsanitize=fuzzer -o "$bin" "$src" $objs $libs || exit 2
	work=$out/$name/corpus
	mkdir -p "$work" "$out/$name/crashes"
	for seed in tests/fuzz/corpus-"$name"/* tests/fuzz/regress/"$name"-*; do
		[ -f "$seed" ] && cp -n "$seed" "$work/"
	done
	[ -x "tests/fuzz/${name}_seeds.sh" ] && "tests/fuzz/${name}_seeds.sh" "$work"
	dict=""
	[ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
	# libarchive reserves the read-ahead a header promises (a cpio name
	# size of up to 4 GiB) and never touches it when the file is shorter:
	# address space, which only the RSS limit should judge
	limit=""
	[ "$name" = lines ] && limit="-malloc_limit_mb=16384"
	echo "fuzz: running $name for ${seconds}s" >&2
	# shellcheck disable=SC2086
	if ! nice -n 19 "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
		-artifact_prefix="$out/$name/crashes/" -print_final_stats=1 $dict $limit "$work" 2>"$out/$name/log"; then
		echo "fuzz: $name found a problem; see $out/$name/log and $out/$name/crashes/" >&2
		status=1
	fi
	tail -n 12 "$out/$name/log" >&2
done
exit $status
