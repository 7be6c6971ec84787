// Unit tests for core/src/member_of_walk.cpp (LdapDirectory::sender_facts_for and
// groups_and_grants_for in groups.membership memberof) against a recording searcher: the
// login search reads the user's memberOf, the searches' filters, how each entry's part is proved, the next
// level's search, and every case where the questions are asked one by one instead.
// tests/core/integration/test_member_of.cpp compares it with the questions one by one
// against a real slapd with the memberof overlay.
#include <gtest/gtest.h>

#include <ldap.h>

#include <algorithm>
#include <cctype>
#include <functional>

#include "fakes.h"
#include "mailgrant/config.h"
#include "mailgrant/directory.h"
#include "mailgrant/ldap_error.h"

using namespace mailgrant;
using mailgrant::testing::entry;
using mailgrant::testing::RecordingSearcher;

namespace {

const std::string kBob = "uid=bob,dc=example,dc=com";
const std::string kAlice = "uid=alice,dc=example,dc=com";
const std::string kTeam = "cn=team,dc=example,dc=com";
const std::string kAddress = "(|(mail=alice@example.com)(mailLocalAddress=alice@example.com))";

class MemberOfSender : public ::testing::Test {
protected:
    MemberOfSender() {
        config.ldap.base = "dc=example,dc=com";
        config.groups.membership = MembershipMode::MemberOf;
    }
    Account bob(std::vector<std::string> groups) {
        Account a(kBob, {"bob@example.com"}, false);
        a.direct_groups = std::move(groups);
        return a;
    }
    Config config;
    RecordingSearcher ldap;
};

LdapEntry alice_entry() { return entry(kAlice, {{"objectClass", {"inetOrgPerson"}}, {"mail", {"alice@example.com"}}}); }

LdapEntry send_grant(const std::string& dn, const std::string& grantee) {
    return entry(dn, {{"objectClass", {"mailGrant"}}, {"cn", {"g"}}, {"mailGrantee", {grantee}}, {"mailGrantSend", {"sendAs"}}});
}

TEST_F(MemberOfSender, TheLoginSearchReadsMemberOfInMemberOfModeOnly) {
    ldap.answer = [](const SearchRequest& r) {
        const bool asked = std::find(r.attributes.begin(), r.attributes.end(), "memberOf") != r.attributes.end();
        return std::vector<LdapEntry>{asked ? entry(kBob, {{"mail", {"bob@example.com"}}, {"memberOf", {kTeam}}})
                                            : entry(kBob, {{"mail", {"bob@example.com"}}})};
    };
    LdapDirectory dir(config, ldap);
    const auto account = dir.find_login("bob");
    ASSERT_TRUE(account && account->direct_groups);
    EXPECT_EQ(*account->direct_groups, std::vector<std::string>{kTeam});
    config.groups.membership = MembershipMode::Search;
    const auto plain = dir.find_login("bob");
    ASSERT_TRUE(plain);
    EXPECT_FALSE(plain->direct_groups);  // not asked: not known (not "no groups")
    EXPECT_EQ(std::find(ldap.requests[1].attributes.begin(), ldap.requests[1].attributes.end(), "memberOf"),
              ldap.requests[1].attributes.end());
}

// bob in one group that is in no group: one search for the address, the group's own
// memberOf and the grants naming bob or the group with a send right.
TEST_F(MemberOfSender, OneSearchForAUserWhoseGroupsNestNoFurther) {
    ldap.answer = [](const SearchRequest&) {
        return std::vector<LdapEntry>{alice_entry(), entry(kTeam, {{"objectClass", {"groupOfNames"}}}),
                                      send_grant("cn=s,uid=alice,dc=example,dc=com", kTeam),
                                      send_grant("cn=other,uid=carol,dc=example,dc=com", kBob)};
    };
    LdapDirectory dir(config, ldap);
    const auto facts = dir.sender_facts_for(bob({kTeam}), "alice@example.com");
    ASSERT_EQ(ldap.requests.size(), 1u);
    EXPECT_EQ(ldap.requests[0].base, "dc=example,dc=com");
    EXPECT_EQ(ldap.requests[0].filter, "(|" + kAddress + "(&(objectClass=mailGrant)(|(mailGrantee=" + kBob +
                                           ")(mailGrantee=" + kTeam + "))(mailGrantSend=*))(entryDN=" + kTeam + "))");
    ASSERT_TRUE(facts.mailbox);
    EXPECT_EQ(facts.mailbox->dn, kAlice);
    ASSERT_EQ(facts.with.groups.size(), 1u);
    EXPECT_EQ(facts.with.groups[0].dn, kTeam);
    ASSERT_EQ(facts.with.grants.size(), 1u);  // the grant below carol is not alice's
    EXPECT_EQ(facts.with.grants[0].dn, "cn=s,uid=alice,dc=example,dc=com");
}

// The group is in another: the next level's search asks for that group's entry and the
// grants below the mailbox naming anyone found so far; its grants are the answer's.
TEST_F(MemberOfSender, ANestedGroupIsOneSearchMoreBelowTheMailbox) {
    const std::string top = "cn=top,dc=example,dc=com";
    ldap.answer = [&](const SearchRequest& r) {
        if (r.filter.find("mailGrantSend=*") != std::string::npos)
            return std::vector<LdapEntry>{alice_entry(), entry(kTeam, {{"memberOf", {top}}})};
        return std::vector<LdapEntry>{entry(top, {}), send_grant("cn=t,uid=alice,dc=example,dc=com", top)};
    };
    LdapDirectory dir(config, ldap);
    const auto facts = dir.sender_facts_for(bob({kTeam}), "alice@example.com");
    ASSERT_EQ(ldap.requests.size(), 2u);
    EXPECT_EQ(ldap.requests[1].filter, "(|(&(objectClass=mailGrant)(|(mailGrantee=" + kBob + ")(mailGrantee=" + kTeam +
                                           ")(mailGrantee=" + top + "))(entryDN:dnOneLevelMatch:=" + kAlice +
                                           "))(entryDN=" + top + "))");
    ASSERT_EQ(facts.with.groups.size(), 2u);
    EXPECT_EQ(facts.with.groups[1].path, (std::vector<std::string>{kTeam, top}));
    ASSERT_EQ(facts.with.grants.size(), 1u);
    EXPECT_EQ(facts.with.grants[0].dn, "cn=t,uid=alice,dc=example,dc=com");
}

// A login's grants from everywhere: a user in no group asks for the grants naming him
// alone; one in a group that nests no further, for that group and the grants in one search.
TEST_F(MemberOfSender, GroupsAndGrantsForAUserInNoGroupIsTheGrantSearch) {
    LdapDirectory dir(config, ldap);
    const auto answer = dir.groups_and_grants_for(bob({}), "");
    ASSERT_EQ(ldap.requests.size(), 1u);
    EXPECT_EQ(ldap.requests[0].filter, "(&(objectClass=mailGrant)(mailGrantee=" + kBob + "))");
    EXPECT_TRUE(answer.groups.empty());
}

TEST_F(MemberOfSender, GroupsAndGrantsForAUserInAGroupIsOneSearch) {
    ldap.answer = [](const SearchRequest&) {
        return std::vector<LdapEntry>{entry(kTeam, {{"objectClass", {"groupOfNames"}}}),
                                      send_grant("cn=s,uid=alice,dc=example,dc=com", kTeam)};
    };
    LdapDirectory dir(config, ldap);
    const auto answer = dir.groups_and_grants_for(bob({kTeam}), "");
    ASSERT_EQ(ldap.requests.size(), 1u);
    EXPECT_EQ(ldap.requests[0].filter, "(|(&(objectClass=mailGrant)(|(mailGrantee=" + kBob + ")(mailGrantee=" + kTeam +
                                           ")))(entryDN=" + kTeam + "))");
    ASSERT_EQ(answer.groups.size(), 1u);
    ASSERT_EQ(answer.grants.size(), 1u);
    EXPECT_EQ(answer.grants[0].dn, "cn=s,uid=alice,dc=example,dc=com");
    // an entry that is a grant and one of the groups: the questions one by one
    RecordingSearcher odd;
    odd.answer = [](const SearchRequest& r) {
        return r.filter.find("entryDN=") != std::string::npos ? std::vector<LdapEntry>{send_grant(kTeam, kBob)}
                                                                : std::vector<LdapEntry>{};
    };
    LdapDirectory odd_dir(config, odd);
    odd_dir.groups_and_grants_for(bob({kTeam}), "");
    ASSERT_GE(odd.requests.size(), 2u);
    EXPECT_EQ(odd.requests[1].base, kBob);  // groups_by_member_of reads the user's memberOf
}

// A direct group outside ldap.base is not in the level's search: read by itself (its
// memberOf), as groups_by_member_of reads it; the grants still name it.
TEST_F(MemberOfSender, AGroupOutsideTheBaseIsReadByItself) {
    const std::string outside = "cn=ext,o=elsewhere";
    ldap.answer = [&](const SearchRequest& r) {
        if (r.base == outside) return std::vector<LdapEntry>{entry(outside, {{"memberOf", {"cn=top,o=elsewhere"}}})};
        return std::vector<LdapEntry>{};
    };
    LdapDirectory dir(config, ldap);
    const auto answer = dir.groups_and_grants_for(bob({outside}), "");
    ASSERT_EQ(answer.groups.size(), 2u);
    EXPECT_EQ(answer.groups[1].path, (std::vector<std::string>{outside, "cn=top,o=elsewhere"}));
    ASSERT_GE(ldap.requests.size(), 2u);
    EXPECT_EQ(ldap.requests[0].filter, "(&(objectClass=mailGrant)(|(mailGrantee=" + kBob + ")(mailGrantee=" + outside + ")))");
    EXPECT_EQ(ldap.requests[1].base, outside);
    EXPECT_EQ(ldap.requests[1].scope, SearchScope::Base);
}

// groups.max_depth 1: the direct groups are never a level of their own, so their entries
// are not read; the grants naming them are asked for once, after the walk.
TEST_F(MemberOfSender, DepthOneAsksForTheGrantsNamingTheDirectGroupsWithoutReadingThem) {
    config.groups.max_depth = 1;
    LdapDirectory dir(config, ldap);
    const auto answer = dir.groups_and_grants_for(bob({kTeam}), "");
    ASSERT_EQ(ldap.requests.size(), 1u);
    EXPECT_EQ(ldap.requests[0].filter, "(&(objectClass=mailGrant)(|(mailGrantee=" + kBob + ")(mailGrantee=" + kTeam + ")))");
    EXPECT_EQ(answer.groups.size(), 1u);
    ldap.requests.clear();
    dir.sender_facts_for(bob({kTeam}), "alice@example.com");
    ASSERT_EQ(ldap.requests.size(), 1u);
    EXPECT_EQ(ldap.requests[0].filter.find("entryDN="), std::string::npos) << ldap.requests[0].filter;
    EXPECT_NE(ldap.requests[0].filter.find("(mailGrantee=" + kTeam + ")"), std::string::npos) << ldap.requests[0].filter;
}

// No mailbox has the address: the groups do not matter, the walk stops.
TEST_F(MemberOfSender, NoMailboxEndsTheWalk) {
    ldap.answer = [&](const SearchRequest&) { return std::vector<LdapEntry>{entry(kTeam, {{"memberOf", {"cn=x,dc=example,dc=com"}}})}; };
    LdapDirectory dir(config, ldap);
    const auto facts = dir.sender_facts_for(bob({kTeam}), "alice@example.com");
    EXPECT_FALSE(facts.mailbox);
    EXPECT_TRUE(facts.with.groups.empty());
    EXPECT_EQ(ldap.requests.size(), 1u);
}

// Every case this search cannot settle: the questions one by one (Directory's default,
// whose first question is the address alone), never a part guessed.
struct OneByOneCase {
    const char* name;
    std::function<std::vector<LdapEntry>()> first_answer;  // or throws
};

class MemberOfSenderOneByOne : public MemberOfSender, public ::testing::WithParamInterface<OneByOneCase> {};

TEST_P(MemberOfSenderOneByOne, AsksTheQuestionsOneByOne) {
    bool first = true;
    ldap.answer = [&](const SearchRequest& r) -> std::vector<LdapEntry> {
        if (first && r.filter.find("mailGrantSend=*") != std::string::npos) {
            first = false;
            return GetParam().first_answer();
        }
        return {};
    };
    LdapDirectory dir(config, ldap);
    EXPECT_FALSE(dir.sender_facts_for(bob({kTeam}), "alice@example.com").mailbox);
    ASSERT_GE(ldap.requests.size(), 2u);
    EXPECT_EQ(ldap.requests[1].filter, kAddress) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MemberOfSenderOneByOne,
    ::testing::Values(
        OneByOneCase{"size limit",
                     [] () -> std::vector<LdapEntry> { throw LdapError(LdapErrorKind::Other, LDAP_SIZELIMIT_EXCEEDED, "limit"); }},
        OneByOneCase{"admin limit",
                     [] () -> std::vector<LdapEntry> { throw LdapError(LdapErrorKind::Other, LDAP_ADMINLIMIT_EXCEEDED, "limit"); }},
        OneByOneCase{"an entry that is no part", [] { return std::vector<LdapEntry>{entry("cn=odd,dc=example,dc=com", {})}; }},
        OneByOneCase{"a grant naming no one asked for",
                     [] { return std::vector<LdapEntry>{send_grant("cn=s,uid=alice,dc=example,dc=com", "uid=eve,dc=x")}; }},
        OneByOneCase{"a grant without a send right",
                     [] {
                         return std::vector<LdapEntry>{entry("cn=s,uid=alice,dc=example,dc=com",
                                                             {{"objectClass", {"mailGrant"}}, {"mailGrantee", {kBob}}})};
                     }},
        OneByOneCase{"a grant that is also one of the groups",
                     [] { return std::vector<LdapEntry>{send_grant(kTeam, kBob)}; }}),
    [](const ::testing::TestParamInfo<OneByOneCase>& info) {
        std::string name;
        for (const char c : std::string(info.param.name)) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
        return name;
    });

TEST_F(MemberOfSender, LdapTroubleIsThrownNotAnsweredOneByOne) {
    ldap.answer = [](const SearchRequest&) -> std::vector<LdapEntry> {
        throw LdapError(LdapErrorKind::Unavailable, LDAP_SERVER_DOWN, "down");
    };
    LdapDirectory dir(config, ldap);
    EXPECT_THROW(dir.sender_facts_for(bob({kTeam}), "alice@example.com"), LdapError);
    EXPECT_EQ(ldap.requests.size(), 1u);
}

// memberOf not read with the login (an account from elsewhere), or search mode: the
// questions as sender_facts asks them.
TEST_F(MemberOfSender, WithoutTheLoginsMemberOfItIsSenderFacts) {
    LdapDirectory dir(config, ldap);
    dir.sender_facts_for(Account(kBob, {"bob@example.com"}, false), "alice@example.com");
    ASSERT_FALSE(ldap.requests.empty());
    EXPECT_EQ(ldap.requests[0].filter, kAddress);
    ldap.requests.clear();
    config.groups.membership = MembershipMode::Search;
    dir.sender_facts_for(bob({kTeam}), "alice@example.com");
    ASSERT_FALSE(ldap.requests.empty());
    EXPECT_FALSE(ldap.requests[0].values_filter.empty());  // sender_facts.cpp's one search
}

}  // namespace
