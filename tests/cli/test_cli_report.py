#!/usr/bin/env python3
"""Issue 14, `mailgrant report` as an admin's mailbox table, against a private real slapd
with tests/fixtures/org.ldif: every column, sort and filter as goldens
(tests/cli/golden/report-*.txt; MAILGRANT_UPDATE_GOLDEN=1 rewrites them), table / JSON /
CSV, the warning and exit 6 when counts or last logins cannot be read, and supervisor
scope over a 3-level `manager` chain with a cycle (tests/fixtures/cli/managers.ldif).
Counts come from tests/fixtures/cli/fake_doveadm.py, last logins from a Dovecot file dict
(tests/fixtures/cli/last-login.db). $MAILGRANT_CLI names the binary."""
import csv
import io
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_cli import CliCase, FIXTURES  # noqa: E402

FAKE_DOVEADM = "%s %s" % (sys.executable, os.path.join(FIXTURES, "cli", "fake_doveadm.py"))
LAST_LOGIN_DB = os.path.join(FIXTURES, "cli", "last-login.db")
ALL = "address,name,type,owner,aliases,access,messages,unread,size,last-login,grants,expires"


def with_cli_section(config, extra):
    path = config.replace(".yaml", "-%d.yaml" % abs(hash(extra)))
    with open(config) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text + "cli:\n" + extra)
    os.chmod(path, 0o644)
    return path


