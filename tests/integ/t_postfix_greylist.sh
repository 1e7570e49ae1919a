#!/bin/bash
#
# t_postfix_greylist.sh - greygate-policyd behind a real Postfix
#
# A private Postfix instance asks greygate-policyd at RCPT time; swaks
# presents clients through XCLIENT.  Checks, each its own PASS/FAIL line:
#  (a) a new triplet gets 450 4.7.1;  (b) an immediate retry still does;
#  (c) a retry after the delay gets 250 and the message carries exactly one
#      X-Greylist header;  (d) a message with two delayed recipients still
#      gets exactly one;  (e) after SIGTERM and a restart on the same
#      database the passed triplet passes at once;  (f) whitelisted clients
#      and recipients pass at once;  (g) the IPv4 /24 is the triplet's
#      client part, and IPv6 clients are greylisted too;  (h) kill -9 in
#      the middle of a load loses no triplet whose answer had been sent
#      (talks the policy protocol directly, over bash /dev/tcp).
# Skipped (77) until $GG_BUILD/policyd/greygate-policyd exists.

set -u
. "$(dirname "$0")/lib.sh"

gg_need_root
[ -x "$GG_POLICYD_BIN" ] || gg_skip "greygate-policyd is not built ($GG_POLICYD_BIN)"
gg_need_cmd postfix swaks

gg_tmpdir RUN
SMTP=$(gg_port 10)
POLICY=$(gg_port 11)
CONF=$RUN/greygate.conf
MAIL=$RUN/mail
FROM=alice@sender.test
TO=bob@example.test
C1=198.51.100.10          # main client
C1_SAME24=198.51.100.20   # same /24 as C1
C_OTHER24=203.0.113.10    # another /24
C_TWO=203.0.113.40        # client of the two-recipient message
C_V6=2001:db8::1
DELAY=2
WAIT=3                    # > DELAY, so the retry is late enough

mkdir -p "$RUN/db"
printf '%s\n' 203.0.113.250 2001:db8:f00d::/48 >"$RUN/wl_clients"
cat >"$CONF" <<EOF
listen = inet:127.0.0.1:$POLICY
database = bdb:$RUN/db
user =
greylist_delay = $DELAY
greylist_auto_whitelist = 5
whitelist_clients = 192.0.2.0/24, file:$RUN/wl_clients
whitelist_recipients = postmaster@, @wl.example.test
greylist_header = yes
EOF

# report_logs - on failure, show what the daemon and Postfix said.
report_logs() {
    if [ "$GG_NFAIL" -gt 0 ]; then
        gg_tail "$GG_TMPDIR/policyd.log" 60
        gg_tail "$RUN/maillog" 30
    fi
}

# send ID CLIENT TO [swaks args] - one message tagged "X-Test-Id: ID".
send() {
    local id=$1 client=$2 to=$3
    shift 3
    swaks_reply "$SMTP" "$client" "$FROM" "$to" --header "X-Test-Id: $id" "$@"
}

# delivered_ok DESC ID N WANT_HDRS - wait for N delivered copies of message
# ID and check that each has WANT_HDRS X-Greylist headers.
delivered_ok() {
    local desc=$1 id=$2 n=$3 want=$4 files f got bad=
    files=$(wait_file_count "$MAIL" "^X-Test-Id: $id\$" "$n" 10)
    got=$(printf '%s' "$files" | grep -c .)
    if [ "$got" -ne "$n" ]; then
        fail "$desc" "$got of $n copies delivered"
        return 1
    fi
    for f in $files; do
        got=$(count_header "$f" X-Greylist)
        [ "$got" = "$want" ] || bad="$bad ${f##*/}:$got"
    done
    if [ -n "$bad" ]; then
        fail "$desc" "X-Greylist header count per copy, want $want:$bad"
        return 1
    fi
    pass "$desc"
    return 0
}

if ! pf_start "$RUN" "$SMTP" "$POLICY" "virtual_mailbox_domains=example.test wl.example.test"; then
    fail "private Postfix starts" "see stderr"
    gg_done
