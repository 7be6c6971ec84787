// Integration test of groups.membership: memberof against a real slapd with the memberof
// overlay (tests/harness/slapd_sandbox.py --memberof), holding tests/fixtures/org.ldif,
// tests/fixtures/nested-groups.ldif (fay, who is in five groups that are all in one more,
// all-staff, which may send as alice; gil, whose one group, editors, may send on behalf of
// carol) and the entries of tests/fixtures/sender-hard.ldif.
//
// LdapDirectory::groups_by_member_of reads a level of several groups in one search of
// their entryDNs (issue 19: a cost that does not grow with the number of groups).
// Differential: for every person, the groups and their paths equal the memberOf reads one
// by one (the walk as it was, here over raw base searches), and the searches are counted.
//
// LdapDirectory::sender_facts_for (member_of_walk.cpp) decides a cold send in the
// login's search and one more for a user in groups that are in no group (issue 19: at
// most 2 per cold policy decision), one more per level of nesting. Differential: every
// login x address, the same decision as the questions one by one, under three configurations.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "mailgrant/config.h"
#include "mailgrant/decision.h"
#include "mailgrant/directory.h"
#include "mailgrant/ldap_client.h"

#include "sender_compare.h"
#include "slapd_environment.h"

using namespace mailgrant;

namespace {


mailgrant::testing::SlapdEnvironment* const kSlapd =
    mailgrant::testing::add_slapd_environment(
        "mailgrant-memberof-it",
        std::string("--memberof --log-filters --ldif ") + MAILGRANT_FIXTURES + "/org.ldif --ldif " + MAILGRANT_FIXTURES +
            "/sender-hard.ldif --ldif " + MAILGRANT_FIXTURES + "/nested-groups.ldif",
        "");
const std::string& dir = kSlapd->dir;
const std::string& uri = kSlapd->uri;
const std::string& base = kSlapd->base;

Config member_of_config() {
    Config c = kSlapd->config();
    c.groups.membership = MembershipMode::MemberOf;
    return c;
}

// The walk as it was before the batching: each DN's memberOf read by itself.
std::vector<GroupMembership> one_by_one(LdapConnection& ldap, const Config& config, const std::string& user_dn) {
    const std::string& attr = config.groups.member_of_attribute;
    return walk_nested(user_dn, config.groups.max_depth, [&](const std::vector<GroupMembership>& frontier) {
        std::vector<GroupStep> steps;
        for (std::size_t i = 0; i < frontier.size(); ++i)
            for (const auto& entry : ldap.search(SearchRequest{frontier[i].dn, SearchScope::Base, "(objectClass=*)", {attr}}))
                for (const auto& group_dn : entry.values(attr)) steps.push_back(GroupStep{group_dn, i});
        return steps;
    });
}

const std::vector<std::string> kPeople{"alice", "bob", "carol", "dave", "eve", "support", "fay"};

TEST(MemberOf, SameGroupsAsTheReadsOneByOne) {
    const Config config = member_of_config();
    std::map<std::string, std::pair<unsigned long long, unsigned long long>> counts;
    for (const auto& uid : kPeople) {
        const std::string dn = "uid=" + uid + ",ou=people," + base;
        LdapConnection batched_ldap(config.ldap), plain_ldap(config.ldap);
        LdapDirectory directory(config, batched_ldap);
        EXPECT_EQ(mailgrant::testing::described(directory.groups_of(dn)), mailgrant::testing::described(one_by_one(plain_ldap, config, dn))) << uid;
        counts[uid] = {batched_ldap.search_count(), plain_ldap.search_count()};
        EXPECT_LE(counts[uid].first, counts[uid].second) << uid;
    }
    // fay: her entry, then her five groups in one search, then all-staff (was 1 + 5 + 1)
    EXPECT_EQ(counts["fay"].first, 3u);
    EXPECT_EQ(counts["fay"].second, 7u);
    // bob: support-team and g3 in one search, then all-staff (was 1 + 2 + 1)
    EXPECT_EQ(counts["bob"].first, 3u);
    EXPECT_EQ(counts["bob"].second, 4u);
    LdapConnection ldap(config.ldap);
    LdapDirectory directory(config, ldap);
    EXPECT_EQ(mailgrant::testing::described(directory.groups_of("uid=fay,ou=people," + base)).size(), 6u);
}

// The decision through those groups: fay may send as alice through all-staff.
TEST(MemberOf, ASendGrantToTheOuterGroupReachesFay) {
    const Config config = member_of_config();
    LdapConnection ldap(config.ldap);
    LdapDirectory directory(config, ldap);
    Decider decider(directory, SystemClock::instance());
    const auto d = decider.sender("fay", "alice@example.com");
    EXPECT_EQ(d.right, SenderRight::SendAs) << d.reason;
    ASSERT_TRUE(d.via.has_value()) << d.reason;
    EXPECT_NE(d.via->describe().find("all-staff"), std::string::npos) << d.via->describe();
    EXPECT_EQ(decider.sender("eve", "alice@example.com").right, SenderRight::Denied);
}

std::map<std::string, std::pair<unsigned long long, unsigned long long>> compare_senders(
    const Config& config, const std::set<std::string>& dearer = {}) {
    return mailgrant::testing::compare_senders(config, config, dearer);
}

TEST(MemberOf, SenderDecisionsAsTheQuestionsOneByOne) {
    const auto counts = compare_senders(member_of_config());
    auto batched = [&](const std::string& key) { return counts.at(key).first; };
    // gil's one group: the login (with his memberOf) and one search (was 5: the login,
    // the address, gil's memberOf, editors' memberOf, carol's grants).
    EXPECT_EQ(batched("gil as carol@example.com"), 2u);
    EXPECT_EQ(counts.at("gil as carol@example.com").second, 5u);
    EXPECT_EQ(batched("alice as bob@example.com"), 2u);  // in no group
    // eve is in the mail-enabled group that holds the address: one entry, both parts.
    EXPECT_EQ(batched("eve as list@example.com"), 2u);
    // One level of nesting, one search more: fay's five groups in all-staff, bob's g3.
    EXPECT_EQ(batched("fay as alice@example.com"), 3u);
    EXPECT_EQ(batched("bob as support@example.com"), 3u);
    EXPECT_EQ(batched("alice as alice@example.com"), 1u);  // one's own address: the login alone
}

// groups.max_depth 1: the walk stops at the user's direct groups, which are then never a
// level of their own; the one search still asks for the grants naming them.
TEST(MemberOf, SenderDecisionsWithDepthOne) {
    Config config = member_of_config();
    config.groups.max_depth = 1;
    const auto counts = compare_senders(config);
    EXPECT_EQ(counts.at("gil as carol@example.com").first, 2u);
    EXPECT_EQ(counts.at("fay as alice@example.com").first, 2u);  // all-staff is beyond the depth: denied
}

// An address filter naming an objectClass: an entry listing a subclass is settled by
// slapd with a base search (the mail-enabled group), one search more at most.
TEST(MemberOf, SenderDecisionsWithAnAddressFilterNamingAClass) {
    Config config = member_of_config();
    config.users.address_filter = "(&(objectClass=inetOrgPerson)(|(mail=%s)(mailLocalAddress=%s)))";
    const auto counts = compare_senders(config, {"list@example.com"});
    EXPECT_EQ(counts.at("gil as carol@example.com").first, 2u);
}

// The decisions themselves: gil on behalf of carol through editors; fay as alice through
// all-staff; eve as the list she is in; dave not as support (a folder grant, no send right).
TEST(MemberOf, SenderDecisionsAreTheRightOnes) {
    const Config config = member_of_config();
    LdapConnection ldap(config.ldap);
    LdapDirectory directory(config, ldap);
    Decider decider(directory, SystemClock::instance());
    const auto gil = decider.sender("gil", "carol@example.com");
    EXPECT_EQ(gil.right, SenderRight::SendOnBehalf) << gil.reason;
    ASSERT_TRUE(gil.via.has_value());
    EXPECT_NE(gil.via->describe().find("editors"), std::string::npos) << gil.via->describe();
    EXPECT_EQ(decider.sender("fay", "alice@example.com").right, SenderRight::SendAs);
    EXPECT_EQ(decider.sender("eve", "list@example.com").right, SenderRight::SendAs);
    EXPECT_EQ(decider.sender("dave", "support@example.com").right, SenderRight::Denied);
    EXPECT_EQ(decider.sender("gil", "alice@example.com").right, SenderRight::Denied);
}

// What a login's shared namespace (mailbox "") and a folder decision (a mailbox) read:
// groups_and_grants_for from the login's memberOf gives what groups_and_grants gives
// (the user's memberOf read, each level's, then the grants), in fewer searches.
TEST(MemberOf, GroupsAndGrantsAsTheQuestionsOneByOne) {
    const Config config = member_of_config();
    std::map<std::string, unsigned long long> counts;
    for (const auto& login : mailgrant::testing::kSenderLogins) {
        for (const std::string& mailbox : {std::string(), "uid=alice,ou=people," + base, "uid=support,ou=people," + base}) {
            LdapConnection batched_ldap(config.ldap), plain_ldap(config.ldap);
            LdapDirectory batched(config, batched_ldap), plain(config, plain_ldap);
            const auto account = batched.find_login(login);
            ASSERT_TRUE(account && account->direct_groups) << login;
            const auto after_login = batched_ldap.search_count();
            const auto fast = batched.groups_and_grants_for(*account, mailbox);
            const auto slow = plain.groups_and_grants(account->dn, mailbox);
            const std::string key = login + " below '" + mailbox + "'";
            EXPECT_EQ(mailgrant::testing::described(fast.groups), mailgrant::testing::described(slow.groups)) << key;
            std::vector<std::string> fast_grants, slow_grants;
            for (const auto& g : fast.grants) fast_grants.push_back(g.dn);
            for (const auto& g : slow.grants) slow_grants.push_back(g.dn);
            // In slapd's order, which differs between a one-level search from the mailbox
            // (grants_of) and one from the base (as sender_facts and merged_walk ask too).
            std::sort(fast_grants.begin(), fast_grants.end());
            std::sort(slow_grants.begin(), slow_grants.end());
            EXPECT_EQ(fast_grants, slow_grants) << key;
            counts[key] = batched_ldap.search_count() - after_login;
            EXPECT_LE(counts[key], plain_ldap.search_count()) << key;
        }
    }
    EXPECT_EQ(counts.at("alice below ''"), 1u);  // in no group: the grant search alone
    EXPECT_EQ(counts.at("gil below ''"), 1u);    // editors and the grants in one search
    EXPECT_EQ(counts.at("fay below ''"), 2u);    // g1..g5, then all-staff
    EXPECT_EQ(counts.at("fay below 'uid=alice,ou=people," + base + "'"), 2u);
    // loop-b (loop-a was added before loop-b existed, so the overlay wrote no memberOf on
    // loop-b: the cycle is not in the directory's memberOf)
    EXPECT_EQ(counts.at("dave below 'uid=support,ou=people," + base + "'"), 1u);
}

// Last: every search above used an index (the entryDN filter is answered from slapd's DN
// index). slapd logs "not indexed" only at debug level filter (--log-filters): its
// candidate lines prove that level is on.
TEST(MemberOf, ZzSlapdLogsNoUnindexedSearch) {
    const auto log = mailgrant::testing::read_index_log(dir);
    for (const auto& [search, warning] : log.unindexed) ADD_FAILURE() << search << "\n" << warning;
    EXPECT_GT(log.searches, 10);
    EXPECT_GT(log.candidates, 0) << "slapd does not log at level filter: no warning could show";
}

}  // namespace
