#!/usr/bin/env python3
"""Issue 13, invitations from the admin CLI against a private real slapd:
`grant --invite` writes mailGrantPending: TRUE and the grant gives nothing (explain, the
decision code the Dovecot plugin and the policy daemon run, says "pending" and denies
both the folder and sending); `accept` removes the attribute and the same decisions allow;
`decline` leaves nothing and never touches an accepted grant; an invitation older than
invitations.expire_after cannot be accepted, and explain, list and check say so.

Entries are read back with ldapsearch as the rootdn. Each test uses its own mailbox and
grantee, so the tests share one slapd. $MAILGRANT_CLI names the binary."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_cli import FIXTURES, CliCase, write_config  # noqa: E402  (puts tests/harness on sys.path)
from slapd_sandbox import Slapd  # noqa: E402

PEOPLE = "ou=people,dc=example,dc=com"


# root over ldapi (SASL EXTERNAL) may write the data, as on a Debian LDAP host, so that
# accept/decline are seen to take grant's and revoke's bind options; everyone else reads.
ROOT_ACL = ('access to * by dn.exact="gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth" manage '
            'by * read\n')


class Invitations(CliCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="mailgrant-cli-invite-")
        os.chmod(cls.tmp.name, 0o755)
        cls.slapd = Slapd(os.path.join(cls.tmp.name, "ldap"), acl=ROOT_ACL)
        cls.slapd.start()
        cls.slapd.load_ldif(os.path.join(FIXTURES, "org.ldif"))
        cls.config = write_config(cls.tmp.name, cls.slapd)
        cls.write = ["--bind-dn", cls.slapd.rootdn, "--bind-password-file", cls.slapd.rootpw_path]
        # the expiry in seconds, so a test can see an invitation expire (the docs say days)
        cls.short = cls.yaml("short.yaml", "invitations:\n  expire_after: 1s\n")
        cls.never = cls.yaml("never.yaml", "invitations:\n  expire_after: 0\n")

    @classmethod
    def yaml(cls, name, extra):
        path = os.path.join(cls.tmp.name, name)
        with open(cls.config) as f, open(path, "w") as out:
            out.write(f.read() + extra)
        return path

    def grants_below(self, uid):
        """{cn: {attr: [values]}} of the grant entries below uid=UID, as the rootdn sees them."""
        p = subprocess.run(["ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-x", "-H", self.slapd.uri, "-D",
                            self.slapd.rootdn, "-y", self.slapd.rootpw_path, "-b", "uid=%s,%s" % (uid, PEOPLE),
                            "-s", "one", "(objectClass=mailGrant)", "*", "createTimestamp"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = {}
        for block in p.stdout.strip().split("\n\n"):
            attrs = {}
            for line in block.splitlines():
                key, _, value = line.partition(": ")
                attrs.setdefault(key.rstrip(":"), []).append(value)
            if "cn" in attrs:
                out[attrs["cn"][0]] = attrs
        return out

    def explain(self, *args, config=None):
        rc, out, err = self.run_cli("--json", "explain", *args, config=config)
        self.assertIn(rc, (0, 1), err)
        return rc, json.loads(out)

    def invite(self, mailbox, grantee, *extra):
        rc, out, err = self.run_cli("grant", mailbox, grantee, "--folder", "INBOX", "--role", "reader", "--send-as",
                                    "--invite", *extra, *self.write)
        self.assertEqual(rc, 0, err)
        return out

    def test_invite_gives_nothing_until_accepted(self):
        out = self.invite("eve@example.com", "dave@example.com")
        self.assertIn("created grant 'dave' on eve@example.com", out)
        self.assertIn("state:    pending (invitation sent ", out)
        self.assertIn("mailgrant accept eve@example.com dave@example.com --grant dave", out)
        grant = self.grants_below("eve")["dave"]
        self.assertEqual(grant["mailGrantPending"], ["TRUE"])
        self.assertEqual(grant["mailGrantSend"], ["sendAs"])

        # pending: the folder and the sender decisions deny, and say why
        rc, folder = self.explain("dave", "eve@example.com", "INBOX")
        self.assertEqual((rc, folder["rights"], folder["applied"]), (1, "", []))
        self.assertEqual(len(folder["not_applied"]), 1, folder)
        self.assertRegex(folder["not_applied"][0],
                         r"^grant 'dave' is pending \(invitation sent \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ, expires ")
        rc, send = self.explain("dave", "eve@example.com", "--send")
        self.assertEqual((rc, send["allowed"], send["right"]), (1, False, "denied"))
        self.assertTrue(send["not_applied"][0].startswith("grant 'dave' is pending (invitation"), send)
        rc, out, _ = self.run_cli("explain", "dave", "eve@example.com", "INBOX")
        self.assertEqual(rc, 1)
        self.assertIn("rights:   (none)", out)
        self.assertIn("not used: grant 'dave' is pending (invitation sent", out)
        # never expiring: explain says so
        rc, never = self.explain("dave", "eve@example.com", "--send", config=self.never)
        self.assertTrue(never["not_applied"][0].endswith("never expires)"), never)

        # list shows the pending state (table and JSON)
        rc, out, err = self.run_cli("list", "eve@example.com")
        self.assertEqual(rc, 0, err)
        self.assertIn("pending (invitation sent", out)
        listed = json.loads(self.run_cli("--json", "list", "eve@example.com")[1])["grants"]
        self.assertEqual([(g["name"], g["invitation"]["state"]) for g in listed], [("dave", "open")])
        self.assertEqual(listed[0]["invitation"]["sent"][:2], "20")
        # an open invitation is no finding
        rc, out, _ = self.run_cli("--json", "check", "--no-doveadm")
        self.assertNotIn("uid=eve,", " ".join(f["dn"] for f in json.loads(out)["findings"]))

        # accept: --ldif first (nothing written), then for real
        rc, out, err = self.run_cli("accept", "eve@example.com", "dave", "--ldif", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertIn("changetype: modify\ndelete: mailGrantPending\n", out)
        self.assertIn("mailGrantPending", self.grants_below("eve")["dave"])
        rc, out, err = self.run_cli("accept", "eve@example.com", "dave", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertIn("accepted invitation 'dave'", out)
        grant = self.grants_below("eve")["dave"]
        self.assertNotIn("mailGrantPending", grant)
        self.assertEqual(grant["mailGrantFolder"], ["INBOX"])

        rc, folder = self.explain("dave", "eve@example.com", "INBOX")
        self.assertEqual((rc, folder["rights"], folder["not_applied"]), (0, "lrs", []))
        self.assertEqual(folder["applied"][0]["grant"], "dave")
        rc, send = self.explain("dave", "eve@example.com", "--send")
        self.assertEqual((rc, send["allowed"], send["right"]), (0, True, "sendAs"))
        self.assertEqual(send["via"]["grant"], "dave")

        # nothing left to accept or decline: refused, and the accepted grant stays
        for verb in ("accept", "decline"):
            rc, _, err = self.run_cli(verb, "eve@example.com", "dave", *self.write)
            self.assertEqual(rc, 4, err)
            self.assertIn("no pending invitation for dave@example.com on eve@example.com", err)
            self.assertIn("'dave' is already an accepted grant", err)
        self.assertIn("dave", self.grants_below("eve"))

    def test_decline_leaves_nothing(self):
        self.invite("bob@example.com", "eve", "--name", "invite-eve")
        self.assertIn("invite-eve", self.grants_below("bob"))
        rc, out, err = self.run_cli("decline", "bob", "eve@example.com", "--grant", "invite-eve",
                                    "--sasl-external", "--ldap-uri", self.slapd.ldapi_uri)
        self.assertEqual(rc, 0, err)
        self.assertIn("declined invitation 'invite-eve'", out)
        self.assertNotIn("invite-eve", self.grants_below("bob"))
        rc, folder = self.explain("eve", "bob@example.com", "INBOX")
        self.assertEqual((rc, folder["not_applied"], folder["applied"]), (1, [], []))
        rc, _, err = self.run_cli("decline", "bob", "eve", "--grant", "invite-eve", *self.write)
        self.assertEqual(rc, 4)
        self.assertIn("has no grant named 'invite-eve'", err)

        # an accepted grant is never declined: that is revoke
        rc, _, err = self.run_cli("grant", "bob", "eve", "--folder", "Sent", "--role", "reader", *self.write)
        self.assertEqual(rc, 0, err)
        rc, _, err = self.run_cli("decline", "bob", "eve", *self.write)
        self.assertEqual(rc, 4)
        self.assertIn("use mailgrant revoke", err)
        self.assertEqual(list(self.grants_below("bob")), ["eve"])

    def test_invitations_neither_extend_nor_are_extended(self):
        rc, _, err = self.run_cli("grant", "carol", "bob", "--folder", "INBOX", "--role", "reader", *self.write)
        self.assertEqual(rc, 0, err)
        # --invite for a grantee with a grant: a new, pending entry; the active one unchanged
        out = self.invite("carol", "bob")
        self.assertIn("created grant 'bob-2'", out)
        grants = self.grants_below("carol")
        self.assertNotIn("mailGrantPending", grants["bob"])
        self.assertNotIn("mailGrantSend", grants["bob"])
        self.assertEqual(grants["bob-2"]["mailGrantPending"], ["TRUE"])
        # a plain grant never extends the pending invitation (it would wait for an acceptance)
        rc, out, err = self.run_cli("grant", "carol", "bob", "--send-on-behalf", *self.write)
        self.assertEqual(rc, 0, err)
        grants = self.grants_below("carol")
        self.assertEqual(grants["bob-2"].get("mailGrantSend"), ["sendAs"])
        self.assertEqual(grants["bob"].get("mailGrantSend"), ["sendOnBehalf"])
        rc, send = self.explain("bob", "carol@example.com", "--send")
        self.assertEqual((send["right"], send["via"]["grant"]), ("sendOnBehalf", "bob"))
        self.assertTrue(any(n.startswith("grant 'bob-2' is pending") for n in send["not_applied"]), send)

    def test_expired_invitation_cannot_be_accepted(self):
        self.invite("dave", "eve")
        # expire_after: 1s. Bounded: the invitation is at most a few seconds old when seen.
        for _ in range(50):
            listed = json.loads(self.run_cli("--json", "list", "dave", config=self.short)[1])["grants"]
            if listed[0]["invitation"]["state"] == "expired":
                break
            subprocess.run(["sleep", "0.2"], check=True)
        self.assertEqual(listed[0]["invitation"]["state"], "expired", listed)
        self.assertEqual(listed[0]["state"], "pending (an invitation not accepted yet)")

        rc, out, err = self.run_cli("accept", "dave", "eve", *self.write, config=self.short)
        self.assertEqual(rc, 4, out)
        self.assertIn("invitation 'eve': pending, but the invitation expired on ", err)
        self.assertIn("mailgrant decline", err)
        self.assertEqual(self.grants_below("dave")["eve"]["mailGrantPending"], ["TRUE"])  # nothing written

        rc, folder = self.explain("eve", "dave@example.com", "INBOX", config=self.short)
        self.assertEqual(rc, 1)
        self.assertRegex(folder["not_applied"][0], r"^grant 'eve' is pending, but the invitation expired on .*\(sent ")
        rc, out, _ = self.run_cli("list", "dave", config=self.short)
        self.assertIn("pending, but the invitation expired on", out)
        rc, out, _ = self.run_cli("--json", "check", "--no-doveadm", config=self.short)
        self.assertEqual(rc, 1)
        found = [f for f in json.loads(out)["findings"] if f["dn"].startswith("cn=eve,uid=dave,")]
        self.assertEqual([f["kind"] for f in found], ["invitation-expired"])
        self.assertIn("mailgrant decline OWNER GRANTEE --grant eve", found[0]["message"])
        # under the default (14 days) the same invitation is open, and no finding
        rc, out, _ = self.run_cli("--json", "check", "--no-doveadm")
        self.assertNotIn("cn=eve,uid=dave,", out)

        # an expired invitation can be declined
        rc, out, err = self.run_cli("decline", "dave", "eve", *self.write, config=self.short)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.grants_below("dave"), {})

    def test_usage(self):
        for args, msg in [(("accept", "alice"), "accept takes OWNER GRANTEE"),
                          (("decline", "alice", "bob", "carol"), "decline takes OWNER GRANTEE"),
                          (("accept", "alice", "bob", "--folder", "INBOX"), "unknown option '--folder'")]:
            rc, _, err = self.run_cli(*args)
            self.assertEqual(rc, 2, (args, err))
            self.assertIn(msg, err)
        for verb in ("accept", "decline"):
            rc, out, _ = self.run_cli(verb, "--help")
            self.assertEqual(rc, 0)
            self.assertIn("--sasl-external", out)
        rc, out, _ = self.run_cli("grant", "--help")
        self.assertIn("--invite", out)
        rc, _, err = self.run_cli("accept", "nobody@example.com", "bob", *self.write)
        self.assertEqual(rc, 4, err)


if __name__ == "__main__":
    unittest.main()
