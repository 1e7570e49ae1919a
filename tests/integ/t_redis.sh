#!/bin/bash
#
# t_redis.sh - two greygate-policyd instances ("MX A" and "MX B") sharing
# their greylisting state through one redis-server
#
# redis-server listens on a loopback port and a unix socket; A uses
# database = redis:127.0.0.1:PORT/1, B uses redis:unix:SOCKET/1 (the same
# database).  Checks, each its own PASS/FAIL line:
#  (a) a triplet first seen on A is deferred, an early retry on B too, and
#      its retry on B after greylist_delay passes (and then on A as well);
#  (b) the auto-whitelist earned through B lets the client's next new
#      triplet pass at once on A;  (c) the records are "gg:" keys in Redis
#      with an expiry of greylist_max_age plus one day;  (d) greygate-db
#      stats/dump/lookup/delete work against the Redis database;
#  (e) redis-server stopped: both daemons answer DUNNO at once (fail
#      open), log reason=db-error with the Redis reason, and stay up;
#      greygate-db fails with exit 2 and the reason;  (f) redis-server
#      restarted: greylisting works again on both without restarting them;
#  (g) a malformed redis: setting stops the daemon at start with a message
#      naming the setting;  (h) as root, a real Postfix asking B delivers a
#      message whose triplet was first deferred by A;  (i) greygate-milter
#      on the same Redis (miltertest) knows B's triplets, and A knows the
#      milter's.
# Skipped (77) when greygate-policyd is not built or redis-server is missing.

set -u
. "$(dirname "$0")/lib.sh"

[ -x "$GG_POLICYD_BIN" ] || gg_skip "greygate-policyd is not built ($GG_POLICYD_BIN)"
GG_DB_BIN=$GG_BUILD/tools/greygate-db
[ -x "$GG_DB_BIN" ] || gg_skip "greygate-db is not built ($GG_DB_BIN)"
gg_need_cmd redis-server redis-cli

gg_tmpdir RUN
RPORT=$(gg_port 20)
PA=$(gg_port 21)
PB=$(gg_port 22)
SMTP=$(gg_port 23)
SOCK=$RUN/redis.sock
DELAY=2
WAIT=3
MAXAGE=7200

redis_start() {
    gg_spawn "$RUN/redis.log" redis-server --bind 127.0.0.1 --port "$RPORT" \
        --unixsocket "$SOCK" --unixsocketperm 700 --save '' --appendonly no --dir "$RUN"
    REDIS_PID=$GG_LAST_PID
    wait_port "$RPORT" 127.0.0.1 10 "$REDIS_PID" && [ -S "$SOCK" ]
}
redis_stop() {
    gg_stop_pid "$REDIS_PID" TERM 10
}
rcli() {
    redis-cli -s "$SOCK" -n 1 "$@"
}

write_conf() {
    cat >"$1" <<EOF
listen = inet:127.0.0.1:$2
database = $3
user =
greylist_delay = $DELAY
greylist_max_age = ${MAXAGE}s
greylist_retry_window = 3600s
greylist_auto_whitelist = 1
EOF
}
CONF_A=$RUN/a.conf
CONF_B=$RUN/b.conf
write_conf "$CONF_A" "$PA" "redis:127.0.0.1:$RPORT/1"
write_conf "$CONF_B" "$PB" "redis:unix:$SOCK/1"
LOG_A=$RUN/policyd-a.log
LOG_B=$RUN/policyd-b.log

report_logs() {
    if [ "$GG_NFAIL" -gt 0 ]; then
        gg_tail "$LOG_A" 30
        gg_tail "$LOG_B" 30
        gg_tail "$RUN/redis.log" 10
    fi
}

# ask PORT CLIENT FROM TO - the class of the answer (defer, pass, ...)
ask() {
    policy_class "$(policy_query "$1" "$2" "$3" "$4")"
}

if redis_start; then pass "redis-server starts"; else
    fail "redis-server starts" "no port $RPORT or socket"
    gg_tail "$RUN/redis.log"
    gg_done
fi

# shellcheck disable=SC2034  # read by gg_policyd_start
GG_POLICYD_LOG=$LOG_A
gg_policyd_start "$CONF_A" && PID_A=$GG_POLICYD_PID
# shellcheck disable=SC2034
GG_POLICYD_LOG=$LOG_B
gg_policyd_start "$CONF_B" && PID_B=$GG_POLICYD_PID
if [ -n "${PID_A:-}" ] && [ -n "${PID_B:-}" ]; then
    pass "both daemons start with database = redis:..."
else
    fail "both daemons start with database = redis:..." "see the logs"
    report_logs
    gg_done
fi

