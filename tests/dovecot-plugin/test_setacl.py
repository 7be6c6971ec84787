#!/usr/bin/env python3
"""End to end (issue 12): IMAP SETACL/DELETEACL written through to LDAP grants by the
Dovecot plugin. A private real Dovecot 2.3 loading the built plugin through the shipped
examples/dovecot/90-mailgrant.conf, a real slapd with the project's schema and fixture,
Python's imaplib as the client, ldapsearch and the mailgrant CLI as the other readers.
Needs root (Dovecot master) and the plugin path in $MAILGRANT_DOVECOT_PLUGIN (CTest
sets it, and $MAILGRANT_CLI).

The plugin writes with the configuration's ldap.bind_dn: in this sandbox slapd's rootdn.
The fixture's grant "projects-bob" is removed first, so that bob's access to alice's
Projects comes only from what alice does over IMAP here.
"""
import glob
import imaplib
import json
import os
import re
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
sys.path.insert(0, HERE)
from mail_sandbox import dovecot_conf  # noqa: E402
from mailgrant_setup import assert_dovecot_log_clean, ldap_apply, plugin_stack  # noqa: E402
import test_dovecot_plugin as base  # noqa: E402  (a module: its test classes do not run here)

CLI = os.environ.get("MAILGRANT_CLI", os.path.join(ROOT, "build", "cli", "mailgrant"))
TTL = 2  # cache ttl: the grantee must obey a change within it
ALICE_DN = "uid=alice,ou=people,dc=example,dc=com"
BOB_DN = "uid=bob,ou=people,dc=example,dc=com"
TEAM_DN = "cn=support-team,ou=groups,dc=example,dc=com"
SHARED_PROJECTS = "shared/alice@example.com/Projects"


