#!/usr/bin/env python3
"""End to end: a private real Dovecot 2.3 loading the built plugin through the shipped
examples/dovecot/90-mailgrant.conf, a real slapd with the project's schema and fixture,
and Python's imaplib as the client. Needs root (Dovecot master) and the plugin path in
$MAILGRANT_DOVECOT_PLUGIN (CTest sets it).

The shipped drop-in is included as is except for two site paths it names
(/etc/mailgrant/mailgrant.yaml and /etc/dovecot/dovecot-ldap.conf.ext), which point
into the sandbox here.
"""
import imaplib
import os
import re
import smtplib
import subprocess
import sys
import time
import unittest
from email.message import EmailMessage

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from mail_sandbox import MailStack  # noqa: E402
from mailgrant_setup import (CHECKPASSWORD, PLUGIN, assert_dovecot_log_clean, dovecot_conf_with_plugin,  # noqa: E402
                             ldap_apply, plugin_stack, start_directory, write_config)

TTL = 2  # cache ttl for the test: revocations must be obeyed within it


class DovecotPluginTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The plugin runs as the mail user: config and password readable by it.
        valgrind = ""
        if os.environ.get("MAILGRANT_VALGRIND_LOG_DIR"):
            # Optional memory check of the plugin inside real imap processes (slow):
            # MAILGRANT_VALGRIND_LOG_DIR=/tmp/vg python3 tests/dovecot-plugin/test_dovecot_plugin.py
            valgrind = ("service imap {\n  executable = /usr/bin/valgrind -q --error-exitcode=99 "
                        "--suppressions=%s --log-file=%s/imap-%%p.log /usr/lib/dovecot/imap\n}\n"
                        % (os.path.join(HERE, "valgrind.supp"), os.environ["MAILGRANT_VALGRIND_LOG_DIR"]))
        cls.tmp, cls.slapd, cls.config, cls.stack = plugin_stack(cls, "mailgrant-dovecot-it-", TTL,
                                                                 extra_dovecot_conf=valgrind)
        cls.seed()

    @classmethod
    def seed(cls):
        # alice's folders, created by alice herself
        with cls.login("alice@example.com", "alice-pw") as imap:
            for folder in ["Projects", "Projects/2025", "Private"]:
                assert imap.create(folder)[0] == "OK"
            for folder, subject in [("INBOX", "alice inbox mail"), ("Projects", "project plan"),
                                    ("Projects/2025", "budget 2025"), ("Private", "diary")]:
                msg = ("From: alice@example.com\r\nTo: alice@example.com\r\nSubject: %s\r\n\r\nbody\r\n"
                       % subject).encode()
                assert imap.append(folder, None, None, msg)[0] == "OK"
        # the shared mailbox support@ receives customer mail through Postfix/LMTP
        for n in range(2):
            m = EmailMessage()
            m["From"], m["To"], m["Subject"] = "customer@example.org", "support@example.com", "ticket %d" % n
            m.set_content("help\n")
            with smtplib.SMTP("127.0.0.1", cls.stack.smtp_port, timeout=30) as smtp:
                smtp.send_message(m)
            cls.stack.wait_for_delivery("support@example.com", "ticket %d" % n)

    @classmethod
    def login(cls, user, password):
        imap = imaplib.IMAP4("127.0.0.1", cls.stack.imap_port, timeout=30)
        imap.login(user, password)
        return imap

    def assert_logged(self, text, timeout_s=10):
        """Dovecot's processes log through its log service, asynchronously: poll."""
        deadline = time.time() + timeout_s
        while True:
            with open(self.stack.dovecot_log_path) as f:
                if text in f.read():
                    return
            if time.time() > deadline:
                self.fail("not in the Dovecot log within %d s: %s" % (timeout_s, text))
            time.sleep(0.2)

    def names(self, imap):
        typ, data = imap.list('""', "*")
        self.assertEqual(typ, "OK")
        out = []
        for line in data:
            m = re.match(rb'\((.*?)\) "(.)" (.*)', line)
            name = m.group(3).decode()
            out.append(name.strip('"'))
        return sorted(out)

    def myrights(self, imap, folder):
        """MYRIGHTS as RFC 4314 letters in canonical order, without the obsolete c/d
        that Dovecot adds for RFC 2086 clients."""
        typ, data = imap.myrights('"%s"' % folder)
        if typ != "OK":
            return None
        letters = data[0].decode().rsplit(" ", 1)[1]
        return "".join(c for c in "lrswipkxtea" if c in letters)

    def test_reader_sees_only_the_granted_folders(self):
        with self.login("bob@example.com", "bob-pw") as imap:
            names = self.names(imap)
            self.assertIn("shared/alice@example.com/Projects", names)
            self.assertIn("shared/alice@example.com/Projects/2025", names)
            self.assertNotIn("shared/alice@example.com/Private", names)
            self.assertNotIn("shared/alice@example.com/INBOX", names)
            self.assertEqual(self.myrights(imap, "shared/alice@example.com/Projects"), "lrs")
            typ, _ = imap.select('"shared/alice@example.com/Projects"')
            self.assertEqual(typ, "OK")
            typ, data = imap.search(None, "SUBJECT", '"project plan"')
            self.assertEqual(data[0], b"1")
            typ, data = imap.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            self.assertIn(b"project plan", data[0][1])
            # reader: Dovecot silently drops flags the user may not set (\Deleted needs 't')
            imap.store("1", "+FLAGS", "(\\Deleted)")
            self.assertNotIn(b"\\Deleted", imap.fetch("1", "(FLAGS)")[1][0])
            self.assertNotEqual(imap.append('"shared/alice@example.com/Projects"', None, None,
                                            b"Subject: x\r\n\r\nx\r\n")[0], "OK")
            self.assertNotEqual(imap.select('"shared/alice@example.com/Private"')[0], "OK")
            self.assertNotEqual(imap.select('"shared/alice@example.com/INBOX"')[0], "OK")

    def test_team_member_works_the_shared_mailbox(self):
        with self.login("bob@example.com", "bob-pw") as imap:  # through group support-team
            # Dovecot lists a shared owner's INBOX as the bare prefix; both names select it.
            self.assertIn("shared/support@example.com", self.names(imap))
            self.assertEqual(imap.select('"shared/support@example.com"')[0], "OK")
            self.assertEqual(self.myrights(imap, "shared/support@example.com/INBOX"), "lrswipkxte")
            self.assertEqual(imap.select('"shared/support@example.com/INBOX"')[0], "OK")
            self.assertEqual(imap.store("1", "+FLAGS", "(\\Flagged)")[0], "OK")
        with self.login("carol@example.com", "carol-pw") as imap:  # nested: leads -> team
            self.assertEqual(imap.select('"shared/support@example.com/INBOX"')[0], "OK")
            typ, data = imap.fetch("1", "(FLAGS)")
            self.assertIn(b"\\Flagged", data[0])  # shared flag

    def test_seen_is_private_per_user(self):
        with self.login("bob@example.com", "bob-pw") as imap:
            imap.select('"shared/support@example.com/INBOX"')
            imap.store("2", "+FLAGS", "(\\Seen)")
            self.assertIn(b"\\Seen", imap.fetch("2", "(FLAGS)")[1][0])
        with self.login("carol@example.com", "carol-pw") as imap:
            imap.select('"shared/support@example.com/INBOX"')
            self.assertNotIn(b"\\Seen", imap.fetch("2", "(FLAGS)")[1][0])

    def test_letters_only_grant_through_a_group_cycle(self):
        with self.login("dave@example.com", "dave-pw") as imap:  # loop-a <-> loop-b, rights "lr"
            self.assertIn("shared/support@example.com", self.names(imap))
            self.assertEqual(self.myrights(imap, "shared/support@example.com/INBOX"), "lr")
            self.assertEqual(imap.select('"shared/support@example.com/INBOX"', readonly=True)[0], "OK")
            # without s/w/t/i/e rights Dovecot opens it READ-ONLY even when asked read-write
            with self.assertRaises(imaplib.IMAP4.readonly):
                imap.select('"shared/support@example.com/INBOX"')
            imap.untagged_responses.clear()  # imaplib would raise again on LOGOUT

    def test_outsider_and_expired_grant_see_nothing(self):
        with self.login("eve@example.com", "eve-pw") as imap:
            self.assertFalse([n for n in self.names(imap) if n.startswith("shared/")])
            self.assertNotEqual(imap.select('"shared/support@example.com/INBOX"')[0], "OK")
            self.assertNotEqual(imap.select('"shared/support@example.com"')[0], "OK")
        with self.login("carol@example.com", "carol-pw") as imap:  # vacation cover ended in 2020
            self.assertNotEqual(imap.select('"shared/alice@example.com/INBOX"')[0], "OK")

    def test_getacl_shows_ldap_grants_to_the_owner(self):
        with self.login("alice@example.com", "alice-pw") as imap:
            typ, data = imap.getacl("Projects/2025")
            self.assertEqual(typ, "OK")
            acl = data[0].decode()
            self.assertRegex(acl, r"bob@example\.com l?r?s?\b")
            m = re.search(r"bob@example\.com (\S+)", acl)
            self.assertEqual(set(m.group(1)) - {"c", "d"}, set("lrs"), acl)
            typ, data = imap.getacl("Private")  # nothing shared there
            self.assertNotIn("bob@example.com", data[0].decode())

    def test_owner_keeps_full_rights_on_own_mailbox(self):
        with self.login("alice@example.com", "alice-pw") as imap:
            self.assertEqual(self.myrights(imap, "Projects"), "lrswipkxtea")
            self.assertFalse([n for n in self.names(imap) if n.startswith("shared/alice")])

    def test_new_grant_appears_and_revocation_applies_without_relogin(self):
        dn = "cn=eve-projects,uid=alice,ou=people,dc=example,dc=com"
        with self.login("eve@example.com", "eve-pw") as imap:
            self.assertNotEqual(imap.select('"shared/alice@example.com/Projects"')[0], "OK")
            ldap_apply(self.slapd, "dn: %s\nobjectClass: mailGrant\ncn: eve-projects\n"
                                   "mailGrantee: uid=eve,ou=people,dc=example,dc=com\n"
                                   "mailGrantFolder: Projects\nmailGrantRights: reader\n" % dn, "ldapadd")
            try:
                deadline = time.time() + 15
                while imap.select('"shared/alice@example.com/Projects"')[0] != "OK":
                    self.assertLess(time.time(), deadline, "grant not obeyed within the TTL")
                    time.sleep(0.5)
            finally:
                ldap_apply(self.slapd, "dn: %s\nchangetype: delete\n" % dn)
            # same session, no re-login: access ends within the TTL
            deadline = time.time() + 15
            while True:
                imap.close()
                if imap.select('"shared/alice@example.com/Projects"')[0] != "OK":
                    break
                self.assertLess(time.time(), deadline, "revocation not obeyed within the TTL")
                time.sleep(0.5)

    def test_what_an_open_folder_keeps_after_revocation(self):
        """README: a SELECTed folder keeps read access until re-selected; every flag
        change checks the rights again."""
        dn = "cn=dave-projects,uid=alice,ou=people,dc=example,dc=com"
        ldap_apply(self.slapd, "dn: %s\nobjectClass: mailGrant\ncn: dave-projects\n"
                               "mailGrantee: uid=dave,ou=people,dc=example,dc=com\n"
                               "mailGrantFolder: Projects\nmailGrantRights: reader\n" % dn, "ldapadd")
        deleted = False
        try:
            with self.login("dave@example.com", "dave-pw") as imap:
                self.assertEqual(imap.select('"shared/alice@example.com/Projects"')[0], "OK")
                ldap_apply(self.slapd, "dn: %s\nchangetype: delete\n" % dn)
                deleted = True
                time.sleep(TTL + 1.5)
                self.assertEqual(imap.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")[0], "OK")  # kept
                imap.store("1", "+FLAGS", "(\\Seen)")  # 's' is gone: Dovecot drops the flag
                self.assertNotIn(b"\\Seen", imap.fetch("1", "(FLAGS)")[1][0])
                imap.close()
                self.assertNotEqual(imap.select('"shared/alice@example.com/Projects"')[0], "OK")
        finally:
            if not deleted:
                ldap_apply(self.slapd, "dn: %s\nchangetype: delete\n" % dn)

    def test_per_collaborator_login(self):
        imap = self.login("support@example.com*bob@example.com", "bob-pw")
        try:
            self.assertEqual(imap.select("INBOX")[0], "OK")
            self.assertEqual(self.myrights(imap, "INBOX"), "lrswipkxte")
            typ, data = imap.search(None, "ALL")
            self.assertEqual(len(data[0].split()), 2)
        finally:
            imap.logout()
        with self.assertRaises(imaplib.IMAP4.error):  # eve has no grant on support: LOGIN fails
            self.login("support@example.com*eve@example.com", "eve-pw")
        self.assert_logged("refused login of eve@example.com to support@example.com: no grant")
        with self.assertRaises(imaplib.IMAP4.error):  # an empty password never binds
            self.login("support@example.com*bob@example.com", "")
        with self.assertRaises(imaplib.IMAP4.error):  # right grantee, wrong password
            self.login("support@example.com*bob@example.com", "wrong")

    def test_ldap_hang_keeps_own_mailbox_and_denies_shared(self):
        own = self.login("alice@example.com", "alice-pw")
        other = self.login("carol@example.com", "carol-pw")
        try:
            time.sleep(TTL + 1)  # let cached grants expire
            self.slapd.pause()
            try:
                self.assertEqual(own.select("Projects")[0], "OK")
                self.assertEqual(own.search(None, "ALL")[0], "OK")
                self.assertNotEqual(other.select('"shared/support@example.com/INBOX"')[0], "OK")
                self.assertNotEqual(other.select('"shared/support@example.com/INBOX"')[0], "OK")
            finally:
                self.slapd.resume()
            deadline = time.time() + 15
            while other.select('"shared/support@example.com/INBOX"')[0] != "OK":
                self.assertLess(time.time(), deadline, "shared access did not come back with LDAP")
                time.sleep(0.5)
        finally:
            own.logout()
            other.logout()
        self.assert_logged("mailgrant: rights of carol@example.com")

    @classmethod
    def tearDownClass(cls):
        assert_dovecot_log_clean(cls.stack.dovecot_log_path)


class BadConfigTest(unittest.TestCase):
    """Issue 10, part 5: mailgrant_config names a configuration the plugin cannot load
    (missing, then broken). Each IMAP login is a new imap process (Dovecot's default
    service_count = 1), so each one loads it afresh: one clear error line per process,
    no crash, the user's own mailbox works as without the plugin, and shared access comes
    back when the file is fixed, without restarting Dovecot. The drop-in names the path
    once: the dict driver (acl_shared_dict = mailgrant:) reads it from mailgrant_config."""

    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.slapd = start_directory(cls, "mailgrant-dovecot-badconfig-")
        etc = os.path.join(cls.tmp, "etc")
        cls.good_config = write_config(etc, cls.slapd, TTL, 1)
        cls.config = os.path.join(etc, "site.yaml")  # does not exist yet
        mail_dir = os.path.join(cls.tmp, "mail")
        os.mkdir(mail_dir)
        os.chmod(mail_dir, 0o755)
        cls.stack = MailStack(mail_dir, cls.slapd.uri, cls.slapd.base)
        cls.stack.dovecot_extra_conf = dovecot_conf_with_plugin(
            etc, PLUGIN, cls.config, cls.stack.dovecot_ldap_conf_path, CHECKPASSWORD)
        cls.stack.start()
        cls.addClassCleanup(cls.stack.stop)

    names = DovecotPluginTest.names
    assert_logged = DovecotPluginTest.assert_logged

    def login(self, user, password):
        imap = imaplib.IMAP4("127.0.0.1", self.stack.imap_port, timeout=30)
        try:
            imap.login(user, password)
        except imaplib.IMAP4.error:
            imap.shutdown()
            raise
        return imap

    def deliver(self, to, subject):
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = "customer@example.org", to, subject
        m.set_content("delivered while the configuration is broken\n")
        with smtplib.SMTP("127.0.0.1", self.stack.smtp_port, timeout=30) as smtp:
            smtp.send_message(m)
        self.stack.wait_for_delivery(to, subject)  # LMTP loads the plugin too

    def log_lines(self):
        with open(self.stack.dovecot_log_path) as f:
            return f.read().splitlines()

    def own_mailbox_works(self, user, password, subject):
        self.deliver(user, subject)
        with self.login(user, password) as imap:
            self.assertEqual(imap.select("INBOX")[0], "OK")
            typ, data = imap.search(None, "SUBJECT", '"%s"' % subject)
            self.assertEqual(typ, "OK")
            self.assertTrue(data[0].split(), "delivered mail not in INBOX")
            self.assertEqual(imap.create("Notes-" + subject.replace(" ", "-"))[0], "OK")
            self.assertEqual(imap.append("INBOX", None, None, b"Subject: own\r\n\r\nown\r\n")[0], "OK")
            names = self.names(imap)
            self.assertIn("INBOX", names)
            self.assertFalse([n for n in names if n.startswith("shared/")], names)
            self.assertNotEqual(imap.select('"shared/support@example.com/INBOX"')[0], "OK")

    def mailgrant_errors_by_process(self):
        """{imap process id: [mailgrant error lines]} from the Dovecot log."""
        out = {}
        for line in self.log_lines():
            m = re.search(r" (?:imap|lmtp)\([^)]*\)<(\d+)>.*Error: (.*)", line)
            if m and "mailgrant" in m.group(2):
                out.setdefault(m.group(1), []).append(m.group(2))
        return out

    def test_1_missing_then_broken_then_fixed(self):
        # missing file
        self.own_mailbox_works("bob@example.com", "bob-pw", "missing config")
        self.assert_logged("mailgrant: cannot load the configuration: %s: cannot open the configuration file"
                           % self.config)
        with self.assertRaises(imaplib.IMAP4.error):  # per-collaborator login: refused, not crashed
            self.login("support@example.com*bob@example.com", "bob-pw")

        # a file that is there but wrong: the error names the key and line
        with open(self.good_config) as f:
            good = f.read()
        with open(self.config, "w") as f:
            f.write(good + "bogus_key: 1\n")
        os.chmod(self.config, 0o644)
        self.own_mailbox_works("carol@example.com", "carol-pw", "broken config")
        self.assert_logged("bogus_key: unknown key")

        # one clear line per process: no second line for the same failure (such as
        # Dovecot's own report of a failed acl_shared_dict lookup)
        for pid, lines in self.mailgrant_errors_by_process().items():
            self.assertEqual(len(lines), 1, "process %s logged:\n%s" % (pid, "\n".join(lines)))
        self.assertFalse([line for line in self.log_lines() if "not initialised" in line])

        # fixed: the next login sees its shared mailboxes, found through acl_shared_dict
        # = mailgrant: (no path there) from mailgrant_config
        self.deliver("support@example.com", "ticket")
        with open(self.config, "w") as f:
            f.write(good)
        with self.login("bob@example.com", "bob-pw") as imap:
            self.assertIn("shared/support@example.com", self.names(imap))
            self.assertEqual(imap.select('"shared/support@example.com"')[0], "OK")

    @classmethod
    def tearDownClass(cls):
        assert_dovecot_log_clean(cls.stack.dovecot_log_path, extra=("signal 11", "killed with signal"))


if __name__ == "__main__":
    unittest.main()
