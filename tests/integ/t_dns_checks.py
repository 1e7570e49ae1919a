#!/usr/bin/env python3
"""t_dns_checks.py - DNS lists, reverse DNS, HELO, SPF and scoring, end to end.

Starts a private NSD on free loopback ports serving tests/dns/zones/* and
tests/spf/spf.test.zone (the two trees are owned elsewhere and only read
here), and greygate-policyd with every check on and dns_servers pointing at
that NSD.  For each case the same client/HELO/sender/recipient goes
  - to the daemon over a real TCP socket (the policy delegation protocol),
  - to `greygate-check --json` with the same configuration file and the
    same -o overrides,
and both must agree with the expected action, the expected reason names
and the expected score; the daemon's log line for the request must carry
action=, score= and reasons= with those names.  greygate-check runs first
(it only reads the database), so both see a new triplet.

Daemon instances (one at a time, each on its own port and database):
  A  dnsbl bl.test*6 + dead.test*3, dnswl wl.test*-5, rhsbl rhs.test*2,
     rdns, HELO and SPF checks on: tag/greylist/accept bands, the dead list,
     the 127.255.255.254 error answer, DNSWL, RHSBL, PTR, HELO and SPF cases
  B  bl.test*12, resolver given as [::1]:PORT: listed clients are rejected
     with the list's TXT text in the reply
  C  bl.test*2: a listed client lands in the greylist band
  D  unbound (tests/dns/unbound-start.sh) in front of NSD, with slow.test
     delegated to a socket that never answers: that list times out within
     dns_timeout while the others answer (fail open)
  E  the resolver itself never answers: every check times out, fail open
  F  the resolver port is closed: every check fails at once, fail open
  G  rhsbl_targets = sender and rdns_dynamic_address = no: a listed HELO
     or client name no longer scores while a listed sender domain still
     does; a PTR name with only the address's digits is not dynamic, one
     matching the built-in pattern still is
and greygate-check --lists-only, and `greygate-policyd -t` / greygate-check
refusing dns_cache_min_ttl > dns_cache_max_ttl and a bad rhsbl_targets word
with file:line.

Prints one "PASS: t_dns_checks ..." / "FAIL: t_dns_checks ... (why)" line per
check; exit status 1 if any failed, 77 if nsd (or the build) is missing.
Nothing here talks to anything but 127.0.0.1 and ::1.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # leave no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import t_policy_limits as tp  # noqa: E402  (policy protocol client, build paths)

NAME = "t_dns_checks"
tp.NAME = NAME
SRC = tp.SRC
DAEMON = tp.DAEMON
CHECK = os.path.join(tp.BUILD, "tools", "greygate-check")
DNS_DIR = os.path.join(SRC, "tests", "dns")
ZONE_FILES = sorted(os.path.join(DNS_DIR, "zones", f) for f in os.listdir(os.path.join(DNS_DIR, "zones"))
                    if f.endswith(".zone")) + [os.path.join(SRC, "tests", "spf", "spf.test.zone")]
PORT_BASE = int(os.environ.get("GG_PORT_BASE", str(20000 + (os.getpid() % 400) * 100)))
KEEP = os.environ.get("GG_KEEP", "0") == "1"
DNS_TIMEOUT = 2          # seconds, dns_timeout of every instance
MARGIN = 1.5             # seconds allowed beyond a deadline

failures = 0
npass = 0
children = []            # Popen objects we started (killed by pid at exit)
foreign_pids = []        # servers started by tests/dns scripts (not our children)


def report(ok, what, why=""):
    global failures, npass
    if ok:
        npass += 1
        print("PASS: %s %s" % (NAME, what), flush=True)
    else:
        failures += 1
        print("FAIL: %s %s (%s)" % (NAME, what, str(why).replace("\n", " | ")[:600]), flush=True)


def note(*a):
    print("# %s: %s" % (NAME, " ".join(str(x) for x in a)), file=sys.stderr, flush=True)


def which(cmd):
    return shutil.which(cmd) or (("/usr/sbin/" + cmd) if os.access("/usr/sbin/" + cmd, os.X_OK) else None)


# ------------------------------------------------------------------ ports and processes

def _used_ports():
    used = set()
    for f in ("tcp", "tcp6", "udp", "udp6"):
        try:
            with open("/proc/net/" + f) as fp:
                next(fp)
                for line in fp:
                    used.add(int(line.split()[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    return used


_handed_out = set()


def free_port(start):
    """The first port at or above start that nothing uses (TCP or UDP, v4 or v6)."""
    used = _used_ports()
    p = start
    while p in used or p in _handed_out:
        p += 1
    _handed_out.add(p)
    return p


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read().rsplit(")", 1)[1].split()[0]
        return st not in ("Z", "X")
    except (OSError, IndexError):
        return False


def stop_pid(pid, timeout=5.0):
    """SIGTERM one process by pid, SIGKILL it if it lingers."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    end = time.time() + timeout
    while alive(pid) and time.time() < end:
        time.sleep(0.05)
    if alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def stop_child(p, timeout=10.0):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in children:
        children.remove(p)
    return p.returncode


def cleanup():
    for p in list(reversed(children)):
        stop_child(p, 5)
    while foreign_pids:
        stop_pid(foreign_pids.pop())


def wait_for(pred, timeout, step=0.05):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


# ------------------------------------------------------------------ DNS servers

