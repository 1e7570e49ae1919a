#!/bin/bash
#
# t_postfix_checks.sh - DNS lists, SPF and scoring behind a real Postfix
#
# A private NSD on loopback serves tests/dns/zones/* and
# tests/spf/spf.test.zone; greygate-policyd runs with DNSBL, RHSBL, reverse
# DNS, HELO and SPF checks on, its dns_servers pointing at that NSD; a
# private Postfix asks it at RCPT time and swaks presents clients through
# XCLIENT.  Checks, each its own PASS/FAIL line:
#  (a) a client listed on bl.test (192.0.2.66) is rejected with 550/554
#      5.7.1 and the list's TXT text in the SMTP reply;
#  (b) a client whose score lands in the tag band (192.0.2.67, listed with
#      code 127.0.0.4, weighted lower) gets 250 and the delivered message
#      carries one X-Spam-Score: header with the score and reasons;
#  (c) an SPF-pass pool: split.spf.test allows 192.0.2.0/24 and
#      198.51.100.0/24; the first attempt from 192.0.2.25 is greylisted
#      (450 4.7.1), the retry after greylist_delay from 198.51.100.20 - a
#      different /24 - passes (250): the triplet is keyed on the SPF domain,
#      so the pool is delayed once; the delivered copy has X-Greylist;
#  (d) the control: a sender whose domain has no SPF record, same two
#      addresses, is greylisted again from the second /24;
#  (e) the daemon's log lines carry score= and reasons=, and the stored
#      triplet's client part is spf:split.spf.test;
#  (f) Postfix asks greygate at DATA too (smtpd_data_restrictions): the
#      tagged and the pool's messages carry one Received-SPF: header with
#      their own sender, client and HELO.
# Skipped (77) without nsd, postfix, swaks, root or the build.

set -u
. "$(dirname "$0")/lib.sh"
# dns_free_port (checks TCP and UDP, v4 and v6, in /proc/net)
# shellcheck source=../dns/lib.sh
. "$GG_SRC/tests/dns/lib.sh"

NSD=$(command -v nsd || { [ -x /usr/sbin/nsd ] && echo /usr/sbin/nsd; })
[ -n "$NSD" ] || gg_skip "nsd is not installed (Debian package nsd)"
gg_need_root
[ -x "$GG_POLICYD_BIN" ] || gg_skip "greygate-policyd is not built ($GG_POLICYD_BIN)"
gg_need_cmd postfix swaks
GG_DB_BIN=$GG_BUILD/tools/greygate-db

T0=$(date +%s)
gg_tmpdir RUN
NSD_PORT=$(dns_free_port "$(gg_port 40)")
POLICY=$(dns_free_port $((NSD_PORT + 1)))
SMTP=$(dns_free_port $((POLICY + 1)))
CONF=$RUN/greygate.conf
MAIL=$RUN/pf/mail
DELAY=2

# report_logs - on failure, show what the daemon, NSD and Postfix said.
report_logs() {
    if [ "$GG_NFAIL" -gt 0 ]; then
        gg_tail "$GG_POLICYD_LOG" 40
        gg_tail "$RUN/nsd/nsd.log" 10
        gg_tail "$RUN/pf/maillog" 30
    fi
}

# ------------------------------------------------------------ NSD
if gg_nsd_start "$RUN/nsd" "$NSD_PORT" "$GG_SRC"/tests/dns/zones/*.zone \
    "$GG_SRC/tests/spf/spf.test.zone"; then
    pass "NSD serves tests/dns/zones and spf.test on 127.0.0.1:$NSD_PORT"
else
    fail "NSD serves tests/dns/zones and spf.test on 127.0.0.1:$NSD_PORT" "it did not start"
    gg_done
fi
NSD_PID=$GG_NSD_PID

# ------------------------------------------------------------ greygate-policyd
# Bands: reject >= 10, tag >= 5, greylist >= -10 (so an SPF pass, -1, is
# still greylisted and the pool keying shows).  bl.test answers 127.0.0.2
# for 192.0.2.66 (weight 12: reject) and 127.0.0.4 for 192.0.2.67 (weight 6:
# tag, with rdns:missing 1.5 and spf:none 0.5 = 8).
mkdir -p "$RUN/db"
cat >"$CONF" <<EOF
listen = inet:127.0.0.1:$POLICY
database = bdb:$RUN/db
user =
myhostname = mx.greygate.test
greylist_delay = $DELAY
greylist_header = yes
dns_servers = 127.0.0.1:$NSD_PORT
dns_timeout = 2s
dnsbl_sites = bl.test=127.0.0.2*12, bl.test=127.0.0.4*6, dead.test*3
rhsbl_sites = rhs.test*2
rdns_check = yes
helo_check = yes
spf_check = yes
greylist_key_spf_domain = yes
greylist_threshold = -10
tag_threshold = 5
reject_threshold = 10
EOF
if ! gg_policyd_start "$CONF"; then
    fail "greygate-policyd starts with every check on" "see stderr"
    gg_done
fi
pass "greygate-policyd starts with every check on"
i=0
while ! grep -q 'DNS list dead.test is DEAD' "$GG_POLICYD_LOG" && [ $i -lt 100 ]; do
    sleep 0.05
    i=$((i + 1))
done
check_match "the start-up probe marks dead.test DEAD" 'DNS list dead\.test is DEAD' \
    "$(grep 'dead.test' "$GG_POLICYD_LOG" | head -n 1)"

# ------------------------------------------------------------ Postfix
# greygate at the DATA stage too, for its Received-SPF header (spf_header).
if ! pf_start "$RUN/pf" "$SMTP" "$POLICY" \
    "smtpd_data_restrictions=check_policy_service { inet:127.0.0.1:$POLICY, timeout=10s, default_action=DUNNO }"; then
    fail "Postfix starts" "see stderr"
    report_logs
    gg_done
fi
pass "Postfix starts on 127.0.0.1:$SMTP with check_policy_service inet:127.0.0.1:$POLICY"

# log_line FROM TO - the daemon's decision line for this sender and recipient (last one).
log_line() {
    grep -F "from=<$1> to=<$2> action=" "$GG_POLICYD_LOG" | tail -n 1
}

# sorted_reasons LINE - the reasons= list of a log line, sorted (SPF's reason
# arrives in its own time, so the order varies).
sorted_reasons() {
    printf '%s\n' "$1" | sed -n 's/.* reasons=\([^ ]*\).*/\1/p' | sed 's/),/)\n/g' | sort | paste -sd, -
}

