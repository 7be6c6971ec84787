#!/usr/bin/env python3
"""End to end: the header From:/Sender: check (mailgrant-policyd --milter) in a private
real Postfix (smtpd_milters), submission with Dovecot SASL against a real slapd holding
tests/fixtures/org.ldif, delivering to a private Dovecot.

The envelope sender is always the login itself here (the policy check is not in this
Postfix), so every refusal below comes from the header check:
  bob   sendAs support@           -> From: support accepted, no Sender: added
  dave  sendOnBehalf carol@       -> From: carol gets "Sender: dave@..." added;
                                     with someone else's Sender: refused 5.7.1
  eve   nothing                   -> From: support refused 5.7.1; a display name that
                                     looks like support is judged by its address
  LDAP stopped (SIGSTOP)          -> 451 4.7.1, and the retry is accepted once it is back
Needs root (Postfix and Dovecot masters).
"""
import os
import smtplib
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
sys.path.insert(0, HERE)
from mail_sandbox import MailStack  # noqa: E402
from mailgrant_setup import start_directory  # noqa: E402
from test_policyd import Daemon  # noqa: E402


def raw_message(headers, subject, to="alice@example.com"):
    """The message as bytes, headers exactly as given (email.message would re-fold them)."""
    lines = list(headers) + ["To: <%s>" % to, "Subject: %s" % subject,
                             "Message-ID: <%d.%s@test>" % (time.time_ns(), abs(hash(subject))), "", "mailgrant milter test", ""]
    return "\r\n".join(lines).encode()