def start_nsd(tmp, port):
    """NSD in the foreground (our child) serving ZONE_FILES on 127.0.0.1 and ::1."""
    d = os.path.join(tmp, "nsd")
    r = subprocess.run([os.path.join(DNS_DIR, "nsd-conf.sh"), d, str(port)] + list(ZONE_FILES),
                       capture_output=True, text=True)
    if r.returncode != 0:
        report(False, "the test zones load (tests/dns/nsd-conf.sh)", r.stderr)
        return None
    conf = r.stdout.strip()
    out = open(os.path.join(d, "nsd.out"), "w")
    p = subprocess.Popen([which("nsd"), "-d", "-c", conf], stdin=subprocess.DEVNULL, stdout=out,
                         stderr=subprocess.STDOUT)
    children.append(p)
    ok = wait_for(lambda: "nsd started" in read(os.path.join(d, "nsd.log")) or p.poll() is not None, 5)
    if not ok or p.poll() is not None:
        note("nsd did not start:", read(os.path.join(d, "nsd.log"))[-800:], read(os.path.join(d, "nsd.out")))
        return None
    return p


class Silent:
    """A UDP and a TCP socket on 127.0.0.1:port that never answer (a real timeout)."""

    def __init__(self, port):
        self.u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.u.bind(("127.0.0.1", port))
        self.t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.t.bind(("127.0.0.1", port))
        self.t.listen(128)

    def close(self):
        self.u.close()
        self.t.close()


