#!/bin/sh
# install-deps.sh - install greygate's Debian 12 packages: "build" or "test" set
#
# Run as root.  Packaged daemons (postfix, postgrey, ...) are installed
# without being started: a policy-rc.d that forbids starts is put in place
# when none exists, and Postfix is preseeded to "No configuration".
set -eu
what=${1:-build}
build="gcc make autoconf automake libtool pkg-config libevent-dev libdb-dev libc-ares-dev libspf2-dev libmilter-dev libhiredis-dev ca-certificates"
test="$build libcmocka-dev postfix swaks python3 procps postgrey nsd unbound miltertest redis-server"
bench="$build postgrey gross hyperfine nsd redis-server"
case $what in
build) pkgs=$build ;;
test) pkgs=$test ;;
bench) pkgs=$bench ;;
*) echo "usage: $0 build|test|bench" >&2; exit 64 ;;
esac
if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: must run as root (it calls apt-get)" >&2
	exit 1
fi
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
fi
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
