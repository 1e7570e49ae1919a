#!/bin/bash
# run-suite.sh - install what the tests need, build greygate with sanitizers,
# run every test, and end with one line: "N passed, N failed".
#
#   tests/run-suite.sh            as root on Debian 12 (installs packages)
#   GG_SKIP_INSTALL=1 ...         do not call apt-get
#   GG_TESTS="t_foo t_bar" ...    run only these integration tests
#
# Unit tests (cmocka) and fuzz-corpus replays run under AddressSanitizer and
# UndefinedBehaviorSanitizer through `make check`; integration tests in
# tests/integ/ run real Postfix, swaks and greygate-policyd on loopback.
# Each integration test prints "PASS: ..." / "FAIL: ..." lines.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${GG_BUILD:-$SRC/build-test}
LOGDIR=$BUILD/test-logs
passed=0 failed=0 skipped=0
failures=()

note() { printf '== %s\n' "$*"; }

if [ "${GG_SKIP_INSTALL:-0}" != 1 ]; then
	note "installing test dependencies"
	"$SRC/contrib/install-deps.sh" test || { echo "0 passed, 1 failed"; exit 1; }
fi

note "building in $BUILD (sanitizers on)"
mkdir -p "$BUILD"
if ! { (cd "$SRC" && ./bootstrap) >"$BUILD/bootstrap.log" 2>&1 &&
       (cd "$BUILD" && "$SRC/configure" --enable-sanitizers) >"$BUILD/configure.log" 2>&1 &&
       make -C "$BUILD" -j2 >"$BUILD/make.log" 2>&1; }; then
	tail -n 30 "$BUILD"/bootstrap.log "$BUILD"/configure.log "$BUILD"/make.log 2>/dev/null
	echo "build failed"
	echo "0 passed, 1 failed"
	exit 1
fi
mkdir -p "$LOGDIR"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Unit tests and corpus replays: count individual cmocka tests where we can.
note "unit tests and fuzz corpus replays (make check)"
make -C "$BUILD" -j2 check >"$LOGDIR/make-check.log" 2>&1
for trs in $(find "$BUILD" -name '*.trs' 2>/dev/null | sort); do
	log=${trs%.trs}.log
	name=${trs#"$BUILD"/}
	name=${name%.trs}
	result=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" 2>/dev/null | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" 2>/dev/null | tail -n 1)
	# Test programs that are not cmocka end with "# N passed, N failed".
	if [ -z "$p" ] && grep -qE '^# [0-9]+ passed, [0-9]+ failed' "$log" 2>/dev/null; then
		p=$(sed -n 's/^# \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$log" | tail -n 1)
		f=$(sed -n 's/^# \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$log" | tail -n 1)
		[ "$f" = 0 ] && f=
	fi
	case $result in
	PASS) passed=$((passed + ${p:-1})) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	*)
		passed=$((passed + ${p:-0}))
		failed=$((failed + ${f:-1}))
		failures+=("$name")
		echo "FAIL: $name"; tail -n 40 "$log"
		;;
	esac
done
if ! find "$BUILD" -name '*.trs' 2>/dev/null | grep -q .; then
	echo "FAIL: make check produced no test results"; tail -n 40 "$LOGDIR/make-check.log"
	failed=$((failed + 1)); failures+=("make-check")
fi
note "unit: $passed passed, $failed failed so far"

# Integration tests with real components.
export GG_SRC=$SRC GG_BUILD=$BUILD
for t in "$SRC"/tests/integ/t_*.sh "$SRC"/tests/integ/t_*.py; do
	[ -e "$t" ] || continue
	base=$(basename "$t")
	base=${base%.*}
	if [ -n "${GG_TESTS:-}" ] && [[ " $GG_TESTS " != *" $base "* ]]; then
		continue
	fi
	note "integration: $base"
	start=$(date +%s)
	# Each test gets its own block of ports, far from the others', and all
	# below the kernel's ephemeral range (32768-60999 by default): a client
	# socket of an earlier test (2,000 connections, 360,000 requests) may
	# still hold any port in that range, and a listener cannot bind it.
	nint=$((${nint:-0} + 1))
	export GG_PORT_BASE=$((10000 + nint * 600 + RANDOM % 400))
	timeout -k 10 900 "$t" >"$LOGDIR/$base.log" 2>&1
	rc=$?
	p=$(grep -c '^PASS: ' "$LOGDIR/$base.log")
	f=$(grep -c '^FAIL: ' "$LOGDIR/$base.log")
	grep -E '^(PASS|FAIL|SKIP): ' "$LOGDIR/$base.log"
	if [ "$rc" = 77 ]; then
		skipped=$((skipped + 1))
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
		echo "FAIL: $base exited with status $rc without reporting a failure"
		tail -n 20 "$LOGDIR/$base.log"
	fi
	[ "$f" -gt 0 ] && failures+=("$base")
	passed=$((passed + p))
	failed=$((failed + f))
	echo "   ($(( $(date +%s) - start )) s)"
done

[ "${#failures[@]}" -gt 0 ] && echo "failed: ${failures[*]} (logs in $LOGDIR)"
[ "$skipped" -gt 0 ] && echo "skipped: $skipped test programs"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
