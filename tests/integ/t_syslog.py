#!/usr/bin/env python3
"""t_syslog.py - both daemons logging to a real syslog socket, in the background.

A datagram socket bound here plays the syslog daemon (GG_SYSLOG_SOCKET
points the daemons at it).  greygate-policyd, started without -f, under
gg-loadgen: the start-up line and every decision line arrive whole, in
glibc's /dev/log format with the daemon's (forked) pid, one per request
the daemon's own statistics count; strace attached during a run counts
one sendmmsg(2) per loop turn at most and no send per line; the socket is
bound again (a restarted syslog daemon) and no line is lost; the socket
is gone for a while and the first line afterwards says how many were
lost, which with the lines received adds up to the requests; SIGHUP with
a new syslog_name and syslog_facility; SIGTERM's last line arrives.
Then greygate-milter, also in the background, with 20 concurrent
miltertest clients: 1000 decision lines from libmilter's threads, each
whole, none lost.  AddressSanitizer's reports go to files, which must
not exist at the end.

Prints one "PASS: ..." or "FAIL: ..." line per check; exit status 1 if any
check failed, 77 if greygate-policyd or gg-loadgen is not built.
"""
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SRC = os.environ.get("GG_SRC", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("GG_BUILD", os.path.join(SRC, "build"))
POLICYD = os.path.join(BUILD, "policyd", "greygate-policyd")
MILTER = os.path.join(BUILD, "milter", "greygate-milter")
LOADGEN = os.path.join(BUILD, "bench", "gg-loadgen")
NAME = "t_syslog"
PORT = int(os.environ.get("GG_PORT_BASE", str(20000 + os.getpid() % 30000))) + 11
MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
daemons = []    # pids of the daemons started here, stopped at exit if still running


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import t_policy_limits as tp  # noqa: E402  (report: the PASS:/FAIL: lines every test prints)

tp.NAME = NAME
report = tp.report


class Syslogd:
    """A datagram socket at path; a thread keeps every line it receives."""

    def __init__(self, path):
        self.path = path
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.lines = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while self.running:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            with self.lock:
                self.lines.append(data.decode("utf-8", "replace"))

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def wait_for(self, regex, timeout=10, start=0):
        """The first line from index start on matching regex, or None."""
        deadline = time.time() + timeout
        pat = re.compile(regex)
        while time.time() < deadline:
            for line in self.snapshot()[start:]:
                if pat.search(line):
                    return line
            time.sleep(0.05)
        return None

    def close(self, unlink=True):
        self.running = False
        self.thread.join()
        self.sock.close()
        if unlink and os.path.exists(self.path):
            os.unlink(self.path)


def free_port(start):
    """The first port from start on that binds without SO_REUSEADDR (no TIME_WAIT either)."""
    for port in range(start, start + 100):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    return start


def loadgen(n, conns=8):
    out = subprocess.run([LOADGEN, "-s", "127.0.0.1:%d" % PORT, "-w", "new", "-c", str(conns),
                          "-n", str(n), "-T", "20"], capture_output=True, text=True, timeout=120)
    return out.returncode, out.stdout + out.stderr


def header(pri, ident, pid):
    return r"^<%d>(%s) [ 123]\d \d\d:\d\d:\d\d %s\[%d\]: " % (pri, MONTHS, re.escape(ident), pid)


def stats_requests(sl, pid, start):
    """SIGUSR1, then the requests= count of the statistics line it logs."""
    n = len(sl.snapshot())
    os.kill(pid, signal.SIGUSR1)
    line = sl.wait_for(r"statistics: .* requests=(\d+) ", 10, max(start, n))
    return int(re.search(r" requests=(\d+) ", line).group(1)) if line else None


def decisions(lines):
    return [l for l in lines if " action=" in l and " client=" in l]


def wait_pid_file(path, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open(path) as f:
                pid = int(f.read().strip())
            daemons.append(pid)
            return pid
        except (OSError, ValueError):
            time.sleep(0.05)
    return None


def wait_gone(pid, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def parse_strace(path):
    """sendmmsg calls, datagrams they sent, sendto calls, epoll_wait calls."""
    calls = sent = sendto = turns = 0
    with open(path, errors="replace") as f:
        for line in f:
            if "sendmmsg(" in line:
                calls += 1
                m = re.search(r"\) = (\d+)", line)
                sent += int(m.group(1)) if m else 0
            elif "sendto(" in line:
                sendto += 1
            elif "epoll_wait(" in line:
                turns += 1
    return calls, sent, sendto, turns


def policyd_part(run, env):
    sockpath = os.path.join(run, "log")
    conf = os.path.join(run, "greygate.conf")
    pidfile = os.path.join(run, "policyd.pid")
    os.mkdir(os.path.join(run, "db"))
    with open(conf, "w") as f:
        f.write("listen = inet:127.0.0.1:%d\ndatabase = bdb:%s/db\nuser =\npid_file = %s\n"
                "greylist_delay = 2\nsyslog_name = gg-syslog-test\nsyslog_facility = local4\n"
                % (PORT, run, pidfile))
    sl = Syslogd(sockpath)
    rc = subprocess.run([POLICYD, "-c", conf], env=env, timeout=30).returncode
    pid = wait_pid_file(pidfile)
    report(rc == 0 and pid is not None, "greygate-policyd starts in the background",
           "exit %s, pid file %s" % (rc, pid))
    if pid is None:
        sl.close()
        return
    hdr = header(20 << 3 | 6, "gg-syslog-test", pid)   # local4.info
    line = sl.wait_for(r"started: listening on ", 10)
    report(line is not None and re.match(hdr + r"greygate-policyd \S+ started: listening on "
                                         r"inet:127\.0\.0\.1:%d, database bdb:.*, "
                                         r"greylist_delay=2s$" % PORT, line) is not None,
           "the start-up line: <166>, local time, ident and the daemon's pid (after the fork)",
           repr(line))
    if line:
        stamp = re.match(r"^<\d+>(\w+ +\d+ [\d:]+) ", line).group(1)
        now = time.time()
        ok = any(time.strftime("%b %e %H:%M:%S", time.localtime(now - d)) == stamp
                 for d in range(0, 6))
        report(ok, "its time stamp is the local time of day", stamp)

    # One decision line per request, whole and in the format, batched per turn.
    strace = shutil.which("strace")
    trace = os.path.join(run, "strace.out")
    tracer = None
    if strace:
        tracer = subprocess.Popen([strace, "-f", "-qq", "-p", str(pid), "-o", trace,
                                   "-e", "trace=sendmmsg,sendto,epoll_wait"],
                                  stderr=subprocess.DEVNULL)
        time.sleep(1.0)   # attached
    before = len(sl.snapshot())
    rc, out = loadgen(2000)
    report(rc == 0, "gg-loadgen -w new -c 8 -n 2000 runs", out.strip()[-200:])
    n1 = stats_requests(sl, pid, before)
    if tracer:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=10)
    lines = sl.snapshot()
    dec = decisions(lines)
    report(n1 is not None and len(dec) == n1,
           "one decision line per request the daemon counted", "%d lines, requests=%s"
           % (len(dec), n1))
    pat = re.compile(hdr + r"(\S+: )?client=\S+\[[0-9a-f.:]+\] helo=<[^>]*> from=<[^>]*> "
                     r"to=<[^>]*> action=greylist reason=new delay=2$")
    bad = [l for l in dec if not pat.match(l)]
    report(not bad, "every decision line is whole and in the format", repr(bad[:2]))
    if tracer:
        calls, sent, sendto, turns = parse_strace(trace)
        window = len(decisions(lines[before:]))
        print("# strace during the run: %d decision lines, %d sendmmsg calls sending %d "
              "datagrams, %d sendto, %d epoll_wait" % (window, calls, sent, sendto, turns),
              flush=True)
        report(sendto == 0, "no send(2) per line (no glibc syslog)", "%d sendto" % sendto)
        report(calls > 0 and calls <= turns + 1 and calls < window,
               "at most one sendmmsg per loop turn, fewer than the lines",
               "%d sendmmsg, %d turns, %d lines" % (calls, turns, window))
        report(sent >= window, "the sendmmsg calls sent every decision line",
               "%d datagrams for %d lines" % (sent, window))
    else:
        print("# strace is not installed: no system call counts", flush=True)

    # The syslog daemon restarts: its socket is bound again; nothing is lost.
    sl.close()
    sl = Syslogd(sockpath)
    rc, out = loadgen(300)
    n2 = stats_requests(sl, pid, 0)
    lines = sl.snapshot()
    report(n1 is not None and n2 is not None and len(decisions(lines)) == n2 - n1 and
           not any("lines lost" in l for l in lines),
           "syslog restarted: every line reaches the new socket, no loss",
           "%d lines, requests %s -> %s" % (len(decisions(lines)), n1, n2))

    # syslog is gone for a while: lines are dropped, counted, and reported.
    sl.close()
    rc, out = loadgen(200)
    sl = Syslogd(sockpath)
    rc, out = loadgen(100)
    n3 = stats_requests(sl, pid, 0)
    lines = sl.snapshot()
    warn = [l for l in lines if "log lines lost" in l]
    lost = int(re.search(r"warning: (\d+) log lines lost", warn[0]).group(1)) if warn else -1
    report(len(warn) == 1 and lines and lines[0] == warn[0] and
           re.match(header(20 << 3 | 4, "gg-syslog-test", pid) + r"warning: \d+ log lines "
                    r"lost: syslog \(%s\) was not reachable" % re.escape(sockpath), warn[0]),
           "the first line after the outage is one warning at local4.warning",
           repr(lines[:1]))
    report(n2 is not None and n3 is not None and lost >= 200 and
           lost + len(decisions(lines)) == n3 - n2,
           "lost lines plus lines received are the requests",
           "lost %d + %d received, requests %s -> %s" % (lost, len(decisions(lines)), n2, n3))

    # SIGHUP with a new ident and facility.
    with open(conf, "a") as f:
        f.write("syslog_name = gg-syslog-new\nsyslog_facility = local5\n")
    start = len(sl.snapshot())
    os.kill(pid, signal.SIGHUP)
    line = sl.wait_for(r"configuration reloaded from ", 10, start)
    report(line is not None and re.match(header(21 << 3 | 6, "gg-syslog-new", pid), line),
           "SIGHUP: a new syslog_name and syslog_facility apply at once", repr(line))
    loadgen(20, 2)
    dec = decisions(sl.snapshot()[start:])
    report(dec and all(re.match(header(21 << 3 | 6, "gg-syslog-new", pid), l) for l in dec),
           "decision lines after the reload carry them", repr(dec[:1]))

    # SIGTERM: the last line still arrives.
    start = len(sl.snapshot())
    os.kill(pid, signal.SIGTERM)
    gone = wait_gone(pid)
    line = sl.wait_for(r"stopped; database closed cleanly$", 5, start)
    report(gone and line is not None, "SIGTERM: the daemon exits and its last line arrives",
           "gone=%s line=%r" % (gone, line))
    sl.close()


def milter_part(run, env):
    miltertest = shutil.which("miltertest")
    if not os.access(MILTER, os.X_OK) or not miltertest:
        print("# greygate-milter or miltertest missing: milter part skipped", flush=True)
        return
    mport = free_port(PORT + 1)
    sockpath = os.path.join(run, "mlog")
    conf = os.path.join(run, "milter.conf")
    pidfile = os.path.join(run, "milter.pid")
    os.mkdir(os.path.join(run, "mdb"))
    with open(conf, "w") as f:
        f.write("milter_socket = inet:%d@127.0.0.1\ndatabase = bdb:%s/mdb\nuser =\n"
                "pid_file = %s\ngreylist_delay = 1\nsyslog_name = gg-milter-test\n"
                % (mport, run, pidfile))
    sl = Syslogd(sockpath)
    menv = dict(env, GG_SYSLOG_SOCKET=sockpath)
    rc = subprocess.run([MILTER, "-c", conf], env=menv, timeout=30).returncode
    pid = wait_pid_file(pidfile)
    started = sl.wait_for(r"greygate-milter .* started: ", 10)
    report(rc == 0 and pid is not None and started is not None,
           "greygate-milter starts in the background", "exit %s, pid %s" % (rc, pid))
    if pid is None or started is None:
        sl.close()
        return
    workers = []
    for w in range(1, 21):
        workers.append(subprocess.Popen(
            [miltertest, "-D", "port=%d" % mport, "-D", "delay=1", "-D",
             "libdir=%s/tests/milter" % SRC, "-D", "worker=%d" % w, "-s",
             "%s/tests/milter/load.lua" % SRC], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True))
    oks = 0
    for p in workers:
        out, _ = p.communicate(timeout=120)
        oks += len(re.findall(r"^ok client ", out, re.M))
    report(oks == 20, "20 concurrent miltertest clients each got their 50 refusals",
           "%d of 20" % oks)
    time.sleep(0.5)
    dec = decisions(sl.snapshot())
    pat = re.compile(header(2 << 3 | 6, "gg-milter-test", pid) +
                     r"(\S+: )?client=mx\.load\.test\[203\.0\.113\.\d+\] helo=<mx\.load\.test> "
                     r"from=<load[a-z]{2}@sender\.test> to=<r\d+@example\.test> "
                     r"action=greylist reason=new delay=1$")
    bad = [l for l in dec if not pat.match(l)]
    report(len(dec) == 1000 and not bad,
           "1000 decision lines from libmilter's threads, each whole, none lost",
           "%d lines, bad %r" % (len(dec), bad[:2]))
    start = len(sl.snapshot())
    os.kill(pid, signal.SIGTERM)
    gone = wait_gone(pid)
    line = sl.wait_for(r"stopped; database closed cleanly$", 5, start)
    report(gone and line is not None, "greygate-milter: SIGTERM, its last line arrives",
           "gone=%s line=%r" % (gone, line))
    sl.close()


def main():
    global PORT
    for prog in (POLICYD, LOADGEN):
        if not os.access(prog, os.X_OK):
            print("SKIP: %s %s is not built" % (NAME, prog))
            sys.exit(77)
    PORT = free_port(PORT)
    run = tempfile.mkdtemp(prefix="gg-syslog.")
    os.chmod(run, 0o755)
    env = dict(os.environ, GG_SYSLOG_SOCKET=os.path.join(run, "log"),
               ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=%s/asan" % run)
    try:
        policyd_part(run, env)
        milter_part(run, env)
        reports = glob.glob(os.path.join(run, "asan*"))
        text = ""
        for r in reports:
            with open(r, errors="replace") as f:
                text += f.read()[:600]
        report(not reports, "no AddressSanitizer report from either daemon", text)
    finally:
        for pid in daemons:
            try:
                os.kill(pid, signal.SIGTERM)
                if not wait_gone(pid, 10):
                    os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if os.environ.get("GG_KEEP") == "1":
            print("# kept %s" % run)
        else:
            shutil.rmtree(run, ignore_errors=True)
    sys.exit(1 if tp.failures else 0)


if __name__ == "__main__":
    main()