def start_unbound(tmp, port, nsd_port, silent_port):
    """tests/dns/unbound-start.sh: stub zones to NSD, slow.test to the silent socket."""
    r = subprocess.run([os.path.join(DNS_DIR, "unbound-start.sh"), os.path.join(tmp, "unbound"), str(port),
                        str(nsd_port), str(silent_port)], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        return None, r.returncode, r.stderr
    pid = int(r.stdout.strip().splitlines()[-1])
    foreign_pids.append(pid)
    return pid, 0, ""


# ------------------------------------------------------------------ greygate

BASE_CONF = """\
listen = inet:127.0.0.1:{port}
database = bdb:{db}
user =
myhostname = mx.greygate.test
greylist_delay = 60
dns_servers = 127.0.0.1:{nsd}
dns_timeout = {timeout}s
dnsbl_sites = bl.test=127.0.0.[2..11]*6, dead.test*3
dnswl_sites = wl.test*-5
rhsbl_sites = rhs.test*2
rdns_check = yes
helo_check = yes
spf_check = yes
helo_own_names = a.example.test, 203.0.113.25
"""


class Daemon:
    def __init__(self, tmp, label, nsd_port, overrides=()):
        self.label = label
        self.dir = os.path.join(tmp, "policyd-" + label)
        os.makedirs(os.path.join(self.dir, "db"), exist_ok=True)
        self.port = free_port(PORT_BASE + 10)
        self.conf = os.path.join(self.dir, "greygate.conf")
        with open(self.conf, "w") as f:
            f.write(BASE_CONF.format(port=self.port, db=os.path.join(self.dir, "db"), nsd=nsd_port,
                                     timeout=DNS_TIMEOUT))
        self.opts = []
        for o in overrides:
            self.opts += ["-o", o]
        self.log = os.path.join(self.dir, "policyd.log")
        self.proc = None

    def start(self):
        logf = open(self.log, "a")
        self.proc = subprocess.Popen([DAEMON, "-f", "-c", self.conf] + self.opts, stdin=subprocess.DEVNULL,
                                     stdout=logf, stderr=subprocess.STDOUT)
        children.append(self.proc)

        def up():
            if self.proc.poll() is not None:
                return True
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(up, 15)
        ok = self.proc.poll() is None
        report(ok, "[%s] greygate-policyd starts with every check on" % self.label,
               "exit %s: %s" % (self.proc.returncode, self.logtext()[-500:]))
        return ok

    def logtext(self):
        return read(self.log)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        was_alive = self.alive()
        rc = stop_child(self.proc, 20)
        report(was_alive and rc == 0, "[%s] the daemon survived every request and exits 0 on SIGTERM"
               % self.label, "alive=%s exit=%s; log: %s" % (was_alive, rc, self.logtext()[-600:]))
        san = [l for l in self.logtext().splitlines()
               if "AddressSanitizer" in l or "runtime error:" in l or "LeakSanitizer" in l]
        report(not san, "[%s] no sanitizer reports in the daemon's log" % self.label, " | ".join(san[:5]))


def policy_request(client, helo, sender, rcpt, client_name=None, reverse_name=None, instance="i1"):
    attrs = [("request", "smtpd_access_policy"), ("protocol_state", "RCPT"), ("protocol_name", "ESMTP"),
             ("client_address", client)]
    # Without client_name/reverse_client_name the daemon does its own PTR lookups,
    # as greygate-check does without --client-name/--reverse-client-name.
    if client_name is not None:
        attrs.append(("client_name", client_name))
    if reverse_name is not None:
        attrs.append(("reverse_client_name", reverse_name))
    attrs += [("helo_name", helo), ("sender", sender), ("recipient", rcpt), ("recipient_count", "0"),
              ("queue_id", ""), ("instance", instance), ("size", "0"), ("etrn_domain", ""), ("stress", ""),
              ("sasl_method", ""), ("sasl_username", ""), ("sasl_sender", ""), ("ccert_subject", ""),
              ("ccert_issuer", ""), ("ccert_fingerprint", ""), ("encryption_protocol", ""),
              ("encryption_cipher", ""), ("encryption_keysize", "0"), ("policy_context", ""),
              ("server_address", "127.0.0.1"), ("server_port", "25")]
    return "".join("%s=%s\n" % a for a in attrs).encode() + b"\n"


def run_check(d, args, timeout=30):
    t0 = time.time()
    p = subprocess.run([CHECK, "-c", d.conf] + d.opts + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr, time.time() - t0


REASONS_RE = re.compile(r"(.+?)\((-?(?:[0-9.]+(?:e[+-]?[0-9]+)?|inf|nan))\)(?:,|$)")


def parse_reasons(s):
    """'dnsbl:bl.test(6),rhsbl:rhs.test(sender,error)(0)' -> [(name, weight), ...]"""
    out, pos = [], 0
    if s in ("", "-"):
        return out
    while pos < len(s):
        m = REASONS_RE.match(s, pos)
        if not m:
            out.append((s[pos:], None))
            break
        out.append((m.group(1), float(m.group(2))))
        pos = m.end()
    return out


LOG_RE_TMPL = r"to=<%s> action=(\S+) reason=(\S+)(?: score=(\S+) reasons=(\S+))?"

EXIT_OF = {"accept": 0, "tag": 1, "greylist": 2, "reject": 3}


def answer_matches(action, answer, score):
    if answer is None:
        return False
    if action == "accept":
        return answer == "action=DUNNO"
    if action == "greylist":
        return answer.startswith("action=DEFER_IF_PERMIT 4.7.1 ")
    if action == "tag":
        return answer.startswith("action=PREPEND X-Spam-Score: %g (" % score) if score is not None \
            else answer.startswith("action=PREPEND X-Spam-Score: ")
    if action == "reject":
        return answer.startswith("action=REJECT 5.7.1 ")
    return False


def same(a, b):
    return a is not None and b is not None and abs(a - b) < 1e-6


def case(d, label, client, helo, sender, action, reasons, score=None, txt=None, reply_has=(),
         client_name=None, reverse_name=None, max_time=None, min_time=None, check_max_time=None):
    """
    One request through greygate-check --json and through the daemon.
    reasons: the exact reason names (any order), or a function names -> (ok, why).
    txt: {reason name: substring of its TXT/explanation text} (greygate-check's JSON).
    reply_has: substrings of the reject/tag text, in the daemon's answer and the tool's reply/header.
    """
    rcpt = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:50] + "@rcpt.example.test"
    what = "[%s] %s" % (d.label, label)

    def reasons_ok(names):
        if callable(reasons):
            return reasons(names)
        return sorted(names) == sorted(reasons), "expected reasons %s" % sorted(reasons)

    # --- greygate-check --json, same configuration, same request
    args = ["--json", "--client", client, "--helo", helo, "--sender", sender, "--rcpt", rcpt]
    if client_name is not None:
        args += ["--client-name", client_name]
    if reverse_name is not None:
        args += ["--reverse-client-name", reverse_name]
    try:
        rc, out, err, took = run_check(d, args)
        j = json.loads(out)
    except (ValueError, subprocess.TimeoutExpired) as e:
        report(False, what + ": greygate-check --json", "%s: %s" % (type(e).__name__, e))
        j = None
    if j is not None:
        names = [c["name"] for c in j["checks"]]
        ok_r, why_r = reasons_ok(names)
        problems = []
        if j["action"] != action:
            problems.append("action %s, expected %s" % (j["action"], action))
        if rc != EXIT_OF[action]:
            problems.append("exit %d, expected %d" % (rc, EXIT_OF[action]))
        if not ok_r:
            problems.append("reasons %s: %s" % (names, why_r))
        if score is not None and not same(j["score"], score):
            problems.append("score %s, expected %s" % (j["score"], score))
        for name, sub in (txt or {}).items():
            t = [c["txt"] for c in j["checks"] if c["name"] == name]
            if not t or sub not in t[0]:
                problems.append("text of %s is %r, expected it to contain %r" % (name, t, sub))
        for sub in reply_has:
            if sub not in j["reply"] + j["header"]:
                problems.append("reply/header %r lacks %r" % (j["reply"] + j["header"], sub))
        if "Sanitizer" in err or "runtime error:" in err:
            problems.append("sanitizer report on stderr")
        if check_max_time is not None and took > check_max_time:
            problems.append("took %.2fs, more than %.1fs" % (took, check_max_time))
        report(not problems, "%s: greygate-check --json says %s, score %s, reasons %s" %
               (what, action, j["score"], ",".join(names) or "-"), "; ".join(problems) + "; stderr: " + err.strip())

    # --- the daemon over a real socket
    def ask_daemon():
        try:
            c = tp.Conn(d.port, timeout=DNS_TIMEOUT * 3 + 10)
            a = c.ask(policy_request(client, helo, sender, rcpt, client_name, reverse_name))
            c.close()
            return a
        except OSError as e:
            note("connect/ask failed:", e)
            return None
    t0 = time.time()
    ans = ask_daemon()
    took = time.time() - t0
    problems = []
    if not answer_matches(action, ans, score):
        problems.append("answer %r" % ans)
    for sub in reply_has:
        if ans is None or sub not in ans:
            problems.append("answer %r lacks %r" % (ans, sub))
    if max_time is not None and took > max_time:
        problems.append("answered after %.2fs, more than %.1fs" % (took, max_time))
    if min_time is not None and took < min_time:
        problems.append("answered after %.2fs: no real timeout (expected >= %.1fs)" % (took, min_time))
    report(not problems, "%s: the daemon answers %s in %.2fs" % (what, (ans or "nothing")[:90], took),
           "; ".join(problems))

    # --- the daemon's log line
    rx = re.compile(LOG_RE_TMPL % re.escape(rcpt))
    m = None

    def seen():
        nonlocal m
        m = rx.search(d.logtext())
        return m is not None
    wait_for(seen, 3)
    problems = []
    if m is None:
        problems.append("no log line with to=<%s> action=...: %s" % (rcpt, d.logtext()[-400:]))
    else:
        lr = parse_reasons(m.group(4) or "")
        lnames = [n for n, _ in lr]
        ok_r, why_r = reasons_ok(lnames)
        if m.group(1) != action:
            problems.append("action=%s, expected %s" % (m.group(1), action))
        if m.group(3) is None:
            problems.append("no score= and reasons= in %r" % m.group(0))
        else:
            if score is not None and not same(float(m.group(3)), score):
                problems.append("score=%s, expected %s" % (m.group(3), score))
            if not ok_r:
                problems.append("reasons=%s: %s" % (m.group(4), why_r))
            if j is not None and sorted(lnames) != sorted(c["name"] for c in j["checks"]):
                problems.append("log reasons %s differ from greygate-check's %s" %
                                (sorted(lnames), sorted(c["name"] for c in j["checks"])))
    report(not problems, "%s: the log line has action=%s score= reasons=" % (what, action),
           "; ".join(problems))

    # --- the same request again: answered from the remembered outcome (or,
    # after a DNS failure, checked again), with the same action and reasons
    if min_time is None and m is not None:
        ans2 = ask_daemon()
        lines = []

        def seen2():
            nonlocal lines
            lines = list(rx.finditer(d.logtext()))
            return len(lines) >= 2
        wait_for(seen2, 3)
        problems = []
        if not answer_matches(action, ans2, score):
            problems.append("answer %r" % ans2)
        if len(lines) < 2:
            problems.append("no second log line")
        elif (lines[-1].group(1), lines[-1].group(3), sorted(n for n, _ in parse_reasons(lines[-1].group(4) or ""))) != \
                (m.group(1), m.group(3), sorted(n for n, _ in parse_reasons(m.group(4) or ""))):
            problems.append("second log line %r differs from the first %r" % (lines[-1].group(0), m.group(0)))
        report(not problems, "%s: asked again, the same action, score and reasons" % what,
               "; ".join(problems))
    return j, ans


# ------------------------------------------------------------------ the cases

def cases_main(d):
    """Instance A: base configuration."""
    log = d.logtext()
    report(re.search(r"DNS list dead\.test is DEAD", log) is not None and
           re.search(r"DNS list bl\.test passes", log) is not None,
           "[A] the start-up probe marks dead.test DEAD and bl.test healthy", log[-500:])

    # DNSBL: listed IPv4 client in the tag band: PREPEND X-Spam-Score with the reasons
    case(d, "dnsbl listed ipv4, tag band", "192.0.2.66", "mail.example.test", "a@none.spf.test", "tag",
         ["dnsbl:bl.test", "rdns:missing", "spf:none"], 8,
         txt={"dnsbl:bl.test": "Listed: see http://bl.test/192.0.2.66"},
         reply_has=("X-Spam-Score: 8 (", "dnsbl:bl.test(6)", "rdns:missing(1.5)", "spf:none(0.5)"))
    # A listing whose code is 127.0.0.4 and whose TXT comes in two strings
    case(d, "dnsbl listed with code 127.0.0.4", "192.0.2.67", "mail.example.test", "a@none.spf.test", "tag",
         ["dnsbl:bl.test", "rdns:missing", "spf:none"], 8,
         txt={"dnsbl:bl.test": "Listed (code 4): see http://bl.test/192.0.2.67"})
    # Listed IPv6 client: the nibble-reversed name under bl.test
    case(d, "dnsbl listed ipv6 (nibbles)", "2001:db8::66", "mail6.example.test", "a@ip6.spf.test", "tag",
         ["dnsbl:bl.test", "rdns:missing", "spf:pass"], 6.5,
         txt={"dnsbl:bl.test": "Listed: see http://bl.test/2001:db8::66"})
    # Unlisted client: nothing but SPF; dead.test (which lists everything) adds nothing
    j, _ = case(d, "unlisted client, dead list skipped", "198.51.100.20", "mx2.example.test",
                "a@include.spf.test", "accept", ["spf:pass"], -1)
    report(j is not None and not any("dead.test" in c["name"] for c in j["checks"]) and
           "dead.test" not in d.logtext().split("to=<unlisted")[-1].split("\n")[0],
           "[A] dead.test, which answers 127.0.0.2 for everything, adds no reason after the probe",
           j and j["checks"])
    # 127.255.255.254 (public-resolver error code) and an answer outside 127/8: list errors, weight 0
    case(d, "dnsbl error answer 127.255.255.254", "192.0.2.77", "mail.example.test", "a@pass.spf.test",
         "greylist", ["dnsbl:bl.test(list-error)", "rdns:missing", "spf:pass"], 0.5,
         txt={"dnsbl:bl.test(list-error)": "127.255.255.254"})
    case(d, "dnsbl answer outside 127/8", "192.0.2.78", "mail.example.test", "a@pass.spf.test",
         "greylist", ["dnsbl:bl.test(list-error)", "rdns:missing", "spf:pass"], 0.5,
         txt={"dnsbl:bl.test(list-error)": "192.0.2.1"})
    # DNSWL: accepted at once
    case(d, "dnswl ipv4 accepted at once", "192.0.2.10", "mail.example.test", "a@none.spf.test", "accept",
         ["dnswl:wl.test", "spf:none"], -4.5)
    case(d, "dnswl ipv6 accepted at once", "2001:db8::10", "mail6.example.test", "a@ip6.spf.test", "accept",
         ["dnswl:wl.test", "spf:pass"], -6)
    # RHSBL: sender domain, HELO name, verified client name
    case(d, "rhsbl sender domain", "198.51.100.20", "mx2.example.test", "a@spammer.example", "tag",
         ["rhsbl:rhs.test(sender)", "spf:fail"], 7,
         txt={"rhsbl:rhs.test(sender)": "spammer.example is listed"})
    case(d, "rhsbl helo name", "198.51.100.20", "badhelo.example.test", "a@include.spf.test", "greylist",
         ["rhsbl:rhs.test(helo)", "spf:pass"], 1, txt={"rhsbl:rhs.test(helo)": "badhelo.example.test is listed"})
    case(d, "rhsbl client name", "192.0.2.50", "mail.example.test", "a@pass.spf.test", "greylist",
         ["rhsbl:rhs.test(client)", "spf:pass"], 1, txt={"rhsbl:rhs.test(client)": "mx.spammer.example"})
    # Reverse DNS
    case(d, "ptr confirmed", "192.0.2.25", "mx2.example.test", "a@none.spf.test", "greylist",
         ["spf:none"], 0.5)
    case(d, "ptr unconfirmed", "192.0.2.11", "mail.example.test", "a@none.spf.test", "greylist",
         ["rdns:unconfirmed", "spf:none"], 1.5,
         txt={"rdns:unconfirmed": "unconfirmed.example.test resolves to 198.51.100.11"})
    case(d, "ptr missing", "192.0.2.12", "mail.example.test", "a@none.spf.test", "greylist",
         ["rdns:missing", "spf:none"], 2, txt={"rdns:missing": "no PTR record for 192.0.2.12"})
    case(d, "ptr dangling", "192.0.2.13", "mail.example.test", "a@none.spf.test", "greylist",
         ["rdns:unconfirmed", "spf:none"], 1.5, txt={"rdns:unconfirmed": "dangling"})
    case(d, "two ptrs, the second confirms", "192.0.2.14", "mail.example.test", "a@none.spf.test",
         "greylist", ["spf:none"], 0.5)
    case(d, "ptr to a name without address", "192.0.2.16", "mail.example.test", "a@none.spf.test",
         "greylist", ["rdns:unconfirmed", "spf:none"], 1.5, txt={"rdns:unconfirmed": "noaddr.example.test"})
    case(d, "ptr dynamic (address digits)", "192.0.2.45", "mail.example.test", "a@none.spf.test",
         "greylist", ["rdns:dynamic", "spf:none"], 1.5,
         txt={"rdns:dynamic": "192-0-2-45.dyn.isp.example contains the client address"})
    case(d, "ptr dynamic (generic words)", "192.0.2.47", "mail.example.test", "a@none.spf.test",
         "greylist", ["rdns:dynamic", "spf:none"], 1.5, txt={"rdns:dynamic": "pool-47.dsl.isp.example"})
    case(d, "ptr dynamic (address digits only)", "192.0.2.48", "mail.example.test", "a@none.spf.test",
         "greylist", ["rdns:dynamic", "spf:none"], 1.5,
         txt={"rdns:dynamic": "192-0-2-48.isp.example contains the client address"})
    case(d, "ptr ipv6 unconfirmed", "2001:db8::11", "mail6.example.test", "a@none.spf.test", "greylist",
         ["rdns:unconfirmed", "spf:none"], 1.5)
    case(d, "ptr ipv6 dynamic", "2001:db8::45", "mail6.example.test", "a@none.spf.test", "greylist",
         ["rdns:dynamic", "spf:none"], 1.5)
    # Postfix's real names are used instead of asking DNS; its "unknown" (no PTR,
    # a failed lookup, or lookups switched off) makes greygate ask for itself.
    case(d, "postfix says unknown (we ask DNS: confirmed)", "192.0.2.10", "mail.example.test",
         "a@pass.spf.test", "accept", ["dnswl:wl.test", "spf:pass"], -6,
         client_name="unknown", reverse_name="unknown")
    case(d, "postfix verified name (no dns asked)", "192.0.2.12", "mail.example.test", "a@pass.spf.test",
         "accept", ["spf:pass"], -1, client_name="mail.example.test", reverse_name="mail.example.test")
    case(d, "postfix reverse name only, unverified", "192.0.2.12", "mail.example.test", "a@none.spf.test",
         "greylist", ["rdns:unconfirmed", "spf:none"], 1.5,
         client_name="unknown", reverse_name="mail.example.test")
    # HELO
    case(d, "helo literal of another address", "198.51.100.20", "[192.0.2.99]", "a@include.spf.test",
         "greylist", ["helo:ip-mismatch", "spf:pass"], 1)
    case(d, "helo literal of the client", "198.51.100.20", "[198.51.100.20]", "a@include.spf.test",
         "accept", ["spf:pass"], -1)
    case(d, "helo ipv6 literal of the client", "2001:db8::10", "[IPv6:2001:db8::10]", "a@ip6.spf.test",
         "accept", ["dnswl:wl.test", "spf:pass"], -6)
    case(d, "helo not a fqdn", "198.51.100.20", "localhost", "a@include.spf.test", "greylist",
         ["helo:not-fqdn", "spf:pass"], 0)
    case(d, "helo does not resolve", "198.51.100.20", "nonexistent.example.test", "a@include.spf.test",
         "accept", ["helo:unresolvable", "spf:pass"], -0.5)
    case(d, "helo claims our name", "198.51.100.20", "a.example.test", "a@include.spf.test", "greylist",
         ["helo:ours", "spf:pass"], 2)
    case(d, "helo claims our address", "198.51.100.20", "[203.0.113.25]", "a@include.spf.test", "greylist",
         ["helo:ours", "helo:ip-mismatch", "spf:pass"], 4)
    # SPF (tests/spf/spf.test.zone)
    case(d, "spf pass", "192.0.2.25", "mx1.example.test", "a@pass.spf.test", "accept", ["spf:pass"], -1)
    case(d, "spf fail", "198.51.100.20", "mx2.example.test", "a@fail.spf.test", "tag", ["spf:fail"], 5,
         txt={"spf:fail": "198.51.100.20 may not send mail for fail.spf.test"})
    case(d, "spf softfail", "198.51.100.20", "mx2.example.test", "a@softfail.spf.test", "greylist",
         ["spf:softfail"], 1.5)
    case(d, "spf neutral", "198.51.100.20", "mx2.example.test", "a@neutral.spf.test", "greylist",
         ["spf:neutral"], 0)
    case(d, "spf none (no txt)", "198.51.100.20", "mx2.example.test", "a@none.spf.test", "greylist",
         ["spf:none"], 0.5)
    case(d, "spf none (txt but no spf)", "198.51.100.20", "mx2.example.test", "a@txtonly.spf.test",
         "greylist", ["spf:none"], 0.5)
    case(d, "spf include pass", "198.51.100.20", "mx2.example.test", "a@include.spf.test", "accept",
         ["spf:pass"], -1)
    case(d, "spf include fail", "192.0.2.25", "mx1.example.test", "a@include.spf.test", "tag",
         ["spf:fail"], 5)
    case(d, "spf redirect pass", "198.51.100.20", "mx2.example.test", "a@redirect.spf.test", "accept",
         ["spf:pass"], -1)
    case(d, "spf redirect fail", "192.0.2.25", "mx1.example.test", "a@redirect.spf.test", "tag",
         ["spf:fail"], 5)
    case(d, "spf permerror (two records)", "192.0.2.25", "mx1.example.test", "a@twospf.spf.test",
         "greylist", ["spf:permerror"], 1)
    case(d, "spf permerror (unknown mechanism)", "192.0.2.25", "mx1.example.test", "a@syntax.spf.test",
         "greylist", ["spf:permerror"], 1)
    case(d, "spf temperror", "192.0.2.25", "mx1.example.test", "a@temperror.spf.test", "greylist",
         ["spf:temperror"], 0)
    case(d, "spf of the helo for the null sender", "192.0.2.25", "mx.helo.spf.test", "", "accept",
         ["spf:pass", "helo:unresolvable"], -0.5)
    j, _ = case(d, "spf pass keys the triplet by domain", "198.51.100.20", "mx2.example.test",
                "a@split.spf.test", "accept", ["spf:pass"], -1)
    report(j is not None and j["spf_domain"] == "split.spf.test" and
           j["received_spf"].startswith("pass "),
           "[A] greygate-check reports the SPF domain and a Received-SPF value",
           j and (j["spf_domain"], j["received_spf"]))


def cases_targets_and_digits(d):
    """Instance G: rhsbl_targets = sender, rdns_dynamic_address = no."""
    # The same requests as instance A's RHSBL cases: only the sender role is asked.
    case(d, "rhsbl_targets = sender: a listed sender domain still scores", "198.51.100.20",
         "mx2.example.test", "a@spammer.example", "tag", ["rhsbl:rhs.test(sender)", "spf:fail"], 7,
         txt={"rhsbl:rhs.test(sender)": "spammer.example is listed"})
    case(d, "rhsbl_targets = sender: a listed helo name no longer scores", "198.51.100.20",
         "badhelo.example.test", "a@include.spf.test", "accept", ["spf:pass"], -1)
    case(d, "rhsbl_targets = sender: a listed client name no longer scores", "192.0.2.50",
         "mail.example.test", "a@pass.spf.test", "accept", ["spf:pass"], -1)
    # rdns_dynamic_address = no: the address's digits alone no longer make a name dynamic ...
    case(d, "rdns_dynamic_address = no: a name with only the address's digits is not dynamic",
         "192.0.2.48", "mail.example.test", "a@none.spf.test", "greylist", ["spf:none"], 0.5)
    # ... but the patterns still apply, to a name with the digits too.
    case(d, "rdns_dynamic_address = no: the built-in pattern still matches 192-0-2-45.dyn",
         "192.0.2.45", "mail.example.test", "a@none.spf.test", "greylist", ["rdns:dynamic", "spf:none"],
         1.5, txt={"rdns:dynamic": "192-0-2-45.dyn.isp.example matches /"})
    case(d, "rdns_dynamic_address = no: generic words still count", "192.0.2.47", "mail.example.test",
         "a@none.spf.test", "greylist", ["rdns:dynamic", "spf:none"], 1.5,
         txt={"rdns:dynamic": "pool-47.dsl.isp.example matches /"})


def cases_config_check(tmp, nsd_port):
    """`greygate-policyd -t` and greygate-check refuse bad cache TTLs and RHSBL targets with file:line."""
    d = os.path.join(tmp, "config-check")
    os.makedirs(os.path.join(d, "db"), exist_ok=True)
    base = BASE_CONF.format(port=free_port(PORT_BASE + 20), db=os.path.join(d, "db"), nsd=nsd_port,
                            timeout=DNS_TIMEOUT)
    nbase = base.count("\n")
    conf = os.path.join(d, "greygate.conf")
    cases = [
        ("dns_cache_min_ttl = 2h\ndns_cache_max_ttl = 1h\n",
         ":%d: dns_cache_min_ttl (7200s) must not be longer than dns_cache_max_ttl (3600s)" % (nbase + 1),
         "dns_cache_min_ttl > dns_cache_max_ttl"),
        ("log_verbose = no\ndns_cache_max_ttl = 30s\n",
         ":%d: dns_cache_min_ttl (60s) must not be longer than dns_cache_max_ttl (30s)" % (nbase + 2),
         "dns_cache_max_ttl below the default dns_cache_min_ttl"),
        ("rhsbl_targets = sender, foo\n",
         ":%d: rhsbl_targets: 'foo': expected sender, helo or client" % (nbase + 1),
         "an unknown rhsbl_targets word"),
    ]
    for extra, expect, what in cases:
        with open(conf, "w") as f:
            f.write(base + extra)
        p = subprocess.run([DAEMON, "-t", "-c", conf], capture_output=True, text=True, timeout=30)
        report(p.returncode != 0 and (conf + expect) in p.stderr,
               "greygate-policyd -t refuses %s with file:line" % what,
               "exit %d, stderr %r, expected %r" % (p.returncode, p.stderr.strip(), conf + expect))
        p = subprocess.run([CHECK, "-c", conf, "--client", "192.0.2.25"], capture_output=True, text=True,
                           timeout=30)
        report(p.returncode != 0 and (conf + expect) in p.stderr,
               "greygate-check refuses %s with file:line" % what,
               "exit %d, stderr %r" % (p.returncode, p.stderr.strip()))
    # An -o override that breaks the cross-check is named as "-o".
    with open(conf, "w") as f:
        f.write(base)
    p = subprocess.run([DAEMON, "-t", "-c", conf, "-o", "dns_cache_max_ttl=10"], capture_output=True,
                       text=True, timeout=30)
    report(p.returncode != 0 and "-o: dns_cache_min_ttl (60s) must not be longer than dns_cache_max_ttl (10s)"
           in p.stderr, "greygate-policyd -t names -o for a bad dns_cache_max_ttl override",
           "exit %d, stderr %r" % (p.returncode, p.stderr.strip()))
    # The new settings, valid, pass -t and show up in -n.
    with open(conf, "w") as f:
        f.write(base + "dns_cache_min_ttl = 0\ndns_cache_max_ttl = 1d\nrhsbl_targets = client helo\n"
                "rdns_dynamic_address = no\n")
    p = subprocess.run([DAEMON, "-t", "-c", conf], capture_output=True, text=True, timeout=30)
    report(p.returncode == 0, "greygate-policyd -t accepts valid DNS cache TTLs and RHSBL targets",
           "exit %d, stderr %r" % (p.returncode, p.stderr.strip()))
    p = subprocess.run([DAEMON, "-n", "-c", conf], capture_output=True, text=True, timeout=30)
    want = ["dns_cache_min_ttl = 0s", "dns_cache_max_ttl = 86400s", "rhsbl_targets = helo, client",
            "rdns_dynamic_address = no"]
    report(p.returncode == 0 and all(w in p.stdout.splitlines() for w in want),
           "greygate-policyd -n prints the new settings", "exit %d: %s" % (p.returncode, p.stdout[-400:]))


def cases_lists_only(d):
    """greygate-check --lists-only against instance A's configuration."""
    rc, out, err, _ = run_check(d, ["--client", "192.0.2.66", "--lists-only"])
    report(rc == 1 and "Listed: see http://bl.test/192.0.2.66" in out and
           re.search(r"^dnsbl\s+bl\.test\s+listed", out, re.M) is not None,
           "--lists-only: a listed client exits 1 and shows the TXT", "exit %d: %s %s" % (rc, out, err))
    rc, out, err, _ = run_check(d, ["--client", "2001:db8::66", "--lists-only", "--json"])
    try:
        j = json.loads(out)
        bl = [x for x in j["lists"] if x["list"] == "bl.test"][0]
        ok = rc == 1 and j["listed"] is True and bl["result"] == "listed" and \
            bl["txt"] == "Listed: see http://bl.test/2001:db8::66"
    except (ValueError, IndexError, KeyError):
        ok = False
    report(ok, "--lists-only --json: a listed IPv6 client exits 1 with the TXT", "exit %d: %s %s" % (rc, out, err))
    nodead = ["-o", "dnsbl_sites=bl.test=127.0.0.[2..11]*6"]
    rc, out, err, _ = run_check(d, nodead + ["--client", "198.51.100.20", "--lists-only", "--json"])
    try:
        j = json.loads(out)
        ok = rc == 0 and j["listed"] is False and all(x["result"] == "not-listed" for x in j["lists"])
    except (ValueError, KeyError):
        ok = False
    report(ok, "--lists-only: an unlisted client exits 0", "exit %d: %s %s" % (rc, out, err))
    rc, out, err, _ = run_check(d, nodead + ["--client", "192.0.2.77", "--lists-only", "--json"])
    try:
        j = json.loads(out)
        bl = [x for x in j["lists"] if x["list"] == "bl.test"][0]
        ok = rc == 0 and j["listed"] is False and bl["result"] != "listed" and "127.255.255.254" in bl["answer"]
    except (ValueError, IndexError, KeyError):
        ok = False
    report(ok, "--lists-only: the 127.255.255.254 error answer is not a listing (exit 0)",
           "exit %d: %s %s" % (rc, out, err))
    # The daemon and the full greygate-check skip dead.test after its probe;
    # --lists-only must not call every address listed because of it.
    rc, out, err, _ = run_check(d, ["--client", "198.51.100.20", "--lists-only", "--json"])
    try:
        j = json.loads(out)
        dead = [x for x in j["lists"] if x["list"] == "dead.test"]
        ok = rc == 0 and j["listed"] is False and (not dead or dead[0]["result"] != "listed")
    except (ValueError, KeyError):
        ok = False
    report(ok, "--lists-only: a DEAD list (dead.test lists everything) does not make an unlisted client "
           "listed (exit 0)", "exit %d: %s %s" % (rc, out.strip(), err.strip()))


def main():
    if not which("nsd"):
        print("SKIP: %s nsd is not installed (Debian package nsd)" % NAME)
        return 77
    for b in (DAEMON, CHECK):
        if not os.access(b, os.X_OK):
            print("SKIP: %s %s is not built" % (NAME, b))
            return 77
    t_start = time.time()
    tmp = tempfile.mkdtemp(prefix="gg-dnschecks.")
    os.chmod(tmp, 0o755)
    silent = None
    try:
        nsd_port = free_port(PORT_BASE + 60)
        nsd = start_nsd(tmp, nsd_port)
        report(nsd is not None, "NSD serves tests/dns/zones and spf.test on 127.0.0.1:%d" % nsd_port,
               "see stderr")
        if nsd is None:
            return 1

        # A: the base configuration
        d = Daemon(tmp, "A", nsd_port)
        if d.start():
            wait_for(lambda: "DNS list dead.test is DEAD" in d.logtext(), 10)
            cases_main(d)
            cases_lists_only(d)
        d.stop()

        # B: listed clients over the reject threshold; the resolver given as [::1]:PORT
        d = Daemon(tmp, "B", nsd_port, ["dns_servers=[::1]:%d" % nsd_port,
                                        "dnsbl_sites=bl.test=127.0.0.[2..11]*12, dead.test*3"])
        if d.start():
            wait_for(lambda: "DNS list dead.test is DEAD" in d.logtext(), 10)
            case(d, "dnsbl listed ipv4 rejected with the TXT", "192.0.2.66", "mail.example.test",
                 "a@none.spf.test", "reject", ["dnsbl:bl.test", "rdns:missing", "spf:none"], 14,
                 reply_has=("Rejected by greygate (score 14)",
                            'dnsbl:bl.test "Listed: see http://bl.test/192.0.2.66"'))
            case(d, "dnsbl listed ipv6 rejected with the TXT", "2001:db8::66", "mail6.example.test",
                 "a@ip6.spf.test", "reject", ["dnsbl:bl.test", "rdns:missing", "spf:pass"], 12.5,
                 reply_has=('dnsbl:bl.test "Listed: see http://bl.test/2001:db8::66"',))
        d.stop()

        # C: a listed client in the greylist band
        d = Daemon(tmp, "C", nsd_port, ["dnsbl_sites=bl.test=127.0.0.[2..11]*2"])
        if d.start():
            case(d, "dnsbl listed, greylist band", "192.0.2.66", "mail.example.test", "a@none.spf.test",
                 "greylist", ["dnsbl:bl.test", "rdns:missing", "spf:none"], 4)
        d.stop()

        # G: RHSBL of the sender domain only; the address's digits do not make a name dynamic
        d = Daemon(tmp, "G", nsd_port, ["rhsbl_targets=sender", "rdns_dynamic_address=no"])
        if d.start():
            wait_for(lambda: "DNS list dead.test is DEAD" in d.logtext(), 10)
            cases_targets_and_digits(d)
        d.stop()

        # Configuration checks of the DNS settings (no daemon runs)
        cases_config_check(tmp, nsd_port)

        # D: one zone (slow.test) whose server never answers, behind unbound
        silent_port = free_port(PORT_BASE + 61)
        silent = Silent(silent_port)
        if which("unbound"):
            ub_port = free_port(PORT_BASE + 62)
            pid, rc, err = start_unbound(tmp, ub_port, nsd_port, silent_port)
            report(pid is not None, "unbound (tests/dns/unbound-start.sh) serves the zones and a silent "
                   "slow.test", "exit %s: %s" % (rc, err))
            if pid is not None:
                d = Daemon(tmp, "D", nsd_port, ["dns_servers=127.0.0.1:%d" % ub_port,
                                                "dnsbl_sites=bl.test=127.0.0.[2..11]*6, slow.test*3"])
                if d.start():
                    wait_for(lambda: "DNS list bl.test passes" in d.logtext(), DNS_TIMEOUT + 5)

                    def slow_timeout(names):
                        want = ["dnsbl:slow.test(timeout)", "spf:pass"]
                        return sorted(names) == sorted(want), "expected %s" % want
                    case(d, "a list that never answers: timeout, fail open", "192.0.2.25", "mx1.example.test",
                         "a@spf-pass.example.test", "accept", slow_timeout, -1,
                         max_time=DNS_TIMEOUT + MARGIN, min_time=DNS_TIMEOUT - 0.3,
                         check_max_time=2 * DNS_TIMEOUT + MARGIN)

                    def slow_and_listed(names):
                        want = ["dnsbl:bl.test", "dnsbl:slow.test(timeout)", "rdns:missing", "spf:pass"]
                        return sorted(names) == sorted(want), "expected %s" % want
                    case(d, "the lists that answer still count when one times out", "192.0.2.66",
                         "mx1.example.test", "a@spf-pass.example.test", "tag", slow_and_listed, 6.5,
                         max_time=DNS_TIMEOUT + MARGIN, check_max_time=2 * DNS_TIMEOUT + MARGIN)
                d.stop()
        else:
            note("unbound is not installed: the one-silent-zone case is not run")

        # E: the resolver never answers at all
        d = Daemon(tmp, "E", nsd_port, ["dns_servers=127.0.0.1:%d" % silent_port])
        if d.start():
            def all_timeouts(names):
                ok = any("timeout" in n for n in names) and \
                    all("timeout" in n or n == "spf:temperror" for n in names)
                return ok, "expected only timeout reasons and spf:temperror"
            case(d, "silent resolver: every check times out, fail open", "192.0.2.66", "mx1.example.test",
                 "a@pass.spf.test", "greylist", all_timeouts, 0,
                 max_time=DNS_TIMEOUT + MARGIN, min_time=DNS_TIMEOUT - 0.3,
                 check_max_time=2 * DNS_TIMEOUT + MARGIN)
        d.stop()

        # F: nothing listens on the resolver port
        closed = free_port(PORT_BASE + 63)
        d = Daemon(tmp, "F", nsd_port, ["dns_servers=127.0.0.1:%d" % closed])
        if d.start():
            def all_errors(names):
                ok = any("error" in n for n in names) and \
                    all("(error" in n or ",error)" in n or n == "spf:temperror" for n in names)
                return ok, "expected only (error) reasons and spf:temperror"
            case(d, "closed resolver port: fail open at once", "192.0.2.66", "mx1.example.test",
                 "a@pass.spf.test", "greylist", all_errors, 0, max_time=1.0, check_max_time=2.0)
        d.stop()
    finally:
        if silent is not None:
            silent.close()
        cleanup()
        if KEEP:
            note("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.time() - t_start
    report(elapsed < 120, "the whole test ran in %.1fs (< 120 s)" % elapsed, "%.1fs" % elapsed)
    return 1 if failures else 0


def _on_signal(sig, frame):
    raise SystemExit(128 + sig)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    try:
        rc = main()
    finally:
        cleanup()
    sys.exit(rc)
