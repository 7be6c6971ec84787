#!/usr/bin/env python3
"""End to end (issue 17): mail sent as a team mailbox is filed in that mailbox's Sent
folder, server-side, exactly once -- the milter of mailgrant-policyd adds one envelope
recipient in the reserved domain, Postfix routes it (examples/postfix/main.cf.snippet's
transport_maps) to the shipped pipe service (master.cf.snippet) that runs Dovecot's LDA.

The whole stack as shipped: a real slapd (tests/fixtures/org.ldif plus two more shared
mailboxes below), Dovecot loading the plugin through the shipped drop-in, Postfix with
the shipped snippets (policy check, milter, sent-copy route), one mailgrant-policyd
serving the policy check and the milter on Postfix's private sockets, with
team_mailbox.sent_copy_domain set to the domain the snippet routes.

  bob (sendAs support@ by group) sends as support@ to alice and dave
        -> one copy in support@'s Sent (carol, another member, finds it over IMAP in
           shared/support@example.com/Sent: Message-ID count 1), the milter's
           "sent_copy=added" line names bob and support@, sent_copies_total + 1
  dave sends on behalf of carol (a person)      -> no copy (default "shared"), logged why
  bob sends as billing@ (mailSharedSentCopy: FALSE) -> no copy, logged why
  RCPT TO the reserved domain                   -> 5.7.1 from the policy check (submission)
                                                   and from port 25 (not a relay domain)
  LDAP stopped (SIGSTOP) while carol sends as helpdesk@ -> 4xx and no copy; the retry
                                                   once LDAP is back -> exactly one copy
Needs root.
"""
import imaplib
import os
import pwd
import smtplib
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
sys.path.insert(0, HERE)
import postfix_snippets  # noqa: E402
from mail_sandbox import MAIL_USER, MailStack  # noqa: E402
from mailgrant_setup import (CHECKPASSWORD, PLUGIN, assert_dovecot_log_clean, dovecot_conf_with_plugin,  # noqa: E402
                             ldap_apply, start_directory, write_config)
from test_policyd import Daemon  # noqa: E402

WAIT_S = 20
DOMAIN = postfix_snippets.sent_copy_domain()
TEAM_MAILBOX = "team_mailbox:\n  sent_copy_domain: %s\n" % DOMAIN

# billing@: a team mailbox whose switch says no; helpdesk@: used only by the LDAP test,
# so nothing about it is cached when LDAP stops.
EXTRA_LDIF = """\
dn: uid=billing,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
objectClass: mailSharedMailbox
uid: billing
cn: Billing
sn: Billing
mail: billing@example.com
mailSharedSentCopy: FALSE

dn: cn=team,uid=billing,ou=people,dc=example,dc=com
objectClass: mailGrant
cn: team
mailGrantee: cn=support-team,ou=groups,dc=example,dc=com
mailGrantSend: sendAs

dn: uid=helpdesk,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
objectClass: mailSharedMailbox
uid: helpdesk
cn: Helpdesk
sn: Helpdesk
mail: helpdesk@example.com

dn: cn=carol,uid=helpdesk,ou=people,dc=example,dc=com
objectClass: mailGrant
cn: carol
mailGrantee: uid=carol,ou=people,dc=example,dc=com
mailGrantFolder: *
mailGrantRights: editor
mailGrantSend: sendAs
"""


class SentCopyDaemon(Daemon):
    """The test daemon's configuration plus the team_mailbox section."""

    def write_config(self):
        super().write_config()
        with open(self.config_path, "a") as f:
            f.write(TEAM_MAILBOX)


def message(header_from, subject, to, extra_headers=()):
    msg_id = "<%d.%s@sent-copy.test>" % (time.time_ns(), abs(hash(subject)))
    lines = ["From: %s" % header_from] + list(extra_headers) + [
        "To: %s" % ", ".join("<%s>" % t for t in to), "Subject: %s" % subject,
        "Message-ID: %s" % msg_id, "", "mailgrant issue 17 sent copy test", ""]
    return msg_id, "\r\n".join(lines).encode()