# (a) listed client: rejected with the TXT reason in the SMTP reply
r=$(SWAKS_XNAME='[UNAVAILABLE]' SWAKS_XHELO=mail.example.test \
    swaks_reply "$SMTP" 192.0.2.66 listed@none.spf.test reject@example.test --helo mail.example.test \
    --header "X-Test-Id: reject")
check_match "a client listed on bl.test is rejected with 550/554 5.7.1" '^55[04][ -]5\.7\.1 ' "$r"
check_match "the SMTP reject reply carries the DNSBL TXT text" 'Listed: see http://bl\.test/192\.0\.2\.66' "$r"
check_match "the reject reply names the list and the score" 'score 14\).*dnsbl:bl\.test' "$r"
check_match "the log line: action=reject with score= and reasons=" \
    'action=reject reason=score score=14 reasons=' "$(log_line listed@none.spf.test reject@example.test)"
check_eq "the reject's reasons are the DNSBL listing, the missing PTR and SPF none" \
    'dnsbl:bl.test(12),rdns:missing(1.5),spf:none(0.5)' \
    "$(sorted_reasons "$(log_line listed@none.spf.test reject@example.test)")"

# (b) tag band: delivered with X-Spam-Score
r=$(SWAKS_XNAME='[UNAVAILABLE]' SWAKS_XHELO=mail.example.test \
    swaks_reply "$SMTP" 192.0.2.67 tagged@none.spf.test tag@example.test --helo mail.example.test \
    --header "X-Test-Id: tag")
check_match "a client in the tag band is accepted (250)" '^250 .*queued as' "$r"
f=$(wait_file_grep "$MAIL" '^X-Test-Id: tag' 10 | head -n 1)
if [ -z "$f" ]; then
    fail "the tagged message is delivered" "nothing in $MAIL"
else
    pass "the tagged message is delivered"
    check_eq "the delivered message has one X-Spam-Score: header" 1 "$(count_header "$f" X-Spam-Score)"
    check_match "X-Spam-Score carries the score and reasons" \
        '^X-Spam-Score: 8 \(.*dnsbl:bl\.test\(6\).*\)' "$(grep -m1 '^X-Spam-Score:' "$f")"
    check_eq "the tagged message has one Received-SPF: header (DATA stage)" 1 "$(count_header "$f" Received-SPF)"
    check_eq "Received-SPF: none, for this message's sender and client" \
        'Received-SPF: none (mx.greygate.test: domain of tagged@none.spf.test does not designate permitted sender hosts) client-ip=192.0.2.67; envelope-from=tagged@none.spf.test; helo=mail.example.test; receiver=mx.greygate.test; identity=mailfrom;' \
        "$(grep -m1 '^Received-SPF:' "$f")"
fi
check_match "the log line: action=tag with score= and reasons=" \
    'action=tag reason=score score=8 reasons=' "$(log_line tagged@none.spf.test tag@example.test)"
check_eq "the tag's reasons are the 127.0.0.4 listing, the missing PTR and SPF none" \
    'dnsbl:bl.test(6),rdns:missing(1.5),spf:none(0.5)' \
    "$(sorted_reasons "$(log_line tagged@none.spf.test tag@example.test)")"