fi
if ! gg_policyd_start "$CONF"; then
    fail "greygate-policyd starts with $CONF" "see stderr"
    gg_done
fi

# ---- (a) (b): first delivery and immediate retry ----------------------------
r=$(send a-$$ "$C1" "$TO")
check_match "(a) first delivery of a new triplet is refused 450 4.7.1" '^450 4\.7\.1 ' "$r"
r=$(send a-$$ "$C1" "$TO")
check_match "(b) immediate retry is still refused 450 4.7.1" '^450 4\.7\.1 ' "$r"

# First attempts of (d) and the IPv6 part of (g), to share one wait.
SWAKS_TRANSCRIPT=$RUN/d1.txt send d-$$ "$C_TWO" carol@example.test,dave@example.test >/dev/null
check_eq "(d) both recipients of a two-recipient message are greylisted" "450 450" \
    "$(swaks_rcpt_codes "$RUN/d1.txt")"
r=$(send v6-$$ "$C_V6" "$TO")
check_match "(g) IPv6 client $C_V6 is greylisted (450 4.7.1)" '^450 4\.7\.1 ' "$r"

sleep "$WAIT"

# ---- (c) retry after the delay ----------------------------------------------
r=$(send a-$$ "$C1" "$TO")
check_match "(c) retry after ${WAIT}s is accepted (250 queued)" '^250 .*queued as' "$r"
if delivered_ok "(c) delivered message has exactly one X-Greylist header" a-$$ 1 1; then
    f=$(wait_file_grep "$MAIL" "^X-Test-Id: a-$$\$" 1 | head -n 1)
    h=$(grep -m 1 -i '^X-Greylist:' "$f")
    check_match "(c) X-Greylist reads 'delayed N seconds by greygate at HOST; DATE' with N >= $DELAY" \
        "^X-Greylist: delayed ([2-9]|[1-9][0-9]+) seconds by greygate at [^ ;]+; [A-Z][a-z]{2}, " "$h"
fi

# ---- (d) two recipients, both delayed: one header per message -----------------
r=$(SWAKS_TRANSCRIPT=$RUN/d2.txt send d-$$ "$C_TWO" carol@example.test,dave@example.test)
check_eq "(d) retry of the two-recipient message: both RCPTs 250, then queued" \
    "250 250 / 250" "$(swaks_rcpt_codes "$RUN/d2.txt") / ${r%% *}"
delivered_ok "(d) each delivered copy of the two-recipient message has exactly one X-Greylist header" d-$$ 2 1

r=$(send v6-$$ "$C_V6" "$TO")
check_match "(g) IPv6 client $C_V6 passes after ${WAIT}s (250)" '^250 ' "$r"

# ---- (e) restart on the same database ------------------------------------------
gg_policyd_stop
rc=$?
check_eq "(e) greygate-policyd exits with status 0 on SIGTERM" 0 "$rc"
if ! gg_policyd_start "$CONF"; then
    fail "(e) greygate-policyd starts again on the same database" "see stderr"
    report_logs
    gg_done
fi
r=$(send e-$$ "$C1" "$TO")
check_match "(e) after the restart the passed triplet passes at once (250)" '^250 ' "$r"
SWAKS_TRANSCRIPT=$RUN/e2.txt send e2-$$ "$C_TWO" carol@example.test,dave@example.test >/dev/null
check_eq "(e) after the restart both passed recipients of (d) pass at once" "250 250" \
    "$(swaks_rcpt_codes "$RUN/e2.txt")"

