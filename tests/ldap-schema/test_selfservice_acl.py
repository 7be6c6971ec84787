#!/usr/bin/env python3
"""The example self-service ACL (ldap-schema/selfservice-acl.conf / .ldif).

A private slapd per test on 127.0.0.1 with a typical site policy below the
self-service rules; the LDAP clients (ldapadd, ldapmodify, ldapdelete) run as
alice (uid=alice,ou=people,dc=example,dc=com / alice-pw from org.ldif), or as
bob, carol, dave, eve for rule 4 (the admin role on the shared mailbox support@
may change its displayName and mailSharedSentCopy, and with rules 2-3 add, edit
and delete the grants directly below it; nothing else), or for
rules 5-6 as the grantee of an invitation (mailGrantPending: TRUE) below alice,
who may accept it (delete mailGrantPending) or decline it (delete the grant)
and nothing else; every refusal is checked to be result code 50
(insufficientAccessRights).

conf format:      the site rules appended to selfservice-acl.conf, in slapd.conf.
cnconfig format:  slapd starts with the site rules only; then selfservice-acl.ldif
                  is applied with ldapmodify -Y EXTERNAL, as an admin would.
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
ACL_CONF = os.path.join(REPO, "ldap-schema", "selfservice-acl.conf")
ACL_LDIF = os.path.join(REPO, "ldap-schema", "selfservice-acl.ldif")

PEOPLE = "ou=people,dc=example,dc=com"
ALICE = "uid=alice," + PEOPLE
BOB = "uid=bob," + PEOPLE
CAROL = "uid=carol," + PEOPLE
EVE = "uid=eve," + PEOPLE
SUPPORT = "uid=support," + PEOPLE

OK = 0
INSUFFICIENT_ACCESS = 50
STRONG_AUTH_REQUIRED = 8

# A typical site policy (what a site already has below the self-service rules).
SITE_ACL = """\
access to attrs=userPassword
	by self write
	by anonymous auth
	by * none
access to *
	by * read
