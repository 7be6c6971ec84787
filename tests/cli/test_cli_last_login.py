#!/usr/bin/env python3
"""Issue 14: `mailgrant report`'s last-login column against a real Dovecot (2.3 or 2.4,
whichever is installed) that runs the shipped drop-in, last_login wiring included: a
private slapd (tests/fixtures/org.ldif) and Dovecot through tests/harness/mailgrant_setup
(the drop-in's dict file /var/lib/dovecot/last-login/last-login.db pointed into the
sandbox, its directory owned by dovecot as the drop-in asks), imaplib as the client, the
CLI reading the file dict directly (--last-login-dict file:PATH). Needs root; CTest sets
$MAILGRANT_CLI, $MAILGRANT_DOVECOT_PLUGIN and $MAILGRANT_CHECKPASSWORD.

The steps build on each other (numbered: unittest runs them in name order)."""
import datetime
import imaplib
import json
import os
import pwd
import stat
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from mailgrant_setup import last_login_dict_path, plugin_stack  # noqa: E402

CLI = os.environ.get("MAILGRANT_CLI", os.path.join(ROOT, "build", "cli", "mailgrant"))
TTL = 2
KEY = "shared/last-login/%s"  # "shared/" + Dovecot's default last_login_key


def utc_today():
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


@unittest.skipUnless(os.geteuid() == 0, "the mail stack needs root")
class LastLoginTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.slapd, cls.config, cls.stack = plugin_stack(cls, "mailgrant-cli-last-login-", TTL)
        cls.dict_path = last_login_dict_path(os.path.join(cls.tmp, "etc"))

    def run_cli(self, *args):
        p = subprocess.run([CLI, "-c", self.config] + list(args), capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def report(self, *extra):
        """{mailbox: last_login} from `report --json --columns address,last-login`."""
        rc, out, err = self.run_cli("--json", "report", "--no-doveadm", "--columns", "address,last-login",
                                    "--last-login-dict", "file:" + self.dict_path, *extra)
        self.assertEqual(rc, 0, err)
        return {row["mailbox"]: row["last_login"] for row in json.loads(out)["mailboxes"]}

    def dict_values(self):
        """The file dict as Dovecot's dict process wrote it: {key: value}."""
        try:
            with open(self.dict_path) as f:
                lines = f.read().split("\n")
        except FileNotFoundError:
            return {}
        return dict(zip(lines[0::2], lines[1::2]))

    def wait_for_key(self, address, other_than=None, timeout_s=10):
        """The login's value once the dict process wrote it (asynchronously)."""
        deadline = time.time() + timeout_s
        while True:
            value = self.dict_values().get(KEY % address)
            if value is not None and value != other_than:
                return value
            if time.time() > deadline:
                with open(self.stack.dovecot_log_path) as f:
                    log = f.read()[-4000:]
                self.fail("no new last-login value for %s in %s (%r); Dovecot log:\n%s"
                          % (address, self.dict_path, self.dict_values(), log))
            time.sleep(0.1)

    def imap_login(self, user, password, select="INBOX", create=None):
        imap = imaplib.IMAP4("127.0.0.1", self.stack.imap_port, timeout=30)
        try:
            imap.login(user, password)
            if create:
                self.assertEqual(imap.create(create)[0], "OK")
            typ, data = imap.select('"%s"' % select, readonly=True)
            self.assertEqual(typ, "OK", data)
            imap.logout()
        except Exception:
            imap.shutdown()
            raise

    def test_1_before_any_login_nobody_has_a_last_login(self):
        # the drop-in's directory exists, the dict file not yet: no error, every login unknown
        self.assertFalse(os.path.exists(self.dict_path))
        logins = self.report()
        self.assertIn("alice@example.com", logins)
        self.assertEqual(set(logins.values()), {None}, logins)

    def test_2_a_login_shows_as_today(self):
        before = utc_today()
        # alice also makes the Projects folder bob's fixture grant (projects-bob) shares
        self.imap_login("alice@example.com", "alice-pw", create="Projects")
        value = self.wait_for_key("alice@example.com")
        self.assertRegex(value, r"^\d{10}$")  # last_login_precision = s
        # written by the dict process (dovecot), readable by root and the dovecot group only
        st = os.stat(self.dict_path)
        dovecot = pwd.getpwnam("dovecot")
        self.assertEqual((st.st_uid, st.st_gid), (dovecot.pw_uid, dovecot.pw_gid))
        self.assertEqual(stat.S_IMODE(st.st_mode) & 0o077, 0o040, oct(st.st_mode))
        after = utc_today()
        logins = self.report()
        self.assertIn(logins["alice@example.com"][:10], {before, after}, logins)
        self.assertIsNone(logins["bob@example.com"], logins)  # never logged in
        # the README's table: the date in alice's row, "-" in bob's
        rc, out, err = self.run_cli("report", "--no-doveadm", "--columns", "address,last-login",
                                    "--last-login-dict", "file:" + self.dict_path)
        self.assertEqual(rc, 0, err)
        rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[2:] if line.strip()}
        self.assertIn(rows["alice@example.com"], {before, after}, out)
        self.assertEqual(rows["bob@example.com"], "-", out)
        # filters and sort on the column work on the real values
        rc, out, err = self.run_cli("--json", "report", "--no-doveadm", "--columns", "address,last-login",
                                    "--last-login-dict", "file:" + self.dict_path,
                                    "--filter", "last-login>2000-01-01")
        self.assertEqual(rc, 0, err)
        self.assertEqual([r["mailbox"] for r in json.loads(out)["mailboxes"]], ["alice@example.com"])

    def test_3_opening_a_shared_mailbox_is_no_login_to_it(self):
        alice = self.wait_for_key("alice@example.com")
        time.sleep(1.1)  # a later login would have a larger value
        self.imap_login("bob@example.com", "bob-pw", select="shared/alice@example.com/Projects")
        self.wait_for_key("bob@example.com")
        self.assertEqual(self.dict_values()[KEY % "alice@example.com"], alice)
        logins = self.report()
        self.assertIsNotNone(logins["bob@example.com"])
        self.assertIsNone(logins["support@example.com"], logins)

    def test_4_a_per_collaborator_login_is_one_to_the_mailbox(self):
        # bob (support-team) opens support@ as support@example.com*bob@example.com
        bob = self.wait_for_key("bob@example.com")
        self.imap_login("support@example.com*bob@example.com", "bob-pw")
        self.wait_for_key("support@example.com")
        self.assertEqual(self.dict_values()[KEY % "bob@example.com"], bob)
        self.assertIsNotNone(self.report()["support@example.com"])

    def test_5_an_unreadable_dictionary_is_exit_6(self):
        rc, out, err = self.run_cli("report", "--no-doveadm", "--columns", "address,last-login",
                                    "--last-login-dict", "file:" + os.path.join(self.tmp, "nowhere", "x.db"))
        self.assertEqual(rc, 6, err)
        self.assertIn("last logins could not be read", err)


if __name__ == "__main__":
    unittest.main()
