# shellcheck shell=bash
#
# lib.sh - shared harness for greygate's integration tests
#
# Each tests/integ/t_*.sh script sources this file, starts the real
# components it needs on loopback (a private Postfix instance, swaks,
# greygate-policyd, peers such as postgrey) and reports one line per check:
#
#   PASS: <test-file> <description>
#   FAIL: <test-file> <description> (<why>)
#   SKIP: <test-file> <why>                      (whole test skipped, exit 77)
#
# gg_done exits 1 if any check failed, 0 otherwise.  Diagnostics (log
# excerpts) go to stderr only, so stdout holds nothing but those lines.
#
# Environment (the suite runner relies on these names):
#   GG_SRC        source tree (default: two directories above this file)
#   GG_BUILD      build tree holding policyd/greygate-policyd ($GG_SRC/build)
#   GG_PORT_BASE  first of 100 loopback ports this run may use (default:
#                 derived from the PID, 20000-59900, so parallel runs differ)
#   GG_KEEP=1     keep the temporary directories for inspection
#
# Every process a test starts is a child started through gg_spawn (or a
# Postfix master started by pf_start); an EXIT trap ends each of them by its
# pid, stops each Postfix instance and removes the temporary directories.
# Nothing here talks to anything outside 127.0.0.0/8 and ::1: swaks always
# gets --server, Postfix gets no DNS and no outbound transport, and client
# addresses from the documentation ranges are only *presented* via XCLIENT.

GG_TEST=${GG_TEST:-$(basename "$0")}
GG_LIBDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GG_SRC=${GG_SRC:-$(cd "$GG_LIBDIR/../.." && pwd)}
GG_BUILD=${GG_BUILD:-$GG_SRC/build}
GG_PORT_BASE=${GG_PORT_BASE:-$((20000 + ($$ % 400) * 100))}
GG_KEEP=${GG_KEEP:-0}

GG_NFAIL=0
GG_NPASS=0
GG_PIDS=()            # children started by gg_spawn
GG_TMPDIRS=()         # directories removed at exit
GG_PF_RUNS=()         # Postfix run directories to stop at exit
GG_TMPDIR=
GG_LAST_PID=
GG_POLICYD_PID=       # set by gg_policyd_start
GG_POLICYD_LOG=       # default $GG_TMPDIR/policyd.log
# shellcheck disable=SC2034  # for the tests' use
GG_POLICYD_PORT=

# ---------------------------------------------------------------- reporting

# pass DESCRIPTION - report a passed check.
pass() {
    GG_NPASS=$((GG_NPASS + 1))
    printf 'PASS: %s %s\n' "$GG_TEST" "$1"
}

# fail DESCRIPTION WHY - report a failed check.
fail() {
    GG_NFAIL=$((GG_NFAIL + 1))
    printf 'FAIL: %s %s (%s)\n' "$GG_TEST" "$1" "${2:-no reason given}"
}

# check_eq DESCRIPTION EXPECTED ACTUAL - pass if both strings are equal.
check_eq() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1" "expected '$2', got '$3'"
    fi
}

# check_match DESCRIPTION REGEX ACTUAL - pass if ACTUAL matches the ERE.
check_match() {
    if [[ $3 =~ $2 ]]; then
        pass "$1"
    else
        fail "$1" "expected /$2/, got '$3'"
    fi
}

# gg_skip WHY - skip the whole test.
gg_skip() {
    printf 'SKIP: %s %s\n' "$GG_TEST" "$1"
    exit 77
}

# gg_done - exit 1 if any check failed, else 0.
gg_done() {
    if [ "$GG_NFAIL" -gt 0 ]; then
        exit 1
    fi
    if [ "$GG_NPASS" -eq 0 ]; then
        fail "ran" "no check was run"
        exit 1
    fi
    exit 0
}

# gg_note TEXT... - diagnostics for a human, on stderr.
gg_note() {
    printf '# %s: %s\n' "$GG_TEST" "$*" >&2
}

# gg_tail FILE [LINES] - copy the end of a log to stderr.
gg_tail() {
    local f=$1 n=${2:-30}
    if [ -r "$f" ]; then
        printf '# ---- last %s lines of %s\n' "$n" "$f" >&2
        tail -n "$n" "$f" | sed 's/^/#   /' >&2
    fi
}

