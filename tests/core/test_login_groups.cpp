// Unit tests for core/src/login_groups.cpp (search mode with users.dn_template) against a
// recording searcher: the login search's request, how each entry's part is proved, a
// wrong guess, every case where the plain login search is asked instead, and the cold
// send decision's one search starting from the login's groups (sender_facts.cpp).
// tests/core/integration/test_login_groups.cpp compares it with the questions one by one
// against a real slapd.
#include <gtest/gtest.h>

#include <ldap.h>

#include <algorithm>
#include <functional>

#include "fakes.h"
#include "mailgrant/config.h"
#include "mailgrant/directory.h"
#include "mailgrant/dn_patterns.h"
#include "mailgrant/ldap_error.h"

using namespace mailgrant;
using mailgrant::testing::entry;
using mailgrant::testing::RecordingSearcher;

namespace {

const std::string kBob = "uid=bob,ou=people,dc=example,dc=com";
const std::string kTeam = "cn=team,ou=groups,dc=example,dc=com";
const std::string kOuter = "cn=outer,ou=groups,dc=example,dc=com";
const std::string kPlainLogin = "(&(objectClass=inetOrgPerson)(|(uid=bob)(mail=bob)))";

class LoginGroups : public ::testing::Test {
protected:
    LoginGroups() {
        config.ldap.base = "dc=example,dc=com";
        config.users.dn_template = "uid=%n,ou=people,dc=example,dc=com";
    }
    Config config;
    RecordingSearcher ldap;
};

LdapEntry bob_entry(const std::string& dn = kBob) {
    return entry(dn, {{"objectClass", {"inetOrgPerson"}}, {"uid", {"bob"}}, {"mail", {"bob@example.com"}}});
}

LdapEntry group(const std::string& dn, const std::string& member) {
    return entry(dn, {{"objectClass", {"groupOfNames"}}, {"member", {member}}});
}

TEST_F(LoginGroups, OneSearchForTheLoginAndTheGroupsNamingTheGuessedDn) {
    ldap.answer = [](const SearchRequest&) {
        return std::vector<LdapEntry>{bob_entry(), group(kTeam, kBob)};
    };
    LdapDirectory dir(config, ldap);
    const auto account = dir.find_login("bob@example.com");
    ASSERT_EQ(ldap.requests.size(), 1u);
    const auto& r = ldap.requests[0];
    EXPECT_EQ(r.base, "dc=example,dc=com");
    EXPECT_NE(r.filter.find("(uid=bob@example.com)"), std::string::npos) << r.filter;
    EXPECT_NE(r.filter.find("(member=" + kBob + ")"), std::string::npos) << r.filter;
    // a group's members: only the guessed DN comes back (RFC 3876)
    EXPECT_NE(r.values_filter.find("(member=" + kBob + ")"), std::string::npos) << r.values_filter;
    EXPECT_NE(r.values_filter.find("(mail=*)"), std::string::npos) << r.values_filter;
    ASSERT_TRUE(account && account->direct_groups);
    EXPECT_EQ(account->dn, kBob);
    EXPECT_EQ(account->addresses, std::vector<std::string>{"bob@example.com"});
    EXPECT_EQ(*account->direct_groups, std::vector<std::string>{kTeam});
}

TEST_F(LoginGroups, AUserInNoGroupIsKnownToBeInNone) {
    ldap.answer = [](const SearchRequest&) { return std::vector<LdapEntry>{bob_entry()}; };
    LdapDirectory dir(config, ldap);
    const auto account = dir.find_login("bob");
    ASSERT_TRUE(account && account->direct_groups);
    EXPECT_TRUE(account->direct_groups->empty());
}

// A guess the login search does not prove keeps no groups (the group search runs as
// without a guess): the login's entry is elsewhere, so the groups naming the guessed DN
// are someone else's; or the login was typed in another case than the entry's value, and
// with a case-sensitive naming attribute the guessed DN can be another person's whose
// groups the search returned (slapd found the entry by a case-insensitive login filter).
TEST_F(LoginGroups, AWrongGuessKeepsNoGroups) {
    struct Case {
        const char* login;
        std::string found, member;
    };
    const Case cases[] = {
        {"bob", "uid=bob,ou=archive,dc=example,dc=com", kBob},
        {"Bob@example.com", kBob, "uid=Bob,ou=people,dc=example,dc=com"},
    };
    for (const auto& c : cases) {
        RecordingSearcher searcher;
        searcher.answer = [&](const SearchRequest&) {
            return std::vector<LdapEntry>{bob_entry(c.found), group(kTeam, c.member)};
        };
        LdapDirectory dir(config, searcher);
        const auto account = dir.find_login(c.login);
        ASSERT_TRUE(account) << c.login;
        EXPECT_EQ(account->dn, c.found) << c.login;
        EXPECT_FALSE(account->direct_groups) << c.login;
        EXPECT_EQ(searcher.requests.size(), 1u) << c.login;
    }
}

// The guessed DN written with other type case and spacing is the same entry.
TEST_F(LoginGroups, AGuessSpelledAnotherWayIsRight) {
    ldap.answer = [&](const SearchRequest&) {
        return std::vector<LdapEntry>{bob_entry("UID=bob, OU=people,dc=example,dc=com"), group(kTeam, kBob)};
    };
    LdapDirectory dir(config, ldap);
    const auto account = dir.find_login("bob@example.com");
    ASSERT_TRUE(account && account->direct_groups);
    EXPECT_EQ(*account->direct_groups, std::vector<std::string>{kTeam});
}

// Without users.dn_template: the pattern learned from the first login search is guessed
// from the second login on; a person entry the one search cannot place (an objectClass
// the login filter names only through a subclass) makes each guess fall back to the
// plain search, and after DnPatterns::kMaxFallbacks in a row the domain guesses no more:
// its logins cost one search again, not two.
TEST_F(LoginGroups, ALearnedPatternThatNeverSettlesIsDropped) {
    config.users.dn_template.clear();
    ldap.answer = [](const SearchRequest&) {
        auto e = bob_entry();
        e.attributes["objectclass"] = {"mailPerson"};  // a subclass of inetOrgPerson, say
        return std::vector<LdapEntry>{e};
    };
    LdapDirectory dir(config, ldap);
    std::vector<std::size_t> searches;
    for (unsigned i = 0; i < DnPatterns::kMaxFallbacks + 2; ++i) {
        const std::size_t before = ldap.requests.size();
        const auto account = dir.find_login("bob@example.com");
        ASSERT_TRUE(account);
        EXPECT_EQ(account->dn, kBob);
        searches.push_back(ldap.requests.size() - before);
    }
    std::vector<std::size_t> expected{1};  // learned here
    expected.insert(expected.end(), DnPatterns::kMaxFallbacks, 2);
    expected.push_back(1);
    EXPECT_EQ(searches, expected);
    EXPECT_EQ(ldap.requests.back().filter, "(&(objectClass=inetOrgPerson)(|(uid=bob@example.com)(mail=bob@example.com)))");
    EXPECT_EQ(dir.dn_patterns().counts().fallbacks.load(), DnPatterns::kMaxFallbacks);
}

// Logins anyone may send (a collaborator login's grantee is looked up before any password
// is checked) must not take a domain's learned pattern away: one no DN can be made of
// runs no guessing search, and one slapd matches in a form mailgrant cannot tell (a
// leading space) guesses another DN than the plain search then finds. Neither counts
// toward DnPatterns::kMaxFallbacks; the next ordinary login still costs one search.
TEST_F(LoginGroups, LoginsThatGuessNoDnOrAnotherOneKeepThePattern) {
    config.users.dn_template.clear();
    ldap.answer = [](const SearchRequest& r) {
        if (r.filter.rfind("(|", 0) == 0 && r.filter.find(" bob@") != std::string::npos) {
            auto e = bob_entry();
            e.attributes["objectclass"] = {"mailPerson"};  // cannot be told on the entry
            return std::vector<LdapEntry>{e};
        }
        return std::vector<LdapEntry>{bob_entry()};
    };
    LdapDirectory dir(config, ldap);
    ASSERT_TRUE(dir.find_login("bob@example.com"));  // learns uid=%n,ou=people,...
    const std::size_t learned = ldap.requests.size();
    for (unsigned i = 0; i < 2 * DnPatterns::kMaxFallbacks; ++i) {
        const auto spaced = dir.find_login(std::string(i % DnPatterns::kMaxFallbacks + 1, ' ') + "bob@example.com");
        ASSERT_TRUE(spaced);
        EXPECT_EQ(spaced->dn, kBob);
        const std::size_t asked = ldap.requests.size();
        dir.find_login("\xff" "bob@example.com");  // not UTF-8: no DN, so no guessing search
        ASSERT_EQ(ldap.requests.size(), asked + 1);
        EXPECT_NE(ldap.requests.back().filter.rfind("(|", 0), 0u) << ldap.requests.back().filter;
    }
    EXPECT_EQ(dir.dn_patterns().counts().fallbacks.load(), 2u * DnPatterns::kMaxFallbacks);  // the spaced ones ran
    const std::size_t before = ldap.requests.size();
    const auto account = dir.find_login("bob@example.com");
    ASSERT_TRUE(account && account->direct_groups);
    EXPECT_EQ(ldap.requests.size() - before, 1u) << "the pattern was dropped after " << before - learned << " searches";
}

// Entries the one search cannot place, and its own limits: the plain login search, whose
// answer is the account (and no groups: not known).
TEST_F(LoginGroups, WhatCannotBePlacedAsksThePlainLoginSearch) {
    struct Case {
        const char* name;
        std::function<std::vector<LdapEntry>()> first;
    };
    const Case cases[] = {
        {"both", [] {  // a group that the login filter matches too
             auto e = group(kTeam, kBob);
             e.attributes["uid"] = {"bob"};
             e.attributes["objectclass"] = {"groupOfNames", "inetOrgPerson"};
             return std::vector<LdapEntry>{bob_entry(), e};
         }},
        {"neither", [] { return std::vector<LdapEntry>{bob_entry(), entry(kOuter, {{"objectClass", {"groupOfNames"}}})}; }},
        {"unknown", [] {  // an objectClass not listed: a subclass, perhaps
             auto e = bob_entry();
             e.attributes["objectclass"] = {"person"};
             return std::vector<LdapEntry>{e};
         }},
        {"no matched values",
         []() -> std::vector<LdapEntry> {
             throw LdapError(LdapErrorKind::Other, LDAP_UNAVAILABLE_CRITICAL_EXTENSION, "control");
         }},
        {"size limit",
         []() -> std::vector<LdapEntry> { throw LdapError(LdapErrorKind::Other, LDAP_SIZELIMIT_EXCEEDED, "limit"); }},
    };
    for (const auto& c : cases) {
        RecordingSearcher searcher;
        searcher.answer = [&](const SearchRequest& r) {
            return r.filter == kPlainLogin ? std::vector<LdapEntry>{bob_entry()} : c.first();
        };
        LdapDirectory dir(config, searcher);
        const auto account = dir.find_login("bob");
        ASSERT_EQ(searcher.requests.size(), 2u) << c.name;
        EXPECT_EQ(searcher.requests[1].filter, kPlainLogin) << c.name;
        ASSERT_TRUE(account) << c.name;
        EXPECT_EQ(account->dn, kBob) << c.name;
        EXPECT_FALSE(account->direct_groups) << c.name;
    }
}

// LDAP trouble is never "no groups" nor "no such login".
TEST_F(LoginGroups, LdapTroubleIsAnError) {
    ldap.answer = [](const SearchRequest&) -> std::vector<LdapEntry> {
        throw LdapError(LdapErrorKind::Unavailable, LDAP_SERVER_DOWN, "down");
    };
    LdapDirectory dir(config, ldap);
    EXPECT_THROW(dir.find_login("bob"), LdapError);
    EXPECT_EQ(ldap.requests.size(), 1u);
}

// Each configuration the combined search cannot serve (no template, memberof mode, a login
// filter naming an attribute the search does not read by that name, DNs outside the users
// base or unparsable, groups elsewhere): the plain login search alone, and the reason
// `mailgrant check` gives for a template set but never used.
TEST_F(LoginGroups, OtherwiseThePlainLoginSearchAndCheckSaysWhy) {
    struct Case {
        const char* name;
        std::function<void(Config&)> change;
        const char* why;  // part of dn_template_unused's answer
    };
    const std::vector<Case> cases = {
        {"no template", [](Config& c) { c.users.dn_template.clear(); }, "users.dn_template is not set"},
        {"memberof", [](Config& c) { c.groups.membership = MembershipMode::MemberOf; }, "groups.membership is memberof"},
        {"cn login filter", [](Config& c) { c.users.login_filter = "(cn=%s)"; },
         "users.login_filter names an attribute other than"},
        {"outside the users base", [](Config& c) { c.users.dn_template = "uid=%n,ou=staff,dc=example,dc=com"; c.users.base = "ou=people,dc=example,dc=com"; },
         "outside the users base (uid=bob,ou=staff,dc=example,dc=com)"},
        {"unparsable", [](Config& c) { c.users.dn_template = "uid=%n,,dc=example,dc=com"; }, "gives no valid DN"},
        {"groups elsewhere", [](Config& c) { c.groups.base = "dc=other"; }, "outside ldap.base"},
    };
    EXPECT_EQ(LdapDirectory(config, ldap).dn_template_unused("bob"), "");
    for (const auto& tc : cases) {
        Config c = config;
        tc.change(c);
        RecordingSearcher searcher;
        searcher.answer = [](const SearchRequest&) { return std::vector<LdapEntry>{bob_entry()}; };
        LdapDirectory dir(c, searcher);
        EXPECT_NE(dir.dn_template_unused("bob").find(tc.why), std::string::npos) << tc.name << ": " << dir.dn_template_unused("bob");
        const auto account = dir.find_login("bob");
        ASSERT_EQ(searcher.requests.size(), 1u) << tc.name;
        EXPECT_EQ(searcher.requests[0].filter.find("member="), std::string::npos) << tc.name << ": " << searcher.requests[0].filter;
        ASSERT_TRUE(account) << tc.name;
        const bool memberof = c.groups.membership == MembershipMode::MemberOf;
        EXPECT_EQ(account->direct_groups.has_value(), memberof) << tc.name;  // memberof: its own memberOf
    }
}

// The cold send decision from the login's groups: one search for the address, the groups
// naming team (the next level) and the grants naming bob or team with a send right;
// outer, found there, is one more level: its groups and the grants below alice naming
// everyone found.
TEST_F(LoginGroups, TheSendDecisionStartsFromTheLoginsGroups) {
    const std::string alice = "uid=alice,ou=people,dc=example,dc=com";
    const std::string grant = "cn=s," + alice;
    ldap.answer = [&](const SearchRequest& r) {
        if (r.filter.find("mail=alice@example.com") != std::string::npos)
            return std::vector<LdapEntry>{
                entry(alice, {{"objectClass", {"inetOrgPerson"}}, {"mail", {"alice@example.com"}}}),
                group(kOuter, kTeam),
                entry(grant, {{"objectClass", {"mailGrant"}}, {"cn", {"s"}}, {"mailGrantee", {kTeam}},
                              {"mailGrantSend", {"sendAs"}}})};
        return std::vector<LdapEntry>{};
    };
    LdapDirectory dir(config, ldap);
    Account bob(kBob, {"bob@example.com"}, false);
    bob.direct_groups = std::vector<std::string>{kTeam};
    const auto facts = dir.sender_facts_for(bob, "alice@example.com");
    ASSERT_EQ(ldap.requests.size(), 2u);
    const auto& first = ldap.requests[0].filter;
    EXPECT_NE(first.find("(member=" + kTeam + ")"), std::string::npos) << first;
    EXPECT_EQ(first.find("(member=" + kBob + ")"), std::string::npos) << first;  // known already
    EXPECT_NE(first.find("(mailGrantee=" + kBob + ")"), std::string::npos) << first;
    EXPECT_NE(first.find("(mailGrantee=" + kTeam + ")"), std::string::npos) << first;
    const auto& second = ldap.requests[1].filter;
    EXPECT_NE(second.find("(member=" + kOuter + ")"), std::string::npos) << second;
    EXPECT_NE(second.find("(mailGrantee=" + kOuter + ")"), std::string::npos) << second;
    ASSERT_TRUE(facts.mailbox);
    EXPECT_EQ(facts.mailbox->dn, alice);
    ASSERT_EQ(facts.with.groups.size(), 2u);
    EXPECT_EQ(facts.with.groups[0].dn, kTeam);
    EXPECT_EQ(facts.with.groups[1].dn, kOuter);
    EXPECT_EQ(facts.with.groups[1].path, (std::vector<std::string>{kTeam, kOuter}));
    // the second search found no grant below alice: its answer (the last level's) stands
    EXPECT_TRUE(facts.with.grants.empty());
}

}  // namespace
