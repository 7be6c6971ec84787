#!/usr/bin/env python3
"""Issue 14, one grant per grantee and mailbox, against a private real slapd:
`grant` extends the grantee's grant instead of adding `erin-2`, `revoke --grantee X
[--send-only | --folders-only | --folder F]` takes out exactly that part, and several
grantees go in one command. Asserts outputs, what `explain` decides and how many grant
entries LDAP holds (ldapsearch), never timings. $MAILGRANT_CLI names the binary."""
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_cli import CliCase  # noqa: E402

ALICE = "uid=alice,ou=people,dc=example,dc=com"
SUPPORT = "uid=support,ou=people,dc=example,dc=com"
EVE = "uid=eve,ou=people,dc=example,dc=com"
BOB = "uid=bob,ou=people,dc=example,dc=com"


class GrantParts(CliCase):
    fmt = "cnconfig"

    def grants_below(self, owner_dn, grantee_dn=None):
        """{cn: {attr: [values]}} of the grant entries directly below owner_dn (naming grantee_dn)."""
        flt = "(&(objectClass=mailGrant)(mailGrantee=%s))" % grantee_dn if grantee_dn else "(objectClass=mailGrant)"
        p = subprocess.run(["ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-x", "-H", self.slapd.uri, "-D",
                            self.slapd.rootdn, "-y", self.slapd.rootpw_path, "-b", owner_dn, "-s", "one", flt],
                           capture_output=True, text=True, check=True, timeout=30)
        out = {}
        for block in p.stdout.strip().split("\n\n"):
            if not block.strip():
                continue
            attrs = {}
            for line in block.splitlines():
                key, _, value = line.partition(": ")
                attrs.setdefault(key, []).append(value)
            out[attrs["cn"][0]] = attrs
        return out

    def rights(self, login, mailbox, folder):
        return json.loads(self.run_cli("--json", "explain", login, mailbox, folder)[1])["rights"]

    def send(self, login, address):
        return json.loads(self.run_cli("--json", "explain", login, address, "--send")[1])["right"]

    def test_extend_then_revoke_parts_round_trip(self):
        rc, out, err = self.run_cli("grant", "alice", "eve", "--folder", "INBOX", "--role", "reader", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertIn("created grant 'eve' on alice@example.com", out)
        # the erin-2 case: send rights for someone with a folder grant join that grant
        rc, out, err = self.run_cli("grant", "alice", "eve", "--send-as", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertIn("extended grant 'eve' on alice@example.com: sendAs added", out)
        self.assertEqual(list(self.grants_below(ALICE, EVE)), ["eve"])
        rc, out, err = self.run_cli("--json", "grant", "alice", "eve", "--folder", "Sent", "--role", "reader",
                                    *self.write)
        self.assertEqual(rc, 0, err)
        data = json.loads(out)
        self.assertEqual(data["action"], "extended")
        self.assertEqual(data["grant"]["folders"], ["INBOX", "Sent"])
        self.assertTrue(data["grant"]["send_as"])
        # asking again changes nothing and says so
        rc, out, err = self.run_cli("grant", "alice", "eve", "--folder", "Sent", "--role", "reader", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertIn("already gives eve@example.com all of it; nothing changed", out)
        # other rights on another folder: a grant has one set of rights, so a second one, and why
        rc, out, err = self.run_cli("grant", "alice", "eve", "--folder", "Drafts", "--role", "editor", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertIn("created grant 'eve-2'", out)
        self.assertIn("note:     not added to an existing grant: 'eve' gives lrs on 'INBOX', 'Sent'", out)
        self.assertEqual(sorted(self.grants_below(ALICE, EVE)), ["eve", "eve-2"])
        self.assertEqual(self.rights("eve@example.com", "alice@example.com", "Drafts"), "lrswipkxte")
        self.assertEqual(self.send("eve@example.com", "alice@example.com"), "sendAs")

        # --send-only: send rights go, folder access stays
        rc, out, err = self.run_cli("revoke", "alice", "--grantee", "eve", "--send-only", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "changed grant 'eve' (cn=eve,%s): send rights removed (folder access stays)\n" % ALICE)
        self.assertEqual(self.send("eve@example.com", "alice@example.com"), "denied")
        self.assertEqual(self.rights("eve@example.com", "alice@example.com", "INBOX"), "lrs")
        rc, _, err = self.run_cli("revoke", "alice", "--grantee", "eve", "--send-only", *self.write)
        self.assertEqual(rc, 1)
        self.assertIn("nothing to revoke: no grant of alice@example.com names eve@example.com with send rights", err)
        # --folder: exactly that folder
        rc, out, err = self.run_cli("revoke", "alice", "--grantee", "eve", "--folder", "Sent", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertIn("folder 'Sent' removed", out)
        self.assertEqual(self.grants_below(ALICE, EVE)["eve"]["mailGrantFolder"], ["INBOX"])
        self.assertEqual(self.rights("eve@example.com", "alice@example.com", "Sent"), "")
        # --folders-only: both grants are left with nothing and go
        rc, out, err = self.run_cli("--json", "revoke", "alice", "--grantee", "eve", "--folders-only", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(c["change"] for c in json.loads(out)["changes"]), ["deleted", "deleted"])
        self.assertEqual(self.grants_below(ALICE, EVE), {})
        # alice's other grants are untouched
        self.assertEqual(sorted(self.grants_below(ALICE)), ["projects-bob", "vacation-2020"])

    def test_folders_only_keeps_send_rights(self):
        rc, _, err = self.run_cli("grant", "alice", "eve", "--folder", "INBOX", "--role", "editor",
                                  "--send-on-behalf", *self.write)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.run_cli("revoke", "alice", "--grantee", "eve", "--folders-only", "--ldif")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "dn: cn=eve,%s\nchangetype: modify\ndelete: mailGrantFolder\nmailGrantFolder: INBOX\n-\n"
                              "delete: mailGrantRights\nmailGrantRights: editor\n-\n\n" % ALICE)
        rc, _, err = self.run_cli("revoke", "alice", "--grantee", "eve", "--folders-only", *self.write)
        self.assertEqual(rc, 0, err)
        entry = self.grants_below(ALICE, EVE)["eve"]
        self.assertEqual(entry["mailGrantSend"], ["sendOnBehalf"])
        self.assertNotIn("mailGrantFolder", entry)
        self.assertEqual(self.send("eve@example.com", "alice@example.com"), "sendOnBehalf")
        rc, _, err = self.run_cli("revoke", "alice", "--grantee", "eve", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.grants_below(ALICE, EVE), {})

    def test_several_grantees_in_one_command(self):
        rc, out, err = self.run_cli("--json", "grant", "support", "bob", "eve", "--folder", "Archive", "--role",
                                    "reader", *self.write)
        self.assertEqual(rc, 0, err)
        data = json.loads(out)
        self.assertEqual([(r["action"], r["grant"]["name"]) for r in data["results"]],
                         [("created", "bob"), ("created", "eve")])
        self.assertNotIn("action", data)  # the one-grantee shape only for one grantee
        self.assertEqual(self.rights("eve@example.com", "support@example.com", "Archive"), "lrs")
        # --name: one new grant naming both; a part of it cannot be taken from one of them alone
        rc, out, err = self.run_cli("grant", "support", "bob", "eve", "--send-on-behalf", "--name", "pair",
                                    *self.write)
        self.assertEqual(rc, 0, err)
        self.assertIn("grantee:  bob@example.com, eve@example.com", out)
        self.assertEqual(sorted(self.grants_below(SUPPORT, EVE)), ["eve", "pair"])
        before = self.grants_below(SUPPORT)
        rc, _, err = self.run_cli("revoke", "support", "--grantee", "bob", "--send-only", *self.write)
        self.assertEqual(rc, 4)
        self.assertIn("grant 'pair' also serves other grantees (1 more); taking its send rights out of it", err)
        self.assertEqual(self.grants_below(SUPPORT), before)  # refused: nothing written
        # naming every grantee of it, the part may go: 'pair' is left with nothing
        rc, out, err = self.run_cli("revoke", "support", "--grantee", "bob", "--grantee", "eve", "--send-only",
                                    *self.write)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), "deleted grant 'pair' (cn=pair,%s)" % SUPPORT)
        # both at once, everything: the group grants of the mailbox stay
        rc, out, err = self.run_cli("revoke", "support", "--grantee", "bob", "--grantee", "eve@example.com",
                                    *self.write)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(self.grants_below(SUPPORT)), ["loop", "team"])
        self.assertEqual(self.rights("bob@example.com", "support@example.com", "INBOX"), "lrswipkxte")  # via team

    def test_usage_and_refusals(self):
        for args, msg in [(("revoke", "alice", "--grantee", "eve", "--send-only", "--folders-only"), "give one of"),
                          (("revoke", "alice", "projects-bob", "--send-only"), "used with --grantee"),
                          (("grant", "alice"), "grant takes MAILBOX GRANTEE")]:
            rc, _, err = self.run_cli(*args)
            self.assertEqual(rc, 2, args)
            self.assertIn(msg, err)
        # one unknown grantee refuses the whole command before anything is written
        rc, _, err = self.run_cli("grant", "alice", "eve", "nobody", "--send-as", *self.write)
        self.assertEqual(rc, 4)
        self.assertIn("no user or group 'nobody'", err)
        self.assertEqual(self.grants_below(ALICE, EVE), {})
        # a vacation cover (another window) is never widened: carol's expired one stays as it is
        rc, out, err = self.run_cli("grant", "alice", "carol", "--send-on-behalf", "--ldif")
        self.assertEqual(rc, 0, err)
        self.assertIn("dn: cn=carol,%s\nchangetype: add\n" % ALICE, out)


if __name__ == "__main__":
    unittest.main()
