#!/bin/sh
# check-layers.sh - the tree's folders are layers: fail on an upward or
# sideways #include
#
#   tests/layout/check-layers.sh [SRCDIR]
#
# Reads every #include "..." of every .c and .h file in the product folders
# and checks it against the order below (lowest first).  A file may include
# headers of its own folder and of the layers below it; folders on one line
# are peers and may not include each other.  greyprobe/ may use lib/ and
# dns/ only, bench/ lib/ only.  Product includes are spelled with their
# folder ("lib/util.h"); a bare name is refused too, so the folder a header
# comes from is always visible where it is used.
#
# Prints one line per violation, "FILE:LINE: includes X: why", then
# "# N passed, N failed" (one check per file) and exits 1 on any violation.
LAYERS='
lib
dns
dnsbl spf
store
engine
checks
daemon
policyd milter tools
'
top=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top" || exit 2

rank() {	# rank FOLDER: its layer number, or nothing
	echo "$LAYERS" | awk -v d="$1" 'NF { n++; for (i = 1; i <= NF; i++) if ($i == d) print n }'
}

allowed() {	# allowed FROM TO: 0 if a file in FROM may include a header in TO
	[ "$1" = "$2" ] && return 0
	case $1 in
	greyprobe) case $2 in lib|dns) return 0 ;; *) return 1 ;; esac ;;
	bench) case $2 in lib) return 0 ;; *) return 1 ;; esac ;;
	esac
	rf=$(rank "$1") rt=$(rank "$2")
	[ -n "$rf" ] && [ -n "$rt" ] && [ "$rt" -lt "$rf" ]
}

folders="$(echo "$LAYERS" | tr '\n' ' ') greyprobe bench"
passed=0 failed=0
for d in $folders; do
	[ -d "$d" ] || continue
	for f in "$d"/*.c "$d"/*.h; do
		[ -f "$f" ] || continue
		bad=0
		# "LINE NAME" for every quoted include of the file
		out=$(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
		      sed 's/^\([0-9]*\):.*"\([^"]*\)".*/\1 \2/')
		while read -r line inc; do
			[ -n "$line" ] || continue
			case $inc in
			*/*) to=${inc%%/*} ;;
			*) echo "$f:$line: includes \"$inc\": spell it with its folder (\"$d/$inc\")"
			   bad=1; continue ;;
			esac
			if [ ! -f "$inc" ]; then
				echo "$f:$line: includes \"$inc\": no such header in the tree"
				bad=1
			elif ! allowed "$d" "$to"; then
				if [ -n "$(rank "$d")" ] && [ "$(rank "$d")" = "$(rank "$to")" ]; then
					why="sideways ($d/ and $to/ are peers)"
				else
					why="upward ($to/ is not below $d/)"
				fi
				echo "$f:$line: includes \"$inc\": $why"
				bad=1
			fi
		done <<EOT
$out
EOT
		if [ "$bad" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
	done
done
echo "# $passed passed, $failed failed"
[ "$failed" = 0 ]
