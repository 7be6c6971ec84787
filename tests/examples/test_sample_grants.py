#!/usr/bin/env python3
"""The shipped examples/ldap/sample-grants.ldif, loaded into a real slapd over the demo's
sample organisation: every entry loads, `mailgrant check` finds nothing wrong with it,
and each scenario it documents decides as its comment says (through `mailgrant explain`,
the same decision code as Dovecot and Postfix use). $MAILGRANT_CLI names the binary.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from slapd_sandbox import Slapd  # noqa: E402

CLI = os.environ.get("MAILGRANT_CLI", os.path.join(ROOT, "build", "cli", "mailgrant"))


class SampleGrants(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mailgrant-examples-")
        cls.addClassCleanup(lambda: shutil.rmtree(cls.tmp, ignore_errors=True))
        cls.slapd = Slapd(os.path.join(cls.tmp, "slapd")).start()
        cls.addClassCleanup(cls.slapd.stop)
        cls.slapd.load_ldif(os.path.join(ROOT, "examples", "demo", "sample-org.ldif"))
        cls.slapd.load_ldif(os.path.join(ROOT, "examples", "ldap", "sample-grants.ldif"))
        secret = os.path.join(cls.tmp, "secret")
        with open(secret, "w") as f:
            f.write(cls.slapd.rootpw)
        cls.config = os.path.join(cls.tmp, "mailgrant.yaml")
        with open(cls.config, "w") as f:
            f.write("ldap:\n  uris: [%s]\n  base: %s\n  bind_dn: %s\n  bind_password_file: %s\n"
                    % (cls.slapd.uri, cls.slapd.base, cls.slapd.rootdn, secret))

    def mailgrant(self, *args):
        out = subprocess.run([CLI, "-c", self.config] + list(args), capture_output=True, text=True, timeout=60)
        return out.returncode, out.stdout + out.stderr

    def test_check_finds_nothing_wrong(self):
        rc, out = self.mailgrant("check", "--no-doveadm")
        self.assertEqual(rc, 0, out)

    def test_every_scenario_decides_as_documented(self):
        cases = [
            # 1. folder shared read-only
            (("explain", "bob@example.com", "alice@example.com", "Projects/2027"), 0, "lrs"),
            (("explain", "bob@example.com", "alice@example.com", "INBOX"), 1, None),
            # 2. team mailbox with send-as, through the group
            (("explain", "carol@example.com", "support@example.com", "INBOX"), 0, "lrswipkxte"),
            (("explain", "bob@example.com", "support@example.com", "--send"), 0, "sendAs"),
            # 3. vacation cover: not yet valid (August 2027)
            (("explain", "carol@example.com", "alice@example.com", "INBOX"), 1, "not yet valid"),
            # 4. per-collaborator login: dan reads and flags support@, may not send as it
            (("explain", "dan@example.com", "support@example.com", "INBOX"), 0, "lrsw"),
            (("explain", "dan@example.com", "support@example.com", "--send"), 1, None),
        ]
        for args, want_rc, want_text in cases:
            with self.subTest(args=args):
                rc, out = self.mailgrant(*args)
                self.assertEqual(rc, want_rc, out)
                if want_text:
                    self.assertIn(want_text, out)


if __name__ == "__main__":
    unittest.main()
