# shellcheck shell=sh
#
# lib.sh - helpers shared by the tests/dns scripts (source it)
#
#   dns_port_free PORT     true if nothing listens on PORT (TCP or UDP, v4 or v6)
#   dns_free_port BASE     print the first free port at or above BASE
#   dns_stop PID...        SIGTERM each pid, wait up to 5 s for it to go,
#                          then SIGKILL; works for processes that are not
#                          children of the caller (nsd-start.sh's nsd)
#
# Ports are checked in /proc/net so no extra tool is needed; nothing here
# talks to the network.

dns_port_free() {
	_hex=$(printf '%04X' "$1")
	! cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null |
		awk '{ print $2 }' | grep -q ":$_hex\$"
}

dns_free_port() {
	_p=$1
	while [ "$_p" -lt 65000 ]; do
		if dns_port_free "$_p"; then
			echo "$_p"
			return 0
		fi
		_p=$((_p + 1))
	done
	return 1
}

dns_stop() {
	for _pid in "$@"; do
		[ -n "$_pid" ] || continue
		kill "$_pid" 2>/dev/null || continue
		_i=0
		while kill -0 "$_pid" 2>/dev/null && [ $_i -lt 50 ]; do
			sleep 0.1
			_i=$((_i + 1))
		done
		kill -9 "$_pid" 2>/dev/null
		# Reap it if it happens to be our child.
		wait "$_pid" 2>/dev/null
	done
	return 0
}
