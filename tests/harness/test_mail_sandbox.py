#!/usr/bin/env python3
"""End-to-end test of tests/harness/mail_sandbox.py: a private slapd (org.ldif),
a private Dovecot + Postfix on 127.0.0.1, IMAP login, SASL submission, LMTP
delivery, and the check_policy_service hook for authenticated senders.

Run as root:  python3 tests/harness/test_mail_sandbox.py -v
"""

import imaplib
import os
import shutil
import smtplib
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
from unittest import mock
from email.message import EmailMessage

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import mail_sandbox  # noqa: E402
from mail_sandbox import MailStack  # noqa: E402
from slapd_sandbox import Slapd  # noqa: E402

ORG_LDIF = os.path.join(REPO_ROOT, "tests", "fixtures", "org.ldif")
MAIL_SANDBOX = os.path.join(HERE, "mail_sandbox.py")

_SLAPD = None
_TMP = None


def setUpModule():
    global _SLAPD, _TMP
    if os.geteuid() != 0:
        raise unittest.SkipTest("needs root (dovecot and postfix start as root)")
    _TMP = tempfile.mkdtemp(prefix="mailgrant-mail-sandbox-", dir="/tmp")
    unittest.addModuleCleanup(shutil.rmtree, _TMP, ignore_errors=True)
    # postfix (as user postfix) and dovecot (as user mail) work below it
    os.chmod(_TMP, 0o755)
    _SLAPD = Slapd(os.path.join(_TMP, "ldap"))
    _SLAPD.start()
    unittest.addModuleCleanup(_SLAPD.stop)
    _SLAPD.load_ldif(ORG_LDIF)


def _message(sender, to, subject):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content("sent by test_mail_sandbox.py\n")
    return msg


def _submit(port, login, password, sender, to, subject):
    """AUTH (if login) and send; returns what smtplib.send_message returns."""
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
        s.ehlo("client.example.net")
        if login:
            s.login(login, password)
        return s.send_message(_message(sender, to, subject), from_addr=sender, to_addrs=[to])


class _StackMixin:
    """Starts one MailStack per class; always stopped, even if setUpClass fails."""
    policy_service = None

    @classmethod
    def start_stack(cls, name, policy_service=None):
        stack = MailStack(os.path.join(_TMP, name), _SLAPD.uri, _SLAPD.base,
                          policy_service=policy_service)
        cls.addClassCleanup(cls._stop_stack, stack)
        stack.start()
        return stack

    @staticmethod
    def _stop_stack(stack):
        pids = [mail_sandbox._read_pid(stack.dovecot_pid_path),
                mail_sandbox._read_pid(stack.postfix_pid_path)]
        if not stack.stop():
            raise AssertionError("MailStack.stop() left processes behind")
        for pid in pids:
            if pid is not None and mail_sandbox._alive(pid):
                raise AssertionError("daemon pid %d still alive after stop()" % pid)


