#!/usr/bin/env python3
"""End to end: a private real Postfix (submission with Dovecot SASL, real LDAP passwords)
configured with the shipped examples/postfix/main.cf.snippet, calling mailgrant-policyd
over a unix socket in Postfix's private directory, delivering to a private Dovecot.

Proves the check is reached for authenticated users (the shipped restriction class puts
it before permit_sasl_authenticated), delegated senders are accepted and delivered,
others get 5.7.1 with the reason, and LDAP trouble gives 4xx and the same message is
accepted once LDAP is back. Needs root (Postfix and Dovecot masters).
"""
import os
import smtplib
import sys
import time
import unittest
from email.message import EmailMessage

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
sys.path.insert(0, HERE)
from mail_sandbox import MailStack  # noqa: E402
from mailgrant_setup import start_directory  # noqa: E402
from test_policyd import Daemon  # noqa: E402

SNIPPET = os.path.join(ROOT, "examples", "postfix", "main.cf.snippet")


def message(sender, to, subject):
    m = EmailMessage()
    m["From"] = sender
    m["To"] = to
    m["Subject"] = subject
    m.set_content("mailgrant end-to-end test\n")
    return m


class PolicydThroughPostfix(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.slapd = start_directory(cls, "mailgrant-pf-e2e-")
        with open(SNIPPET) as f:
            snippet = f.read()
        mail_dir = os.path.join(cls.tmp, "mail")
        os.mkdir(mail_dir)
        os.chmod(mail_dir, 0o755)
        cls.stack = MailStack(mail_dir, cls.slapd.uri, cls.slapd.base, postfix_main_extra=snippet,
                              submission_sender_restrictions="mailgrant_submission")
        cls.stack.start()
        cls.addClassCleanup(cls.stack.stop)
        # The snippet names unix:private/mailgrant, i.e. <queue_directory>/private/mailgrant.
        policy_dir = os.path.join(cls.tmp, "policyd")
        os.mkdir(policy_dir)
        cls.policyd = Daemon(policy_dir, cls.slapd,
                             listen="unix:" + os.path.join(cls.stack.postfix_queue_dir, "private", "mailgrant"),
                             socket_owner="postfix", socket_group="postfix", socket_mode="0660",
                             request_timeout_ms=1500)
        cls.policyd.start()
        cls.addClassCleanup(cls.policyd.stop)

    def submit(self, login, password, sender, subject, to="alice@example.com"):
        with smtplib.SMTP("127.0.0.1", self.stack.submission_port, timeout=30) as smtp:
            smtp.login(login, password)
            smtp.send_message(message(sender, to, subject), from_addr=sender, to_addrs=[to])

    def assert_decided(self, login, sender, decision):
        """The daemon itself logged this decision (mail that merely arrived could have
        passed an unwired check)."""
        needle = "login=%s sender=<%s> decision=%s " % (login, sender, decision)
        self.assertTrue(self.policyd.logged(needle), "policyd did not log %r:\n%s" % (needle, self.policyd.log_text()[-3000:]))

    def test_delegated_sender_is_accepted_and_delivered(self):
        self.submit("bob@example.com", "bob-pw", "support@example.com", "from support via bob")
        self.stack.wait_for_delivery("alice@example.com", "from support via bob")
        self.assert_decided("bob@example.com", "support@example.com", "allow")

    def test_own_address_is_accepted(self):
        self.submit("eve@example.com", "eve-pw", "eve@example.com", "eve as herself")
        self.stack.wait_for_delivery("alice@example.com", "eve as herself")
        self.assert_decided("eve@example.com", "eve@example.com", "allow")

    def test_undelegated_sender_is_rejected_with_the_reason(self):
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as caught:
            self.submit("eve@example.com", "eve-pw", "support@example.com", "eve pretends")
        code, text = caught.exception.recipients["alice@example.com"]
        self.assertEqual(code, 554, text)
        self.assertIn(b"5.7.1", text)
        self.assertIn(b"not owned by or delegated to user eve@example.com", text)
        self.assert_decided("eve@example.com", "support@example.com", "reject")

    def test_ldap_trouble_defers_and_the_retry_is_accepted(self):
        subject = "carol sends as support during an LDAP hang"
        sender, to = "support@example.com", "alice@example.com"
        with smtplib.SMTP("127.0.0.1", self.stack.submission_port, timeout=60) as smtp:
            smtp.login("carol@example.com", "carol-pw")  # SASL itself needs LDAP: before the hang
            self.slapd.pause()
            try:
                with self.assertRaises(smtplib.SMTPRecipientsRefused) as caught:
                    smtp.send_message(message(sender, to, subject), from_addr=sender, to_addrs=[to])
            finally:
                self.slapd.resume()
            code, text = caught.exception.recipients[to]
            self.assertEqual(code // 100, 4, text)  # temporary: the client keeps the message
            self.assertIn(b"4.7.1", text)
            smtp.rset()
            deadline = time.time() + 20
            while True:  # the client's retry, once LDAP answers again
                try:
                    smtp.send_message(message(sender, to, subject), from_addr=sender, to_addrs=[to])
                    break
                except smtplib.SMTPRecipientsRefused as e:
                    if e.recipients[to][0] // 100 != 4 or time.time() > deadline:
                        raise
                    smtp.rset()
                    time.sleep(0.5)
        self.stack.wait_for_delivery(to, subject)
        self.assert_decided("carol@example.com", sender, "defer")
        self.assert_decided("carol@example.com", sender, "allow")


if __name__ == "__main__":
    unittest.main()
