#!/usr/bin/env python3
"""Real-client test: Debian's Roundcube 1.6 with its `acl` plugin, driven by headless
Debian chromium (playwright-core from npm, tests/roundcube/driver.js), against the private
stack of tests/dovecot-plugin (slapd with tests/fixtures/org.ldif, Dovecot loading the
built plugin, Postfix submission).

  alice shares Projects with bob in Settings > Folders > Projects > Sharing ("Read"),
  bob sees and opens shared/alice@example.com/Projects, alice removes bob's entry,
  and a share with an unknown person is refused with the server's reason, which
  Roundcube shows through roundcube-plugin/mailgrant (also a sharing-policy refusal,
  and markup in the server's text shown as text).

Each step is one test method (run in order); later steps do not need earlier ones to
have passed, so a failure names exactly the step that broke. Needs root (Dovecot,
Postfix), the packages in scripts/install-deps (roundcube-core roundcube-sqlite3
roundcube-plugins php-cli php-sqlite3 chromium nodejs npm) and the npm registry once
(playwright-core is installed into tests/roundcube/node_modules if missing).

Environment: MAILGRANT_DOVECOT_PLUGIN, MAILGRANT_CHECKPASSWORD (CTest sets them),
MAILGRANT_RC_ARTIFACTS=dir for logs and failure screenshots
(default a new /tmp/mailgrant-roundcube-artifacts-*), MAILGRANT_RC_SCREENSHOT=path overrides where
the README screenshot goes (default docs/roundcube-sharing.png; "" skips it).
"""
import glob
import imaplib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from mailgrant_setup import ldap_apply, plugin_stack  # noqa: E402
sys.path.insert(0, HERE)
from roundcube_sandbox import (CHROMIUM, MAILGRANT_RC_PLUGIN, RC_DOCROOT, RC_SHARE,  # noqa: E402
                               Roundcube, ensure_playwright)

SCREENSHOT = os.environ.get("MAILGRANT_RC_SCREENSHOT", os.path.join(ROOT, "docs", "roundcube-sharing.png"))
TTL = 2

ALICE = ("alice@example.com", "alice-pw")
BOB = ("bob@example.com", "bob-pw")
SHARED_PROJECTS = "shared/alice@example.com/Projects"


