#!/usr/bin/env python3
"""t_policy_idle.py - what an idle connection costs greygate-policyd.

Starts a real greygate-policyd (the build in $GG_BUILD), opens 2,000
connections that send nothing, and measures the daemon's resident memory
(VmRSS and RssAnon of /proc/PID/status) before and after: at most
MAX_PER_CONN bytes per idle connection.  Then every one of them asks one
real request (so each has taken an input buffer and a request struct and
given them back) and the figure is taken again.  On a few of them: a line
just under policy_max_line_length (accepted), one just over and one of
1 MB (drained, answered DUNNO), and a client that writes without reading
(the daemon stops reading it: back-pressure), all checked, with the
memory figure taken again before the last; then the SIGUSR1 statistics
line must show that every input buffer, request struct and output queue
went back once the connections idle again.

Prints one "PASS: ..." or "FAIL: ..." line per check (the measured figures
in the check names); exit status 1 if any check failed.
"""
import os
import re
import resource
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import t_policy_limits as L  # noqa: E402  (Daemon, Conn, request: the same daemon set-up)

NAME = "t_policy_idle"
PORT = int(os.environ.get("GG_PORT_BASE", str(20000 + os.getpid() % 30000))) + 9
L.PORT = PORT
NCONN = 2000
MAX_PER_CONN = 10 * 1024
MAX_LINE = 4096
L.NAME = NAME
report = L.report   # PASS:/FAIL: lines; L.failures counts the failures


def memory(pid):
    """(VmRSS, RssAnon) of pid in bytes."""
    vals = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon"):
                vals[k] = int(v.split()[0]) * 1024
    return vals["VmRSS"], vals["RssAnon"]


def settle(pid):
    """The memory once the daemon has handled what it was sent."""
    time.sleep(0.5)
    return memory(pid)


def statistics(d):
    """SIGUSR1, then the numbers of the newest statistics line."""
    before = d.logtext().count("statistics: connections=")
    d.proc.send_signal(10)
    for _ in range(100):
        text = d.logtext()
        if text.count("statistics: connections=") > before:
            line = [l for l in text.splitlines() if "statistics: connections=" in l][-1]
            return dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", line))
        time.sleep(0.05)
    return {}


def per_conn(now, base):
    return (now - base) / NCONN


