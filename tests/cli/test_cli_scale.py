#!/usr/bin/env python3
"""`mailgrant check`, `report` and `list` over a directory larger than every limit a
lookup has (issue 19), against a private real slapd loaded with slapadd.

700 people (more than slapd's 500 per page), 1,500 grants, 20 groups of 30; mailgrant's
ldap.size_limit is 100, so any whole-directory read that were still one ordinary search
would fail. Each verb must read everything (the walks of directory_walk.h), give the
answers the data implies, and do it in a number of LDAP searches that proves how it
read: check in pages (never one read per grant or grantee), report one search per
mailbox (never three), counted in slapd's stats log.
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "harness"))
from slapd_sandbox import Slapd  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
CLI = os.environ.get("MAILGRANT_CLI", os.path.join(REPO, "build", "cli", "mailgrant"))
SUFFIX = "dc=example,dc=com"
PEOPLE, GRANTS, GROUPS, GROUP_SIZE = 700, 1500, 20, 30
# Anonymous reads may page past 500, as the schema README's limits line allows the service account.
LIMITS = "limits anonymous size.prtotal=unlimited size.soft=500 size.hard=500\n"


def person_dn(i):
    return "uid=u%d,ou=people,%s" % (i, SUFFIX)


def group_members(g):
    return [(g * 7 + k * 23) % PEOPLE for k in range(GROUP_SIZE)]


def grant_of(k):
    """(owner, grantee kind, grantee index, expired) of grant k."""
    owner = k % PEOPLE
    if k % 100 == 99:
        return owner, "missing", k, False
    if k % 10 == 3:
        return owner, "group", k % GROUPS, False
    return owner, "person", (owner + 1 + k // PEOPLE) % PEOPLE, k % 50 == 7


def write_ldif(path):
    with open(path, "w") as f:
        f.write("dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n" % SUFFIX)
        for ou in ("people", "groups"):
            f.write("dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n" % (ou, SUFFIX, ou))
        for i in range(PEOPLE):
            f.write("dn: %s\nobjectClass: inetOrgPerson\nuid: u%d\ncn: User %d\nsn: %d\nmail: u%d@example.com\n\n"
                    % (person_dn(i), i, i, i, i))
        for g in range(GROUPS):
            f.write("dn: cn=team%d,ou=groups,%s\nobjectClass: groupOfNames\ncn: team%d\n" % (g, SUFFIX, g))
            for m in group_members(g):
                f.write("member: %s\n" % person_dn(m))
            f.write("\n")
        for k in range(GRANTS):
            owner, kind, index, expired = grant_of(k)
            grantee = {"person": person_dn(index), "group": "cn=team%d,ou=groups,%s" % (index, SUFFIX),
                       "missing": "uid=gone%d,ou=people,%s" % (index, SUFFIX)}[kind]
            f.write("dn: cn=g%d,%s\nobjectClass: mailGrant\ncn: g%d\nmailGrantee: %s\nmailGrantFolder: INBOX\n"
                    "mailGrantRights: reader\n" % (k, person_dn(owner), k, grantee))
            if expired:
                f.write("mailGrantNotAfter: 20200101000000Z\n")
            f.write("\n")


class WholeDirectory(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="mailgrant-cli-scale-")
        os.chmod(cls.tmp.name, 0o755)
        ldif = os.path.join(cls.tmp.name, "directory.ldif")
        write_ldif(ldif)
        cls.slapd = Slapd(os.path.join(cls.tmp.name, "ldap"), acl=LIMITS)
        cls.slapd.start(preload=ldif)
        cls.config = os.path.join(cls.tmp.name, "mailgrant.yaml")
        with open(cls.config, "w") as f:
            f.write("ldap:\n  uris: [%s]\n  base: %s\n  size_limit: 100\n  operation_timeout_ms: 10000\n"
                    % (cls.slapd.uri, SUFFIX))

    @classmethod
    def tearDownClass(cls):
        cls.slapd.stop()
        cls.tmp.cleanup()

    def run_cli(self, *args):
        """(exit code, stdout, stderr, LDAP searches slapd logged meanwhile)."""
        start = os.path.getsize(self.slapd.log_path)
        p = subprocess.run([CLI, "-c", self.config] + list(args), capture_output=True, text=True, timeout=300)
        with open(self.slapd.log_path, "rb") as f:
            f.seek(start)
            searches = sum(1 for line in f if b" SRCH base=" in line)
        return p.returncode, p.stdout, p.stderr, searches

    def test_check_reads_in_pages(self):
        rc, out, err, searches = self.run_cli("--json", "check", "--no-doveadm")
        self.assertEqual(rc, 1, err)  # findings
        result = json.loads(out)
        self.assertEqual(result["grants_checked"], GRANTS)
        kinds = {}
        for finding in result["findings"]:
            kinds.setdefault(finding["kind"], []).append(finding["dn"])
        expected_missing = sorted("cn=g%d,%s" % (k, person_dn(grant_of(k)[0])) for k in range(GRANTS)
                                  if grant_of(k)[1] == "missing")
        expected_expired = sum(1 for k in range(GRANTS) if grant_of(k)[3])
        self.assertEqual(sorted(kinds.get("missing-grantee", [])), expected_missing)
        self.assertEqual(len(kinds.get("expired", [])), expected_expired)
        self.assertEqual(set(kinds), {"missing-grantee", "expired"})
        # Grants in 3 pages, people in 2, groups in 1, and one read per missing grantee
        # (15): not one read per grant or grantee (thousands).
        print("check of %d grants: %d LDAP searches" % (GRANTS, searches), file=sys.stderr)
        self.assertLessEqual(searches, 3 + 2 + 1 + 15 + 2, err)
        # Findings by owner, then grant name, whatever order the server walked in.
        owners = [f["dn"].split(",", 1)[1] for f in result["findings"]]
        self.assertEqual(owners, sorted(owners, key=lambda dn: dn.lower()))

    def expected_access(self, owner):
        """Addresses with access to u<owner>'s INBOX, from the generated data."""
        who = set()
        for k in range(owner, GRANTS, PEOPLE):
            _, kind, index, expired = grant_of(k)
            if expired:
                continue
            if kind == "person":
                who.add("u%d@example.com" % index)
            elif kind == "group":
                who.update("u%d@example.com" % m for m in group_members(index))
            # a grantee that does not exist gives nobody access (check names it)
        return who

    def test_report_one_search_per_mailbox(self):
        rc, out, err, searches = self.run_cli("report", "--no-doveadm", "--format", "csv",
                                              "--columns", "address,access,grants")
        self.assertEqual(rc, 0, err)
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual(len(rows), PEOPLE)
        self.assertEqual([r["address"] for r in rows], sorted(r["address"] for r in rows))
        by_address = {r["address"]: r for r in rows}
        for owner in (0, 3, 13, 99, 699):
            row = by_address["u%d@example.com" % owner]
            shown = {part.split(" (", 1)[0] for part in row["access"].split("; ") if part}  # CSV: "" for none
            self.assertEqual(shown, self.expected_access(owner), row)
            self.assertEqual(sorted(row["grants"].split(", ")),
                             sorted("g%d" % k for k in range(owner, GRANTS, PEOPLE)), row)
        # One search per mailbox (its grants), people in 2 pages, and a few per group or
        # missing grantee for the whole report (described, expanded, asked for as a
        # mailbox once): not three searches per mailbox (2,100: the mailbox, its grants,
        # its grantees) nor one per group member.
        print("report over %d mailboxes: %d LDAP searches" % (PEOPLE, searches), file=sys.stderr)
        self.assertLessEqual(searches, PEOPLE + 2 + 3 * GROUPS + 2 * 15 + 5, err)

    def test_report_formats_stream_the_same_rows(self):
        rc, out, err, _ = self.run_cli("report", "--no-doveadm", "--format", "json", "--columns", "address,grants")
        self.assertEqual(rc, 0, err)
        mailboxes = json.loads(out)["mailboxes"]
        self.assertEqual(len(mailboxes), PEOPLE)
        rc, sorted_out, err, _ = self.run_cli("report", "--no-doveadm", "--format", "json", "--columns", "address,grants",
                                              "--sort", "-address")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(sorted_out)["mailboxes"], list(reversed(mailboxes)))
        rc, table, err, _ = self.run_cli("report", "--no-doveadm", "--columns", "address,grants")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(table.splitlines()), PEOPLE + 2)  # header and rule

    def fake_doveadm(self, name, cases, calls=None):
        """A shell doveadm: `cases` (shell case items) first, then every other mailbox
        listed as INBOX alone and no local ACL; anything else is an error. Each call's
        arguments go to `calls` when given."""
        path = os.path.join(self.tmp.name, name)
        items = cases + ['"mailbox list -u "*) echo INBOX', '*" acl get "*) printf "ID\\tGlobal\\tRights\\n"',
                         '*) echo "unknown: $*" >&2; exit 64']
        with open(path, "w") as f:
            f.write("#!/bin/sh\n" + ('echo "$*" >> %s\n' % calls if calls else "") + 'case "$*" in\n' +
                    "".join("  %s ;;\n" % item for item in items) + "esac\n")
        os.chmod(path, 0o755)
        return path

    def set_idle_timeout(self, seconds):
        """slapd's idletimeout (cn=config): connections with no operation outstanding for
        that long are closed, as sites set it to shed forgotten clients."""
        ldif = os.path.join(self.tmp.name, "idle.ldif")
        with open(ldif, "w") as f:
            f.write("dn: cn=config\nchangetype: modify\nreplace: olcIdleTimeout\nolcIdleTimeout: %d\n" % seconds)
        self.slapd.config_modify(ldif)

    def test_check_with_doveadm_outlives_an_idle_timeout(self):
        # doveadm runs per owner and may take seconds (a big or locked mailbox): while it
        # runs, check's LDAP connection is idle. Between two pages of the grant walk that
        # would end the walk (a page's cookie means nothing on a new connection), so the
        # owners' folders are listed between walks, never inside one.
        calls = os.path.join(self.tmp.name, "doveadm-calls")
        fake = self.fake_doveadm("doveadm", [
            '"mailbox list -u u0@example.com") sleep 3; echo INBOX',
            '"mailbox list -u u1@example.com") echo Archive',  # no INBOX: its grants match nothing
            '"-f flow mailbox status -u u0@example.com "*) sleep 3; echo "INBOX messages=5 unseen=1 vsize=9"',
            '"-f flow mailbox status -u "*) echo "INBOX messages=2 unseen=0 vsize=7"'], calls)
        self.set_idle_timeout(1)
        try:
            start = os.path.getsize(self.slapd.log_path)
            rc, out, err, _ = self.run_cli("--json", "check", "--doveadm", fake)
            # report asks doveadm between whole searches: the next search reconnects.
            rc_report, report, report_err, _ = self.run_cli("report", "--doveadm", fake, "--format", "csv",
                                                            "--columns", "address,messages,grants")
        finally:
            self.set_idle_timeout(0)
        self.assertEqual(rc_report, 0, report_err)
        rows = {r["address"]: r for r in csv.DictReader(io.StringIO(report))}
        self.assertEqual(len(rows), PEOPLE)
        self.assertEqual((rows["u0@example.com"]["messages"], rows["u1@example.com"]["messages"]), ("5", "2"))
        self.assertEqual(sorted(rows["u1@example.com"]["grants"].split(", ")),
                         sorted("g%d" % k for k in range(1, GRANTS, PEOPLE)))
        self.assertEqual(rc, 1, err)  # findings
        result = json.loads(out)
        self.assertEqual(result["grants_checked"], GRANTS, err)
        self.assertIsNone(result["note"], result["note"])  # every folder and local ACL checked
        nothing = sorted(f["dn"] for f in result["findings"] if f["kind"] == "folder-matches-nothing")
        self.assertEqual(nothing, sorted("cn=g%d,%s" % (k, person_dn(1)) for k in range(1, GRANTS, PEOPLE)))
        with open(calls) as f:
            listed = [line.split()[-1] for line in f if line.startswith("mailbox list -u ")]
        self.assertEqual(sorted(listed), sorted("u%d@example.com" % i for i in range(PEOPLE)))  # each owner once
        # slapd did close the idle connection meanwhile (the case this test is about).
        with open(self.slapd.log_path, "rb") as f:
            f.seek(start)
            self.assertIn(b"closed (idletimeout)", f.read())

    def test_check_says_which_grants_came_while_it_listed_folders(self):
        # A mailbox whose first grant is added while check lists the owners' folders
        # (between its two walks) was not listed: its grant is counted, its folder
        # pattern not compared, and the note says so instead of claiming every folder.
        late = "uid=late,ou=people,%s" % SUFFIX
        ldif = os.path.join(self.tmp.name, "late.ldif")
        with open(ldif, "w") as f:
            f.write("dn: %s\nobjectClass: inetOrgPerson\nuid: late\ncn: Late\nsn: Late\nmail: late@example.com\n\n"
                    "dn: cn=late,%s\nobjectClass: mailGrant\ncn: late\nmailGrantee: %s\nmailGrantFolder: Nowhere\n"
                    "mailGrantRights: reader\n" % (late, late, person_dn(0)))
        fake = self.fake_doveadm("doveadm-late", [
            '"mailbox list -u u0@example.com") ldapadd -x -H %s -D "%s" -w "%s" -f %s >&2 || exit 75; echo INBOX'
            % (self.slapd.uri, self.slapd.rootdn, self.slapd.rootpw, ldif)])
        try:
            rc, out, err, _ = self.run_cli("--json", "check", "--doveadm", fake)
        finally:
            subprocess.run(["ldapdelete", "-x", "-H", self.slapd.uri, "-D", self.slapd.rootdn, "-w", self.slapd.rootpw,
                            "cn=late," + late, late], capture_output=True, timeout=20)
        self.assertIn(rc, (0, 1), err)
        result = json.loads(out)
        self.assertEqual(result["grants_checked"], GRANTS + 1, err)
        self.assertIn("folder patterns of 1 grant(s) of mailboxes whose first grant came while check ran",
                      result["note"] or "")
        self.assertNotIn("cn=late," + late, [f["dn"] for f in result["findings"]])

    def test_check_names_the_mailbox_doveadm_failed_for_and_never_reads_a_cut_list(self):
        # u1's listing fails with no word on stderr: the note names u1 and the exit status
        # (it used to end in ": " and name nobody). u2's listing is longer than check
        # keeps (64 MiB): cut, it would lack INBOX and u2's grants would be reported as
        # matching nothing; it counts as not listed instead.
        fake = self.fake_doveadm("doveadm-fails", [
            '"mailbox list -u u1@example.com") exit 75',
            '"mailbox list -u u2@example.com") head -c 67108865 /dev/zero | tr "\\0" x; printf "\\nINBOX\\n"'])
        rc, out, err, _ = self.run_cli("--json", "check", "--doveadm", fake)
        self.assertIn(rc, (0, 1), err)
        result = json.loads(out)
        self.assertEqual(result["grants_checked"], GRANTS, err)
        self.assertIn("not checked for some mailboxes (first u1@example.com: doveadm exited with status 75)",
                      result["note"] or "")
        nothing = [f["dn"] for f in result["findings"] if f["kind"] == "folder-matches-nothing"]
        self.assertEqual(nothing, [])

    def test_list_every_grant(self):
        rc, out, err, searches = self.run_cli("--json", "list")
        self.assertEqual(rc, 0, err)
        names = sorted(int(n[len('"name": "g'):-1]) for n in __import__("re").findall(r'"name": "g[0-9]+"', out))
        self.assertEqual(names, list(range(GRANTS)))
        # Grants in pages, people in pages, and a read per group or missing grantee.
        self.assertLessEqual(searches, 3 + 2 + GROUPS + 15 + 2, err)


if __name__ == "__main__":
    unittest.main()
