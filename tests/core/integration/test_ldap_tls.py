#!/usr/bin/env python3
"""The core's TLS handling against a real slapd with StartTLS, through the mailgrant CLI
(which uses the core's LdapConnection): certificates are verified by default, a CA file
makes a private CA work, a wrong host name or an unknown CA is an error (exit 3) and
never a silent plain-text or unverified fallback. $MAILGRANT_CLI names the binary.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from slapd_sandbox import Slapd  # noqa: E402

CLI = os.environ.get("MAILGRANT_CLI", os.path.join(ROOT, "build", "cli", "mailgrant"))


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(d):
    """A private CA, a server certificate for 127.0.0.1, and one for another name."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", "/CN=mailgrant test CA", cwd=d)
    for name, san in (("good", "IP:127.0.0.1"), ("wrong", "DNS:ldap.elsewhere.example")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + san.split(":")[1], cwd=d)
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n" % san)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext", cwd=d)


class LdapTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mailgrant-tls-")
        cls.addClassCleanup(lambda: shutil.rmtree(cls.tmp, ignore_errors=True))
        make_pki(cls.tmp)
        cls.servers = {}
        for name in ("good", "wrong"):
            slapd = Slapd(os.path.join(cls.tmp, "slapd-" + name), tls={
                "ca": os.path.join(cls.tmp, "ca.pem"), "cert": os.path.join(cls.tmp, name + ".pem"),
                "key": os.path.join(cls.tmp, name + ".key")}).start()
            cls.addClassCleanup(slapd.stop)
            slapd.load_ldif(os.path.join(ROOT, "tests", "fixtures", "org.ldif"))
            cls.servers[name] = slapd

    def explain(self, server, **ldap):
        slapd = self.servers[server]
        secret = os.path.join(self.tmp, "secret")
        with open(secret, "w") as f:
            f.write(slapd.rootpw)
        config = os.path.join(self.tmp, "mailgrant.yaml")
        with open(config, "w") as f:
            f.write("ldap:\n  uris: [%s]\n  base: %s\n  bind_dn: %s\n  bind_password_file: %s\n  starttls: true\n"
                    % (slapd.uri, slapd.base, slapd.rootdn, secret))
            for k, v in ldap.items():
                f.write("  %s: %s\n" % (k, v))
        out = subprocess.run([CLI, "-c", config, "explain", "bob@example.com", "support@example.com", "--send"],
                             capture_output=True, text=True, timeout=60)
        return out.returncode, out.stdout + out.stderr

    def test_private_ca_verifies(self):
        rc, out = self.explain("good", tls_ca_file=os.path.join(self.tmp, "ca.pem"))
        self.assertEqual(rc, 0, out)

    def test_unknown_ca_is_an_error_not_a_fallback(self):
        rc, out = self.explain("good")  # system CAs do not know the test CA
        self.assertEqual(rc, 3, out)
        self.assertIn("LDAP", out)

    def test_wrong_host_name_is_an_error(self):
        rc, out = self.explain("wrong", tls_ca_file=os.path.join(self.tmp, "ca.pem"))
        self.assertEqual(rc, 3, out)

    def test_checks_can_only_be_switched_off_explicitly(self):
        rc, out = self.explain("wrong", tls_require_cert="never")
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    unittest.main()
