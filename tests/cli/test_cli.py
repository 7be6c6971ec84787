#!/usr/bin/env python3
"""Integration tests of the `mailgrant` admin CLI against a private real slapd.

The binary comes from $MAILGRANT_CLI (CTest sets it; $MAILGRANT_POLICYD optionally, for
the explain-vs-policy-daemon agreement test). Golden outputs live in tests/cli/golden/;
regenerate them with MAILGRANT_UPDATE_GOLDEN=1 after a deliberate change, and review the diff.
Two directories: `Pristine` only reads the fixture (goldens stay stable), `Writes` grants,
revokes and loads broken grants for `check`.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TESTS, "harness"))
from slapd_sandbox import Slapd  # noqa: E402

FIXTURES = os.path.join(TESTS, "fixtures")
GOLDEN = os.path.join(HERE, "golden")
REPO = os.path.dirname(TESTS)
CLI = os.environ.get("MAILGRANT_CLI", os.path.join(REPO, "build", "cli", "mailgrant"))
POLICYD = os.environ.get("MAILGRANT_POLICYD", "")
UPDATE = os.environ.get("MAILGRANT_UPDATE_GOLDEN") == "1"


def write_config(workdir, slapd, name="mailgrant.yaml", uri=None):
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write("ldap:\n  uris: [%s]\n  base: %s\n  operation_timeout_ms: 2000\n  network_timeout_ms: 1000\n"
                % (uri or slapd.uri, slapd.base))
    os.chmod(path, 0o644)
    return path


class CliCase(unittest.TestCase):
    fmt = "conf"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="mailgrant-cli-")
        os.chmod(cls.tmp.name, 0o755)
        cls.slapd = Slapd(os.path.join(cls.tmp.name, "ldap"), fmt=cls.fmt)
        cls.slapd.start()
        cls.slapd.load_ldif(os.path.join(FIXTURES, "org.ldif"))
        cls.config = write_config(cls.tmp.name, cls.slapd)
        cls.write = ["--bind-dn", cls.slapd.rootdn, "--bind-password-file", cls.slapd.rootpw_path]

    @classmethod
    def tearDownClass(cls):
        cls.slapd.stop()
        cls.tmp.cleanup()

    def run_cli(self, *args, config=None):
        p = subprocess.run([CLI, "-c", config or self.config] + list(args), capture_output=True, text=True,
                           timeout=60)
        return p.returncode, p.stdout, p.stderr

    def golden(self, name, text):
        path = os.path.join(GOLDEN, name)
        if UPDATE:
            os.makedirs(GOLDEN, exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        with open(path) as f:
            self.assertEqual(text, f.read(), "golden %s differs (MAILGRANT_UPDATE_GOLDEN=1 rewrites it)" % name)


class Pristine(CliCase):
    """Read-only verbs on the unchanged fixture: goldens for tables and JSON."""

    def test_help_everywhere(self):
        rc, out, _ = self.run_cli("--help")
        self.assertEqual(rc, 0)
        for word in ("grant", "revoke", "list", "explain", "check", "report", "Exit codes", "--sasl-external"):
            self.assertIn(word, out)
        for verb in ("grant", "revoke", "list", "explain", "check", "report"):
            rc, out, _ = self.run_cli(verb, "--help")
            self.assertEqual(rc, 0, verb)
            self.assertIn("usage: mailgrant", out)
            self.assertIn("Exit codes", out)
        self.golden("help.txt", self.run_cli("--help")[1])
        self.golden("grant-help.txt", self.run_cli("grant", "--help")[1])

    def test_usage_errors_exit_2(self):
        for args, msg in [((), "usage"), (("frobnicate",), "unknown verb 'frobnicate'"),
                          (("list", "--bogus"), "unknown option '--bogus'"),
                          (("explain", "a"), "explain takes"),
                          (("grant", "a@example.com"), "grant takes MAILBOX GRANTEE"),
                          (("grant", "alice", "bob", "--send-as", "--send-on-behalf"), "either --send-as"),
                          (("report", "--type", "odd"), "--type is"),
                          (("report", "--min-size", "huge"), "not a size")]:
            rc, out, err = self.run_cli(*args)
            self.assertEqual(rc, 2, (args, out, err))
            self.assertIn(msg, err, args)

    def test_config_and_ldap_errors_exit_3(self):
        rc, _, err = self.run_cli("list", config=self.config + ".missing")
        self.assertEqual(rc, 3)
        self.assertIn("configuration error", err)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            dead = "ldap://127.0.0.1:%d" % s.getsockname()[1]
        cfg = write_config(self.tmp.name, self.slapd, "dead.yaml", uri=dead)
        rc, _, err = self.run_cli("list", config=cfg)
        self.assertEqual(rc, 3)
        self.assertIn("LDAP", err)

    def test_list_golden(self):
        rc, out, err = self.run_cli("list")
        self.assertEqual(rc, 0, err)
        self.golden("list.txt", out)
        rc, out, _ = self.run_cli("--json", "list")
        self.assertEqual(rc, 0)
        data = json.loads(out)
        states = {g["name"]: g["state"] for g in data["grants"]}
        self.assertEqual(states["vacation-2020"], "expired")
        self.assertEqual(states["team"], "active")
        self.golden("list.json", out)

    def test_list_mailbox_and_grantee(self):
        rc, out, _ = self.run_cli("list", "help@example.com")  # an alias names the mailbox
        self.assertEqual(rc, 0)
        self.golden("list-support.txt", out)
        rc, out, _ = self.run_cli("list", "--grantee", "carol", "--expand")
        self.assertEqual(rc, 0)
        self.golden("list-grantee-carol.txt", out)
        rc, out, _ = self.run_cli("list", "--grantee", "carol@example.com", "--json", "--expand")
        self.golden("list-grantee-carol.json", out)
        team = [g for g in json.loads(out)["grants"] if g["name"] == "team"][0]
        self.assertEqual(team["people"], ["bob@example.com", "carol@example.com"])
        self.assertEqual(team["via_groups"], ["support-leads > support-team"])

    def test_explain_golden_and_exit_codes(self):
        rc, out, _ = self.run_cli("explain", "carol@example.com", "support@example.com", "INBOX")
        self.assertEqual(rc, 0)
        self.golden("explain-carol.txt", out)
        rc, out, _ = self.run_cli("--json", "explain", "carol@example.com", "alice@example.com", "INBOX")
        self.assertEqual(rc, 1)
        self.golden("explain-carol-alice.json", out)
        self.assertIn("grant 'vacation-2020' is expired", json.loads(out)["not_applied"])
        rc, out, _ = self.run_cli("explain", "dave@example.com", "carol@example.com", "--send", "--json")
        self.assertEqual(rc, 0)
        self.assertEqual(json.loads(out)["right"], "sendOnBehalf")
        self.golden("explain-dave-send.json", out)

    # The decisions the fixture is built to produce (same table as the core's tests).
    FOLDER_CASES = [
        ("bob@example.com", "alice@example.com", "Projects", "lrs"),
        ("bob@example.com", "alice@example.com", "Projects/2024", "lrs"),
        ("bob@example.com", "alice@example.com", "INBOX", ""),
        ("carol@example.com", "support@example.com", "INBOX", "lrswipkxte"),
        ("bob@example.com", "help@example.com", "Sent", "lrswipkxte"),
        ("dave@example.com", "support@example.com", "INBOX", "lr"),
        ("dave@example.com", "support@example.com", "Sent", ""),
        ("carol@example.com", "alice@example.com", "INBOX", ""),
        ("eve@example.com", "support@example.com", "INBOX", ""),
        ("alice@example.com", "alice@example.com", "INBOX", "lrswipkxtea"),
    ]
    SEND_CASES = [
        ("bob@example.com", "support@example.com", "sendAs"),
        ("carol@example.com", "help@example.com", "sendAs"),
        ("dave@example.com", "carol@example.com", "sendOnBehalf"),
        ("carol@example.com", "alice@example.com", "denied"),
        ("eve@example.com", "support@example.com", "denied"),
        ("alice@example.com", "a.smith@example.com", "own address"),
    ]

    def test_explain_agrees_with_the_fixture_decisions(self):
        for login, mailbox, folder, rights in self.FOLDER_CASES:
            rc, out, _ = self.run_cli("--json", "explain", login, mailbox, folder)
            self.assertEqual(json.loads(out)["rights"], rights, (login, mailbox, folder))
            self.assertEqual(rc, 0 if rights else 1)
        for login, address, right in self.SEND_CASES:
            rc, out, _ = self.run_cli("--json", "explain", login, address, "--send")
            self.assertEqual(json.loads(out)["right"], right, (login, address))
            self.assertEqual(rc, 1 if right == "denied" else 0)

    @unittest.skipUnless(POLICYD and os.path.exists(POLICYD), "MAILGRANT_POLICYD not set")
    def test_explain_agrees_with_the_policy_daemon(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cfg = os.path.join(self.tmp.name, "policyd.yaml")
        with open(cfg, "w") as f:
            f.write("ldap:\n  uris: [%s]\n  base: %s\npolicy:\n  listen: 'inet:127.0.0.1:%d'\n  user: nobody\n"
                    % (self.slapd.uri, self.slapd.base, port))
        os.chmod(cfg, 0o644)
        log = open(os.path.join(self.tmp.name, "policyd.log"), "w")
        proc = subprocess.Popen([POLICYD, "-c", cfg], stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 10
            while True:
                try:
                    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
                    break
                except OSError:
                    self.assertLess(time.time(), deadline, "policyd did not listen")
                    self.assertIsNone(proc.poll(), "policyd exited")
                    time.sleep(0.05)
            buf = b""
            for login, address, _ in self.SEND_CASES + [("bob@example.com", "alice@example.com", None)]:
                req = ("request=smtpd_access_policy\nprotocol_state=RCPT\nsasl_username=%s\nsender=%s\n"
                       "recipient=x@example.org\nclient_address=127.0.0.1\n\n" % (login, address))
                sock.sendall(req.encode())
                while b"\n\n" not in buf:
                    chunk = sock.recv(4096)
                    self.assertTrue(chunk, "policyd closed the connection")
                    buf += chunk
                reply, buf = buf.split(b"\n\n", 1)
                daemon_allows = not reply.decode().startswith("action=REJECT")
                rc, out, _ = self.run_cli("--json", "explain", login, address, "--send")
                self.assertEqual(json.loads(out)["allowed"], daemon_allows, (login, address, reply))
            sock.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            log.close()

    def test_check_golden(self):
        rc, out, _ = self.run_cli("check", "--no-doveadm")
        self.assertEqual(rc, 1)
        self.golden("check.txt", out)
        rc, out, _ = self.run_cli("check", "--no-doveadm", "--json")
        self.assertEqual(rc, 1)
        kinds = sorted(f["kind"] for f in json.loads(out)["findings"])
        self.assertEqual(kinds, ["expired", "group-cycle"])
        self.golden("check.json", out)

    def test_report_golden(self):
        rc, out, _ = self.run_cli("report", "--no-doveadm")
        self.assertEqual(rc, 0)
        self.golden("report.txt", out)
        rc, out, _ = self.run_cli("report", "--no-doveadm", "--json")
        self.golden("report.json", out)
        support = [r for r in json.loads(out)["mailboxes"] if r["mailbox"] == "support@example.com"][0]
        self.assertEqual(support["type"], "shared")
        self.assertEqual([a["who"] for a in support["access"]],
                         ["bob@example.com", "carol@example.com", "dave@example.com"])
        self.assertIsNone(support["messages"])
        # filters
        rc, out, _ = self.run_cli("report", "--no-doveadm", "--type", "shared", "--json")
        self.assertEqual([r["mailbox"] for r in json.loads(out)["mailboxes"]], ["support@example.com"])
        rc, out, _ = self.run_cli("report", "--no-doveadm", "--grantee", "carol", "--json")
        self.assertEqual([r["mailbox"] for r in json.loads(out)["mailboxes"]], ["support@example.com"])
        rc, out, _ = self.run_cli("report", "--no-doveadm", "--address", "A.SMITH@*", "--json")
        self.assertEqual([r["mailbox"] for r in json.loads(out)["mailboxes"]], ["alice@example.com"])
        # a doveadm that cannot run: numbers are "-", the table still comes out, and stderr
        # and exit 6 say the counts are missing (issue 14: no quiet "-")
        rc, out, err = self.run_cli("report", "--doveadm", "/nonexistent/doveadm", "--address", "bob@*")
        self.assertEqual(rc, 6)
        self.assertIn("bob@example.com", out)
        self.assertTrue(out.splitlines()[2].rstrip().endswith("-       -"), out)
        self.assertIn("warning: message counts could not be read for 1 of 1 mailboxes", err)

    def test_grant_ldif_golden(self):
        rc, out, err = self.run_cli("grant", "alice@example.com", "support-team", "--folder", "INBOX",
                                    "--folder", "Projects/*", "--rights", "srl", "--send-on-behalf",
                                    "--from", "2030-07-01", "--until", "2030-07-31", "--name", "summer, 2030",
                                    "--description", "holiday cover", "--ldif")
        self.assertEqual(rc, 0, err)
        self.golden("grant.ldif", out)
        rc, out, _ = self.run_cli("grant", "alice@example.com", "bob", "--folder", "Entwürfe", "--role", "reader",
                                  "--ldif")
        # bob already has 'projects-bob' with these rights: the folder joins it (issue 14)
        self.assertIn("dn: cn=projects-bob,uid=alice,ou=people,dc=example,dc=com\nchangetype: modify\n"
                      "add: mailGrantFolder\n", out)
        self.assertIn("mailGrantFolder:: RW50d8O8cmZl\n", out)  # non-ASCII is base64 in LDIF
        # other rights than his grant's: a new grant, named after the grantee, made unique
        rc, out, _ = self.run_cli("grant", "alice@example.com", "bob", "--folder", "INBOX", "--role", "editor",
                                  "--ldif")
        self.assertEqual(rc, 0)
        self.assertIn("dn: cn=bob,uid=alice,ou=people,dc=example,dc=com\nchangetype: add\n", out)
        rc, out, _ = self.run_cli("revoke", "support@example.com", "team", "--ldif")
        self.assertEqual(rc, 0)
        self.assertEqual(out, "dn: cn=team,uid=support,ou=people,dc=example,dc=com\nchangetype: delete\n\n")

    def test_grant_refusals_say_why(self):
        cases = [
            (["alice@example.com", "nobody", "--folder", "INBOX", "--role", "reader"], "no user or group 'nobody'"),
            (["nobody@example.com", "bob", "--folder", "INBOX", "--role", "reader"], "no mailbox 'nobody@example.com'"),
            (["alice", "bob", "--folder", "INBOX", "--role", "boss"], "unknown role 'boss'"),
            (["alice", "bob", "--folder", "INBOX", "--rights", "lrz"], "unknown rights letter 'z'"),
            (["alice", "bob", "--folder", "INBOX", "--role", "reader", "--from", "2031-01-01", "--until",
              "2030-01-01"], "is before --from"),
            (["alice", "bob", "--folder", "INBOX", "--role", "reader", "--until", "2001-01-01"], "in the past"),
            (["alice", "bob", "--folder", "INBOX", "--role", "reader", "--until", "soon"], "is not a time"),
            (["alice", "bob", "--folder", "INBOX"], "folders given without rights"),
            (["alice", "bob", "--role", "editor"], "rights given without a folder"),
            (["alice", "bob"], "the grant gives nothing"),
            (["alice", "alice@example.com", "--send-as"], "is the mailbox itself"),
            (["alice", "support", "--send-as"], "is a shared mailbox"),
            (["alice", "uid=ghost,ou=people,dc=example,dc=com", "--send-as"], "does not exist"),
            (["alice", "bob", "--send-as", "--name", "projects-bob"], "already has a grant named 'projects-bob'"),
        ]
        for args, msg in cases:
            rc, out, err = self.run_cli("grant", *(args + ["--ldif"]))
            self.assertEqual(rc, 4, (args, out, err))
            self.assertIn(msg, err, args)
            self.assertEqual(out, "", args)
        rc, _, err = self.run_cli("revoke", "alice", "no-such-grant")
        self.assertEqual(rc, 4)
        self.assertIn("has no grant named 'no-such-grant' (its grants: projects-bob, vacation-2020)", err)
        rc, _, err = self.run_cli("revoke", "alice", "--grantee", "eve")
        self.assertEqual(rc, 1)
        self.assertIn("nothing to revoke", err)


class Writes(CliCase):
    """grant and revoke for real (as the rootdn), and check on a directory with broken grants."""

    fmt = "cnconfig"

    def explain_rights(self, login, mailbox, folder):
        rc, out, _ = self.run_cli("--json", "explain", login, mailbox, folder)
        return json.loads(out)["rights"]

    def test_grant_list_explain_revoke_round_trip(self):
        self.assertEqual(self.explain_rights("eve@example.com", "alice@example.com", "INBOX"), "")
        rc, out, err = self.run_cli("grant", "alice@example.com", "eve", "--folder", "INBOX", "--role", "reader",
                                    "--until", "2099-12-31", *self.write)
        self.assertEqual(rc, 0, err)
        self.golden("grant-created.txt", out)
        self.assertEqual(self.explain_rights("eve@example.com", "alice@example.com", "INBOX"), "lrs")
        rc, out, _ = self.run_cli("--json", "list", "alice")
        eve = [g for g in json.loads(out)["grants"] if g["name"] == "eve"][0]
        self.assertEqual(eve["state"], "active")
        self.assertEqual(eve["not_after"], "2099-12-31T23:59:59Z")
        # a grant that starts in the future is listed as not yet valid and gives nothing yet
        rc, _, err = self.run_cli("grant", "alice", "eve", "--folder", "Later", "--role", "editor",
                                  "--from", "2098-01-01", "--name", "later", *self.write)
        self.assertEqual(rc, 0, err)
        rc, out, _ = self.run_cli("--json", "list", "alice")
        self.assertEqual([g["state"] for g in json.loads(out)["grants"] if g["name"] == "later"], ["not yet valid"])
        self.assertEqual(self.explain_rights("eve@example.com", "alice@example.com", "Later"), "")
        rc, out, err = self.run_cli("--json", "revoke", "alice", "--grantee", "eve@example.com", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(c["change"] for c in json.loads(out)["changes"]), ["deleted", "deleted"])
        self.assertEqual(self.explain_rights("eve@example.com", "alice@example.com", "INBOX"), "")

    def test_revoke_one_grantee_keeps_the_others(self):
        rc, _, err = self.run_cli("grant", "carol", "bob", "--folder", "INBOX", "--folder", "Sent", "--role", "reader",
                                  "--name", "shared-pair", *self.write)
        self.assertEqual(rc, 0, err)
        # add eve to the same grant through LDIF, as an admin's own tooling would
        ldif = os.path.join(self.tmp.name, "add-eve.ldif")
        with open(ldif, "w") as f:
            f.write("dn: cn=shared-pair,uid=carol,ou=people,dc=example,dc=com\nchangetype: modify\n"
                    "add: mailGrantee\nmailGrantee: uid=eve,ou=people,dc=example,dc=com\n-\n")
        subprocess.run(["ldapmodify", "-x", "-H", self.slapd.uri, "-D", self.slapd.rootdn, "-y",
                        self.slapd.rootpw_path, "-f", ldif], check=True, capture_output=True, timeout=30)
        rc, out, _ = self.run_cli("revoke", "carol", "--grantee", "bob", "--ldif")
        self.assertEqual(rc, 0)
        self.golden("revoke-grantee.ldif", out)
        rc, _, err = self.run_cli("revoke", "carol", "--grantee", "bob", "--folder", "Sent", *self.write)
        self.assertEqual(rc, 4)
        self.assertIn("also serves other grantees", err)
        rc, out, err = self.run_cli("revoke", "carol", "--grantee", "bob", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertIn("removed bob@example.com from grant 'shared-pair'", out)
        self.assertEqual(self.explain_rights("bob@example.com", "carol@example.com", "INBOX"), "")
        self.assertEqual(self.explain_rights("eve@example.com", "carol@example.com", "INBOX"), "lrs")
        rc, out, err = self.run_cli("revoke", "carol", "--grantee", "eve", "--folder", "Sent", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertIn("folder 'Sent' removed", out)
        self.assertEqual(self.explain_rights("eve@example.com", "carol@example.com", "Sent"), "")
        self.assertEqual(self.explain_rights("eve@example.com", "carol@example.com", "INBOX"), "lrs")
        rc, _, err = self.run_cli("revoke", "carol", "shared-pair", *self.write)
        self.assertEqual(rc, 0, err)

    def test_write_errors(self):
        bad = os.path.join(self.tmp.name, "wrong-pw")
        with open(bad, "w") as f:
            f.write("wrong\n")
        rc, _, err = self.run_cli("grant", "alice", "eve", "--send-as", "--bind-dn", self.slapd.rootdn,
                                  "--bind-password-file", bad)
        self.assertEqual(rc, 3)
        self.assertIn("Invalid credentials", err)
        rc, _, err = self.run_cli("grant", "alice", "eve", "--send-as")  # anonymous may not write
        self.assertEqual(rc, 3)
        rc, _, err = self.run_cli("grant", "alice", "eve", "--send-as", "--bind-dn", self.slapd.rootdn)
        self.assertEqual(rc, 2)
        self.assertIn("--bind-password-file", err)

    def test_sasl_external_over_ldapi(self):
        rc, out, err = self.run_cli("grant", "alice", "eve", "--send-on-behalf", "--name", "via-ldapi",
                                    "--sasl-external", "--ldap-uri", self.slapd.ldapi_uri)
        if rc == 3 and "Insufficient access" in err:
            self.skipTest("this slapd does not let EXTERNAL root write the data tree")
        self.assertEqual(rc, 0, err)
        rc, _, err = self.run_cli("revoke", "alice", "via-ldapi", "--sasl-external", "--ldap-uri",
                                  self.slapd.ldapi_uri)
        self.assertEqual(rc, 0, err)

    def ldif_as_root(self, text, tool="ldapmodify"):
        path = os.path.join(self.tmp.name, "change.ldif")
        with open(path, "w") as f:
            f.write(text)
        subprocess.run([tool, "-x", "-H", self.slapd.uri, "-D", self.slapd.rootdn, "-y", self.slapd.rootpw_path,
                        "-f", path], check=True, capture_output=True, timeout=30)

    def test_oversized_grant_is_named_by_check(self):
        """Issue 10: a grant over the 256 KiB value limit is left out by everyone, and `check` names it."""
        huge = "cn=huge,uid=alice,ou=people,dc=example,dc=com"
        rc, out, _ = self.run_cli("check", "--no-doveadm", "--json")
        before = json.loads(out)
        self.ldif_as_root("dn: %s\nobjectClass: mailGrant\ncn: huge\nmailGrantee: uid=eve,ou=people,dc=example,dc=com\n"
                          "mailGrantRights: reader\nmailGrantFolder: %s\n" % (huge, "x" * (300 * 1024)), tool="ldapadd")
        try:
            rc, out, err = self.run_cli("check", "--no-doveadm", "--json")
            self.assertEqual(rc, 1, err)
            report = json.loads(out)
            ignored = [f for f in report["findings"] if f["kind"] == "ignored-entry"]
            self.assertEqual(len(ignored), 1, report["findings"])
            self.assertEqual(ignored[0]["dn"], huge)
            self.assertIn("mailGrantFolder", ignored[0]["message"])
            self.assertIn("262144", ignored[0]["message"])
            # every other grant is still read and checked, and the warning is a finding, not stderr noise
            self.assertEqual(report["grants_checked"], before["grants_checked"])
            self.assertNotIn("cn=huge", err)
            rc, out, _ = self.run_cli("check", "--no-doveadm")
            self.assertIn("ignored-entry", out)
            self.assertIn(huge, out)
            # the grantee's world is intact: other owners' grants still decide
            self.assertEqual(self.explain_rights("bob@example.com", "alice@example.com", "Projects"), "lrs")
        finally:
            self.ldif_as_root("dn: %s\nchangetype: delete\n" % huge)

    def test_check_says_whom_the_dn_template_does_not_fit(self):
        """users.dn_template: check names the people whose entry is not where the template
        puts them (filled with their address or uid). A note, not a finding: they still
        work, at one search more; the exit code is the grants' alone."""
        rc, out, _ = self.run_cli("check", "--no-doveadm", "--json")
        findings = json.loads(out)["findings"]
        cfg = os.path.join(self.tmp.name, "template.yaml")
        with open(self.config) as f, open(cfg, "w") as g:
            g.write(f.read() + 'users:\n  dn_template: "uid=%n,ou=people,dc=example,dc=com"\n')
        rc_t, out, _ = self.run_cli("check", "--no-doveadm", "--json", config=cfg)
        self.assertEqual(rc_t, rc)
        report = json.loads(out)
        self.assertEqual(report["findings"], findings)
        fit = report["dn_template"]
        self.assertEqual(fit["not_fitting"], 0, fit)
        self.assertIsNone(fit["unused"], fit)
        self.assertGreaterEqual(fit["people"], 4)
        rc, out, _ = self.run_cli("check", "--no-doveadm", config=cfg)
        self.assertIn("users.dn_template fits all %d people" % fit["people"], out)
        self.assertNotIn("not used", out)
        # a template the runtime cannot use is said so, with why (memberof mode here)
        unused_cfg = os.path.join(self.tmp.name, "template-memberof.yaml")
        with open(cfg) as f, open(unused_cfg, "w") as g:
            g.write(f.read() + "groups:\n  membership: memberof\n")
        rc, out, _ = self.run_cli("check", "--no-doveadm", "--json", config=unused_cfg)
        self.assertIn("groups.membership is memberof", json.loads(out)["dn_template"]["unused"])
        rc, out, _ = self.run_cli("check", "--no-doveadm", config=unused_cfg)
        self.assertIn("note: users.dn_template is set but not used: groups.membership is memberof", out)
        odd = "cn=Zed Odd,ou=people,dc=example,dc=com"
        self.ldif_as_root("dn: %s\nobjectClass: inetOrgPerson\ncn: Zed Odd\nsn: Odd\nuid: zed\n"
                          "mail: zed@example.com\n" % odd, tool="ldapadd")
        try:
            rc, out, _ = self.run_cli("check", "--no-doveadm", "--json", config=cfg)
            self.assertEqual(rc, rc_t)
            after = json.loads(out)["dn_template"]
            self.assertEqual(after["people"], fit["people"] + 1)
            self.assertEqual(after["not_fitting"], 1)
            self.assertEqual(after["examples"], [{"dn": odd, "template_gives": "uid=zed,ou=people,dc=example,dc=com"}])
            rc, out, _ = self.run_cli("check", "--no-doveadm", config=cfg)
            self.assertIn("note: users.dn_template does not fit 1 of %d people" % after["people"], out)
            self.assertIn(odd, out)
            # no template: no such key, no such line
            rc, out, _ = self.run_cli("check", "--no-doveadm", "--json")
            self.assertNotIn("dn_template", json.loads(out))
        finally:
            self.ldif_as_root("dn: %s\nchangetype: delete\n" % odd)

    def test_zz_check_finds_broken_grants(self):
        self.slapd.load_ldif(os.path.join(FIXTURES, "cli", "broken-grants.ldif"))
        rc, out, _ = self.run_cli("check", "--no-doveadm", "--json")
        self.assertEqual(rc, 1)
        found = {(f["kind"], f["dn"].split(",")[0]) for f in json.loads(out)["findings"]}
        for expected in [("missing-grantee", "cn=ghost"), ("bad-rights", "cn=bad-letters"),
                         ("bad-rights", "cn=bad-role"), ("bad-send", "cn=bad-send"),
                         ("owner-without-address", "cn=under-ou"),  ("expired", "cn=vacation-2020"), ("group-cycle", "cn=loop-a")]:
            self.assertIn(expected, found)
        rc, out, _ = self.run_cli("check", "--no-doveadm")
        self.assertEqual(rc, 1)
        self.golden("check-broken.txt", out)


if __name__ == "__main__":
    unittest.main()
