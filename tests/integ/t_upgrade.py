#!/usr/bin/env python3
"""t_upgrade.py - a database written by greygate before issue 10 still works.

tests/fixtures/format1/ holds greygate.db as greygate-policyd of commit
cb46789 wrote it (text keys, version 1 records; made by
tests/fixtures/make-format1.py), and that build's own `greygate-db dump`.
Today's greygate-policyd opens it, upgrades it to triplets.db with one log
line, shows the same records, passes the triplets that had passed and the
auto-whitelisted client at once, defers a new triplet, and does not upgrade
again at the next start.  No admin loses their greylist on upgrade.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import t_policy_limits as tp  # noqa: E402  (shared protocol client and daemon runner)

tp.NAME = "t_upgrade"
TOOL = os.path.join(tp.BUILD, "tools", "greygate-db")
FIXTURE = os.path.join(tp.SRC, "tests", "fixtures", "format1")
# As the fixture was made, with every record kept however old it is now.
CONF = "greylist_delay = 2\ngreylist_auto_whitelist = 1\ngreylist_max_age = 3650d\n"


def dump(conf):
    p = subprocess.run([TOOL, "-c", conf, "dump"], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def fields(line):
    """A dump line without its state= (which depends on the time now)."""
    return re.sub(r" state=\S+", "", line.strip())


def main():
    if not os.access(TOOL, os.X_OK) or not os.access(tp.DAEMON, os.X_OK):
        print("SKIP: t_upgrade not built")
        return 77
    with open(os.path.join(FIXTURE, "expected-dump.txt")) as f:
        expected = sorted(fields(x) for x in f if x.strip())
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        db = os.path.join(tmp, "db")
        os.mkdir(db)
        shutil.copy(os.path.join(FIXTURE, "greygate.db"), db)
        d = tp.Daemon(tmp, tp.base_conf(tmp, CONF))
        tp.report(d.start(), "the daemon starts on a database of format 1", d.logtext())
        log = d.logtext()
        tp.report(re.search(r"upgraded \S+/greygate.db to triplets.db: 6 records copied with "
                            r"packed keys, 0 unreadable ones left out", log) is not None,
                  "one log line says the database was upgraded, and how many records moved", log)
        tp.report(not os.path.exists(os.path.join(db, "greygate.db")) and
                  os.path.exists(os.path.join(db, "triplets.db")),
                  "greygate.db is replaced by triplets.db", str(os.listdir(db)))
        rc, out, err = dump(d.conf)
        got = sorted(fields(x) for x in out.splitlines() if x.strip())
        tp.report(rc == 0 and got == expected,
                  "greygate-db dump shows every record as the old greygate-db did",
                  "want:\n%s\ngot:\n%s%s" % ("\n".join(expected), "\n".join(got), err))
        c = tp.Conn()
        cases = [
            ("a triplet that had passed passes at once", "192.0.2.5", "alice@sender.example",
             "bob@rcpt.example", False),
            ("an IPv6 triplet that had passed passes at once", "2001:db8::5", "erin@six.example",
             "bob@rcpt.example", False),
            ("a new triplet from the auto-whitelisted network passes", "192.0.2.77",
             "new@sender.example", "bob@rcpt.example", False),
            ("a new triplet from elsewhere is greylisted", "203.0.113.5", "new@sender.example",
             "bob@rcpt.example", True),
        ]
        for what, client, sender, rcpt, defer in cases:
            r = c.ask(tp.request(client=client, sender=sender, rcpt=rcpt))
            tp.report(r is not None and tp.is_defer(r) == defer, what, repr(r))
        c.close()
        d.stop()
        tp.report(d.start(), "the daemon starts again on the upgraded database", d.logtext())
        d.stop()
        tp.report(d.logtext().count("upgraded ") == 1, "the second start does not upgrade again",
                  d.logtext())
        tp.report(re.search(r"BDB\d|error|warning", d.logtext()) is None,
                  "Berkeley DB has nothing to complain about", d.logtext())
        rc, out, err = dump(d.conf)
        tp.report(rc == 0 and "t/203.0.113.0/24/new@sender.example/bob@rcpt.example" in out and
                  len([x for x in out.splitlines() if x.strip()]) == 7,
                  "the new triplet is stored beside the upgraded ones", out + err)
    return 1 if tp.failures else 0


if __name__ == "__main__":
    sys.exit(main())