# (a) shared triplets
C1=198.51.100.10
check_eq "a new triplet on A is deferred" defer "$(ask "$PA" $C1 alice@sender.test bob@example.test)"
check_eq "its early retry on B is deferred too (shared state)" defer \
    "$(ask "$PB" $C1 alice@sender.test bob@example.test)"
if grep -q 'reason=early-retry' "$LOG_B"; then pass "B saw an early retry, not a new triplet"; else
    fail "B saw an early retry, not a new triplet" "$(grep 'action=' "$LOG_B" | tail -n 1)"
fi
sleep "$WAIT"
check_eq "the retry after greylist_delay on B passes" pass \
    "$(ask "$PB" $C1 alice@sender.test bob@example.test)"
check_eq "and A knows the triplet passed" pass "$(ask "$PA" $C1 alice@sender.test bob@example.test)"

# (b) auto-whitelist across hosts: the pass on B trusted 198.51.100.0/24
check_eq "a new triplet of the auto-whitelisted client passes at once on A" pass \
    "$(ask "$PA" 198.51.100.20 carol@other.test dave@example.test)"
if grep -q 'client=.*198.51.100.20.*reason=auto-whitelist' "$LOG_A"; then
    pass "A logs reason=auto-whitelist"
else
    fail "A logs reason=auto-whitelist" "$(grep 198.51.100.20 "$LOG_A" | tail -n 1)"
fi

# (c) keys and expiry in Redis
TKEY="gg:t/198.51.100.0/24/alice@sender.test/bob@example.test"
keys=$(rcli --scan --pattern 'gg:*' | sort | tr '\n' ' ')
check_match "the triplet and the client are gg: keys in database 1" \
    "gg:c/198.51.100.0/24.*gg:t/198.51.100.0/24/alice@sender.test/bob@example.test" "$keys"
check_eq "database 0 has nothing of ours" 0 "$(redis-cli -s "$SOCK" -n 0 dbsize)"
ttl=$(rcli ttl "$TKEY")
if [ "$ttl" -gt $((MAXAGE + 86400 - 60)) ] 2>/dev/null && [ "$ttl" -le $((MAXAGE + 86400)) ]; then
    pass "the record expires after greylist_max_age plus one day (TTL $ttl)"
else
    fail "the record expires after greylist_max_age plus one day" "TTL '$ttl'"
fi

# (c2) a reload with another greylist_max_age: new records get the new expiry
sed -i "s/^greylist_max_age = .*/greylist_max_age = $((MAXAGE * 2))s/" "$CONF_A"
kill -HUP "$PID_A"
wait_file_grep "$LOG_A" 'configuration reloaded' 5 >/dev/null
ask "$PA" 203.0.113.77 reload@sender.test bob@example.test >/dev/null
ttl=$(rcli ttl "gg:t/203.0.113.0/24/reload@sender.test/bob@example.test")
if [ "$ttl" -gt $((2 * MAXAGE + 86400 - 60)) ] 2>/dev/null && [ "$ttl" -le $((2 * MAXAGE + 86400)) ]; then
    pass "after a reload records expire after the new greylist_max_age plus one day (TTL $ttl)"
else
    fail "after a reload records expire after the new greylist_max_age plus one day" "TTL '$ttl'"
fi
rcli del "gg:t/203.0.113.0/24/reload@sender.test/bob@example.test" >/dev/null

# (d) greygate-db against Redis
out=$("$GG_DB_BIN" -c "$CONF_A" stats 2>&1)
check_match "greygate-db stats counts the shared records" \
    "^triplets=1 passed=1 waiting=0 clients=1 trusted_clients=1 corrupt=0$" "$out"
ask "$PB" 203.0.113.7 eve@sender.test bob@example.test >/dev/null
out=$("$GG_DB_BIN" -c "$CONF_B" dump triplets 2>&1 | tr '\n' ' ')
check_match "greygate-db dump lists each triplet with its state (through B's unix socket)" \
    "t/198.51.100.0/24/alice@sender.test/bob@example.test state=passed.*t/203.0.113.0/24/eve@sender.test/bob@example.test state=waiting|t/203.0.113.0/24/eve@sender.test/bob@example.test state=waiting.*t/198.51.100.0/24/alice@sender.test/bob@example.test state=passed" \
    "$out"
out=$("$GG_DB_BIN" -c "$CONF_A" lookup --client 198.51.100.99 --sender alice@sender.test --rcpt bob@example.test 2>&1)
check_match "greygate-db lookup explains a record from Redis" "answer now: accept reason=auto-whitelist|answer now: accept reason=known" "$out"
"$GG_DB_BIN" -c "$CONF_A" delete "t/203.0.113.0/24/eve@sender.test/bob@example.test" >/dev/null 2>&1
rc=$?
check_eq "greygate-db delete removes the record from Redis" "0 0" \
    "$rc $(rcli exists gg:t/203.0.113.0/24/eve@sender.test/bob@example.test)"