class Report(CliCase):
    """The unchanged organisation: goldens for columns, sorts and filters."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config = with_cli_section(cls.config, "  last_login_dict: 'file:%s'\n" % LAST_LOGIN_DB)

    def report(self, *args):
        return self.run_cli("report", "--doveadm", FAKE_DOVEADM, *args)

    def addresses(self, *args):
        rc, out, err = self.report("--json", *args)
        self.assertEqual(rc, 0, err)
        return [r["mailbox"] for r in json.loads(out)["mailboxes"]]

    def sections(self, cases):
        text = ""
        for args in cases:
            rc, out, err = self.report(*args)
            self.assertEqual((rc, err), (0, ""), args)
            text += "$ mailgrant report %s\n%s\n" % (" ".join(args), out)
        return text

    def test_every_column_sorted_both_ways(self):
        cases = [("--columns", ALL)]
        for col in ALL.split(","):
            cases.append(("--columns", "address," + col, "--sort", col))
            cases.append(("--columns", "address," + col, "--sort", "-" + col))
        self.golden("report-columns.txt", self.sections(cases))

    def test_filters(self):
        cases = [(), ("--filter", "size>1M"), ("--filter", "size<=20K"), ("--filter", "messages>=42"),
                 ("--filter", "unread=0"), ("--filter", "last-login<2026-01-01"), ("--filter", "last-login>2025-06-30"),
                 ("--filter", "last-login=-"), ("--filter", "type=shared"), ("--filter", "type!=shared"),
                 ("--filter", "name=*white*"), ("--filter", "address=*@EXAMPLE.com", "--filter", "grants!=-"),
                 ("--filter", "owner=alice@*"), ("--filter", "aliases>0"), ("--filter", "access=*via support-team*"),
                 ("--filter", "access>=3"), ("--filter", "grants=vacation-*"), ("--filter", "grants>1"),
                 ("--filter", "expires=-"), ("--filter", "expires<2030-01-01")]
        self.golden("report-filters.txt", self.sections(
            [("--columns", "address,size,messages,unread,last-login,grants") + c for c in cases]))
        # what the goldens show, said once in words
        self.assertEqual(self.addresses("--filter", "size>1M"), ["alice@example.com", "dave@example.com",
                                                                   "support@example.com"])
        self.assertEqual(self.addresses("--filter", "last-login<2026-01-01"),
                         ["bob@example.com", "carol@example.com", "support@example.com"])
        self.assertEqual(self.addresses("--filter", "last-login=-"), ["dave@example.com", "eve@example.com"])
        self.assertEqual(self.addresses("--sort", "-size,address", "--filter", "unread>0"),
                         ["support@example.com", "alice@example.com", "dave@example.com", "eve@example.com"])

    def test_formats(self):
        rc, out, err = self.report("--format", "csv", "--columns", "address,name,size,last-login,access",
                                   "--sort", "-size")
        self.assertEqual(rc, 0, err)
        self.golden("report-csv.txt", out)
        rows = list(csv.reader(io.StringIO(out, newline="")))
        self.assertEqual(rows[0], ["address", "name", "size", "last-login", "access"])
        self.assertEqual(rows[1][:4], ["support@example.com", "Support", "3221749760", "2025-12-01"])
        rc, out, err = self.report("--format", "json", "--columns", "address,last-login,expires")
        self.assertEqual(rc, 0, err)
        self.golden("report-columns.json", out)
        alice = json.loads(out)["mailboxes"][0]
        self.assertEqual(list(alice), ["mailbox", "dn", "last_login", "expires"])
        self.assertEqual(alice["last_login"], "2026-01-01T09:30:00Z")

    def test_counts_that_cannot_be_read_warn_and_exit_6(self):
        rc, out, err = self.run_cli("report", "--doveadm", FAKE_DOVEADM + " --fail eve@example.com", "--columns",
                                    "address,messages")
        self.assertEqual(rc, 6)
        self.assertIn("eve@example.com      -\n", out)
        self.assertIn("warning: message counts could not be read for 1 of 6 mailboxes "
                      "(Error: Mailbox INBOX: Timeout while waiting for lock)", err)
        # no counts asked for: doveadm is not run, nothing is missing
        rc, out, err = self.run_cli("report", "--doveadm", "/nonexistent/doveadm", "--columns", "address,owner")
        self.assertEqual((rc, err), (0, ""))
        # --no-doveadm: counts left out on purpose, not a warning
        rc, out, err = self.run_cli("report", "--no-doveadm")
        self.assertEqual((rc, err), (0, ""))
        # last logins without a dictionary
        cfg = with_cli_section(self.config.replace(".yaml", "").rsplit("-", 1)[0] + ".yaml", "  manager_max_depth: 3\n")
        rc, out, err = self.run_cli("report", "--no-doveadm", "--columns", "address,last-login", config=cfg)
        self.assertEqual(rc, 6)
        self.assertIn("warning: last logins could not be read: no last-login dictionary configured", err)
        rc, out, err = self.run_cli("report", "--no-doveadm", "--columns", "address,last-login",
                                    "--last-login-dict", "file:" + LAST_LOGIN_DB, config=cfg)
        self.assertEqual(rc, 0, err)

    def test_usage_errors(self):
        for args, msg in [(("--columns", "address,colour"), "unknown column 'colour' (columns: address, name"),
                          (("--sort", "-bogus"), "unknown column 'bogus'"),
                          (("--filter", "size"), "is not KEY=GLOB"),
                          (("--filter", "size>huge"), "not a size"),
                          (("--filter", "name>b"), "name is text; use name=GLOB"),
                          (("--filter", "last-login<yesterday"), "is not a time"),
                          (("--filter", "messages>many"), "is not a number"),
                          (("--format", "xml"), "--format is table, json or csv"),
                          (("--no-doveadm", "--filter", "size>1M"), "needs doveadm")]:
            rc, _, err = self.run_cli("report", *args)
            self.assertEqual(rc, 2, (args, err))
            self.assertIn(msg, err, args)


class Supervisor(CliCase):
    """frank > carol > bob > alice, carol > dave > support@ (owner), eve <-> gina."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.slapd.load_ldif(os.path.join(FIXTURES, "cli", "managers.ldif"))

    def scope(self, *args, config=None):
        rc, out, err = self.run_cli("report", "--no-doveadm", "--json", "--columns", "address,owner", *args,
                                    config=config)
        self.assertEqual(rc, 0, err)
        return [r["mailbox"] for r in json.loads(out)["mailboxes"]]

    def test_three_levels_and_the_shared_mailbox_of_a_subordinate(self):
        self.assertEqual(self.scope("--as-supervisor", "frank"),
                         ["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com",
                          "support@example.com"])
        self.assertEqual(self.scope("--as-supervisor", "carol@example.com"),
                         ["alice@example.com", "bob@example.com", "dave@example.com", "support@example.com"])
        self.assertEqual(self.scope("--as-supervisor", "uid=bob,ou=people,dc=example,dc=com"), ["alice@example.com"])
        self.assertEqual(self.scope("--as-supervisor", "alice"), [])
        rc, out, _ = self.run_cli("report", "--no-doveadm", "--as-supervisor", "carol", "--columns", "address,owner,name",
                                  "--filter", "type=shared")
        self.assertEqual(rc, 0)
        self.assertIn("support@example.com  dave@example.com  Support", out)

    def test_depth_bound_and_cycle(self):
        cfg = with_cli_section(self.config, "  manager_max_depth: 2\n")
        self.assertEqual(self.scope("--as-supervisor", "frank", config=cfg),
                         ["bob@example.com", "carol@example.com", "dave@example.com"])
        # eve and gina manage each other: eve sees nobody with a mailbox but... nobody; no hang
        self.assertEqual(self.scope("--as-supervisor", "eve"), [])

    def test_delegated_admin_configuration(self):
        cfg = with_cli_section(self.config, "  supervisor: carol@example.com\n")
        self.assertEqual(self.scope(config=cfg),
                         ["alice@example.com", "bob@example.com", "dave@example.com", "support@example.com"])
        self.assertEqual(self.scope("--as-supervisor", "bob", config=cfg), ["alice@example.com"])  # narrower: fine
        rc, _, err = self.run_cli("report", "--no-doveadm", "--as-supervisor", "frank", config=cfg)
        self.assertEqual(rc, 4)
        self.assertIn("limited to the people below carol@example.com (cli.supervisor)", err)
        rc, _, err = self.run_cli("report", "--no-doveadm", "--as-supervisor", "support-team")
        self.assertEqual(rc, 4)
        self.assertIn("is not a person", err)
        bad = with_cli_section(self.config, "  manager_attribute: 'bad attr'\n")
        rc, _, err = self.run_cli("report", "--no-doveadm", config=bad)
        self.assertEqual(rc, 3)
        self.assertIn("cli.manager_attribute", err)


if __name__ == "__main__":
    unittest.main()