# ---- (f) whitelists ----------------------------------------------------------------
r=$(send f0-$$ "$C1" frank@example.test)
check_match "(f) control: a new triplet from $C1 to frank@ is greylisted" '^450 4\.7\.1 ' "$r"
r=$(send f1-$$ 192.0.2.55 frank@example.test)
check_match "(f) client 192.0.2.55 (whitelist_clients 192.0.2.0/24) passes at once" '^250 ' "$r"
delivered_ok "(f) a whitelisted message carries no X-Greylist header" f1-$$ 1 0
r=$(send f2-$$ 203.0.113.250 frank@example.test)
check_match "(f) client 203.0.113.250 (listed in whitelist_clients file:) passes at once" '^250 ' "$r"
r=$(send f3-$$ 2001:db8:f00d::25 frank@example.test)
check_match "(f) IPv6 client 2001:db8:f00d::25 (file: lists 2001:db8:f00d::/48) passes at once" '^250 ' "$r"
r=$(send f4-$$ "$C1" postmaster@example.test)
check_match "(f) recipient postmaster@example.test (whitelist_recipients postmaster@) passes at once" '^250 ' "$r"
r=$(send f5-$$ "$C1" anyone@wl.example.test)
check_match "(f) recipient anyone@wl.example.test (whitelist_recipients @wl.example.test) passes at once" '^250 ' "$r"

# ---- (g) the client part of the triplet is the /24 ---------------------------------
r=$(send g1-$$ "$C1_SAME24" "$TO")
check_match "(g) $C1_SAME24 (same /24 as $C1) passes at once for the same sender/recipient" '^250 ' "$r"
r=$(send g2-$$ "$C_OTHER24" "$TO")
check_match "(g) $C_OTHER24 (another /24) is greylisted again for the same sender/recipient" '^450 4\.7\.1 ' "$r"

# ---- (h) kill -9 durability -------------------------------------------------------------
# Sets of triplets, one client /24 (or /48) each so that no auto-whitelist
# interferes: A and B are IPv4, C is IPv6.  Lines: "key client sender rcpt".
N=200
W=4
H=$RUN/burst
mkdir -p "$H"
for ((i = 0; i < N; i++)); do
    echo "A$i 198.18.$i.1 a$i@burst.test r$i@example.test" >>"$H/A"
    echo "B$i 198.19.$i.1 b$i@burst.test r$i@example.test" >>"$H/B"
    printf 'C%d 2001:db8:%x::7 c%d@burst.test r%d@example.test\n' "$i" $((0xc000 + i)) "$i" "$i" >>"$H/C"
    # Phase 3 interleaves B (first pass: a state change) and C (new records).
    tail -n 1 "$H/B" >>"$H/BC"
    tail -n 1 "$H/C" >>"$H/BC"
done

