#!/usr/bin/env python3
"""Issue 14, `mailgrant audit`, against private real slapds:

- WithAccesslog: slapd with ldap-schema/accesslog.ldif applied as the README says
  (tests/harness/slapd_sandbox.py accesslog=True); a grant made, extended by another
  person (carol, allowed to write by the test's ACL) and revoked with the CLI shows as
  three events with the right actor and mailbox, in table, JSON and CSV; the revocation
  says what it took away (the overlay keeps a grant's old values); --since and --mailbox.
- WithoutAccesslog: only the entries' operational attributes: the creation and the change
  still show (source "ldap"), the revoked grant is gone, and a note says why.

Asserts rows and counts, never timings. $MAILGRANT_CLI names the binary."""
import csv
import io
import json
import os
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_cli import CliCase, FIXTURES, write_config  # noqa: E402
from slapd_sandbox import Slapd  # noqa: E402

CAROL = "uid=carol,ou=people,dc=example,dc=com"
# carol may write (she is the "other admin" of the test); everyone reads, as with no ACL
ACL = 'access to * by dn.exact="%s" write by * read\n' % CAROL
NOTE = "revocations are not visible without slapd's accesslog: see README"
GRANT_DN = "cn=dave,uid=alice,ou=people,dc=example,dc=com"


def next_second():
    """Wait (bounded) until the wall clock enters a new second: LDAP timestamps have
    one-second resolution, and a change must not share its creation's second."""
    start = int(time.time())
    for _ in range(40):
        if int(time.time()) != start:
            return
        time.sleep(0.05)


class AuditCase(CliCase):
    fmt = "conf"
    accesslog = False

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="mailgrant-audit-")
        os.chmod(cls.tmp.name, 0o755)
        cls.slapd = Slapd(os.path.join(cls.tmp.name, "ldap"), fmt=cls.fmt, acl=ACL, accesslog=cls.accesslog)
        cls.slapd.start()
        cls.slapd.load_ldif(os.path.join(FIXTURES, "org.ldif"))
        cls.config = write_config(cls.tmp.name, cls.slapd)
        with open(cls.config, "a") as f:  # the audit reads as the service account would: bound
            f.write("  bind_dn: %s\n  bind_password_file: %s\n" % (cls.slapd.rootdn, cls.slapd.rootpw_path))
            if cls.accesslog:
                f.write("cli:\n  accesslog_base: cn=accesslog\n")
        cls.write = ["--bind-dn", cls.slapd.rootdn, "--bind-password-file", cls.slapd.rootpw_path]
        carol_pw = os.path.join(cls.tmp.name, "carol-pw")
        with open(carol_pw, "w") as f:
            f.write("carol-pw\n")
        cls.as_carol = ["--bind-dn", CAROL, "--bind-password-file", carol_pw]

    def ok(self, *args):
        rc, out, err = self.run_cli(*args)
        self.assertEqual(rc, 0, (args, out, err))
        return out, err

    def grant_extend(self):
        self.assertIn("created grant 'dave'", self.ok("grant", "alice", "dave", "--folder", "Archive", "--role",
                                                      "reader", *self.write)[0])
        next_second()
        self.assertIn("extended grant 'dave'", self.ok("grant", "alice", "dave", "--send-as", *self.as_carol)[0])

    def events(self, *args):
        out, err = self.ok("audit", "--format", "json", *args)
        return json.loads(out), err