# (c)+(d) the first attempts: pool (SPF pass) and control (no SPF record), from 192.0.2.25
P_FROM=pool@split.spf.test
P_TO=pool@example.test
C_FROM=control@none.spf.test
C_TO=control@example.test
r=$(SWAKS_XNAME=mx1.example.test SWAKS_XHELO=mx1.example.test \
    swaks_reply "$SMTP" 192.0.2.25 "$P_FROM" "$P_TO" --helo mx1.example.test --header "X-Test-Id: pool")
t_first=$(date +%s.%N)
check_match "SPF pool: the first attempt from 192.0.2.25 is greylisted (450 4.7.1)" '^450[ -]4\.7\.1 ' "$r"
check_match "SPF pool: the log line shows spf:pass with score= and reasons=" \
    'action=greylist reason=new score=-1 reasons=spf:pass\(-1\)( |$)' "$(log_line "$P_FROM" "$P_TO")"
r=$(SWAKS_XNAME=mx1.example.test SWAKS_XHELO=mx1.example.test \
    swaks_reply "$SMTP" 192.0.2.25 "$C_FROM" "$C_TO" --helo mx1.example.test --header "X-Test-Id: control")
check_match "control (no SPF record): the first attempt from 192.0.2.25 is greylisted" '^450[ -]4\.7\.1 ' "$r"

# wait out greylist_delay (plus a little) from the first attempt
sleep "$(awk -v t="$t_first" -v now="$(date +%s.%N)" -v d="$DELAY" 'BEGIN { s = t + d + 0.6 - now; if (s < 0) s = 0; print s }')"

r=$(SWAKS_XNAME=mx2.example.test SWAKS_XHELO=mx2.example.test \
    swaks_reply "$SMTP" 198.51.100.20 "$P_FROM" "$P_TO" --helo mx2.example.test --header "X-Test-Id: pool")
check_match "SPF pool: the retry from 198.51.100.20 (another /24) passes (250): delayed only once" \
    '^250 .*queued as' "$r"
check_match "SPF pool: the log line of the retry says delay-passed with spf:pass" \
    'client=mx2\.example\.test\[198\.51\.100\.20\] helo=<mx2\.example\.test>.* action=accept reason=delay-passed score=-1 reasons=spf:pass\(-1\) delayed=[0-9]' \
    "$(log_line "$P_FROM" "$P_TO")"
f=$(wait_file_grep "$MAIL" '^X-Test-Id: pool' 10 | head -n 1)
if [ -z "$f" ]; then
    fail "SPF pool: the retried message is delivered" "nothing in $MAIL"
else
    check_eq "SPF pool: the delivered copy has one X-Greylist header" 1 "$(count_header "$f" X-Greylist)"
    check_eq "SPF pool: the delivered copy says Received-SPF: pass for the retrying client" \
        'Received-SPF: pass (mx.greygate.test: domain of pool@split.spf.test designates 198.51.100.20 as permitted sender) client-ip=198.51.100.20; envelope-from=pool@split.spf.test; helo=mx2.example.test; receiver=mx.greygate.test; identity=mailfrom;' \
        "$(grep -m1 '^Received-SPF:' "$f")"
fi
r=$(SWAKS_XNAME=mx2.example.test SWAKS_XHELO=mx2.example.test \
    swaks_reply "$SMTP" 198.51.100.20 "$C_FROM" "$C_TO" --helo mx2.example.test --header "X-Test-Id: control")
check_match "control: without SPF pass the retry from another /24 is a new triplet (450 4.7.1)" \
    '^450[ -]4\.7\.1 ' "$r"

# (e) the stored triplet's client part is the SPF domain
if [ -x "$GG_DB_BIN" ]; then
    dump=$("$GG_DB_BIN" -c "$CONF" dump triplets 2>&1)
    check_match "the pool's triplet is keyed spf:split.spf.test and has passed" \
        "t/spf:split\.spf\.test/$P_FROM/$P_TO state=passed" "$dump"
    check_match "the control's triplets are keyed by client /24" \
        "t/198\.51\.100\.0/24/$C_FROM/$C_TO state=" "$dump"
else
    gg_note "greygate-db is not built: the stored keys are not checked"
fi

pf_stop "$RUN/pf"
if gg_pid_alive "$GG_POLICYD_PID"; then
    pass "greygate-policyd is still running after the SMTP sessions"
else
    fail "greygate-policyd is still running after the SMTP sessions" "it died"
fi
gg_policyd_stop
check_eq "greygate-policyd exits 0 on SIGTERM" 0 "$?"
san=$(grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$GG_POLICYD_LOG" | head -n 3)
check_eq "no sanitizer reports in the daemon's log" "" "$san"
el=$(($(date +%s) - T0))
if [ "$el" -lt 120 ]; then
    pass "the whole test ran in ${el}s (< 120 s)"
else
    fail "the whole test ran in ${el}s (< 120 s)" "too slow"
fi
report_logs
gg_done
