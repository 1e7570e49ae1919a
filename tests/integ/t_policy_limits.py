#!/usr/bin/env python3
"""t_policy_limits.py - greygate-policyd against bad input, limits and faults.

Talks the policy delegation protocol over real sockets to a real
greygate-policyd (the build in $GG_BUILD) and checks that every kind of bad
input is logged and answered DUNNO where it can still be framed, or its
connection closed, while every other connection keeps being served; that
each documented limit is enforced when exceeded; that SIGHUP with a broken
file keeps the running configuration; and that a database that cannot be
written makes the daemon fail open instead of crashing.

Prints one "PASS: ..." or "FAIL: ..." line per check; exit status 1 if any
check failed.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("GG_SRC", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("GG_BUILD", os.path.join(SRC, "build"))
DAEMON = os.path.join(BUILD, "policyd", "greygate-policyd")
NAME = "t_policy_limits"
PORT = int(os.environ.get("GG_PORT_BASE", str(20000 + os.getpid() % 30000))) + 7
failures = 0


def report(ok, what, why=""):
    global failures
    if ok:
        print("PASS: %s %s" % (NAME, what), flush=True)
    else:
        failures += 1
        print("FAIL: %s %s (%s)" % (NAME, what, why), flush=True)


def request(client="192.0.2.10", sender="alice@sender.example", rcpt="bob@rcpt.example",
            state="RCPT", extra=None, instance="i1"):
    attrs = [("request", "smtpd_access_policy"), ("protocol_state", state),
             ("protocol_name", "ESMTP"), ("client_address", client),
             ("client_name", "unknown"), ("reverse_client_name", "unknown"),
             ("helo_name", "helo.example"), ("sender", sender), ("recipient", rcpt),
             ("recipient_count", "0"), ("queue_id", ""), ("instance", instance),
             ("size", "0"), ("etrn_domain", ""), ("stress", ""), ("sasl_method", ""),
             ("sasl_username", ""), ("sasl_sender", ""), ("ccert_subject", ""),
             ("ccert_issuer", ""), ("ccert_fingerprint", ""), ("encryption_protocol", ""),
             ("encryption_cipher", ""), ("encryption_keysize", "0"), ("policy_context", ""),
             ("server_address", "127.0.0.1"), ("server_port", "25")]
    if extra:
        attrs += extra
    if client is None:
        attrs = [a for a in attrs if a[0] != "client_address"]
    return "".join("%s=%s\n" % a for a in attrs).encode() + b"\n"


class Conn:
    def __init__(self, port=None, timeout=5):
        self.s = socket.create_connection(("127.0.0.1", port or PORT), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def answer(self):
        """Read one reply (up to the empty line); None if the server closed."""
        while b"\n\n" not in self.buf:
            try:
                chunk = self.s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                return None
            if not chunk:
                return None
            self.buf += chunk
        reply, self.buf = self.buf.split(b"\n\n", 1)
        return reply.decode(errors="replace")

    def ask(self, data):
        self.send(data)
        return self.answer()

    def closed(self, wait=3.0):
        self.s.settimeout(wait)
        try:
            return self.s.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


class Daemon:
    def __init__(self, tmp, conf_text, *opts):
        self.tmp = tmp
        self.conf = os.path.join(tmp, "greygate.conf")
        with open(self.conf, "w") as f:
            f.write(conf_text)
        self.log = os.path.join(tmp, "policyd.log")
        self.opts = list(opts)
        self.proc = None

    def start(self):
        logf = open(self.log, "a")
        self.proc = subprocess.Popen([DAEMON, "-f", "-c", self.conf] + self.opts,
                                     stdout=logf, stderr=subprocess.STDOUT)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
                return True
            except OSError:
                if self.proc.poll() is not None:
                    return False
                time.sleep(0.05)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def logtext(self):
        with open(self.log, errors="replace") as f:
            return f.read()


def base_conf(tmp, extra=""):
    return ("listen = inet:127.0.0.1:%d\ndatabase = bdb:%s/db\nuser =\ngreylist_delay = 2\n%s"
            % (PORT, tmp, extra))


def is_defer(r):
    return r is not None and r.startswith("action=DEFER_IF_PERMIT 4.7.1")


def is_dunno(r):
    return r == "action=DUNNO"


def test_bad_input(tmp):
    d = Daemon(tmp, base_conf(tmp), "-o", "policy_max_line_length=2048",
               "-o", "policy_max_attributes=100", "-o", "policy_max_request_size=32768")
    report(d.start(), "daemon starts", d.logtext()[-500:] if d.proc else "")
    watcher = Conn()
    c = Conn()
    r = c.ask(request())
    report(is_defer(r), "a new triplet is deferred with 4.7.1", r)

    r = c.ask(b"request=smtpd_access_policy\nthis line has no equals sign\nprotocol_state=RCPT\n\n")
    report(is_dunno(r), "a line without '=' is answered DUNNO", r)
    r = c.ask(request(client="192.0.2.11"))
    report(is_defer(r), "the same connection keeps working after a malformed request", r)

    r = c.ask(b"=value\n\n")
    report(is_dunno(r), "an empty attribute name is answered DUNNO", r)

    r = c.ask(request(client=None))
    report(is_dunno(r), "a request without client_address is answered DUNNO", r)
    r = c.ask(request(client="999.1.2.3"))
    report(is_dunno(r), "an invalid client_address is answered DUNNO", r)
    r = c.ask(b"request=smtpd_access_policy\nprotocol_state=RCPT\n\n")
    report(is_dunno(r), "a request with only two attributes is answered DUNNO", r)

    r = c.ask(request(state="DATA"))
    report(is_dunno(r), "a DATA-stage request is answered DUNNO", r)
    r = c.ask(request(extra=[("some_future_attribute", "x" * 100), ("x_y_z", "")],
                      client="192.0.2.12"))
    report(is_defer(r), "unknown attributes are ignored", r)

    r = c.ask(b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.13\n"
              b"sender=a\x00b@example\nrecipient=c@example\n\n")
    report(is_dunno(r), "a NUL byte inside a line is answered DUNNO", r)

    garbage = bytes((i * 37 + 11) % 256 for i in range(5000)).replace(b"\n", b"")
    r = c.ask(garbage + b"\n" + garbage[:100] + b"\n\n")
    report(is_dunno(r) or r is None, "binary garbage is answered DUNNO or its connection closed", r)

    c2 = Conn()
    r = c2.ask(b"request=smtpd_access_policy\nhelo_name=" + b"A" * (1024 * 1024) + b"\n" +
               request(client="192.0.2.14")[len(b"request=smtpd_access_policy\n"):])
    report(is_dunno(r), "a 1 MB line is answered DUNNO", r)
    r = c2.ask(request(client="192.0.2.15"))
    report(is_defer(r), "the connection that sent a 1 MB line is served afterwards", r)

    many = b"".join(b"x_attr%d=v\n" % i for i in range(10000))
    r = c2.ask(b"request=smtpd_access_policy\n" + many + b"\n")
    report(is_dunno(r), "10,000 attributes exceed policy_max_attributes and are answered DUNNO", r)

    r = c2.ask(request(client="192.0.2.16", extra=[("x_attr%d" % i, "v" * 500) for i in range(80)]))
    report(is_dunno(r), "a request over policy_max_request_size is answered DUNNO", r)

    r = c2.ask(request(client="192.0.2.17", extra=[("x", "v" * 2100)]))
    report(is_dunno(r), "a line just over policy_max_line_length is answered DUNNO", r)
    r = c2.ask(request(client="192.0.2.17", extra=[("x", "v" * 2000)]))
    report(is_defer(r), "a line just under policy_max_line_length is accepted", r)

    r = c2.ask(request(client="192.0.2.18").replace(b"\n", b"\r\n").replace(b"\r\n\r\n", b"\r\n\n"))
    report(is_defer(r), "CRLF line ends are tolerated", r)

    two = request(client="192.0.2.19") + request(client="192.0.2.20")
    c2.send(two)
    r1, r2 = c2.answer(), c2.answer()
    report(is_defer(r1) and is_defer(r2), "two pipelined requests get two answers", "%r %r" % (r1, r2))

    c3 = Conn()
    c3.send(request()[:60])
    c3.close()
    time.sleep(0.2)
    report("disconnected in the middle of a request" in d.logtext(),
           "a client disconnecting mid-request is logged", d.logtext()[-300:])

    r = watcher.ask(request(client="192.0.2.21"))
    report(is_defer(r), "an untouched connection is served throughout", r)
    report(d.alive(), "the daemon survived all bad input")
    log = d.logtext()
    report("answering DUNNO" in log and "policy_max_attributes" in log,
           "refused requests are logged with the reason", log[-400:])
    for x in (c, c2, watcher):
        x.close()
    d.stop()
    report(d.proc.returncode == 0, "SIGTERM stops the daemon with status 0", str(d.proc.returncode))


def test_connections(tmp):
    d = Daemon(tmp, base_conf(tmp), "-o", "policy_max_connections=2100",
               "-o", "policy_idle_timeout=600")
    report(d.start(), "daemon starts with policy_max_connections=2100")
    idle = []
    try:
        for _ in range(2000):
            idle.append(socket.create_connection(("127.0.0.1", PORT), timeout=5))
        ok = True
    except OSError as e:
        ok = False
        err = str(e)
    report(ok, "2,000 idle connections are accepted", "" if ok else err)
    c = Conn()
    r = c.ask(request(client="198.51.100.1"))
    report(is_defer(r), "a new connection is served while 2,000 are idle", r)
    r = Conn(timeout=5)
    x = r.ask(request(client="198.51.100.2"))
    report(is_defer(x), "and another one", x)
    for s in idle:
        s.close()
    c.close()
    r.close()
    d.stop()

    d = Daemon(tmp, base_conf(tmp), "-o", "policy_max_connections=10")
    d.start()
    conns = [Conn() for _ in range(10)]
    extra = Conn()
    report(extra.closed(), "the connection over policy_max_connections is closed at once")
    r = conns[0].ask(request(client="198.51.100.3"))
    report(is_defer(r), "connections within the limit are still served", r)
    report("policy_max_connections" in d.logtext(), "the refusal is logged")
    for x in conns:
        x.close()
    time.sleep(0.3)
    c = Conn()
    r = c.ask(request(client="198.51.100.4"))
    report(is_defer(r), "after others close, new connections are served again", r)
    c.close()
    d.stop()

    d = Daemon(tmp, base_conf(tmp), "-o", "policy_idle_timeout=1", "-o", "policy_request_timeout=1")
    d.start()
    c = Conn()
    c.ask(request(client="198.51.100.5"))
    t0 = time.time()
    closed = c.closed(wait=4)
    report(closed and time.time() - t0 < 3.5, "an idle connection is closed after policy_idle_timeout")
    c = Conn()
    c.send(b"request=smtpd_access_policy\nprotocol_state=RCPT\n")
    closed = c.closed(wait=4)
    report(closed and "policy_request_timeout" in d.logtext(),
           "an unfinished request is closed after policy_request_timeout")
    d.stop()


def test_reload(tmp):
    conf = base_conf(tmp, "whitelist_clients = 203.0.113.0/24\n")
    d = Daemon(tmp, conf)
    d.start()
    c = Conn()
    report(is_dunno(c.ask(request(client="203.0.113.9"))), "a whitelisted client passes at once")
    r = c.ask(request(client="198.18.0.9"))
    report(is_defer(r), "a client not on the whitelist is greylisted", r)
    with open(d.conf, "a") as f:
        f.write("greylist_delay = 5x\n")
    d.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    report("reload refused" in d.logtext() and "greylist_delay: '5x' is not a duration" in d.logtext(),
           "SIGHUP with a bad file is refused with file:line and the reason", d.logtext()[-300:])
    report(is_dunno(c.ask(request(client="203.0.113.9"))),
           "the old configuration keeps working on the same connection")
    with open(d.conf, "w") as f:
        f.write(base_conf(tmp, "whitelist_clients = 198.18.0.0/24\n"))
    d.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    report(is_dunno(c.ask(request(client="198.18.0.9"))),
           "SIGHUP with a good file applies the new whitelist without dropping the connection")
    r = c.ask(request(client="203.0.113.9", rcpt="new@rcpt.example"))
    report(is_defer(r), "and the old whitelist entry is gone", r)
    c.close()
    d.stop()


def test_config_check(tmp):
    bad = os.path.join(tmp, "bad.conf")
    cases = [
        ("greylist_delay = 5x\n", ":1: greylist_delay: '5x' is not a duration"),
        ("# comment\n\nlisten = inet:127.0.0.1:1\nno_such_setting = 1\n", ":4: unknown setting 'no_such_setting'"),
        ("greylist_delay\n", ":1: missing '='"),
        ("greylist_header = maybe\n", ":1: greylist_header: 'maybe' is not yes or no"),
        ("whitelist_clients = 192.0.2.0/24,\n  300.1.1.1\n", ":1: '300.1.1.1' is not"),
        ("greylist_ipv4_prefix = 33\n", ":1: greylist_ipv4_prefix: '33' is out of range"),
        ("user =\ndatabase = redis:localhost\n", ":2: database = redis:localhost: not a Redis address"),
        ("user =\ndatabase = bdb:var/db\n", ":2: database = bdb:var/db: the directory must be an absolute path"),
        ("user =\ndatabase = mysql:x\n", ":2: database = mysql:x: unknown backend"),
    ]
    for text, expect in cases:
        with open(bad, "w") as f:
            f.write(text)
        p = subprocess.run([DAEMON, "-t", "-c", bad], capture_output=True, text=True)
        report(p.returncode != 0 and (bad + expect) in p.stderr,
               "-t refuses %r with file:line" % text.strip().splitlines()[-1], p.stderr.strip())
    with open(bad, "w") as f:
        f.write(base_conf(tmp))
    p = subprocess.run([DAEMON, "-t", "-c", bad], capture_output=True, text=True)
    report(p.returncode == 0, "-t accepts a good file", p.stderr)
    p = subprocess.run([DAEMON, "-n", "-c", bad, "-o", "greylist_delay=7m"], capture_output=True, text=True)
    report(p.returncode == 0 and "greylist_delay = 420s" in p.stdout, "-n shows -o overrides", p.stdout[:200])


def test_sockets_and_privileges(tmp):
    """unix: and IPv6 listeners, dropping root to user=, expiry walks."""
    import pwd
    nobody = pwd.getpwnam("nobody").pw_uid
    sock = os.path.join(tmp, "policyd.sock")
    # The pid file's directory belongs to the daemon user, so it can remove it at exit.
    rundir = os.path.join(tmp, "run")
    os.makedirs(rundir)
    os.chown(rundir, nobody, -1)
    pidfile = os.path.join(rundir, "greygate-policyd.pid")
    conf = base_conf(tmp, "listen = inet:127.0.0.1:%d, inet:[::1]:%d, unix:%s\n"
                          "listen_unix_mode = 0660\nuser = nobody\npid_file = %s\n"
                          "greylist_delay = 1\ngreylist_retry_window = 2\ngreylist_max_age = 2\n"
                          "database_expire_interval = 1s\n" % (PORT, PORT, sock, pidfile))
    d = Daemon(tmp, conf)
    report(d.start(), "daemon starts on inet, inet6 and unix sockets as user nobody", d.logtext()[-300:])
    try:
        with open(pidfile) as f:
            pid_text = f.read().strip()
    except OSError as e:
        pid_text = repr(e)
    report(pid_text == str(d.proc.pid), "pid_file holds the daemon's process id", pid_text)
    c = Conn()
    report(is_defer(c.ask(request(client="192.0.2.90"))), "IPv4 listener answers")
    s6 = socket.create_connection(("::1", PORT), timeout=5)
    s6.sendall(request(client="2001:db8:1::1"))
    r = s6.recv(4096).decode()
    report(r.startswith("action=DEFER_IF_PERMIT"), "IPv6 listener answers an IPv6 client", r)
    s6.close()
    su = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    su.settimeout(5)
    su.connect(sock)
    # Another network than the IPv4 client's: greylist_delay is 1 s here, and
    # the same triplet would pass if this came a second later on a slow machine.
    su.sendall(request(client="198.51.100.91"))
    r = su.recv(4096).decode()
    report(r.startswith("action=DEFER_IF_PERMIT"), "unix socket answers", r)
    su.close()
    mode = os.stat(sock).st_mode & 0o777
    report(mode == 0o660, "unix socket has listen_unix_mode", oct(mode))
    with open("/proc/%d/status" % d.proc.pid) as f:
        uids = [l for l in f if l.startswith("Uid:")][0].split()[1:]
    report(all(int(u) == nobody for u in uids), "real, effective and saved uid are nobody", str(uids))
    owners = set(os.stat(os.path.join(tmp, "db", f)).st_uid for f in os.listdir(os.path.join(tmp, "db")))
    report(owners == {nobody}, "the database files belong to the daemon user", str(owners))
    time.sleep(4.5)
    log = d.logtext()
    expiries = [l for l in log.splitlines() if "database expiry:" in l]
    report(any("expired=0" not in l for l in expiries),
           "an expiry walk deletes records older than greylist_max_age", expiries[-2:])
    r = c.ask(request(client="192.0.2.90"))
    time.sleep(0.2)
    last = [l for l in d.logtext().splitlines() if "[192.0.2.90]" in l][-1]
    report(is_defer(r) and "reason=new" in last, "an expired triplet is new again", last)
    c.close()
    d.stop()
    report(d.proc.returncode == 0, "the unprivileged daemon stops cleanly", str(d.proc.returncode))
    report(not os.path.exists(pidfile), "a clean exit removes the pid_file")
    # In a directory only root may write, the file stays and the log says why.
    os.chown(rundir, 0, -1)
    d = Daemon(tmp, conf)
    d.start()
    d.stop()
    report(os.path.exists(pidfile) and "pid_file %s left in place: Permission denied" % pidfile
           in d.logtext(), "a pid_file the user cannot remove is left, with a log line",
           d.logtext()[-300:])


def test_db_failure(tmp):
    """A full file system under the database: the daemon answers DUNNO and lives."""
    mnt = os.path.join(tmp, "smallfs")
    os.makedirs(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", mnt]).returncode != 0:
        print("SKIP: %s database failure (cannot mount a tmpfs; not root?)" % NAME)
        return
    try:
        conf = ("listen = inet:127.0.0.1:%d\ndatabase = bdb:%s/db\nuser =\ngreylist_delay = 2\n"
                "database_cache_size = 1\n" % (PORT, mnt))
        d = Daemon(tmp, conf)
        d.start()
        c = Conn()
        r = c.ask(request(client="192.0.2.200"))
        report(is_defer(r), "greylisting works on the small file system", r)
        filler = os.path.join(mnt, "filler")
        subprocess.run(["dd", "if=/dev/zero", "of=" + filler, "bs=64k"], capture_output=True)
        answers = [c.ask(request(client="10.9.%d.%d" % (i // 200, i % 200 + 1), rcpt="r%d@rcpt.example" % i,
                                 sender="s%d@sender.example" % i)) for i in range(300)]
        dunno = sum(1 for a in answers if is_dunno(a))
        report(d.alive() and all(a is not None for a in answers), "the daemon survives a full disk")
        report(dunno > 0 and "reason=db-error" in d.logtext(),
               "database write failures fail open (DUNNO) and are logged",
               "%d DUNNO; log tail %s" % (dunno, d.logtext()[-300:]))
        os.unlink(filler)
        time.sleep(0.5)
        r = c.ask(request(client="192.0.2.201", rcpt="after@rcpt.example"))
        report(is_defer(r), "greylisting resumes once space is free again", r)
        c.close()
        d.stop()
    finally:
        subprocess.run(["umount", "-l", mnt])


def main():
    if not os.access(DAEMON, os.X_OK):
        print("SKIP: %s %s not built" % (NAME, DAEMON))
        return 77
    for test in (test_bad_input, test_connections, test_reload, test_config_check,
                 test_sockets_and_privileges, test_db_failure):
        with tempfile.TemporaryDirectory() as tmp:
            os.chmod(tmp, 0o755)
            try:
                test(tmp)
            except Exception as e:  # a crash of the test itself is a failure, not a skip
                report(False, test.__name__, "exception: %r" % (e,))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
