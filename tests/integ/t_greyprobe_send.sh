#!/bin/bash
#
# t_greyprobe_send.sh - greyprobe send against a real Postfix running
# greygate-policyd, with MX sets served by a private NSD
#
# A private Postfix (tests/integ/lib.sh pf_start) asks greygate-policyd
# (greylist_delay = 2) at RCPT; unknown users are refused 550 5.1.1 before
# the policy check; recipients "verify@..." are whitelisted.  NSD serves
# tests/greyprobe/zones/probe.test.zone (every MX on 127.0.0.x, all on the
# Postfix port, given to greyprobe with --port) and the checks' example.test
# zone (its null MX).  Checks, each its own PASS/FAIL line:
#  (a) greylisting: deferred 450 4.7.1, then delivered on a 1 s schedule;
#      the reported delay is within 1 s of greylist_delay; the message
#      (X-Greyprobe-Id) arrives; exit 0; the human report (-v) says
#      "deferred by ... then accepted" and shows the dialogue;
#  (b) 550 5.1.1: exit 1, kind no-such-user, one attempt, no retry;
#  (c) MX fallback: the first MX's port is closed, the second answers and
#      defers, the retries go first to the MX that deferred; 421 from a busy
#      first MX, a first MX that never greets (timeout) and one without an
#      address all fall through to the second;
#  (d) null MX (RFC 7505): exit 1 without any connection; no such domain;
#  (e) --verify-only: RCPT accepted, RSET and QUIT, nothing delivered;
#      implicit MX, an IPv6-only MX, an old server that refuses EHLO;
#  (f) time runs out while greylisted (exit 2), nothing reachable (exit 3),
#      DNS server down (exit 3), a server that breaks the protocol (exit 3),
#      SIGINT while waiting (exit 2, report so far), --data FILE
#      dot-stuffed, usage errors (64).
# Skipped (77) when root, Postfix, NSD or the programs are missing.

set -u
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/greyprobe/pf-reconfigure.sh
. "$GG_SRC/tests/greyprobe/pf-reconfigure.sh"

GP_BIN=${GP_BIN:-$GG_BUILD/greyprobe/greyprobe}
GP_TESTS=$GG_SRC/tests/greyprobe

gg_need_root
[ -x "$GP_BIN" ] || gg_skip "greyprobe is not built ($GP_BIN)"
[ -x "$GG_POLICYD_BIN" ] || gg_skip "greygate-policyd is not built ($GG_POLICYD_BIN)"
gg_need_cmd postfix perl
command -v nsd >/dev/null 2>&1 || [ -x /usr/sbin/nsd ] || gg_skip "nsd is not installed"

gg_tmpdir RUN
SMTP=$(gg_port 40)
POLICY=$(gg_port 41)
DNSPORT=$(gg_port 42)
DEADDNS=$(gg_port 43)          # nothing listens here
DNS=127.0.0.1:$DNSPORT
MAIL=$RUN/mail
DELAY=2
FROM=probe@sender.test
HELO=probe.greygate.test

# ---------------------------------------------------------------- helpers

# gp OUTFILE ARGS... - run greyprobe send with the common options, stdout to
# OUTFILE, stderr to OUTFILE.err; returns its exit status.
gp() {
    local out=$1
    shift
    timeout 60 "$GP_BIN" send --from "$FROM" --helo "$HELO" --timeout 5s "$@" \
        >"$out" 2>"$out.err"
}

# jget FILE KEY - a top-level scalar of the JSON report (the last KEY wins:
# the top-level fields come after the attempts).
jget() {
    grep -o "\"$2\":\(\"[^\"]*\"\|[^,}]*\)" "$1" | tail -n 1 | sed 's/^"[^"]*"://; s/^"//; s/"$//'
}

