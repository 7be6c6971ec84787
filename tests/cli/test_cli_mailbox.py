#!/usr/bin/env python3
"""Issue 17, `mailgrant mailbox create|delete|set|list` against a private real slapd.

Entries are checked with ldapsearch (as the rootdn), the special-use folders through
tests/fixtures/cli/fake_doveadm.py --record (every doveadm call it got, in order), the
first grant with `explain` (the decision code every component shares). Each test uses
its own address, so the tests of one class share one slapd. $MAILGRANT_CLI names the
binary; goldens in tests/cli/golden/ (MAILGRANT_UPDATE_GOLDEN=1 rewrites them)."""
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_cli import CliCase, FIXTURES  # noqa: E402

PEOPLE = "ou=people,dc=example,dc=com"
SUPPORT = "uid=support," + PEOPLE
FAKE_DOVEADM = os.path.join(FIXTURES, "cli", "fake_doveadm.py")


class MailboxCase(CliCase):
    fmt = "cnconfig"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.base_config = cls.config  # users base = ldap.base
        cls.config = cls.yaml("mailbox.yaml", "team_mailbox:\n  base: %s\n" % PEOPLE)

    @classmethod
    def yaml(cls, name, extra):
        path = os.path.join(cls.tmp.name, name)
        with open(cls.base_config) as f, open(path, "w") as out:
            out.write(f.read() + extra)
        return path

    def search(self, base, flt="(objectClass=*)", scope="base"):
        """[{attr: [values]}] of the entries found (with "dn"), as the rootdn sees them."""
        p = subprocess.run(["ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-x", "-H", self.slapd.uri, "-D",
                            self.slapd.rootdn, "-y", self.slapd.rootpw_path, "-b", base, "-s", scope, flt, "*"],
                           capture_output=True, text=True, timeout=30)
        if p.returncode == 32:  # noSuchObject
            return []
        self.assertEqual(p.returncode, 0, p.stderr)
        out = []
        for block in p.stdout.strip().split("\n\n"):
            if not block.strip():
                continue
            attrs = {}
            for line in block.splitlines():
                key, _, value = line.partition(": ")
                attrs.setdefault(key.rstrip(":"), []).append(value)
            out.append(attrs)
        return out

    def entry(self, dn):
        found = self.search(dn)
        return found[0] if found else None

    def grants_below(self, dn):
        return sorted(e["cn"][0] for e in self.search(dn, "(objectClass=mailGrant)", "one"))

    def doveadm(self, tag, fail=None):
        """A --doveadm command that records its calls in a file; returns (command, calls())."""
        record = os.path.join(self.tmp.name, "doveadm-%s.log" % tag)
        cmd = "%s %s --record %s%s" % (sys.executable, FAKE_DOVEADM, record, " --fail " + fail if fail else "")

        def calls():
            if not os.path.exists(record):
                return []
            with open(record) as f:
                return [json.loads(line) for line in f]
        return cmd, calls

    def rights(self, login, mailbox, folder):
        return json.loads(self.run_cli("--json", "explain", login, mailbox, folder)[1])["rights"]

    def send(self, login, address):
        return json.loads(self.run_cli("--json", "explain", login, address, "--send")[1])["right"]


