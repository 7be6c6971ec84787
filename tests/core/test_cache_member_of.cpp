// Unit tests for CachingDirectory with a login's memberOf (groups.membership memberof,
// core/src/member_of_walk.cpp): the inner directory gets the login's memberOf only with a
// login it read just now and while no clear() came since, so an answer built from it
// never outlives cache.ttl_s (a group left is obeyed within the TTL, and at once when the
// change feed empties the cache).
#include <gtest/gtest.h>

#include <vector>

#include "fakes.h"
#include "mailgrant/caching_directory.h"

using namespace mailgrant;

namespace {

const std::string kBob = "uid=bob,dc=example,dc=com";
const std::string kAlice = "uid=alice,dc=example,dc=com";

// Answers bob's login with his memberOf (as LdapDirectory::find_login does in memberof
// mode) and records whether each *_for question came with a memberOf.
class MemberOfInner final : public Directory {
public:
    std::vector<bool> sender_with_member_of, groups_with_member_of;

    std::optional<Account> find_login(const std::string&) override {
        Account bob(kBob, {"bob@example.com"}, false);
        bob.direct_groups = std::vector<std::string>{"cn=team,dc=example,dc=com"};
        return bob;
    }
    std::optional<Account> find_mailbox(const std::string&) override { return Account(kAlice, {"alice@example.com"}, false); }
    std::vector<GroupMembership> groups_of(const std::string&) override { return {}; }
    std::vector<Grant> grants_of(const std::string&) override { return {}; }
    std::vector<Grant> grants_to(const std::vector<std::string>&) override { return {}; }
    SenderFacts sender_facts_for(const Account& user, const std::string& address) override {
        sender_with_member_of.push_back(user.direct_groups.has_value());
        return sender_facts(user.dn, address);
    }
    GroupsAndGrants groups_and_grants_for(const Account& user, const std::string& mailbox_dn) override {
        groups_with_member_of.push_back(user.direct_groups.has_value());
        return groups_and_grants(user.dn, mailbox_dn);
    }
};

class CacheMemberOf : public ::testing::Test {
protected:
    CacheMemberOf() {
        config.ttl_s = 300;
        config.negative_ttl_s = 300;
    }
    CacheConfig config;
    ManualClock clock;
    MemberOfInner inner;
};

TEST_F(CacheMemberOf, ALoginReadJustNowCarriesItsMemberOf) {
    CachingDirectory cache(inner, config, clock);
    const auto bob = cache.find_login("bob");
    ASSERT_TRUE(bob && bob->direct_groups);
    cache.sender_facts_for(*bob, "alice@example.com");
    cache.groups_and_grants_for(*bob, "");
    EXPECT_EQ(inner.sender_with_member_of, std::vector<bool>{true});
    EXPECT_EQ(inner.groups_with_member_of, std::vector<bool>{true});
}

// A kept login is as old as its entry in the cache: its memberOf is not given out, so a new
// answer (kept for a full TTL of its own) is never built from it.
TEST_F(CacheMemberOf, AKeptLoginHasNoMemberOf) {
    CachingDirectory cache(inner, config, clock);
    cache.find_login("bob");
    clock.advance(250);
    const auto kept = cache.find_login("bob");
    ASSERT_TRUE(kept);
    EXPECT_FALSE(kept->direct_groups);
    cache.sender_facts_for(*kept, "alice@example.com");
    EXPECT_EQ(inner.sender_with_member_of, std::vector<bool>{false});
}

// A clear() (the change feed saw a change) between the login search and the question: the
// memberOf read before it is not used, whoever holds the account.
TEST_F(CacheMemberOf, AClearSinceTheLoginDropsItsMemberOf) {
    CachingDirectory cache(inner, config, clock);
    const auto bob = cache.find_login("bob");
    ASSERT_TRUE(bob && bob->direct_groups);
    cache.clear();
    cache.sender_facts_for(*bob, "alice@example.com");
    cache.groups_and_grants_for(*bob, "");
    EXPECT_EQ(inner.sender_with_member_of, std::vector<bool>{false});
    EXPECT_EQ(inner.groups_with_member_of, std::vector<bool>{false});
}

}  // namespace
