#!/bin/bash
#
# t_greyprobe_listen.sh - greyprobe listen with real Postfix as the sender,
# and with swaks as a one-shot client
#
# greyprobe listen defers each (client IP, sender, recipient) twice, then
# accepts; a private Postfix (tests/integ/lib.sh pf_start, plus an smtp
# service) relays to it (relayhost = [127.0.0.1]:PORT, 1 s backoff).
# Checks, each its own PASS/FAIL line:
#  (a) Postfix retried: the summary shows three attempts from the same IP
#      with two retry intervals of a second or more, delivered, not given
#      up, "behaves like an MTA"; the JSONL log agrees; Postfix logged the
#      451 deferral and then status=sent; --save kept the message;
#  (b) swaks, a one-shot client, was deferred and gave up; two clients of
#      a pool show up as a pool; --reject-rcpt answers 550 5.1.1;
#  (c) the receiver's limits: an over-long command line (500 5.5.2, the
#      session goes on), a NUL in a command, commands out of order (503),
#      more than 100 recipients (452 4.5.3), a message over --max-size
#      (552 5.3.4), a message line over 1000 bytes (accepted in pieces),
#      --max-connections with --busy-reply (421), 64 KB of random bytes,
#      and --duration ending the run with a summary and exit 0.
# Skipped (77) when root, Postfix, swaks or the program are missing.

set -u
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/greyprobe/pf-reconfigure.sh
. "$GG_SRC/tests/greyprobe/pf-reconfigure.sh"

GP_BIN=${GP_BIN:-$GG_BUILD/greyprobe/greyprobe}

gg_need_root
[ -x "$GP_BIN" ] || gg_skip "greyprobe is not built ($GP_BIN)"
gg_need_cmd postfix swaks

gg_tmpdir RUN
LPORT=$(gg_port 50)      # greyprobe listen (the relay target)
SMTP=$(gg_port 51)       # the sending Postfix
POLICY=$(gg_port 52)     # not used: permit_mynetworks comes first
LPORT2=$(gg_port 53)     # a second receiver for the limits
LOG=$RUN/listen.jsonl
OUT=$RUN/listen.out
SAVE=$RUN/saved
mkdir -p "$SAVE"

# ---------------------------------------------------------------- helpers

# smtp_open HOST PORT - a raw SMTP connection on fd $SMTP_FD; SMTP_LAST is
# the greeting.  smtp_cmd LINE - send one line, SMTP_LAST is the last line
# of the reply ("" on timeout).  smtp_close - drop the connection.
SMTP_FD=
SMTP_LAST=
smtp_read() {
    local line
    SMTP_LAST=
    while IFS= read -r -t 5 line <&"$SMTP_FD"; do
        line=${line%$'\r'}
        SMTP_LAST=$line
        [ "${line:3:1}" = "-" ] || return 0
    done
    return 1
}
smtp_open() {
    { exec {SMTP_FD}<>"/dev/tcp/$1/$2"; } 2>/dev/null || return 1
    smtp_read
}
smtp_cmd() {
    printf '%s\r\n' "$1" >&"$SMTP_FD"
    smtp_read
}
smtp_close() {
    exec {SMTP_FD}>&-
}

# block RCPT - the summary block of one recipient in $OUT
block() {
    awk -v want="  to <$1>:" 'index($0, want) == 1 { on = 1; print; next }
        on && (/^  to </ || /^sender </ || /^$/) { on = 0 }
        on { print }' "$OUT"
}

# jsummary RCPT - the JSONL summary event of one recipient
jsummary() {
    grep '"event":"summary"' "$LOG" | grep "\"rcpt\":\"$1\""
}

report_logs() {
    if [ "$GG_NFAIL" -gt 0 ]; then
        gg_tail "$OUT" 60
        gg_tail "$RUN/maillog" 30
    fi
}

# ---------------------------------------------------------------- servers

gg_spawn "$OUT" "$GP_BIN" listen --listen "127.0.0.1:$LPORT" --listen "[::1]:$LPORT" \
    --defer-first 2 --reject-rcpt 'nobody@*' --save "$SAVE" --log "$LOG" \
    --hostname sink.greyprobe.test --timeout 30s
LISTEN_PID=$GG_LAST_PID
if ! wait_file_grep "$OUT" "listening on \[::1\]:$LPORT" 5 >/dev/null; then
    fail "greyprobe listen starts on 127.0.0.1:$LPORT and [::1]:$LPORT" "see stderr"
    gg_tail "$OUT"
    gg_done