class MailStackBasics(_StackMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = cls.start_stack("mail-basic")

    def test_a_imap_login(self):
        with imaplib.IMAP4("127.0.0.1", self.stack.imap_port, timeout=10) as imap:
            typ, _ = imap.login("alice@example.com", "alice-pw")
            self.assertEqual(typ, "OK")
            typ, data = imap.list()
            self.assertEqual(typ, "OK")
            self.assertIn(b'"/"', data[0], "hierarchy separator must be /: %r" % data)
            imap.logout()
        with imaplib.IMAP4("127.0.0.1", self.stack.imap_port, timeout=10) as imap:
            with self.assertRaises(imaplib.IMAP4.error):
                imap.login("alice@example.com", "wrong-pw")
        with imaplib.IMAP4("127.0.0.1", self.stack.imap_port, timeout=10) as imap:
            with self.assertRaises(imaplib.IMAP4.error):
                imap.login("nobody@example.com", "alice-pw")

    def test_b_submission_delivers_to_imap(self):
        subject = "basic delivery " + uuid.uuid4().hex
        refused = _submit(self.stack.submission_port, "bob@example.com", "bob-pw",
                          "bob@example.com", "alice@example.com", subject)
        self.assertEqual(refused, {})
        path = self.stack.wait_for_delivery("alice@example.com", subject, timeout_s=15)
        self.assertTrue(path.startswith(self.stack.mail_dir))
        self.assertEqual(os.stat(path).st_uid, 8, "mail must be stored as user mail")
        with imaplib.IMAP4("127.0.0.1", self.stack.imap_port, timeout=10) as imap:
            imap.login("alice@example.com", "alice-pw")
            typ, _ = imap.select("INBOX")
            self.assertEqual(typ, "OK")
            typ, data = imap.search(None, "SUBJECT", '"%s"' % subject)
            self.assertEqual(typ, "OK")
            self.assertEqual(len(data[0].split()), 1, "alice sees exactly one such message")
            imap.logout()

    def test_c_submission_without_auth_refused(self):
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            _submit(self.stack.submission_port, None, None,
                    "bob@example.com", "alice@example.com", "no auth")
        code, text = cm.exception.recipients["alice@example.com"]
        self.assertTrue(500 <= code < 600, "expected 5xx, got %d %r" % (code, text))

    def test_c2_wrong_submission_password_refused(self):
        with self.assertRaises(smtplib.SMTPAuthenticationError):
            _submit(self.stack.submission_port, "bob@example.com", "alice-pw",
                    "bob@example.com", "alice@example.com", "bad auth")

    def test_c3_plain_smtp_no_relay(self):
        # the inbound listener takes mail for example.com but relays nowhere
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            _submit(self.stack.smtp_port, None, None,
                    "someone@example.net", "victim@example.org", "relay attempt")
        code, _ = cm.exception.recipients["victim@example.org"]
        self.assertTrue(500 <= code < 600)
        subject = "inbound " + uuid.uuid4().hex
        self.assertEqual(_submit(self.stack.smtp_port, None, None,
                                 "someone@example.net", "carol@example.com", subject), {})
        self.stack.wait_for_delivery("carol@example.com", subject, timeout_s=15)


class MailStackPortTaken(unittest.TestCase):
    """A port picked for the stack is taken before its daemon binds it: start() picks
    new ones (first Dovecot's IMAP port, then on the next attempt Postfix's submission
    port are held by this test) and the stack comes up on the third attempt."""

    def test_a_taken_port_means_new_ports(self):
        held = []
        for _ in range(2):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            held.append(s)
            self.addCleanup(s.close)
        real, calls = mail_sandbox._free_port, []

        def pick(exclude=()):
            calls.append(1)   # picks: imap, smtp, submission per attempt
            if len(calls) == 1:
                return held[0].getsockname()[1]
            if len(calls) == 6:
                return held[1].getsockname()[1]
            return real(exclude)
        stack = MailStack(os.path.join(_TMP, "mail-port-taken"), _SLAPD.uri, _SLAPD.base)
        self.addCleanup(stack.stop)
        with mock.patch.object(mail_sandbox, "_free_port", pick):
            stack.start()
        self.assertEqual((len(calls), len(stack.port_retries)), (9, 2))
        # Dovecot says why it cannot start; Postfix 3.7 does too, while 3.10's master fails
        # before its log service runs and says only "startup failed": the harness then
        # finds the port held by probing it (with its own daemons stopped).
        taken = held[1].getsockname()[1]
        self.assertEqual(stack.port_retries[0], "said")
        self.assertIn(stack.port_retries[1], ("said", "held: [%d]" % taken))
        self.assertNotIn(stack.imap_port, [s.getsockname()[1] for s in held])
        with imaplib.IMAP4("127.0.0.1", stack.imap_port, timeout=10) as imap:
            self.assertEqual(imap.login("dave@example.com", "dave-pw")[0], "OK")
            imap.logout()
        with smtplib.SMTP("127.0.0.1", stack.submission_port, timeout=10) as smtp:
            self.assertEqual(smtp.ehlo()[0], 250)
        # The probe sees a listener: the running stack's own ports count as held.
        self.assertEqual(len(stack._ports_taken()), 3)


class _PolicyHandler(socketserver.StreamRequestHandler):
    """Postfix SMTP access policy delegation: name=value lines, empty line ends a
    request; the connection may carry several requests."""

    def handle(self):
        while True:
            attrs = {}
            while True:
                line = self.rfile.readline(4096)
                if not line:
                    return
                line = line.rstrip(b"\r\n")
                if not line:
                    break
                name, _, value = line.decode("utf-8", "replace").partition("=")
                attrs[name] = value
            self.server.requests.append(attrs)
            if attrs.get("sender", "").lower() == "eve@example.com":
                self.wfile.write(b"action=REJECT 5.7.1 test says no\n\n")
            else:
                self.wfile.write(b"action=DUNNO\n\n")
            self.wfile.flush()


class _PolicyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _PolicyHandler)
        self.requests = []


class MailStackPolicyHook(_StackMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = _PolicyServer()
        cls.addClassCleanup(cls.policy.server_close)
        thread = threading.Thread(target=cls.policy.serve_forever, kwargs={"poll_interval": 0.1},
                                  daemon=True)
        thread.start()
        cls.addClassCleanup(cls.policy.shutdown)
        cls.stack = cls.start_stack(
            "mail-policy", policy_service="inet:127.0.0.1:%d" % cls.policy.server_address[1])

    def test_d_policy_rejects_eve(self):
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            _submit(self.stack.submission_port, "eve@example.com", "eve-pw",
                    "eve@example.com", "alice@example.com", "eve tries")
        code, text = cm.exception.recipients["alice@example.com"]
        self.assertTrue(500 <= code < 600, "expected 5xx, got %d %r" % (code, text))
        self.assertIn(b"5.7.1", text)
        self.assertIn(b"test says no", text)
        eve = [r for r in self.policy.requests if r.get("sender") == "eve@example.com"]
        self.assertTrue(eve, "policy service never asked about eve")
        self.assertEqual(eve[-1].get("sasl_username"), "eve@example.com",
                         "the policy service must see the authenticated user")

    def test_d_policy_allows_bob(self):
        subject = "policy allows bob " + uuid.uuid4().hex
        self.assertEqual(_submit(self.stack.submission_port, "bob@example.com", "bob-pw",
                                 "bob@example.com", "alice@example.com", subject), {})
        self.stack.wait_for_delivery("alice@example.com", subject, timeout_s=15)
        bob = [r for r in self.policy.requests if r.get("sender") == "bob@example.com"]
        self.assertTrue(bob, "policy service never asked about bob")
        self.assertEqual(bob[-1].get("sasl_username"), "bob@example.com")

    def test_d_unauthenticated_still_refused(self):
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            _submit(self.stack.submission_port, None, None,
                    "bob@example.com", "alice@example.com", "no auth")
        code, _ = cm.exception.recipients["alice@example.com"]
        self.assertTrue(500 <= code < 600)


class _UnixPolicyServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path):
        super().__init__(path, _PolicyHandler)
        os.chmod(path, 0o666)      # smtpd runs as user postfix
        self.requests = []


