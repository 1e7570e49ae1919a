#!/bin/sh
# build.sh - build the libFuzzer targets with clang, outside automake
#
#   tests/fuzz/build.sh [OUTDIR]          default OUTDIR: <top>/build-fuzz
#   FUZZ_SANITIZERS=memory tests/fuzz/build.sh /tmp/fuzz-msan
#
# Compiles the lib/engine/store/policyd sources each target needs straight into it
# with -fsanitize=fuzzer,address,undefined (or FUZZ_SANITIZERS).  Run one:
#
#   OUTDIR/fuzz_policy -max_total_time=60 -max_len=8192 \
#       NEWCORPUS tests/fuzz/corpus/policy
#
# (libFuzzer writes new inputs into the first directory; keep the committed
# corpus small and add only inputs that matter, e.g. crashes.)  A crash
# leaves crash-<sha1> in the current directory: copy it into
# tests/fuzz/corpus/<target>/ so `make check` replays it from then on.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-$top/build-fuzz}
CC=${CC:-clang}
san=${FUZZ_SANITIZERS:-address,undefined}
extra=
case $san in
*memory*) extra="-fsanitize-memory-track-origins" ;;
*undefined*) extra="-fno-sanitize-recover=undefined" ;;
esac

e=$top/engine
# Pure engine code: no Berkeley DB, no syslog, no privileges.
common="$top/lib/status.c $top/lib/util.c $top/lib/addr.c $top/lib/hostport.c $top/lib/hostname.c"
set_policy="$common $e/triplet.c $top/store/record.c $e/greylist.c $e/wlist.c $e/config.c $e/config_table.c $top/store/store_spec.c
	$e/request.c $e/engine.c $e/score.c $top/policyd/policy_proto.c"
set_config="$common $e/wlist.c $e/config.c $e/config_table.c $top/store/store_spec.c"
set_record="$top/lib/status.c $top/store/record.c $e/greylist.c"
set_sender="$common $e/triplet.c"
set_lists="$common $e/score.c $e/config.c $e/config_table.c $top/store/store_spec.c $e/wlist.c $top/dnsbl/lists.c"

mkdir -p "$out"
for t in policy config record sender lists; do
	eval srcs=\$set_$t
	echo "build.sh: $out/fuzz_$t"
	# shellcheck disable=SC2086
	$CC -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,$san $extra -D_GNU_SOURCE \
		-Wall -Wextra -Wno-unused-parameter -Werror \
		-I"$top" -I"$here" \
		"$here/fuzz_$t.c" $srcs -o "$out/fuzz_$t"
done
