#!/usr/bin/env python3
"""End to end (issue 17): team mailboxes in Dovecot with the plugin. A private real
Dovecot (2.3 on Debian 12, 2.4 on Debian 13) loading the built plugin through the
shipped drop-in, a real slapd with the project's schema and fixture, imaplib as client.
Needs root (Dovecot master) and the plugin path in $MAILGRANT_DOVECOT_PLUGIN (CTest).

Fixture: support@example.com is a mailSharedMailbox; its grant "team" gives the group
support-team (bob directly, carol through support-leads) the editor role on '*'. Added
here: eve gets the reader role on '*' of support@ ("readers"). bob keeps the fixture's
read-only share of alice's Projects (alice is a person's mailbox, not a team mailbox).

What is proved, each by the plugin's own log line next to the IMAP result:
  - the special-use folders of support@ are made at the first access by a member (a
    LIST; for sales@, a SELECT), once;
  - LIST shows their SPECIAL-USE flags in the shared namespace (three LIST forms), only
    for folders the member can see;
  - a draft APPENDed by one member is found by another;
  - an editor on '*' creates and deletes top-level folders (the core's reason logged),
    and Dovecot's copying of a parent's ACL entries to a new sub-folder writes nothing
    to LDAP; a reader on '*' gets NO [NOPERM] and the log says why;
  - alice's (person) mailbox, shared with bob, gets no such folders.
"""
import imaplib
import os
import re
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from mailgrant_setup import assert_dovecot_log_clean, ldap_apply, plugin_stack  # noqa: E402

TTL = 2
SUPPORT = "support@example.com"
SUPPORT_DN = "uid=support,ou=people,dc=example,dc=com"
PREFIX = "shared/%s/" % SUPPORT
SALES = "sales@example.com"
SALES_DN = "uid=sales,ou=people,dc=example,dc=com"
SPECIAL = {"Drafts": "\\Drafts", "Sent": "\\Sent", "Trash": "\\Trash", "Junk": "\\Junk"}
CREATED_LINE = ("mailgrant: created special-use folders Drafts, Sent, Trash, Junk in team mailbox "
                "support@example.com (first opened by ")
LIST_LINE = re.compile(rb'\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)"|NIL) (?P<name>.*)')


