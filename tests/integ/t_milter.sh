#!/bin/bash
#
# t_milter.sh - greygate-milter against miltertest and behind a real Postfix
#
# Part A (miltertest): a greygate-milter with every check off and
# greylist_delay = 1 runs the Lua scripts in tests/milter/ (each prints
# "ok ..." / "not ok ..." per check, turned into PASS/FAIL lines here):
# a new triplet gets SMFIR_REPLYCODE (451 via smfi_setreply + TEMPFAIL),
# its retry after the delay continues and gets one inserted X-Greylist at
# end of message; a whitelisted client continues with no header; two
# delayed recipients of one message get one X-Greylist; a connection of an
# unknown family and over-long arguments fail open; 20 concurrent clients
# each get their 50 verdicts (no deadline missed); plus the log lines
# (greygate-policyd's format), a SIGHUP reload that keeps the milter up
# (libmilter alone would stop on SIGHUP), -t, and SIGTERM: the milter
# exits 0 within 8 s and closes its database cleanly.
#
# Part B (Postfix + NSD): a second greygate-milter with DNS lists, reverse
# DNS and SPF against a private NSD serving tests/dns/zones and
# tests/spf/spf.test.zone, behind a private Postfix with
# smtpd_milters = inet:127.0.0.1:PORT and milter_default_action = accept
# (and no policy service).  swaks presents clients through XCLIENT:
# a new triplet gets "451 4.7.1" with greylist_reply's text ('%' intact);
# after the delay 250, and the delivered message has X-Greylist and
# Received-SPF; an SPF-pass sender retrying from another /24 passes (the
# triplet is keyed on the SPF domain) with Received-SPF: pass; a client
# listed on bl.test (192.0.2.66) gets "550 5.7.1" with the list's TXT
# text; a client in the tag band is delivered with X-Spam-Score; two
# recipients give two copies, each with one X-Greylist; IPv6 is deferred.
#
# Part C: SIGTERM to the milter while Postfix runs: it exits and closes
# the database cleanly, and Postfix (milter_default_action = accept) still
# accepts mail.
#
# Skipped (77) without the built milter, miltertest, postfix, swaks, nsd
# or root.  Everything talks to 127.0.0.1 only.

set -u
. "$(dirname "$0")/lib.sh"
# dns_free_port (checks TCP and UDP, v4 and v6, in /proc/net)
# shellcheck source=../dns/lib.sh
. "$GG_SRC/tests/dns/lib.sh"

MILTER_BIN=${GG_MILTER_BIN:-$GG_BUILD/milter/greygate-milter}
[ -x "$MILTER_BIN" ] || gg_skip "greygate-milter is not built ($MILTER_BIN)"
gg_need_cmd miltertest
gg_need_root
gg_need_cmd postfix swaks
NSD=$(command -v nsd || { [ -x /usr/sbin/nsd ] && echo /usr/sbin/nsd; })
[ -n "$NSD" ] || gg_skip "nsd is not installed (Debian package nsd)"

T0=$(date +%s)
gg_tmpdir RUN
MT_PORT=$(dns_free_port "$(gg_port 50)")
NSD_PORT=$(dns_free_port $((MT_PORT + 1)))
M2_PORT=$(dns_free_port $((NSD_PORT + 1)))
SMTP=$(dns_free_port $((M2_PORT + 1)))
NOPOLICY=$(dns_free_port $((SMTP + 1)))	# nothing listens here (pf_start wants a port)
MAIL=$RUN/pf/mail
LOG1=$RUN/milter1.log
LOG2=$RUN/milter2.log
M1_PID=
M2_PID=

# report_logs - on failure, what the milters, NSD and Postfix said.
report_logs() {
    if [ "$GG_NFAIL" -gt 0 ]; then
        gg_tail "$LOG1" 30
        gg_tail "$LOG2" 40
        gg_tail "$RUN/nsd/nsd.log" 10
        gg_tail "$RUN/pf/maillog" 30
    fi
}

