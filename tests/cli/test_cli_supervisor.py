#!/usr/bin/env python3
"""Issue 14, supervisor scope for `list` and `explain` (as `report` has it, test_cli_report.py),
against a private real slapd with tests/fixtures/org.ldif and the 3-level manager chain of
tests/fixtures/cli/managers.ldif: frank > carol > bob > alice, carol > dave > support@
(owner), eve <-> gina (a cycle). --as-supervisor PERSON or cli.supervisor in a delegated
admin's YAML: only grants on (and decisions about) mailboxes whose owner has PERSON as
manager, transitively; anything else is refused with exit 4. $MAILGRANT_CLI names the binary."""
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_cli import CliCase, FIXTURES  # noqa: E402
from test_cli_report import with_cli_section  # noqa: E402


class SupervisorScope(CliCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.slapd.load_ldif(os.path.join(FIXTURES, "cli", "managers.ldif"))
        cls.delegated = with_cli_section(cls.config, "  supervisor: carol@example.com\n")

    def listed(self, *args, config=None):
        rc, out, err = self.run_cli("--json", "list", *args, config=config)
        self.assertEqual(rc, 0, err)
        return [g["name"] for g in json.loads(out)["grants"]]

    def test_list_three_levels(self):
        everything = self.listed()
        self.assertEqual(sorted(everything), ["behalf-dave", "loop", "projects-bob", "team", "vacation-2020"])
        # frank > carol: carol's own grant (behalf-dave) is in frank's scope, not in carol's
        self.assertEqual(sorted(self.listed("--as-supervisor", "frank")), sorted(everything))
        self.assertEqual(sorted(self.listed("--as-supervisor", "carol@example.com")),
                         ["loop", "projects-bob", "team", "vacation-2020"])
        self.assertEqual(self.listed("--as-supervisor", "uid=bob,ou=people,dc=example,dc=com"),
                         ["projects-bob", "vacation-2020"])
        self.assertEqual(self.listed("--as-supervisor", "alice"), [])
        self.assertEqual(self.listed("--as-supervisor", "eve"), [])  # the cycle ends, nobody below
        # with a mailbox or a grantee, the scope still applies
        self.assertEqual(self.listed("alice", "--as-supervisor", "bob"), ["projects-bob", "vacation-2020"])
        self.assertEqual(sorted(self.listed("--grantee", "carol", "--as-supervisor", "carol")),
                         ["team", "vacation-2020"])
        self.assertEqual(self.listed("--grantee", "carol", "--as-supervisor", "bob"), ["vacation-2020"])
        rc, out, err = self.run_cli("list", "support@example.com", "--as-supervisor", "bob")
        self.assertEqual((rc, out), (4, ""))
        self.assertIn("mailbox 'support@example.com' is not below supervisor 'bob'", err)
        # the table has the same rows
        rc, out, _ = self.run_cli("list", "--as-supervisor", "bob")
        self.assertEqual(rc, 0)
        self.assertEqual([line.split()[1] for line in out.splitlines()[2:]], ["projects-bob", "vacation-2020"])

    def test_list_delegated_admin(self):
        self.assertEqual(sorted(self.listed(config=self.delegated)), ["loop", "projects-bob", "team", "vacation-2020"])
        self.assertEqual(self.listed("--as-supervisor", "bob", config=self.delegated), ["projects-bob", "vacation-2020"])
        rc, _, err = self.run_cli("list", "--as-supervisor", "frank", config=self.delegated)
        self.assertEqual(rc, 4)
        self.assertIn("limited to the people below carol@example.com (cli.supervisor)", err)
        rc, _, err = self.run_cli("list", "carol@example.com", config=self.delegated)
        self.assertEqual(rc, 4)
        self.assertIn("is not below supervisor 'carol@example.com'", err)
        rc, _, err = self.run_cli("list", "--as-supervisor", "support-team")
        self.assertEqual(rc, 4)
        self.assertIn("is not a person", err)

    def test_explain(self):
        # carol may read support@'s INBOX (team grant); dave's chain: carol > dave > support
        rc, out, err = self.run_cli("explain", "carol@example.com", "support@example.com", "INBOX",
                                    "--as-supervisor", "carol")
        self.assertEqual(rc, 0, err)
        self.assertIn("rights:", out)
        rc, out, err = self.run_cli("explain", "carol@example.com", "support@example.com", "INBOX",
                                    "--as-supervisor", "bob")
        self.assertEqual((rc, out), (4, ""))
        self.assertIn("mailbox 'support@example.com' is not below supervisor 'bob'", err)
        # --send: dave sends on behalf of carol (behalf-dave); carol is below frank, not below herself
        rc, out, err = self.run_cli("--json", "explain", "dave@example.com", "carol@example.com", "--send",
                                    "--as-supervisor", "frank")
        self.assertEqual(rc, 0, err)
        self.assertTrue(json.loads(out)["allowed"])
        rc, _, err = self.run_cli("explain", "dave@example.com", "carol@example.com", "--send", "--as-supervisor", "carol")
        self.assertEqual(rc, 4)
        # a denial inside the scope is still a denial (exit 1), not a refusal
        rc, _, _ = self.run_cli("explain", "eve@example.com", "alice@example.com", "INBOX", "--as-supervisor", "bob")
        self.assertEqual(rc, 1)
        # the delegated admin's configuration bounds explain as well
        rc, _, err = self.run_cli("explain", "dave@example.com", "carol@example.com", "--send", config=self.delegated)
        self.assertEqual(rc, 4)
        self.assertIn("is not below supervisor 'carol@example.com'", err)
        rc, _, err = self.run_cli("explain", "bob@example.com", "alice@example.com", "Projects", config=self.delegated)
        self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    unittest.main()
