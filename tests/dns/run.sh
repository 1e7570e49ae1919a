#!/bin/bash
#
# run.sh - build dnsbl/ and its test with AddressSanitizer and UBSan, start
# the loopback DNS servers the test needs, run it, stop everything.
#
#   tests/dns/run.sh            prints PASS:/FAIL:/SKIP: lines and a last
#                               "N passed, N failed" line
#
# Exit status: 0 all passed, 1 a failure (build, server start-up or test),
# 77 nsd is not installed (the test needs it; unbound is optional: without
# it the slow-zone checks are skipped).
#
# Built directly with gcc (not automake) into $GG_DNS_BUILD (default: a
# temporary directory, removed at the end unless GG_KEEP=1).  Servers:
#   nsd      tests/dns/zones on 127.0.0.1 and ::1      (nsd-start.sh)
#   silent   a UDP+TCP socket that never answers        (silent.c)
#   unbound  stub zones to nsd, slow.test to silent     (unbound-start.sh)
# on free ports from $GG_PORT_BASE (default derived from the pid).  Each is
# stopped by its pid.  Nothing here talks to anything but loopback.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"

if ! command -v nsd >/dev/null 2>&1 && [ ! -x /usr/sbin/nsd ]; then
	echo "SKIP: t_dnsbl nsd is not installed (Debian package nsd)"
	exit 77
fi

BUILD=${GG_DNS_BUILD:-$(mktemp -d /tmp/gg-dns.XXXXXX)}
mkdir -p "$BUILD"
PIDS=()
cleanup() {
	dns_stop "${PIDS[@]}"
	if [ "${GG_KEEP:-0}" != 1 ] && [ -z "${GG_DNS_BUILD:-}" ]; then
		rm -rf "$BUILD"
	fi
}
trap cleanup EXIT

CC=${CC:-gcc}
CFLAGS="-g -O1 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter \
 -Wstrict-prototypes -Wmissing-prototypes -D_GNU_SOURCE \
 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
INC="-I$SRC $(pkg-config --cflags libcares libevent)"
LIBS="$(pkg-config --libs libcares libevent) -lm"
LIBSRC="$SRC/dns/resolver.c $SRC/dns/resolver_servers.c $SRC/dns/answer.c $SRC/dns/qname.c $SRC/dns/cache.c \
 $SRC/dnsbl/lists.c $SRC/dnsbl/dnscheck.c $SRC/dnsbl/dnscheck_probe.c \
 $SRC/dnsbl/dnscheck_lists.c $SRC/dnsbl/dnscheck_rdns.c $SRC/dnsbl/dnscheck_helo.c \
 $SRC/lib/status.c $SRC/lib/util.c $SRC/lib/addr.c \
 $SRC/lib/clock.c $SRC/lib/htable.c $SRC/lib/hostname.c $SRC/lib/hostport.c"

# shellcheck disable=SC2086
if ! { $CC $CFLAGS $INC -o "$BUILD/t_dnsbl" "$HERE/t_dnsbl.c" $LIBSRC $LIBS &&
       $CC $CFLAGS $INC -o "$BUILD/ggdig" "$HERE/ggdig.c" $LIBSRC $LIBS &&
       $CC -Wall -Wextra -Werror -O1 -o "$BUILD/silent" "$HERE/silent.c"; } >"$BUILD/build.log" 2>&1; then
	cat "$BUILD/build.log"
	echo "FAIL: t_dnsbl build"
	echo "0 passed, 1 failed"
	exit 1
fi

base=${GG_PORT_BASE:-$((20000 + ($$ % 400) * 100))}
NSD_PORT=$(dns_free_port $((base + 60)))
SILENT_PORT=$(dns_free_port $((NSD_PORT + 1)))
UNBOUND_PORT=$(dns_free_port $((SILENT_PORT + 1)))
CLOSED_PORT=$(dns_free_port $((UNBOUND_PORT + 1)))

if ! NSD_PID=$("$HERE/nsd-start.sh" "$BUILD/nsd" "$NSD_PORT"); then
	echo "FAIL: t_dnsbl nsd start-up"
	echo "0 passed, 1 failed"
	exit 1
fi
PIDS+=("$NSD_PID")

"$BUILD/silent" "$SILENT_PORT" >"$BUILD/silent.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
	grep -q ready "$BUILD/silent.out" 2>/dev/null && break
	sleep 0.05
done

UNBOUND_ENV=
if command -v unbound >/dev/null 2>&1 || [ -x /usr/sbin/unbound ]; then
	if UNBOUND_PID=$("$HERE/unbound-start.sh" "$BUILD/unbound" "$UNBOUND_PORT" "$NSD_PORT" "$SILENT_PORT"); then
		PIDS+=("$UNBOUND_PID")
		UNBOUND_ENV=$UNBOUND_PORT
	else
		echo "FAIL: t_dnsbl unbound start-up"
		echo "0 passed, 1 failed"
		exit 1
	fi
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
GG_DNS_NSD_PORT=$NSD_PORT GG_DNS_UNBOUND_PORT=$UNBOUND_ENV GG_DNS_CLOSED_PORT=$CLOSED_PORT \
	"$BUILD/t_dnsbl" 2>"$BUILD/t_dnsbl.stderr"
rc=$?
if [ -s "$BUILD/t_dnsbl.stderr" ]; then
	# Sanitizer reports and the like: show them, and make them count.
	cat "$BUILD/t_dnsbl.stderr" >&2
	if [ $rc -eq 0 ]; then
		echo "FAIL: t_dnsbl clean stderr (sanitizer output above)"
		rc=1
	fi
fi
[ $rc -eq 0 ] || rc=1
exit $rc