# jattempts FILE KEY - KEY of every attempt, space separated.
jattempts() {
    sed 's/.*"attempts":\[//; s/\],"attempts_dropped".*//' "$1" |
        grep -o "\"$2\":\(\"[^\"]*\"\|[^,}]*\)" | sed 's/^"[^"]*"://; s/^"//; s/"$//' |
        tr '\n' ' ' | sed 's/ $//'
}

# within A B TOL - |A - B| <= TOL (decimal numbers)
within() {
    awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= t) }'
}

report_logs() {
    if [ "$GG_NFAIL" -gt 0 ]; then
        gg_tail "$GG_TMPDIR/policyd.log" 30
        gg_tail "$RUN/maillog" 30
        gg_tail "$RUN/nsd/nsd.log" 10
    fi
}

# ---------------------------------------------------------------- servers

for a in 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6; do
    if gg_port_open "$SMTP" "$a"; then
        gg_skip "port $SMTP is already in use on $a"
    fi
done

mkdir -p "$RUN/db"
cat >"$RUN/greygate.conf" <<EOF
listen = inet:127.0.0.1:$POLICY
database = bdb:$RUN/db
user =
greylist_delay = $DELAY
greylist_auto_whitelist = 0
whitelist_recipients = verify@
EOF

DOMAINS="example.test fallback.probe.test busy.probe.test slow.probe.test dangling.probe.test"
DOMAINS="$DOMAINS old.probe.test v6.probe.test implicit.probe.test"
printf '%s\n' '!/^nosuchuser@/ inbox/' >"$RUN/vmaps"
if ! pf_start "$RUN" "$SMTP" "$POLICY" ||
    ! gp_pf_reconfigure "$RUN" "$SMTP" \
        "virtual_mailbox_domains=$DOMAINS" \
        "virtual_mailbox_maps=regexp:$RUN/vmaps" \
        "smtpd_recipient_restrictions=reject_unlisted_recipient, reject_unauth_destination, check_policy_service { inet:127.0.0.1:$POLICY, timeout=10s, default_action=DUNNO }"; then
    fail "private Postfix starts" "see stderr"
    gg_done
fi
if ! gg_policyd_start "$RUN/greygate.conf"; then
    fail "greygate-policyd starts" "see stderr"
    gg_done
fi
if ! gg_nsd_start "$RUN/nsd" "$DNSPORT" "$GP_TESTS/zones/probe.test.zone" \
    "$GG_SRC/tests/dns/zones/example.test.zone"; then
    fail "NSD starts on port $DNSPORT" "see stderr"
    gg_done
fi
NSD_PID=$GG_NSD_PID

# ---- (a) greylisting: deferred, then delivered --------------------------------
gp "$RUN/a.json" --server "127.0.0.1:$SMTP" --to bob@example.test \
    --schedule 0,1s,1s,... --max-time 30s --json
rc=$?
check_eq "(a) greylisted probe through --server: exit 0" 0 "$rc"
check_eq "(a) outcome delivered" delivered "$(jget "$RUN/a.json" outcome)"
kinds=$(jattempts "$RUN/a.json" kind)
check_match "(a) attempts: greylisted first, then accepted ($kinds)" '^greylisted( greylisted)* accepted$' "$kinds"
check_eq "(a) first attempt: 450 4.7.1 at RCPT" "450 4.7.1 rcpt" \
    "$(jattempts "$RUN/a.json" code | cut -d' ' -f1) $(jattempts "$RUN/a.json" enhanced | cut -d' ' -f1) $(jattempts "$RUN/a.json" stage | cut -d' ' -f1)"
check_eq "(a) last attempt: 250 after the message" "250 message" \
    "$(jattempts "$RUN/a.json" code | awk '{ print $NF }') $(jattempts "$RUN/a.json" stage | awk '{ print $NF }')"
delay=$(jget "$RUN/a.json" delay)
if within "$delay" "$DELAY" 1; then
    pass "(a) reported greylisting delay ${delay}s is within 1 s of greylist_delay = ${DELAY}s"
