#!/usr/bin/env python3
"""End to end on Dovecot 2.4: per-collaborator login ("MAILBOX*GRANTEE" with GRANTEE's
own password) through the `mailgrant` passdb driver (libauthdb_mailgrant.so), with a real
slapd (the project's schema and tests/fixtures/org.ldif), a private Dovecot 2.4 from a
minimal hand-written configuration, imaplib and `doveadm auth test` as clients.

What it checks, each answer matched with the driver's log line:
  - a login with a grant succeeds (and runs in an auth-worker process, not the master);
  - without a grant, with a wrong password, as a shared mailbox: refused;
  - service smtp / submission: refused with a Warning (README "Security notes");
  - LDAP down: a temporary failure, never a success.
The decision itself is the core's (tests/core/test_collaborator_login.cpp); 2.3's
mailgrant-checkpassword, over the same decision, is tested by test_dovecot_plugin.py.

Self-contained (no tests/harness/mail_sandbox.py): Dovecot 2.4 loads auth drivers and
settings modules only from its compiled-in module dir, so this process enters a private
mount namespace and lays an overlay of the built modules over /usr/lib/dovecot/modules
(the host sees nothing; Dovecot and doveadm inherit it). Needs root and Dovecot >= 2.4;
the built modules come from $MAILGRANT_DOVECOT_AUTH_MODULE and
$MAILGRANT_DOVECOT_SETTINGS_MODULE (CTest sets them). Skips otherwise.
"""
import ctypes
import imaplib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from slapd_sandbox import Slapd  # noqa: E402

DOVECOT = shutil.which("dovecot", path="/usr/sbin:/usr/bin:/sbin:/bin") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm", path="/usr/bin:/usr/sbin:/bin:/sbin") or "/usr/bin/doveadm"
MODULE_DIR = "/usr/lib/dovecot/modules"
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "org.ldif")
AUTH_MODULE = os.environ.get("MAILGRANT_DOVECOT_AUTH_MODULE", "")
SETTINGS_MODULE = os.environ.get("MAILGRANT_DOVECOT_SETTINGS_MODULE", "")
LOG_WAIT_S = 10

CONF = """dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
protocols = imap
listen = 127.0.0.1
base_dir = {tmp}/run
state_dir = {tmp}/state
instance_name = mailgrant-passdb24
log_path = {tmp}/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 8
mail_uid = mail
mail_gid = mail
mail_driver = maildir
mail_home = {tmp}/mail/%{{user}}
mail_path = {tmp}/mail/%{{user}}/Maildir
ssl = no
auth_allow_cleartext = yes
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = 0
auth_internal_failure_delay = 0

# The configuration mailgrant's modules read (settings module libmailgrant_settings.so).
mailgrant_config = {tmp}/etc/mailgrant.yaml

# Everyone's own login: their LDAP entry, password checked by a bind.
ldap_uris = {ldap_uri}
ldap_base = {ldap_base}
passdb ldap {{
  ldap_bind = yes
  ldap_filter = (&(objectClass=inetOrgPerson)(mail=%{{user}}))
  fields {{
    user = %{{ldap:mail}}
  }}
}}
userdb static {{
  fields {{
    uid = mail
    gid = mail
    home = {tmp}/mail/%{{user}}
  }}
  userdb_static_allow_all_users = yes
}}

# ---- the block under test (as in examples/dovecot/2.4/90-mailgrant.conf) ----
{passdb_block}
service imap-login {{
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""

# The 2.4 drop-in's per-collaborator block, verbatim.
PASSDB_BLOCK = """auth_master_user_separator = *
passdb mailgrant {
  driver = mailgrant
  master = yes
  use_worker = yes
}
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dovecot_24():
    try:
        out = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    m = re.match(r"\s*(\d+)\.(\d+)", out)
    return bool(m) and (int(m.group(1)), int(m.group(2))) >= (2, 4)