# milter_start LOG CONF - start greygate-milter -f as a child; its pid goes
# to MILTER_PID; waits for its "started" line (its socket is open by then).
milter_start() {
    local log=$1 conf=$2
    gg_spawn "$log" "$MILTER_BIN" -f -c "$conf"
    MILTER_PID=$GG_LAST_PID
    local i=0
    while ! grep -q 'greygate-milter .* started: ' "$log" 2>/dev/null; do
        if ! gg_pid_alive "$MILTER_PID" || [ $i -ge 150 ]; then
            gg_tail "$log"
            return 1
        fi
        sleep 0.1
        i=$((i + 1))
    done
    return 0
}

# log_epoch LOG REGEX - when the milter logged the first line matching REGEX
# (seconds since the epoch, from the line's own time stamp).
log_epoch() {
    local ts
    ts=$(grep -E -m1 -- "$2" "$1" | sed -n 's/^\([0-9-]*\)T\([0-9:.]*\) .*/\1 \2/p')
    [ -n "$ts" ] && date -d "$ts" +%s.%N
}

# log_line LOG FROM TO - the milter's decision line for this sender and recipient (last one).
log_line() {
    grep -F "from=<$2> to=<$3> action=" "$1" | tail -n 1
}

# ================================================================ part A
mkdir -p "$RUN/db1"
cat >"$RUN/m1.conf" <<EOF
milter_socket = inet:$MT_PORT@127.0.0.1
database = bdb:$RUN/db1
user =
myhostname = mx.greygate.test
greylist_delay = 1
whitelist_clients = 192.0.2.200
EOF

out=$("$MILTER_BIN" -t -c "$RUN/m1.conf" 2>&1)
check_eq "-t accepts the configuration" "0:" "$?:$out"
out=$("$MILTER_BIN" -t -c "$RUN/m1.conf" -o "milter_socket=inet:127.0.0.1:$MT_PORT" 2>&1)
check_match "-t refuses Postfix's socket syntax and shows libmilter's" \
    "^greygate-milter: fatal: -o: milter_socket = inet:127\.0\.0\.1:$MT_PORT: libmilter writes inet:PORT@ADDRESS" "$out"

if ! milter_start "$LOG1" "$RUN/m1.conf"; then
    fail "greygate-milter starts on inet:$MT_PORT@127.0.0.1" "see stderr"
    gg_done
fi
M1_PID=$MILTER_PID
pass "greygate-milter starts on inet:$MT_PORT@127.0.0.1"

# run_lua SCRIPT - run tests/milter/SCRIPT.lua against the first milter;
# each "ok ..." / "not ok ..." line it prints becomes a PASS / FAIL line.
run_lua() {
    local script=$1 out rc n=0 line
    out=$(miltertest -D port="$MT_PORT" -D delay=1 -D libdir="$GG_SRC/tests/milter" \
        -s "$GG_SRC/tests/milter/$script.lua" 2>&1)
    rc=$?
    while IFS= read -r line; do
        case $line in
        "ok "*) pass "miltertest $script: ${line#ok }"; n=$((n + 1)) ;;
        "not ok "*) fail "miltertest $script: ${line#not ok }" "see above"; n=$((n + 1)) ;;
        esac
    done <<<"$out"
    if [ "$rc" != 0 ] && ! grep -q '^not ok ' <<<"$out"; then
        fail "miltertest $script.lua runs" "exit $rc: $(head -c 300 <<<"$out")"
    elif [ "$n" = 0 ]; then
        fail "miltertest $script.lua runs" "no check reported: $(head -c 300 <<<"$out")"
    fi
}

for script in greylist whitelist multircpt failopen; do
    run_lua "$script"
done

# 20 clients at once: every recipient gets its own verdict, none a deadline.
load_pids=()
for w in $(seq 1 20); do
    miltertest -D port="$MT_PORT" -D delay=1 -D libdir="$GG_SRC/tests/milter" -D worker="$w" \
        -s "$GG_SRC/tests/milter/load.lua" >"$RUN/load.$w" 2>&1 &
    load_pids+=("$!")