else
    fail "(a) reported greylisting delay is within 1 s of greylist_delay = ${DELAY}s" "delay '$delay'"
fi
check_eq "(a) JSON says greylisted, deferred by 127.0.0.1" "true 127.0.0.1" \
    "$(jget "$RUN/a.json" greylisted) $(jget "$RUN/a.json" deferred_by)"
offsets=$(jattempts "$RUN/a.json" offset)
if awk -v o="$offsets" 'BEGIN { n = split(o, a, " "); for (i = 2; i <= n; i++) { d = a[i] - a[i-1]; if (d < 0.9 || d > 1.6) exit 1 } exit !(n >= 2) }'; then
    pass "(a) retries follow the 1 s schedule (offsets $offsets)"
else
    fail "(a) retries follow the 1 s schedule" "offsets $offsets"
fi
id=$(jget "$RUN/a.json" id)
if f=$(wait_file_grep "$MAIL" "^X-Greyprobe-Id: $id" 10); then
    f=$(printf '%s\n' "$f" | head -n 1)
    if grep -q "^Message-ID: <greyprobe.$id@$HELO>" "$f" && grep -q '^Date: ' "$f"; then
        pass "(a) the probe message arrived with Date, Message-ID and X-Greyprobe-Id $id"
    else
        fail "(a) the probe message has Date and Message-ID" "$(head -n 20 "$f" | tr '\n' '|')"
    fi
else
    fail "(a) the probe message (X-Greyprobe-Id $id) arrived in the maildir" "not found"
fi

gp "$RUN/a2.txt" -v --server "127.0.0.1:$SMTP" --to carol@example.test --schedule 0,1s,... --max-time 30s
rc=$?
check_eq "(a) human report run: exit 0" 0 "$rc"
check_match "(a) human summary 'deferred by 127.0.0.1 for ... then accepted'" \
    '^summary: deferred by 127\.0\.0\.1 for [0-9.]+s over [0-9]+ attempts?, then accepted$' \
    "$(grep '^summary:' "$RUN/a2.txt")"
check_match "(a) human report has a greylisting delay line" '^delay: +[0-9.]+s \(greylisting\)$' \
    "$(grep '^delay:' "$RUN/a2.txt")"
if grep -q -- '-> EHLO probe.greygate.test' "$RUN/a2.txt" && grep -q -- '<- 220 ' "$RUN/a2.txt" &&
    grep -q -- '-> \[message: [0-9]* bytes\]' "$RUN/a2.txt" && grep -q -- '-> QUIT' "$RUN/a2.txt"; then
    pass "(a) -v shows the full dialogue (220, EHLO, message, QUIT)"
else
    fail "(a) -v shows the full dialogue" "$(head -c 600 "$RUN/a2.txt" | tr '\n' '|')"
fi
if grep -q '^greyprobe: attempt 1 .*RCPT 450 4.7.1 (greylisted)$' "$RUN/a2.txt.err"; then
    pass "(a) each attempt is reported on stderr as it ends"
else
    fail "(a) each attempt is reported on stderr as it ends" "$(head -n 3 "$RUN/a2.txt.err" | tr '\n' '|')"
fi

# ---- (b) 550 5.1.1: permanent, no retry ------------------------------------------
gp "$RUN/b.json" --server "127.0.0.1:$SMTP" --to nosuchuser@example.test \
    --schedule 0,1s,... --max-time 20s --json
rc=$?
check_eq "(b) unknown user: exit 1" 1 "$rc"
check_eq "(b) one attempt, 550 5.1.1 no-such-user at RCPT, outcome refused" \
    "no-such-user 550 5.1.1 rcpt refused" \
    "$(jattempts "$RUN/b.json" kind) $(jattempts "$RUN/b.json" code) $(jattempts "$RUN/b.json" enhanced) $(jattempts "$RUN/b.json" stage) $(jget "$RUN/b.json" outcome)"