"""


def grant_ldif(dn, grantee=EVE, extra=""):
    cn = dn.split(",", 1)[0].split("=", 1)[1]
    return ("dn: %s\nobjectClass: mailGrant\ncn: %s\nmailGrantee: %s\n"
            "mailGrantFolder: INBOX\nmailGrantRights: reader\n%s" % (dn, cn, grantee, extra))


class _AclBase:
    FMT = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mailgrant-acl-%s-" % self.FMT, dir="/tmp")
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

    def tearDown(self):
        self.s.stop()

    # ---- clients -------------------------------------------------------
    def run_as(self, tool, who, ldif=None, args=()):
        argv = [tool, "-x", "-H", self.s.uri]
        if who in ("alice", "bob", "carol", "dave", "eve"):
            argv += ["-D", "uid=%s,%s" % (who, PEOPLE), "-w", who + "-pw"]
        elif who == "root":
            argv += ["-D", self.s.rootdn, "-y", self.s.rootpw_path]
        elif who != "anonymous":
            raise ValueError(who)
        p = subprocess.run(argv + list(args), input=ldif, capture_output=True, text=True,
                           timeout=30)
        return p

    def assertResult(self, p, code):
        """The tool's exit status is the LDAP result code; check the text too."""
        self.assertEqual(p.returncode, code, "stdout:\n%s\nstderr:\n%s" % (p.stdout, p.stderr))
        if code != OK:
            # (ldapmodrdn reports on stdout, the other tools on stderr)
            self.assertRegex(p.stderr + p.stdout, r"\(%d\)" % code)

    def exists(self, dn):
        p = self.run_as("ldapsearch", "root", args=["-LLL", "-s", "base", "-b", dn, "1.1"])
        if p.returncode == 32:
            return False
        self.assertEqual(p.returncode, 0, p.stderr)
        return True

    def attr(self, dn, name):
        p = self.run_as("ldapsearch", "root",
                        args=["-LLL", "-o", "ldif-wrap=no", "-s", "base", "-b", dn, name])
        self.assertEqual(p.returncode, 0, p.stderr)
        return [l.split(":", 1)[1].strip() for l in p.stdout.splitlines()
                if l.lower().startswith(name.lower() + ":")]

    # ---- what alice may do ---------------------------------------------
    def test_alice_binds(self):
        p = self.run_as("ldapwhoami", "alice")
        self.assertResult(p, OK)
        self.assertIn(ALICE, p.stdout)

    def test_alice_adds_and_deletes_grant_below_herself(self):
        dn = "cn=cover-eve," + ALICE
        self.assertResult(self.run_as("ldapadd", "alice", grant_ldif(
            dn, extra="mailGrantSend: sendOnBehalf\nmailGrantNotBefore: 20300101000000Z\n"
                      "mailGrantNotAfter: 20300201000000Z\ndescription: cover\n")), OK)
        self.assertTrue(self.exists(dn))
        self.assertResult(self.run_as("ldapdelete", "alice", args=[dn]), OK)
        self.assertFalse(self.exists(dn))

    def test_alice_adds_grant_spelled_with_top_and_other_case(self):
        dn = "cn=top," + ALICE
        self.assertResult(self.run_as("ldapadd", "alice", grant_ldif(dn).replace(
            "objectClass: mailGrant\n", "objectClass: top\nobjectClass: MAILGRANT\n")), OK)
        self.assertTrue(self.exists(dn))

    def test_alice_deletes_fixture_grant_of_her_own(self):
        dn = "cn=projects-bob," + ALICE
        self.assertResult(self.run_as("ldapdelete", "alice", args=[dn]), OK)
        self.assertFalse(self.exists(dn))

    # ---- what alice may not do -----------------------------------------
    def test_alice_cannot_add_grant_below_bob(self):
        dn = "cn=sneaky," + BOB
        self.assertResult(self.run_as("ldapadd", "alice", grant_ldif(dn, grantee=ALICE)),
                          INSUFFICIENT_ACCESS)
        self.assertFalse(self.exists(dn))

    def test_alice_cannot_add_grant_below_shared_mailbox(self):
        dn = "cn=sneaky," + SUPPORT
        self.assertResult(self.run_as("ldapadd", "alice", grant_ldif(dn, grantee=ALICE)),
                          INSUFFICIENT_ACCESS)
        self.assertFalse(self.exists(dn))

    def test_alice_cannot_add_grant_two_levels_below_herself(self):
        dn = "cn=deep,cn=projects-bob," + ALICE
        self.assertResult(self.run_as("ldapadd", "alice", grant_ldif(dn)), INSUFFICIENT_ACCESS)
        self.assertFalse(self.exists(dn))

    def test_alice_cannot_add_non_grant_child(self):
        children = [
            "dn: cn=role,%s\nobjectClass: organizationalRole\ncn: role\n" % ALICE,
            "dn: uid=twin,%s\nobjectClass: inetOrgPerson\nuid: twin\ncn: Twin\nsn: Twin\n"
            "mail: ceo@example.com\nuserPassword: x\n" % ALICE,
        ]
        for ldif in children:
            with self.subTest(ldif=ldif.splitlines()[0]):
                self.assertResult(self.run_as("ldapadd", "alice", ldif), INSUFFICIENT_ACCESS)
                self.assertFalse(self.exists(ldif.splitlines()[0][4:]))

    def test_alice_cannot_smuggle_address_into_grant(self):
        # A mailGrant that is also a mailbox (aux class + mail) is not a plain grant.
        cases = [
            ("cn=smuggle1," + ALICE, "objectClass: mailSharedMailbox\nmail: ceo@example.com\n"),
            ("cn=smuggle2," + ALICE, "objectClass: inetLocalMailRecipient\n"
                                     "mailLocalAddress: ceo@example.com\n"),
            ("cn=smuggle3," + ALICE, "objectClass: mailSharedMailbox\n"),
        ]
        for dn, extra in cases:
            with self.subTest(dn=dn):
                self.assertResult(self.run_as("ldapadd", "alice", grant_ldif(dn, extra=extra)),
                                  INSUFFICIENT_ACCESS)
                self.assertFalse(self.exists(dn))
        # ... nor later into an existing grant of hers.
        self.assertResult(self.run_as("ldapmodify", "alice",
                                      "dn: cn=projects-bob,%s\nchangetype: modify\n"
                                      "add: objectClass\nobjectClass: mailSharedMailbox\n-\n"
                                      "add: mail\nmail: ceo@example.com\n-\n" % ALICE),
                          INSUFFICIENT_ACCESS)

    def test_alice_cannot_modify_bobs_grant_or_entry(self):
        # bob's grant (created by the admin for this test)
        bobs = "cn=bobs-grant," + BOB
        self.assertResult(self.run_as("ldapadd", "root", grant_ldif(bobs)), OK)
        self.assertResult(self.run_as("ldapmodify", "alice",
                                      "dn: %s\nchangetype: modify\nreplace: mailGrantee\n"
                                      "mailGrantee: %s\n-\n" % (bobs, ALICE)),
                          INSUFFICIENT_ACCESS)
        self.assertEqual(self.attr(bobs, "mailGrantee"), [EVE])
        self.assertResult(self.run_as("ldapdelete", "alice", args=[bobs]), INSUFFICIENT_ACCESS)
        self.assertTrue(self.exists(bobs))
        # bob's entry
        self.assertResult(self.run_as("ldapmodify", "alice",
                                      "dn: %s\nchangetype: modify\nreplace: mail\n"
                                      "mail: alice@example.com\n-\n" % BOB),
                          INSUFFICIENT_ACCESS)
        self.assertEqual(self.attr(BOB, "mail"), ["bob@example.com"])

    def test_alice_cannot_delete_support_team_grant(self):
        dn = "cn=team," + SUPPORT
        self.assertResult(self.run_as("ldapdelete", "alice", args=[dn]), INSUFFICIENT_ACCESS)
        self.assertTrue(self.exists(dn))

    def test_alice_cannot_move_her_grant_below_bob(self):
        dn = "cn=projects-bob," + ALICE
        self.assertResult(self.run_as("ldapmodrdn", "alice",
                                      args=["-s", BOB, dn, "cn=projects-bob"]),
                          INSUFFICIENT_ACCESS)
        self.assertTrue(self.exists(dn))

    def test_alice_cannot_delete_or_change_her_own_mailbox(self):
        self.assertResult(self.run_as("ldapdelete", "alice", args=["cn=vacation-2020," + ALICE]),
                          OK)   # (her own grant: allowed)
        self.assertResult(self.run_as("ldapdelete", "alice", args=["cn=projects-bob," + ALICE]),
                          OK)
        self.assertResult(self.run_as("ldapdelete", "alice", args=[ALICE]), INSUFFICIENT_ACCESS)
        self.assertResult(self.run_as("ldapmodify", "alice",
                                      "dn: %s\nchangetype: modify\nadd: mailLocalAddress\n"
                                      "mailLocalAddress: ceo@example.com\n-\n" % ALICE),
                          INSUFFICIENT_ACCESS)
        self.assertTrue(self.exists(ALICE))

    def test_anonymous_cannot_add(self):
        for dn in ("cn=anon," + ALICE, "cn=anon," + BOB):
            with self.subTest(dn=dn):
                p = self.run_as("ldapadd", "anonymous", grant_ldif(dn))
                # slapd answers an anonymous update with 50, or with 8 where the
                # site requires authentication for updates; both are refusals.
                self.assertIn(p.returncode, (INSUFFICIENT_ACCESS, STRONG_AUTH_REQUIRED), p.stderr)
                self.assertResult(p, p.returncode)
                self.assertFalse(self.exists(dn))

    # ---- rule 4: the admin role on a shared mailbox configures it ----------
    def give(self, cn, grantee, rights="admin", folder="*", extra="", parent=SUPPORT):
        """A grant below support@ (or parent), written by the LDAP admin."""
        self.assertResult(self.run_as("ldapadd", "root", (
            "dn: cn=%s,%s\nobjectClass: mailGrant\ncn: %s\nmailGrantee: %s\n"
            "mailGrantFolder: %s\nmailGrantRights: %s\n%s" % (cn, parent, cn, grantee, folder, rights, extra))), OK)
        return "cn=%s,%s" % (cn, parent)

    def rename(self, who, dn=SUPPORT, attr="displayName", value="Customer Care"):
        return self.run_as("ldapmodify", who, "dn: %s\nchangetype: modify\nreplace: %s\n%s: %s\n-\n"
                           % (dn, attr, attr, value))

    def test_shared_mailbox_admin_changes_name_and_sent_copy(self):
        # the fixture's support-team grant (editor) made admin: bob is a member, carol a
        # member of support-leads (groupOfUniqueNames) inside it
        self.assertResult(self.run_as("ldapmodify", "root", "dn: cn=team,%s\nchangetype: modify\n"
                                      "replace: mailGrantRights\nmailGrantRights: admin\n-\n" % SUPPORT), OK)
        self.give("eve-admin", EVE, rights="lrswipkxtea")  # a person directly, by letters
        for who in ("bob", "carol", "eve"):
            with self.subTest(who=who):
                self.assertResult(self.rename(who, value="Care " + who), OK)
                self.assertEqual(self.attr(SUPPORT, "displayName"), ["Care " + who])
                self.assertResult(self.rename(who, attr="mailSharedSentCopy", value="FALSE"), OK)
                self.assertEqual(self.attr(SUPPORT, "mailSharedSentCopy"), ["FALSE"])

    def test_shared_mailbox_admin_changes_nothing_else(self):
        self.give("bob-admin", BOB)
        for attr, value in (("mail", "bob@example.com"), ("cn", "Bob's"), ("description", "mine"),
                            ("uid", "bobs"), ("userPassword", "x"), ("objectClass", "inetOrgPerson")):
            with self.subTest(attr=attr):
                self.assertResult(self.rename("bob", attr=attr, value=value), INSUFFICIENT_ACCESS)
        self.assertEqual(self.attr(SUPPORT, "mail"), ["support@example.com"])
        self.assertResult(self.run_as("ldapmodify", "bob", "dn: %s\nchangetype: modify\nadd: mailLocalAddress\n"
                                      "mailLocalAddress: ceo@example.com\n-\n" % SUPPORT), INSUFFICIENT_ACCESS)
        # (the grants below it he may now write and delete: rules 2-3, tested below)
        self.assertResult(self.run_as("ldapdelete", "bob", args=[SUPPORT]), INSUFFICIENT_ACCESS)
        self.assertTrue(self.exists(SUPPORT))
        # nor a person's entry, nor another shared mailbox, nor a grant below a person
        self.assertResult(self.rename("bob", dn=ALICE), INSUFFICIENT_ACCESS)
        self.assertResult(self.run_as("ldapadd", "root", "dn: uid=sales,%s\nobjectClass: inetOrgPerson\n"
                                      "objectClass: mailSharedMailbox\nuid: sales\ncn: Sales\nsn: Sales\n"
                                      "mail: sales@example.com\n" % PEOPLE), OK)
        self.assertResult(self.rename("bob", dn="uid=sales," + PEOPLE), INSUFFICIENT_ACCESS)
        self.assertResult(self.rename("bob", dn="cn=projects-bob," + ALICE, attr="mailGrantFolder", value="x"),
                          INSUFFICIENT_ACCESS)
        self.assertEqual(self.attr(SUPPORT, "displayName"), [])

    def test_readers_editors_and_partial_admins_may_not(self):
        # bob and carol: editor (fixture); dave: lr through the loop groups; eve: admin on
        # INBOX only; alice: admin with an end date (a window never counts here), and an
        # admin invitation she has not accepted (mailGrantPending gives nothing)
        self.give("eve-inbox", EVE, folder="INBOX")
        self.give("alice-until", ALICE, extra="mailGrantNotAfter: 20991231235959Z\n")
        self.give("alice-invited", ALICE, extra="mailGrantPending: TRUE\n")
        self.give("alice-reader", ALICE, rights="reader")
        for who in ("bob", "carol", "dave", "eve", "alice"):
            with self.subTest(who=who):
                self.assertResult(self.rename(who), INSUFFICIENT_ACCESS)
                self.assertResult(self.rename(who, attr="mailSharedSentCopy", value="TRUE"), INSUFFICIENT_ACCESS)
        self.assertEqual(self.attr(SUPPORT, "displayName"), [])

    # ---- rules 2-4: the admin role on a shared mailbox manages its grants ---
    # (who, grantee of the admin grant) for each of the five paths from a grant to a
    # person that rules 2-4 follow: direct, member*, uniqueMember*,
    # member*/uniqueMember*, uniqueMember*/member* (care-leads: made in the test)
    SUPPORT_TEAM = "cn=support-team,ou=groups,dc=example,dc=com"
    SUPPORT_LEADS = "cn=support-leads,ou=groups,dc=example,dc=com"
    CARE_LEADS = "cn=care-leads,ou=groups,dc=example,dc=com"
    ADMIN_PATHS = [("eve", EVE), ("bob", SUPPORT_TEAM), ("carol", SUPPORT_LEADS),
                   ("carol", SUPPORT_TEAM), ("dave", CARE_LEADS)]
    REFUSED = [INSUFFICIENT_ACCESS] * 3
    ALLOWED = [OK] * 3

    def manage(self, who, parent=SUPPORT):
        """who invites a delegate (a new pending grant with sendAs), changes an access
        type (and adds sendOnBehalf) on a grant, and removes it, below parent. Returns
        the three result codes after checking the directory shows exactly what was
        allowed; leaves parent's grants as they were."""
        target = self.give("target-%s" % who, ALICE, rights="reader", folder="INBOX", parent=parent)
        new = "cn=new-%s,%s" % (who, parent)
        add = self.run_as("ldapadd", who, grant_ldif(new, grantee=EVE,
                                                     extra="mailGrantSend: sendAs\nmailGrantPending: TRUE\n"))
        mod = self.modify(who, target, "replace: mailGrantRights\nmailGrantRights: editor\n-\n"
                                       "add: mailGrantSend\nmailGrantSend: sendOnBehalf\n-\n")
        self.assertEqual(self.attr(target, "mailGrantRights"), ["editor" if mod.returncode == OK else "reader"])
        self.assertEqual(self.attr(target, "mailGrantSend"), ["sendOnBehalf"] if mod.returncode == OK else [])
        dele = self.run_as("ldapdelete", who, args=[target])
        codes = [add.returncode, mod.returncode, dele.returncode]
        for p in (add, mod, dele):
            self.assertIn(p.returncode, (OK, INSUFFICIENT_ACCESS), p.stderr)
            self.assertResult(p, p.returncode)
        self.assertEqual(self.exists(new), add.returncode == OK)
        self.assertEqual(self.exists(target), dele.returncode != OK)
        for dn in (new, target):
            if self.exists(dn):
                self.assertResult(self.run_as("ldapdelete", "root", args=[dn]), OK)
        return codes

    def add_entry(self, ldif):
        self.assertResult(self.run_as("ldapadd", "root", ldif), OK)

    def add_shared(self, uid, parent=PEOPLE):
        dn = "uid=%s,%s" % (uid, parent)
        self.add_entry("dn: %s\nobjectClass: inetOrgPerson\nobjectClass: mailSharedMailbox\nuid: %s\n"
                       "cn: %s\nsn: %s\nmail: %s@example.com\n" % (dn, uid, uid, uid, uid))
        return dn

    def test_shared_admin_manages_grants_on_every_path(self):
        self.add_entry("dn: %s\nobjectClass: groupOfUniqueNames\ncn: care-leads\n"
                       "uniqueMember: cn=loop-b,ou=groups,dc=example,dc=com\n" % self.CARE_LEADS)
        for who, grantee in self.ADMIN_PATHS:
            with self.subTest(who=who, grantee=grantee):
                # before: bob and carol are editors (fixture), dave reads INBOX, eve nothing
                self.assertEqual(self.manage(who), self.REFUSED)
                adm = self.give("adm", grantee, rights="lrswipkxtea" if who == "eve" else "admin")
                self.assertEqual(self.manage(who), self.ALLOWED)
                self.assertResult(self.run_as("ldapdelete", "root", args=[adm]), OK)
                self.assertEqual(self.manage(who), self.REFUSED)   # the admin grant was the reason

    def test_shared_admin_writes_every_grant_attribute(self):
        self.give("bob-admin", BOB)
        full = "cn=full," + SUPPORT
        self.assertResult(self.run_as("ldapadd", "bob", grant_ldif(full, grantee=self.SUPPORT_LEADS, extra=(
            "mailGrantFolder: Archive\nmailGrantSend: sendAs\nmailGrantSend: sendOnBehalf\n"
            "mailGrantNotBefore: 20300101000000Z\nmailGrantNotAfter: 20300201000000Z\n"
            "mailGrantPending: TRUE\ndescription: cover\n")).replace(
            "objectClass: mailGrant\n", "objectClass: top\nobjectClass: MailGrant\n")), OK)
        team = "cn=team," + SUPPORT
        for changes in ("replace: mailGrantee\nmailGrantee: %s\n-\n" % CAROL,
                        "add: mailGrantFolder\nmailGrantFolder: Archive\n-\n",
                        "replace: mailGrantRights\nmailGrantRights: reader\n-\n",
                        "replace: mailGrantSend\nmailGrantSend: sendOnBehalf\n-\n",
                        "add: mailGrantNotAfter\nmailGrantNotAfter: 20991231235959Z\n-\n",
                        "add: mailGrantPending\nmailGrantPending: TRUE\n-\n",
                        "add: description\ndescription: team\n-\n",
                        "add: cn\ncn: team2\n-\n"):
            with self.subTest(changes=changes):
                self.assertResult(self.modify("bob", team, changes), OK)
        self.assertEqual(self.attr(team, "mailGrantee"), [CAROL])
        self.assertResult(self.run_as("ldapdelete", "bob", args=[full]), OK)
        self.assertResult(self.run_as("ldapdelete", "bob", args=["cn=loop," + SUPPORT]), OK)
        self.assertFalse(self.exists("cn=loop," + SUPPORT))

    def test_shared_admin_adds_nothing_but_plain_grants(self):
        self.give("bob-admin", BOB)
        cases = [
            grant_ldif("cn=smuggle1," + SUPPORT, extra="objectClass: mailSharedMailbox\nmail: ceo@example.com\n"),
            grant_ldif("cn=smuggle2," + SUPPORT, extra="objectClass: inetLocalMailRecipient\n"
                                                       "mailLocalAddress: ceo@example.com\n"),
            grant_ldif("cn=smuggle3," + SUPPORT, extra="objectClass: simpleSecurityObject\nuserPassword: x\n"),
            "dn: cn=role,%s\nobjectClass: organizationalRole\ncn: role\n" % SUPPORT,
            "dn: uid=twin,%s\nobjectClass: inetOrgPerson\nuid: twin\ncn: Twin\nsn: Twin\n"
            "mail: ceo@example.com\nuserPassword: x\n" % SUPPORT,
            grant_ldif("cn=deep,cn=team," + SUPPORT),     # two levels below the mailbox
        ]
        for ldif in cases:
            dn = ldif.splitlines()[0][4:]
            with self.subTest(dn=dn, ldif=ldif):
                self.assertResult(self.run_as("ldapadd", "bob", ldif), INSUFFICIENT_ACCESS)
                self.assertFalse(self.exists(dn))
        team = "cn=team," + SUPPORT
        for changes in ("add: objectClass\nobjectClass: mailSharedMailbox\n-\nadd: mail\nmail: ceo@example.com\n-\n",
                        "add: objectClass\nobjectClass: inetLocalMailRecipient\n-\n"
                        "add: mailLocalAddress\nmailLocalAddress: ceo@example.com\n-\n",
                        "add: userPassword\nuserPassword: x\n-\n"):
            with self.subTest(changes=changes):
                self.assertResult(self.modify("bob", team, changes), INSUFFICIENT_ACCESS)
        self.assertEqual(self.attr(team, "objectClass"), ["mailGrant"])
        # nor move a grant out of the mailbox (below his own entry he may: he could
        # delete it here and write it there anyway), nor rename or move the mailbox
        self.assertResult(self.run_as("ldapmodrdn", "bob", args=["-s", ALICE, team, "cn=team"]), INSUFFICIENT_ACCESS)
        self.assertResult(self.run_as("ldapmodrdn", "bob", args=["-r", SUPPORT, "uid=care"]), INSUFFICIENT_ACCESS)
        self.assertTrue(self.exists(team))

    def test_readers_editors_and_partial_admins_manage_no_grants(self):
        # bob, carol: editor (fixture); dave: lr via loops; eve: admin on INBOX only;
        # alice: admin with a validity window (either end: an ACL cannot read the clock,
        # so a window never counts), an admin invitation not accepted, a reader grant
        self.give("eve-inbox", EVE, folder="INBOX")
        self.give("alice-until", ALICE, extra="mailGrantNotAfter: 20991231235959Z\n")
        self.give("alice-from", ALICE, extra="mailGrantNotBefore: 20000101000000Z\n")
        self.give("alice-invited", ALICE, extra="mailGrantPending: TRUE\n")
        self.give("alice-reader", ALICE, rights="reader")
        for who in ("bob", "carol", "dave", "eve", "alice"):
            with self.subTest(who=who):
                self.assertEqual(self.manage(who), self.REFUSED)
        # and through a group: the support team's grant made admin with an end date
        self.assertResult(self.modify("root", "cn=team," + SUPPORT, "replace: mailGrantRights\nmailGrantRights: admin\n-\n"
                                      "add: mailGrantNotAfter\nmailGrantNotAfter: 20991231235959Z\n-\n"), OK)
        self.assertEqual(self.manage("bob"), self.REFUSED)

    def test_admin_of_one_mailbox_not_of_another(self):
        sales = self.add_shared("sales")
        self.give("sales-team", self.SUPPORT_TEAM, rights="editor", parent=sales)
        self.give("bob-admin", BOB)                       # admin of support, not of sales
        self.assertEqual(self.manage("bob"), self.ALLOWED)
        self.assertEqual(self.manage("bob", parent=sales), self.REFUSED)
        self.give("eve-admin", EVE, parent=sales)         # admin of sales, not of support
        self.assertEqual(self.manage("eve", parent=sales), self.ALLOWED)
        self.assertEqual(self.manage("eve"), self.REFUSED)

    def test_admin_role_on_a_person_mailbox_manages_nothing(self):
        # alice gives bob admin on her whole mailbox: a person's mailbox is not a
        # mailSharedMailbox, so only alice herself manages her grants (rules 1-3)
        self.give("bob-admin", BOB, parent=ALICE)
        self.give("team-admin", self.SUPPORT_TEAM, rights="lrswipkxtea", parent=ALICE)
        for who in ("bob", "carol"):
            with self.subTest(who=who):
                self.assertEqual(self.manage(who, parent=ALICE), self.REFUSED)
        self.assertResult(self.modify("bob", "cn=projects-bob," + ALICE,
                                      "replace: mailGrantRights\nmailGrantRights: admin\n-\n"), INSUFFICIENT_ACCESS)
        self.assertResult(self.rename("bob", dn=ALICE), INSUFFICIENT_ACCESS)   # rule 4 neither
        self.assertEqual(self.manage("alice", parent=ALICE), self.ALLOWED)

    def test_admin_may_remove_own_admin_grant(self):
        # Allowed (stepping down is legitimate; slapd cannot count the admins left).
        # Losing the last admin is recovered by the LDAP admin writing a new one.
        mine = self.give("bob-admin", BOB)
        self.assertResult(self.run_as("ldapdelete", "bob", args=[mine]), OK)
        self.assertEqual(self.manage("bob"), self.REFUSED)
        self.assertResult(self.rename("bob"), INSUFFICIENT_ACCESS)
        # demoting oneself works the same way, and takes effect at once
        eves = self.give("eve-admin", EVE)
        self.assertResult(self.modify("eve", eves, "replace: mailGrantRights\nmailGrantRights: reader\n-\n"), OK)
        self.assertEqual(self.manage("eve"), self.REFUSED)
        # the LDAP admin restores it
        self.give("bob-admin", BOB)
        self.assertEqual(self.manage("bob"), self.ALLOWED)

    def test_admin_with_pending_invitation_keeps_add(self):
        # rule 4 comes before rule 6: an admin who also holds a pending invitation from
        # the same mailbox gets "write" on its children, not only rule 6's =z
        self.give("bob-admin", BOB)
        inv = self.invite(dn="cn=invite-bob," + SUPPORT, grantee=BOB)
        self.assertEqual(self.manage("bob"), self.ALLOWED)
        self.assertResult(self.modify("bob", inv, self.ACCEPT), OK)

    def test_grantee_answers_invitation_from_shared_mailbox(self):
        # rules 5-6 below a shared mailbox: eve (no admin) accepts one and declines
        # another, and manages nothing else there
        first = self.invite(dn="cn=invite-eve," + SUPPORT)
        second = self.invite(dn="cn=invite-eve2," + SUPPORT)
        self.assertResult(self.modify("eve", first, self.ACCEPT), OK)
        self.assertEqual(self.attr(first, "mailGrantPending"), [])
        self.assertResult(self.run_as("ldapdelete", "eve", args=[second]), OK)
        self.assertFalse(self.exists(second))
        self.assertEqual(self.manage("eve"), self.REFUSED)
        self.assertResult(self.run_as("ldapdelete", "eve", args=[first]), INSUFFICIENT_ACCESS)

    def test_invited_admin_manages_after_accepting(self):
        inv = self.give("alice-admin", ALICE, extra="mailGrantPending: TRUE\n")
        self.assertEqual(self.manage("alice"), self.REFUSED)
        self.assertResult(self.modify("alice", inv, self.ACCEPT), OK)
        self.assertEqual(self.manage("alice"), self.ALLOWED)

    def test_long_mailbox_dn(self):
        # slapd expands each set into a 1024-byte buffer: below the documented ~250
        # characters the admin manages the mailbox; far beyond it every clause fails
        # to expand and the answer is a refusal (50), never access
        # (one RDN stays below 200 characters: back-mdb refuses much longer ones)
        for dn_len, expect in ((220, self.ALLOWED), (1100, self.REFUSED)):
            with self.subTest(dn_len=dn_len):
                parent, need = "dc=example,dc=com", dn_len - len("uid=box%d," % dn_len)
                while len(parent) < need:
                    ou = ("l%d-%d" % (dn_len, len(parent))).ljust(min(190, need - len(parent) - 4), "x")
                    parent = "ou=%s,%s" % (ou, parent)
                    self.add_entry("dn: %s\nobjectClass: organizationalUnit\nou: %s\n" % (parent, ou))
                box = self.add_shared("box%d" % dn_len, parent=parent)
                self.give("eve-admin", EVE, parent=box)
                self.assertGreaterEqual(len(box), dn_len)
                self.assertEqual(self.manage("eve", parent=box), expect)

    # ---- rules 5-6: the grantee accepts or declines an invitation ----------
    INVITE = "cn=invite-eve," + ALICE

    def invite(self, dn=INVITE, grantee=EVE, pending="TRUE"):
        """A grant below alice written by the LDAP admin, pending unless pending=None."""
        extra = "mailGrantSend: sendAs\nmailGrantNotAfter: 20991231235959Z\n"
        if pending is not None:
            extra += "mailGrantPending: %s\n" % pending
        self.assertResult(self.run_as("ldapadd", "root", grant_ldif(dn, grantee=grantee, extra=extra)), OK)
        return dn

    def snapshot(self, dn):
        p = self.run_as("ldapsearch", "root", args=["-LLL", "-o", "ldif-wrap=no", "-s", "base", "-b", dn, "*"])
        self.assertEqual(p.returncode, 0, p.stderr)
        return sorted(p.stdout.splitlines())

    def modify(self, who, dn, changes):
        return self.run_as("ldapmodify", who, "dn: %s\nchangetype: modify\n%s" % (dn, changes))

    ACCEPT = "delete: mailGrantPending\n-\n"
    ACCEPT_VALUE = "delete: mailGrantPending\nmailGrantPending: TRUE\n-\n"

    def test_grantee_accepts_invitation(self):
        for changes in (self.ACCEPT, self.ACCEPT_VALUE, "replace: mailGrantPending\n-\n"):
            with self.subTest(changes=changes):
                dn = self.invite()
                before = self.snapshot(dn)
                self.assertResult(self.modify("eve", dn, changes), OK)
                self.assertEqual(self.attr(dn, "mailGrantPending"), [])
                # nothing but the pending mark went
                self.assertEqual(self.snapshot(dn), [l for l in before if not l.startswith("mailGrantPending:")])
                self.assertResult(self.run_as("ldapdelete", "root", args=[dn]), OK)

    def test_grantee_declines_invitation(self):
        dn = self.invite()
        self.assertResult(self.run_as("ldapdelete", "eve", args=[dn]), OK)
        self.assertFalse(self.exists(dn))
        self.assertTrue(self.exists("cn=projects-bob," + ALICE))   # her other grants stay

    def test_grantee_still_finds_her_invitation(self):
        # rule 5's "by" decides for the grantee: it must keep read/search on the entry
        dn = self.invite()
        p = self.run_as("ldapsearch", "eve", args=["-LLL", "-b", ALICE,
                                                   "(&(mailGrantee=%s)(mailGrantPending=TRUE))" % EVE, "mailGrantPending"])
        self.assertResult(p, OK)
        self.assertIn("dn: " + dn, p.stdout)
        self.assertIn("mailGrantPending: TRUE", p.stdout)

    def test_others_cannot_answer_the_invitation(self):
        # (who, the grant's grantee): another person; a member of the invited group
        # (group invitations are out of scope: only a direct DN counts); anonymous
        team = "cn=support-team,ou=groups,dc=example,dc=com"
        cases = [("bob", EVE), ("carol", EVE), ("bob", team), ("carol", team), ("anonymous", EVE)]
        for who, grantee in cases:
            with self.subTest(who=who, grantee=grantee):
                dn = self.invite(grantee=grantee)
                before = self.snapshot(dn)
                expect = (INSUFFICIENT_ACCESS, STRONG_AUTH_REQUIRED) if who == "anonymous" else (INSUFFICIENT_ACCESS,)
                for p in (self.modify(who, dn, self.ACCEPT), self.modify(who, dn, self.ACCEPT_VALUE),
                          self.run_as("ldapdelete", who, args=[dn])):
                    self.assertIn(p.returncode, expect, p.stderr)
                    self.assertResult(p, p.returncode)
                self.assertEqual(self.snapshot(dn), before)
                self.assertResult(self.run_as("ldapdelete", "root", args=[dn]), OK)

    def test_grantee_cannot_change_anything_else_of_invitation(self):
        dn = self.invite()
        before = self.snapshot(dn)
        cases = [
            "replace: mailGrantRights\nmailGrantRights: admin\n-\n",
            "add: mailGrantRights\nmailGrantRights: lrswipkxtea\n-\n",
            "delete: mailGrantRights\n-\n",
            "add: mailGrantFolder\nmailGrantFolder: *\n-\n",
            "delete: mailGrantFolder\nmailGrantFolder: INBOX\n-\n",
            "delete: mailGrantSend\n-\n",
            "replace: mailGrantSend\nmailGrantSend: sendOnBehalf\n-\n",
            "delete: mailGrantNotAfter\n-\n",
            "replace: mailGrantNotAfter\nmailGrantNotAfter: 21001231235959Z\n-\n",
            "add: mailGrantNotBefore\nmailGrantNotBefore: 20200101000000Z\n-\n",
            "add: mailGrantee\nmailGrantee: %s\n-\n" % CAROL,
            "delete: mailGrantee\nmailGrantee: %s\n-\n" % EVE,
            "replace: description\ndescription: mine\n-\n",
            "add: objectClass\nobjectClass: mailSharedMailbox\n-\n",
            # the pending mark may only go, never change
            "replace: mailGrantPending\nmailGrantPending: FALSE\n-\n",
            "replace: mailGrantPending\nmailGrantPending: TRUE\n-\n",
            # accepting and widening in one go is refused as a whole
            self.ACCEPT + "replace: mailGrantRights\nmailGrantRights: admin\n-\n",
            self.ACCEPT + "add: mailGrantFolder\nmailGrantFolder: *\n-\n",
        ]
        for changes in cases:
            with self.subTest(changes=changes):
                self.assertResult(self.modify("eve", dn, changes), INSUFFICIENT_ACCESS)
                self.assertEqual(self.snapshot(dn), before)
        # nor rename it or move it below herself
        self.assertResult(self.run_as("ldapmodrdn", "eve", args=["-r", dn, "cn=renamed"]), INSUFFICIENT_ACCESS)
        self.assertResult(self.run_as("ldapmodrdn", "eve", args=["-s", EVE, dn, "cn=invite-eve"]),
                          INSUFFICIENT_ACCESS)
        self.assertEqual(self.snapshot(dn), before)

    def test_accepted_grant_cannot_be_declined_or_reopened(self):
        # (how the grant stands): accepted by eve through rule 5; created without the
        # mark; marked FALSE (not an invitation)
        for state in ("accepted", "never-pending", "FALSE"):
            with self.subTest(state=state):
                dn = self.invite(pending=None if state == "never-pending" else
                                 "FALSE" if state == "FALSE" else "TRUE")
                if state == "accepted":
                    self.assertResult(self.modify("eve", dn, self.ACCEPT), OK)
                before = self.snapshot(dn)
                self.assertResult(self.run_as("ldapdelete", "eve", args=[dn]), INSUFFICIENT_ACCESS)
                self.assertResult(self.modify("eve", dn, "add: mailGrantPending\nmailGrantPending: TRUE\n-\n"
                                              if state != "FALSE" else
                                              "replace: mailGrantPending\nmailGrantPending: TRUE\n-\n"),
                                  INSUFFICIENT_ACCESS)
                if state == "FALSE":
                    self.assertResult(self.modify("eve", dn, self.ACCEPT), INSUFFICIENT_ACCESS)
                self.assertEqual(self.snapshot(dn), before)
                self.assertResult(self.run_as("ldapdelete", "root", args=[dn]), OK)

    def test_pending_grantee_gets_nothing_else_below_the_mailbox(self):
        # eve's pending invitation gives her delete on alice's "children" (rule 6);
        # no other child of alice becomes deletable and she can add none
        mine = self.invite()
        accepted = self.invite(dn="cn=accepted-eve," + ALICE)
        self.assertResult(self.modify("eve", accepted, self.ACCEPT), OK)
        carols = self.invite(dn="cn=invite-carol," + ALICE, grantee=CAROL)
        for dn in (accepted, carols, "cn=projects-bob," + ALICE, "cn=vacation-2020," + ALICE):
            with self.subTest(dn=dn):
                self.assertResult(self.run_as("ldapdelete", "eve", args=[dn]), INSUFFICIENT_ACCESS)
                self.assertTrue(self.exists(dn))
        self.assertResult(self.modify("eve", carols, self.ACCEPT), INSUFFICIENT_ACCESS)
        self.assertEqual(self.attr(carols, "mailGrantPending"), ["TRUE"])
        for dn, ldif in (("cn=eve-made," + ALICE, grant_ldif("cn=eve-made," + ALICE, grantee=EVE)),
                         ("cn=eve-made2," + ALICE, grant_ldif("cn=eve-made2," + ALICE, grantee=EVE,
                                                              extra="mailGrantPending: TRUE\n"))):
            with self.subTest(add=dn):
                self.assertResult(self.run_as("ldapadd", "eve", ldif), INSUFFICIENT_ACCESS)
                self.assertFalse(self.exists(dn))
        self.assertResult(self.run_as("ldapdelete", "eve", args=[ALICE]), INSUFFICIENT_ACCESS)
        # and her own invitation she may still decline
        self.assertResult(self.run_as("ldapdelete", "eve", args=[mine]), OK)
        self.assertFalse(self.exists(mine))

    def test_owner_still_manages_invitations(self):
        # rules 5-6 come after the owner's rules: alice keeps deleting her grants
        dn = self.invite()
        self.assertResult(self.run_as("ldapdelete", "alice", args=[dn]), OK)
        self.assertFalse(self.exists(dn))
        # Rule 3 lists mailGrantPending: the owner (a webmail writing as her) invites,
        # and may take the mark away (she could write an active grant anyway).
        made = "cn=alice-invites," + ALICE
        self.assertResult(self.run_as("ldapadd", "alice", grant_ldif(made, extra="mailGrantPending: TRUE\n")), OK)
        self.assertEqual(self.attr(made, "mailGrantPending"), ["TRUE"])
        self.assertResult(self.modify("alice", made, self.ACCEPT), OK)
        self.assertEqual(self.attr(made, "mailGrantPending"), [])
        # ...but only below her own entry: not on carol's grants
        carols = self.invite(dn="cn=carol-invites-eve," + CAROL)
        self.assertResult(self.modify("alice", carols, self.ACCEPT), INSUFFICIENT_ACCESS)
        self.assertEqual(self.attr(carols, "mailGrantPending"), ["TRUE"])


