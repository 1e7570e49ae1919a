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
#   greyprobe       the program itself: "greyprobe listen" on 127.0.0.1 (an
#                   ephemeral port) answers a fixed SMTP dialogue, and the
#                   replies are compared with golden/listen-session.txt
# No network is used.  Exit status: 0 all passed, 1 a failure (a build
# error, a failed case, a crash or sanitizer report during the replay).
# The SMTP dialogue below talks through bash's /dev/tcp: run as "sh run.sh"
# (dash), it starts again under bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
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
 $SRC/dns/resolver.c $SRC/dns/resolver_servers.c $SRC/dns/answer.c $SRC/lib/json.c $SRC/lib/status.c $SRC/lib/util.c $SRC/lib/addr.c $SRC/lib/htable.c
 $SRC/lib/clock.c $SRC/lib/hostname.c $SRC/lib/hostport.c"
PROGSRC="$G/main.c $G/send.c $G/probe.c $G/listen.c $G/session.c $G/command.c"
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

# smtp_send TEXT - write one command line; smtp_reply - read one whole
# reply (up to the line whose code is followed by a space), each line put
# in the transcript as "< LINE".  The queue id carries the pid: masked.
smtp_send() {
	printf '%s\r\n' "$1" >&3
}
smtp_reply() {
	local line rc
	while IFS= read -r -t 5 -u 3 line; do
		line=${line%$'\r'}
		echo "< $line" | sed 's/queued as GP[0-9A-F]*/queued as GPxxxx/'
		[ "${line:3:1}" = "-" ] || return 0
	done
	rc=$?
	[ "$rc" -gt 128 ] && echo "< (no reply)" || echo "< (connection closed)"
}
# say LINE - one command and its reply in the transcript
say() {
	echo "> $1"
	smtp_send "$1"
	smtp_reply
}

# listen_dialogue PORT - the fixed dialogue: every verb, the replies to
# bad syntax, out-of-sequence commands, unknown verbs and the limits
listen_dialogue() {
	local i
	exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
	smtp_reply
	say "HELP"
	say "NOOP"
	say "noop with an argument"
	say "VRFY someone"
	say "FOO bar"
	say "HELOX"
	say "EHLO"
	say "helo"
	say "DATA x"
	say "DATA"
	say "RCPT TO:<a@remote.test>"
	say "MAIL"
	say "MAIL TO:<a@b.test>"
	say "MAIL FROM:<bad address>"
	say "MAIL FROM:<a@sender.test> SIZE=20000"
	say "MAIL FROM:<a@sender.test> SIZE=99999999999999999999999"
	say "mail from:<a@sender.test> SIZE=100"
	say "MAIL FROM:<b@sender.test>"
	say "DATA"
	say "RCPT"
	say "RCPT TO:<>"
	say "RCPT FROM:<a@remote.test>"
	say "RCPT TO:<nobody@remote.test>"
	say "DATA"
	say "RCPT TO:<a@remote.test>"
	say "RCPT TO:b@remote.test"
	say "DATA"
	echo "> (message: a header, a dot-stuffed line, the final dot)"
	printf 'Subject: session\r\n\r\n..stuffed\r\n.\r\n' >&3
	smtp_reply
	say "RSET"
	say "EHLO session.test"
	say "MAIL FROM:<>"
	say "RSET"
	say "RCPT TO:<a@remote.test>"
	say "HELO session.test"
	say "MAIL FROM:<c@sender.test>"
	say "HELO again.test"
	say "RCPT TO:<a@remote.test>"
	echo "> (2000 bytes of A)"
	smtp_send "$(head -c 2000 /dev/zero | tr '\0' A)"
	smtp_reply
	echo "> NO<NUL>OP"
	printf 'NO\0OP\r\n' >&3
	smtp_reply
	# The 21st bad command of the session ends it.
	for i in 1 2 3 4; do
		say "BAD $i"
	done
	smtp_reply
	exec 3<&- 3>&-
}

# The receiver answers the dialogue as it always has.
# shellcheck disable=SC2086
build greyprobe $PROGSRC $LIBSRC || finish
"$BUILD/greyprobe" listen --listen 127.0.0.1:0 --defer-first 0 --reject-rcpt 'nobody@*' \
	--hostname session.greyprobe.test --max-size 10000 --timeout 10s \
	>"$BUILD/listen.out" 2>"$BUILD/listen.err" &
lpid=$!
lport=
for _ in $(seq 1 50); do
	lport=$(sed -n 's/^greyprobe listen: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$BUILD/listen.err")
	[ -n "$lport" ] && break
	sleep 0.1
done
if [ -z "$lport" ]; then
	fail "greyprobe/listen: the receiver did not start"
	sed 's/^/# /' "$BUILD/listen.err" | head -n 20
else
	listen_dialogue "$lport" >"$BUILD/listen-session.txt" 2>&1
fi
kill -TERM "$lpid" 2>/dev/null
wait "$lpid"
rc=$?
if [ "$rc" -ne 0 ] || grep -qE 'ERROR: AddressSanitizer|runtime error' "$BUILD/listen.err"; then
	fail "greyprobe/listen: the receiver exited $rc or reported"
	grep -vE '^greyprobe listen: ' "$BUILD/listen.err" | sed 's/^/# /' | head -n 40
else
	pass "greyprobe/listen: the receiver stopped cleanly on SIGTERM"
fi
# Then its live lines and its summary, times, port and queue ids masked
# (a time column is padded to its width: 0.123s or 1.2s pad alike).
if [ -n "$lport" ]; then
	{
		echo "== stderr"
		cat "$BUILD/listen.err"
		echo "== stdout"
		cat "$BUILD/listen.out"
	} | sed -e 's/^    +[0-9][0-9]*\.[0-9][0-9]*s  */    +N.NNNs   /' \
		-e 's/[0-9][0-9]*\.[0-9][0-9]*s/N.NNNs/g' -e 's/GP[0-9A-F][0-9A-F]*/GPxxxx/g' \
		-e 's/127\.0\.0\.1:[0-9][0-9]*$/127.0.0.1:PORT/' >>"$BUILD/listen-session.txt"
	if [ -n "${GP_UPDATE_GOLDEN:-}" ]; then
		cp "$BUILD/listen-session.txt" "$HERE/golden/listen-session.txt"
	fi
	if diff -u "$HERE/golden/listen-session.txt" "$BUILD/listen-session.txt" >"$BUILD/listen.diff"; then
		pass "greyprobe/listen: the SMTP dialogue matches golden/listen-session.txt"
	else
		fail "greyprobe/listen: the SMTP dialogue differs from golden/listen-session.txt"
		sed 's/^/# /' "$BUILD/listen.diff" | head -n 40
	fi
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
