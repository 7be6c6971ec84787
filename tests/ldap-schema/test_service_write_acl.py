#!/usr/bin/env python3
"""What the service account may write (ldap-schema/service-write-acl.conf / .ldif).

The Dovecot plugin writes IMAP SETACL / DELETEACL through to LDAP as the service
account cn=mailgrant,ou=services,dc=example,dc=com. A private slapd per test with a
typical site policy below the rules; the clients run as that account and every
refusal is checked to be result code 50 (insufficientAccessRights).

conf format:      the site rules appended to service-write-acl.conf, in slapd.conf.
cnconfig format:  slapd starts with the site rules only; then service-write-acl.ldif is
                  applied with ldapmodify -Y EXTERNAL, as an admin would.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "harness"))
import slapd_sandbox  # noqa: E402

ORG_LDIF = os.path.join(REPO, "tests", "fixtures", "org.ldif")
ACL_CONF = os.path.join(REPO, "ldap-schema", "service-write-acl.conf")
ACL_LDIF = os.path.join(REPO, "ldap-schema", "service-write-acl.ldif")

PEOPLE = "ou=people,dc=example,dc=com"
ALICE = "uid=alice," + PEOPLE
BOB = "uid=bob," + PEOPLE
EVE = "uid=eve," + PEOPLE
SUPPORT = "uid=support," + PEOPLE
SERVICE = "cn=mailgrant,ou=services,dc=example,dc=com"
SERVICE_PW = "service-pw"

OK = 0
INSUFFICIENT_ACCESS = 50

SITE_ACL = """\
access to attrs=userPassword
	by self write
	by anonymous auth
	by * none
access to *
	by * read
"""

SERVICE_LDIF = """\
dn: ou=services,dc=example,dc=com
objectClass: organizationalUnit
ou: services