# gg_need_root / gg_need_cmd CMD... - skip unless the environment allows.
gg_need_root() {
    [ "$(id -u)" -eq 0 ] || gg_skip "needs root (private Postfix instance)"
}
gg_need_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || gg_skip "$c is not installed"
    done
}

# ---------------------------------------------------------------- processes

# gg_pid_alive PID - true while PID exists and is not a zombie.
gg_pid_alive() {
    local st
    [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
    st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# gg_spawn LOGFILE CMD [ARGS...] - start CMD as a background child with its
# stdout and stderr appended to LOGFILE; its pid is in GG_LAST_PID.
gg_spawn() {
    local log=$1
    shift
    "$@" >>"$log" 2>&1 </dev/null &
    GG_LAST_PID=$!
    GG_PIDS+=("$GG_LAST_PID")
}

# gg_reap PID TIMEOUT_S - wait for a child to exit (KILL it after TIMEOUT_S);
# returns its exit status (128+N for a signal).
gg_reap() {
    local pid=$1 tmo=${2:-10} i=0 rc
    while gg_pid_alive "$pid" && [ "$i" -lt $((tmo * 20)) ]; do
        sleep 0.05
        i=$((i + 1))
    done
    if gg_pid_alive "$pid"; then
        gg_note "pid $pid still alive after ${tmo}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    rc=$?
    gg_forget_pid "$pid"
    return "$rc"
}

# gg_stop_pid PID [SIGNAL] [TIMEOUT_S] - signal one child and reap it.
gg_stop_pid() {
    local pid=$1 sig=${2:-TERM} tmo=${3:-10}
    kill -"$sig" "$pid" 2>/dev/null
    gg_reap "$pid" "$tmo"
}

# gg_forget_pid PID - drop PID from the cleanup list.
gg_forget_pid() {
    local p keep=()
    for p in "${GG_PIDS[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    GG_PIDS=("${keep[@]}")
}

# gg_tmpdir [VAR] - make a 0755 temporary directory (0700 would lock out
# postgrey, Postfix's virtual delivery and a daemon that dropped privileges),
# removed at exit; its path goes to GG_TMPDIR (and VAR if given).
gg_tmpdir() {
    local d
    d=$(mktemp -d "${TMPDIR:-/tmp}/gg-integ.XXXXXX") || {
        fail "setup" "mktemp -d failed"
        exit 1
    }
    chmod 0755 "$d"
    GG_TMPDIRS+=("$d")
    GG_TMPDIR=$d
    if [ -n "${1:-}" ]; then
        printf -v "$1" '%s' "$d"
    fi
}

# gg_cleanup - the EXIT trap: children, Postfix instances, directories.
gg_cleanup() {
    local rc=$? p i d
    trap - EXIT INT TERM HUP
    for ((i = ${#GG_PIDS[@]} - 1; i >= 0; i--)); do
        p=${GG_PIDS[i]}
        gg_pid_alive "$p" && kill -TERM "$p" 2>/dev/null
    done
    for p in "${GG_PIDS[@]}"; do
        gg_reap "$p" 5
    done
    # Background jobs not started through gg_spawn (load workers...).
    for p in $(jobs -p); do
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    for d in "${GG_PF_RUNS[@]}"; do
        pf_stop "$d" >/dev/null 2>&1
    done
    for d in "${GG_TMPDIRS[@]}"; do
        if [ "$GG_KEEP" = 1 ]; then
            gg_note "kept $d"
        else
            rm -rf "$d"
        fi
    done
    exit "$rc"
}
trap gg_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---------------------------------------------------------------- ports

# gg_port N - the Nth port (0-99) of this run.
gg_port() {
    echo $((GG_PORT_BASE + $1))
}

# gg_port_open PORT [HOST] - true if something accepts TCP connections.
gg_port_open() {
    local host=${2:-127.0.0.1}
    (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null
}

# wait_port PORT [HOST] [TIMEOUT_S] [PID] - wait until PORT accepts
# connections; gives up early if PID (a server being started) has died.
wait_port() {
    local port=$1 host=${2:-127.0.0.1} tmo=${3:-10} pid=${4:-} i=0
    while [ "$i" -lt $((tmo * 20)) ]; do
        gg_port_open "$port" "$host" && return 0
        if [ -n "$pid" ] && ! gg_pid_alive "$pid"; then
            return 1
        fi
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# ---------------------------------------------------------------- files

# wait_file_grep PATH REGEX TIMEOUT_S - poll until a regular file at PATH
# (a file, or any file below a directory such as a maildir) has a line
# matching the ERE; prints the matching file names, one a line.
wait_file_grep() {
    local path=$1 re=$2 tmo=${3:-10} i=0 out
    while :; do
        if [ -e "$path" ]; then
            out=$(grep -rlE -- "$re" "$path" 2>/dev/null)
            if [ -n "$out" ]; then
                printf '%s\n' "$out"
                return 0
            fi
        fi
        [ "$i" -ge $((tmo * 10)) ] && return 1
        sleep 0.1
        i=$((i + 1))
    done
}

# wait_file_count PATH REGEX N TIMEOUT_S - like wait_file_grep, but waits
# until at least N files match (one message per recipient in a maildir).
wait_file_count() {
    local path=$1 re=$2 want=$3 tmo=${4:-10} i=0 out n
    while :; do
        out=$(grep -rlE -- "$re" "$path" 2>/dev/null)
        n=$(printf '%s' "$out" | grep -c .)
        if [ "$n" -ge "$want" ]; then
            printf '%s\n' "$out"
            return 0
        fi
        if [ "$i" -ge $((tmo * 10)) ]; then
            [ -n "$out" ] && printf '%s\n' "$out"
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
}

# count_header FILE NAME - number of header lines "NAME:" in a message
# (the header section ends at the first empty line).
count_header() {
    awk -v h="$2" 'BEGIN { n = 0; h = tolower(h) ":" }
        /^\r?$/ { exit }
        index(tolower($0), h) == 1 { n++ }
        END { print n }' "$1"
}

# ---------------------------------------------------------------- NSD

# gg_nsd_start DIR PORT ZONEFILE... - serve the zone files with NSD on
# 127.0.0.1@PORT and ::1@PORT (configuration from tests/dns/nsd-conf.sh,
# files under DIR), as a child stopped at exit; wait until it serves.
# Sets GG_NSD_PID; returns 1 (with the logs shown) if it does not start.
gg_nsd_start() {
    local dir=$1 port=$2 nsd conf i=0
    shift 2
    nsd=$(command -v nsd || echo /usr/sbin/nsd)
    if ! conf=$("$GG_SRC/tests/dns/nsd-conf.sh" "$dir" "$port" "$@"); then
        gg_note "the test zones do not load (tests/dns/nsd-conf.sh)"
        return 1
    fi
    gg_spawn "$dir/nsd.out" "$nsd" -d -c "$conf"
    GG_NSD_PID=$GG_LAST_PID
    while ! grep -q 'nsd started' "$dir/nsd.log" 2>/dev/null && gg_pid_alive "$GG_NSD_PID" &&
        [ $i -lt 100 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    if ! grep -q 'nsd started' "$dir/nsd.log" 2>/dev/null; then
        gg_note "NSD did not start on port $port"
        gg_tail "$dir/nsd.log"
        gg_tail "$dir/nsd.out"
        return 1
    fi
    return 0
}

# ---------------------------------------------------------------- Postfix

# pf_start RUNDIR SMTP_PORT POLICY_PORT [name=value...] - start a private
# Postfix instance whose smtpd listens on 127.0.0.1:SMTP_PORT and
# [::1]:SMTP_PORT, asks the policy server on 127.0.0.1:POLICY_PORT at RCPT
# (fail-open if it is down) and delivers every recipient in example.test
# into the maildir RUNDIR/mail/inbox/.  Extra name=value pairs are appended
# to main.cf (later settings win).  Outbound delivery and DNS are disabled.
pf_start() {
    local run=$1 smtp=$2 policy=$3 kv
    shift 3
    local policy_check="check_policy_service { inet:127.0.0.1:$policy, timeout=10s, default_action=DUNNO }"
    if [ "${PF_PLAIN_POLICY:-0}" = 1 ]; then
        policy_check="check_policy_service inet:127.0.0.1:$policy"
    fi
    if gg_port_open "$smtp"; then
        gg_note "pf_start: port $smtp is already in use"
        return 1
    fi
    mkdir -p "$run/etc" "$run/queue" "$run/data" "$run/mail" || return 1
    chown postfix:postfix "$run/data" || return 1
    chown 65534:65534 "$run/mail" || return 1
    : >"$run/maillog"
    cat >"$run/etc/main.cf" <<EOF
# private test instance written by tests/integ/lib.sh
compatibility_level = 3.6
queue_directory = $run/queue
data_directory = $run/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.greygate.test
mydomain = greygate.test
myorigin = \$myhostname
mydestination =
mynetworks = 127.0.0.0/8 [::1]/128
inet_interfaces = loopback-only
inet_protocols = all
alias_maps =
alias_database =
local_recipient_maps =
relay_domains =
relayhost =
biff = no
# Nothing may leave the machine: no outbound transport, no DNS.
default_transport = error:outbound mail is disabled in this test instance
relay_transport = error:outbound mail is disabled in this test instance
local_transport = error:local delivery is disabled in this test instance
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
notify_classes =
virtual_mailbox_domains = example.test
virtual_mailbox_base = $run/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
smtpd_authorized_xclient_hosts = 127.0.0.0/8 [::1]/128
smtpd_relay_restrictions =
smtpd_recipient_restrictions = reject_unauth_destination, $policy_check
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_junk_command_limit = 1000
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
smtpd_tls_security_level = none
in_flow_delay = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maillog_file = $run/maillog
maillog_file_prefixes = $run
EOF
    # Replace, not append: a duplicate key makes every Postfix process log an
    # "overriding earlier entry" warning, and a burst of those to postlogd's
    # small datagram queue can hang the instance at start-up.
    for kv in "$@"; do
        sed -i "/^${kv%%=*}[[:space:]]*=/d" "$run/etc/main.cf"
        printf '%s = %s\n' "${kv%%=*}" "${kv#*=}" >>"$run/etc/main.cf"
    done
    cat >"$run/etc/master.cf" <<EOF
# service           type  private unpriv chroot wakeup maxproc command
127.0.0.1:$smtp     inet  n       -      n      -      -       smtpd
[::1]:$smtp         inet  n       -      n      -      -       smtpd
cleanup             unix  n       -      n      -      0       cleanup
qmgr                unix  n       -      n      300    1       qmgr
rewrite             unix  -       -      n      -      -       trivial-rewrite
bounce              unix  -       -      n      -      0       bounce
defer               unix  -       -      n      -      0       bounce
trace               unix  -       -      n      -      0       bounce
verify              unix  -       -      n      -      1       verify
flush               unix  n       -      n      1000?  0       flush
proxymap            unix  -       -      n      -      -       proxymap
anvil               unix  -       -      n      -      1       anvil
virtual             unix  -       n      n      -      -       virtual
error               unix  -       -      n      -      -       error
retry               unix  -       -      n      -      -       error
discard             unix  -       -      n      -      -       discard
showq               unix  n       -      n      -      -       showq
postlog             unix-dgram n  -      n      -      1       postlogd
EOF
    GG_PF_RUNS+=("$run")
    if ! postfix -c "$run/etc" start >"$run/postfix-start.out" 2>&1; then
        gg_note "postfix -c $run/etc start failed"
        gg_tail "$run/postfix-start.out"
        gg_tail "$run/maillog"
        return 1
    fi
    if ! wait_port "$smtp" 127.0.0.1 20 || ! wait_port "$smtp" ::1 5; then
        gg_note "Postfix did not open port $smtp"
        gg_tail "$run/postfix-start.out"
        gg_tail "$run/maillog"
        return 1
    fi
    return 0
}

# pf_master_pid RUNDIR - the master's pid, if it is running.
pf_master_pid() {
    local pid
    pid=$(tr -d ' \n' <"$1/queue/pid/master.pid" 2>/dev/null) || return 1
    gg_pid_alive "$pid" || return 1
    echo "$pid"
}

# pf_stop [RUNDIR] - stop a Postfix instance (default: the last started)
# and make sure its master is gone.
pf_stop() {
    local run=${1:-} pid i=0 d keep=()
    if [ -z "$run" ] && [ "${#GG_PF_RUNS[@]}" -gt 0 ]; then
        run=${GG_PF_RUNS[${#GG_PF_RUNS[@]} - 1]}
    fi
    [ -n "$run" ] || return 0
    pid=$(pf_master_pid "$run")
    if [ -n "$pid" ]; then
        postfix -c "$run/etc" stop >/dev/null 2>&1
        while gg_pid_alive "$pid" && [ "$i" -lt 100 ]; do
            sleep 0.05
            i=$((i + 1))
        done
        # Our own master: end it by pid if it did not listen to "stop".
        gg_pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
    fi
    for d in "${GG_PF_RUNS[@]}"; do
        [ "$d" = "$run" ] || keep+=("$d")
    done
    GG_PF_RUNS=("${keep[@]}")
    return 0
}

# ---------------------------------------------------------------- swaks

# swaks_reply SMTP_PORT CLIENT_ADDR FROM TO [swaks args...] - send one
# message through the private Postfix, presenting CLIENT_ADDR through
# XCLIENT (an address with ':' becomes IPV6:addr).  TO may list several
# recipients separated by commas.  Prints one reply line: the first error
# reply (the "<** 450 4.7.1 ..." line, without the marker) if there was
# one, else the "250 ... queued as" reply to DATA, else "000 <what went
# wrong>".  With SWAKS_TRANSCRIPT=FILE the whole dialogue is kept there.
# SWAKS_XNAME and SWAKS_XHELO override the presented client name and HELO.
swaks_reply() {
    local port=$1 addr=$2 from=$3 to=$4 out rc line
    shift 4
    case $addr in
    IPV6:* | [0-9]*.[0-9]*) ;;
    *:*) addr="IPV6:$addr" ;;
    esac
    out=$(swaks --server "127.0.0.1:$port" --timeout 30 \
        --xclient-addr "$addr" \
        --xclient-name "${SWAKS_XNAME:-mx.sender.test}" \
        --xclient-helo "${SWAKS_XHELO:-mx.sender.test}" \
        --helo client.greygate.test \
        --from "$from" --to "$to" "$@" 2>&1)
    rc=$?
    [ -n "${SWAKS_TRANSCRIPT:-}" ] && printf '%s\n' "$out" >"$SWAKS_TRANSCRIPT"
    line=$(printf '%s\n' "$out" | sed -n 's/^<\*\* *\([0-9][0-9][0-9][ -].*\)$/\1/p' | head -n 1)
    if [ -z "$line" ]; then
        line=$(printf '%s\n' "$out" | sed -n 's/^<- *\(250[ -].*queued as.*\)$/\1/p' | head -n 1)
    fi
    if [ -z "$line" ]; then
        line="000 no SMTP result (swaks exit $rc): $(printf '%s\n' "$out" | grep -E '^\*\*\*' | head -n 1)"
    fi
    printf '%s\n' "${line%$'\r'}"
}

# swaks_send SMTP_PORT CLIENT_ADDR FROM TO [swaks args...] - like
# swaks_reply, but prints only the three-digit reply code.
swaks_send() {
    local r
    r=$(swaks_reply "$@")
    printf '%s\n' "${r%% *}"
}

# swaks_rcpt_codes FILE - the reply codes to each RCPT TO in a transcript
# kept with SWAKS_TRANSCRIPT, space separated.
swaks_rcpt_codes() {
    awk '/^ -> RCPT TO:/ { want = 1; next }
         want && /^(<-|<\*\*) +[0-9][0-9][0-9] / { sub(/^(<-|<\*\*) +/, ""); printf "%s%s", sep, substr($0, 1, 3); sep = " "; want = 0 }
         END { print "" }' "$1"
}

# ---------------------------------------------------------------- policy protocol

# policy_query PORT CLIENT SENDER RECIPIENT [INSTANCE] [HELO] - one Postfix
# policy request over a fresh connection (bash /dev/tcp); prints the
# action (the text after "action="), or "ERROR ..." on failure.
policy_query() {
    local port=$1 fd action=
    { exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || {
        echo "ERROR connect"
        return 1
    }
    policy_request "$fd" "$2" "$3" "$4" "${5:-gg.$$.$RANDOM}" "${6:-mx.sender.test}"
    action=$(policy_read "$fd")
    exec {fd}>&-
    echo "$action"
    [ "${action#ERROR}" = "$action" ]
}

# policy_request FD CLIENT SENDER RECIPIENT INSTANCE HELO - write one request.
# It goes out in one write(2), as Postfix sends it: bash's builtins write
# line by line, and a request split over many small TCP segments stalls
# ~40 ms in Nagle's algorithm against the server's delayed ACK.
policy_request() {
    local req
    printf -v req 'request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=%s\nclient_name=unknown\nreverse_client_name=unknown\nhelo_name=%s\nsender=%s\nrecipient=%s\nrecipient_count=0\nqueue_id=\ninstance=%s\nsize=0\nccert_subject=\nccert_issuer=\nccert_fingerprint=\nencryption_protocol=\nencryption_cipher=\nencryption_keysize=0\netrn_domain=\nstress=\n' \
        "$2" "$6" "$3" "$4" "$5"
    # The here-string adds the final newline: the empty line ending the request.
    cat <<<"$req" 1>&"$1" 2>/dev/null
}

# policy_read FD - read one response; prints the action or "ERROR ...".
policy_read() {
    local fd=$1 line action=
    while IFS= read -r -t 10 line <&"$fd"; do
        line=${line%$'\r'}
        [ -z "$line" ] && break
        case $line in
        action=*) action=${line#action=} ;;
        esac
    done
    if [ -z "$action" ]; then
        echo "ERROR no answer"
        return 1
    fi
    echo "$action"
}

# policy_class ACTION - "defer", "pass", "reject" or "other".
policy_class() {
    case $1 in
    DEFER_IF_REJECT*) echo other ;;
    DEFER_IF_PERMIT* | DEFER* | 4[0-9][0-9]*) echo defer ;;
    DUNNO* | OK* | PREPEND* | dunno* | ok* | prepend*) echo pass ;;
    REJECT* | 5[0-9][0-9]*) echo reject ;;
    *) echo other ;;
    esac
}

# ---------------------------------------------------------------- greygate-policyd

GG_POLICYD_BIN=${GG_POLICYD_BIN:-$GG_BUILD/policyd/greygate-policyd}

# gg_policyd_port CONF [ARGS...] - the TCP port of the effective "listen"
# setting (a -o listen= override wins over the file).
gg_policyd_port() {
    local conf=$1 listen='' a prev=''
    shift
    listen=$(sed -n 's/^[[:space:]]*listen[[:space:]]*=[[:space:]]*\([^[:space:]]*\).*/\1/p' "$conf" | tail -n 1)
    for a in "$@"; do
        if [ "$prev" = -o ] && [ "${a%%=*}" = listen ]; then
            listen=${a#*=}
        fi
        prev=$a
    done
    case $listen in
    inet:*:[0-9]*) echo "${listen##*:}" ;;
    *) return 1 ;;
    esac
}

# gg_policyd_start CONF [-o name=value...] - start greygate-policyd in the
# foreground (-f) as a child, appending its stderr to GG_POLICYD_LOG
# (default $GG_TMPDIR/policyd.log); waits until its port answers.
gg_policyd_start() {
    local conf=$1 port
    shift
    port=$(gg_policyd_port "$conf" "$@") || {
        gg_note "gg_policyd_start: no inet listen setting in $conf"
        return 1
    }
    if gg_port_open "$port"; then
        gg_note "gg_policyd_start: port $port is already in use"
        return 1
    fi
    GG_POLICYD_LOG=${GG_POLICYD_LOG:-$GG_TMPDIR/policyd.log}
    printf '==== %s start: %s -f -c %s %s\n' "$(date '+%T.%N')" "$GG_POLICYD_BIN" "$conf" "$*" >>"$GG_POLICYD_LOG"
    gg_spawn "$GG_POLICYD_LOG" "$GG_POLICYD_BIN" -f -c "$conf" "$@"
    GG_POLICYD_PID=$GG_LAST_PID
    # shellcheck disable=SC2034  # for the tests' use
    GG_POLICYD_PORT=$port
    if ! wait_port "$port" 127.0.0.1 15 "$GG_POLICYD_PID"; then
        gg_note "greygate-policyd did not open port $port"
        gg_tail "$GG_POLICYD_LOG"
        return 1
    fi
    return 0
}

# gg_policyd_stop - SIGTERM greygate-policyd and reap it; returns its status.
gg_policyd_stop() {
    local pid=$GG_POLICYD_PID rc
    [ -n "$pid" ] || return 0
    GG_POLICYD_PID=
    gg_stop_pid "$pid" TERM 10
    rc=$?
    printf '==== %s stopped (SIGTERM), status %s\n' "$(date '+%T.%N')" "$rc" >>"$GG_POLICYD_LOG"
    return "$rc"
}

# gg_policyd_kill9 - SIGKILL greygate-policyd and reap it.
gg_policyd_kill9() {
    local pid=$GG_POLICYD_PID
    [ -n "$pid" ] || return 0
    GG_POLICYD_PID=
    gg_stop_pid "$pid" KILL 10
    printf '==== %s killed (SIGKILL)\n' "$(date '+%T.%N')" >>"$GG_POLICYD_LOG"
    return 0
}
