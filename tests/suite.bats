#!/usr/bin/env bats
# Contracts every program keeps (ARCHITECTURE §7): --help/--version, usage
# errors exit 2, SYNOPSIS equals the man page, man pages lint clean, stdout
# checked at exit, and the weir dispatcher.

load helper

tools() {
	local t
	for t in "$TOP"/tools/*.c; do
		[ -e "$t" ] && basename "$t" .c
	done
}

@test "every tool has --help, --version and a long option for usage errors" {
	for t in $(tools); do
		run "weir-$t" --help
		[ "$status" -eq 0 ] || fail "weir-$t --help exited $status"
		[[ ${lines[0]} == "usage: weir-$t"* ]] || fail "weir-$t --help does not start with its synopsis"
		run "weir-$t" --version
		[ "$status" -eq 0 ] && [ "$output" = "weir-$t 0.1.0" ] || fail "weir-$t --version: $output"
		run "weir-$t" --no-such-option
		[ "$status" -eq 2 ] || fail "weir-$t with an unknown option exited $status"
		[[ $output == *"usage: weir-$t"* ]] || fail "weir-$t did not print its usage on a bad option"
	done
}

@test "every tool's --help synopsis matches its man page" {
	for t in $(tools); do
		[ -f "$TOP/man/weir-$t.1" ] || fail "man/weir-$t.1 is missing"
		check_synopsis "weir-$t" || fail "synopsis of weir-$t differs from man/weir-$t.1"
	done
}

@test "man pages lint clean" {
	command -v mandoc >/dev/null || skip "mandoc not installed"
	for m in "$TOP"/man/*.[157]; do
		run mandoc -T lint -W warning "$m"
		[ "$status" -eq 0 ] && [ -z "$output" ] || fail "$(basename "$m"): $output"
	done
}

@test "--help to a full disk fails with status 2" {
	for t in $(tools); do
		# the redirection must apply to the tool, not to run's capture
		run bash -c "weir-$t --help >/dev/full"
		[ "$status" -eq 2 ] || fail "weir-$t --help >/dev/full exited $status"
	done
}

@test "weir dispatches to weir-NAME and lists programs" {
	run weir help
	[ "$status" -eq 0 ]
	for t in $(tools); do
		d=$("weir-$t" --help | sed -n '/^$/{n;p;q;}')
		[ -n "$d" ] || fail "weir-$t --help has no one-line description after its synopsis"
		assert_line --regexp "^  $t +$(printf '%s' "$d" | sed 's/[][\\.*^$()+?{}|]/\\&/g')\$"
	done
	run weir frobnicate
	[ "$status" -eq 2 ]
	[ "$output" = "weir: unknown program: 'frobnicate' (see 'weir help')" ]
}

@test "bash completion offers programs and options" {
	run bash -c "PATH=\"$WEIR_BIN:\$PATH\"; source '$TOP/scripts/weir.bash-completion'; COMP_WORDS=(weir ''); COMP_CWORD=1; _weir; printf '%s\n' \"\${COMPREPLY[@]}\""
	[ "$status" -eq 0 ]
	[[ $output == *help* ]]
	for t in $(tools); do
		[[ $output == *"$t"* ]] || fail "completion lacks $t"
	done
	# every long option of every program, after "weir NAME" and after "weir-NAME"
	for t in $(tools); do
		want=$("weir-$t" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
		got=$(bash -c "PATH=\"$WEIR_BIN:\$PATH\"; source '$TOP/scripts/weir.bash-completion'; COMP_WORDS=(weir $t --); COMP_CWORD=2; _weir; printf '%s\n' \"\${COMPREPLY[@]}\"" | sort -u)
		[ "$got" = "$want" ] || fail "weir $t --<TAB> offers: $got"
		got=$(bash -c "PATH=\"$WEIR_BIN:\$PATH\"; source '$TOP/scripts/weir.bash-completion'; COMP_WORDS=(weir-$t --hel); COMP_CWORD=1; _weir_prog weir-$t; printf '%s\n' \"\${COMPREPLY[@]}\"")
		[ "$got" = --help ] || fail "weir-$t --hel<TAB> offers: $got"
		bash -c "source '$TOP/scripts/weir.bash-completion'; complete -p weir-$t" >/dev/null ||
			fail "no completion registered for weir-$t"
	done
}

@test "the README's program table, man page links and examples are right" {
	local t f
	for t in $(tools); do
		grep -q "^| weir-$t | .* | \[weir-$t(1)\](man/weir-$t.1) |$" "$TOP/README.md" ||
			fail "README has no row for weir-$t linking man/weir-$t.1"
	done
	# every relative link points at a file that is there
	for f in $(grep -o '](\(man\|examples\|bench\|scripts\)/[^)]*)' "$TOP/README.md" | sed 's/^](//; s/)$//'); do
		[ -e "$TOP/$f" ] || fail "README links $f, which does not exist"
	done
	for f in "$TOP"/examples/*.sh; do
		f=${f#"$TOP"/}
		[ "$f" = examples/common.sh ] || grep -q "]($f)" "$TOP/README.md" || fail "README does not list $f"
	done
	# the benchmark table's numbers come from bench/RESULTS.md, none made up
	local n
	for n in $(sed -n '/^## Benchmarks/,$p' "$TOP/README.md" | grep -o '[0-9][0-9,.]*[0-9]' | tr -d , | sort -u); do
		# the whole number: 2.6 must not be found in 2.61
		grep -qE "(^|[^0-9.])${n//./\\.}([^0-9]|\\.[^0-9]|\$)" "$TOP/bench/RESULTS.md" ||
			fail "README's benchmark figure $n is not in bench/RESULTS.md"
	done
}

@test "make install puts programs, the dispatcher, man pages and completion under PREFIX" {
	[ -x "$TOP/build/bin/weir-parse" ] || skip "no build/bin to install (run make)"
	run make -s -C "$TOP" install PREFIX="$BATS_TEST_TMPDIR/p"
	[ "$status" -eq 0 ] || fail "$output"
	local p=$BATS_TEST_TMPDIR/p t
	run "$p/bin/weir" help
	for t in $(tools); do
		[ -x "$p/bin/weir-$t" ] || fail "weir-$t not installed"
		[ -f "$p/share/man/man1/weir-$t.1" ] || fail "man page of weir-$t not installed"
		assert_line --regexp "^  $t +[A-Z]"
		bash -c "source '$p/share/bash-completion/completions/weir-$t' && complete -p weir-$t" >/dev/null ||
			fail "no completion file bash-completion would load for weir-$t"
	done
	[ -f "$p/share/man/man7/weir.7" ] && [ -f "$p/share/man/man5/weir-records.5" ]
}