done
wait "${load_pids[@]}"
n=$(cat "$RUN"/load.* | grep -c '^ok client ')
check_eq "20 concurrent clients, 1000 recipients: every client got 50 refusals" 20 "$n"
[ "$n" = 20 ] || cat "$RUN"/load.* | grep -v '^ok ' | head -n 5 >&2
kill -USR1 "$M1_PID"
wait_file_grep "$LOG1" 'statistics: ' 5 >/dev/null
check_match "SIGUSR1 statistics: no deadline missed, the queue never full" \
    'statistics: recipients=[0-9]+ decided=[0-9]+ timeouts=0 late=0 dropped=0 queue_full=0 ' \
    "$(grep 'statistics: ' "$LOG1" | tail -n 1)"

check_match "log: one line per recipient in greygate-policyd's format" \
    ' client=mx\.sender\.test\[192\.0\.2\.10\] helo=<mx\.sender\.test> from=<alice@sender\.test> to=<bob@example\.test> action=greylist reason=new delay=1$' \
    "$(grep -F 'from=<alice@sender.test> to=<bob@example.test> action=greylist reason=new' "$LOG1" | head -n 1)"
check_match "log: the passing retry says delay-passed and how long it was held" \
    'action=accept reason=delay-passed delayed=[0-9]+$' "$(log_line "$LOG1" alice@sender.test bob@example.test)"
check_match "log: a client name in brackets is logged as unknown, the null sender as <>" \
    ' client=unknown\[192\.0\.2\.11\] helo=<bounce\.sender\.test> from=<> to=<bounces@example\.test> action=greylist' \
    "$(log_line "$LOG1" '' bounces@example.test)"
check_match "log: IPv6 clients are decided like IPv4 ones" \
    'client=mx6\.sender\.test\[2001:db8::25\] .* action=accept reason=delay-passed' \
    "$(log_line "$LOG1" v6@sender.test dan@example.test)"
check_match "log: the whitelisted client says which entry matched" \
    'action=accept reason=whitelist-client \(192\.0\.2\.200\)$' "$(log_line "$LOG1" bob@sender.test new@example.test)"
check_eq "log: the connection of an unknown family never reached the engine" "" \
    "$(grep -F 'from=<erin@sender.test>' "$LOG1")"

# SIGHUP reloads (libmilter by itself would stop the milter).
sed -i 's/^greylist_delay = 1$/greylist_delay = 1\nwhitelist_recipients = postmaster@/' "$RUN/m1.conf"
kill -HUP "$M1_PID"
if wait_file_grep "$LOG1" 'configuration reloaded from ' 5 >/dev/null && sleep 0.3 && gg_pid_alive "$M1_PID"; then
    pass "SIGHUP reloads the configuration and the milter keeps running"
else
    fail "SIGHUP reloads the configuration and the milter keeps running" "no reload line or it died"
fi
run_lua reload

# A second SIGHUP turns log_verbose on: the milter applies it at once, as
# greygate-policyd does (it used to warn that log_verbose needs a restart).
# Proof: the expiry walk's debug line, which only a verbose log shows, with
# database_expire_interval (re-armed on reload) lowered to see it soon.
n_before=$(grep -c 'reload: changes to' "$LOG1")
printf 'log_verbose = yes\ndatabase_expire_interval = 1s\n' >>"$RUN/m1.conf"
kill -HUP "$M1_PID"
if wait_file_grep "$LOG1" 'database expiry: examined=' 8 >/dev/null; then
    pass "SIGHUP applies log_verbose = yes without a restart"
else
    fail "SIGHUP applies log_verbose = yes without a restart" "no debug line after the reload"
fi
check_eq "that reload warns of nothing needing a restart" "$n_before" "$(grep -c 'reload: changes to' "$LOG1")"

# SIGTERM: libmilter polls, so allow several seconds.
t_stop=$(date +%s.%N)
kill -TERM "$M1_PID"
M1_STOP_T=$t_stop

