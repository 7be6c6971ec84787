#!/usr/bin/env python3
"""The example self-service ACL (ldap-schema/selfservice-acl.conf / .ldif).

A private slapd per test on 127.0.0.1 with a typical site policy below the
self-service rules; the LDAP clients (ldapadd, ldapmodify, ldapdelete) run as
alice (uid=alice,ou=people,dc=example,dc=com / alice-pw from org.ldif), or as
bob, carol, dave, eve for rule 4 (the admin role on the shared mailbox support@
may change its displayName and mailSharedSentCopy, nothing else), or for
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
    def give(self, cn, grantee, rights="admin", folder="*", extra=""):
        """A grant below support@, written by the LDAP admin."""
        self.assertResult(self.run_as("ldapadd", "root", (
            "dn: cn=%s,%s\nobjectClass: mailGrant\ncn: %s\nmailGrantee: %s\n"
            "mailGrantFolder: %s\nmailGrantRights: %s\n%s" % (cn, SUPPORT, cn, grantee, folder, rights, extra))), OK)

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
        self.assertResult(self.run_as("ldapdelete", "bob", args=["cn=team," + SUPPORT]), INSUFFICIENT_ACCESS)
        self.assertResult(self.run_as("ldapdelete", "bob", args=[SUPPORT]), INSUFFICIENT_ACCESS)
        self.assertTrue(self.exists(SUPPORT))
        # nor a person's entry, nor another shared mailbox, nor his own grant's rights
        self.assertResult(self.rename("bob", dn=ALICE), INSUFFICIENT_ACCESS)
        self.assertResult(self.run_as("ldapadd", "root", "dn: uid=sales,%s\nobjectClass: inetOrgPerson\n"
                                      "objectClass: mailSharedMailbox\nuid: sales\ncn: Sales\nsn: Sales\n"
                                      "mail: sales@example.com\n" % PEOPLE), OK)
        self.assertResult(self.rename("bob", dn="uid=sales," + PEOPLE), INSUFFICIENT_ACCESS)
        self.assertResult(self.rename("bob", dn="cn=bob-admin," + SUPPORT, attr="mailGrantFolder", value="x"),
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