"$GG_DB_BIN" -c "$CONF_A" delete "t/no/such/key" >/dev/null 2>&1
check_eq "greygate-db delete of a missing record exits 1" 1 "$?"
out=$("$GG_DB_BIN" -c "$CONF_A" expire 2>&1)
check_match "greygate-db expire has nothing to do (Redis expires records)" "^examined=0 expired=0" "$out"

# (e) Redis down: fail open
redis_stop
start=$(date +%s%N)
ra=$(ask "$PA" 192.0.2.77 new@sender.test bob@example.test)
rb=$(ask "$PB" 192.0.2.78 new@sender.test bob@example.test)
for i in 1 2 3 4 5 6 7 8 9 10; do
    ask "$PA" 192.0.2.$((100 + i)) x@sender.test bob@example.test >/dev/null
done
ms=$((($(date +%s%N) - start) / 1000000))
check_eq "Redis down: A and B answer DUNNO (fail open)" "pass pass" "$ra $rb"
if [ "$ms" -lt 5000 ]; then pass "12 answers while Redis is down take ${ms} ms"; else
    fail "answers while Redis is down are quick" "${ms} ms for 12"
fi
if grep -q 'client=.*192.0.2.77.*action=accept reason=db-error.*redis 127.0.0.1:'"$RPORT" "$LOG_A" &&
    grep -q 'client=.*192.0.2.78.*action=accept reason=db-error.*redis '"$SOCK" "$LOG_B"; then
    pass "both log reason=db-error with the Redis address and reason"
else
    fail "both log reason=db-error with the Redis address and reason" \
        "A: $(grep 192.0.2.77 "$LOG_A" | tail -n 1) B: $(grep 192.0.2.78 "$LOG_B" | tail -n 1)"
fi
if gg_pid_alive "$PID_A" && gg_pid_alive "$PID_B"; then pass "both daemons are still running"; else
    fail "both daemons are still running" "A alive: $(gg_pid_alive "$PID_A" && echo y) B alive: $(gg_pid_alive "$PID_B" && echo y)"
fi
out=$("$GG_DB_BIN" -c "$CONF_A" stats 2>&1)
rc=$?
check_match "greygate-db fails with exit 2 and the reason" "^2 .*redis 127.0.0.1:$RPORT: .*(refused|Connection)" "$rc $out"

# (f) Redis back (empty): greylisting works again without restarting greygate
if redis_start; then pass "redis-server restarts"; else fail "redis-server restarts" "no port"; fi
# wait_back PORT NET - poll with throwaway triplets until the daemon greylists
# again (it retries one second after a failure, up to 8 s after several);
# prints how long that took.
wait_back() {
    local i=0 t0
    t0=$(date +%s%N)
    while [ $i -lt 60 ]; do
        [ "$(ask "$1" 198.18.$(($2 + i)).1 probe@sender.test bob@example.test)" = defer ] && break
        sleep 0.2
        i=$((i + 1))
    done
    echo "$((($(date +%s%N) - t0) / 1000000)) ms"
    [ $i -lt 60 ]
}
if t=$(wait_back "$PA" 10); then pass "A greylists again by itself ($t after the restart)"; else
    fail "A greylists again by itself" "still failing after $t"
fi
if t=$(wait_back "$PB" 100); then pass "B greylists again by itself ($t)"; else
    fail "B greylists again by itself" "still failing after $t"
fi
C2=203.0.113.50
check_eq "Redis back: a new triplet on A is deferred again" defer \
    "$(ask "$PA" $C2 frank@sender.test bob@example.test)"
check_eq "its early retry on B is deferred" defer "$(ask "$PB" $C2 frank@sender.test bob@example.test)"
sleep "$WAIT"
check_eq "its retry after the delay on B passes" pass "$(ask "$PB" $C2 frank@sender.test bob@example.test)"
check_eq "the daemons were never restarted" "$PID_A $PID_B" \
    "$(gg_pid_alive "$PID_A" && echo "$PID_A") $(gg_pid_alive "$PID_B" && echo "$PID_B")"

# (g) a malformed setting is a start-up error naming it
out=$("$GG_POLICYD_BIN" -f -c "$CONF_A" -o database=redis:127.0.0.1 -o "listen=unix:$RUN/g.sock" 2>&1)
rc=$?
check_match "database = redis:127.0.0.1 (no port) stops the daemon with the reason" \
    "^1 .*database = redis:127.0.0.1: .*expected redis:HOST:PORT" "$rc $out"