fi
pass "greyprobe listen starts on 127.0.0.1:$LPORT and [::1]:$LPORT"

# The sending Postfix: relay everything from 127.0.0.0/8 to greyprobe
# listen; pf_start's master.cf has no SMTP client, so one is added.
if ! pf_start "$RUN" "$SMTP" "$POLICY" ||
    ! gp_pf_reconfigure "$RUN" "$SMTP" \
        -m 'smtp                unix  -       -      n      -      -       smtp' \
        "smtpd_recipient_restrictions=permit_mynetworks, reject_unauth_destination" \
        "default_transport=smtp" "relay_transport=smtp" "relayhost=[127.0.0.1]:$LPORT" \
        "smtp_connect_timeout=5s" "smtp_helo_timeout=10s"; then
    fail "private Postfix starts as a relay to greyprobe listen" "see stderr"
    gg_done
fi

# ---- (a) Postfix as the sender --------------------------------------------------
t0=$(date +%s.%N)
r=$(swaks --server "127.0.0.1:$SMTP" --timeout 15 --helo client.greygate.test \
    --from alice@sender.test --to carol@remote.test \
    --header "Subject: relay test $$" 2>&1)
check_match "(a) Postfix queued the message for relaying" '<- +250 .*queued as' "$r"
if wait_file_grep "$LOG" '"event":"message".*"carol@remote.test"' 40 >/dev/null; then
    t1=$(date +%s.%N)
    pass "(a) Postfix delivered to greyprobe listen after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s"
else
    fail "(a) Postfix delivered to greyprobe listen within 40 s" "no message event"
fi
if wait_file_grep "$RUN/maillog" 'to=<carol@remote.test>.*status=sent' 10 >/dev/null; then
    pass "(a) Postfix logged status=sent for carol@remote.test"
else
    fail "(a) Postfix logged status=sent" "not in maillog"