class WithAccesslog(AuditCase):
    fmt = "cnconfig"
    accesslog = True

    def test_grant_extend_revoke_in_every_format(self):
        self.grant_extend()
        self.assertIn("deleted grant 'dave'", self.ok("revoke", "alice", "--grantee", "dave", *self.write)[0])

        data, err = self.events("--mailbox", "alice@example.com", "--since", "1h")
        self.assertEqual(err, "")
        self.assertEqual(data["notes"], [])
        mine = [e for e in data["events"] if e["grant_dn"] == GRANT_DN]
        self.assertEqual([(e["action"], e["by"], e["mailbox"], e["source"]) for e in mine],
                         [("granted", self.slapd.rootdn, "alice@example.com", "accesslog"),
                          ("changed", "carol@example.com", "alice@example.com", "accesslog"),
                          ("revoked", self.slapd.rootdn, "alice@example.com", "accesslog")])
        self.assertEqual(mine[1]["by_dn"], CAROL)
        self.assertIn("mailGrantFolder=Archive", mine[0]["changes"])
        self.assertIn("mailGrantRights=reader", mine[0]["changes"])
        self.assertEqual(mine[1]["changes"], "mailGrantSend+=sendAs")
        # what the revocation took away, from the old values the overlay keeps
        self.assertIn("mailGrantFolder=Archive", mine[2]["changes"])
        self.assertIn("mailGrantSend=sendAs", mine[2]["changes"])
        # --mailbox: only alice's grants (the fixture's two and dave's)
        self.assertEqual({e["mailbox"] for e in data["events"]}, {"alice@example.com"})
        self.assertEqual([e["grant"] for e in data["events"] if e["action"] == "granted"],
                         ["projects-bob", "vacation-2020", "dave"])
        # a write seen in both sources is shown once, from the accesslog
        self.assertEqual({e["source"] for e in data["events"]}, {"accesslog"})

        out, err = self.ok("audit", "--mailbox", "alice", "--since", "1h")
        self.assertEqual(err, "")
        rows = [line.split() for line in out.splitlines()[2:] if " dave " in line]
        self.assertEqual([(r[2], r[3], r[4], r[5], r[6]) for r in rows],
                         [("granted", "alice@example.com", "dave", self.slapd.rootdn, "accesslog"),
                          ("changed", "alice@example.com", "dave", "carol@example.com", "accesslog"),
                          ("revoked", "alice@example.com", "dave", self.slapd.rootdn, "accesslog")])
        self.assertEqual(out.splitlines()[0].split(), ["TIME", "ACTION", "MAILBOX", "GRANT", "BY", "SOURCE", "CHANGES"])

        out, _ = self.ok("audit", "--format", "csv", "--mailbox", "uid=alice,ou=people,dc=example,dc=com")
        table = list(csv.DictReader(io.StringIO(out, newline="")))
        self.assertEqual([(r["action"], r["by"], r["by_dn"]) for r in table if r["grant_dn"] == GRANT_DN],
                         [("granted", self.slapd.rootdn, self.slapd.rootdn), ("changed", "carol@example.com", CAROL),
                          ("revoked", self.slapd.rootdn, self.slapd.rootdn)])

        # the whole directory: the fixture's five grants were written through the overlay too
        data, _ = self.events()
        self.assertEqual(sorted(e["grant"] for e in data["events"] if e["action"] == "granted"),
                         ["behalf-dave", "dave", "loop", "projects-bob", "team", "vacation-2020"])
        # people, groups and the ou were written too, but are no grants
        self.assertFalse([e for e in data["events"] if not e["grant_dn"].startswith("cn=")])
        # nothing after a future date
        out, _ = self.ok("audit", "--since", "2099-01-01")
        self.assertEqual(out, "no grant changes\n")

    def test_usage(self):
        for args, msg in [(("--since", "yesterday"), "is neither a date"), (("--format", "xml"), "--format is"),
                          (("alice",), "audit takes only options"), (("--json", "--format", "csv"), "contradict")]:
            rc, _, err = self.run_cli("audit", *args)
            self.assertEqual(rc, 2, (args, err))
            self.assertIn(msg, err)
        rc, _, err = self.run_cli("audit", "--mailbox", "nobody@example.com")
        self.assertEqual(rc, 4, err)


class WithoutAccesslog(AuditCase):
    def test_operational_attributes_and_the_note(self):
        self.grant_extend()
        data, err = self.events("--mailbox", "alice")
        self.assertIn(NOTE, err)
        self.assertEqual(len(data["notes"]), 1)
        self.assertIn(NOTE, data["notes"][0])
        mine = [e for e in data["events"] if e["grant_dn"] == GRANT_DN]
        self.assertEqual([(e["action"], e["by"], e["mailbox"], e["source"]) for e in mine],
                         [("granted", self.slapd.rootdn, "alice@example.com", "ldap"),
                          ("changed", "carol@example.com", "alice@example.com", "ldap")])
        out, err = self.ok("audit", "--mailbox", "alice")
        self.assertIn("note: " + NOTE, err)
        self.assertEqual(len([line for line in out.splitlines() if " dave " in line]), 2)
        out, err = self.ok("audit", "--format", "csv")
        self.assertIn(NOTE, err)
        self.assertEqual(len([r for r in csv.DictReader(io.StringIO(out, newline="")) if r["grant_dn"] == GRANT_DN]), 2)

        # the revocation leaves no trace: dave's grant is simply gone
        self.ok("revoke", "alice", "--grantee", "dave", *self.write)
        data, err = self.events()
        self.assertIn(NOTE, err)
        self.assertFalse([e for e in data["events"] if e["grant_dn"] == GRANT_DN])
        self.assertEqual(sorted(e["grant"] for e in data["events"] if e["action"] == "granted"),
                         ["behalf-dave", "loop", "projects-bob", "team", "vacation-2020"])


if __name__ == "__main__":
    unittest.main()