class MilterThroughPostfix(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.slapd = start_directory(cls, "mailgrant-milter-e2e-")
        policy_dir = os.path.join(cls.tmp, "policyd")
        os.mkdir(policy_dir)
        cls.milter_socket = os.path.join(policy_dir, "milter.sock")
        cls.policyd = Daemon(policy_dir, cls.slapd, extra_args=["--milter", "unix:" + cls.milter_socket],
                             socket_owner="postfix", socket_group="postfix", socket_mode="0660",
                             request_timeout_ms=1500)
        cls.policyd.start()
        cls.addClassCleanup(cls.policyd.stop)
        deadline = time.time() + 10
        while not os.path.exists(cls.milter_socket):
            if time.time() > deadline:
                raise RuntimeError("no milter socket: " + cls.policyd.log_text())
            time.sleep(0.05)
        mail_dir = os.path.join(cls.tmp, "mail")
        os.mkdir(mail_dir)
        os.chmod(mail_dir, 0o755)
        extra = "\n".join([
            "smtpd_milters = unix:" + cls.milter_socket,
            # A milter that cannot be reached must not let mail through unchecked.
            "milter_default_action = tempfail",
            "milter_protocol = 6",
            # {auth_authen} is what the check keys on (Postfix's default list has it too).
            "milter_mail_macros = i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}",
        ])
        cls.stack = MailStack(mail_dir, cls.slapd.uri, cls.slapd.base, postfix_main_extra=extra,
                              submission_sender_restrictions=None)
        cls.stack.start()
        cls.addClassCleanup(cls.stack.stop)

    def submit(self, login, headers, subject, smtp=None):
        msg = raw_message(headers, subject)
        if smtp is not None:
            smtp.sendmail(login, ["alice@example.com"], msg)
            return
        with smtplib.SMTP("127.0.0.1", self.stack.submission_port, timeout=60) as s:
            s.login(login, login.split("@")[0] + "-pw")
            s.sendmail(login, ["alice@example.com"], msg)

    def delivered_headers(self, subject):
        path = self.stack.wait_for_delivery("alice@example.com", subject)
        with open(path, "rb") as f:
            return f.read().split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]

    def assert_refused(self, login, headers, subject, code, *fragments):
        with self.assertRaises(smtplib.SMTPDataError) as caught:
            self.submit(login, headers, subject)
        self.assertEqual(caught.exception.smtp_code, code, caught.exception.smtp_error)
        for fragment in fragments:
            self.assertIn(fragment, caught.exception.smtp_error)

    def assert_decided(self, login, decision, from_fragment, timeout_s=10):
        """The milter itself logged this decision for this login and From: (a message that
        merely arrived could have passed an unwired check)."""
        def found():
            return any("milter:" in line and " login=%s " % login in line and " decision=%s " % decision in line
                       and from_fragment in line for line in self.policyd.log_text().splitlines())
        deadline = time.time() + timeout_s
        while not found():
            if time.time() > deadline:
                self.fail("no milter decision %s for %s with %r:\n%s"
                          % (decision, login, from_fragment, self.policyd.log_text()[-3000:]))
            time.sleep(0.1)

    def test_send_as_is_accepted_without_sender(self):
        self.submit("bob@example.com", ["From: Support <support@example.com>"], "bob as support")
        headers = self.delivered_headers("bob as support")
        self.assertIn(b"From: Support <support@example.com>", headers)
        self.assertNotIn(b"\nSender:", headers)
        self.assert_decided("bob@example.com", "accept", "<support@example.com>")

    def test_own_address_is_accepted(self):
        self.submit("eve@example.com", ["From: Eve <eve@example.com>"], "eve as herself")
        self.delivered_headers("eve as herself")
        self.assert_decided("eve@example.com", "accept", "Eve <eve@example.com>")

    def test_on_behalf_without_sender_gets_sender_added(self):
        self.submit("dave@example.com", ["From: Carol White <carol@example.com>"], "dave for carol")
        headers = self.delivered_headers("dave for carol")
        self.assertIn(b"From: Carol White <carol@example.com>", headers)
        self.assertRegex(headers, rb"\nSender: ?dave@example\.com(\r?\n|$)")
        self.assert_decided("dave@example.com", "accept-add-sender", "<carol@example.com>")

    def test_on_behalf_with_own_sender_is_kept(self):
        self.submit("dave@example.com", ["From: carol@example.com", "Sender: Dave <dave@example.com>"], "dave signs")
        headers = self.delivered_headers("dave signs")
        self.assertEqual(headers.count(b"Sender:"), 1)
        self.assert_decided("dave@example.com", "accept", "carol@example.com")

    def test_on_behalf_with_someone_elses_sender_is_rejected(self):
        self.assert_refused("dave@example.com", ["From: carol@example.com", "Sender: eve@example.com"],
                            "dave blames eve", 550, b"5.7.1", b"must be an address of user dave@example.com")
        self.assert_decided("dave@example.com", "reject", "carol@example.com")

    def test_forged_from_is_rejected(self):
        self.assert_refused("eve@example.com", ["From: Support <support@example.com>"], "eve forges", 550,
                            b"5.7.1", b"<support@example.com> is not owned by or delegated to user eve@example.com")
        self.assert_decided("eve@example.com", "reject", "Support <support@example.com>")

    def test_display_name_trick_is_judged_by_the_address(self):
        # Looks like support, is eve: accepted (the address is hers).
        self.submit("eve@example.com", ['From: "support@example.com" <eve@example.com>'], "eve in disguise")
        self.delivered_headers("eve in disguise")
        self.assert_decided("eve@example.com", "accept", "<eve@example.com>")
        # Looks like eve, is support: refused.
        self.assert_refused("eve@example.com", ['From: "eve@example.com" <support@example.com>'], "eve hides",
                            550, b"5.7.1", b"<support@example.com>")
        # Unquoted address as display name: clients disagree on it, so it is refused.
        self.assert_refused("eve@example.com", ["From: eve@example.com <support@example.com>"], "eve ambiguous",
                            550, b"5.7.1", b"unquoted '@'")

    def test_second_from_header_is_rejected(self):
        self.assert_refused("eve@example.com", ["From: eve@example.com", "From: support@example.com"],
                            "eve twice", 550, b"5.7.1", b"2 From: headers")
        self.assert_decided("eve@example.com", "reject", "support@example.com")

    def test_ldap_down_gives_4xx_and_the_retry_is_accepted(self):
        # carol is used only here, so nothing about her is cached yet.
        subject = "carol as support during an LDAP hang"
        headers = ["From: support@example.com"]
        with smtplib.SMTP("127.0.0.1", self.stack.submission_port, timeout=60) as smtp:
            smtp.login("carol@example.com", "carol-pw")  # SASL itself needs LDAP: before the hang
            self.slapd.pause()
            try:
                with self.assertRaises(smtplib.SMTPDataError) as caught:
                    self.submit("carol@example.com", headers, subject, smtp=smtp)
            finally:
                self.slapd.resume()
            self.assertEqual(caught.exception.smtp_code // 100, 4, caught.exception.smtp_error)
            self.assertIn(b"4.7.1", caught.exception.smtp_error)
            deadline = time.time() + 20
            while True:  # the client's retry, once LDAP answers again
                smtp.rset()
                try:
                    self.submit("carol@example.com", headers, subject, smtp=smtp)
                    break
                except smtplib.SMTPDataError as e:
                    if e.smtp_code // 100 != 4 or time.time() > deadline:
                        raise
                    time.sleep(0.5)
        self.delivered_headers(subject)
        self.assert_decided("carol@example.com", "tempfail", "support@example.com")
        self.assert_decided("carol@example.com", "accept", "support@example.com")


if __name__ == "__main__":
    unittest.main()