# ================================================================ part B
if gg_nsd_start "$RUN/nsd" "$NSD_PORT" "$GG_SRC"/tests/dns/zones/*.zone \
    "$GG_SRC/tests/spf/spf.test.zone"; then
    pass "NSD serves tests/dns/zones and spf.test on 127.0.0.1:$NSD_PORT"
else
    fail "NSD serves tests/dns/zones and spf.test on 127.0.0.1:$NSD_PORT" "it did not start"
    gg_done
fi
NSD_PID=$GG_NSD_PID

# Bands as in t_postfix_checks.sh: reject >= 10, tag >= 5, greylist >= -10.
DELAY=2
mkdir -p "$RUN/db2"
cat >"$RUN/m2.conf" <<EOF
milter_socket = inet:$M2_PORT@127.0.0.1
database = bdb:$RUN/db2
user =
myhostname = mx.greygate.test
greylist_delay = $DELAY
greylist_reply = Greylisted by the milter, 100%% sure; please try again in %s seconds
dns_servers = 127.0.0.1:$NSD_PORT
dns_timeout = 2s
dnsbl_sites = bl.test=127.0.0.2*12, bl.test=127.0.0.4*6
rdns_check = yes
spf_check = yes
greylist_key_spf_domain = yes
greylist_threshold = -10
tag_threshold = 5
reject_threshold = 10
EOF
if ! milter_start "$LOG2" "$RUN/m2.conf"; then
    fail "greygate-milter starts with DNS lists, rDNS and SPF on" "see stderr"
    report_logs
    gg_done
fi
M2_PID=$MILTER_PID
pass "greygate-milter starts with DNS lists, rDNS and SPF on (inet:$M2_PORT@127.0.0.1)"

if ! pf_start "$RUN/pf" "$SMTP" "$NOPOLICY" \
    "smtpd_recipient_restrictions=reject_unauth_destination" \
    "smtpd_milters=inet:127.0.0.1:$M2_PORT" "milter_default_action=accept"; then
    fail "Postfix starts with smtpd_milters" "see stderr"
    report_logs
    gg_done
fi
pass "Postfix starts with smtpd_milters = inet:127.0.0.1:$M2_PORT, milter_default_action = accept"

# First attempts: plain (no SPF record), SPF pass, two recipients, IPv6.
r=$(SWAKS_XNAME=mx.sender.test SWAKS_XHELO=mx.sender.test \
    swaks_reply "$SMTP" 192.0.2.10 alice@none.spf.test bob@example.test --header "X-Test-Id: plain" --helo mx.sender.test)
t_first=$(date +%s.%N)
check_match "a new triplet gets 451 4.7.1 from the milter" '^451[ -]4\.7\.1 ' "$r"
check_match "the reply carries greylist_reply's text, '%%' as '%'" \
    'Greylisted by the milter, 100% sure; please try again in 2 seconds' "$r"
r=$(SWAKS_XNAME=mx1.example.test SWAKS_XHELO=mx1.example.test \
    swaks_reply "$SMTP" 192.0.2.25 pool@split.spf.test pool@example.test --header "X-Test-Id: pool" --helo mx1.example.test)
check_match "an SPF-pass sender's first attempt is greylisted too (451 4.7.1)" '^451[ -]4\.7\.1 ' "$r"
check_match "its log line shows spf:pass with score= and reasons=" \
    'action=greylist reason=new score=-1 reasons=spf:pass\(-1\)( |$)' \
    "$(log_line "$LOG2" pool@split.spf.test pool@example.test)"
SWAKS_TRANSCRIPT=$RUN/two.txt SWAKS_XNAME=mx2.sender.test SWAKS_XHELO=mx2.sender.test \
    swaks_reply "$SMTP" 203.0.113.40 carol@none.spf.test one@example.test,two@example.test \
    --header "X-Test-Id: two" --helo mx2.sender.test >/dev/null
check_eq "two recipients of a new message: both 451" "451 451" "$(swaks_rcpt_codes "$RUN/two.txt")"
r=$(SWAKS_XNAME=mx6.sender.test SWAKS_XHELO=mx6.sender.test \
    swaks_reply "$SMTP" 2001:db8::bad v6@none.spf.test v6@example.test --helo mx6.sender.test)
check_match "an IPv6 client's new triplet gets 451 4.7.1" '^451[ -]4\.7\.1 ' "$r"

# A listed client: rejected with the list's TXT text.
r=$(SWAKS_XNAME='[UNAVAILABLE]' SWAKS_XHELO=mail.example.test \
    swaks_reply "$SMTP" 192.0.2.66 listed@none.spf.test reject@example.test --helo mail.example.test)
check_match "a client listed on bl.test gets 550 5.7.1" '^550[ -]5\.7\.1 ' "$r"
check_match "the 550 reply carries the DNSBL TXT text" 'Listed: see http://bl\.test/192\.0\.2\.66' "$r"
check_match "log: action=reject with score= and reasons=" \
    ' client=unknown\[192\.0\.2\.66\] .* action=reject reason=score score=14 reasons=' \
    "$(log_line "$LOG2" listed@none.spf.test reject@example.test)"

# The tag band: delivered at once with X-Spam-Score (and Received-SPF).
r=$(SWAKS_XNAME='[UNAVAILABLE]' SWAKS_XHELO=mail.example.test \
    swaks_reply "$SMTP" 192.0.2.67 tagged@none.spf.test tag@example.test --header "X-Test-Id: tag" --helo mail.example.test)
check_match "a client in the tag band is accepted at once (250)" '^250 .*queued as' "$r"
f=$(wait_file_grep "$MAIL" '^X-Test-Id: tag' 10 | head -n 1)
if [ -z "$f" ]; then
    fail "the tagged message is delivered" "nothing in $MAIL"
else
    check_eq "the tagged message has one X-Spam-Score header" 1 "$(count_header "$f" X-Spam-Score)"
    check_match "X-Spam-Score carries the score and the reasons" \
        '^X-Spam-Score: 8 \(.*dnsbl:bl\.test\(6\).*\)' "$(grep -m1 '^X-Spam-Score:' "$f")"
    check_eq "the tagged message has one Received-SPF header and no X-Greylist" "1 0" \
        "$(count_header "$f" Received-SPF) $(count_header "$f" X-Greylist)"
fi

# Retries after the delay.
sleep "$(awk -v t="$t_first" -v now="$(date +%s.%N)" -v d="$DELAY" 'BEGIN { s = t + d + 0.6 - now; if (s < 0) s = 0; print s }')"
r=$(SWAKS_XNAME=mx.sender.test SWAKS_XHELO=mx.sender.test \
    swaks_reply "$SMTP" 192.0.2.10 alice@none.spf.test bob@example.test --header "X-Test-Id: plain" --helo mx.sender.test)
check_match "the retry after greylist_delay is accepted (250)" '^250 .*queued as' "$r"
f=$(wait_file_grep "$MAIL" '^X-Test-Id: plain' 10 | head -n 1)
if [ -z "$f" ]; then
    fail "the retried message is delivered" "nothing in $MAIL"
else
    check_eq "the delivered message has one X-Greylist header" 1 "$(count_header "$f" X-Greylist)"
    check_match "X-Greylist names the delay and myhostname" \
        '^X-Greylist: delayed [0-9]+ seconds by greygate at mx\.greygate\.test; ' "$(grep -m1 '^X-Greylist:' "$f")"
    check_eq "the milter adds Received-SPF next to X-Greylist: none, for this message" \
        'Received-SPF: none (mx.greygate.test: domain of alice@none.spf.test does not designate permitted sender hosts) client-ip=192.0.2.10; envelope-from=alice@none.spf.test; helo=mx.sender.test; receiver=mx.greygate.test; identity=mailfrom;' \
        "$(grep -m1 '^Received-SPF:' "$f")"
fi
r=$(SWAKS_XNAME=mx2.example.test SWAKS_XHELO=mx2.example.test \
    swaks_reply "$SMTP" 198.51.100.20 pool@split.spf.test pool@example.test --header "X-Test-Id: pool" --helo mx2.example.test)
check_match "the SPF-pass sender's retry from another /24 passes (keyed on the SPF domain)" \
    '^250 .*queued as' "$r"
f=$(wait_file_grep "$MAIL" '^X-Test-Id: pool' 10 | head -n 1)
if [ -z "$f" ]; then
    fail "the pool's message is delivered" "nothing in $MAIL"
else
    check_eq "the pool's message has one X-Greylist and one Received-SPF header" "1 1" \
        "$(count_header "$f" X-Greylist) $(count_header "$f" Received-SPF)"
    check_eq "Received-SPF: pass for the retrying client" \
        'Received-SPF: pass (mx.greygate.test: domain of pool@split.spf.test designates 198.51.100.20 as permitted sender) client-ip=198.51.100.20; envelope-from=pool@split.spf.test; helo=mx2.example.test; receiver=mx.greygate.test; identity=mailfrom;' \
        "$(grep -m1 '^Received-SPF:' "$f")"
fi
SWAKS_TRANSCRIPT=$RUN/two.txt SWAKS_XNAME=mx2.sender.test SWAKS_XHELO=mx2.sender.test \
    swaks_reply "$SMTP" 203.0.113.40 carol@none.spf.test one@example.test,two@example.test \
    --header "X-Test-Id: two" --helo mx2.sender.test >/dev/null
check_eq "two recipients on the retry: both 250" "250 250" "$(swaks_rcpt_codes "$RUN/two.txt")"
files=$(wait_file_count "$MAIL" '^X-Test-Id: two' 2 10)
if [ "$(printf '%s\n' "$files" | grep -c .)" != 2 ]; then
    fail "both copies of the two-recipient message are delivered" "found: $files"
else
    counts=$(for f in $files; do count_header "$f" X-Greylist; done | paste -sd' ' -)
    check_eq "each copy of the two-recipient message has exactly one X-Greylist" "1 1" "$counts"
fi
check_match "log: the second recipient's line starts with Postfix's queue id ({i})" \
    '[0-9A-F]+: client=mx2\.sender\.test\[203\.0\.113\.40\] .*to=<two@example\.test> action=accept reason=delay-passed' \
    "$(log_line "$LOG2" carol@none.spf.test two@example.test)"

# ---------------------------------------------------------------- part A's stop
# (Part B ran meanwhile: when it stopped comes from its own log line.)
rc=0
gg_reap "$M1_PID" 10 || rc=$?
check_eq "SIGTERM: the miltertest milter exits 0" 0 "$rc"
check_match "SIGTERM: the database was closed cleanly" 'stopped; database closed cleanly' "$(tail -n 3 "$LOG1")"
t_done=$(log_epoch "$LOG1" 'stopped; database closed cleanly')
el=$(awk -v t="$M1_STOP_T" -v now="${t_done:-1e12}" 'BEGIN { printf "%.1f", now - t }')
if awk -v e="$el" 'BEGIN { exit !(e < 8) }'; then
    pass "SIGTERM: it stopped within 8 s (${el} s)"
else
    fail "SIGTERM: it stopped within 8 s" "${el} s"
fi

# ================================================================ part C
t_stop=$(date +%s.%N)
rc=0
gg_stop_pid "$M2_PID" TERM 10 || rc=$?
el=$(awk -v t="$t_stop" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f", now - t }')
check_eq "SIGTERM with Postfix connected: the milter exits 0" 0 "$rc"
if awk -v e="$el" 'BEGIN { exit !(e < 8) }'; then
    pass "SIGTERM with Postfix connected: gone within 8 s (${el} s)"
else
    fail "SIGTERM with Postfix connected: gone within 8 s" "${el} s"
fi
check_match "SIGTERM: the second milter closed its database cleanly" 'stopped; database closed cleanly' \
    "$(tail -n 3 "$LOG2")"
r=$(SWAKS_XNAME=mx.sender.test SWAKS_XHELO=mx.sender.test \
    swaks_reply "$SMTP" 192.0.2.12 late@none.spf.test late@example.test --header "X-Test-Id: nomilter" --helo mx.sender.test)
check_match "milter stopped, milter_default_action = accept: Postfix still accepts (250)" '^250 .*queued as' "$r"
f=$(wait_file_grep "$MAIL" '^X-Test-Id: nomilter' 10 | head -n 1)
if [ -n "$f" ]; then
    check_eq "and delivers it without greygate's headers" "0 0" \
        "$(count_header "$f" X-Greylist) $(count_header "$f" Received-SPF)"
else
    fail "the message sent while the milter is down is delivered" "nothing in $MAIL"
fi

san=$(grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$LOG1" "$LOG2" | head -n 3)
check_eq "no sanitizer reports in the milters' logs" "" "$san"
pf_stop "$RUN/pf"
el=$(($(date +%s) - T0))
if [ "$el" -lt 120 ]; then
    pass "the whole test ran in ${el}s (< 120 s)"
else
    fail "the whole test ran in ${el}s (< 120 s)" "too slow"
fi
report_logs
gg_done