class SentCopies(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.slapd = start_directory(cls, "mailgrant-sent-copy-")
        ldap_apply(cls.slapd, EXTRA_LDIF, tool="ldapadd")
        etc = os.path.join(cls.tmp, "etc")
        config = write_config(etc, cls.slapd, 2, 1, extra=TEAM_MAILBOX)
        mail_dir = os.path.join(cls.tmp, "mail")
        os.mkdir(mail_dir)
        os.chmod(mail_dir, 0o755)
        cls.stack = MailStack(mail_dir, cls.slapd.uri, cls.slapd.base,
                              postfix_main_extra=postfix_snippets.main_cf(),
                              submission_options=postfix_snippets.submission_options())
        cls.stack.dovecot_extra_conf = dovecot_conf_with_plugin(
            etc, PLUGIN, config, cls.stack.dovecot_ldap_conf_path, CHECKPASSWORD)
        # dovecot-lda runs as the mail user and logs to its own file (the sandbox's
        # Dovecot log is root's).
        cls.lda_log = os.path.join(cls.tmp, "dovecot-lda.log")
        open(cls.lda_log, "a").close()
        mail = pwd.getpwnam(MAIL_USER)
        os.chown(cls.lda_log, mail.pw_uid, mail.pw_gid)
        cls.stack.postfix_master_extra = postfix_snippets.sent_copy_service(
            cls.stack.dovecot_conf_path, MAIL_USER, cls.lda_log)
        policy_dir = os.path.join(cls.tmp, "policyd")
        os.mkdir(policy_dir)
        cls.policyd = SentCopyDaemon(
            policy_dir, cls.slapd,
            listen="unix:" + postfix_snippets.policy_socket(cls.stack.postfix_queue_dir),
            extra_args=["--milter", "unix:" + postfix_snippets.milter_socket(cls.stack.postfix_queue_dir)],
            socket_owner="postfix", socket_group="postfix", socket_mode="0660", request_timeout_ms=1500)
        cls.stack.start()
        cls.addClassCleanup(cls.stack.stop)
        cls.policyd.start()
        cls.addClassCleanup(cls.policyd.stop)
        if not cls.policyd.logged("milter on"):
            raise RuntimeError("the milter did not start: " + cls.policyd.log_text())

    @classmethod
    def tearDownClass(cls):
        assert_dovecot_log_clean(cls.stack.dovecot_log_path)

    # ---- helpers -------------------------------------------------------------

    def smtp(self, login):
        s = smtplib.SMTP("127.0.0.1", self.stack.submission_port, timeout=60)
        self.addCleanup(s.close)
        s.login(login, login.split("@")[0] + "-pw")
        return s

    def copies(self, mailbox, msg_id, folder="Sent"):
        """Files in the mailbox's folder (maildir, "/" separator -> .Sent) holding msg_id."""
        root = self.stack.maildir_of(mailbox)
        folder_dir = root if folder == "INBOX" else os.path.join(root, "." + folder.replace("/", "."))
        found = 0
        for sub in ("new", "cur"):
            d = os.path.join(folder_dir, sub)
            for name in (os.listdir(d) if os.path.isdir(d) else ()):
                with open(os.path.join(d, name), "rb") as f:
                    found += msg_id.encode() in f.read().split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        return found

    def wait_for_copies(self, mailbox, msg_id, want=1):
        deadline = time.time() + WAIT_S
        while self.copies(mailbox, msg_id) < want:
            if time.time() > deadline:
                self.fail("no copy of %s in %s's Sent:\n---- postfix ----\n%s\n---- lda ----\n%s" % (
                    msg_id, mailbox, self.tail(self.stack.postfix_log_path), self.tail(self.lda_log)))
            time.sleep(0.1)

    def tail(self, path, n=40):
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])

    def milter_lines(self, login, what, mailbox):
        return [line for line in self.policyd.log_text().splitlines()
                if "milter:" in line and " login=%s " % login in line and " sent_copy=%s " % what in line
                and " mailbox=<%s> " % mailbox in line]

    def wait_for_milter_line(self, login, what, mailbox, count=1):
        deadline = time.time() + WAIT_S
        while len(self.milter_lines(login, what, mailbox)) < count:
            if time.time() > deadline:
                self.fail("no milter line sent_copy=%s for %s / %s:\n%s" % (
                    what, login, mailbox, self.policyd.log_text()[-3000:]))
            time.sleep(0.1)
        return self.milter_lines(login, what, mailbox)

    def pipe_deliveries(self, mailbox):
        """Postfix's delivery lines of copies for `mailbox` through the sent-copy service.
        Counted per mailbox: Postfix logs a delivery after the LDA has written the file,
        so another test's copy (already seen in its Sent) may still be logged later."""
        to = 'to=<"%s"@%s>' % (mailbox, DOMAIN)
        return sum(1 for line in self.tail(self.stack.postfix_log_path, 100000).splitlines()
                   if "relay=%s" % postfix_snippets.SENT_COPY_SERVICE in line and to in line)

    # ---- the copy ------------------------------------------------------------

    def test_send_as_team_mailbox_files_exactly_one_copy(self):
        before = self.policyd.metrics().get("sent_copies_total", 0)
        piped = self.pipe_deliveries("support@example.com")
        msg_id, msg = message("Support <support@example.com>", "bob answers as support",
                              ["alice@example.com", "dave@example.com"])
        self.smtp("bob@example.com").sendmail("support@example.com", ["alice@example.com", "dave@example.com"], msg)
        for rcpt in ("alice@example.com", "dave@example.com"):
            self.stack.wait_for_delivery(rcpt, "bob answers as support")
        self.wait_for_copies("support@example.com", msg_id)
        # Postfix logs the pipe delivery (the count the no-copy tests compare) once.
        deadline = time.time() + WAIT_S
        while self.pipe_deliveries("support@example.com") < piped + 1 and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.pipe_deliveries("support@example.com"), piped + 1)
        # The milter decided and added it: its line names the person, the mailbox, the copy.
        added = self.wait_for_milter_line("bob@example.com", "added", "support@example.com")
        self.assertEqual(len(added), 1, added)
        self.assertIn('folder="Sent" recipient=<"support@example.com"@%s>' % DOMAIN, added[0])
        self.assertEqual(self.policyd.metrics()["sent_copies_total"], before + 1)
        # Exactly once, in Sent only (not the mailbox's INBOX, not the members' mail).
        self.assertEqual(self.copies("support@example.com", msg_id), 1)
        self.assertEqual(self.copies("support@example.com", msg_id, folder="INBOX"), 0)
        self.assertEqual(self.copies("alice@example.com", msg_id, folder="INBOX"), 1)
        self.assertEqual(self.copies("dave@example.com", msg_id, folder="INBOX"), 1)
        # Another member finds it where a client looks: the team mailbox's Sent.
        with imaplib.IMAP4("127.0.0.1", self.stack.imap_port) as imap:
            imap.login("carol@example.com", "carol-pw")
            typ, _ = imap.select('"shared/support@example.com/Sent"', readonly=True)
            self.assertEqual(typ, "OK")
            typ, data = imap.search(None, "HEADER", "Message-ID", msg_id)
            self.assertEqual(typ, "OK")
            self.assertEqual(len(data[0].split()), 1, data)
            imap.logout()

    def test_person_mailbox_gets_no_copy_by_default(self):
        # dave may send on behalf of carol, a person: team_mailbox.sent_copy = shared.
        deliveries = self.pipe_deliveries("carol@example.com")
        msg_id, msg = message("Carol White <carol@example.com>", "dave for carol", ["alice@example.com"],
                              ["Sender: dave@example.com"])
        self.smtp("dave@example.com").sendmail("carol@example.com", ["alice@example.com"], msg)
        self.stack.wait_for_delivery("alice@example.com", "dave for carol")
        line = self.wait_for_milter_line("dave@example.com", "no", "carol@example.com")[-1]
        self.assertIn("is not a shared mailbox", line)
        self.assertEqual(self.milter_lines("dave@example.com", "added", "carol@example.com"), [])
        self.assertEqual(self.copies("carol@example.com", msg_id), 0)
        self.assertEqual(self.pipe_deliveries("carol@example.com"), deliveries)

    def test_switch_false_gives_no_copy(self):
        deliveries = self.pipe_deliveries("billing@example.com")
        msg_id, msg = message("billing@example.com", "bob as billing", ["alice@example.com"])
        self.smtp("bob@example.com").sendmail("billing@example.com", ["alice@example.com"], msg)
        self.stack.wait_for_delivery("alice@example.com", "bob as billing")
        line = self.wait_for_milter_line("bob@example.com", "no", "billing@example.com")[-1]
        self.assertIn("switch is FALSE", line)
        self.assertEqual(self.milter_lines("bob@example.com", "added", "billing@example.com"), [])
        self.assertEqual(self.copies("billing@example.com", msg_id), 0)
        self.assertEqual(self.pipe_deliveries("billing@example.com"), deliveries)

    # ---- nobody else writes into a Sent folder ---------------------------------

    def test_clients_cannot_address_the_reserved_domain(self):
        target = '"support@example.com"@' + DOMAIN
        msg_id, msg = message("bob@example.com", "bob injects", [target])
        s = self.smtp("bob@example.com")
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as caught:
            s.sendmail("bob@example.com", [target], msg)
        code, text = caught.exception.recipients[target]
        self.assertEqual(code // 100, 5, text)
        self.assertIn(b"5.7.1", text)
        self.assertIn(b"reserved for mailgrant's sent copies", text)
        self.assertTrue(self.policyd.logged("login=bob@example.com sender=<bob@example.com> decision=reject"))
        self.assertTrue(self.policyd.logged("is in the reserved sent-copy domain " + DOMAIN))
        # Port 25: not a domain this server accepts mail for.
        with smtplib.SMTP("127.0.0.1", self.stack.smtp_port, timeout=60) as inbound:
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as caught:
                inbound.sendmail("mallory@example.org", [target], msg)
        code, text = caught.exception.recipients[target]
        self.assertEqual(code // 100, 5, text)
        self.assertIn(b"5.7.1", text)
        self.assertEqual(self.copies("support@example.com", msg_id), 0)

    # ---- LDAP down: never sent without its copy, never two -----------------------

    def test_ldap_down_defers_without_copy_and_the_retry_files_one(self):
        # carol first sends as herself: the envelope check of <carol@> is then answered
        # from the daemon's memory, so the message reaches the milter while LDAP hangs,
        # and the milter's own need of LDAP (helpdesk@, never asked before) is what fails.
        subject = "carol as helpdesk during an LDAP hang"
        msg_id, msg = message("helpdesk@example.com", subject, ["alice@example.com"])
        s = self.smtp("carol@example.com")  # SASL needs LDAP: before the hang
        _, own = message("carol@example.com", "carol as herself", ["alice@example.com"])
        s.sendmail("carol@example.com", ["alice@example.com"], own)
        self.slapd.pause()
        try:
            with self.assertRaises(smtplib.SMTPDataError) as caught:
                s.sendmail("carol@example.com", ["alice@example.com"], msg)
        finally:
            self.slapd.resume()
        self.assertEqual(caught.exception.smtp_code // 100, 4, caught.exception)
        self.assertIn(b"4.7.1", caught.exception.smtp_error)
        self.assertTrue(self.policyd.logged("login=carol@example.com from=\"helpdesk@example.com\" decision=tempfail"))
        self.assertEqual(self.milter_lines("carol@example.com", "yes", "helpdesk@example.com"), [])
        self.assertEqual(self.copies("helpdesk@example.com", msg_id), 0)
        deadline = time.time() + WAIT_S
        while True:  # the client's retry, once LDAP answers again
            s.rset()
            try:
                s.sendmail("carol@example.com", ["alice@example.com"], msg)
                break
            except smtplib.SMTPDataError as e:
                if e.smtp_code // 100 != 4 or time.time() > deadline:
                    raise
                time.sleep(0.5)
        self.stack.wait_for_delivery("alice@example.com", subject)
        self.wait_for_copies("helpdesk@example.com", msg_id)
        self.assertEqual(self.copies("helpdesk@example.com", msg_id), 1)
        self.assertEqual(len(self.wait_for_milter_line("carol@example.com", "added", "helpdesk@example.com")), 1)


if __name__ == "__main__":
    unittest.main()