# burst_worker PORT IN OUT - send each request of IN over one connection,
# append "key action" to OUT as each answer arrives.
burst_worker() {
    local port=$1 in=$2 out=$3 fd key client sender rcpt line act
    { exec {fd}<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || {
        echo "- ERROR connect" >>"$out"
        return 1
    }
    while read -r key client sender rcpt; do
        policy_request "$fd" "$client" "$sender" "$rcpt" "burst.$key.$BASHPID" burst.test || {
            echo "$key ERROR write" >>"$out"
            break
        }
        act=
        while IFS= read -r -t 10 line <&"$fd"; do
            line=${line%$'\r'}
            [ -z "$line" ] && break
            [ "${line#action=}" != "$line" ] && act=${line#action=}
        done
        if [ -z "$act" ]; then
            echo "$key ERROR no answer" >>"$out"
            break
        fi
        echo "$key $act" >>"$out"
    done <"$in"
    exec {fd}>&-
    return 0
}

# burst NAME INFILE - run W workers over INFILE in the background
# (round robin); answers go to $H/NAME.out.*; worker pids in BURST_PIDS.
burst() {
    local name=$1 in=$2 w
    BURST_PIDS=()
    for ((w = 0; w < W; w++)); do
        awk -v w="$w" -v n="$W" 'NR % n == w' "$in" >"$H/$name.in.$w"
        : >"$H/$name.out.$w"
        burst_worker "$POLICY" "$H/$name.in.$w" "$H/$name.out.$w" &
        BURST_PIDS+=($!)
    done
}
burst_wait() {
    local p
    for p in "${BURST_PIDS[@]}"; do
        wait "$p"
    done
}

# answers NAME CLASS - sorted keys whose answer in run NAME was of CLASS
# (the classes of policy_class: defer, pass).
answers() {
    awk -v want="$2" '{ a = $2
        if (a ~ /^DEFER_IF_REJECT/) c = "other"
        else if (a ~ /^(DEFER|4[0-9][0-9])/) c = "defer"
        else if (a ~ /^(DUNNO|OK|PREPEND)/) c = "pass"
        else c = "other"
        if (c == want) print $1 }' "$H/$1".out.* | sort
}

# select_keys KEYFILE LISTFILE - the lines of LISTFILE whose key is listed.
select_keys() {
    awk 'NR == FNR { k[$1] = 1; next } ($1 in k)' "$1" "$2"
}

# set_check DESC EXPECTED_FILE GOT_FILE - the two key sets must be equal.
set_check() {
    local desc=$1 missing extra
    missing=$(comm -23 "$2" "$3")
    extra=$(comm -13 "$2" "$3")
    if [ -z "$missing" ] && [ -z "$extra" ]; then
        pass "$desc"
    else
        fail "$desc" "$(printf '%s' "$missing" | grep -c .) missing: $(printf '%s' "$missing" | tr '\n' ' ' | cut -c1-200); $(printf '%s' "$extra" | grep -c .) unexpected: $(printf '%s' "$extra" | tr '\n' ' ' | cut -c1-200)"
    fi
}

cut -d' ' -f1 "$H/A" | sort >"$H/A.keys"
cat "$H/A" "$H/B" >"$H/AB"
cut -d' ' -f1 "$H/AB" | sort >"$H/AB.keys"

burst p1 "$H/AB"
burst_wait
answers p1 defer >"$H/p1.defer"
set_check "(h) burst: all $((2 * N)) new triplets are answered DEFER ($W connections)" "$H/AB.keys" "$H/p1.defer"

sleep "$WAIT"
burst p2 "$H/A"
burst_wait
answers p2 pass >"$H/p2.pass"
set_check "(h) after ${WAIT}s all $N triplets of set A pass" "$H/A.keys" "$H/p2.pass"

# Phase 3: another load (B passes for the first time, C is new); kill -9
# the daemon once a quarter of it has been answered.
burst p3 "$H/BC"
for ((i = 0; i < 1000; i++)); do
    n=$(cat "$H"/p3.out.* | wc -l)
    [ "$n" -ge $((N / 2)) ] && break
    sleep 0.005
done
gg_policyd_kill9
burst_wait
answered=$(cat "$H"/p3.out.* | grep -vc ' ERROR')
if [ "$answered" -gt 0 ] && [ "$answered" -lt $((2 * N)) ]; then
    pass "(h) kill -9 lands in the middle of the load ($answered of $((2 * N)) answered)"
else
    fail "(h) kill -9 lands in the middle of the load" "$answered of $((2 * N)) answered"
fi
answers p3 pass | grep '^B' >"$H/p3.passB"
answers p3 defer | grep '^C' >"$H/p3.deferC"
sort -u "$H/p2.pass" "$H/p3.passB" >"$H/mustpass.keys"
select_keys "$H/mustpass.keys" "$H/AB" >"$H/mustpass"
select_keys "$H/p3.deferC" "$H/C" >"$H/mustpass-later"
npass=$(grep -c . "$H/mustpass.keys")
ndefer=$(grep -c . "$H/p3.deferC")

if ! gg_policyd_start "$CONF"; then
    fail "(h) greygate-policyd starts again after kill -9" "see stderr"
    report_logs
    gg_done
fi
burst p4 "$H/mustpass"
burst_wait
answers p4 pass >"$H/p4.pass"
set_check "(h) after kill -9 and restart all $npass triplets whose pass answer was sent pass at once" \
    "$H/mustpass.keys" "$H/p4.pass"

sleep "$WAIT"
burst p5 "$H/mustpass-later"
burst_wait
answers p5 pass >"$H/p5.pass"
set_check "(h) after kill -9 all $ndefer triplets first deferred just before the kill pass after ${WAIT}s" \
    "$H/p3.deferC" "$H/p5.pass"

gg_policyd_stop
report_logs
pf_stop "$RUN"
gg_done
