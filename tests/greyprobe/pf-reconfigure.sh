# shellcheck shell=bash
#
# pf-reconfigure.sh - change a private Postfix started by tests/integ/lib.sh
# pf_start, for greyprobe's integration tests (source it after lib.sh).
#
#   gp_pf_reconfigure RUNDIR SMTP_PORT [-m MASTER_CF_LINE]... name=value...
#
# stops the instance, sets each name=value in RUNDIR/etc/main.cf with
# `postconf -e` (the existing line is replaced, not repeated), appends each
# -m line to master.cf, starts it again and waits for SMTP_PORT.
#
# Why not pass the settings to pf_start: it appends them after its own, and
# every Postfix process then logs one "overriding earlier entry" warning per
# setting through postlogd's unix-dgram socket.  Linux queues only
# net.unix.max_dgram_qlen (10) datagrams on it, and the master logs before
# it has started postlogd: with a few overrides the whole instance blocks
# at start-up (processes wait in unix_wait_for_peer).  Why not "postfix
# reload": its postlogd stops reading here after a reload, with the same
# result.  Returns 1 (with diagnostics on stderr) if Postfix does not come
# back.
gp_pf_reconfigure() {
    local run=$1 smtp=$2 pid i kv
    local -a master=()
    shift 2
    while [ "${1:-}" = -m ]; do
        master+=("$2")
        shift 2
    done
    pid=$(pf_master_pid "$run")
    postfix -c "$run/etc" stop >"$run/reconfigure.out" 2>&1
    for ((i = 0; i < 100; i++)); do
        if [ -z "$pid" ] || ! gg_pid_alive "$pid"; then
            break
        fi
        sleep 0.05
    done
    if [ -n "$pid" ] && gg_pid_alive "$pid"; then
        gg_note "gp_pf_reconfigure: Postfix master $pid did not stop"
        return 1
    fi
    for kv in "$@"; do
        postconf -c "$run/etc" -e "$kv" >>"$run/reconfigure.out" 2>&1 || {
            gg_note "gp_pf_reconfigure: postconf -e '$kv' failed"
            return 1
        }
    done
    for kv in "${master[@]}"; do
        printf '%s\n' "$kv" >>"$run/etc/master.cf"
    done
    if ! postfix -c "$run/etc" start >>"$run/reconfigure.out" 2>&1 ||
        ! wait_port "$smtp" 127.0.0.1 20; then
        gg_note "gp_pf_reconfigure: Postfix did not come back on port $smtp"
        gg_tail "$run/reconfigure.out"
        gg_tail "$run/maillog"
        return 1
    fi
    return 0
}
