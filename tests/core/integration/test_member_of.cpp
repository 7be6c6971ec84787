// Integration test of groups.membership: memberof against a real slapd with the memberof
// overlay (tests/harness/slapd_sandbox.py --memberof), holding tests/fixtures/org.ldif and
// fay, who is in five groups that are all in one more (all-staff, which may send as alice).
//
// LdapDirectory::groups_by_member_of reads a level of several groups in one search of
// their entryDNs (issue 19: a cost that does not grow with the number of groups).
// Differential: for every person, the groups and their paths equal the memberOf reads one
// by one (the walk as it was, here over raw base searches), and the searches are counted.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "mailgrant/config.h"
#include "mailgrant/decision.h"
#include "mailgrant/directory.h"
#include "mailgrant/ldap_client.h"

#include "slapd_environment.h"

using namespace mailgrant;

namespace {

// all-staff is added after its five members, so the overlay writes memberOf on each.
const char* const kExtra = R"(dn: uid=fay,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: fay
cn: Fay
sn: Fay
mail: fay@example.com

dn: cn=g1,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: g1
member: uid=fay,ou=people,dc=example,dc=com

dn: cn=g2,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: g2
member: uid=fay,ou=people,dc=example,dc=com

dn: cn=g3,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: g3
member: uid=fay,ou=people,dc=example,dc=com
member: uid=bob,ou=people,dc=example,dc=com

dn: cn=g4,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: g4
member: uid=fay,ou=people,dc=example,dc=com

dn: cn=g5,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: g5
member: uid=fay,ou=people,dc=example,dc=com

dn: cn=all-staff,ou=groups,dc=example,dc=com
objectClass: groupOfNames
cn: all-staff
member: cn=g1,ou=groups,dc=example,dc=com
member: cn=g2,ou=groups,dc=example,dc=com
member: cn=g3,ou=groups,dc=example,dc=com
member: cn=g4,ou=groups,dc=example,dc=com
member: cn=g5,ou=groups,dc=example,dc=com

dn: cn=staff-send,uid=alice,ou=people,dc=example,dc=com
objectClass: mailGrant
cn: staff-send
mailGrantee: cn=all-staff,ou=groups,dc=example,dc=com
mailGrantFolder: INBOX
mailGrantRights: lr
mailGrantSend: sendAs
)";

mailgrant::testing::SlapdEnvironment* const kSlapd =
    mailgrant::testing::add_slapd_environment(
        "mailgrant-memberof-it", std::string("--memberof --log-filters --ldif ") + MAILGRANT_FIXTURES + "/org.ldif", kExtra);
const std::string& dir = kSlapd->dir;
const std::string& uri = kSlapd->uri;
const std::string& base = kSlapd->base;

Config member_of_config() {
    Config c;
    c.ldap.uris = {uri};
    c.ldap.base = base;
    c.ldap.network_timeout_ms = 2000;
    c.ldap.operation_timeout_ms = 5000;
    c.groups.membership = MembershipMode::MemberOf;
    return c;
}

// The groups as DN > path > ... lines, in the walk's order.
std::vector<std::string> described(const std::vector<GroupMembership>& groups) {
    std::vector<std::string> out;
    for (const auto& g : groups) {
        std::string line = g.dn + " via";
        for (const auto& step : g.path) line += " > " + step;
        out.push_back(line);
    }
    return out;
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
        EXPECT_EQ(described(directory.groups_of(dn)), described(one_by_one(plain_ldap, config, dn))) << uid;
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
    EXPECT_EQ(described(directory.groups_of("uid=fay,ou=people," + base)).size(), 6u);
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