def _enter_private_module_dir(overlay):
    """unshare(CLONE_NEWNS) for this process and its children, then an overlay of
    `overlay` over Dovecot's module dir. / is made private first where it is a mount
    point; inside a chroot (scripts/in-root) it is not, and the surrounding namespace
    must already keep its mounts private (no shared mount), or nothing is mounted."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
    if libc.mount(b"none", b"/", None, 0x4000 | 0x40000, None) != 0:  # MS_REC | MS_PRIVATE
        with open("/proc/self/mountinfo") as f:
            if "shared:" in f.read():
                raise OSError(ctypes.get_errno(), "cannot make the mount namespace private")
    options = ("lowerdir=%s:%s" % (overlay, MODULE_DIR)).encode()
    if libc.mount(b"mailgrant-passdb24", MODULE_DIR.encode(), b"overlay", 0, options) != 0:
        raise OSError(ctypes.get_errno(), "mount overlay on " + MODULE_DIR)


@unittest.skipUnless(os.geteuid() == 0, "needs root (Dovecot master, mount namespace)")
@unittest.skipUnless(_dovecot_24(), "needs Dovecot 2.4")
@unittest.skipUnless(os.path.exists(AUTH_MODULE) and os.path.exists(SETTINGS_MODULE),
                     "needs $MAILGRANT_DOVECOT_AUTH_MODULE and $MAILGRANT_DOVECOT_SETTINGS_MODULE")
class Passdb24Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mailgrant-passdb24-")
        os.chmod(cls.tmp, 0o755)
        overlay = os.path.join(cls.tmp, "modules")
        for sub, path in (("auth", AUTH_MODULE), ("settings", SETTINGS_MODULE)):
            os.makedirs(os.path.join(overlay, sub))
            shutil.copy(path, os.path.join(overlay, sub, os.path.basename(path)))
        _enter_private_module_dir(overlay)

        cls.slapd = Slapd(os.path.join(cls.tmp, "slapd"))
        cls.slapd.start()
        cls.slapd.load_ldif(FIXTURE)

        etc = os.path.join(cls.tmp, "etc")
        os.makedirs(etc)
        secret = os.path.join(etc, "ldap.secret")
        with open(secret, "w") as f:
            f.write(cls.slapd.rootpw)
        with open(os.path.join(etc, "mailgrant.yaml"), "w") as f:
            f.write("ldap:\n  uris: [%s]\n  base: %s\n  bind_dn: %s\n  bind_password_file: %s\n"
                    "  operation_timeout_ms: 1000\n  network_timeout_ms: 1000\n"
                    "cache:\n  ttl_s: 1\n  negative_ttl_s: 1\n"
                    % (cls.slapd.uri, cls.slapd.base, cls.slapd.rootdn, secret))
        for path in (etc, secret, os.path.join(etc, "mailgrant.yaml")):  # throwaway sandbox
            os.chmod(path, 0o755 if os.path.isdir(path) else 0o644)
        for d in ("run", "state", "mail"):
            os.makedirs(os.path.join(cls.tmp, d), mode=0o755)
        shutil.chown(os.path.join(cls.tmp, "mail"), "mail", "mail")

        cls.imap_port = _free_port()
        cls.conf = os.path.join(cls.tmp, "dovecot.conf")
        cls.log = os.path.join(cls.tmp, "dovecot.log")
        with open(cls.conf, "w") as f:
            f.write(CONF.format(tmp=cls.tmp, ldap_uri=cls.slapd.uri, ldap_base=cls.slapd.base,
                                imap_port=cls.imap_port, passdb_block=PASSDB_BLOCK))
        # The daemon keeps its stdout/stderr: a file, not a pipe (a pipe would never end).
        with open(os.path.join(cls.tmp, "dovecot.out"), "w+") as out:
            rc = subprocess.run([DOVECOT, "-c", cls.conf], stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, timeout=60).returncode
            out.seek(0)
            if rc != 0:
                text = out.read()
                cls.tearDownClass()
                raise RuntimeError("dovecot failed to start (exit %d): %s" % (rc, text))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", cls.imap_port), timeout=2) as s:
                    if s.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.2)
        log = cls.read_log()
        cls.tearDownClass()
        raise RuntimeError("dovecot did not answer; log:\n" + log)

    @classmethod
    def tearDownClass(cls):
        subprocess.run([DOVEADM, "-c", cls.conf, "stop"], capture_output=True, timeout=60)
        cls.slapd.stop()
        if os.environ.get("MAILGRANT_KEEP_TMP"):
            print("kept", cls.tmp, file=sys.stderr)
        else:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def read_log(cls):
        try:
            with open(cls.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def assert_logged(self, pattern, since):
        """The first line after offset `since` of the Dovecot log matching `pattern`
        (a regex), waited for: Dovecot logs through its log process, asynchronously."""
        deadline = time.monotonic() + LOG_WAIT_S
        while True:
            for line in self.read_log()[since:].splitlines():
                if re.search(pattern, line):
                    return line
            if time.monotonic() > deadline:
                self.fail("no log line matching %r; log since:\n%s" % (pattern, self.read_log()[since:]))
            time.sleep(0.1)

    def imap_login(self, user, password):
        imap = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=30)
        try:
            imap.login(user, password)
        except imaplib.IMAP4.error:
            imap.shutdown()
            raise
        return imap

    def auth_test(self, service, user, password):
        return subprocess.run([DOVEADM, "-c", self.conf, "auth", "test", "-x", "service=" + service, user, password],
                              capture_output=True, text=True, timeout=60)

    # ---- tests (the LDAP outage runs last: names sort) ----

    def test_1_login_with_grant(self):
        since = len(self.read_log())
        imap = self.imap_login("alice@example.com*bob@example.com", "bob-pw")  # grant projects-bob
        try:
            self.assertEqual(imap.select("INBOX")[0], "OK")
        finally:
            imap.logout()
        line = self.assert_logged(r"mailgrant: login of bob@example\.com to alice@example\.com "
                                  r"\(service imap\) allowed by an LDAP grant", since)
        # The LDAP calls block: they ran in an auth-worker process, not the auth master.
        self.assertIn("auth-worker", line)
        self.assertIn("Info:", line)
        # The configuration came from the global setting mailgrant_config (there is no
        # /etc/mailgrant/mailgrant.yaml to fall back on here).
        self.assertNotIn("cannot read mailgrant_config", self.read_log())

    def test_1_login_through_group_grant(self):
        since = len(self.read_log())
        self.imap_login("support@example.com*carol@example.com", "carol-pw").logout()  # leads -> team
        self.assert_logged(r"mailgrant: login of carol@example\.com to support@example\.com "
                           r"\(service imap\) allowed", since)

    def test_2_no_grant(self):
        since = len(self.read_log())
        with self.assertRaises(imaplib.IMAP4.error):
            self.imap_login("support@example.com*eve@example.com", "eve-pw")
        self.assert_logged(r"Info: .*mailgrant: refused login of eve@example\.com to support@example\.com: "
                           r"no grant in LDAP", since)

    def test_2_send_only_grant_opens_nothing(self):
        since = len(self.read_log())
        with self.assertRaises(imaplib.IMAP4.error):
            self.imap_login("carol@example.com*dave@example.com", "dave-pw")  # behalf-dave: sendOnBehalf only
        self.assert_logged(r"mailgrant: refused login of dave@example\.com to carol@example\.com: no grant", since)

    def test_3_wrong_password(self):
        since = len(self.read_log())
        with self.assertRaises(imaplib.IMAP4.error):
            self.imap_login("alice@example.com*bob@example.com", "wrong")
        self.assert_logged(r"Info: .*mailgrant: wrong password or unknown user bob@example\.com", since)

    def test_3_shared_mailbox_cannot_be_the_grantee(self):
        since = len(self.read_log())
        with self.assertRaises(imaplib.IMAP4.error):
            self.imap_login("bob@example.com*support@example.com", "anything")
        self.assert_logged(r"mailgrant: wrong password or unknown user support@example\.com", since)

    def test_4_own_login_untouched(self):
        # The master passdb is asked only for MAILBOX*GRANTEE logins.
        self.imap_login("alice@example.com", "alice-pw").logout()

    def test_5_sending_services_refused(self):
        for service in ("smtp", "submission"):
            since = len(self.read_log())
            p = self.auth_test(service, "support@example.com*bob@example.com", "bob-pw")
            self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertIn("auth failed", (p.stdout + p.stderr).lower())
            line = self.assert_logged(r"mailgrant: refused per-collaborator login of bob@example\.com to "
                                      r"support@example\.com for service '%s': it is for reading mail only" % service,
                                      since)
            self.assertIn("Warning:", line)
        # The same login over imap through doveadm: allowed (the refusal is the service's).
        p = self.auth_test("imap", "support@example.com*bob@example.com", "bob-pw")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_9_ldap_down_is_temporary(self):
        self.slapd.stop()
        time.sleep(1.5)  # past cache.ttl_s: the answer must come from LDAP
        since = len(self.read_log())
        with self.assertRaises(imaplib.IMAP4.error) as caught:
            self.imap_login("alice@example.com*bob@example.com", "bob-pw")
        self.assertIn("UNAVAILABLE", str(caught.exception))  # "Temporary authentication failure"
        line = self.assert_logged(r"mailgrant: temporary failure: ", since)
        self.assertIn("Error:", line)


if __name__ == "__main__":
    unittest.main()
