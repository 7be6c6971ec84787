#!/usr/bin/env python3
"""The mailgrant schema in both formats (slapd.conf include, cn=config LDIF).

Starts a private slapd per test on 127.0.0.1 (tests/harness/slapd_sandbox.py),
loads tests/fixtures/org.ldif and every-attribute.ldif and checks the matching
rules (DN equality, GeneralizedTime ordering, caseExact substrings) and the
schema checks (MUST mailGrantee, GeneralizedTime syntax). Also checks that
mailgrant.schema and mailgrant.ldif hold exactly the same definitions.
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

FIXTURES = os.path.join(REPO, "tests", "fixtures")
ORG_LDIF = os.path.join(FIXTURES, "org.ldif")
EVERY_LDIF = os.path.join(FIXTURES, "every-attribute.ldif")
SCHEMA = os.path.join(REPO, "ldap-schema", "mailgrant.schema")
SCHEMA_LDIF = os.path.join(REPO, "ldap-schema", "mailgrant.ldif")

BASE = "dc=example,dc=com"
PEOPLE = "ou=people," + BASE


def dn(rdn):
    return rdn + "," + PEOPLE


# ---- schema file parsing ------------------------------------------------
def _split_definitions(text):
    """Yield (keyword, '( ... )') for each definition; quotes may hold parens."""
    i, n = 0, len(text)
    kw_re = re.compile(r"(attributetype|objectclass)\s*(?=\()", re.I)
    while True:
        m = kw_re.search(text, i)
        if not m:
            return
        j = m.end()
        depth, k, in_q = 0, j, False
        while k < n:
            c = text[k]
            if in_q:
                if c == "'":
                    in_q = False
            elif c == "'":
                in_q = True
            elif c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        if depth != 0:
            raise ValueError("unbalanced definition at offset %d" % j)
        yield m.group(1).lower(), text[j:k + 1]
        i = k + 1


def _norm(defn):
    d = re.sub(r"\s+", " ", defn.strip())
    d = re.sub(r"\(\s*", "( ", d)
    d = re.sub(r"\s*\)", " )", d)
    return d


def parse_schema_file(path):
    with open(path) as f:
        text = "\n".join(l for l in f.read().splitlines() if not l.lstrip().startswith("#"))
    return {(kw, _norm(d)) for kw, d in _split_definitions(text)}


def parse_schema_ldif(path):
    with open(path) as f:
        raw = [l for l in f.read().splitlines() if not l.startswith("#")]
    lines = []
    for l in raw:                       # RFC 2849 unfolding
        if l.startswith(" ") and lines:
            lines[-1] += l[1:]
        else:
            lines.append(l)
    kinds = {"olcattributetypes": "attributetype", "olcobjectclasses": "objectclass"}
    out, dns = set(), []
    for l in lines:
        if ":" not in l:
            continue
        name, value = l.split(":", 1)
        if name.lower() == "dn":
            dns.append(value.strip())
        if name.lower() in kinds:
            value = re.sub(r"^\{\d+\}", "", value.strip())
            out.add((kinds[name.lower()], _norm(value)))
    return out, dns


# ---- LDAP client helpers -------------------------------------------------
def ldap(tool, s, *args, input_text=None):
    argv = [tool, "-x", "-H", s.uri, "-D", s.rootdn, "-y", s.rootpw_path] + list(args)
    return subprocess.run(argv, input=input_text, capture_output=True, text=True, timeout=30)


def search_dns(s, flt, base=BASE):
    p = ldap("ldapsearch", s, "-LLL", "-o", "ldif-wrap=no", "-b", base, flt, "1.1")
    if p.returncode != 0:
        raise AssertionError("ldapsearch %s failed (%d): %s" % (flt, p.returncode, p.stderr))
    return {l[4:].strip().lower() for l in p.stdout.splitlines() if l.lower().startswith("dn: ")}


class SchemaDefinitionsIdentical(unittest.TestCase):
    def test_schema_and_ldif_define_the_same(self):
        conf = parse_schema_file(SCHEMA)
        olc, dns = parse_schema_ldif(SCHEMA_LDIF)
        self.assertEqual(dns, ["cn=mailgrant,cn=schema,cn=config"])
        self.assertEqual(sum(1 for k, _ in conf if k == "attributetype"), 8)
        self.assertEqual(sum(1 for k, _ in conf if k == "objectclass"), 2)
        self.assertEqual(conf, olc,
                         "\nonly in .schema: %s\nonly in .ldif: %s" % (conf - olc, olc - conf))

    def test_fixture_uses_every_definition(self):
        names = set()
        for _kw, d in parse_schema_file(SCHEMA):
            names.add(re.search(r"NAME '([^']+)'", d).group(1).lower())
        with open(EVERY_LDIF) as f:
            used = set()
            for l in f:
                if l.startswith("#") or ":" not in l:
                    continue
                attr, val = l.split(":", 1)
                used.add(attr.strip().lower())
                if attr.strip().lower() == "objectclass":
                    used.add(val.strip().lower())
        self.assertEqual(names - used, set())


class _FormatBase:
    FMT = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="mailgrant-schema-%s-" % self.FMT, dir="/tmp")
        self.s = slapd_sandbox.Slapd(self.tmp, fmt=self.FMT)
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.s.start()

    def tearDown(self):
        self.s.stop()

    def load_both(self):
        self.s.load_ldif(ORG_LDIF)
        self.s.load_ldif(EVERY_LDIF)

    def test_listens_on_loopback(self):
        self.assertTrue(self.s.uri.startswith("ldap://127.0.0.1:"))

    def test_load_and_search(self):
        self.load_both()
        grants = search_dns(self.s, "(objectClass=mailGrant)")
        self.assertEqual(len(grants), 8, grants)

        # DN equality, with a differently spelled DN (distinguishedNameMatch).
        for spelling in ("uid=bob,ou=people,dc=example,dc=com",
                         "UID=Bob, OU=People, DC=Example, DC=Com"):
            self.assertEqual(search_dns(self.s, "(mailGrantee=%s)" % spelling),
                             {dn("cn=projects-bob,uid=alice"),
                              "cn=all-attributes,cn=sales," + PEOPLE})
        self.assertEqual(search_dns(self.s, "(&(objectClass=mailGrant)"
                                    "(mailGrantee=cn=support-team,ou=groups,dc=example,dc=com))"),
                         {dn("cn=team,uid=support"), "cn=all-attributes,cn=sales," + PEOPLE})

        # GeneralizedTime ordering.
        self.assertEqual(search_dns(self.s, "(mailGrantNotAfter>=20210101000000Z)"),
                         {"cn=all-attributes,cn=sales," + PEOPLE, dn("cn=letters-eve,uid=bob")})
        self.assertEqual(search_dns(self.s, "(mailGrantNotAfter<=20210101000000Z)"),
                         {dn("cn=vacation-2020,uid=alice")})
        self.assertEqual(search_dns(self.s, "(&(mailGrantNotBefore<=20220101000000Z)"
                                    "(mailGrantNotAfter>=20220101000000Z))"),
                         {"cn=all-attributes,cn=sales," + PEOPLE})   # letters-eve has no NotBefore
        self.assertEqual(search_dns(self.s, "(mailGrantNotBefore=20200101000000Z)"),
                         {dn("cn=vacation-2020,uid=alice")})

        # caseExact substrings on folders.
        self.assertEqual(search_dns(self.s, "(mailGrantFolder=Proj*)"),
                         {dn("cn=projects-bob,uid=alice")})
        self.assertEqual(search_dns(self.s, "(mailGrantFolder=proj*)"), set())
        self.assertEqual(search_dns(self.s, "(mailGrantFolder=*/2021)"),
                         {"cn=all-attributes,cn=sales," + PEOPLE})
        self.assertEqual(search_dns(self.s, "(mailGrantFolder=\\2a)"), {dn("cn=team,uid=support")})

        # caseIgnore on rights and send.
        self.assertEqual(search_dns(self.s, "(mailGrantRights=EDITOR)"),
                         {dn("cn=team,uid=support"), "cn=all-attributes,cn=sales," + PEOPLE})
        self.assertEqual(search_dns(self.s, "(mailGrantSend=sendonbehalf)"),
                         {dn("cn=vacation-2020,uid=alice"), dn("cn=behalf-dave,uid=carol"),
                          "cn=all-attributes,cn=sales," + PEOPLE})

        # The shared mailbox class, and grants found one level below their owner.
        self.assertEqual(search_dns(self.s, "(objectClass=mailSharedMailbox)"),
                         {dn("uid=support"), "cn=sales," + PEOPLE})
        self.assertEqual(search_dns(self.s, "(objectClass=mailGrant)",
                                    base="cn=sales," + PEOPLE) - {"cn=sales," + PEOPLE},
                         {"cn=all-attributes,cn=sales," + PEOPLE, "cn=invite-dave,cn=sales," + PEOPLE})
        # An invitation not accepted yet (booleanMatch: any case of TRUE).
        self.assertEqual(search_dns(self.s, "(mailGrantPending=TRUE)"), {"cn=invite-dave,cn=sales," + PEOPLE})
        # misc.schema alias lookups.
        self.assertEqual(search_dns(self.s, "(mailLocalAddress=HELP@example.com)"),
                         {dn("uid=support")})

    def _add(self, ldif):
        return ldap("ldapadd", self.s, input_text=ldif)

    def test_rejects_grant_without_grantee(self):
        self.s.load_ldif(ORG_LDIF)
        p = self._add("dn: cn=nograntee,%s\nobjectClass: mailGrant\ncn: nograntee\n"
                      "mailGrantFolder: INBOX\n" % dn("uid=alice"))
        self.assertEqual(p.returncode, 65, p.stderr)          # objectClassViolation
        self.assertIn("mailGrantee", p.stderr)

    def test_rejects_bad_generalized_time(self):
        self.s.load_ldif(ORG_LDIF)
        for bad in ("2021-01-01", "20211301000000Z", "yesterday"):
            p = self._add("dn: cn=badtime,%s\nobjectClass: mailGrant\ncn: badtime\n"
                          "mailGrantee: %s\nmailGrantNotAfter: %s\n" % (dn("uid=alice"), dn("uid=bob"), bad))
            self.assertEqual(p.returncode, 21, (bad, p.stderr))   # invalidAttributeSyntax

    def test_rejects_second_rights_value(self):
        self.s.load_ldif(ORG_LDIF)
        p = self._add("dn: cn=tworights,%s\nobjectClass: mailGrant\ncn: tworights\n"
                      "mailGrantee: %s\nmailGrantRights: reader\nmailGrantRights: admin\n"
                      % (dn("uid=alice"), dn("uid=bob")))
        self.assertEqual(p.returncode, 19, p.stderr)          # constraintViolation (SINGLE-VALUE)

    def test_sent_copy_switch_on_shared_mailboxes(self):
        # mailSharedSentCopy: BOOLEAN (booleanMatch), one value, allowed by mailSharedMailbox
        # only -- a person's entry cannot carry it.
        self.load_both()
        self.assertEqual(search_dns(self.s, "(mailSharedSentCopy=TRUE)"), {"cn=sales," + PEOPLE})
        self.assertEqual(search_dns(self.s, "(mailSharedSentCopy=FALSE)"), set())
        p = ldap("ldapmodify", self.s, input_text="dn: %s\nchangetype: modify\nadd: mailSharedSentCopy\n"
                 "mailSharedSentCopy: FALSE\n" % dn("uid=support"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(search_dns(self.s, "(mailSharedSentCopy=FALSE)"), {dn("uid=support")})
        p = ldap("ldapmodify", self.s, input_text="dn: %s\nchangetype: modify\nreplace: mailSharedSentCopy\n"
                 "mailSharedSentCopy: yes\n" % dn("uid=support"))
        self.assertEqual(p.returncode, 21, p.stderr)          # invalidAttributeSyntax: TRUE or FALSE only
        p = ldap("ldapmodify", self.s, input_text="dn: %s\nchangetype: modify\nadd: mailSharedSentCopy\n"
                 "mailSharedSentCopy: TRUE\n" % dn("uid=support"))
        self.assertNotEqual(p.returncode, 0, "a second value was accepted")
        p = ldap("ldapmodify", self.s, input_text="dn: %s\nchangetype: modify\nadd: mailSharedSentCopy\n"
                 "mailSharedSentCopy: TRUE\n" % dn("uid=alice"))
        self.assertEqual(p.returncode, 65, p.stderr)          # objectClassViolation: not a shared mailbox

    def test_grant_is_valid_below_any_mailbox(self):
        self.load_both()
        p = self._add("dn: cn=ok,%s\nobjectClass: mailGrant\ncn: ok\nmailGrantee: %s\n"
                      % (dn("uid=eve"), dn("uid=dave")))
        self.assertEqual(p.returncode, 0, p.stderr)


class ConfFormat(_FormatBase, unittest.TestCase):
    FMT = "conf"

    def test_config_includes_schema_file(self):
        with open(self.s.conf_path) as f:
            includes = [l.split(None, 1)[1] for l in f.read().splitlines() if l.startswith("include ")]
        self.assertIn(os.path.realpath(SCHEMA), [os.path.realpath(i) for i in includes])


class CnConfigFormat(_FormatBase, unittest.TestCase):
    FMT = "cnconfig"

    def test_schema_loaded_into_cn_config(self):
        p = subprocess.run(["ldapsearch", "-Q", "-LLL", "-Y", "EXTERNAL", "-H", self.s.ldapi_uri,
                            "-b", "cn=schema,cn=config", "-o", "ldif-wrap=no",
                            "(cn={*}mailgrant)", "olcAttributeTypes", "olcObjectClasses"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.count("olcAttributeTypes:"), 8, p.stdout)
        self.assertEqual(p.stdout.count("olcObjectClasses:"), 2, p.stdout)


if __name__ == "__main__":
    unittest.main()
