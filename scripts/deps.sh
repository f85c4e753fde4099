#!/bin/sh
# Install what weir needs to build and test, from Debian 12 packages only.
# Checks first (pkg-config for libraries, command -v for programs) so that a
# machine that has everything is not touched; installs with apt-get when root,
# otherwise prints the exact command and stops.
set -eu

# library pkg-config name -> Debian package
libs="rdkafka:librdkafka-dev libarchive:libarchive-dev
libzstd:libzstd-dev snappy:libsnappy-dev zlib:zlib1g-dev liblz4:liblz4-dev
libbrotlienc:libbrotli-dev libbrotlidec:libbrotli-dev"
# program -> Debian package
progs="pkg-config:pkg-config cc:gcc make:make bats:bats kcat:kcat jq:jq
node:nodejs npm:npm mandoc:mandoc clang:clang xz:xz-utils zstd:zstd
bzip2:bzip2 zip:zip bc:bc"
# files that have no pkg-config or program to probe
files="/usr/bin/time:time
/usr/lib/bats/bats-assert/load.bash:bats-assert
/usr/lib/bats/bats-support/load.bash:bats-support
/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a:libclang-rt-14-dev"

missing=""
add() { case " $missing " in *" $1 "*) ;; *) missing="$missing $1" ;; esac; }

for p in $progs; do command -v "${p%%:*}" >/dev/null 2>&1 || add "${p#*:}"; done
for f in $files; do [ -e "${f%%:*}" ] || add "${f#*:}"; done
if command -v pkg-config >/dev/null 2>&1; then
	for l in $libs; do pkg-config --exists "${l%%:*}" || add "${l#*:}"; done
else
	for l in $libs; do add "${l#*:}"; done
fi

[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "weir deps: missing Debian packages; run:" >&2
	echo "  sudo apt-get install -y$missing" >&2
	exit 2
fi
echo "weir deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists; an install against stale lists fails.
apt-get update -qq >&2 || true
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
