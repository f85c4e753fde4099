#!/bin/sh
# Seeds for lines_fuzz: one small input of every kind lines.c recognizes,
# made at fuzz time so no binary lands in the repository.
set -eu
out=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
printf 'a\nbb\n\nccc\r\nlast' >plain
printf '{"value":"x"}||k:v||' >pipes
cp plain m1
cp pipes m2
gzip -c plain >"$out/seed.gz"
zstd -q -c plain >"$out/seed.zst"
xz -c plain >"$out/seed.xz"
bzip2 -c plain >"$out/seed.bz2"
tar cf "$out/seed.tar" m1 m2
tar czf "$out/seed.tgz" m1 m2
command -v zip >/dev/null && zip -q "$out/seed.zip" m1 m2
printf 'm1\nm2\n' | cpio -o -H newc >"$out/seed.cpio" 2>/dev/null || true
cp plain "$out/seed.plain"
cp pipes "$out/seed.pipes"
