#!/bin/bash
#
# run.sh - greyprobe's unit tests, golden files and fuzz-corpus replay
#
#   tests/greyprobe/run.sh                 PASS:/FAIL: lines, then "# N passed, N failed"
#   GP_UPDATE_GOLDEN=1 tests/greyprobe/run.sh    rewrite golden/ from the current code
#   GP_FUZZ_SECONDS=60 tests/greyprobe/run.sh    also fuzz the reply parser with
#                                                libFuzzer (clang) for 60 s
#
# Builds directly with gcc (not automake), with AddressSanitizer and
# UndefinedBehaviorSanitizer, into $GP_BUILD (default: a temporary
# directory, removed at the end unless GG_KEEP=1):
#   t_greyprobe     unit tests + golden files (golden/)
#   replay_reply    fuzz_reply.c + tests/fuzz/replay.c over corpus/reply/
# No network is used.  Exit status: 0 all passed, 1 a failure (a build
# error, a failed case, a crash or sanitizer report during the replay).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=${GP_BUILD:-$(mktemp -d "${TMPDIR:-/tmp}/gg-greyprobe.XXXXXX")}
mkdir -p "$BUILD"
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
	if [ "${GG_KEEP:-0}" != 1 ] && [ -z "${GP_BUILD:-}" ]; then
		rm -rf "$BUILD"
	fi
}
trap cleanup EXIT

npass=0
nfail=0
pass() { npass=$((npass + 1)); echo "PASS: $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL: $*"; }
finish() {
	echo "# $npass passed, $nfail failed"
	[ "$nfail" -eq 0 ]
	exit $?
}

CC=${CC:-gcc}
WARN="-Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter -Wstrict-prototypes -Wmissing-prototypes"
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
INC="-I$SRC -I$SRC/tests/fuzz $(pkg-config --cflags libcares libevent)"
LIBS="$(pkg-config --libs libcares libevent) -lm"
G=$SRC/greyprobe
LIBSRC="$G/dur.c $G/reply.c $G/mx.c $G/schedule.c $G/message.c $G/report.c $G/track.c
 $SRC/dns/resolver.c $SRC/dns/resolver_servers.c $SRC/dns/answer.c $SRC/lib/json.c $SRC/lib/status.c $SRC/lib/util.c $SRC/lib/addr.c $SRC/lib/htable.c"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# build NAME SOURCES... - compile one program; a failure is a FAIL line.
build() {
	local name=$1
	shift
	# shellcheck disable=SC2086
	if $CC -g -O1 -D_GNU_SOURCE $WARN $SAN $INC "$@" -o "$BUILD/$name" $LIBS \
		>"$BUILD/$name.build.log" 2>&1; then
		pass "greyprobe/build: $name"
	else
		fail "greyprobe/build: $name (see below)"
		sed 's/^/# /' "$BUILD/$name.build.log" | head -n 40
		return 1
	fi
}

# shellcheck disable=SC2086
build t_greyprobe "$HERE/t_greyprobe.c" $LIBSRC || finish
# shellcheck disable=SC2086
build replay_reply "$HERE/fuzz_reply.c" "$SRC/tests/fuzz/replay.c" $LIBSRC || finish

# Unit tests and golden files: the program prints its own PASS/FAIL lines.
"$BUILD/t_greyprobe" "$HERE/golden" >"$BUILD/t_greyprobe.out" 2>"$BUILD/t_greyprobe.err"
rc=$?
grep -E '^(PASS|FAIL): ' "$BUILD/t_greyprobe.out"
grep -vE '^(PASS|FAIL): |^# ' "$BUILD/t_greyprobe.out" | sed 's/^/#   /'
p=$(grep -c '^PASS: ' "$BUILD/t_greyprobe.out")
f=$(grep -c '^FAIL: ' "$BUILD/t_greyprobe.out")
npass=$((npass + p))
nfail=$((nfail + f))
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
	fail "greyprobe/unit: t_greyprobe exited $rc"
fi
if [ -s "$BUILD/t_greyprobe.err" ]; then
	fail "greyprobe/unit: t_greyprobe wrote to stderr (sanitizer report?)"
	sed 's/^/# /' "$BUILD/t_greyprobe.err" | head -n 40
fi

# Corpus replay: every file must run without a crash or sanitizer report.
n=$(find "$HERE/corpus/reply" -type f | wc -l)
if "$BUILD/replay_reply" "$HERE/corpus/reply" >"$BUILD/replay.out" 2>"$BUILD/replay.err" &&
	! grep -qE 'ERROR: AddressSanitizer|runtime error|invariant broken' "$BUILD/replay.err"; then
	pass "greyprobe/fuzz: replay of $n corpus inputs of the reply parser"
else
	fail "greyprobe/fuzz: replay of the reply corpus crashed or reported"
	grep -vE '^replay: .*bytes\)$' "$BUILD/replay.err" | sed 's/^/# /' | head -n 40
fi

# Optional real fuzzing with libFuzzer.
if [ -n "${GP_FUZZ_SECONDS:-}" ]; then
	if ! command -v clang >/dev/null 2>&1; then
		fail "greyprobe/fuzz: GP_FUZZ_SECONDS set but clang is not installed"
	else
		# shellcheck disable=SC2086
		if clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
			-fno-sanitize-recover=undefined $INC "$HERE/fuzz_reply.c" $LIBSRC \
			-o "$BUILD/fuzz_reply" $LIBS >"$BUILD/fuzz_build.log" 2>&1; then
			mkdir -p "$BUILD/new-corpus"
			if (cd "$BUILD" && ./fuzz_reply -max_total_time="$GP_FUZZ_SECONDS" -max_len=4096 \
				new-corpus "$HERE/corpus/reply") >"$BUILD/fuzz.log" 2>&1; then
				pass "greyprobe/fuzz: libFuzzer ran ${GP_FUZZ_SECONDS}s without a crash ($(grep -o 'Done [0-9]* runs' "$BUILD/fuzz.log"))"
			else
				fail "greyprobe/fuzz: libFuzzer found a crash (copy crash-* from $BUILD into corpus/reply/)"
				tail -n 30 "$BUILD/fuzz.log" | sed 's/^/# /'
				GG_KEEP=1
			fi
		else
			fail "greyprobe/fuzz: clang build failed"
			sed 's/^/# /' "$BUILD/fuzz_build.log" | head -n 20
		fi
	fi
fi
finish
