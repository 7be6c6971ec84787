#!/usr/bin/env python3
"""End to end (issue 19): what one IMAP LOGIN + LIST "" "*" costs in LDAP searches, counted
in slapd's own stats log, through a real Dovecot (2.3 or 2.4: whichever is installed)
loading the built plugin through the shipped drop-in.

Users u1, u10 and u100 have 1, 10 and 100 mailboxes sharing their INBOX with them; the
total for LOGIN + LIST (Dovecot's password lookup included) must stay <= 4 at every N.
grouped (10 sharers) is in a group: 5 in search mode, 4 with groups.membership memberof
(MemberOfLoginSearchCountTest) or with users.dn_template (DnTemplateLoginSearchCountTest),
test_a_group_member.
Counted is each user's second session: the first LIST of another user's mailbox makes
Dovecot's ACL plugin build that mailbox's own list of non-owner rights once
(dovecot-acl-list in the owner's mail directory, one GETACL per owner, kept for every
later session of anyone), as it does with stock vfile ACLs.
frank has 600 sharers, more than slapd's default size limit of 500: he sees all 600 in
the shared namespace and `mailgrant explain` agrees. mailgrant binds as a service account
with the `limits` line of ldap-schema/README.md, not as the rootdn (which has no limits).
slapd's "not indexed" warning anywhere in its log fails the test (the class without the
service: its slapd logs at debug level filter, the only one with that warning).

PinnedNamespaceQuestionsTest runs them with service.memo_ms 1 (see its docstring).
ServiceLoginQuestionsTest runs the same tests with the per-host decision service
(service.listen, a real mailgrant-policyd answering the plugin): slapd's counts then include
the daemon's searches, and the daemon's own counter (service_questions_total) shows that
one LOGIN + LIST asks it the same number of questions at every N -- the whole shared
namespace in one "namespace" question, not one question per sharer and folder.
"""
import imaplib
import os
import pwd
import re
import subprocess
import sys
import tempfile
import shutil
import socket
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
from mail_sandbox import MAIL_USER, MailStack  # noqa: E402
from mailgrant_setup import (CHECKPASSWORD, PLUGIN, assert_dovecot_log_clean, dovecot_conf_with_plugin,  # noqa: E402
                             ldap_apply)
from slapd_sandbox import Slapd, unindexed_searches  # noqa: E402
from policyd_process import Policyd  # noqa: E402

SERVICE_DN = "cn=mailgrant,ou=services,dc=example,dc=com"
SERVICE_PW = "service-pw"
# ldap-schema/README.md: slapd's default limits for plain searches, paging unlimited.
LIMITS = 'limits dn.exact="%s" size.prtotal=unlimited\n' % SERVICE_DN
TABLE = (1, 10, 100)
BIG_N = 600
MAX_SEARCHES = 4   # per LOGIN + LIST, Dovecot's own password lookup included
MAX_QUESTIONS = 2  # service questions per LOGIN + LIST (with the service)
CLI = os.environ.get("MAILGRANT_CLI", os.path.join(ROOT, "build", "cli", "mailgrant"))


def person_dn(uid):
    return "uid=%s,ou=people,dc=example,dc=com" % uid


def person(uid):
    return ("dn: %s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\nmail: %s@example.com\n"
            "userPassword: %s-pw\n\n" % (person_dn(uid), uid, uid, uid, uid, uid))


def bulk_ldif():
    out = ["dn: ou=services,dc=example,dc=com\nobjectClass: organizationalUnit\nou: services\n\n",
           "dn: %s\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: mailgrant\n"
           "userPassword: %s\n\n" % (SERVICE_DN, SERVICE_PW)]
    out += [person(u) for u in ["frank", "grouped"] + ["u%d" % n for n in TABLE]]
    for i in range(BIG_N):
        sharer = "sharer-%d" % i
        out.append(person(sharer))
        grantees = [person_dn("frank")] + [person_dn("u%d" % n) for n in TABLE if i < n]
        grantees += [person_dn("grouped")] if i < GROUPED_N else []
        out.append("dn: cn=share,%s\nobjectClass: mailGrant\ncn: share\n%smailGrantFolder: INBOX\n"
                   "mailGrantRights: reader\n\n"
                   % (person_dn(sharer), "".join("mailGrantee: %s\n" % g for g in grantees)))
    return "".join(out)