el=$(jget "$RUN/b.json" elapsed)
if awk -v e="$el" 'BEGIN { exit !(e != "" && e < 0.9) }'; then
    pass "(b) no retry: finished after ${el}s (schedule step 1 s)"
else
    fail "(b) no retry" "elapsed '$el'"
fi

# ---- (c) MX fallback -----------------------------------------------------------------
gp "$RUN/c.json" --dns-server "$DNS" --port "$SMTP" --to bob@fallback.probe.test \
    --schedule 0,1s,... --max-time 30s --json
rc=$?
check_eq "(c) MX fallback: exit 0" 0 "$rc"
hosts=$(jattempts "$RUN/c.json" host)
kinds=$(jattempts "$RUN/c.json" kind)
check_eq "(c) attempt 1 to mx1.probe.test [127.0.0.2] is refused" "mx1.probe.test 127.0.0.2 refused" \
    "$(echo "$hosts" | cut -d' ' -f1) $(jattempts "$RUN/c.json" address | cut -d' ' -f1) $(echo "$kinds" | cut -d' ' -f1)"
check_eq "(c) attempt 2 to mx2.probe.test is greylisted" "mx2.probe.test greylisted" \
    "$(echo "$hosts" | cut -d' ' -f2) $(echo "$kinds" | cut -d' ' -f2)"
check_match "(c) the retries go first to the MX that deferred (hosts: $hosts)" \
    '^mx1\.probe\.test mx2\.probe\.test( mx2\.probe\.test)+$' "$hosts"
check_eq "(c) MX list in preference order" '10 20' "$(grep -o '"pref":[0-9]*' "$RUN/c.json" | cut -d: -f2 | tr '\n' ' ' | sed 's/ $//')"

# 421 from a busy first MX: greyprobe listen with one connection slot, held.
BUSY=$RUN/busy
gg_spawn "$BUSY.log" "$GP_BIN" listen --listen "127.0.0.3:$SMTP" --max-connections 1 --hostname busy.probe.test
BUSY_PID=$GG_LAST_PID
# (Not wait_port: its probe connection would take the one slot for a moment.)
if wait_file_grep "$BUSY.log" 'listening on 127\.0\.0\.3:' 5 >/dev/null &&
    exec {HOLD}<>"/dev/tcp/127.0.0.3/$SMTP" &&
    IFS= read -r -t 5 line <&"$HOLD" && [ "${line:0:3}" = 220 ]; then
    gp "$RUN/c2.json" --dns-server "$DNS" --port "$SMTP" --to verify@busy.probe.test \
        --verify-only --schedule 0 --json
    rc=$?
    check_eq "(c) 421 from the first MX falls through to the second: exit 0, busy then accepted" \
        "0 busy accepted 421 mxbusy.probe.test mx2.probe.test" \
        "$rc $(jattempts "$RUN/c2.json" kind) $(jattempts "$RUN/c2.json" code | cut -d' ' -f1) $(jattempts "$RUN/c2.json" host)"
    exec {HOLD}>&-
else
    fail "(c) a busy greyprobe listen on 127.0.0.3:$SMTP" "did not start or greet"
    gg_tail "$BUSY.log"
fi
gg_stop_pid "$BUSY_PID" TERM 5

# A first MX that accepts the connection but never greets: timeout.
# shellcheck disable=SC2016  # perl code, not shell
gg_spawn "$RUN/silent.log" perl -MIO::Socket::INET -e \
    '$s = IO::Socket::INET->new(LocalAddr => "127.0.0.4", LocalPort => $ARGV[0], Listen => 8, ReuseAddr => 1) or die "listen: $!"; sleep 120' "$SMTP"