def back_pressure(d):
    """A client that sends requests and never reads: the daemon must stop reading it."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", PORT))
    s.setblocking(False)
    # Answered DUNNO at once and not logged: 29 bytes in, 14 bytes out.
    req = b"request=smtpd_access_policy\n\n"
    chunk = req * 2000
    sent, stalled_since, limit = 0, None, 64 * 1024 * 1024
    while sent < limit:
        try:
            n = s.send(chunk[sent % len(chunk):])  # a partial send goes on where it stopped
            sent += n
            stalled_since = None
        except BlockingIOError:
            if stalled_since is None:
                stalled_since = time.time()
            elif time.time() - stalled_since > 2.0:
                break
            time.sleep(0.01)
    stalled = sent < limit
    report(stalled, "a client that does not read its answers is not read either "
           "(back-pressure after %d KB sent)" % (sent // 1024), "the daemon read %d bytes" % sent)
    st = statistics(d)
    report(0 < st.get("output_bytes", 0) <= 256 * 1024,
           "its queued answers are bounded (output_bytes=%d)" % st.get("output_bytes", -1), str(st))
    # Every complete request it sent gets its answer once it reads.
    want = sent // len(req)
    s.setblocking(True)
    s.settimeout(10)
    got = 0
    buf = b""
    try:
        while got < want:
            data = s.recv(1 << 20)
            if not data:
                break
            buf += data
            got += buf.count(b"action=DUNNO\n\n")
            buf = buf[buf.rfind(b"\n\n") + 2:] if b"\n\n" in buf else buf
    except socket.timeout:
        pass
    report(got == want, "after reading, all %d answers arrive" % want, "got %d" % got)
    return s


def main():
    if not os.access(L.DAEMON, os.X_OK):
        print("SKIP: %s %s not built" % (NAME, L.DAEMON))
        return 77
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = NCONN + 500
    if soft < want:
        if hard != resource.RLIM_INFINITY and hard < want:
            print("SKIP: %s the file descriptor limit (%d) is below %d" % (NAME, hard, want))
            return 77
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        d = L.Daemon(tmp, L.base_conf(tmp, "whitelist_clients = 127.0.0.0/8\n"),
                     "-o", "policy_max_connections=%d" % (NCONN + 100),
                     "-o", "policy_idle_timeout=600", "-o", "policy_max_line_length=%d" % MAX_LINE)
        try:
            run(d)
        except Exception as e:  # a crash of the test itself is a failure, not a skip
            report(False, "the test ran to its end", "exception: %r" % (e,))
        finally:
            d.stop()
        report(d.proc is not None and d.proc.returncode == 0, "SIGTERM stops the daemon with status 0",
               str(d.proc.returncode if d.proc else None))
    return 1 if L.failures else 0


def run(d):
    report(d.start(), "daemon starts", d.logtext()[-500:])
    pid = d.proc.pid
    # Warm up: the pipeline, the database and the log have done one request.
    w = L.Conn()
    report(L.is_dunno(w.ask(L.request(client="127.0.0.2"))), "a whitelisted client passes")
    rss0, anon0 = settle(pid)

    idle = [socket.create_connection(("127.0.0.1", PORT), timeout=10) for _ in range(NCONN)]
    rss1, anon1 = settle(pid)
    st = statistics(d)
    report(st.get("connections") == NCONN + 1, "%d idle connections are open" % NCONN, str(st))
    report(per_conn(rss1, rss0) <= MAX_PER_CONN,
           "RSS per idle connection: %.0f bytes (RssAnon %.0f) <= %d" %
           (per_conn(rss1, rss0), per_conn(anon1, anon0), MAX_PER_CONN),
           "VmRSS %d -> %d" % (rss0, rss1))

    # Each asks one request and goes idle again, as Postfix's connections do.
    bad = 0
    for i, s in enumerate(idle):
        s.sendall(L.request(client="127.0.%d.%d" % (i // 250, i % 250 + 1), instance="w%d" % i))
        r = b""
        while b"\n\n" not in r:
            chunk = s.recv(4096)
            if not chunk:
                break
            r += chunk
        bad += r != b"action=DUNNO\n\n"
    report(bad == 0, "every idle connection is served one request", "%d wrong answers" % bad)
    rss2, anon2 = settle(pid)
    report(per_conn(rss2, rss0) <= MAX_PER_CONN,
           "RSS per connection idle after a request: %.0f bytes (RssAnon %.0f) <= %d" %
           (per_conn(rss2, rss0), per_conn(anon2, anon0), MAX_PER_CONN),
           "VmRSS %d -> %d" % (rss0, rss2))
    st = statistics(d)
    report(st.get("input_buffers") == 0 and st.get("parsing") == 0,
           "idle connections hold no input buffer and no request struct", str(st))

    # The limits on a few of them, while the others idle.
    c = L.Conn()
    r = c.ask(L.request(client="192.0.2.30", extra=[("x", "v" * (MAX_LINE - 2))]))
    report(L.is_defer(r), "a line of policy_max_line_length bytes is accepted", r)
    r = c.ask(L.request(client="192.0.2.31", extra=[("x", "v" * (MAX_LINE - 1))]))
    report(L.is_dunno(r), "a line one byte over policy_max_line_length is answered DUNNO", r)
    r = c.ask(b"request=smtpd_access_policy\nhelo_name=" + b"A" * (1024 * 1024) + b"\n" +
              L.request(client="192.0.2.32")[len(b"request=smtpd_access_policy\n"):])
    report(L.is_dunno(r), "a 1 MB line is drained and answered DUNNO", r)
    st = statistics(d)
    report(st.get("input_bytes", -1) == 0, "the grown input buffer is freed once it empties", str(st))
    # A long line that arrives a byte at a time at the end: it is buffered, not refused.
    c.send(b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.33\n"
           b"sender=a@example\nrecipient=b@example\nx=" + b"y" * 3000)
    time.sleep(0.3)
    st = statistics(d)
    report(st.get("input_buffers") == 1 and 3000 < st.get("input_bytes", 0) <= MAX_LINE + 2 and
           st.get("parsing") == 1, "a partial long line holds one buffer of at most "
           "policy_max_line_length + 2 bytes (input_bytes=%d)" % st.get("input_bytes", -1), str(st))
    r = c.ask(b"yyy\n\n")
    report(L.is_defer(r), "and its request is answered once it completes", r)
    many = b"".join(b"x_attr%d=v\n" % i for i in range(200))
    r = c.ask(b"request=smtpd_access_policy\n" + many + b"\n")
    report(L.is_dunno(r), "more than policy_max_attributes lines are answered DUNNO", r)
    r = c.ask(L.request(client="192.0.2.34", extra=[("x_attr%d" % i, "v" * 1000) for i in range(70)]))
    report(L.is_dunno(r), "a request over policy_max_request_size is answered DUNNO", r)
    two = L.request(client="192.0.2.35") + L.request(client="192.0.2.36")
    c.send(two)
    r1, r2 = c.answer(), c.answer()
    report(L.is_defer(r1) and L.is_defer(r2), "two pipelined requests get two answers", "%r %r" % (r1, r2))
    extra = [L.Conn() for _ in range(100 - 2)]   # w, c and these: policy_max_connections
    over = L.Conn()
    report(over.closed(), "the connection over policy_max_connections is closed at once")
    for x in extra:
        x.close()
    over.close()

    rss3, anon3 = settle(pid)
    report(per_conn(rss3, rss0) <= MAX_PER_CONN,
           "RSS per idle connection after the limits: %.0f bytes (RssAnon %.0f) <= %d" %
           (per_conn(rss3, rss0), per_conn(anon3, anon0), MAX_PER_CONN),
           "VmRSS %d -> %d" % (rss0, rss3))

    # Last, because its 300,000 requests fill AddressSanitizer's quarantine
    # of freed memory (256 MB) in a sanitized build: no RSS figure after it.
    bp = back_pressure(d)
    bp.close()
    c.close()
    w.close()
    time.sleep(0.5)
    st = statistics(d)
    report(st.get("input_buffers") == 0 and st.get("parsing") == 0 and st.get("output_bytes") == 0,
           "once they idle again, every buffer and request struct is back "
           "(input_buffers=%d parsing=%d output_bytes=%d)" %
           (st.get("input_buffers", -1), st.get("parsing", -1), st.get("output_bytes", -1)), str(st))
    report(d.alive(), "the daemon is still running")
    for s in idle:
        s.close()


if __name__ == "__main__":
    sys.exit(main())