fi
ndef=$(grep -c 'to=<carol@remote.test>.*status=deferred.*451 4.7.1 Greylisted by greyprobe' "$RUN/maillog")
check_eq "(a) Postfix logged two deferrals with greyprobe's 451 4.7.1" 2 "$ndef"
f=$(grep -l "^Subject: relay test $$" "$SAVE"/*.eml 2>/dev/null | head -n 1)
if [ -n "$f" ] && grep -q '^Received: from mx.greygate.test (\[127.0.0.1\]) by sink.greyprobe.test' "$f" &&
    grep -q '^X-Greyprobe-Rcpt: <carol@remote.test>' "$f"; then
    pass "(a) --save kept the message with a Received header and its recipients"
else
    fail "(a) --save kept the message" "${f:-no file in $SAVE}"
fi

# ---- (b) swaks: one shot; a pool; a rejected recipient ---------------------------------
r=$(swaks --server "127.0.0.1:$LPORT" --timeout 10 --helo oneshot.test \
    --from bob@oneshot.test --to dave@remote.test 2>&1)
rc=$?
check_match "(b) swaks is deferred with 451 4.7.1 (exit 24)" "^24 .*451 4\.7\.1 Greylisted by greyprobe" \
    "$rc $(printf '%s\n' "$r" | grep '^<\*\*' | head -n 1)"
for ip in 127.0.0.55 127.0.0.56; do
    swaks --server "127.0.0.1:$LPORT" --timeout 10 --local-interface "$ip" --helo "pool.test" \
        --from pool@pool.test --to erin@remote.test >/dev/null 2>&1
done
r=$(swaks --server "[::1]:$LPORT" --timeout 10 --helo v6.test --from v6@sender.test \
    --to nobody@remote.test 2>&1)
check_match "(b) --reject-rcpt 'nobody@*' answers 550 5.1.1 (over IPv6)" '<\*\* +550 5\.1\.1 ' "$r"
sleep 1

gg_stop_pid "$LISTEN_PID" TERM 10
rc=$?
check_eq "(a) greyprobe listen exits 0 on SIGTERM" 0 "$rc"

b=$(block carol@remote.test)
check_match "(a) summary: 3 attempts (2 deferred, 1 accepted), 1 message" \
    '3 attempts \(2 deferred, 1 accepted, 0 refused\), 1 message' "$b"
iv=$(printf '%s\n' "$b" | sed -n 's/^ *retried: yes, intervals //p')
if [ -n "$iv" ] && awk -v l="$iv" 'BEGIN { n = split(l, a, ", "); if (n != 2) exit 1
        for (i = 1; i <= n; i++) { v = a[i]; sub(/s$/, "", v); if (v !~ /^[0-9.]+$/ || v < 0.5) exit 1 } }'; then
    pass "(a) summary: Postfix retried, intervals $iv"
else
    fail "(a) summary: Postfix retried with two intervals of 0.5 s or more" "'$iv'"
fi
check_match "(a) summary: the same IP every time" 'clients: the same IP every time \(127\.0\.0\.1\)' "$b"
check_match "(a) summary: delivered, did not give up, behaves like an MTA" \
    'delivered: yes.*gave up: no.*behaves like an MTA' "$(printf '%s' "$b" | tr '\n' ' ')"
j=$(jsummary carol@remote.test)
check_match "(a) JSONL summary: retried, delivered, same IP, not given up, two intervals" \
    '"intervals":\[[0-9.]+,[0-9.]+\].*"same_ip":true,"retried":true,"delivered":true,"gave_up":false' "$j"
nrcpt=$(grep '"event":"rcpt"' "$LOG" | grep -c '"rcpt":"carol@remote.test"')
check_eq "(a) JSONL has a live rcpt event per attempt" 3 "$nrcpt"
check_match "(a) the third rcpt event says attempt 3, same IP" '"action":"accept".*"attempt":3,.*"same_ip":true' \
    "$(grep '"event":"rcpt"' "$LOG" | grep '"rcpt":"carol@remote.test"' | tail -n 1)"

b=$(block dave@remote.test)
check_match "(b) summary: swaks did not retry and gave up" \
    'retried: no .*gave up: yes.*never came back' "$(printf '%s' "$b" | tr '\n' ' ')"
check_match "(b) JSONL summary: swaks gave up" '"retried":false,"delivered":false,"gave_up":true' \
    "$(jsummary dave@remote.test)"
check_match "(b) summary: two client IPs of a pool" 'clients: 2 addresses \(a pool\): 127\.0\.0\.55, 127\.0\.0\.56' \
    "$(block erin@remote.test)"
check_match "(b) summary: the rejected recipient" 'refused with 550 and did not try again' \
    "$(block nobody@remote.test)"
check_match "(b) summary header counts the senders" '^greyprobe listen: summary after .*, 4 senders$' \
    "$(grep '^greyprobe listen: summary' "$OUT")"

# ---- (c) limits of the receiver ---------------------------------------------------------
OUT2=$RUN/listen2.out
gg_spawn "$OUT2" "$GP_BIN" listen --listen "127.0.0.1:$LPORT2" --defer-first 0 \
    --max-connections 1 --busy-reply "421 4.7.0 only one connection, try later" \
    --max-size 10000 --duration 8s --log "$RUN/listen2.jsonl" --hostname limits.greyprobe.test
L2_PID=$GG_LAST_PID
if ! wait_file_grep "$OUT2" "listening on 127\.0\.0\.1:$LPORT2" 5 >/dev/null; then
    fail "(c) a second greyprobe listen starts" "see stderr"
    gg_tail "$OUT2"
    gg_done
fi
if smtp_open 127.0.0.1 "$LPORT2"; then
    check_match "(c) greeting" '^220 limits\.greyprobe\.test ESMTP' "$SMTP_LAST"
    r=$(swaks --server "127.0.0.1:$LPORT2" --timeout 5 --from a@b.test --to c@d.test 2>&1)
    check_match "(c) --max-connections 1: a second client gets the --busy-reply 421" \
        '<\*\* +421 4\.7\.0 only one connection, try later' "$r"
    smtp_cmd "EHLO limits.test"
    check_eq "(c) EHLO ends with ENHANCEDSTATUSCODES" "250 ENHANCEDSTATUSCODES" "$SMTP_LAST"
    smtp_cmd "$(head -c 5000 /dev/zero | tr '\0' A)"
    check_match "(c) a 5000-byte command line gets 500 5.5.2" '^500 5\.5\.2 .*too long' "$SMTP_LAST"
    smtp_cmd "NOOP"
    check_eq "(c) ... and the session goes on (NOOP)" "250 2.0.0 Ok" "$SMTP_LAST"
    printf 'NO\0OP\r\n' >&"$SMTP_FD"
    smtp_read
    check_match "(c) a NUL byte in a command gets 500" '^500 5\.5\.2 ' "$SMTP_LAST"
    smtp_cmd "RCPT TO:<x@y.test>"
    check_match "(c) RCPT before MAIL gets 503" '^503 5\.5\.1 ' "$SMTP_LAST"
    smtp_cmd "MAIL FROM:<limits@sender.test> SIZE=20000"
    check_match "(c) MAIL with SIZE over --max-size gets 552" '^552 5\.3\.4 ' "$SMTP_LAST"
    smtp_cmd "MAIL FROM:<limits@sender.test>"
    smtp_cmd "DATA"
    check_match "(c) DATA without recipients gets 554" '^554 5\.5\.1 ' "$SMTP_LAST"
    ok=0
    for i in $(seq 1 100); do
        smtp_cmd "RCPT TO:<r$i@remote.test>"
        [ "${SMTP_LAST:0:3}" = 250 ] && ok=$((ok + 1))
    done
    smtp_cmd "RCPT TO:<r101@remote.test>"
    check_eq "(c) 100 recipients accepted, the 101st gets 452 4.5.3" "100 452 4.5.3" "$ok ${SMTP_LAST:0:9}"
    smtp_cmd "DATA"
    check_match "(c) DATA answers 354" '^354 ' "$SMTP_LAST"
    {
        printf 'Subject: long line\r\n\r\n'
        head -c 3000 /dev/zero | tr '\0' x
        printf '\r\n.\r\n'
    } >&"$SMTP_FD"
    smtp_read
    check_match "(c) a 3000-byte message line is accepted in pieces" '^250 2\.0\.0 Ok: queued as ' "$SMTP_LAST"
    smtp_cmd "MAIL FROM:<limits@sender.test>"
    smtp_cmd "RCPT TO:<big@remote.test>"
    smtp_cmd "DATA"
    {
        printf 'Subject: too big\r\n\r\n'
        for i in $(seq 1 300); do printf '%s\r\n' "a line of about fifty bytes ......................"; done
        printf '.\r\n'
    } >&"$SMTP_FD"
    smtp_read
    check_match "(c) a message over --max-size 10000 gets 552 5.3.4" '^552 5\.3\.4 ' "$SMTP_LAST"
    smtp_cmd "QUIT"
    check_match "(c) QUIT" '^221 ' "$SMTP_LAST"
    smtp_close
    # 64 KB of random bytes, then the receiver must still answer.
    head -c 65536 /dev/urandom >"$RUN/random.bin"
    if { exec {RFD}<>"/dev/tcp/127.0.0.1/$LPORT2"; } 2>/dev/null; then
        cat "$RUN/random.bin" 1>&"$RFD" 2>/dev/null
        timeout 3 cat <&"$RFD" >/dev/null 2>&1
        exec {RFD}>&-
    fi
    sleep 0.2
    if smtp_open 127.0.0.1 "$LPORT2" && [ "${SMTP_LAST:0:3}" = 220 ] && smtp_cmd "NOOP" &&
        [ "${SMTP_LAST:0:3}" = 250 ]; then
        pass "(c) after 64 KB of random bytes on one connection the receiver still serves"
        smtp_cmd "QUIT"
        smtp_close
    else
        fail "(c) after 64 KB of random bytes the receiver still serves" "'$SMTP_LAST'"
    fi
else
    fail "(c) connect to the second greyprobe listen" "no greeting"
fi
gg_reap "$L2_PID" 15
rc=$?
check_eq "(c) --duration 8s ends the run by itself with exit 0" 0 "$rc"
check_match "(c) ... after printing the summary" '^greyprobe listen: summary after 8\.[0-9]s: [0-9]+ connections, 1 turned away busy' \
    "$(grep '^greyprobe listen: summary' "$OUT2")"
check_match "(c) the busy connection is in the JSONL log" '"event":"busy","client":"127.0.0.1","reply":"421 4.7.0 only one connection, try later"' \
    "$(grep '"event":"busy"' "$RUN/listen2.jsonl")"

# Usage errors.
bad=
for args in "" "--listen 127.0.0.1" "--listen localhost:25" "--listen 127.0.0.1:25 --defer-first 2 --defer-for 5m" \
    "--listen 127.0.0.1:25 --reply 250-ok" "--listen 127.0.0.1:25 --busy-reply '521 no'" \
    "--listen 127.0.0.1:25 --max-connections 0" "--listen 127.0.0.1:25 --duration soon"; do
    eval "timeout 5 \"\$GP_BIN\" listen $args" >/dev/null 2>&1
    rc=$?
    [ "$rc" = 64 ] || bad="$bad [$args: $rc]"
done
if [ -z "$bad" ]; then
    pass "(c) usage errors exit 64 (no --listen, bad address, both deferral modes, bad replies, bad counts)"
else
    fail "(c) usage errors exit 64" "$bad"
fi

report_logs
pf_stop "$RUN"
gg_done
