// Unit tests of LocalFilter (core/include/mailgrant/local_filter.h): which texts it
// reads, and its three-valued answer on an entry, table-driven. What matters most is
// that it never says True or False where slapd could answer otherwise: those cases are
// Unknown here.
#include <gtest/gtest.h>

#include "mailgrant/local_filter.h"

using namespace mailgrant;

namespace {

LdapEntry person() {
    LdapEntry e;
    e.dn = "uid=alice,ou=people,dc=example,dc=com";
    e.attributes["objectclass"] = {"top", "inetOrgPerson", "inetLocalMailRecipient"};
    e.attributes["mail"] = {"Alice@Example.com"};
    e.attributes["maillocaladdress"] = {"ali@example.com"};
    e.attributes["uid"] = {"alice"};
    e.attributes["cn"] = {"Alice  Liddell"};
    e.attributes["description"] = {"Ärger"};
    e.attributes["manager"] = {"uid=Boss, ou=People,dc=example,dc=com"};
    return e;
}

LdapEntry group() {
    LdapEntry e;
    e.dn = "cn=team,ou=groups,dc=example,dc=com";
    e.attributes["objectclass"] = {"groupOfNames"};
    e.attributes["cn"] = {"team"};
    e.attributes["cn;lang-de"] = {"Mannschaft"};
    e.attributes["sn;lang-de"] = {"x"};
    return e;
}

const std::set<std::string> kRead{"objectclass", "mail", "maillocaladdress", "uid", "cn", "sn", "description", "manager"};
const char* kMember = "(|(&(objectClass=groupOfNames)(member=uid=bob,ou=people,dc=example,dc=com))"
                      "(&(objectClass=groupOfUniqueNames)(uniqueMember=uid=bob,ou=people,dc=example,dc=com)))";

struct Case {
    const char* filter;
    bool of_group;  // evaluated on group() instead of person()
    Truth want;
};

class Evaluates : public ::testing::TestWithParam<Case> {};

TEST_P(Evaluates, AsSlapdWouldOrUnknown) {
    const Case& c = GetParam();
    const auto f = LocalFilter::parse(c.filter);
    ASSERT_TRUE(f) << c.filter;
    EXPECT_EQ(static_cast<int>(f->evaluate(c.of_group ? group() : person(), kRead)), static_cast<int>(c.want))
        << c.filter;
}

constexpr auto T = Truth::True;
constexpr auto F = Truth::False;
constexpr auto U = Truth::Unknown;

INSTANTIATE_TEST_SUITE_P(
    Table, Evaluates,
    ::testing::Values(
        // the default address filter: case-insensitive, either attribute
        Case{"(|(mail=alice@example.com)(mailLocalAddress=alice@example.com))", false, T},
        Case{"(|(mail=ali@example.com)(mailLocalAddress=ali@example.com))", false, T},
        Case{"(|(mail=bob@example.com)(mailLocalAddress=bob@example.com))", false, F},
        Case{"(|(mail=bob@example.com)(mailLocalAddress=bob@example.com))", true, F},  // read, absent
        Case{"(mail=alice@example.com)", false, T},
        Case{"(mail=alice\\40example.com)", false, T},  // \40 is '@'
        // an attribute not read: Unknown, never absent
        Case{"(givenName=Alice)", false, U},
        Case{"(givenName=*)", false, U},
        Case{"(mail=*)", false, T},
        Case{"(mail=*)", true, F},
        Case{"(objectClass=*)", true, T},
        // objectClass: listed is True; not listed is Unknown (a subclass may be listed),
        // under a negation too
        Case{"(objectClass=inetorgperson)", false, T},
        Case{"(objectClass=groupOfNames)", false, U},
        Case{"(!(objectClass=groupOfNames))", false, U},
        Case{"(!(!(objectClass=groupOfNames)))", false, U},
        // the default member filter, member lists not read: Unknown for a group, and for a
        // person too (its objectClass is not listed, but a subclass might be)
        Case{kMember, true, U},
        Case{kMember, false, U},
        // Kleene logic
        Case{"(&(mail=bob@example.com)(givenName=x))", false, F},
        Case{"(&(mail=alice@example.com)(givenName=x))", false, U},
        Case{"(|(mail=alice@example.com)(givenName=x))", false, T},
        Case{"(|(mail=bob@example.com)(givenName=x))", false, U},
        Case{"(!(mail=bob@example.com))", false, T},
        Case{"(!(givenName=x))", false, U},
        Case{"(&)", false, T},
        Case{"(|)", false, F},
        // what only slapd can settle: substrings, ordering, approximate, extensible, options
        Case{"(mail=alice*)", false, U},
        Case{"(uid>=a)", false, U},
        Case{"(uid~=alice)", false, U},
        Case{"(uid:caseExactMatch:=alice)", false, U},
        Case{"(entryDN:dnSubtreeMatch:=ou=people,dc=example,dc=com)", false, U},
        Case{"(mail;lang-en=alice@example.com)", false, U},
        // values slapd might equate though the bytes differ: spaces, Unicode case, DNs
        Case{"(cn=Alice Liddell)", false, U},
        Case{"(cn=Bob)", false, F},
        Case{"(description=\\c3\\a4rger)", false, U},  // "ärger": Unicode case folding
        Case{"(description=\\c3\\84rger)", false, T},  // the same bytes
        Case{"(manager=uid=boss,ou=people,dc=example,dc=com)", false, U},
        Case{"(manager=uid=Boss, ou=People,dc=example,dc=com)", false, T},
        Case{"(manager=uid=carol,ou=people,dc=example,dc=com)", false, F},
        // values returned with an option: (cn=x) matches "cn;lang-de: x" in slapd
        Case{"(cn=mannschaft)", true, T},
        Case{"(cn=Team)", true, T},
        Case{"(cn=other)", true, F},
        Case{"(sn=*)", true, T},
        Case{"(sn=*)", false, F}));

TEST(LocalFilter, ReadsOnlyFilters) {
    for (const char* bad : {"", "mail=x", "(mail=x", "(mail=x))", "(=x)", "(mail=x\\4)", "(mail=x\\zz)",
                            "(!(a=b)(c=d))", "(!)", "(&(a=b)", "(m ail=x)", "(mail)", "((mail=x))", "(|(a=b)x)"}) {
        EXPECT_FALSE(LocalFilter::parse(bad)) << bad;
    }
    for (const char* good : {"(a=b)", "(&(a=b)(!(c=*)))", "(1.2.3=x)", "(:dn:2.4.6.8.10:=Dino)", "(a=\\2a)"})
        EXPECT_TRUE(LocalFilter::parse(good)) << good;
}

TEST(LocalFilter, BoundsItsInput) {
    std::string deep;
    for (int i = 0; i <= LocalFilter::kMaxDepth; ++i) deep += "(!";
    deep += "(a=b)";
    for (int i = 0; i <= LocalFilter::kMaxDepth; ++i) deep += ")";
    EXPECT_FALSE(LocalFilter::parse(deep));  // one level too deep
    EXPECT_TRUE(LocalFilter::parse(deep.substr(2, deep.size() - 3)));
    EXPECT_FALSE(LocalFilter::parse("(a=" + std::string(LocalFilter::kMaxLength, 'x') + ")"));
}

TEST(LocalFilter, NamesItsAttributesOnce) {
    const auto f = LocalFilter::parse("(|(mail=x)(&(MAIL=y)(mailLocalAddress=*))(uid>=a)(!(objectClass=z)))");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->attributes(), (std::vector<std::string>{"mail", "maillocaladdress", "uid", "objectclass"}));
}

}  // namespace