class SetAclTest(unittest.TestCase):
    """The steps build on each other (numbered: unittest runs them in name order)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.slapd, cls.config, cls.stack = plugin_stack(cls, "mailgrant-dovecot-setacl-", TTL)
        ldap_apply(cls.slapd, "dn: cn=projects-bob,%s\nchangetype: delete\n" % ALICE_DN)
        with cls.login("alice@example.com", "alice-pw") as imap:
            for folder in ["Projects", "Private"]:
                assert imap.create(folder)[0] == "OK"
                assert imap.append(folder, None, None,
                                   ("Subject: in %s\r\n\r\nbody\r\n" % folder).encode())[0] == "OK"

    login = classmethod(base.DovecotPluginTest.login.__func__)
    names = base.DovecotPluginTest.names
    myrights = base.DovecotPluginTest.myrights
    assert_logged = base.DovecotPluginTest.assert_logged

    # ---- readers other than Dovecot ----
    def grants_below_alice(self):
        """{dn: {attribute: [values]}} of the mailGrant entries directly below alice."""
        out = subprocess.run(["ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-H", self.slapd.uri,
                              "-D", self.slapd.rootdn, "-w", self.slapd.rootpw, "-s", "one", "-b", ALICE_DN,
                              "(objectClass=mailGrant)", "mailGrantee", "mailGrantFolder", "mailGrantRights",
                              "mailGrantSend"],
                             check=True, capture_output=True, text=True, timeout=20).stdout
        grants = {}
        for block in out.strip().split("\n\n"):
            attrs = {}
            for line in block.splitlines():
                key, _, value = line.partition(": ")
                attrs.setdefault(key, []).append(value)
            if "dn" in attrs:
                grants[attrs.pop("dn")[0]] = attrs
        return grants

    def grants_for(self, grantee_dn, folder):
        return {dn: g for dn, g in self.grants_below_alice().items()
                if grantee_dn in g.get("mailGrantee", []) and folder in g.get("mailGrantFolder", [])}

    def mailgrant_log(self):
        with open(self.stack.dovecot_log_path) as f:
            return "\n".join(line for line in f.read().splitlines() if "mailgrant" in line)

    def cli(self, *args):
        return subprocess.run([CLI, "-c", self.config] + list(args), capture_output=True, text=True, timeout=30)

    def no_local_acl_files(self):
        found = glob.glob(os.path.join(self.stack.mail_dir, "**", "dovecot-acl"), recursive=True)
        self.assertEqual(found, [], "SETACL wrote local ACL files")

    def wait_for(self, what, check, timeout_s=TTL + 10):
        deadline = time.time() + timeout_s
        while not check():
            self.assertLess(time.time(), deadline, what + " not within the TTL")
            time.sleep(0.5)

    # ---- steps ----
    def test_1_setacl_creates_an_ldap_grant_the_grantee_and_cli_obey(self):
        with self.login("alice@example.com", "alice-pw") as imap:
            typ, data = imap.setacl("Projects", "bob@example.com", "lrs")
            self.assertEqual(typ, "OK", data)
        grants = self.grants_for(BOB_DN, "Projects")
        self.assertEqual(len(grants), 1, self.grants_below_alice())
        dn, grant = next(iter(grants.items()))
        self.assertEqual(grant["mailGrantRights"], ["reader"])  # the role whose letters are lrs
        self.assertEqual(grant["mailGrantFolder"], ["Projects"])
        self.assertNotIn("mailGrantSend", grant)
        self.assert_logged("mailgrant: SETACL by alice@example.com on Projects of alice@example.com "
                           "for bob@example.com rights lrs: ")
        self.assert_logged(dn)

        with self.login("bob@example.com", "bob-pw") as imap:
            self.wait_for("bob's LIST", lambda: SHARED_PROJECTS in self.names(imap))
            self.assertEqual(self.myrights(imap, SHARED_PROJECTS), "lrs")
            self.assertEqual(imap.select('"%s"' % SHARED_PROJECTS)[0], "OK")
            imap.close()
            # bob reads but does not administer: Dovecot refuses before mailgrant is asked
            typ, data = imap.setacl('"%s"' % SHARED_PROJECTS, "eve@example.com", "lr")
            self.assertEqual(typ, "NO")
            self.assertIn(b"NOPERM", data[0])
            self.assertEqual(self.grants_for("uid=eve,ou=people,dc=example,dc=com", "Projects"), {})

        listed = self.cli("list", "alice@example.com")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("bob@example.com", listed.stdout)
        self.assertIn("Projects", listed.stdout)
        explained = self.cli("explain", "bob@example.com", "alice@example.com", "Projects")
        self.assertEqual(explained.returncode, 0, explained.stdout + explained.stderr)
        self.no_local_acl_files()

    def test_2_plus_and_minus_change_the_stored_rights(self):
        with self.login("alice@example.com", "alice-pw") as imap:
            typ, data = imap.setacl("Projects", "bob@example.com", "+w")
            self.assertEqual(typ, "OK", (data, self.mailgrant_log()))
            (grant,) = self.grants_for(BOB_DN, "Projects").values()
            self.assertEqual(grant["mailGrantRights"], ["lrsw"])
            self.assert_logged("for bob@example.com rights +w: ")
            typ, data = imap.setacl("Projects", "bob@example.com", "-w")
            self.assertEqual(typ, "OK", data)
            (grant,) = self.grants_for(BOB_DN, "Projects").values()
            self.assertEqual(grant["mailGrantRights"], ["reader"])
            self.assert_logged("for bob@example.com rights -w: ")
            # GETACL round-trips what LDAP now has
            acl = imap.getacl("Projects")[1][0].decode()
            m = re.search(r"bob@example\.com (\S+)", acl)
            self.assertEqual(set(m.group(1)) - {"c", "d"}, set("lrs"), acl)
        self.no_local_acl_files()

    def test_3_group_identifier(self):
        with self.login("alice@example.com", "alice-pw") as imap:
            typ, data = imap.setacl("Private", "$support-team", "lr")
            self.assertEqual(typ, "OK", data)
            grants = self.grants_for(TEAM_DN, "Private")
            self.assertEqual(len(grants), 1, self.grants_below_alice())
            (grant,) = grants.values()
            self.assertEqual(grant["mailGrantee"], [TEAM_DN])
            self.assertEqual(grant["mailGrantRights"], ["lr"])
            self.assert_logged("mailgrant: SETACL by alice@example.com on Private of alice@example.com "
                               "for $support-team rights lr: ")
            acl = imap.getacl("Private")[1][0].decode()
            self.assertIn("$support-team", acl)
        with self.login("carol@example.com", "carol-pw") as imap:  # through support-leads
            self.wait_for("carol's access through the group",
                          lambda: imap.select('"shared/alice@example.com/Private"', readonly=True)[0] == "OK")
        with self.login("alice@example.com", "alice-pw") as imap:
            self.assertEqual(imap.deleteacl("Private", "$support-team")[0], "OK")
            self.assertEqual(self.grants_for(TEAM_DN, "Private"), {})
            self.assert_logged("mailgrant: DELETEACL by alice@example.com on Private of alice@example.com "
                               "for $support-team: ")
        self.no_local_acl_files()

    def test_4_refusals_reach_the_client_with_their_reason(self):
        with self.login("alice@example.com", "alice-pw") as imap:
            typ, data = imap.setacl("Projects", "nobody@example.com", "lr")
            self.assertEqual(typ, "NO")
            text = data[0].decode()
            self.assertIn("[NOPERM]", text)
            self.assertIn("no person or group 'nobody@example.com' in the directory", text)
            self.assertNotIn("Internal error", text)
            self.assert_logged("mailgrant: refused SETACL by alice@example.com on Projects of "
                               "alice@example.com for nobody@example.com rights lr: no person or group")

            typ, data = imap.setacl("Projects", "$no-such-group", "lr")
            self.assertEqual(typ, "NO")
            self.assertIn("no person or group", data[0].decode())

            # SETACL anyone: Dovecot's imap_acl refuses it itself (acl_anyone is not
            # "allow" in the drop-in), with its own reason
            with self.assertRaisesRegex(imaplib.IMAP4.error, "'anyone' identifier is disallowed"):
                imap.setacl("Projects", "anyone", "lr")
            # DELETEACL anyone reaches mailgrant, which refuses it with its reason
            typ, data = imap.deleteacl("Projects", "anyone")
            self.assertEqual(typ, "NO")
            self.assertIn("[NOPERM] 'anyone' cannot be given access here", data[0].decode())

            # negative rights cannot be stored in LDAP
            typ, data = imap.setacl("Projects", "-bob@example.com", "w")
            self.assertEqual(typ, "NO")
            self.assertIn("negative rights", data[0].decode())
            self.assertNotIn("Internal error", data[0].decode())
        self.assertEqual(self.grants_for("cn=nobody", "Projects"), {})
        self.no_local_acl_files()

    def test_5_admin_grantee_shares_the_owners_folder_by_the_owners_name(self):
        dn = "cn=carol-admin,%s" % ALICE_DN
        ldap_apply(self.slapd, "dn: %s\nobjectClass: mailGrant\ncn: carol-admin\n"
                               "mailGrantee: uid=carol,ou=people,dc=example,dc=com\n"
                               "mailGrantFolder: Private\nmailGrantRights: admin\n" % dn, "ldapadd")
        try:
            with self.login("carol@example.com", "carol-pw") as imap:
                self.wait_for("carol's admin grant",
                              lambda: self.myrights(imap, "shared/alice@example.com/Private") == "lrswipkxtea")
                typ, data = imap.setacl('"shared/alice@example.com/Private"', "dave@example.com", "lr")
                self.assertEqual(typ, "OK", data)
            (grant,) = self.grants_for("uid=dave,ou=people,dc=example,dc=com", "Private").values()
            self.assertEqual(grant["mailGrantFolder"], ["Private"])  # as alice sees it
            self.assert_logged("mailgrant: SETACL by carol@example.com on Private of alice@example.com "
                               "for dave@example.com rights lr: ")
            with self.login("carol@example.com", "carol-pw") as imap:
                self.assertEqual(imap.deleteacl('"shared/alice@example.com/Private"', "dave@example.com")[0], "OK")
            self.assertEqual(self.grants_for("uid=dave,ou=people,dc=example,dc=com", "Private"), {})
        finally:
            ldap_apply(self.slapd, "dn: %s\nchangetype: delete\n" % dn)
        self.no_local_acl_files()

    def test_6_deleteacl_revokes_within_the_ttl(self):
        bob = self.login("bob@example.com", "bob-pw")
        try:
            self.wait_for("bob's access", lambda: bob.select('"%s"' % SHARED_PROJECTS)[0] == "OK")
            bob.close()
            with self.login("alice@example.com", "alice-pw") as imap:
                typ, data = imap.deleteacl("Projects", "bob@example.com")
                self.assertEqual(typ, "OK", data)
                self.assertNotIn("bob@example.com", imap.getacl("Projects")[1][0].decode())
            self.assertEqual(self.grants_for(BOB_DN, "Projects"), {})
            self.assert_logged("mailgrant: DELETEACL by alice@example.com on Projects of alice@example.com "
                               "for bob@example.com: ")
            # same session, no re-login: access ends within the TTL
            self.wait_for("revocation", lambda: bob.select('"%s"' % SHARED_PROJECTS)[0] != "OK")
            self.assertNotIn(SHARED_PROJECTS, self.names(bob))
        finally:
            bob.logout()
        self.assertEqual(self.cli("explain", "bob@example.com", "alice@example.com", "Projects").returncode, 1)
        self.no_local_acl_files()

    def test_7_ldap_trouble_is_a_temporary_error(self):
        with self.login("alice@example.com", "alice-pw") as imap:  # logging in needs LDAP
            self.slapd.pause()
            try:
                typ, data = imap.setacl("Projects", "bob@example.com", "lrs")
            finally:
                self.slapd.resume()
            self.assertEqual(typ, "NO")
            text = data[0].decode()
            self.assertIn("[UNAVAILABLE]", text)
            self.assertIn("try again later", text)
            self.assertNotIn("Internal error", text)
            self.assert_logged("mailgrant: SETACL by alice@example.com on Projects of alice@example.com "
                               "for bob@example.com rights lrs failed: ")
            # LDAP back (after the breaker's cache.negative_ttl_s): the same request works
            deadline = time.time() + 15
            while imap.setacl("Projects", "bob@example.com", "lrs")[0] != "OK":
                self.assertLess(time.time(), deadline, "SETACL did not work again with LDAP back")
                time.sleep(0.5)
        self.assertEqual(len(self.grants_for(BOB_DN, "Projects")), 1)
        self.no_local_acl_files()

    @classmethod
    def tearDownClass(cls):
        assert_dovecot_log_clean(cls.stack.dovecot_log_path)


class ConfiguredSelfServiceTest(unittest.TestCase):
    """Issue 12's configuration, end to end: "anyone" mapped to a group
    (self_service.anyone_group), "authenticated" left unmapped, and a role policy
    (self_service.allowed_rights: editor) that keeps the admin right "a" from being
    handed out. Dovecot lets anyone/authenticated through (acl_anyone = allow)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.slapd, cls.config, cls.stack = plugin_stack(
            cls, "mailgrant-dovecot-setacl-conf-", TTL,
            extra_dovecot_conf=dovecot_conf("plugin {\n  acl_anyone = allow\n}\n", "imap_acl_allow_anyone = yes\n"))
        # read by each imap process when it first needs the core: no login happened yet
        with open(cls.config, "a") as f:
            f.write("self_service:\n  anyone_group: support-team\n  allowed_rights: editor\n")
        with cls.login("alice@example.com", "alice-pw") as imap:
            assert imap.create("Team")[0] == "OK"

    login = classmethod(base.DovecotPluginTest.login.__func__)
    grants_below_alice = SetAclTest.grants_below_alice
    grants_for = SetAclTest.grants_for
    no_local_acl_files = SetAclTest.no_local_acl_files
    assert_logged = SetAclTest.assert_logged

    def test_anyone_is_written_as_the_configured_group_and_read_back_as_it(self):
        with self.login("alice@example.com", "alice-pw") as imap:
            typ, data = imap.setacl("Team", "anyone", "lrs")
            self.assertEqual(typ, "OK", data)
            (grant,) = self.grants_for(TEAM_DN, "Team").values()
            self.assertEqual(grant["mailGrantRights"], ["reader"])
            self.assert_logged("mailgrant: SETACL by alice@example.com on Team of alice@example.com "
                               "for anyone rights lrs: alice@example.com shared 'Team' of alice@example.com "
                               "with anyone (group $support-team) as reader")
            # GETACL shows what LDAP holds: the group, which a client can send back as is
            acl = imap.getacl("Team")[1][0].decode()
            self.assertIn("$support-team", acl)
            self.assertNotIn("anyone", acl)
            typ, data = imap.deleteacl("Team", "anyone")
            self.assertEqual(typ, "OK", data)
            self.assertEqual(self.grants_for(TEAM_DN, "Team"), {})
        self.no_local_acl_files()

    def test_unmapped_authenticated_is_refused_naming_the_setting(self):
        with self.login("alice@example.com", "alice-pw") as imap:
            typ, data = imap.setacl("Team", "authenticated", "lr")
            self.assertEqual(typ, "NO")
            text = data[0].decode()
            self.assertIn("[NOPERM] 'authenticated' cannot be given access here", text)
            self.assertIn("self_service.authenticated_group", text)
        self.no_local_acl_files()

    def test_letters_the_policy_forbids_are_refused_naming_them(self):
        with self.login("alice@example.com", "alice-pw") as imap:
            typ, data = imap.setacl("Team", "bob@example.com", "lrswipkxtea")
            self.assertEqual(typ, "NO")
            text = data[0].decode()
            self.assertIn("[NOPERM] rights 'lrswipkxtea' include letters the sharing policy forbids: a "
                          "(allowed: lrswipkxte)", text)
            self.assertEqual(self.grants_for(BOB_DN, "Team"), {})
            typ, data = imap.setacl("Team", "bob@example.com", "lrswipkxte")  # editor: allowed
            self.assertEqual(typ, "OK", data)
            (grant,) = self.grants_for(BOB_DN, "Team").values()
            self.assertEqual(grant["mailGrantRights"], ["editor"])
            self.assertEqual(imap.deleteacl("Team", "bob@example.com")[0], "OK")
        self.no_local_acl_files()

    tearDownClass = classmethod(SetAclTest.tearDownClass.__func__)


