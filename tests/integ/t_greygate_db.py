#!/usr/bin/env python3
"""t_greygate_db.py - greygate-db against the database of a running daemon.

stats, dump, lookup, delete and expire, while greygate-policyd keeps
serving on the same Berkeley DB environment; a config error exits 64.
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import t_policy_limits as tp  # noqa: E402  (shared protocol client and daemon runner)

tp.NAME = "t_greygate_db"
TOOL = os.path.join(tp.BUILD, "tools", "greygate-db")


def run(conf, *args):
    p = subprocess.run([TOOL, "-c", conf] + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def main():
    if not os.access(TOOL, os.X_OK) or not os.access(tp.DAEMON, os.X_OK):
        print("SKIP: t_greygate_db not built")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        d = tp.Daemon(tmp, tp.base_conf(tmp, "greylist_delay = 1\n"))
        tp.report(d.start(), "daemon starts")
        c = tp.Conn()
        c.ask(tp.request(client="192.0.2.5", sender="a@b.example", rcpt="c@d.example"))
        c.ask(tp.request(client="192.0.2.7", sender="x@b.example", rcpt="y@d.example"))
        time.sleep(1.2)
        c.ask(tp.request(client="192.0.2.5", sender="a@b.example", rcpt="c@d.example"))
        rc, out, err = run(d.conf, "stats")
        tp.report(rc == 0 and "triplets=2 passed=1 waiting=1 clients=1" in out,
                  "stats counts triplets and clients while the daemon runs", out + err)
        rc, out, err = run(d.conf, "dump", "triplets")
        lines = out.splitlines()
        tp.report(rc == 0 and len(lines) == 2 and
                  any(l.startswith("t/192.0.2.0/24/a@b.example/c@d.example state=passed") for l in lines),
                  "dump prints each triplet with its state", out + err)
        rc, out, err = run(d.conf, "lookup", "--client", "192.0.2.99", "--sender", "A@B.example",
                           "--rcpt", "c@d.example")
        tp.report(rc == 0 and "answer now: accept reason=known" in out,
                  "lookup normalises like the daemon and explains a passed triplet", out + err)
        rc, out, err = run(d.conf, "lookup", "--client", "198.51.100.1", "--sender", "q@b.example",
                           "--rcpt", "y@d.example")
        tp.report(rc == 1 and "answer now: greylist reason=new" in out,
                  "lookup of an unknown triplet says it would be greylisted (exit 1)", out + err)
        rc, out, err = run(d.conf, "delete", "t/192.0.2.0/24/x@b.example/y@d.example")
        tp.report(rc == 0, "delete removes a record", err)
        r = c.ask(tp.request(client="192.0.2.7", sender="x@b.example", rcpt="y@d.example"))
        tp.report(tp.is_defer(r), "the daemon sees the deletion at once", r)
        rc, out, err = run(d.conf, "expire")
        tp.report(rc == 0 and out.startswith("examined="), "expire walks the database", out + err)
        p = subprocess.run([TOOL, "-c", d.conf, "-o", "greylist_delay=5x", "stats"],
                           capture_output=True, text=True)
        tp.report(p.returncode == 64 and "greylist_delay: '5x' is not a duration" in p.stderr,
                  "a configuration error exits 64 with the reason", p.stderr)
        c.close()
        d.stop()
    return 1 if tp.failures else 0


if __name__ == "__main__":
    sys.exit(main())