class MailStackUnixPolicyHook(_StackMixin, unittest.TestCase):
    """The same hook over a unix socket outside Postfix's queue directory
    (works because the sandbox's smtpd is not chrooted)."""

    @classmethod
    def setUpClass(cls):
        path = os.path.join(_TMP, "policy.sock")
        cls.policy = _UnixPolicyServer(path)
        cls.addClassCleanup(cls.policy.server_close)
        thread = threading.Thread(target=cls.policy.serve_forever, kwargs={"poll_interval": 0.1},
                                  daemon=True)
        thread.start()
        cls.addClassCleanup(cls.policy.shutdown)
        cls.stack = cls.start_stack("mail-unix-policy", policy_service="unix:" + path)

    def test_d_unix_policy_rejects_eve_allows_bob(self):
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            _submit(self.stack.submission_port, "eve@example.com", "eve-pw",
                    "eve@example.com", "alice@example.com", "eve tries")
        code, text = cm.exception.recipients["alice@example.com"]
        self.assertTrue(500 <= code < 600, "expected 5xx, got %d %r" % (code, text))
        self.assertIn(b"test says no", text)
        self.assertEqual(_submit(self.stack.submission_port, "bob@example.com", "bob-pw",
                                 "bob@example.com", "alice@example.com", "unix ok"), {})
        self.assertEqual({r.get("sasl_username") for r in self.policy.requests},
                         {"eve@example.com", "bob@example.com"})


class MailStackPolicyDown(_StackMixin, unittest.TestCase):
    """A policy service that does not answer gives the configured 4xx, never a permit."""

    @classmethod
    def setUpClass(cls):
        cls.stack = cls.start_stack(
            "mail-policy-down",
            policy_service="unix:" + os.path.join(_TMP, "nobody-listens.sock"))

    def test_policy_down_is_temporary_failure(self):
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            _submit(self.stack.submission_port, "bob@example.com", "bob-pw",
                    "bob@example.com", "alice@example.com", "policy down")
        code, text = cm.exception.recipients["alice@example.com"]
        self.assertEqual(code, 451, text)
        self.assertIn(b"4.3.5", text)
        self.assertIn(b"Policy service unavailable", text)


class MailStackCli(unittest.TestCase):
    def setUp(self):
        self.dir = os.path.join(_TMP, "mail-cli")
        self.addCleanup(self._stop)

    def _stop(self):
        p = subprocess.run([sys.executable, MAIL_SANDBOX, "stop", "--dir", self.dir],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_cli_start_env_stop(self):
        p = subprocess.run([sys.executable, MAIL_SANDBOX, "start", "--dir", self.dir,
                            "--ldap-uri", _SLAPD.uri, "--ldap-base", _SLAPD.base],
                           capture_output=True, text=True, timeout=90)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        env = {}
        with open(os.path.join(self.dir, "mail.env")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                env[k] = v
        for key in ("IMAP_PORT", "SMTP_PORT", "SUBMISSION_PORT"):
            self.assertTrue(env.get(key, "").isdigit(), "%s missing in mail.env: %r" % (key, env))
        with imaplib.IMAP4("127.0.0.1", int(env["IMAP_PORT"]), timeout=10) as imap:
            self.assertEqual(imap.login("dave@example.com", "dave-pw")[0], "OK")
            imap.logout()
        dovecot_pid = mail_sandbox._read_pid(os.path.join(self.dir, "dovecot", "run", "master.pid"))
        postfix_pid = mail_sandbox._read_pid(os.path.join(self.dir, "postfix-queue", "pid",
                                                          "master.pid"))
        self.assertTrue(dovecot_pid and mail_sandbox._alive(dovecot_pid))
        self.assertTrue(postfix_pid and mail_sandbox._alive(postfix_pid))
        self._stop()
        self._stop()      # idempotent
        self.assertFalse(mail_sandbox._alive(dovecot_pid))
        self.assertFalse(mail_sandbox._alive(postfix_pid))


if __name__ == "__main__":
    unittest.main()