# (h) a real Postfix asking B
if [ "$(id -u)" -eq 0 ] && command -v postfix >/dev/null && command -v swaks >/dev/null; then
    if pf_start "$RUN/pf" "$SMTP" "$PB"; then
        C3=198.18.0.10   # not yet known anywhere
        check_eq "Postfix + B: a triplet first deferred by A" defer \
            "$(ask "$PA" $C3 grace@sender.test henry@example.test)"
        sleep "$WAIT"
        r=$(swaks_reply "$SMTP" $C3 grace@sender.test henry@example.test --header "X-Test-Id: redis-1")
        check_match "is delivered by Postfix asking B after the delay" "^250 .*queued as" "$r"
        if wait_file_grep "$RUN/pf/mail" "^X-Test-Id: redis-1" 10 >/dev/null; then
            pass "the message reached the mailbox"
        else
            fail "the message reached the mailbox" "not delivered"
            gg_tail "$RUN/pf/maillog"
        fi
        pf_stop "$RUN/pf"
    else
        fail "Postfix starts" "see the maillog"
    fi
else
    gg_note "not root or no postfix/swaks: the Postfix part (h) is not run"
fi

# (i) greygate-milter on the same Redis
MILTER_BIN=$GG_BUILD/milter/greygate-milter
MPORT=$(gg_port 25)
if [ -x "$MILTER_BIN" ] && command -v miltertest >/dev/null; then
    cat >"$RUN/m.conf" <<EOF
milter_socket = inet:$MPORT@127.0.0.1
database = redis:unix:$SOCK/1
user =
greylist_delay = $DELAY
greylist_max_age = ${MAXAGE}s
greylist_retry_window = 3600s
greylist_auto_whitelist = 1
EOF
    cat >"$RUN/m.lua" <<'EOF'
dofile(libdir .. "/lib.lua")
T.run(function()
	local conn = T.session("mx.sender.test", "203.0.113.50", "mx.sender.test", "<frank@sender.test>")
	local r = T.rcpt(conn, "<bob@example.test>")
	T.check(r == SMFIR_CONTINUE, "the milter lets through a triplet that passed on B", T.reply_name(r))
	mt.disconnect(conn)
	conn = T.session("mx.sender.test", "192.0.2.200", "mx.sender.test", "<ivan@sender.test>")
	r = T.rcpt(conn, "<bob@example.test>")
	T.check(r == SMFIR_REPLYCODE, "the milter defers a new triplet", T.reply_name(r))
	mt.disconnect(conn)
end)
EOF
    gg_spawn "$RUN/milter.log" "$MILTER_BIN" -f -c "$RUN/m.conf"
    PID_M=$GG_LAST_PID
    i=0
    while ! grep -q 'greygate-milter .* started: ' "$RUN/milter.log" 2>/dev/null &&
        gg_pid_alive "$PID_M" && [ $i -lt 150 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    out=$(miltertest -D port="$MPORT" -D libdir="$GG_SRC/tests/milter" -s "$RUN/m.lua" 2>&1)
    n=0
    while IFS= read -r line; do
        case $line in
        "ok "*) pass "milter: ${line#ok }"; n=$((n + 1)) ;;
        "not ok "*) fail "milter: ${line#not ok }" "see the milter log"; n=$((n + 1)) ;;
        esac
    done <<<"$out"
    [ "$n" = 2 ] || fail "miltertest runs its checks" "$(head -c 300 <<<"$out")"
    check_eq "A sees the milter's new triplet as an early retry" defer \
        "$(ask "$PA" 192.0.2.200 ivan@sender.test bob@example.test)"
    if grep -q 'client=.*192.0.2.200.*reason=early-retry' "$LOG_A"; then
        pass "A logs reason=early-retry for it"
    else
        fail "A logs reason=early-retry for it" "$(grep 192.0.2.200 "$LOG_A" | tail -n 1)"
    fi
    gg_stop_pid "$PID_M" TERM 15
    check_eq "the milter stops cleanly on SIGTERM" 0 "$?"
    if [ "$GG_NFAIL" -gt 0 ]; then gg_tail "$RUN/milter.log" 20; fi
else
    gg_note "greygate-milter or miltertest missing: part (i) is not run"
fi

gg_stop_pid "$PID_A" TERM 10
rc_a=$?
gg_stop_pid "$PID_B" TERM 10
rc_b=$?
check_eq "both daemons stop cleanly on SIGTERM" "0 0" "$rc_a $rc_b"
report_logs
gg_done