# The documented limit of rule 6, measured: under a site rule that lets every entry
# write its own "entry" (so delete itself, given "children" on its parent), a person
# whose entry sits below a mailbox may delete it exactly while holding a pending
# invitation from that mailbox, never with an accepted grant or none (this is what
# proves rule 6 looks for a PENDING grant; with the plain site policy above the
# child's own "entry" right hides it).
SELF_WRITE_SITE_ACL = """\
access to attrs=entry
	by self write
	by * break
""" + SITE_ACL
KID = "uid=kid," + ALICE


class _SelfWriteSite:
    FMT = None
    run_as = _AclBase.run_as
    assertResult = _AclBase.assertResult
    exists = _AclBase.exists
    attr = _AclBase.attr
    invite = _AclBase.invite
    modify = _AclBase.modify
    INVITE = "cn=invite-kid," + ALICE

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mailgrant-acl-%s-" % self.FMT, dir="/tmp")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        with open(ACL_CONF) as f:
            rules = f.read()
        self.s = slapd_sandbox.Slapd(self.tmp, fmt=self.FMT,
                                     acl=rules + "\n" + SELF_WRITE_SITE_ACL if self.FMT == "conf" else SELF_WRITE_SITE_ACL)
        self.s.start()
        self.addCleanup(self.s.stop)
        if self.FMT == "cnconfig":
            self.s.config_modify(ACL_LDIF)
        self.s.load_ldif(ORG_LDIF)
        self.assertResult(self.run_as("ldapadd", "root", "dn: %s\nobjectClass: inetOrgPerson\nuid: kid\ncn: Kid\n"
                                      "sn: Kid\nuserPassword: kid-pw\n" % KID), OK)

    def delete_self(self):
        p = subprocess.run(["ldapdelete", "-x", "-H", self.s.uri, "-D", KID, "-w", "kid-pw", KID],
                           capture_output=True, text=True, timeout=30)
        return p

    def test_rule6_needs_a_pending_invitation(self):
        self.assertResult(self.delete_self(), INSUFFICIENT_ACCESS)          # no grant at all
        accepted = self.invite(dn="cn=accepted-kid," + ALICE, grantee=KID, pending=None)
        self.invite(dn="cn=false-kid," + ALICE, grantee=KID, pending="FALSE")
        self.assertResult(self.delete_self(), INSUFFICIENT_ACCESS)          # accepted / FALSE
        self.assertTrue(self.exists(KID))
        self.assertResult(self.run_as("ldapdelete", "root", args=[accepted]), OK)
        self.invite(grantee=KID)
        self.assertResult(self.delete_self(), OK)                           # pending: the limit
        self.assertFalse(self.exists(KID))