SILENT_PID=$GG_LAST_PID
if wait_port "$SMTP" 127.0.0.4 5 "$SILENT_PID"; then
    gp "$RUN/c3.json" --dns-server "$DNS" --port "$SMTP" --to verify@slow.probe.test \
        --verify-only --schedule 0 --json --timeout 1s
    rc=$?
    check_eq "(c) a first MX that never greets times out and falls through: exit 0" \
        "0 timeout accepted greeting mx2.probe.test" \
        "$rc $(jattempts "$RUN/c3.json" kind) $(jattempts "$RUN/c3.json" stage | cut -d' ' -f1) $(jattempts "$RUN/c3.json" host | cut -d' ' -f2)"
else
    fail "(c) a silent listener on 127.0.0.4:$SMTP" "did not start"
fi
gg_stop_pid "$SILENT_PID" TERM 5

gp "$RUN/c4.json" --dns-server "$DNS" --port "$SMTP" --to verify@dangling.probe.test \
    --verify-only --schedule 0 --json
rc=$?
check_eq "(c) a first MX without an address is skipped: exit 0, dns then accepted" "0 dns accepted" \
    "$rc $(jattempts "$RUN/c4.json" kind)"

# ---- (d) null MX and no such domain ----------------------------------------------------
if [ -r "$GG_SRC/tests/dns/zones/example.test.zone" ]; then
    NULLMX=nullmx.example.test
else
    NULLMX=nullmx.probe.test
fi
gp "$RUN/d.json" --dns-server "$DNS" --port "$SMTP" --to "bob@$NULLMX" --json
rc=$?
check_eq "(d) null MX ($NULLMX): exit 1, no attempt, null_mx true" "1 refused true ''" \
    "$rc $(jget "$RUN/d.json" outcome) $(jget "$RUN/d.json" null_mx) '$(jattempts "$RUN/d.json" kind)'"
check_match "(d) null MX summary" 'null MX, RFC 7505' "$(jget "$RUN/d.json" summary)"
gp "$RUN/d2.txt" --dns-server "$DNS" --port "$SMTP" --to bob@nxdomain.probe.test
rc=$?
check_eq "(d) a domain with neither MX nor address: exit 1" 1 "$rc"
check_match "(d) ... and the summary says so" 'no MX and no address records' "$(grep '^summary:' "$RUN/d2.txt")"

# ---- (e) --verify-only, implicit MX, IPv6, HELO fallback ---------------------------------
nmsg=$(find "$MAIL" -type f | wc -l)
gp "$RUN/e.txt" -v --server "127.0.0.1:$SMTP" --to verify@example.test --verify-only
rc=$?
check_eq "(e) --verify-only: exit 0" 0 "$rc"
check_match "(e) outcome verified" '^outcome: verified \(exit 0\)' "$(grep '^outcome:' "$RUN/e.txt")"
if grep -q -- '-> RSET' "$RUN/e.txt" && grep -q -- '-> QUIT' "$RUN/e.txt" && ! grep -q -- '-> DATA' "$RUN/e.txt"; then
    pass "(e) --verify-only stops after RCPT with RSET and QUIT, no DATA"
else
    fail "(e) --verify-only stops after RCPT with RSET and QUIT" "$(grep -- ' -> ' "$RUN/e.txt" | tr '\n' '|')"
fi
sleep 1
check_eq "(e) --verify-only delivered nothing" "$nmsg" "$(find "$MAIL" -type f | wc -l)"
gp "$RUN/e2.json" --dns-server "$DNS" --port "$SMTP" --to verify@implicit.probe.test --verify-only --json
rc=$?
check_eq "(e) implicit MX (A record only): exit 0, implicit_mx true, host implicit.probe.test" \
    "0 true implicit.probe.test" "$rc $(jget "$RUN/e2.json" implicit_mx) $(jattempts "$RUN/e2.json" host)"
gp "$RUN/e3.json" --dns-server "$DNS" --port "$SMTP" --to verify@v6.probe.test --verify-only --json
rc=$?
check_eq "(e) IPv6-only MX: exit 0 over ::1" "0 ::1" "$rc $(jattempts "$RUN/e3.json" address)"