# grouped: GROUPED_N sharers, and in a group (in no group itself) in every class.
GROUPED_N = 10
GROUPED = ("dn: cn=grouped-team,ou=groups,dc=example,dc=com\nobjectClass: groupOfNames\ncn: grouped-team\n"
           "member: %s\n\n" % person_dn("grouped"))
# MemberOfLoginSearchCountTest: the counted users in one group that is in no group.
READERS = ("dn: cn=readers,ou=groups,dc=example,dc=com\nobjectClass: groupOfNames\ncn: readers\n%s\n"
           % "".join("member: %s\n" % person_dn(u) for u in ["frank"] + ["u%d" % n for n in TABLE]))


class LoginSearchCountTest(unittest.TestCase):
    SERVICE = False
    MEMO_MS = 5000
    MEMBEROF = False
    DN_TEMPLATE = None
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mailgrant-search-count-")
        os.chmod(cls.tmp, 0o755)
        cls.addClassCleanup(lambda: shutil.rmtree(cls.tmp, ignore_errors=True))
        # slapd logs "not indexed" only at debug level filter, which also logs every entry
        # tested against every term (1.8 million lines for frank's 600 sharers): too slow
        # for the service's timeout_ms, so only the class without the service (the same
        # core searches, made by the plugin) checks for it.
        cls.slapd = Slapd(os.path.join(cls.tmp, "slapd"), acl=LIMITS, log_filters=not cls.SERVICE,
                          memberof=cls.MEMBEROF).start()
        cls.addClassCleanup(cls.slapd.stop)
        cls.slapd.load_ldif(os.path.join(ROOT, "tests", "fixtures", "org.ldif"))
        ldap_apply(cls.slapd, bulk_ldif() + GROUPED, tool="ldapadd")
        if cls.MEMBEROF or cls.DN_TEMPLATE:
            ldap_apply(cls.slapd, READERS, tool="ldapadd")
        etc = os.path.join(cls.tmp, "etc")
        os.makedirs(etc)
        os.chmod(etc, 0o755)
        secret = os.path.join(etc, "ldap.secret")
        with open(secret, "w") as f:
            f.write(SERVICE_PW)
        os.chmod(secret, 0o644)   # throwaway sandbox: readable by Dovecot's users
        cls.config = os.path.join(etc, "mailgrant.yaml")
        with open(cls.config, "w") as f:
            f.write('ldap:\n  uris: [%s]\n  base: %s\n  bind_dn: "%s"\n  bind_password_file: %s\n'
                    "cache:\n  ttl_s: 300\n" % (cls.slapd.uri, cls.slapd.base, SERVICE_DN, secret))
            if cls.MEMBEROF:
                f.write("groups:\n  membership: memberof\n")
            if cls.DN_TEMPLATE:
                f.write('users:\n  dn_template: "%s"\n' % cls.DN_TEMPLATE)
            if cls.SERVICE:
                # MEMO_MS: 5000 (the maximum) here, 1 in PinnedNamespaceQuestionsTest, where
                # only the per-command pin keeps the count a count on a slow machine. No
                # syncprov here: the TTL is what keeps the daemon's cache, 300 s so that an
                # answer cached by the first warm-up outlives a slow machine's later counts
                # (the cold-cache tests empty it with the "changed" question, not by age).
                f.write("  follow_changes: false\nservice:\n  listen: unix:%s/run/service\n  memo_ms: %d\n"
                        % (cls.tmp, cls.MEMO_MS))
        os.chmod(cls.config, 0o644)
        cls.policyd = None
        if cls.SERVICE:
            os.makedirs(os.path.join(cls.tmp, "run"), mode=0o755)
            cls.policyd = Policyd(cls.config, cls.tmp)
            cls.addClassCleanup(cls.policyd.stop)
            cls.policyd.start()
        mail_dir = os.path.join(cls.tmp, "mail")
        os.mkdir(mail_dir)
        os.chmod(mail_dir, 0o755)
        cls.stack = MailStack(mail_dir, cls.slapd.uri, cls.slapd.base)
        cls.stack.dovecot_extra_conf = dovecot_conf_with_plugin(
            etc, PLUGIN, cls.config, cls.stack.dovecot_ldap_conf_path, CHECKPASSWORD)
        cls.stack.start()
        cls.addClassCleanup(cls.stack.stop)
        # The sharers' mailboxes exist (as after their first delivery): an INBOX to list.
        mail = pwd.getpwnam(MAIL_USER)
        for i in range(BIG_N):
            for sub in ("cur", "new", "tmp"):
                path = os.path.join(cls.stack.maildir_of("sharer-%d@example.com" % i), sub)
                os.makedirs(path, exist_ok=True)
        for dirpath, _dirs, _files in os.walk(cls.stack.mail_dir):
            os.chown(dirpath, mail.pw_uid, mail.pw_gid)

    @classmethod
    def tearDownClass(cls):
        assert_dovecot_log_clean(cls.stack.dovecot_log_path)
        if not cls.slapd.log_filters:
            return
        # Its candidate lines prove that level is on, so the check can fail.
        with open(cls.slapd.log_path, errors="replace") as f:
            text = f.read()
        assert "mdb_filter_candidates" in text, "slapd does not log at level filter: no warning could show"
        unindexed = ["%s\n    %s\n" % pair for pair in unindexed_searches(cls.slapd.log_path)]
        assert not unindexed, "slapd searched without an index:\n" + "".join(unindexed[:10])

    def log_size(self):
        return os.path.getsize(self.slapd.log_path)

    def searches_since(self, offset):
        with open(self.slapd.log_path, "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
        return [line for line in text.splitlines() if re.search(r" SRCH base=", line)]

    def login_and_list(self, user):
        """LOGIN + LIST "" "*" + LOGOUT; the shared names listed."""
        imap = imaplib.IMAP4("127.0.0.1", self.stack.imap_port, timeout=300)
        try:
            imap.login(user, user.split("@")[0] + "-pw")
            typ, data = imap.list('""', "*")
            self.assertEqual(typ, "OK", data)
        finally:
            imap.logout()
        names = []
        for line in data:
            m = re.match(rb'\((.*?)\) "(.)" (.*)', line)
            names.append(m.group(3).decode().strip('"'))
        return sorted(n for n in names if n.startswith("shared/"))

    def questions(self):
        return self.policyd.metrics()["service_questions_total"] if self.policyd else 0

    def counted_login(self, user):
        """(shared names, LDAP searches) of one LOGIN + LIST, from slapd's stats log: the
        log is written while slapd answers, so once LOGOUT is through every search of the
        session is in it; a short bounded wait covers the last lines' write."""
        start = self.log_size()
        names = self.login_and_list(user)
        deadline = time.monotonic() + 2
        searches = self.searches_since(start)
        while time.monotonic() < deadline:
            time.sleep(0.2)
            again = self.searches_since(start)
            if len(again) == len(searches):
                break
            searches = again
        return names, searches

    def namespaces(self):
        """(built, reused): the service's namespace answers made from the directory, and
        those given from one it kept (answers.h, Answers::namespace_of)."""
        m = self.policyd.metrics()
        return m["service_namespaces_built_total"], m["service_namespaces_reused_total"]

    def test_login_and_list_searches_do_not_grow_with_sharers(self):
        counts, questions = {}, {}
        for n in TABLE:
            with self.subTest(sharers=n):
                self.login_and_list("u%d@example.com" % n)   # Dovecot's first-time files
                before = self.questions()
                kept = self.namespaces() if self.SERVICE else None
                names, searches = self.counted_login("u%d@example.com" % n)
                questions[n] = self.questions() - before
                if self.SERVICE:
                    # nothing changed since the first session: its answer is given again,
                    # not built again (the service remembered it)
                    built, reused = self.namespaces()
                    self.assertEqual(built, kept[0], "N=%d: the namespace was built again" % n)
                    self.assertGreaterEqual(reused, kept[1] + 1, "N=%d: no kept namespace given" % n)
                self.assertEqual(len(names), n, names[:5])
                self.assertIn("shared/sharer-%d@example.com" % (n - 1), names)
                counts[n] = len(searches)
                self.assertLessEqual(len(searches), MAX_SEARCHES,
                                     "N=%d:\n%s" % (n, "\n".join(searches)))
        print("searches per LOGIN + LIST: %s" % ", ".join("N=%d: %d" % kv for kv in sorted(counts.items())))
        self.assertEqual(counts[TABLE[0]], counts[TABLE[-1]])
        if self.SERVICE:
            print("service questions per LOGIN + LIST: %s"
                  % ", ".join("N=%d: %d" % kv for kv in sorted(questions.items())))
            self.assertGreaterEqual(questions[TABLE[0]], 1, "the plugin did not ask the service")
            self.assertLessEqual(questions[TABLE[-1]], MAX_QUESTIONS)
            self.assertEqual(questions[TABLE[0]], questions[TABLE[-1]])

    def test_a_group_member(self):
        """A user in a group: in search mode one search more than MAX_SEARCHES (the groups
        naming the user must be found before the grants naming them can be asked for:
        LDAP has no join); with memberof or users.dn_template the login search reads the
        groups, and the group and the grants come in one search: MAX_SEARCHES. Counted without the service,
        whose second session is answered from its cache."""
        if self.SERVICE:
            self.skipTest("the plugin's own searches: the class without the service")
        self.login_and_list("grouped@example.com")   # Dovecot's first-time files
        names, searches = self.counted_login("grouped@example.com")
        self.assertEqual(len(names), GROUPED_N)
        print("searches per LOGIN + LIST of a group member: %d" % len(searches))
        self.assertTrue(any("grouped-team" in line for line in searches), "\n".join(searches))
        joined = self.MEMBEROF or self.DN_TEMPLATE
        self.assertEqual(len(searches), MAX_SEARCHES + (0 if joined else 1), "\n".join(searches))

    def test_a_group_members_cold_login_through_the_service(self):
        """With the service, search mode and no users.dn_template (the default
        configuration): the daemon learned from an earlier login how people's DNs are made
        (core/src/dn_patterns.h), so with its cache emptied a group member's LOGIN + LIST
        costs one search less: the login search also asks for the groups naming the DN
        the pattern gives (its filter names member=<grouped's DN>), which the daemon's
        counter shows proved. Its groups' own level and the owners follow, as for u100."""
        if not self.SERVICE or self.MEMBEROF or self.DN_TEMPLATE:
            self.skipTest("the daemon's learned DN patterns: service variant in search mode only")
        self.login_and_list("grouped@example.com")   # Dovecot's first-time files; teaches the pattern
        before = self.policyd.metrics()
        self.assertGreaterEqual(before["dn_patterns_learned_total"], 1)
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(os.path.join(self.tmp, "run", "service"))
            s.sendall(b"changed\n")
            self.assertEqual(s.makefile("rb").readline(), b"ok\n")
        names, searches = self.counted_login("grouped@example.com")
        self.assertEqual(len(names), GROUPED_N)
        after = self.policyd.metrics()
        self.assertGreaterEqual(after["dn_guesses_right_total"], before["dn_guesses_right_total"] + 1)
        login = [line for line in searches if "member=%s" % person_dn("grouped") in line]
        self.assertEqual(len(login), 1, "\n".join(searches))
        self.assertIn("grouped@example.com", login[0])
        print("cold service cache: %d searches for a group member's LOGIN + LIST" % len(searches), file=sys.stderr)
        # Dovecot's password lookup; the login with the groups; the group's level with the
        # grants; the 10 owners; their addresses checked in two
        self.assertLessEqual(len(searches), 6, "\n".join(searches))

    def test_a_cold_service_cache_costs_a_fixed_number_of_searches(self):
        """With the service: right after its cache was emptied (the "changed" question a
        SETACL sends), one LOGIN + LIST of u100 costs the daemon a fixed number of batched
        searches, not one per sharer."""
        if not self.SERVICE:
            self.skipTest("the daemon's cache: service variant only")
        self.login_and_list("u100@example.com")   # Dovecot's first-time files
        changes = self.policyd.metrics()["service_changes_total"]
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(os.path.join(self.tmp, "run", "service"))
            s.sendall(b"changed\n")
            self.assertEqual(s.makefile("rb").readline(), b"ok\n")
        self.assertEqual(self.policyd.metrics()["service_changes_total"], changes + 1)
        built = self.namespaces()[0]
        names, searches = self.counted_login("u100@example.com")
        self.assertEqual(len(names), 100)
        # the change dropped the kept answer: this one was built from LDAP again
        self.assertGreaterEqual(self.namespaces()[0], built + 1)
        # Dovecot's password lookup; the login; their groups and grants; 100 owners in one
        # OR-filter; their 100 addresses checked in two (mailboxes_by_address: the entries
        # each address finds, so the daemon's cache keeps what the address search means).
        print("cold service cache: %d searches for LOGIN + LIST with 100 sharers" % len(searches),
              file=sys.stderr)
        self.assertLessEqual(len(searches), 6, "\n".join(searches))
        # The batch made the address decisions (LdapDirectory::mailboxes_by_address): every
        # entry the 100 addresses find, then whether an owner is found by another's address.
        batch = [s for s in searches if "mail=sharer-" in s]
        self.assertEqual(len(batch), 2, "\n".join(searches))
        self.assertEqual(sum("(!(entryDN=" in s for s in batch), 1, "\n".join(batch))

    def test_more_sharers_than_the_server_size_limit(self):
        self.assertEqual(len(self.login_and_list("frank@example.com")), BIG_N)
        names, searches = self.counted_login("frank@example.com")
        self.assertEqual(len(names), BIG_N)
        # 600 grants in two pages, 600 owners in three OR-filters of 256 DNs.
        self.assertLessEqual(len(searches), 1 + 1 + 2 + 3, "\n".join(searches))
        # The CLI decides the same way (core's Decider over the same paged searches).
        out = subprocess.run([CLI, "-c", self.config, "explain", "frank@example.com", "sharer-599@example.com",
                              "INBOX"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("lrs", out.stdout)


class ServiceLoginQuestionsTest(LoginSearchCountTest):
    SERVICE = True


class MemberOfLoginSearchCountTest(LoginSearchCountTest):
    """groups.membership memberof, slapd's memberof overlay on, and every counted user in
    a group (readers, in no group itself): the login search reads the user's memberOf, and
    one search asks for that group's entry and the grants naming the user or the group
    (core/src/member_of_walk.cpp), so a group member's LOGIN + LIST stays within the same
    <= 4. (In search mode a group member costs one search more: the groups naming the
    user must be found before the grants naming them can be asked for.) Without the
    login's memberOf it would be 6: the user's memberOf, the group's, then the grants."""
    MEMBEROF = True

    def test_the_group_and_the_grants_are_one_search(self):
        self.login_and_list("u10@example.com")   # Dovecot's first-time files
        names, searches = self.counted_login("u10@example.com")
        self.assertEqual(len(names), 10)
        # the login search asked for memberOf; readers' entry and the grants naming u10 or
        # readers came in one search
        merged = [line for line in searches
                  if "entryDN=cn=readers,ou=groups" in line and "mailGrantee=cn=readers,ou=groups" in line]
        self.assertEqual(len(merged), 1, "\n".join(searches))
        self.assertLessEqual(len(searches), MAX_SEARCHES, "\n".join(searches))


class DnTemplateLoginSearchCountTest(LoginSearchCountTest):
    """Search mode (no memberof overlay) with users.dn_template, every counted user in a
    group (readers): the plugin's login search also asks for the groups naming the DN the
    template gives (core/src/login_groups.cpp), so the walk starts at readers, and
    readers' own groups and the grants naming the user or readers come in one search: a
    group member's LOGIN + LIST within the same <= 4, as with memberof."""
    DN_TEMPLATE = "uid=%n,ou=people,dc=example,dc=com"

    def test_the_login_search_asks_for_the_groups(self):
        self.login_and_list("u10@example.com")   # Dovecot's first-time files
        names, searches = self.counted_login("u10@example.com")
        self.assertEqual(len(names), 10)
        # the plugin's login search: the login filter and the groups naming the guessed DN
        login = [line for line in searches
                 if "uid=u10@example.com" in line and "member=uid=u10,ou=people" in line]
        self.assertEqual(len(login), 1, "\n".join(searches))
        # then readers' groups and the grants naming u10 or readers, in one search
        merged = [line for line in searches
                  if "member=cn=readers,ou=groups" in line and "mailGrantee=cn=readers,ou=groups" in line
                  and "mailGrantee=uid=u10,ou=people" in line]
        self.assertEqual(len(merged), 1, "\n".join(searches))
        self.assertLessEqual(len(searches), MAX_SEARCHES, "\n".join(searches))


class PinnedNamespaceQuestionsTest(LoginSearchCountTest):
    """memo_ms 1: the plugin keeps nothing between questions, except that a namespace
    fetched during an IMAP command answers for the whole command (wire_core.h,
    mgw_core_pin_per_command; ended by the command's tagged reply, mailgrant-imap.c). So a
    LIST over 100 sharers, which takes far longer than 1 ms, still asks the same number of
    questions as one over 1 -- without the pin it re-asked the namespace about every
    mailbox it reached after the first millisecond."""
    SERVICE = True
    MEMO_MS = 1


if __name__ == "__main__":
    unittest.main()
