#!/bin/bash
#
# t_harness_postgrey.sh - self-test of the integration harness (lib.sh)
#
# Proves the plumbing with a known-good greylisting policy server, postgrey,
# before greygate is blamed for anything: a private Postfix instance on
# loopback, swaks presenting a client through XCLIENT, fail-open when the
# policy server is down, 450 on first delivery, 250 after the delay, and the
# message (with postgrey's X-Greylist header) in the maildir.
# Skipped (77) if postgrey is not installed.

set -u
. "$(dirname "$0")/lib.sh"

gg_need_root
command -v postgrey >/dev/null 2>&1 || gg_skip "postgrey is not installed"
gg_need_cmd postfix swaks

gg_tmpdir RUN
SMTP=$(gg_port 0)
POLICY=$(gg_port 1)
FROM=alice@sender.test
TO=bob@example.test

if ! pf_start "$RUN" "$SMTP" "$POLICY"; then
    fail "private Postfix starts on 127.0.0.1:$SMTP and [::1]:$SMTP" "see stderr"
    gg_done
fi
pass "private Postfix starts on 127.0.0.1:$SMTP and [::1]:$SMTP"

# No policy server yet: the "{ ..., default_action=DUNNO }" form must fail open.
r=$(swaks_reply "$SMTP" 198.51.100.7 "$FROM" open@example.test --header "X-Test-Id: failopen-$$")
check_match "policy server down: Postfix fails open (250)" '^250 ' "$r"
if f=$(wait_file_grep "$RUN/mail" "^X-Test-Id: failopen-$$" 10); then
    pass "fail-open message is delivered to the maildir"
else
    fail "fail-open message is delivered to the maildir" "nothing in $RUN/mail after 10s"
    gg_tail "$RUN/maillog"
fi

mkdir -p "$RUN/postgrey"
chown postgrey: "$RUN/postgrey"
: >"$RUN/postgrey/wl_clients"
: >"$RUN/postgrey/wl_recipients"
gg_spawn "$RUN/postgrey.log" postgrey --inet="127.0.0.1:$POLICY" --delay=2 \
    --dbdir="$RUN/postgrey" --hostname=mx.greygate.test \
    --whitelist-clients="$RUN/postgrey/wl_clients" \
    --whitelist-recipients="$RUN/postgrey/wl_recipients"
PG_PID=$GG_LAST_PID
if ! wait_port "$POLICY" 127.0.0.1 15 "$PG_PID"; then
    fail "postgrey starts on 127.0.0.1:$POLICY" "see stderr"
    gg_tail "$RUN/postgrey.log"
    gg_done
fi
pass "postgrey starts on 127.0.0.1:$POLICY"

ID=grey-$$
r=$(swaks_reply "$SMTP" 198.51.100.10 "$FROM" "$TO" --header "X-Test-Id: $ID")
check_match "first delivery is greylisted (450)" '^450 ' "$r"
r=$(swaks_reply "$SMTP" 198.51.100.10 "$FROM" "$TO" --header "X-Test-Id: $ID")
check_match "immediate retry is still greylisted (450)" '^450 ' "$r"
r=$(swaks_reply "$SMTP" IPV6:2001:db8::10 "$FROM" "$TO" --header "X-Test-Id: $ID-v6")
check_match "IPv6 client through XCLIENT is greylisted (450)" '^450 ' "$r"
sleep 3
r=$(swaks_reply "$SMTP" 198.51.100.10 "$FROM" "$TO" --header "X-Test-Id: $ID")
check_match "retry after 3s is accepted (250 queued)" '^250 .*queued as' "$r"
if f=$(wait_file_grep "$RUN/mail" "^X-Test-Id: $ID\$" 10); then
    pass "accepted message lands in the maildir"
    n=$(count_header "$f" X-Greylist)
    check_eq "delivered message has one X-Greylist header" 1 "$n"
else
    fail "accepted message lands in the maildir" "nothing in $RUN/mail after 10s"
    gg_tail "$RUN/maillog"
fi
r=$(swaks_reply "$SMTP" 2001:db8::10 "$FROM" "$TO" --header "X-Test-Id: $ID-v6")
check_match "IPv6 client retry after 3s is accepted (250)" '^250 ' "$r"

if [ "$GG_NFAIL" -gt 0 ]; then
    gg_tail "$RUN/postgrey.log"
    gg_tail "$RUN/maillog"
fi
gg_stop_pid "$PG_PID" TERM 10
pf_stop "$RUN"
gg_done
