#!/bin/sh
#
# nsd-conf.sh DIR PORT - write DIR/nsd.conf for an NSD that serves
# greyprobe's test zone (tests/greyprobe/zones/probe.test.zone) and the
# checks' example.test zone (tests/dns/zones/, for its null MX
# nullmx.example.test) on 127.0.0.1@PORT and ::1@PORT; print the path.
# The writing is tests/dns/nsd-conf.sh's (see there); start NSD with
# `nsd -d -c DIR/nsd.conf`.  Exit 77 if nsd is missing.
set -u
if [ $# -ne 2 ]; then
	echo "usage: $0 DIR PORT" >&2
	exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
exec "$HERE/../dns/nsd-conf.sh" "$1" "$2" "$HERE/zones/probe.test.zone" \
	"$HERE/../dns/zones/example.test.zone"
