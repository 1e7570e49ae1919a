#!/bin/bash
#
# run.sh - build and run the spf/ tests against a private NSD on loopback
#
# Builds spf/*.c, the engine helpers they use and tests/spf/t_spf.c with
# gcc and ASan+UBSan (unless T_SPF names an already built t_spf), starts
# NSD in the foreground on a free loopback port (127.0.0.1 and, when it
# exists, ::1) serving tests/spf/*.zone, runs t_spf, and stops NSD by its
# pid.  Output: t_spf's "PASS: ..." / "FAIL: ..." lines.  Exit status 0 all
# passed, 1 a failure, 77 skipped (nsd or a library missing).
#
# Environment:
#   GG_PORT_BASE  first of 100 loopback ports this run may use (default
#                 derived from the PID, as tests/integ/lib.sh does); NSD
#                 takes the first free one from GG_PORT_BASE + 53.
#   T_SPF         an existing t_spf binary to run instead of building one
#   CC            compiler (default gcc)
#   GG_KEEP=1     keep the temporary directory
#
# Nothing here talks to anything but 127.0.0.1 and ::1: the tests give the
# SPF pool NSD's address, and NSD answers only for its own zones (REFUSED
# for everything else).

set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
PORT_BASE=${GG_PORT_BASE:-$((20000 + ($$ % 400) * 100))}
CC=${CC:-gcc}

NSD=$(command -v nsd || ls /usr/sbin/nsd 2>/dev/null || true)
if [ -z "$NSD" ]; then
    echo "SKIP: t_spf nsd is not installed (Debian package nsd)"
    exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/gg-spf.XXXXXX")
NSD_PID=
cleanup() {
    if [ -n "$NSD_PID" ]; then
        kill "$NSD_PID" 2>/dev/null
        wait "$NSD_PID" 2>/dev/null
    fi
    if [ "${GG_KEEP:-0}" = 1 ]; then
        echo "# kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---------------------------------------------------------------- build
if [ -n "${T_SPF:-}" ]; then
    BIN=$T_SPF
else
    BIN=$TMP/t_spf
    CFLAGS="-g -O1 -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter -Wstrict-prototypes
            -Wmissing-prototypes -Werror -fsanitize=address,undefined -fno-omit-frame-pointer
            -fno-sanitize-recover=undefined"
    # shellcheck disable=SC2086
    if ! $CC $CFLAGS -I"$SRC" -o "$BIN" \
        "$SRC"/spf/spf.c "$SRC"/spf/spf_dns.c "$SRC"/spf/spf_eval.c \
        "$SRC"/spf/spf_job.c "$SRC"/spf/spf_weights.c \
        "$SRC"/lib/status.c "$SRC"/lib/util.c "$SRC"/lib/addr.c \
        "$SRC"/lib/clock.c "$SRC"/lib/hostname.c "$SRC"/dns/answer.c \
        "$HERE"/t_spf.c \
        -lspf2 -lresolv -lcares -levent -lpthread 2> "$TMP/build.log"; then
        if grep -q -e 'spf2/spf.h' -e 'ares.h' -e 'event2/event.h' -e 'cannot find -l' "$TMP/build.log"; then
            cat "$TMP/build.log" >&2
            echo "SKIP: t_spf libspf2-dev, libc-ares-dev or libevent-dev missing"
            exit 77
        fi
        cat "$TMP/build.log" >&2
        echo "FAIL: t_spf build"
        exit 1
    fi
fi

# ---------------------------------------------------------------- NSD
HAVE6=0
if [ -r /proc/net/if_inet6 ] && grep -q '^0*1 ' /proc/net/if_inet6; then
    HAVE6=1
fi

# start_nsd PORT - start NSD on PORT; 0 when it serves, 1 otherwise
start_nsd() {
    local port=$1 i
    rm -f "$TMP/nsd.log"
    {
        echo "server:"
        echo "  ip-address: 127.0.0.1@$port"
        [ "$HAVE6" = 1 ] && echo "  ip-address: ::1@$port"
        echo "  server-count: 1"
        echo "  rrl-ratelimit: 0"
        echo "  rrl-whitelist-ratelimit: 0"
        echo "  username: \"\""
        echo "  chroot: \"\""
        echo "  database: \"\""
        echo "  zonelistfile: \"$TMP/zone.list\""
        echo "  xfrdfile: \"$TMP/xfrd.state\""
        echo "  xfrdir: \"$TMP\""
        echo "  pidfile: \"$TMP/nsd.pid\""
        echo "  logfile: \"$TMP/nsd.log\""
        echo "  zonesdir: \"$HERE\""
        echo "  verbosity: 1"
        echo "  hide-version: yes"
        echo "remote-control:"
        echo "  control-enable: no"
        echo "zone:"
        echo "  name: spf.test"
        echo "  zonefile: spf.test.zone"
        echo "zone:"
        echo "  name: 2.0.192.in-addr.arpa"
        echo "  zonefile: 2.0.192.in-addr.arpa.zone"
    } > "$TMP/nsd.conf"
    "$NSD" -d -c "$TMP/nsd.conf" > "$TMP/nsd.out" 2>&1 &
    NSD_PID=$!
    for i in $(seq 1 100); do
        if grep -q "nsd started" "$TMP/nsd.log" 2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$NSD_PID" 2>/dev/null; then
            wait "$NSD_PID" 2>/dev/null
            NSD_PID=
            return 1
        fi
        sleep 0.05
    done
    kill "$NSD_PID" 2>/dev/null
    wait "$NSD_PID" 2>/dev/null
    NSD_PID=
    return 1
}

PORT=
for off in 53 54 55 56 57 58 59 60 61 62; do
    if start_nsd $((PORT_BASE + off)); then
        PORT=$((PORT_BASE + off))
        break
    fi
done
if [ -z "$PORT" ]; then
    cat "$TMP/nsd.out" "$TMP/nsd.log" >&2 2>/dev/null
    echo "FAIL: t_spf NSD did not start on any port from $((PORT_BASE + 53))"
    exit 1
fi
if grep -q -i "error" "$TMP/nsd.log"; then
    cat "$TMP/nsd.log" >&2
    echo "FAIL: t_spf NSD reported zone errors"
    exit 1
fi

# ---------------------------------------------------------------- run
ARGS=("127.0.0.1:$PORT")
[ "$HAVE6" = 1 ] && ARGS+=("[::1]:$PORT")
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$BIN" "${ARGS[@]}"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
    echo "FAIL: t_spf exited with status $rc (crash or sanitizer report)"
    rc=1
fi
exit $rc
