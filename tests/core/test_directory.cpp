// Unit tests for directory.h against a recording searcher: which filters are sent, that
// values are escaped, how groups nest, and that ambiguity is an error.
#include "mailgrant/directory.h"

#include <gtest/gtest.h>

#include "fakes.h"
#include "mailgrant/config.h"

using namespace mailgrant;
using mailgrant::testing::entry;
using mailgrant::testing::RecordingSearcher;

namespace {

class DirectoryTest : public ::testing::Test {
protected:
    DirectoryTest() { config.ldap.base = "dc=example,dc=com"; }
    Config config;
    RecordingSearcher ldap;
};

TEST_F(DirectoryTest, LoginFilterEscapesInjection) {
    LdapDirectory dir(config, ldap);
    EXPECT_FALSE(dir.find_login("*)(uid=*"));
    ASSERT_EQ(ldap.requests.size(), 1u);
    EXPECT_EQ(ldap.requests[0].filter,
              "(&(objectClass=inetOrgPerson)(|(uid=\\2a\\29\\28uid=\\2a)(mail=\\2a\\29\\28uid=\\2a)))");
    EXPECT_EQ(ldap.requests[0].base, "dc=example,dc=com");
}

TEST_F(DirectoryTest, AccountCollectsMailAndAliasesAndSharedFlag) {
    ldap.answer = [](const SearchRequest&) {
        return std::vector<LdapEntry>{entry("uid=support,dc=example,dc=com",
                                            {{"objectClass", {"inetOrgPerson", "MailSharedMailbox"}},
                                             {"mail", {"support@example.com"}},
                                             {"mailLocalAddress", {"help@example.com", "SUPPORT@example.com"}}})};
    };
    LdapDirectory dir(config, ldap);
    const auto a = dir.find_mailbox("help@example.com");
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->shared_mailbox);
    EXPECT_EQ(a->addresses, (std::vector<std::string>{"support@example.com", "help@example.com"}));
    EXPECT_TRUE(a->owns_address("Help@Example.COM"));
    EXPECT_EQ(ldap.requests[0].filter, "(|(mail=help@example.com)(mailLocalAddress=help@example.com))");
}

TEST_F(DirectoryTest, MailboxByDnIsABaseSearch) {
    LdapDirectory dir(config, ldap);
    dir.find_mailbox("uid=alice,ou=people,dc=example,dc=com");
    ASSERT_EQ(ldap.requests.size(), 1u);
    EXPECT_EQ(ldap.requests[0].scope, SearchScope::Base);
    EXPECT_EQ(ldap.requests[0].base, "uid=alice,ou=people,dc=example,dc=com");
}

TEST_F(DirectoryTest, AmbiguousLoginIsAnErrorNotAChoice) {
    ldap.answer = [](const SearchRequest&) {
        return std::vector<LdapEntry>{entry("uid=a,dc=x", {{"mail", {"a@x"}}}), entry("uid=b,dc=x", {{"mail", {"a@x"}}})};
    };
    LdapDirectory dir(config, ldap);
    EXPECT_THROW(dir.find_login("a@x"), LdapError);
}

TEST_F(DirectoryTest, OverlongNamesAreRefusedBeforeSearching) {
    LdapDirectory dir(config, ldap);
    EXPECT_THROW(dir.find_login(std::string(400, 'a')), LdapError);
    EXPECT_THROW(dir.find_login(""), LdapError);
    EXPECT_TRUE(ldap.requests.empty());
}

// Groups as a graph: member lists by group DN. A <-> B is a cycle; C is nested 3 deep.
std::vector<LdapEntry> answer_groups(const SearchRequest& r) {
    const std::map<std::string, std::vector<std::string>> groups{
        {"cn=a,dc=x", {"uid=u,dc=x", "cn=b,dc=x"}},
        {"cn=b,dc=x", {"cn=a,dc=x"}},
        {"cn=c,dc=x", {"cn=b,dc=x"}},
        {"cn=d,dc=x", {"cn=c,dc=x"}},
    };
    std::vector<LdapEntry> out;
    for (const auto& [dn, members] : groups)
        for (const auto& m : members)
            if (r.filter.find("(member=" + m + ")") != std::string::npos) {
                out.push_back(entry(dn, {{"member", members}}));
                break;
            }
    return out;
}