class MailgrantPluginUnitTest(unittest.TestCase):
    """roundcube-plugin/mailgrant's text handling against Roundcube's own library
    (tests/roundcube/test_plugin_unit.php: escaping, control characters, length, which
    answers and actions it leaves alone), no servers."""

    def test_acl_errors_unit(self):
        if not shutil.which("php") or not os.path.isdir(RC_SHARE):
            if os.environ.get("CI"):
                self.fail("missing php or Roundcube (scripts/install-deps)")
            self.skipTest("missing php or Roundcube")
        for name in ("mailgrant.php", "mailgrant_acl_errors.php"):
            lint = subprocess.run(["php", "-l", os.path.join(MAILGRANT_RC_PLUGIN, name)],
                                  capture_output=True, text=True, timeout=60)
            self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)
        proc = subprocess.run(["php", os.path.join(HERE, "test_plugin_unit.php"), RC_SHARE],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        print("\n  " + proc.stdout.strip(), file=sys.stderr)


class RoundcubeSharingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t0 = time.time()
        # Missing tools end the test: skipped by hand (a developer without the browser
        # packages), failed under CI, where scripts/install-deps installs them all.
        missing = [tool for tool in ("php", "node", CHROMIUM) if not shutil.which(tool)]
        if not os.path.isdir(RC_DOCROOT):
            missing.append("Roundcube (%s)" % RC_DOCROOT)
        if missing:
            text = "missing %s (scripts/install-deps)" % ", ".join(missing)
            if os.environ.get("CI"):
                raise RuntimeError(text)
            raise unittest.SkipTest(text)
        ensure_playwright()
        cls.tmp, cls.slapd, cls.config, cls.stack = plugin_stack(cls, "mailgrant-roundcube-it-", TTL)
        # The fixture already shares Projects with bob: this test makes that share itself.
        cls.ldap("ldapdelete", "cn=projects-bob,uid=alice,ou=people,dc=example,dc=com\n")
        with cls.imap(*ALICE) as imap:
            assert imap.create("Projects")[0] == "OK"
            assert imap.subscribe("Projects")[0] == "OK"
            assert imap.append("Projects", None, None,
                               b"From: alice@example.com\r\nTo: alice@example.com\r\n"
                               b"Subject: project plan\r\n\r\nbody\r\n")[0] == "OK"
        cls.rc = Roundcube(os.path.join(cls.tmp, "roundcube"), cls.stack.imap_port, cls.stack.submission_port)
        cls.rc.start()
        cls.addClassCleanup(cls.rc.stop)
        # screenshots of failed steps and, at the end, the logs: outside the work dir,
        # which is removed
        cls.shots = os.environ.get("MAILGRANT_RC_ARTIFACTS") or tempfile.mkdtemp(
            prefix="mailgrant-roundcube-artifacts-")
        os.makedirs(cls.shots, exist_ok=True)
        print("stack and Roundcube up in %.1f s (Roundcube %s, IMAP %d)"
              % (time.time() - cls.t0, cls.rc.url, cls.stack.imap_port), file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        for src in [cls.stack.dovecot_log_path, cls.stack.postfix_log_path] + glob.glob(
                os.path.join(cls.rc.log_dir, "*")):
            if os.path.isfile(src):
                shutil.copy(src, os.path.join(cls.shots, os.path.basename(src)))
        print("artifacts (logs, failure screenshots): " + cls.shots, file=sys.stderr)
        print("total %.1f s" % (time.time() - cls.t0), file=sys.stderr)

    # ---- helpers ------------------------------------------------------------------
    @classmethod
    def ldap(cls, tool, text):
        ldap_apply(cls.slapd, text, tool)

    @classmethod
    def imap(cls, user, password):
        imap = imaplib.IMAP4("127.0.0.1", cls.stack.imap_port, timeout=30)
        imap.login(user, password)
        return imap

    def grants_below_alice(self):
        """{dn: {attr: [values]}} of the mailGrant entries directly below alice."""
        out = subprocess.run(
            ["ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-x", "-H", self.slapd.uri, "-D", self.slapd.rootdn,
             "-w", self.slapd.rootpw, "-b", "uid=alice,ou=people,dc=example,dc=com", "-s", "one",
             "(objectClass=mailGrant)", "mailGrantee", "mailGrantFolder", "mailGrantRights"],
            check=True, capture_output=True, timeout=20, text=True).stdout
        grants = {}
        for block in out.strip().split("\n\n"):
            attrs = {}
            for line in block.splitlines():
                k, _, v = line.partition(": ")
                attrs.setdefault(k, []).append(v)
            if "dn" in attrs:
                grants[attrs["dn"][0]] = attrs
        return grants

    def bobs_grants(self):
        return {dn: a for dn, a in self.grants_below_alice().items()
                if "uid=bob,ou=people,dc=example,dc=com" in [g.lower() for g in a.get("mailGrantee", [])]}

    def local_acl_files(self):
        """Dovecot's own ACL files in alice's mail dir: per-folder `dovecot-acl` files, and
        folders named in `dovecot-acl-list` (the vfile backend's index of folders that
        have local ACLs; Dovecot may create it empty while it iterates ACLs)."""
        base = os.path.join(self.stack.mail_dir, "alice@example.com")
        found = glob.glob(os.path.join(base, "**", "dovecot-acl"), recursive=True)
        for path in glob.glob(os.path.join(base, "**", "dovecot-acl-list"), recursive=True):
            with open(path, errors="replace") as f:
                listed = f.read().strip()
            if listed:
                found.append("%s: %r" % (path, listed))
        return found

    def dovecot_log_has(self, pattern, timeout_s=10):
        deadline = time.time() + timeout_s
        while True:
            with open(self.stack.dovecot_log_path, errors="replace") as f:
                m = re.search(pattern, f.read())
            if m or time.time() > deadline:
                return m.group(0) if m else None
            time.sleep(0.2)

    def bob_imap_names(self):
        with self.imap(*BOB) as imap:
            typ, data = imap.list('""', "*")
        return [re.match(rb'\(.*?\) "." "?(.*?)"?$', line).group(1).decode() for line in data]

    def drive(self, step, **params):
        """Runs one browser step of driver.js; returns its JSON result. The step fails
        the test with the driver's own message (and a screenshot path) if it failed."""
        params.update(url=self.rc.url, shots=self.shots, chromium=CHROMIUM)
        proc = subprocess.run(["node", os.path.join(HERE, "driver.js"), step, json.dumps(params)],
                              cwd=HERE, capture_output=True, text=True, timeout=240)
        result = None
        for line in proc.stdout.splitlines():
            if line.startswith("RESULT "):
                result = json.loads(line[7:])
        if result is None:
            self.fail("browser step %s crashed (rc %d):\n%s\n%s" % (step, proc.returncode, proc.stdout[-3000:],
                                                                   proc.stderr[-3000:]))
        if not result.get("ok"):
            self.fail("browser step %s failed: %s\nscreenshot: %s\nRoundcube errors:\n%s"
                      % (step, result.get("error"), result.get("screenshot"), self.rc.tail("errors.log", 15)))
        return result

    def imap_log_tail(self, since):
        p = os.path.join(self.rc.log_dir, "imap.log")
        if not os.path.exists(p):
            return ""
        with open(p, errors="replace") as f:
            f.seek(since)
            return f.read()

    def imap_log_size(self):
        p = os.path.join(self.rc.log_dir, "imap.log")
        return os.path.getsize(p) if os.path.exists(p) else 0

    # ---- the steps, in order --------------------------------------------------------
    def test_1_owner_shares_in_sharing_tab(self):
        self.assertEqual(self.bobs_grants(), {}, "precondition: no grant for bob below alice")
        mark = self.imap_log_size()
        r = self.drive("share", user=ALICE[0], password=ALICE[1], folder="Projects",
                       grantee=BOB[0], screenshot=SCREENSHOT)
        print("\n  share: Roundcube says %r" % r.get("message"), file=sys.stderr)
        log = self.imap_log_tail(mark)
        self.assertRegex(log, r'SETACL "?Projects"? "?bob@example\.com"? "?lrs"?',
                         "Roundcube's SETACL (simple mode 'Read') in its IMAP log")
        self.assertIn("Successfully added access rights", r.get("message", ""),
                      "Roundcube shows success (IMAP log:\n%s)" % log[-1500:])
        self.assertIn("bob@example.com", r.get("rows", ""), "bob listed in the Sharing tab")
        # the decision was the component's: LDAP holds the grant, no local ACL file
        grants = self.bobs_grants()
        self.assertEqual(len(grants), 1, "one LDAP grant for bob below alice: %r" % self.grants_below_alice())
        attrs = next(iter(grants.values()))
        self.assertEqual(attrs.get("mailGrantFolder"), ["Projects"])
        self.assertEqual(self.local_acl_files(), [], "no dovecot-acl file in alice's maildir")
        line = self.dovecot_log_has(r"mailgrant: SETACL by alice@example\.com on Projects of "
                                    r"alice@example\.com for bob@example\.com[^\n]*")
        self.assertIsNotNone(line, "the plugin's SETACL line in the Dovecot log")
        print("  LDAP: %s %r\n  Dovecot log: %s" % (next(iter(grants)), attrs, line), file=sys.stderr)

    def test_2_grantee_sees_and_opens_the_folder(self):
        names = self.bob_imap_names()
        self.assertIn(SHARED_PROJECTS, names, "IMAP LIST for bob (imaplib)")
        r = self.drive("grantee", user=BOB[0], password=BOB[1], folder=SHARED_PROJECTS, subject="project plan")
        print("\n  grantee: %s" % r.get("message"), file=sys.stderr)

    def test_3_owner_removes_the_share(self):
        if not self.bobs_grants():   # step 1 failed: give bob a grant the old way
            self.ldap("ldapadd", "dn: cn=rc-bob,uid=alice,ou=people,dc=example,dc=com\nobjectClass: mailGrant\n"
                      "cn: rc-bob\nmailGrantee: uid=bob,ou=people,dc=example,dc=com\n"
                      "mailGrantFolder: Projects\nmailGrantRights: lrs\n")
            print("\n  (step 1 made no grant: seeded one in LDAP for this step)", file=sys.stderr)
            time.sleep(TTL + 1)
        r = self.drive("unshare", user=ALICE[0], password=ALICE[1], folder="Projects", grantee=BOB[0])
        print("\n  unshare: Roundcube says %r" % r.get("message"), file=sys.stderr)
        self.assertIn("Successfully deleted access rights", r.get("message", ""))
        self.assertEqual(self.bobs_grants(), {}, "bob's LDAP grant removed")
        self.assertEqual(self.local_acl_files(), [], "no dovecot-acl file in alice's maildir")
        self.assertIsNotNone(self.dovecot_log_has(r"mailgrant: DELETEACL by alice@example\.com on Projects"),
                             "the plugin's DELETEACL line in the Dovecot log")
        time.sleep(TTL + 1)
        self.assertNotIn(SHARED_PROJECTS, self.bob_imap_names(), "bob no longer sees it (after the cache TTL)")

    def refusal(self, grantee, groups=None):
        """Adds grantee in the Sharing tab, expecting a refusal; returns (what Roundcube
        shows, the markup of the message, the server's NO line from the IMAP log)."""
        mark = self.imap_log_size()
        r = self.drive("refused", user=ALICE[0], password=ALICE[1], folder="Projects",
                       grantee=grantee, groups=groups or ["read"])
        shown = r.get("message", "")
        log = self.imap_log_tail(mark)
        m = re.search(r"\[S: \d+\] NO[^\n]*|S: \S+ NO[^\n]*", log)
        server_text = m.group(0) if m else None
        print("\n  refusal: Roundcube shows %r\n  server answered: %r" % (shown, server_text), file=sys.stderr)
        self.assertIsNotNone(server_text, "the server refused the SETACL (Roundcube's IMAP log):\n" + log[-1500:])
        self.assertEqual(r.get("kind"), "error", "shown as an error")
        self.assertEqual(self.local_acl_files(), [], "no dovecot-acl file in alice's maildir")
        return shown, r.get("html", ""), server_text

    def assert_shows_server_reason(self, shown, server_text):
        """acl's own text (acl.createerror), then ": " and the server's text without its
        response code (roundcube-plugin/mailgrant)."""
        generic = "Unable to add access rights"
        reason = re.sub(r"^.*? NO (\[[A-Z-]+\] )?", "", server_text).strip()
        # without Dovecot's timing suffix, " (0.031 + 0.000 + 0.030 secs)."
        reason = re.sub(r"\s*\(\d+\.\d+( \+ \d+\.\d+)* secs\)\.?$", "", reason)
        self.assertEqual(shown, generic + ": " + reason,
                         "Roundcube shows its text and the server's reason (mailgrant plugin)")

    def test_4_refusal_shows_a_reason(self):
        shown, _, server_text = self.refusal("nobody@example.com")
        self.assertNotIn("nobody", "".join(self.grants_below_alice()), "no grant written")
        self.assertTrue(re.search(r"NO \[[A-Z]+\] \S", server_text) and "nobody" in server_text.lower()
                        or len(server_text.split("NO", 1)[1].strip()) > 20,
                        "the server's NO carries a reason: %r" % server_text)
        # Roundcube 1.6's acl plugin alone only ever shows its own text (acl.createerror);
        # the mailgrant plugin adds the server's reason to it.
        self.assertIn("no person or group 'nobody@example.com' in the directory", shown)
        self.assert_shows_server_reason(shown, server_text)

    def test_4b_server_text_is_shown_as_text(self):
        """The server echoes what was typed: HTML in it is shown as typed, not rendered.
        (Roundcube strips tags from form input and sends only valid addresses, so the
        probe is an address with a character reference: rendered as HTML, "&lt" would
        show as "<".)"""
        grantee = "x&lt@example.com"
        shown, html, server_text = self.refusal(grantee)
        self.assertIn(grantee, server_text, "the server echoed the identifier")
        self.assertIn("'%s'" % grantee, shown, "the typed text shown as typed")
        self.assertIn("x&amp;lt@example.com", html, "escaped in the message's markup")
        self.assert_shows_server_reason(shown, server_text)

    def test_5_simple_mode_groups_in_ldap(self):
        """What Roundcube's simple-mode switches send (plugins/acl/acl.php: Read = lrs,
        Write = wi, Delete = te with Dovecot's RIGHTS=texk, Other = the remaining
        supported letters, xkpa) and what LDAP holds afterwards."""
        cases = [("carol@example.com", ["read", "write"], "lrswi"),
                 ("dave@example.com", ["read", "write", "delete"], "lrswite"),
                 ("eve@example.com", ["read", "write", "delete", "other"], "lrswitexkpa")]
        report = []
        for grantee, groups, letters in cases:
            with self.subTest(groups="+".join(groups)):
                mark = self.imap_log_size()
                r = self.drive("share", user=ALICE[0], password=ALICE[1], folder="Projects",
                               grantee=grantee, groups=groups, anyOutcome=True)
                log = self.imap_log_tail(mark)
                m = re.search(r'C: \S+ SETACL "?Projects"? "?%s"? "?([a-z]+)"?' % re.escape(grantee), log)
                self.assertIsNotNone(m, "Roundcube sent a SETACL for %s:\n%s" % (grantee, log[-1000:]))
                sent = m.group(1)
                uid = grantee.split("@")[0]
                ldap = [a.get("mailGrantRights") for a in self.grants_below_alice().values()
                        if "uid=%s,ou=people,dc=example,dc=com" % uid in [g.lower() for g in a.get("mailGrantee", [])]
                        and "Projects" in a.get("mailGrantFolder", [])]
                answer = re.search(r"S: \S+ (OK|NO|BAD)[^\n]*", log[m.end():])
                report.append("%-28s SETACL %-12s -> %s; LDAP mailGrantRights %s; server: %s"
                              % ("+".join(groups), sent, r.get("message"), ldap or "none",
                                 answer.group(0)[:120] if answer else "?"))
                self.assertEqual(sent, letters)
                if r.get("kind") == "confirmation":
                    self.assertEqual(len(ldap), 1, "Roundcube said success: one LDAP grant for " + grantee)
                else:
                    self.assertEqual(ldap, [], "refused: no LDAP grant for " + grantee)
        print("\n  " + "\n  ".join(report), file=sys.stderr)
        self.assertEqual(self.local_acl_files(), [], "no dovecot-acl file in alice's maildir")

    def test_6_policy_refusal_shows_the_policy(self):
        """self_service.allowed_rights: editor (no admin right "a" through IMAP ACL):
        "Full control" (all four switches, lrswitexkpa) is refused with the policy's text."""
        with open(self.config) as f:
            original = f.read()
        self.addCleanup(self.restore_config, original)
        # each imap process reads the configuration when it first needs it: new
        # connections (Roundcube opens one per request) see the policy
        with open(self.config, "a") as f:
            f.write("self_service:\n  allowed_rights: editor\n")
        before = self.bobs_grants()
        shown, _, server_text = self.refusal(BOB[0], ["read", "write", "delete", "other"])
        self.assertIn("include letters the sharing policy forbids: a", shown)
        self.assert_shows_server_reason(shown, server_text)
        self.assertEqual(self.bobs_grants(), before, "bob's grants unchanged")

    def restore_config(self, text):
        with open(self.config, "w") as f:
            f.write(text)

    def test_7_no_plugin_errors(self):
        """Roundcube loaded the mailgrant plugin without complaint."""
        p = os.path.join(self.rc.log_dir, "errors.log")
        text = open(p, errors="replace").read() if os.path.exists(p) else ""
        self.assertNotRegex(text, r"(?i)mailgrant", "Roundcube's errors.log:\n" + text[-2000:])


if __name__ == "__main__":
    unittest.main()
