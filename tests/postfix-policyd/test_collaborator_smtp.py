#!/usr/bin/env python3
"""End to end (issue 10): who is sending when a collaborator logs in over SMTP.

The whole stack as shipped: a real slapd (tests/fixtures/org.ldif plus dan below),
Dovecot loading the plugin through examples/dovecot/90-mailgrant.conf (so its master
passdb is mailgrant-checkpassword), Postfix with examples/postfix/main.cf.snippet and the
submission options of master.cf.snippet (policy check AND header milter), SASL through
Dovecot, and one mailgrant-policyd serving both checks on Postfix's private sockets.

dan holds a read-only grant on support@'s INBOX and no send right. The attacks:
  support@example.com*dan@example.com  (master login over SMTP)     -> 535, checkpassword says why
  AUTH PLAIN authzid=support, authcid=dan                           -> 535, same reason
  support@ logs in directly (a password set on the shared mailbox)  -> 5.7.1 from the policy
                                                                       check AND from the milter
  dan, own login, From: support@ (envelope / header)                -> 5.7.1, the log names dan
Controls: the per-collaborator IMAP login still opens support@'s INBOX; bob (sendAs by
group) still sends as support@; dan sends as himself. Every acceptance is proved by the
deciding component's own log line, not only by mail arriving. Needs root.
"""
import base64
import imaplib
import os
import smtplib
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
sys.path.insert(0, HERE)
import postfix_snippets  # noqa: E402
from mail_sandbox import MailStack, dovecot_conf  # noqa: E402
from mailgrant_setup import dovecot_conf_with_plugin, start_directory, write_config  # noqa: E402
from test_policyd import Daemon  # noqa: E402

BUILD = os.path.join(ROOT, "build")
PLUGIN = os.environ.get("MAILGRANT_DOVECOT_PLUGIN", os.path.join(BUILD, "dovecot-plugin", "lib20_mailgrant_plugin.so"))
CHECKPASSWORD = os.environ.get("MAILGRANT_CHECKPASSWORD",
                               os.path.join(BUILD, "dovecot-plugin", "mailgrant-checkpassword"))
LOG_WAIT_S = 10
# The master passdb that refuses, as its log lines name it: mailgrant-checkpassword
# (Dovecot 2.3's drop-in) or mailgrant's auth module, passdb mailgrant (2.4's drop-in).
REFUSING_PASSDB = dovecot_conf("mailgrant-checkpassword", "mailgrant")

EXTRA_LDIF = """\
dn: uid=dan,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: dan
cn: Dan Reader
sn: Reader
mail: dan@example.com
userPassword: dan-pw

dn: cn=inbox-dan,uid=support,ou=people,dc=example,dc=com
objectClass: mailGrant
cn: inbox-dan
mailGrantee: uid=dan,ou=people,dc=example,dc=com
mailGrantFolder: INBOX
mailGrantRights: reader
"""

# A password on the shared mailbox: an admin's mistake (or an old account turned into a
# shared one). mailgrant must still never let a login as it send as it.
SHARED_PASSWORD_LDIF = """\
dn: uid=support,ou=people,dc=example,dc=com
changetype: modify
replace: userPassword
userPassword: support-pw
"""


def raw_message(envelope_from, header_from, subject, to="alice@example.com"):
    lines = ["From: <%s>" % header_from, "To: <%s>" % to, "Subject: %s" % subject,
             "Message-ID: <%d.collab@test>" % time.time_ns(), "", "mailgrant issue 10 test", ""]
    return "\r\n".join(lines).encode()


def wait_for_text(path, text, timeout_s=LOG_WAIT_S):
    deadline = time.time() + timeout_s
    while True:
        try:
            with open(path, errors="replace") as f:
                if text in f.read():
                    return True
        except OSError:
            pass
        if time.time() > deadline:
            return False
        time.sleep(0.1)


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