class Create(MailboxCase):
    def test_create_writes_entry_and_folders(self):
        cmd, calls = self.doveadm("create")
        rc, out, err = self.run_cli("mailbox", "create", "sales@example.com", "--name", "Sales",
                                    "--alias", "vertrieb@example.com", "--doveadm", cmd, *self.write)
        self.assertEqual(rc, 0, err)
        dn = "uid=sales," + PEOPLE
        e = self.entry(dn)
        self.assertIsNotNone(e, out)
        self.assertEqual(sorted(e["objectClass"]), ["inetLocalMailRecipient", "inetOrgPerson", "mailSharedMailbox"])
        self.assertEqual(e["mail"], ["sales@example.com"])
        self.assertEqual(e["mailLocalAddress"], ["vertrieb@example.com"])
        self.assertEqual((e["cn"], e["sn"], e["displayName"]), (["Sales"], ["Sales"], ["Sales"]))
        self.assertNotIn("userPassword", e)       # no login of its own
        self.assertNotIn("mailSharedSentCopy", e)  # the site default decides
        self.assertEqual(self.grants_below(dn), [])
        self.assertEqual(calls(), [["mailbox", "create", "-s", "-u", "sales@example.com",
                                    "Drafts", "Sent", "Trash", "Junk"]])
        self.assertIn("created shared mailbox sales@example.com (\"Sales\")", out)
        self.assertIn("folders:   Drafts, Sent, Trash, Junk created", out)
        # the directory now knows it as a shared mailbox, by address and alias
        rc, out, _ = self.run_cli("--json", "mailbox", "list")
        rows = {m["address"]: m for m in json.loads(out)["mailboxes"]}
        self.assertEqual((rows["sales@example.com"]["name"], rows["sales@example.com"]["aliases"],
                          rows["sales@example.com"]["grants"]), ("Sales", ["vertrieb@example.com"], 0))

    def test_create_without_doveadm_leaves_folders_to_the_plugin(self):
        rc, out, err = self.run_cli("mailbox", "create", "billing@example.com", "--name", "Billing",
                                    "--sent-copy", "no", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertIn("Drafts, Sent, Trash, Junk: created by the Dovecot plugin when the mailbox is first opened", out)
        self.assertEqual(self.entry("uid=billing," + PEOPLE)["mailSharedSentCopy"], ["FALSE"])

    def test_create_with_grant_uses_grant(self):
        rc, out, err = self.run_cli("mailbox", "create", "office@example.com", "--name", "Front Office",
                                    "--grant", "$support-team", "--grant", "eve@example.com",
                                    "--rights", "editor", "--send-as", *self.write)
        self.assertEqual(rc, 0, err)
        dn = "uid=office," + PEOPLE
        self.assertEqual(self.grants_below(dn), ["eve", "support-team"])
        self.assertIn("created grant 'support-team' on office@example.com", out)  # grant's own output
        for login in ("bob@example.com", "carol@example.com", "eve@example.com"):  # carol: nested group
            self.assertEqual(self.rights(login, "office@example.com", "Leads"), "lrswipkxte", login)
            self.assertEqual(self.send(login, "office@example.com"), "sendAs", login)
        self.assertEqual(self.rights("dave@example.com", "office@example.com", "INBOX"), "")

    def test_create_with_owner_group(self):
        rc, out, err = self.run_cli("mailbox", "create", "helpline@example.com", "--name", "Helpline",
                                    "--owner-group", "support-team", *self.write)
        self.assertEqual(rc, 0, err)
        dn = "uid=helpline," + PEOPLE
        self.assertEqual(self.grants_below(dn), ["support-team"])
        for login in ("bob@example.com", "carol@example.com"):  # carol: nested group
            self.assertEqual(self.rights(login, "helpline@example.com", "INBOX"), "lrswipkxtea", login)
            self.assertEqual(self.send(login, "helpline@example.com"), "sendAs", login)

    def test_create_json_nests_the_grant(self):
        rc, out, err = self.run_cli("--json", "mailbox", "create", "desk@example.com", "--name", "Desk",
                                    "--grant", "bob", "--rights", "reader", *self.write)
        self.assertEqual(rc, 0, err)
        data = json.loads(out)
        self.assertEqual(data["mailbox"]["dn"], "uid=desk," + PEOPLE)
        self.assertEqual(data["folders"]["created_by"], "plugin")
        self.assertEqual(data["grant"]["action"], "created")
        self.assertEqual(data["grant"]["grant"]["folders"], ["*"])
        self.assertEqual(data["grant"]["grant"]["role"], "reader")
        self.assertEqual(data["grant"]["grant"]["mailbox"], "desk@example.com")

    def test_unknown_grantee_refuses_before_writing(self):
        rc, _, err = self.run_cli("mailbox", "create", "ghost@example.com", "--name", "Ghost",
                                  "--grant", "nobody@example.com", "--rights", "editor", *self.write)
        self.assertEqual(rc, 4, err)
        self.assertIn("no user or group 'nobody@example.com'", err)
        self.assertIsNone(self.entry("uid=ghost," + PEOPLE))
        rc, _, err = self.run_cli("mailbox", "create", "ghost@example.com", "--name", "Ghost",
                                  "--grant", "$no-such-group", "--rights", "editor", *self.write)
        self.assertEqual(rc, 4, err)
        self.assertIn("no group 'no-such-group'", err)
        self.assertIsNone(self.entry("uid=ghost," + PEOPLE))

    def test_refuses_taken_address_alias_or_entry(self):
        before = self.search(PEOPLE, "(objectClass=*)", "sub")
        for args, why in [(("support@example.com",), "address support@example.com is taken: it is the address of "
                                                      "mailbox support@example.com (%s)" % SUPPORT),
                          (("HELP@example.com",), "address HELP@example.com is taken: it is an alias of mailbox "
                                                  "support@example.com"),
                          (("a.smith@example.com",), "an alias of mailbox alice@example.com"),
                          (("new@example.com", "--alias", "bob@example.com"),
                           "address bob@example.com is taken: it is the address of mailbox bob@example.com"),
                          (("alice@elsewhere.example",), "entry uid=alice,%s already exists (alice@example.com)"
                                                         % PEOPLE)]:
            with self.subTest(args=args):
                rc, out, err = self.run_cli("mailbox", "create", *args, "--name", "X", *self.write)
                self.assertEqual(rc, 4, (out, err))
                self.assertIn(why, err)
        self.assertEqual(self.search(PEOPLE, "(objectClass=*)", "sub"), before)  # nothing written

    def test_refuses_a_uid_in_use_elsewhere(self):
        p = subprocess.run(["ldapadd", "-x", "-H", self.slapd.uri, "-D", self.slapd.rootdn, "-y",
                            self.slapd.rootpw_path], capture_output=True, text=True, timeout=30,
                           input="dn: uid=lisa,ou=groups,dc=example,dc=com\nobjectClass: inetOrgPerson\n"
                                 "uid: lisa\ncn: Lisa\nsn: Lisa\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        rc, _, err = self.run_cli("mailbox", "create", "lisa@example.com", "--name", "Lisa", *self.write)
        self.assertEqual(rc, 4, err)
        self.assertIn("uid 'lisa' (the new entry's login) is taken by uid=lisa,ou=groups,dc=example,dc=com", err)
        self.assertIsNone(self.entry("uid=lisa," + PEOPLE))

    def test_ldif_writes_nothing(self):
        cmd, calls = self.doveadm("ldif")
        rc, out, err = self.run_cli("mailbox", "create", "sales-emea@example.com", "--name", "Sales EMEA",
                                    "--alias", "emea@example.com", "--grant", "support-team",
                                    "--rights", "editor", "--send-on-behalf", "--sent-copy", "yes", "--ldif")
        self.assertEqual(rc, 0, err)
        self.golden("mailbox-create.ldif", out)
        self.assertIsNone(self.entry("uid=sales-emea," + PEOPLE))
        rc, _, err = self.run_cli("mailbox", "create", "x@example.com", "--name", "X", "--ldif", "--doveadm", cmd)
        self.assertEqual(rc, 2)
        self.assertEqual(calls(), [])

    def test_doveadm_failure_is_exit_6_and_keeps_the_entry(self):
        cmd, calls = self.doveadm("fail", fail="team@example.com")
        rc, out, err = self.run_cli("mailbox", "create", "team@example.com", "--name", "Team", "--doveadm", cmd,
                                    *self.write)
        self.assertEqual(rc, 6, (out, err))
        self.assertIn("the folders of team@example.com could not be created (Error: User doesn't exist", err)
        self.assertIn("doveadm mailbox create -s -u team@example.com Drafts Sent Trash Junk", err)
        self.assertIsNotNone(self.entry("uid=team," + PEOPLE))
        self.assertEqual(len(calls()), 1)

    def test_team_mailbox_config_names_folders_and_base(self):
        cfg = self.yaml("team.yaml", "team_mailbox:\n  base: ou=groups,dc=example,dc=com\n"
                                     "  sent: Sent Items\n  junk: Spam\n")
        cmd, calls = self.doveadm("config")
        rc, out, err = self.run_cli("mailbox", "create", "hr@example.com", "--name", "HR", "--doveadm", cmd,
                                    *self.write, config=cfg)
        self.assertEqual(rc, 0, err)
        self.assertIsNotNone(self.entry("uid=hr,ou=groups,dc=example,dc=com"))
        self.assertEqual(calls()[0][5:], ["Drafts", "Sent Items", "Trash", "Spam"])
        rc, _, err = self.run_cli("mailbox", "delete", "hr@example.com", *self.write, config=cfg)
        self.assertEqual(rc, 0, err)
        # a base where the directory would never find the mailbox is refused
        cfg = self.yaml("outside.yaml", "users:\n  base: %s\nteam_mailbox:\n  base: ou=groups,dc=example,dc=com\n"
                        % PEOPLE)
        rc, _, err = self.run_cli("mailbox", "create", "hr@example.com", "--name", "HR", *self.write, config=cfg)
        self.assertEqual(rc, 4, err)
        self.assertIn("team_mailbox.base (ou=groups,dc=example,dc=com) is not below the users base (%s)" % PEOPLE, err)
        self.assertIsNone(self.entry("uid=hr,ou=groups,dc=example,dc=com"))


class DeleteAndSet(MailboxCase):
    def create(self, local, *extra):
        rc, _, err = self.run_cli("mailbox", "create", "%s@example.com" % local, "--name", local.title(), *extra,
                                  *self.write)
        self.assertEqual(rc, 0, err)
        return "uid=%s,%s" % (local, PEOPLE)

    def test_delete_refuses_with_grants_and_force_removes_them(self):
        dn = self.create("press", "--grant", "bob", "--grant", "support-team", "--rights", "reader")
        rc, _, err = self.run_cli("mailbox", "delete", "press@example.com", *self.write)
        self.assertEqual(rc, 4)
        self.assertIn("press@example.com still has 2 grants: 'bob' (bob@example.com), "
                      "'support-team' (group support-team); revoke them first, or add --force", err)
        self.assertEqual(self.grants_below(dn), ["bob", "support-team"])
        # --ldif --force: what would go, grants first; nothing goes
        rc, out, err = self.run_cli("mailbox", "delete", "press@example.com", "--force", "--ldif")
        self.assertEqual(rc, 0, err)
        self.assertEqual([l for l in out.splitlines() if l.startswith("dn: ")],
                         ["dn: cn=bob," + dn, "dn: cn=support-team," + dn, "dn: " + dn])
        self.assertIsNotNone(self.entry(dn))
        cmd, calls = self.doveadm("delete")
        rc, out, err = self.run_cli("mailbox", "delete", "press@example.com", "--force", "--doveadm", cmd,
                                    *self.write)
        self.assertEqual(rc, 0, err)
        self.assertIsNone(self.entry(dn))
        self.assertEqual(self.search(PEOPLE, "(mailGrantee=uid=bob,%s)" % PEOPLE, "sub")[0]["cn"],
                         ["projects-bob"])  # bob's other grants stay
        self.assertIn("grants deleted: 'bob' (bob@example.com), 'support-team' (group support-team)", out)
        self.assertIn("mail store:     left on disk in /var/vmail/press@example.com; remove it with: rm -r -- "
                      "'/var/vmail/press@example.com'", out)
        self.assertEqual(calls(), [["user", "-f", "home", "press@example.com"]])

    def test_delete_force_refuses_other_children_before_writing(self):
        dn = self.create("archive", "--grant", "bob", "--rights", "reader")
        subprocess.run(["ldapadd", "-x", "-H", self.slapd.uri, "-D", self.slapd.rootdn, "-y", self.slapd.rootpw_path],
                       input=("dn: ou=notes,%s\nobjectClass: organizationalUnit\nou: notes\n" % dn).encode(),
                       check=True, capture_output=True, timeout=20)
        rc, _, err = self.run_cli("mailbox", "delete", "archive@example.com", "--force", *self.write)
        self.assertEqual(rc, 4, err)
        self.assertIn("archive@example.com has entries below it that are not grants (ou=notes,%s)" % dn, err)
        self.assertIn("nothing was changed", err)
        self.assertEqual(self.grants_below(dn), ["bob"])  # the grant is still there
        self.assertIsNotNone(self.entry(dn))

    def test_delete_without_grants_and_by_alias(self):
        dn = self.create("quiet", "--alias", "hush@example.com")
        rc, out, err = self.run_cli("mailbox", "delete", "hush@example.com", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertIn("deleted shared mailbox quiet@example.com (%s)" % dn, out)
        self.assertIn("mail store:     left on disk (mailgrant deletes no mail); `doveadm user -f home "
                      "quiet@example.com`", out)
        self.assertIsNone(self.entry(dn))

    def test_delete_and_set_refuse_a_person(self):
        for args in (("delete", "alice@example.com", "--force"), ("set", "bob", "--name", "Bobby")):
            with self.subTest(args=args):
                rc, _, err = self.run_cli("mailbox", *args, *self.write)
                self.assertEqual(rc, 4)
                self.assertIn("is not a shared mailbox (no objectClass mailSharedMailbox)", err)
        self.assertIsNotNone(self.entry("uid=alice," + PEOPLE))
        self.assertEqual(self.grants_below("uid=alice," + PEOPLE), ["projects-bob", "vacation-2020"])
        self.assertNotIn("displayName", self.entry("uid=bob," + PEOPLE))
        rc, _, err = self.run_cli("mailbox", "delete", "nobody@example.com", *self.write)
        self.assertEqual(rc, 4)
        self.assertIn("no mailbox 'nobody@example.com'", err)

    def test_set_name_and_sent_copy(self):
        dn = self.create("care")
        rc, out, err = self.run_cli("mailbox", "set", "care@example.com", "--name", "Customer Care",
                                    "--sent-copy", "yes", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "changed shared mailbox care@example.com: name \"Customer Care\", sent copy yes\n")
        e = self.entry(dn)
        self.assertEqual((e["displayName"], e["mailSharedSentCopy"]), (["Customer Care"], ["TRUE"]))
        rc, out, err = self.run_cli("mailbox", "set", "care@example.com", "--sent-copy", "default", "--ldif")
        self.assertEqual((rc, out), (0, "dn: %s\nchangetype: modify\nreplace: mailSharedSentCopy\n-\n\n" % dn), err)
        self.assertEqual(self.entry(dn)["mailSharedSentCopy"], ["TRUE"])  # --ldif wrote nothing
        rc, _, err = self.run_cli("mailbox", "set", "care@example.com", "--sent-copy", "default", *self.write)
        self.assertEqual(rc, 0, err)
        self.assertNotIn("mailSharedSentCopy", self.entry(dn))
        rc, _, err = self.run_cli("mailbox", "set", "care@example.com", "--sent-copy", "default", *self.write)
        self.assertEqual(rc, 0, err)  # already the default: no error
        rc, out, _ = self.run_cli("--json", "mailbox", "list")
        rows = {m["address"]: m for m in json.loads(out)["mailboxes"]}
        self.assertEqual((rows["care@example.com"]["name"], rows["care@example.com"]["sent_copy"]),
                         ("Customer Care", "yes (default)"))


class Pristine(MailboxCase):
    """Read-only: list on the unchanged fixture, usage errors."""

    def test_list_golden(self):
        rc, out, err = self.run_cli("mailbox", "list")
        self.assertEqual(rc, 0, err)
        self.golden("mailbox-list.txt", out)

    def test_usage_errors_exit_2(self):
        for args, msg in [((), "mailbox takes a sub-command"),
                          (("rename", "x"), "unknown mailbox sub-command 'rename'"),
                          (("create", "sales@example.com"), "needs --name"),
                          (("create", "sales", "--name", "S"), "'sales' is not an address"),
                          (("create", "a@b", "--name", "S", "--grant", "bob"), "--grant needs --rights"),
                          (("create", "a@b", "--name", "S", "--rights", "reader"), "add --grant WHO"),
                          (("create", "a@b", "--name", "S", "--sent-copy", "default"), "--sent-copy is yes or no,"),
                          (("create", "a@b", "--name", "S", "--alias", "A@b"), "given twice"),
                          (("delete",), "mailbox delete takes one ADDRESS"),
                          (("set", "a@b"), "needs --name and/or --sent-copy"),
                          (("list", "x"), "takes no arguments")]:
            with self.subTest(args=args):
                rc, out, err = self.run_cli("mailbox", *args)
                self.assertEqual(rc, 2, (out, err))
                self.assertIn(msg, err)

    def test_help(self):
        rc, out, _ = self.run_cli("mailbox", "--help")
        self.assertEqual(rc, 0)
        for word in ("mailbox create ADDRESS --name NAME", "mailbox delete ADDRESS [--force]", "--sasl-external",
                     "Exit codes"):
            self.assertIn(word, out)


if __name__ == "__main__":
    unittest.main()
