#!/bin/bash
# quickstart.sh - install build dependencies, build, install and start
# greygate-policyd with the sample configuration (Debian 12, as root).
#
# Afterwards greygate-policyd listens on 127.0.0.1:10023 with its embedded
# Berkeley DB in /var/lib/greygate, running as user greygate.  Stop it with
# "kill $(cat /run/greygate-policyd.pid)".
set -eu
cd "$(dirname "$0")/.."
./contrib/install-deps.sh build
./bootstrap >/dev/null 2>&1
mkdir -p build
(cd build && ../configure -q && make -j2 >/dev/null && make install >/dev/null)
getent passwd greygate >/dev/null || useradd --system --user-group --home-dir /var/lib/greygate \
	--no-create-home --shell /usr/sbin/nologin greygate
mkdir -p /etc/greygate /var/lib/greygate
chown greygate:greygate /var/lib/greygate
chmod 750 /var/lib/greygate
[ -e /etc/greygate/greygate.conf ] || install -m 644 contrib/greygate.conf /etc/greygate/greygate.conf
if [ -d /etc/systemd/system ] && [ ! -e /etc/systemd/system/greygate-policyd.service ]; then
	install -m 644 contrib/greygate-policyd.service /etc/systemd/system/
fi
/usr/local/sbin/greygate-policyd -t -c /etc/greygate/greygate.conf
if [ -s /run/greygate-policyd.pid ] && kill -0 "$(cat /run/greygate-policyd.pid)" 2>/dev/null; then
	kill "$(cat /run/greygate-policyd.pid)"
	sleep 1
fi
/usr/local/sbin/greygate-policyd -c /etc/greygate/greygate.conf -o pid_file=/run/greygate-policyd.pid
# Ask it one question, as Postfix would, to show it is answering.
exec 3<>/dev/tcp/127.0.0.1/10023 2>/dev/null || { echo "greygate-policyd is not answering on 127.0.0.1:10023" >&2; exit 1; }
printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.1\nclient_name=unknown\nsender=quickstart@example.org\nrecipient=postmaster-test@example.net\ninstance=quickstart\n\n' >&3
read -r answer <&3
exec 3>&-
echo "greygate-policyd is running (pid $(cat /run/greygate-policyd.pid)) on 127.0.0.1:10023; test request answered: $answer"