# An old server: 502 to EHLO, then HELO (a one-shot perl server on
# 127.0.0.5; it says "ready" once it listens, and serves one connection).
# shellcheck disable=SC2016  # perl code, not shell
gg_spawn "$RUN/old.log" perl -MIO::Socket::INET -e '
    $| = 1;
    $s = IO::Socket::INET->new(LocalAddr => "127.0.0.5", LocalPort => $ARGV[0], Listen => 8, ReuseAddr => 1) or die "listen: $!";
    print "ready\n";
    $c = $s->accept or die "accept: $!";
    $c->autoflush(1);
    print $c "220 old.probe.test SMTP\r\n";
    while (defined($l = <$c>)) {
        $l =~ s/\r?\n$//;
        print "C: $l\n";
        if ($l =~ /^EHLO/i) { print $c "502 5.5.2 Error: command not recognized\r\n" }
        elsif ($l =~ /^QUIT/i) { print $c "221 Bye\r\n"; last }
        else { print $c "250 Ok\r\n" }
    }' "$SMTP"
OLD_PID=$GG_LAST_PID
if wait_file_grep "$RUN/old.log" '^ready$' 5 >/dev/null; then
    gp "$RUN/e4.json" --dns-server "$DNS" --port "$SMTP" --to someone@old.probe.test --verify-only --json
    rc=$?
    check_eq "(e) EHLO refused with 502: HELO used, recipient verified" "0 true" \
        "$rc $(jattempts "$RUN/e4.json" helo_fallback)"
    gg_reap "$OLD_PID" 5
    check_match "(e) the old server saw EHLO, HELO, MAIL, RCPT, RSET, QUIT" \
        'EHLO.*HELO probe\.greygate\.test.*MAIL FROM:<probe@sender\.test>.*RCPT TO:<someone@old\.probe\.test>.*RSET.*QUIT' \
        "$(grep '^C: ' "$RUN/old.log" | tr '\n' ' ')"
else
    fail "(e) one-shot old SMTP server on 127.0.0.5:$SMTP" "did not start"
    gg_stop_pid "$OLD_PID" TERM 5
fi

# ---- (f) time out, unreachable, DNS down, --data, usage ------------------------------------
gp "$RUN/f1.json" --server "127.0.0.1:$SMTP" --to dave@example.test --schedule 0,500ms,... \
    --max-time 1s --json
rc=$?
check_eq "(f) still greylisted when --max-time 1s runs out: exit 2, outcome deferred" "2 deferred" \
    "$rc $(jget "$RUN/f1.json" outcome)"
gp "$RUN/f2.json" --server "127.0.0.2:$SMTP" --to bob@example.test --schedule 0,200ms --json
rc=$?
check_eq "(f) nothing listening: exit 3 after two refused attempts" "3 unreachable refused refused" \
    "$rc $(jget "$RUN/f2.json" outcome) $(jattempts "$RUN/f2.json" kind)"
gp "$RUN/f3.json" --dns-server "127.0.0.1:$DEADDNS" --dns-timeout 500ms --to bob@fallback.probe.test \
    --schedule 0 --json
rc=$?
check_eq "(f) DNS server down: exit 3, one dns attempt" "3 dns" "$rc $(jattempts "$RUN/f3.json" kind)"

# A server that breaks the protocol: greeting, then an endless line.
# shellcheck disable=SC2016  # perl code, not shell
gg_spawn "$RUN/garbage.log" perl -MIO::Socket::INET -e '
    $| = 1;
    $s = IO::Socket::INET->new(LocalAddr => "127.0.0.6", LocalPort => $ARGV[0], Listen => 8, ReuseAddr => 1) or die "listen: $!";
    print "ready\n";
    $c = $s->accept or die "accept: $!";
    $c->autoflush(1);
    print $c "220 garbage.test\r\n";
    $l = <$c>;
    print $c "250-" . ("\x00\xff" x 3000);
    sleep 3' "$SMTP"
