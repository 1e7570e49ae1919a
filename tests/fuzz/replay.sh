#!/bin/sh
# replay.sh - replay one fuzz target's committed corpus (a `make check` test)
#
#   replay.sh BUILDDIR/fuzz/TARGET.replay    as automake's REPLAY_LOG_COMPILER
#
# runs BUILDDIR/fuzz/replay_TARGET on $srcdir/fuzz/corpus/TARGET/ (srcdir is
# exported by the automake test harness; default: the directory above this
# script).  Exit status 99 (hard error) when the program or corpus is missing.
set -u
stub=$1
target=$(basename "$stub" .replay)
bindir=$(dirname "$stub")
srcdir=${srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
prog=$bindir/replay_$target
corpus=$srcdir/fuzz/corpus/$target

if [ ! -x "$prog" ]; then
	echo "replay.sh: $prog is not built" >&2
	exit 99
fi
if [ ! -d "$corpus" ]; then
	echo "replay.sh: no corpus directory $corpus" >&2
	exit 99
fi
exec "$prog" "$corpus"
