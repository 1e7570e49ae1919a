#!/bin/sh
#
# nsd-start.sh DIR PORT [ZONEFILE...] - serve DNS test zones on
# 127.0.0.1@PORT and ::1@PORT with NSD, in the background; print NSD's pid.
#
# The zones are the given files, or greygate's DNS test zones
# (tests/dns/zones/*.zone) when none is given.  The configuration comes
# from nsd-conf.sh: everything NSD writes goes under DIR, it runs as the
# calling user, every zone is checked first.  Exit status: 0 started (NSD
# answers), 1 failure (message on stderr), 77 nsd not installed.  Stop it
# with `. tests/dns/lib.sh; dns_stop PID` (it is not the caller's child).
set -u
if [ $# -lt 2 ]; then
	echo "usage: $0 DIR PORT [ZONEFILE...]" >&2
	exit 2
fi
DIR=$1
PORT=$2
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- "$HERE"/zones/*.zone

NSD=$(command -v nsd || echo /usr/sbin/nsd)
if [ ! -x "$NSD" ]; then
	echo "nsd-start.sh: nsd is not installed (Debian package nsd)" >&2
	exit 77
fi
CONF=$("$HERE/nsd-conf.sh" "$DIR" "$PORT" "$@") || exit $?
DIR=$(cd "$DIR" && pwd)
rm -f "$DIR/nsd.log" "$DIR/nsd.pid"

"$NSD" -d -c "$CONF" </dev/null >"$DIR/nsd.stdout" 2>&1 &
pid=$!

# NSD logs "nsd started" once it serves; give up after 5 s.
i=0
while [ $i -lt 100 ]; do
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "nsd-start.sh: nsd exited at start-up:" >&2
		cat "$DIR/nsd.stdout" "$DIR/nsd.log" >&2 2>/dev/null
		exit 1
	fi
	if grep -q 'nsd started' "$DIR/nsd.log" 2>/dev/null; then
		echo "$pid"
		exit 0
	fi
	sleep 0.05
	i=$((i + 1))
done
echo "nsd-start.sh: nsd did not start within 5 s:" >&2
cat "$DIR/nsd.log" >&2 2>/dev/null
kill "$pid" 2>/dev/null
exit 1
