#!/bin/sh
# check-settings.sh - keep greygate.conf(5) honest about the settings table
#
# Every setting in the table of engine/config_table.c (its lines read
# '{ "name", CT_TYPE, "default", ...') must have an entry in the SETTINGS
# section of doc/greygate.conf.5, and every entry there must be a setting
# in the table.  An entry is a ".TP" line followed by a tag line
#
#     .BR name " (default: VALUE)"
#
# where VALUE is the table's default exactly (an empty default is written
# "empty").  A bare ".B name" tag counts as documenting the name, but is
# reported for lacking its default.
#
# Prints "PASS: doc lists every setting" and exits 0, or prints one
# "FAIL: ..." line per problem and exits 1 (2 if a file is missing).
#
# Usage: check-settings.sh [CONFIG_C [MANPAGE]]
# Defaults are found next to this script, so it also works as an automake
# test from a build directory ($srcdir is honoured when set).
set -u
LC_ALL=C
export LC_ALL

here=$(dirname "$0")
if [ -n "${srcdir:-}" ] && [ -f "$srcdir/greygate.conf.5" ]; then
	here=$srcdir
fi
config_c=${1:-$here/../engine/config_table.c}
page=${2:-$here/greygate.conf.5}

for f in "$config_c" "$page"; do
	if [ ! -r "$f" ]; then
		echo "FAIL: cannot read $f"
		exit 2
	fi
done

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT HUP INT TERM

# Setting names from the table, and name<TAB>default where the default is
# on the same line (a default we cannot read there is not compared).
sed -n 's/^[[:space:]]*{[[:space:]]*"\([a-z0-9_]*\)",[[:space:]]*CT_.*/\1/p' \
	"$config_c" >"$tmp/table.list"
sed -n 's/^[[:space:]]*{[[:space:]]*"\([a-z0-9_]*\)",[[:space:]]*CT_[A-Z]*,[[:space:]]*"\([^"]*\)".*/\1	\2/p' \
	"$config_c" >"$tmp/table"

# name<TAB>default (or "-" when the tag gives none) from the page's
# SETTINGS section: the tag line after each .TP.
awk '
	/^\.SH/ { insec = ($0 ~ /^\.SH[[:space:]]+"?SETTINGS"?[[:space:]]*$/); next }
	!insec { next }
	/^\.TP/ { tag = 1; next }
	tag {
		tag = 0
		if ($0 !~ /^\.BR?[[:space:]]/)
			next
		line = $0
		sub(/[[:space:]]+$/, "", line)
		sub(/^\.BR?[[:space:]]+/, "", line)
		name = line
		sub(/[[:space:]].*$/, "", name)
		gsub(/"/, "", name)
		def = "-"
		if (match(line, /\(default: .*\)"$/)) {
			def = substr(line, RSTART + 10, RLENGTH - 12)
			# roff escapes a default may need
			gsub(/\\-/, "-", def)
			gsub(/\\&/, "", def)
			gsub(/\\e/, "\\\\", def)
			if (def == "")
				def = "(nothing)"
		}
		printf "%s\t%s\n", name, def
	}
' "$page" >"$tmp/page"

status=0
if [ ! -s "$tmp/table.list" ]; then
	echo "FAIL: no settings found in $config_c (expected lines like { \"name\", CT_... )"
	exit 1
fi

sort "$tmp/table.list" >"$tmp/table.names"
cut -f1 "$tmp/page" | sort >"$tmp/page.names"

# words - a file's lines as one space-separated line
words() { tr '\n' ' ' <"$1" | sed 's/ *$//'; }
comm -23 "$tmp/table.names" "$tmp/page.names" | sort -u >"$tmp/missing"
comm -13 "$tmp/table.names" "$tmp/page.names" | sort -u >"$tmp/extra.all"
# A name documented twice is reported as a duplicate, not as unknown.
comm -23 "$tmp/extra.all" "$tmp/table.names" >"$tmp/extra"
uniq -d "$tmp/page.names" >"$tmp/dups"
uniq -d "$tmp/table.names" >"$tmp/tdups"
missing=$(words "$tmp/missing")
extra=$(words "$tmp/extra")
dups=$(words "$tmp/dups")
tdups=$(words "$tmp/tdups")
if [ -n "$missing" ]; then
	echo "FAIL: settings in $config_c not documented in $page: $missing"
	status=1
fi
if [ -n "$extra" ]; then
	echo "FAIL: settings documented in $page but not in $config_c: $extra"
	status=1
fi
if [ -n "$tdups" ]; then
	echo "FAIL: settings listed more than once in $config_c: $tdups"
	status=1
fi
if [ -n "$dups" ]; then
	echo "FAIL: settings documented more than once in $page: $dups"
	status=1
fi

# Defaults: the page's "(default: VALUE)" must be the table's value.
while IFS='	' read -r name def; do
	want=$def
	[ -z "$want" ] && want=empty
	got=$(awk -F '\t' -v n="$name" '$1 == n { print $2; exit }' "$tmp/page")
	[ -z "$got" ] && continue	# reported as missing above
	if [ "$got" = "-" ]; then
		echo "FAIL: $name: $page gives no (default: ...) in its tag; the table says '$want'"
		status=1
	elif [ "$got" != "$want" ]; then
		echo "FAIL: $name: $page says default '$got', $config_c says '$want'"
		status=1
	fi
done <"$tmp/table"

if [ "$status" = 0 ]; then
	echo "PASS: doc lists every setting"
fi
exit "$status"
