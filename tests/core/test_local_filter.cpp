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
    ObjectClassRule rule;
    Truth want;
};

class Evaluates : public ::testing::TestWithParam<Case> {};

TEST_P(Evaluates, AsSlapdWouldOrUnknown) {
    const Case& c = GetParam();
    const auto f = LocalFilter::parse(c.filter);
    ASSERT_TRUE(f) << c.filter;
    EXPECT_EQ(static_cast<int>(f->evaluate(c.of_group ? group() : person(), kRead, c.rule)), static_cast<int>(c.want))
        << c.filter;
}

constexpr auto S = ObjectClassRule::Strict;
constexpr auto L = ObjectClassRule::Listed;
constexpr auto T = Truth::True;
constexpr auto F = Truth::False;
constexpr auto U = Truth::Unknown;

INSTANTIATE_TEST_SUITE_P(
    Table, Evaluates,
    ::testing::Values(
        // the default address filter: case-insensitive, either attribute
        Case{"(|(mail=alice@example.com)(mailLocalAddress=alice@example.com))", false, S, T},
        Case{"(|(mail=ali@example.com)(mailLocalAddress=ali@example.com))", false, S, T},
        Case{"(|(mail=bob@example.com)(mailLocalAddress=bob@example.com))", false, S, F},
        Case{"(|(mail=bob@example.com)(mailLocalAddress=bob@example.com))", true, S, F},  // read, absent
        Case{"(mail=alice@example.com)", false, S, T},
        Case{"(mail=alice\\40example.com)", false, S, T},  // \40 is '@'
        // an attribute not read: Unknown, never absent
        Case{"(givenName=Alice)", false, S, U},
        Case{"(givenName=*)", false, S, U},
        Case{"(mail=*)", false, S, T},
        Case{"(mail=*)", true, S, F},
        Case{"(objectClass=*)", true, S, T},
        // objectClass: listed is True; not listed is Unknown (a subclass may be listed),
        // or False under Listed outside a negation
        Case{"(objectClass=inetorgperson)", false, S, T},
        Case{"(objectClass=groupOfNames)", false, S, U},
        Case{"(objectClass=groupOfNames)", false, L, F},
        Case{"(!(objectClass=groupOfNames))", false, L, U},
        Case{"(!(!(objectClass=groupOfNames)))", false, L, F},
        // the default member filter: a person is no group of anyone's (Listed); a group's
        // member list was not read
        Case{kMember, false, L, F},
        Case{kMember, true, L, U},
        Case{kMember, false, S, U},
        // Kleene logic
        Case{"(&(mail=bob@example.com)(givenName=x))", false, S, F},
        Case{"(&(mail=alice@example.com)(givenName=x))", false, S, U},
        Case{"(|(mail=alice@example.com)(givenName=x))", false, S, T},
        Case{"(|(mail=bob@example.com)(givenName=x))", false, S, U},
        Case{"(!(mail=bob@example.com))", false, S, T},
        Case{"(!(givenName=x))", false, S, U},
        Case{"(&)", false, S, T},
        Case{"(|)", false, S, F},
        // what only slapd can settle: substrings, ordering, approximate, extensible, options
        Case{"(mail=alice*)", false, S, U},
        Case{"(uid>=a)", false, S, U},
        Case{"(uid~=alice)", false, S, U},
        Case{"(uid:caseExactMatch:=alice)", false, S, U},
        Case{"(entryDN:dnSubtreeMatch:=ou=people,dc=example,dc=com)", false, S, U},
        Case{"(mail;lang-en=alice@example.com)", false, S, U},
        // values slapd might equate though the bytes differ: spaces, Unicode case, DNs
        Case{"(cn=Alice Liddell)", false, S, U},
        Case{"(cn=Bob)", false, S, F},
        Case{"(description=\\c3\\a4rger)", false, S, U},  // "ärger": Unicode case folding
        Case{"(description=\\c3\\84rger)", false, S, T},  // the same bytes
        Case{"(manager=uid=boss,ou=people,dc=example,dc=com)", false, S, U},
        Case{"(manager=uid=Boss, ou=People,dc=example,dc=com)", false, S, T},
        Case{"(manager=uid=carol,ou=people,dc=example,dc=com)", false, S, F},
        // values returned with an option: (cn=x) matches "cn;lang-de: x" in slapd
        Case{"(cn=mannschaft)", true, S, T},
        Case{"(cn=Team)", true, S, T},
        Case{"(cn=other)", true, S, F},
        Case{"(sn=*)", true, S, T},
        Case{"(sn=*)", false, S, F}));

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