class CollaboratorOverSmtp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.slapd = start_directory(cls, "mailgrant-collab-smtp-")
        subprocess.run(["ldapadd", "-x", "-H", cls.slapd.uri, "-D", cls.slapd.rootdn, "-w", cls.slapd.rootpw],
                       input=EXTRA_LDIF.encode(), check=True, capture_output=True, timeout=20)
        subprocess.run(["ldapmodify", "-x", "-H", cls.slapd.uri, "-D", cls.slapd.rootdn, "-w", cls.slapd.rootpw],
                       input=SHARED_PASSWORD_LDIF.encode(), check=True, capture_output=True, timeout=20)
        etc = os.path.join(cls.tmp, "etc")
        config = write_config(etc, cls.slapd, 2, 1)
        mail_dir = os.path.join(cls.tmp, "mail")
        os.mkdir(mail_dir)
        os.chmod(mail_dir, 0o755)
        cls.stack = MailStack(mail_dir, cls.slapd.uri, cls.slapd.base,
                              postfix_main_extra=postfix_snippets.main_cf(),
                              submission_options=postfix_snippets.submission_options())
        cls.stack.dovecot_extra_conf = dovecot_conf_with_plugin(
            etc, PLUGIN, config, cls.stack.dovecot_ldap_conf_path, CHECKPASSWORD)
        # The daemon's sockets go into Postfix's private directory, which Postfix makes
        # at start; no mail is sent before the daemon listens (with the shipped
        # milter_default_action=tempfail an absent milter would defer everything).
        policy_dir = os.path.join(cls.tmp, "policyd")
        os.mkdir(policy_dir)
        cls.policyd = Daemon(policy_dir, cls.slapd,
                             listen="unix:" + postfix_snippets.policy_socket(cls.stack.postfix_queue_dir),
                             extra_args=["--milter", "unix:" + postfix_snippets.milter_socket(cls.stack.postfix_queue_dir)],
                             socket_owner="postfix", socket_group="postfix", socket_mode="0660",
                             request_timeout_ms=1500)
        cls.stack.start()
        cls.addClassCleanup(cls.stack.stop)
        cls.policyd.start()
        cls.addClassCleanup(cls.policyd.stop)
        if not wait_for_text(cls.policyd.log_path, "milter on"):
            raise RuntimeError("the milter did not start: " + cls.policyd.log_text())

    # ---- helpers -------------------------------------------------------------

    def smtp(self):
        s = smtplib.SMTP("127.0.0.1", self.stack.submission_port, timeout=60)
        self.addCleanup(s.close)
        return s

    def refused_at_auth(self, do_auth):
        s = self.smtp()
        s.ehlo()
        with self.assertRaises(smtplib.SMTPAuthenticationError) as caught:
            do_auth(s)
        self.assertEqual(caught.exception.smtp_code, 535, caught.exception)

    def assert_policy_logged(self, *parts):
        needle = " ".join(parts)
        self.assertTrue(self.policyd.logged(needle),
                        "policyd did not log %r:\n%s" % (needle, self.policyd.log_text()[-3000:]))

    def checkpassword_refusals(self):
        return read(self.stack.dovecot_log_path).count(
            "refused per-collaborator login of dan@example.com to support@example.com for service 'smtp'")

    # ---- the attacks -----------------------------------------------------------

    def test_master_login_over_smtp_is_refused_with_the_reason(self):
        before = self.checkpassword_refusals()
        self.refused_at_auth(lambda s: s.login("support@example.com*dan@example.com", "dan-pw"))
        # Wait for this attempt's own line: the text alone may be an earlier test's (the
        # authzid test's refusal), and the auth worker may log after the SMTP reply.
        deadline = time.time() + LOG_WAIT_S
        while self.checkpassword_refusals() <= before and time.time() < deadline:
            time.sleep(0.1)
        self.assertIn("Warning: %s: refused per-collaborator" % REFUSING_PASSDB, read(self.stack.dovecot_log_path))
        self.assertGreater(self.checkpassword_refusals(), before, read(self.stack.dovecot_log_path)[-3000:])
        self.assertNotIn("sasl_username=support@example.com", read(self.stack.postfix_log_path))

    def test_authzid_login_over_smtp_is_refused_with_the_reason(self):
        before = self.checkpassword_refusals()
        token = base64.b64encode(b"support@example.com\0dan@example.com\0dan-pw").decode()

        def auth_plain_with_authzid(s):
            code, text = s.docmd("AUTH", "PLAIN " + token)
            if code != 235:
                raise smtplib.SMTPAuthenticationError(code, text)
        self.refused_at_auth(auth_plain_with_authzid)
        deadline = time.time() + LOG_WAIT_S
        while self.checkpassword_refusals() <= before and time.time() < deadline:
            time.sleep(0.1)
        self.assertGreater(self.checkpassword_refusals(), before, read(self.stack.dovecot_log_path)[-3000:])
        self.assertNotIn("sasl_username=support@example.com", read(self.stack.postfix_log_path))

    def test_collaborator_own_login_cannot_send_as_the_mailbox(self):
        s = self.smtp()
        s.login("dan@example.com", "dan-pw")
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as caught:
            s.sendmail("support@example.com", ["alice@example.com"],
                       raw_message("support@example.com", "support@example.com", "dan as support"))
        code, text = caught.exception.recipients["alice@example.com"]
        self.assertEqual(code, 554, text)
        self.assertIn(b"5.7.1", text)
        self.assertIn(b"dan@example.com", text)  # the reply names the person
        self.assert_policy_logged("login=dan@example.com sender=<support@example.com> decision=reject")

    def test_collaborator_header_from_forgery_is_refused_by_the_shipped_milter(self):
        s = self.smtp()
        s.login("dan@example.com", "dan-pw")
        with self.assertRaises(smtplib.SMTPDataError) as caught:
            s.sendmail("dan@example.com", ["alice@example.com"],
                       raw_message("dan@example.com", "support@example.com", "dan forges the header"))
        self.assertEqual(caught.exception.smtp_code, 550, caught.exception)
        self.assertIn(b"5.7.1", caught.exception.smtp_error)
        self.assert_policy_logged("milter:")
        self.assertTrue(self.policyd.logged('login=dan@example.com from="<support@example.com>" decision=reject'),
                        self.policyd.log_text()[-3000:])

    def test_shared_mailbox_login_is_refused_by_the_policy_check(self):
        s = self.smtp()
        s.login("support@example.com", "support-pw")  # passdb accepts: the password exists
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as caught:
            s.sendmail("support@example.com", ["alice@example.com"],
                       raw_message("support@example.com", "support@example.com", "support as itself"))
        code, text = caught.exception.recipients["alice@example.com"]
        self.assertEqual(code, 554, text)
        self.assertIn(b"5.7.1", text)
        self.assert_policy_logged("login=support@example.com sender=<support@example.com> decision=reject")
        self.assertIn("has no login of its own", self.policyd.log_text())

    def test_shared_mailbox_login_is_refused_by_the_milter(self):
        # The null sender passes the envelope check (bounces must flow): the header
        # check alone has to stop From: support@ here.
        s = self.smtp()
        s.login("support@example.com", "support-pw")
        with self.assertRaises(smtplib.SMTPDataError) as caught:
            s.sendmail("<>", ["alice@example.com"],
                       raw_message("", "support@example.com", "support as itself, null sender"))
        self.assertEqual(caught.exception.smtp_code, 550, caught.exception)
        self.assertTrue(self.policyd.logged('login=support@example.com from="<support@example.com>" decision=reject'),
                        self.policyd.log_text()[-3000:])
        self.assertIn(b"has no login of its own", caught.exception.smtp_error)

    # ---- the controls ------------------------------------------------------------

    def test_per_collaborator_imap_login_still_opens_the_mailbox(self):
        imap = imaplib.IMAP4("127.0.0.1", self.stack.imap_port, timeout=30)
        self.addCleanup(imap.logout)
        imap.login("support@example.com*dan@example.com", "dan-pw")
        typ, _ = imap.select("INBOX", readonly=True)
        self.assertEqual(typ, "OK")
        # mailgrant-checkpassword made the decision, and logged it at Info, not Error.
        self.assertTrue(wait_for_text(self.stack.dovecot_log_path,
                                      "login of dan@example.com to support@example.com (service imap) allowed"))
        lines = [l for l in read(self.stack.dovecot_log_path).splitlines()
                 if "login of dan@example.com to support@example.com (service imap) allowed" in l]
        self.assertTrue(lines and all("Info" in l and "Error" not in l for l in lines), lines)

    def test_send_as_grantee_still_sends_as_the_mailbox(self):
        s = self.smtp()
        s.login("bob@example.com", "bob-pw")
        s.sendmail("support@example.com", ["alice@example.com"],
                   raw_message("support@example.com", "support@example.com", "bob as support"))
        self.stack.wait_for_delivery("alice@example.com", "bob as support")
        self.assert_policy_logged("login=bob@example.com sender=<support@example.com> decision=allow")
        self.assertTrue(self.policyd.logged('login=bob@example.com from="<support@example.com>" decision=accept'),
                        self.policyd.log_text()[-3000:])

    def test_collaborator_sends_as_himself(self):
        s = self.smtp()
        s.login("dan@example.com", "dan-pw")
        s.sendmail("dan@example.com", ["alice@example.com"],
                   raw_message("dan@example.com", "dan@example.com", "dan as dan"))
        self.stack.wait_for_delivery("alice@example.com", "dan as dan")
        self.assert_policy_logged("login=dan@example.com sender=<dan@example.com> decision=allow")


if __name__ == "__main__":
    unittest.main()
