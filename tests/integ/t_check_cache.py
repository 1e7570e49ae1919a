#!/usr/bin/env python3
"""t_check_cache.py - remembered check results follow the DNS data behind them.

greygate-policyd remembers the complete result of the checks for a client
address, its names, HELO and sender domain, and answers the next such
request from it at once.  This test serves a DNS list of its own with NSD
(tests/dns/nsd-start.sh, zones written here, TTL 3 s) and shows, over a
real socket:

  - a second request from the same client and sender domain is answered
    from the remembered result (the statistics line counts it) with the
    same answer;
  - a listing published while the old "not listed" answer is still within
    its TTL is not seen yet, and is seen as soon as that TTL has run out:
    a remembered result never outlives the DNS answers it came from;
  - a REJECT is remembered with its TXT reason intact;
  - a lookup that failed (the DNS server is gone) is never remembered:
    the next request asks again.

Prints one "PASS: ..." or "FAIL: ..." line per check; exit status 1 if any
check failed, 77 if NSD or the daemon is missing.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("GG_SRC", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("GG_BUILD", os.path.join(SRC, "build"))
DAEMON = os.path.join(BUILD, "policyd", "greygate-policyd")
NSD_START = os.path.join(SRC, "tests", "dns", "nsd-start.sh")
NAME = "t_check_cache"
BASE = int(os.environ.get("GG_PORT_BASE", str(20000 + os.getpid() % 30000)))
PORT, NSD_PORT = BASE + 11, BASE + 12
TTL = 3
failures = 0

ZONE = """$ORIGIN cc.test.
$TTL {ttl}
@	SOA	ns.cc.test. hostmaster.cc.test. {serial} 3600 600 86400 {ttl}
@	NS	ns.cc.test.
ns	A	127.0.0.1
; RFC 5782 test entry: 127.0.0.2 is listed, 127.0.0.1 is not
2.0.0.127	A	127.0.0.2
2.0.0.127	TXT	"test entry"
{extra}"""
LISTED = """50.2.0.192	A	127.0.0.2
50.2.0.192	TXT	"Listed by cc.test: see http://cc.test/192.0.2.50"
"""


def report(ok, what, why=""):
    global failures
    if ok:
        print("PASS: %s %s" % (NAME, what), flush=True)
    else:
        failures += 1
        print("FAIL: %s %s (%s)" % (NAME, what, why), flush=True)


def request(client, sender, rcpt="bob@rcpt.example"):
    attrs = [("request", "smtpd_access_policy"), ("protocol_state", "RCPT"),
             ("protocol_name", "ESMTP"), ("client_address", client),
             ("client_name", "mx.client.example"), ("reverse_client_name", "mx.client.example"),
             ("helo_name", "mx.client.example"), ("sender", sender), ("recipient", rcpt),
             ("instance", "i-%s-%s" % (client, sender))]
    return "".join("%s=%s\n" % a for a in attrs).encode() + b"\n"


def ask(data):
    with socket.create_connection(("127.0.0.1", PORT), timeout=10) as s:
        s.sendall(data)
        buf = b""
        while b"\n\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                return None
            buf += chunk
    return buf.split(b"\n\n", 1)[0].decode(errors="replace")


def start_nsd(tmp, version, listed):
    zones = os.path.join(tmp, "zones%d" % version)
    os.makedirs(zones)
    with open(os.path.join(zones, "cc.test.zone"), "w") as f:
        f.write(ZONE.format(ttl=TTL, serial=version, extra=LISTED if listed else ""))
    r = subprocess.run([NSD_START, os.path.join(tmp, "nsd%d" % version), str(NSD_PORT),
                        os.path.join(zones, "cc.test.zone")], capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.returncode, r.stderr
    return int(r.stdout.strip()), 0, ""


def stop_pid(pid):
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


class Daemon:
    def __init__(self, tmp):
        self.conf = os.path.join(tmp, "greygate.conf")
        self.log = os.path.join(tmp, "policyd.log")
        with open(self.conf, "w") as f:
            f.write("listen = inet:127.0.0.1:%d\ndatabase = bdb:%s/db\nuser =\n"
                    "greylist_delay = 1\ndns_servers = 127.0.0.1:%d\ndns_timeout = 1s\n"
                    "dnsbl_sites = cc.test*10\ngreylist_threshold = 1\ntag_threshold = 5\n"
                    "reject_threshold = 10\ndns_cache_min_ttl = 1\n" % (PORT, tmp, NSD_PORT))
        self.proc = subprocess.Popen([DAEMON, "-f", "-c", self.conf],
                                     stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        self.ok = False
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
                self.ok = True
                break
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)

    def text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stats(self):
        """checked and remembered counts from a fresh statistics line."""
        before = self.text().count("check statistics:")
        self.proc.send_signal(signal.SIGUSR1)
        for _ in range(100):
            lines = [l for l in self.text().splitlines() if "check statistics:" in l]
            if len(lines) > before:
                m = re.search(r"checked=(\d+) remembered=(\d+)", lines[-1])
                return (int(m.group(1)), int(m.group(2))) if m else None
            time.sleep(0.05)
        return None

    def lines(self, client):
        return [l for l in self.text().splitlines() if "[%s]" % client in l]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run(tmp):
    nsd, rc, err = start_nsd(tmp, 1, listed=False)
    if nsd is None:
        if rc == 77:
            print("SKIP: %s nsd is not installed" % NAME)
            return 77
        report(False, "NSD serves the test list", err)
        return 1
    d = Daemon(tmp)
    try:
        report(d.ok, "greygate-policyd starts with a DNS list", d.text()[-400:])
        if not d.ok:
            return 1
        # Not listed: accepted at once, then the same client and domain again.
        t0 = time.monotonic()
        r1 = ask(request("192.0.2.50", "alice@sender.example"))
        r2 = ask(request("192.0.2.50", "bob@sender.example"))
        report(r1 == "action=DUNNO" and r2 == r1, "an unlisted client is accepted, twice", "%r %r" % (r1, r2))
        st = d.stats()
        report(st == (1, 1), "the second request took the remembered result (checked=1 remembered=1)", st)

        # Publish a listing while the "not listed" answer is still fresh.
        stop_pid(nsd)
        nsd, rc, err = start_nsd(tmp, 2, listed=True)
        report(nsd is not None, "NSD restarts with 192.0.2.50 listed", err)
        r3 = ask(request("192.0.2.50", "carol@sender.example"))
        fresh = time.monotonic() - t0 < TTL - 0.3
        st = d.stats()
        if fresh:
            report(r3 == "action=DUNNO" and st == (1, 2),
                   "within the TTL the remembered result still answers", "%r %r" % (r3, st))
        else:
            print("SKIP: %s the machine was too slow to ask again within the TTL" % NAME)

        # Once the TTL of the answer behind it has run out, the result goes too.
        time.sleep(max(0.0, t0 + TTL + 0.6 - time.monotonic()))
        r4 = ask(request("192.0.2.50", "dave@sender.example"))
        report(r4 is not None and r4.startswith("action=REJECT 5.7.1") and
               "Listed by cc.test: see http://cc.test/192.0.2.50" in r4,
               "after the TTL the new listing rejects, with its TXT", r4)
        r5 = ask(request("192.0.2.50", "erin@sender.example"))
        st2 = d.stats()
        report(r5 == r4 and st2 is not None and st2[1] == st[1] + 1 and st2[0] == st[0] + 1,
               "the REJECT is remembered with its text intact", "%r %r %r" % (r5, st, st2))
        time.sleep(0.2)
        ls = [l for l in d.lines("192.0.2.50") if "action=reject" in l]
        report(len(ls) == 2 and all("score=10 reasons=dnsbl:cc.test(10)" in l for l in ls),
               "both log lines carry the score and the reason", ls)

        # A lookup that fails is not remembered.
        stop_pid(nsd)
        nsd = None
        r6 = ask(request("192.0.2.60", "frank@sender.example"))
        r7 = ask(request("192.0.2.60", "gina@sender.example"))
        st3 = d.stats()
        time.sleep(0.2)
        ls = d.lines("192.0.2.60")
        report(r6 == "action=DUNNO" and r7 == r6 and len(ls) == 2 and
               all(re.search(r"reasons=dnsbl:cc\.test\((timeout|error)\)\(0\)", l) for l in ls),
               "a dead DNS server fails open, with a failure reason each time", "%r %r %r" % (r6, r7, ls))
        report(st3 is not None and st3 == (st2[0] + 2, st2[1]),
               "a failed lookup is never remembered: both requests asked DNS", "%r %r" % (st2, st3))
    finally:
        d.stop()
        stop_pid(nsd)
    report(d.proc.returncode == 0, "the daemon stops cleanly", str(d.proc.returncode))
    return 0


def main():
    if not os.access(DAEMON, os.X_OK):
        print("SKIP: %s %s not built" % (NAME, DAEMON))
        return 77
    if shutil.which("nsd") is None and not os.access("/usr/sbin/nsd", os.X_OK):
        print("SKIP: %s nsd is not installed" % NAME)
        return 77
    tmp = tempfile.mkdtemp(prefix="gg-checkcache.")
    try:
        rc = run(tmp)
    except Exception as e:  # a crash of the test itself is a failure
        report(False, "run", "exception: %r" % (e,))
        rc = 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if rc == 77:
        return 77
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