class TeamMailboxTest(unittest.TestCase):
    """The steps build on each other (numbered: unittest runs them in name order)."""

    @classmethod
    def setUpClass(cls):
        valgrind = ""
        if os.environ.get("MAILGRANT_VALGRIND_LOG_DIR"):  # as test_dovecot_plugin.py: optional, slow
            valgrind = ("service imap {\n  executable = /usr/bin/valgrind -q --error-exitcode=99 "
                        "--suppressions=%s --log-file=%s/imap-%%p.log /usr/lib/dovecot/imap\n}\n"
                        % (os.path.join(HERE, "valgrind.supp"), os.environ["MAILGRANT_VALGRIND_LOG_DIR"]))
        cls.tmp, cls.slapd, cls.config, cls.stack = plugin_stack(cls, "mailgrant-dovecot-team-", TTL,
                                                                 extra_dovecot_conf=valgrind)
        ldap_apply(cls.slapd, "dn: cn=readers,%s\nchangetype: add\nobjectClass: mailGrant\ncn: readers\n"
                              "mailGrantee: uid=eve,ou=people,dc=example,dc=com\nmailGrantFolder: *\n"
                              "mailGrantRights: reader\n" % SUPPORT_DN)
        # a second team mailbox, shared only in step 6 (no LIST may see it before its SELECT)
        ldap_apply(cls.slapd, "dn: %s\nobjectClass: inetOrgPerson\nobjectClass: mailSharedMailbox\nuid: sales\n"
                              "cn: Sales\nsn: Sales\nmail: %s\n" % (SALES_DN, SALES), tool="ldapadd")
        # the owners' mailboxes exist (as after their first delivery) before anyone shares them
        with cls.login("alice@example.com", "alice-pw") as imap:
            assert imap.create("Projects")[0] == "OK"
        for owner in (SUPPORT, SALES):
            subprocess.run(cls.stack.doveadm_argv() + ["mailbox", "status", "-u", owner, "messages", "INBOX"],
                           check=True, capture_output=True, timeout=30)

    @classmethod
    def tearDownClass(cls):
        assert_dovecot_log_clean(cls.stack.dovecot_log_path)

    @classmethod
    def login(cls, user, password):
        imap = imaplib.IMAP4("127.0.0.1", cls.stack.imap_port, timeout=30)
        imap.login(user, password)
        return imap

    # ---- helpers ----
    def log(self):
        with open(self.stack.dovecot_log_path) as f:
            return f.read()

    def logouts(self, user):
        return len(re.findall(r"imap\(%s\).*Logged out" % re.escape(user), self.log()))

    def await_logouts(self, user, count, timeout_s=10):
        """Until `user` has `count` logout lines: an imap process logs its logout after
        anything it logged while working, so a check that something was NOT logged is
        made only once the session that could have logged it is over."""
        deadline = time.time() + timeout_s
        while self.logouts(user) < count:
            self.assertLess(time.time(), deadline, "%s's logout is not in the Dovecot log" % user)
            time.sleep(0.1)

    def assert_logged(self, text, timeout_s=10):
        """Dovecot's processes log through its log service, asynchronously: poll."""
        deadline = time.time() + timeout_s
        while text not in self.log():
            if time.time() > deadline:
                mailgrant = "\n".join(line for line in self.log().splitlines() if "mailgrant" in line)
                self.fail("not in the Dovecot log within %d s: %s\n%s" % (timeout_s, text, mailgrant[-3000:]))
            time.sleep(0.2)

    def listing(self, imap, *args):
        """{name: set of flags} from a LIST command with these arguments."""
        typ, data = imap._simple_command("LIST", *args)
        self.assertEqual(typ, "OK", data)
        typ, data = imap._untagged_response(typ, data, "LIST")
        out = {}
        for line in data:
            if line is None:
                continue
            m = LIST_LINE.match(line)
            self.assertIsNotNone(m, line)
            out[m.group("name").decode().strip('"')] = set(m.group("flags").decode().split())
        return out

    def support_maildir_folders(self, owner=SUPPORT):
        maildir = self.stack.maildir_of(owner)
        return sorted(d[1:] for d in os.listdir(maildir) if d.startswith(".")
                      and os.path.isdir(os.path.join(maildir, d, "cur")))

    def ldap_grants_of_support(self):
        out = subprocess.run(["ldapsearch", "-x", "-LLL", "-o", "ldif-wrap=no", "-H", self.slapd.uri,
                              "-D", self.slapd.rootdn, "-w", self.slapd.rootpw, "-s", "one", "-b", SUPPORT_DN,
                              "(objectClass=mailGrant)", "*", "modifyTimestamp"],
                             check=True, capture_output=True, text=True, timeout=20).stdout
        return sorted(block for block in out.strip().split("\n\n") if block)

    # ---- steps ----
    def test_1_special_use_folders_are_made_at_first_access_once(self):
        self.assertEqual(self.support_maildir_folders(), [])
        self.assertNotIn(CREATED_LINE, self.log())
        with self.login("bob@example.com", "bob-pw") as imap:
            names = self.listing(imap, '""', '"*"')
        for folder in SPECIAL:
            self.assertIn(PREFIX + folder, names)
        self.assertEqual(self.support_maildir_folders(), sorted(SPECIAL))
        self.assert_logged(CREATED_LINE + "bob@example.com)")
        # carol, in another session, finds them there: nothing is made (nor logged) again
        carol = self.logouts("carol@example.com")
        with self.login("carol@example.com", "carol-pw") as imap:
            self.assertEqual(imap.select('"%sDrafts"' % PREFIX)[0], "OK")
        self.await_logouts("carol@example.com", carol + 1)
        self.assertEqual(self.log().count(CREATED_LINE), 1)

    def test_2_list_shows_the_special_use_flags_in_the_shared_namespace(self):
        with self.login("bob@example.com", "bob-pw") as imap:
            selected = self.listing(imap, "(SPECIAL-USE)", '""', '"*"')
            # (\Marked / \UnMarked may come too: maildir's guess about new mail)
            self.assertEqual({n: f & set(SPECIAL.values()) for n, f in selected.items() if n.startswith(PREFIX)},
                             {PREFIX + folder: {flag} for folder, flag in SPECIAL.items()})
            returned = self.listing(imap, '""', '"*"', "RETURN", "(SPECIAL-USE)")
            plain = self.listing(imap, '""', '"%s*"' % PREFIX)
            for folder, flag in SPECIAL.items():
                self.assertIn(flag, returned[PREFIX + folder])
                self.assertIn(flag, plain[PREFIX + folder])
            self.assertFalse(returned["shared/" + SUPPORT] & set(SPECIAL.values()))  # the INBOX has none
        with self.login("eve@example.com", "eve-pw") as imap:  # a reader on '*' sees them too
            selected = self.listing(imap, "(SPECIAL-USE)", '""', '"*"')
            self.assertIn("\\Sent", selected.get(PREFIX + "Sent", set()))
        # dave reaches only support@'s INBOX: he does not see (nor get flags for) the rest
        with self.login("dave@example.com", "dave-pw") as imap:
            everything = self.listing(imap, '""', '"*"', "RETURN", "(SPECIAL-USE)")
            self.assertIn("shared/" + SUPPORT, everything)
            self.assertFalse([n for n in everything if n.startswith(PREFIX)])
            self.assertEqual(self.listing(imap, "(SPECIAL-USE)", '""', '"*"'), {})

    def test_3_a_draft_by_one_member_is_found_by_another(self):
        draft = (b"From: support@example.com\r\nTo: customer@example.org\r\n"
                 b"Subject: reply draft 17\r\n\r\nDear customer,\r\n")
        with self.login("bob@example.com", "bob-pw") as imap:
            typ, data = imap.append('"%sDrafts"' % PREFIX, "(\\Draft)", None, draft)
            self.assertEqual(typ, "OK", data)
        with self.login("carol@example.com", "carol-pw") as imap:
            self.assertEqual(imap.select('"%sDrafts"' % PREFIX)[0], "OK")
            typ, data = imap.search(None, "DRAFT", "SUBJECT", '"reply draft 17"')
            self.assertEqual(typ, "OK")
            self.assertEqual(len(data[0].split()), 1)

    def test_4_an_editor_on_star_creates_and_deletes_top_level_folders(self):
        grants_before = self.ldap_grants_of_support()
        carol, bob = self.logouts("carol@example.com"), self.logouts("bob@example.com")
        with self.login("carol@example.com", "carol-pw") as imap:
            typ, data = imap.create('"%sLeads"' % PREFIX)
            self.assertEqual(typ, "OK", data)
            self.assert_logged("mailgrant: carol@example.com created top-level folder Leads in support@example.com: "
                               "'carol@example.com' may create top-level folders in support@example.com: "
                               "grant 'team' (cn=team,uid=support,ou=people,dc=example,dc=com) to group "
                               "cn=support-team,ou=groups,dc=example,dc=com, through nested groups ")
            self.assert_logged(" covers every folder ('*') with rights lrswipkxte")
            # below it: the parent's rights; Dovecot copies the parent's ACL entries to the
            # new folder, and none of them becomes an LDAP write
            typ, data = imap.create('"%sLeads/2026"' % PREFIX)
            self.assertEqual(typ, "OK", data)
            self.assertIn("Leads", self.support_maildir_folders())
            self.assertIn("Leads.2026", self.support_maildir_folders())
        with self.login("bob@example.com", "bob-pw") as imap:
            names = self.listing(imap, '""', '"%s*"' % PREFIX)
            self.assertIn(PREFIX + "Leads", names)
            self.assertIn(PREFIX + "Leads/2026", names)
            self.assertEqual(imap.delete('"%sLeads/2026"' % PREFIX)[0], "OK")
            self.assertEqual(imap.delete('"%sLeads"' % PREFIX)[0], "OK")
        self.assertNotIn("Leads", self.support_maildir_folders())
        self.assertEqual(self.ldap_grants_of_support(), grants_before)
        self.await_logouts("carol@example.com", carol + 1)
        self.await_logouts("bob@example.com", bob + 1)
        self.assertNotIn("SETACL by carol@example.com", self.log())
        self.assertNotIn("refused ACL update", self.log())

    def test_5_a_reader_on_star_cannot_create_and_the_log_says_why(self):
        with self.login("eve@example.com", "eve-pw") as imap:
            typ, data = imap.create('"%sLeads"' % PREFIX)
            self.assertEqual(typ, "NO")
            self.assertIn(b"[NOPERM]", data[0])
            self.assert_logged("mailgrant: refused CREATE of top-level folder Leads in support@example.com by "
                               "eve@example.com: 'eve@example.com' may not create top-level folders in "
                               "support@example.com: grant 'readers' (cn=readers,uid=support,ou=people,"
                               "dc=example,dc=com) to the user directly covers every folder but gives only lrs")
            typ, data = imap.delete('"%sTrash"' % PREFIX)  # x comes from the grant: a reader has none
            self.assertEqual(typ, "NO")
        self.assertNotIn("Leads", self.support_maildir_folders())
        self.assertIn("Trash", self.support_maildir_folders())

    def test_6_opening_a_team_mailbox_makes_its_folders_too(self):
        ldap_apply(self.slapd, "dn: cn=team,%s\nobjectClass: mailGrant\ncn: team\n"
                   "mailGrantee: uid=carol,ou=people,dc=example,dc=com\nmailGrantFolder: INBOX\n"
                   "mailGrantRights: editor\n" % SALES_DN, tool="ldapadd")
        self.assertEqual(self.support_maildir_folders(SALES), [])
        time.sleep(TTL + 1)  # cached answers about carol's shares expire (not an assertion)
        with self.login("carol@example.com", "carol-pw") as imap:  # only INBOX is granted here
            self.assertEqual(imap.select('"shared/%s"' % SALES)[0], "OK")
            self.assertEqual(self.support_maildir_folders(SALES), sorted(SPECIAL))
            self.assert_logged("mailgrant: created special-use folders Drafts, Sent, Trash, Junk in team mailbox "
                               "sales@example.com (first opened by carol@example.com)")
            # made for the team; carol's grant (INBOX) does not show them to her
            self.assertEqual(self.listing(imap, '""', '"shared/%s/*"' % SALES), {})

    def test_7_a_person_mailbox_shared_with_someone_gets_no_team_folders(self):
        bob = self.logouts("bob@example.com")
        with self.login("bob@example.com", "bob-pw") as imap:
            names = self.listing(imap, '""', '"*"', "RETURN", "(SPECIAL-USE)")
            self.assertIn("shared/alice@example.com/Projects", names)
            self.assertEqual([n for n in names if n.startswith("shared/alice@example.com/")],
                             ["shared/alice@example.com/Projects"])
            # bob's read-only share does not cover alice's top level either
            typ, data = imap.create('"shared/alice@example.com/Leads"')
            self.assertEqual(typ, "NO")
        alice = self.stack.maildir_of("alice@example.com")
        self.assertEqual(sorted(d for d in os.listdir(alice) if d.startswith(".")
                                and os.path.isdir(os.path.join(alice, d, "cur"))), [".Projects"])
        self.await_logouts("bob@example.com", bob + 1)
        self.assertNotIn("in team mailbox alice@example.com", self.log())


if __name__ == "__main__":
    unittest.main()