GARBAGE_PID=$GG_LAST_PID
if wait_file_grep "$RUN/garbage.log" '^ready$' 5 >/dev/null; then
    gp "$RUN/f6.json" --server "127.0.0.6:$SMTP" --to bob@example.test --schedule 0 --json
    rc=$?
    check_eq "(f) a reply line of 6000 bytes is a protocol error at EHLO: exit 3" "3 protocol ehlo" \
        "$rc $(jattempts "$RUN/f6.json" kind) $(jattempts "$RUN/f6.json" stage)"
else
    fail "(f) a garbage server on 127.0.0.6:$SMTP" "did not start"
fi
gg_stop_pid "$GARBAGE_PID" TERM 5

# SIGINT while waiting for the next retry: the report so far, exit 2.
timeout 60 "$GP_BIN" send --from "$FROM" --helo "$HELO" --server "127.0.0.1:$SMTP" \
    --to erin@example.test --schedule 0,30s >"$RUN/f7.txt" 2>&1 &
INT_PID=$!
GG_PIDS+=("$INT_PID")
wait_file_grep "$RUN/f7.txt" '^greyprobe: attempt 1 ' 10 >/dev/null
kill -INT "$INT_PID"
gg_reap "$INT_PID" 10
rc=$?
check_eq "(f) SIGINT during the wait: exit 2 with the report so far" "2" "$rc"
check_match "(f) ... whose summary says it was interrupted" '^summary: still deferred by 127\.0\.0\.1 .*interrupted$' \
    "$(grep '^summary:' "$RUN/f7.txt")"

printf 'Subject: greyprobe data test %s\n\n.leading dot line %s\nbody\n..two dots\n' "$$" "$$" >"$RUN/msg.txt"
gp "$RUN/f4.json" --server "127.0.0.1:$SMTP" --to verify@example.test --data "$RUN/msg.txt" --json
rc=$?
check_eq "(f) --data FILE delivered: exit 0" 0 "$rc"
if f=$(wait_file_grep "$MAIL" "^Subject: greyprobe data test $$" 10); then
    f=$(printf '%s\n' "$f" | head -n 1)
    if grep -qx ".leading dot line $$" "$f" && grep -qx '\.\.two dots' "$f"; then
        pass "(f) --data FILE was dot-stuffed: lines starting with '.' arrive intact"
    else
        fail "(f) --data FILE was dot-stuffed" "$(tail -n 4 "$f" | tr '\n' '|')"
    fi
else
    fail "(f) --data FILE message arrived" "not found"
fi
gp "$RUN/f5.out" --server "127.0.0.1:$SMTP" --to verify@example.test --data "$RUN/no-such-file"
check_eq "(f) unreadable --data file: exit 66" 66 "$?"
bad=
for args in "--to bob@example.test --schedule 0,0" "--to not-an-address" "--to bob@example.test --max-time 5x" \
    "--to bob@example.test --server 127.0.0.1:99999" "--to bob@example.test --port 0" \
    "--to bob@exa_mple..test" "--to bob@example.test --helo bad/helo" "--to bob@example.test --dns-server example.test"; do
    # shellcheck disable=SC2086
    timeout 10 "$GP_BIN" send --from "$FROM" $args >/dev/null 2>"$RUN/usage.err"
    rc=$?
    [ "$rc" = 64 ] || bad="$bad [$args: $rc]"
done
if [ -z "$bad" ]; then
    pass "(f) usage errors exit 64 (bad schedule, address, duration, port, domain, HELO, DNS server)"
else
    fail "(f) usage errors exit 64" "$bad"
fi

gg_stop_pid "$NSD_PID" TERM 5
gg_policyd_stop
report_logs
pf_stop "$RUN"
gg_done