class LocalAclFilesTest(unittest.TestCase):
    """Shares an admin made with `doveadm acl` live in local dovecot-acl files, outside
    LDAP: `mailgrant check --doveadm` names each (mailbox, folder, identifier, rights) as
    an "outside-ldap" finding, and nothing the plugin derives from LDAP (the fixture's
    projects-bob, which `doveadm acl get` shows with the plugin loaded) nor a grantee's
    view of the shared folder."""

    @classmethod
    def setUpClass(cls):
        cls.tmp, cls.slapd, cls.config, cls.stack = plugin_stack(cls, "mailgrant-dovecot-localacl-", TTL)
        cls.doveadm = cls.stack.doveadm_argv()   # 2.4: in the sandbox's module namespace
        for args in (["mailbox", "create", "-u", "alice@example.com", "Projects"],
                     ["acl", "set", "-u", "alice@example.com", "Projects", "user=dave@example.com", "lookup", "read"],
                     ["acl", "set", "-u", "alice@example.com", "INBOX", "group=support-team", "lookup", "read",
                      "write-seen"],
                     ["mailbox", "create", "-u", "bob@example.com", "Stuff"]):
            subprocess.run(cls.doveadm + args, check=True, capture_output=True, timeout=60)

    cli = SetAclTest.cli

    def test_check_reports_each_local_entry_and_nothing_from_ldap(self):
        # with the plugin loaded, doveadm itself mixes LDAP's bob into the folder's ACL
        shown = subprocess.run(self.doveadm + ["acl", "get", "-u", "alice@example.com", "Projects"],
                               capture_output=True, text=True, timeout=60).stdout
        self.assertIn("user=bob@example.com", shown)

        p = self.cli("--json", "check", "--doveadm", " ".join(self.doveadm))
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        report = json.loads(p.stdout)
        local = sorted((f["mailbox"], f["folder"], f["identifier"], f["rights"], f["global"])
                       for f in report["findings"] if f["kind"] == "outside-ldap")
        self.assertEqual(local, [("alice@example.com", "INBOX", "group=support-team", "lrs", "no"),
                                 ("alice@example.com", "Projects", "user=dave@example.com", "lr", "no")],
                         p.stdout)
        (dave,) = [f for f in report["findings"] if f["kind"] == "outside-ldap" and "dave" in f["identifier"]]
        self.assertEqual(dave["dn"], ALICE_DN)
        self.assertIn("outside LDAP", dave["message"])
        self.assertIsNone(report["note"], p.stdout)

        text = self.cli("check", "--doveadm", " ".join(self.doveadm)).stdout
        self.assertIn("folder 'Projects' of alice@example.com: user=dave@example.com has 'lr' from a local ACL "
                      "file, outside LDAP", text)

        # removed with doveadm acl delete: the finding goes
        subprocess.run(self.doveadm + ["acl", "delete", "-u", "alice@example.com", "Projects",
                                       "user=dave@example.com"], check=True, capture_output=True, timeout=60)
        report = json.loads(self.cli("--json", "check", "--doveadm", " ".join(self.doveadm)).stdout)
        self.assertEqual([f["folder"] for f in report["findings"] if f["kind"] == "outside-ldap"], ["INBOX"])

    def test_ldap_rights_survive_vfile_rereading_a_changed_file(self):
        # bob's LDAP rights sit in the ACL cache on top of vfile's entries; when the local
        # file changes, vfile rebuilds the entry from it alone, and the plugin must add
        # them again at that refresh (it skips refreshes that change nothing). The admin
        # edits the file by hand: doveadm would be refused, bob's access being LDAP's.
        (folder,) = [d for d in glob.glob(os.path.join(self.stack.mail_dir, "**", ".Projects"), recursive=True)
                     if "alice" in d]
        acl_file = os.path.join(folder, "dovecot-acl")   # gone if the other test deleted dave
        before = None
        if os.path.exists(acl_file):
            with open(acl_file) as f:
                before = f.read()
        with self.login("bob@example.com", "bob-pw") as imap:
            self.assertEqual(self.myrights(imap, SHARED_PROJECTS), "lrs")   # projects-bob: reader
            self.assertEqual(imap.select('"%s"' % SHARED_PROJECTS, readonly=True)[0], "OK")
            try:
                time.sleep(1.1)   # a new mtime second: vfile compares mtime and size
                with open(acl_file, "a") as f:
                    f.write("user=bob@example.com i\n")
                # vfile's own "i" proves it re-read the file; "lrs" that LDAP's were re-added
                self.assertEqual(self.myrights(imap, SHARED_PROJECTS), "lrsi")
                self.assertEqual(imap.noop()[0], "OK")
                self.assertEqual(self.myrights(imap, SHARED_PROJECTS), "lrsi")
            finally:
                if before is None:
                    os.unlink(acl_file)
                else:
                    with open(acl_file, "w") as f:
                        f.write(before)
        with self.login("bob@example.com", "bob-pw") as imap:   # the file as it was
            self.assertEqual(self.myrights(imap, SHARED_PROJECTS), "lrs")

    login = classmethod(base.DovecotPluginTest.login.__func__)
    myrights = base.DovecotPluginTest.myrights
    tearDownClass = classmethod(SetAclTest.tearDownClass.__func__)


if __name__ == "__main__":
    unittest.main()