TEST_F(DirectoryTest, NestedGroupsWithCycleAndPaths) {
    ldap.answer = answer_groups;
    LdapDirectory dir(config, ldap);
    const auto groups = dir.groups_of("uid=u,dc=x");
    ASSERT_EQ(groups.size(), 4u);
    EXPECT_EQ(groups[0].dn, "cn=a,dc=x");
    EXPECT_EQ(groups[0].path, (std::vector<std::string>{"cn=a,dc=x"}));
    EXPECT_EQ(groups[3].dn, "cn=d,dc=x");
    EXPECT_EQ(groups[3].path, (std::vector<std::string>{"cn=a,dc=x", "cn=b,dc=x", "cn=c,dc=x", "cn=d,dc=x"}));
    // The walk ends: one search per level, and the cycle back to A is not followed twice.
    EXPECT_LE(ldap.requests.size(), 5u);
}

TEST_F(DirectoryTest, DepthLimitStopsTheWalk) {
    config.groups.max_depth = 2;
    ldap.answer = answer_groups;
    LdapDirectory dir(config, ldap);
    const auto groups = dir.groups_of("uid=u,dc=x");
    ASSERT_EQ(groups.size(), 2u);  // a, then b; c and d are deeper
    EXPECT_EQ(ldap.requests.size(), 2u);
}

TEST_F(DirectoryTest, MemberOfMode) {
    config.groups.membership = MembershipMode::MemberOf;
    ldap.answer = [](const SearchRequest& r) {
        if (r.base == "uid=u,dc=x") return std::vector<LdapEntry>{entry(r.base, {{"memberOf", {"cn=a,dc=x"}}})};
        if (r.base == "cn=a,dc=x") return std::vector<LdapEntry>{entry(r.base, {{"memberOf", {"cn=b,dc=x", "uid=u,dc=x"}}})};
        if (r.base == "cn=b,dc=x") return std::vector<LdapEntry>{entry(r.base, {{"memberOf", {"cn=a,dc=x"}}})};
        return std::vector<LdapEntry>{};
    };
    LdapDirectory dir(config, ldap);
    const auto groups = dir.groups_of("uid=u,dc=x");
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(groups[1].path, (std::vector<std::string>{"cn=a,dc=x", "cn=b,dc=x"}));
}

TEST_F(DirectoryTest, GrantsOfIsOneLevelBelowTheMailbox) {
    LdapDirectory dir(config, ldap);
    dir.grants_of("uid=alice,ou=people,dc=example,dc=com");
    ASSERT_EQ(ldap.requests.size(), 1u);
    EXPECT_EQ(ldap.requests[0].scope, SearchScope::OneLevel);
    EXPECT_EQ(ldap.requests[0].filter, "(objectClass=mailGrant)");
}

TEST_F(DirectoryTest, GrantsToIsOneEscapedSearch) {
    LdapDirectory dir(config, ldap);
    dir.grants_to({"uid=bob,dc=x", "cn=a\\,b,dc=x"});
    ASSERT_EQ(ldap.requests.size(), 1u);
    EXPECT_EQ(ldap.requests[0].filter, "(&(objectClass=mailGrant)(|(mailGrantee=uid=bob,dc=x)(mailGrantee=cn=a\\5c,b,dc=x)))");
}

TEST_F(DirectoryTest, SchemaMappingChangesAttributeNames) {
    config.schema.grant_object_class = "kolabDelegate";
    config.schema.grantee = "delegate";
    LdapDirectory dir(config, ldap);
    dir.grants_to({"uid=bob,dc=x"});
    EXPECT_EQ(ldap.requests[0].filter, "(&(objectClass=kolabDelegate)(delegate=uid=bob,dc=x))");
}

}  // namespace
