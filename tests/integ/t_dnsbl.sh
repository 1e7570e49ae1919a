#!/bin/sh
# t_dnsbl.sh - run the dnsbl/ library tests (tests/dns/run.sh: NSD, unbound,
# ASan+UBSan build of the resolver, lists, cache, checks and probes)
exec "${GG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/dns/run.sh"
