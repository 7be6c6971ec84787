// Integration test of search mode with users.dn_template (core/src/login_groups.cpp)
// against a real slapd without the memberof overlay, holding tests/fixtures/org.ldif,
// sender-hard.ldif and nested-groups.ldif: the login search also asks for the groups
// naming the DN the template gives, so a group member's cold send decision costs the
// login and one search (issue 19: at most 2), and a login's groups and grants one search
// after the login for groups that nest no further, as memberof mode does.
//
// Differential: every login x address, the same decision as the questions one by one
// (without the template), under four configurations; every login's account as the plain
// login search reads it; groups_and_grants_for as groups_and_grants. A template that
// guesses wrong, and a login filter the one search cannot tell on an entry, keep no
// groups: the walk then searches them as without the template.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "mailgrant/config.h"
#include "mailgrant/decision.h"
#include "mailgrant/directory.h"
#include "mailgrant/dn.h"
#include "mailgrant/ldap_client.h"

#include "sender_compare.h"
#include "slapd_environment.h"

using namespace mailgrant;
using mailgrant::testing::described;
using mailgrant::testing::kSenderLogins;

namespace {

mailgrant::testing::SlapdEnvironment* const kSlapd = mailgrant::testing::add_slapd_environment(
    "mailgrant-login-groups-it",
    std::string("--log-filters --ldif ") + MAILGRANT_FIXTURES + "/org.ldif --ldif " + MAILGRANT_FIXTURES +
        "/sender-hard.ldif --ldif " + MAILGRANT_FIXTURES + "/nested-groups.ldif",
    "");
const std::string& dir = kSlapd->dir;
const std::string& uri = kSlapd->uri;
const std::string& base = kSlapd->base;

Config plain_config() { return kSlapd->config(); }

Config template_config(const std::string& tmpl = "uid=%n,ou=people,dc=example,dc=com") {
    Config c = plain_config();
    c.users.dn_template = tmpl;
    return c;
}

// The groups naming `dn` directly, as the plain walk finds them (its first level).
std::set<std::string> direct_groups_of(LdapDirectory& directory, const std::string& dn) {
    std::set<std::string> out;
    for (const auto& g : directory.groups_of(dn))
        if (g.path.size() == 1) out.insert(normalize_dn(g.dn));
    return out;
}

std::set<std::string> normalized(const std::vector<std::string>& dns) {
    std::set<std::string> out;
    for (const auto& dn : dns) out.insert(normalize_dn(dn));
    return out;
}

// Every login (and gone, whose entry is in ou=archive: the template's guess is wrong)
// gets the account the plain login search reads, in one search; with the template's DN
// proved, the groups naming it.
TEST(LoginGroups, TheLoginSearchReadsTheDirectGroups) {
    const Config with = template_config(), without = plain_config();
    std::vector<std::string> logins = kSenderLogins;
    logins.push_back("gone");
    logins.push_back("alice@example.com");
    logins.push_back("nobody");
    std::size_t with_groups = 0;
    for (const auto& login : logins) {
        LdapConnection ldap(with.ldap), plain_ldap(without.ldap);
        LdapDirectory directory(with, ldap), plain(without, plain_ldap);
        const auto account = directory.find_login(login);
        EXPECT_EQ(ldap.search_count(), 1u) << login;
        const auto expected = plain.find_login(login);
        ASSERT_EQ(account.has_value(), expected.has_value()) << login;
        if (!account) continue;
        EXPECT_EQ(account->dn, expected->dn) << login;
        EXPECT_EQ(account->addresses, expected->addresses) << login;
        EXPECT_EQ(account->shared_mailbox, expected->shared_mailbox) << login;
        EXPECT_EQ(account->sent_copy, expected->sent_copy) << login;
        if (login == "gone") {
            EXPECT_FALSE(account->direct_groups) << "a wrong guess keeps no groups";
            continue;
        }
        ASSERT_TRUE(account->direct_groups) << login;
        EXPECT_EQ(normalized(*account->direct_groups), direct_groups_of(plain, account->dn)) << login;
        with_groups += account->direct_groups->empty() ? 0 : 1;
    }
    EXPECT_GE(with_groups, 5u);  // bob, carol, dave, eve, fay, gil are in groups
    LdapConnection ldap(with.ldap);
    LdapDirectory directory(with, ldap);
    EXPECT_EQ(normalized(*directory.find_login("fay")->direct_groups).size(), 5u);
}

// A template naming the wrong place: every guess is wrong, so no login keeps groups; one
// search still. A login filter naming an attribute the one search does not read (cn):
// the plain login search, one search, no groups.
TEST(LoginGroups, WhatCannotBeProvedKeepsNoGroups) {
    for (const Config& config : {template_config("uid=%n,ou=staff,dc=example,dc=com"), [] {
             Config c = template_config();
             c.users.login_filter = "(&(objectClass=inetOrgPerson)(|(uid=%s)(mail=%s)(cn=%s)))";
             return c;
         }()}) {
        for (const auto& login : kSenderLogins) {
            LdapConnection ldap(config.ldap);
            LdapDirectory directory(config, ldap);
            const auto account = directory.find_login(login);
            ASSERT_TRUE(account) << login;
            EXPECT_FALSE(account->direct_groups) << login;
            EXPECT_EQ(ldap.search_count(), 1u) << login;
        }
    }
}

TEST(LoginGroups, SenderDecisionsAsTheQuestionsOneByOne) {
    const auto counts = mailgrant::testing::compare_senders(template_config(), plain_config());
    auto batched = [&](const std::string& key) { return counts.at(key).first; };
    // gil's one group: the login (with editors) and one search (search mode without the
    // template: 3, the groups naming gil a search of their own).
    EXPECT_EQ(batched("gil as carol@example.com"), 2u);
    EXPECT_EQ(batched("eve as list@example.com"), 2u);  // the mail-enabled group holds the address
    EXPECT_EQ(batched("alice as bob@example.com"), 2u);  // in no group
    // One level of nesting, one search more: fay's five groups in all-staff; bob's g3.
    EXPECT_EQ(batched("fay as alice@example.com"), 3u);
    EXPECT_EQ(batched("bob as support@example.com"), 3u);
    EXPECT_EQ(batched("alice as alice@example.com"), 1u);  // one's own address: the login alone
}

TEST(LoginGroups, SenderDecisionsWithoutTheTemplateCostOneMore) {
    const auto counts = mailgrant::testing::compare_senders(plain_config(), plain_config());
    EXPECT_EQ(counts.at("gil as carol@example.com").first, 3u);
    EXPECT_EQ(counts.at("fay as alice@example.com").first, 4u);
}

TEST(LoginGroups, SenderDecisionsWithDepthOne) {
    Config config = template_config(), plain = plain_config();
    config.groups.max_depth = plain.groups.max_depth = 1;
    const auto counts = mailgrant::testing::compare_senders(config, plain);
    EXPECT_EQ(counts.at("gil as carol@example.com").first, 2u);
    EXPECT_EQ(counts.at("fay as alice@example.com").first, 2u);  // all-staff is beyond the depth: denied
}

TEST(LoginGroups, SenderDecisionsWithUsersAndGroupsBases) {
    Config config = template_config(), plain = plain_config();
    config.users.base = plain.users.base = "ou=people," + base;
    config.groups.base = plain.groups.base = "ou=groups," + base;
    const auto counts = mailgrant::testing::compare_senders(config, plain);
    EXPECT_EQ(counts.at("gil as carol@example.com").first, 2u);
}

// An address filter naming an objectClass: the mail-enabled group is settled by slapd.
TEST(LoginGroups, SenderDecisionsWithAnAddressFilterNamingAClass) {
    Config config = template_config(), plain = plain_config();
    config.users.address_filter = plain.users.address_filter =
        "(&(objectClass=inetOrgPerson)(|(mail=%s)(mailLocalAddress=%s)))";
    const auto counts = mailgrant::testing::compare_senders(config, plain, {"list@example.com"});
    EXPECT_EQ(counts.at("gil as carol@example.com").first, 2u);
}

// Search mode without the template, the default configuration: a login search teaches
// the pattern of the DN it finds (dn_patterns.h), and the domain's next login searches
// use it as a configured template is used. A login whose DN does not fit (gone, in
// ou=archive) costs what it costs without a pattern and teaches its own.
TEST(LoginGroups, TheFirstLoginTeachesThePatternTheNextOnesUse) {
    const Config config = plain_config();
    LdapConnection ldap(config.ldap), plain_ldap(config.ldap);
    LdapDirectory directory(config, ldap), plain(config, plain_ldap);
    const auto gil = directory.find_login("gil");
    ASSERT_TRUE(gil);
    EXPECT_FALSE(gil->direct_groups) << "nothing learned yet: the plain login search";
    EXPECT_EQ(ldap.search_count(), 1u);
    const auto fay = directory.find_login("fay");
    ASSERT_TRUE(fay && fay->direct_groups);
    EXPECT_EQ(ldap.search_count(), 2u);
    EXPECT_EQ(normalized(*fay->direct_groups), direct_groups_of(plain, fay->dn));
    EXPECT_EQ(normalized(*fay->direct_groups).size(), 5u);
    EXPECT_EQ(directory.dn_patterns().counts().guesses.load(), 1u);
    EXPECT_EQ(directory.dn_patterns().counts().right.load(), 1u);

    const auto gone = directory.find_login("gone");  // uid=gone,ou=archive: guessed wrong
    ASSERT_TRUE(gone);
    EXPECT_FALSE(gone->direct_groups);
    EXPECT_EQ(ldap.search_count(), 3u);
    EXPECT_EQ(directory.dn_patterns().counts().right.load(), 1u);
    EXPECT_EQ(directory.dn_patterns().counts().learned.load(), 2u);  // gil's, then gone's
    // an address login is another domain: nothing learned for it yet
    const auto alice = directory.find_login("alice@example.com");
    ASSERT_TRUE(alice);
    EXPECT_FALSE(alice->direct_groups);
    EXPECT_EQ(directory.dn_patterns().for_login("bob@example.com"), "uid=%n,ou=people," + base);
}

// Every login x address with the patterns learned from two earlier logins (a bare login
// and an address, as a service that has served both): the same decisions as the
// questions one by one, and a group member's cold decision in 2 searches, as with
// users.dn_template (SenderDecisionsAsTheQuestionsOneByOne).
TEST(LoginGroups, SenderDecisionsWithLearnedPatterns) {
    auto patterns = std::make_shared<DnPatterns>();
    {
        const Config config = plain_config();
        LdapConnection ldap(config.ldap);
        LdapDirectory directory(config, ldap);
        directory.share_dn_patterns(patterns);
        ASSERT_TRUE(directory.find_login("alice"));
        ASSERT_TRUE(directory.find_login("alice@example.com"));
    }
    const auto counts = mailgrant::testing::compare_senders(plain_config(), plain_config(), {}, patterns);
    EXPECT_EQ(counts.at("gil as carol@example.com").first, 2u);  // 3 without a pattern
    EXPECT_EQ(counts.at("eve as list@example.com").first, 2u);
    EXPECT_EQ(counts.at("alice as bob@example.com").first, 2u);
    EXPECT_EQ(counts.at("fay as alice@example.com").first, 3u);  // one level of nesting (4 without)
    EXPECT_GT(patterns->counts().right.load(), 0u);
}

// What a login's shared namespace (mailbox "") and a folder decision (a mailbox) read:
// groups_and_grants_for from the login's groups gives what groups_and_grants gives.
TEST(LoginGroups, GroupsAndGrantsAsTheQuestionsOneByOne) {
    const Config config = template_config();
    std::map<std::string, unsigned long long> counts;
    for (const auto& login : kSenderLogins) {
        for (const std::string& mailbox : {std::string(), "uid=alice,ou=people," + base, "uid=support,ou=people," + base}) {
            LdapConnection batched_ldap(config.ldap), plain_ldap(config.ldap);
            LdapDirectory batched(config, batched_ldap), plain(config, plain_ldap);
            const auto account = batched.find_login(login);
            ASSERT_TRUE(account && account->direct_groups) << login;
            const auto after_login = batched_ldap.search_count();
            const auto fast = batched.groups_and_grants_for(*account, mailbox);
            const auto slow = plain.groups_and_grants(account->dn, mailbox);
            const std::string key = login + " below '" + mailbox + "'";
            EXPECT_EQ(described(fast.groups), described(slow.groups)) << key;
            std::vector<std::string> fast_grants, slow_grants;
            for (const auto& g : fast.grants) fast_grants.push_back(g.dn);
            for (const auto& g : slow.grants) slow_grants.push_back(g.dn);
            std::sort(fast_grants.begin(), fast_grants.end());
            std::sort(slow_grants.begin(), slow_grants.end());
            EXPECT_EQ(fast_grants, slow_grants) << key;
            counts[key] = batched_ldap.search_count() - after_login;
            EXPECT_LE(counts[key], plain_ldap.search_count()) << key;
        }
    }
    EXPECT_EQ(counts.at("alice below ''"), 1u);  // in no group: the grant search alone
    EXPECT_EQ(counts.at("gil below ''"), 1u);    // editors' groups and the grants in one search (was 2)
    EXPECT_EQ(counts.at("fay below ''"), 2u);    // all-staff, then its groups (was 3)
}

// Last: every search above used an index. slapd logs "not indexed" only at debug level
// filter (--log-filters): its candidate lines prove that level is on.
TEST(LoginGroups, ZzSlapdLogsNoUnindexedSearch) {
    const auto log = mailgrant::testing::read_index_log(dir);
    for (const auto& [search, warning] : log.unindexed) ADD_FAILURE() << search << "\n" << warning;
    EXPECT_GT(log.searches, 10);
    EXPECT_GT(log.candidates, 0) << "slapd does not log at level filter: no warning could show";
}

}  // namespace