dn: %s
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: mailgrant
userPassword: %s
""" % (SERVICE, SERVICE_PW)


def grant_ldif(dn, grantee=EVE, extra=""):
    cn = dn.split(",", 1)[0].split("=", 1)[1]
    return ("dn: %s\nobjectClass: mailGrant\ncn: %s\nmailGrantee: %s\n"
            "mailGrantFolder: INBOX\nmailGrantRights: reader\n"
            "description: shared by alice@example.com from a mail client\n%s" % (dn, cn, grantee, extra))


def modify(dn, *changes):
    """changes: ("add"|"delete"|"replace", attr, value-or-None)"""
    text = "dn: %s\nchangetype: modify\n" % dn
    for op, attr, value in changes:
        text += "%s: %s\n" % (op, attr) + ("%s: %s\n" % (attr, value) if value is not None else "") + "-\n"
    return text


class _AclBase:
    FMT = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mailgrant-svcacl-%s-" % self.FMT, dir="/tmp")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        if self.FMT == "conf":
            with open(ACL_CONF) as f:
                acl = f.read() + "\n" + SITE_ACL
        else:
            acl = SITE_ACL
        self.s = slapd_sandbox.Slapd(self.tmp, fmt=self.FMT, acl=acl)
        self.s.start()
        if self.FMT == "cnconfig":
            self.s.config_modify(ACL_LDIF)
        self.s.load_ldif(ORG_LDIF)
        path = os.path.join(self.tmp, "service.ldif")
        with open(path, "w") as f:
            f.write(SERVICE_LDIF)
        self.s.load_ldif(path)

    def tearDown(self):
        self.s.stop()

    def run_as(self, tool, who, ldif=None, args=()):
        argv = [tool, "-x", "-H", self.s.uri]
        if who == "service":
            argv += ["-D", SERVICE, "-w", SERVICE_PW]
        elif who == "root":
            argv += ["-D", self.s.rootdn, "-y", self.s.rootpw_path]
        else:
            raise ValueError(who)
        return subprocess.run(argv + list(args), input=ldif, capture_output=True, text=True, timeout=30)

    def assertResult(self, p, code):
        self.assertEqual(p.returncode, code, "stdout:\n%s\nstderr:\n%s" % (p.stdout, p.stderr))
        if code != OK:
            self.assertRegex(p.stderr + p.stdout, r"\(%d\)" % code)

    def exists(self, dn):
        p = self.run_as("ldapsearch", "root", args=["-LLL", "-s", "base", "-b", dn, "1.1"])
        if p.returncode == 32:
            return False
        self.assertEqual(p.returncode, 0, p.stderr)
        return True

    def attr(self, dn, name):
        p = self.run_as("ldapsearch", "root", args=["-LLL", "-o", "ldif-wrap=no", "-s", "base", "-b", dn, name])
        self.assertEqual(p.returncode, 0, p.stderr)
        return sorted(l.split(":", 1)[1].strip() for l in p.stdout.splitlines()
                      if l.lower().startswith(name.lower() + ":"))

    # ---- what the service account may do --------------------------------
    def test_creates_changes_and_deletes_a_grant_below_a_mailbox(self):
        for parent in (ALICE, SUPPORT):
            with self.subTest(parent=parent):
                dn = "cn=share-eve," + parent
                self.assertResult(self.run_as("ldapadd", "service", grant_ldif(dn)), OK)
                self.assertEqual(self.attr(dn, "creatorsName"), [SERVICE])
                self.assertResult(self.run_as("ldapmodify", "service", modify(
                    dn, ("add", "mailGrantFolder", "Sent"), ("delete", "mailGrantRights", "reader"),
                    ("add", "mailGrantRights", "editor"), ("replace", "description", "changed"))), OK)
                self.assertEqual(self.attr(dn, "mailGrantFolder"), ["INBOX", "Sent"])
                self.assertEqual(self.attr(dn, "mailGrantRights"), ["editor"])
                self.assertResult(self.run_as("ldapmodify", "service", modify(
                    dn, ("delete", "mailGrantFolder", "INBOX"))), OK)
                self.assertResult(self.run_as("ldapdelete", "service", args=[dn]), OK)
                self.assertFalse(self.exists(dn))

    def test_still_reads_grants_and_mailboxes(self):
        p = self.run_as("ldapsearch", "service", args=[
            "-LLL", "-b", ALICE, "(objectClass=mailGrant)", "cn", "mailGrantee", "mailGrantFolder",
            "mailGrantRights", "mailGrantSend", "objectClass"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("dn: cn=projects-bob," + ALICE, p.stdout)
        self.assertIn("mailGrantee: " + BOB, p.stdout)
        self.assertIn("mailGrantSend: sendOnBehalf", p.stdout)
        p = self.run_as("ldapsearch", "service", args=["-LLL", "-b", PEOPLE, "(mail=alice@example.com)", "mail"])
        self.assertIn("mail: alice@example.com", p.stdout)

    def test_trims_an_admins_grant_and_keeps_its_send_rights(self):
        dn = "cn=vacation-2020," + ALICE   # fixture grant with mailGrantSend
        send = self.attr(dn, "mailGrantSend")
        self.assertTrue(send)
        folders = self.attr(dn, "mailGrantFolder")
        changes = [("delete", "mailGrantFolder", f) for f in folders]
        self.assertResult(self.run_as("ldapmodify", "service", modify(dn, *changes)), OK)
        self.assertEqual(self.attr(dn, "mailGrantSend"), send)

    # ---- what it may not do ---------------------------------------------
    def test_cannot_change_a_password(self):
        for dn in (ALICE, "uid=support," + PEOPLE):
            with self.subTest(dn=dn):
                self.assertResult(self.run_as("ldapmodify", "service", modify(
                    dn, ("replace", "userPassword", "owned"))), INSUFFICIENT_ACCESS)
                p = self.run_as("ldappasswd", "service", args=["-s", "owned", dn])
                self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
                self.assertIn("Insufficient access", p.stdout + p.stderr)
        p = subprocess.run(["ldapwhoami", "-x", "-H", self.s.uri, "-D", ALICE, "-w", "alice-pw"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_cannot_add_send_rights(self):
        dn = "cn=projects-bob," + ALICE
        self.assertResult(self.run_as("ldapmodify", "service", modify(
            dn, ("add", "mailGrantSend", "sendAs"))), INSUFFICIENT_ACCESS)
        self.assertEqual(self.attr(dn, "mailGrantSend"), [])
        new = "cn=with-send," + ALICE
        self.assertResult(self.run_as("ldapadd", "service", grant_ldif(new, extra="mailGrantSend: sendAs\n")),
                          INSUFFICIENT_ACCESS)
        self.assertFalse(self.exists(new))
        # ... nor remove them, nor touch the validity window
        team = "cn=team," + SUPPORT
        self.assertResult(self.run_as("ldapmodify", "service", modify(
            team, ("delete", "mailGrantSend", "sendAs"))), INSUFFICIENT_ACCESS)
        self.assertResult(self.run_as("ldapmodify", "service", modify(
            dn, ("add", "mailGrantNotAfter", "20300101000000Z"))), INSUFFICIENT_ACCESS)

    def test_cannot_change_grantee_of_existing_grant(self):
        dn = "cn=projects-bob," + ALICE
        before = self.attr(dn, "mailGrantee")
        # (adding a further mailGrantee value cannot be told from an add: see rule 3)
        for change in (("delete", "mailGrantee", before[0]), ("replace", "mailGrantee", EVE),
                       ("delete", "cn", "projects-bob")):
            with self.subTest(change=change):
                self.assertResult(self.run_as("ldapmodify", "service", modify(dn, change)), INSUFFICIENT_ACCESS)
        self.assertEqual(self.attr(dn, "mailGrantee"), before)

    def test_cannot_add_a_person_or_other_entries(self):
        cases = [
            "dn: uid=twin,%s\nobjectClass: inetOrgPerson\nuid: twin\ncn: Twin\nsn: Twin\n"
            "mail: ceo@example.com\nuserPassword: x\n" % PEOPLE,
            "dn: uid=twin,%s\nobjectClass: inetOrgPerson\nuid: twin\ncn: Twin\nsn: Twin\n" % ALICE,
            "dn: cn=role,%s\nobjectClass: organizationalRole\ncn: role\n" % ALICE,
        ]
        for ldif in cases:
            with self.subTest(ldif=ldif.splitlines()[0]):
                self.assertResult(self.run_as("ldapadd", "service", ldif), INSUFFICIENT_ACCESS)
                self.assertFalse(self.exists(ldif.splitlines()[0][4:]))

    def test_cannot_smuggle_a_mailbox_into_a_grant(self):
        for i, extra in enumerate(("objectClass: mailSharedMailbox\nmail: ceo@example.com\n",
                                   "objectClass: inetLocalMailRecipient\nmailLocalAddress: ceo@example.com\n")):
            dn = "cn=smuggle%d,%s" % (i, ALICE)
            with self.subTest(dn=dn):
                self.assertResult(self.run_as("ldapadd", "service", grant_ldif(dn, extra=extra)),
                                  INSUFFICIENT_ACCESS)
                self.assertFalse(self.exists(dn))
        self.assertResult(self.run_as("ldapmodify", "service", modify(
            "cn=projects-bob," + ALICE, ("add", "objectClass", "mailSharedMailbox"),
            ("add", "mail", "ceo@example.com"))), INSUFFICIENT_ACCESS)

    def test_cannot_place_grants_elsewhere(self):
        for dn in ("cn=g,ou=groups,dc=example,dc=com", "cn=g,cn=projects-bob," + ALICE, "cn=g,dc=example,dc=com"):
            with self.subTest(dn=dn):
                self.assertResult(self.run_as("ldapadd", "service", grant_ldif(dn)), INSUFFICIENT_ACCESS)
                self.assertFalse(self.exists(dn))

    def test_cannot_modify_or_delete_a_person_or_group(self):
        self.assertResult(self.run_as("ldapmodify", "service", modify(
            ALICE, ("add", "mailLocalAddress", "ceo@example.com"))), INSUFFICIENT_ACCESS)
        self.assertResult(self.run_as("ldapmodify", "service", modify(
            BOB, ("replace", "description", "x"))), INSUFFICIENT_ACCESS)
        self.assertResult(self.run_as("ldapmodify", "service", modify(
            "cn=support-team,ou=groups,dc=example,dc=com", ("add", "member", EVE))), INSUFFICIENT_ACCESS)
        self.assertResult(self.run_as("ldapdelete", "service", args=[EVE]), INSUFFICIENT_ACCESS)
        self.assertTrue(self.exists(EVE))

    def test_cannot_move_or_delete_a_grant_with_send_rights(self):
        dn = "cn=vacation-2020," + ALICE
        p = self.run_as("ldapmodrdn", "service", args=["-s", BOB, dn, "cn=vacation-2020"])
        self.assertEqual(p.returncode, INSUFFICIENT_ACCESS, p.stdout + p.stderr)
        self.assertResult(self.run_as("ldapdelete", "service", args=[dn]), INSUFFICIENT_ACCESS)
        self.assertTrue(self.exists(dn))
        self.assertFalse(self.exists("cn=vacation-2020," + BOB))


class ConfFormat(_AclBase, unittest.TestCase):
    FMT = "conf"


class CnConfigFormat(_AclBase, unittest.TestCase):
    FMT = "cnconfig"


class AclFilesAgree(unittest.TestCase):
    """service-write-acl.conf and service-write-acl.ldif carry the same rules."""

    def test_same_rules(self):
        with open(ACL_CONF) as f:
            conf_rules, conf_attrs = slapd_sandbox.acl_conf_to_olc(f.read())
        with open(ACL_LDIF) as f:
            lines = []
            for l in f.read().splitlines():
                if l.startswith("#"):
                    continue
                if l.startswith(" ") and lines:
                    lines[-1] += l[1:]
                else:
                    lines.append(l)
        ldif_rules = [re.sub(r"^\{\d+\}", "", l.split(":", 1)[1].strip())
                      for l in lines if l.startswith("olcAccess:")]
        norm = lambda r: re.sub(r"\s+", " ", r).strip()  # noqa: E731
        self.assertEqual([norm(r) for r in conf_rules], [norm(r) for r in ldif_rules])
        self.assertIn("olcAddContentAcl: %s" % conf_attrs["olcAddContentAcl"], lines)


if __name__ == "__main__":
    unittest.main()