class SelfWriteSiteConf(_SelfWriteSite, unittest.TestCase):
    FMT = "conf"


class SelfWriteSiteCnConfig(_SelfWriteSite, unittest.TestCase):
    FMT = "cnconfig"


class ConfFormat(_AclBase, unittest.TestCase):
    FMT = "conf"


class CnConfigFormat(_AclBase, unittest.TestCase):
    FMT = "cnconfig"

    def test_rules_are_in_front_of_site_rules(self):
        p = subprocess.run(["ldapsearch", "-Q", "-LLL", "-Y", "EXTERNAL", "-H", self.s.ldapi_uri,
                            "-o", "ldif-wrap=no", "-b", "olcDatabase={1}mdb,cn=config",
                            "-s", "base", "olcAccess", "olcAddContentAcl"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        rules = [l.split(":", 1)[1].strip() for l in p.stdout.splitlines()
                 if l.startswith("olcAccess:")]
        self.assertEqual(len(rules), 8, rules)
        self.assertTrue(rules[0].startswith("{0}to attrs=children"), rules)
        self.assertTrue(rules[3].startswith("{3}to dn.regex"), rules)
        self.assertIn("attrs=displayName,mailSharedSentCopy,children", rules[3])
        self.assertTrue(rules[4].startswith("{4}to filter="), rules)
        self.assertTrue(rules[5].startswith("{5}to dn.regex"), rules)
        self.assertTrue(rules[6].startswith("{6}to attrs=userPassword"), rules)
        self.assertIn("olcAddContentAcl: TRUE", p.stdout)


class AclFilesAgree(unittest.TestCase):
    """selfservice-acl.conf and selfservice-acl.ldif carry the same rules."""

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
