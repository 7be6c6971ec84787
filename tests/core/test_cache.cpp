// Unit tests for cache.h and caching_directory.h.
#include "mailgrant/cache.h"

#include <gtest/gtest.h>

#include "fakes.h"
#include "mailgrant/bad_input.h"
#include "mailgrant/caching_directory.h"

using namespace mailgrant;
using namespace std::chrono_literals;

namespace {

TEST(TtlCache, ExpiresAfterTtl) {
    ManualClock clock;
    TtlCache<std::string, int> cache(10, clock);
    cache.put("a", 1, 30s);
    clock.advance(29);
    EXPECT_EQ(cache.get("a"), 1);
    clock.advance(1);
    EXPECT_EQ(cache.get("a"), std::nullopt);
    EXPECT_EQ(cache.size(), 0u);
}

TEST(TtlCache, EvictsLeastRecentlyUsed) {
    ManualClock clock;
    TtlCache<std::string, int> cache(2, clock);
    cache.put("a", 1, 30s);
    cache.put("b", 2, 30s);
    EXPECT_EQ(cache.get("a"), 1);  // a is now most recent
    cache.put("c", 3, 30s);        // evicts b
    EXPECT_EQ(cache.get("b"), std::nullopt);
    EXPECT_EQ(cache.get("a"), 1);
    EXPECT_EQ(cache.get("c"), 3);
    EXPECT_EQ(cache.size(), 2u);
}

TEST(TtlCache, ZeroTtlDisablesAndOverwriteRefreshes) {
    ManualClock clock;
    TtlCache<std::string, int> cache(2, clock);
    cache.put("a", 1, 0s);
    EXPECT_EQ(cache.get("a"), std::nullopt);
    cache.put("a", 1, 10s);
    clock.advance(5);
    cache.put("a", 2, 10s);
    clock.advance(8);
    EXPECT_EQ(cache.get("a"), 2);
}

TEST(TtlCache, CostBoundEvictsLeastRecentlyUsedUntilTheNewEntryFits) {
    ManualClock clock;
    TtlCache<std::string, int> cache(10, clock, 100);
    const auto until = clock.steady_now() + 30s;
    cache.put_until("a", 1, until, cache.kAnyGeneration, 40);
    cache.put_until("b", 2, until, cache.kAnyGeneration, 40);
    EXPECT_EQ(cache.get("a"), 1);  // b is now the least recently used
    cache.put_until("c", 3, until, cache.kAnyGeneration, 30);
    EXPECT_EQ(cache.get("b"), std::nullopt);
    EXPECT_EQ(cache.cost(), 70u);
    // replacing an entry counts its new cost only
    cache.put_until("a", 4, until, cache.kAnyGeneration, 60);
    EXPECT_EQ(cache.get("a"), 4);
    EXPECT_EQ(cache.get("c"), 3);
    EXPECT_EQ(cache.cost(), 90u);
    // one entry costing more than the whole bound is not kept, and drops the key's old one
    cache.put_until("c", 5, until, cache.kAnyGeneration, 101);
    EXPECT_EQ(cache.get("c"), std::nullopt);
    EXPECT_EQ(cache.get("a"), 4);
    EXPECT_EQ(cache.cost(), 60u);
    // expiry, erase and clear give their cost back
    cache.put_until("d", 6, clock.steady_now() + 10s, cache.kAnyGeneration, 40);
    EXPECT_EQ(cache.cost(), 100u);
    clock.advance(10);
    EXPECT_EQ(cache.get("d"), std::nullopt);
    EXPECT_EQ(cache.cost(), 60u);
    cache.erase("a");
    EXPECT_EQ(cache.cost(), 0u);
    cache.put_until("e", 7, until, cache.kAnyGeneration, 50);
    EXPECT_EQ(cache.clear(), 1u);
    EXPECT_EQ(cache.cost(), 0u);
}

TEST(TtlCache, WithoutACostBoundOnlyTheCountBounds) {
    ManualClock clock;
    TtlCache<std::string, int> cache(2, clock);
    const auto until = clock.steady_now() + 30s;
    cache.put_until("a", 1, until, cache.kAnyGeneration, 1u << 30);
    cache.put_until("b", 2, until, cache.kAnyGeneration, 1u << 30);
    EXPECT_EQ(cache.get("a"), 1);
    EXPECT_EQ(cache.get("b"), 2);
}

class CachingDirectoryTest : public ::testing::Test {
protected:
    void SetUp() override {
        inner.add_account("alice@example.com", Account{"uid=alice,dc=x", {"alice@example.com"}, false, {}});
        config.ttl_s = 30;
        config.negative_ttl_s = 5;
    }
    ManualClock clock;
    mailgrant::testing::FakeDirectory inner;
    CacheConfig config;
};

TEST_F(CachingDirectoryTest, PositiveAnswersLiveTtl) {
    CachingDirectory cache(inner, config, clock);
    EXPECT_TRUE(cache.find_login("Alice@Example.com"));
    EXPECT_TRUE(cache.find_login("alice@example.com"));  // same key, any case
    EXPECT_EQ(inner.calls, 1);
    clock.advance(31);
    EXPECT_TRUE(cache.find_login("alice@example.com"));
    EXPECT_EQ(inner.calls, 2);
    EXPECT_EQ(cache.stats().hits, 1u);
    EXPECT_EQ(cache.stats().misses, 2u);
}

TEST_F(CachingDirectoryTest, NegativeAnswersLiveShorter) {
    CachingDirectory cache(inner, config, clock);
    EXPECT_FALSE(cache.find_login("nobody"));
    EXPECT_FALSE(cache.find_login("nobody"));
    EXPECT_EQ(inner.calls, 1);
    clock.advance(6);
    EXPECT_FALSE(cache.find_login("nobody"));
    EXPECT_EQ(inner.calls, 2);
}

TEST_F(CachingDirectoryTest, ErrorsAreNeverCached) {
    CachingDirectory cache(inner, config, clock);
    inner.fail = true;
    EXPECT_THROW(cache.find_login("alice@example.com"), LdapError);
    inner.fail = false;
    EXPECT_TRUE(cache.find_login("alice@example.com"));
}

TEST_F(CachingDirectoryTest, DnKeysIgnoreSpelling) {
    CachingDirectory cache(inner, config, clock);
    cache.grants_of("uid=alice,dc=x");
    cache.grants_of("UID=Alice, DC=x");
    EXPECT_EQ(inner.calls, 1);
}

// A login's batched answers fill the caches the questions of LIST ask (issue 19): the
// owners by DN and by primary address, and the grants below each owner, so folder rights
// after a login cost no directory call.
TEST_F(CachingDirectoryTest, BatchedAnswersServeTheSingleQuestions) {
    inner.add_account("bob@example.com", Account{"uid=bob,dc=x", {"bob@example.com"}, false, {}});
    inner.grants = {mailgrant::testing::make_grant("uid=alice,dc=x", "g1", {"uid=bob,dc=x"}, {"INBOX"}, "reader"),
                    mailgrant::testing::make_grant("uid=carol,dc=x", "g2", {"uid=bob,dc=x"}, {"*"}, "reader"),
                    mailgrant::testing::make_grant("uid=alice,dc=x", "g3", {"uid=eve,dc=x"}, {"INBOX"}, "reader")};
    CachingDirectory cache(inner, config, clock, "dc=x");
    const auto everywhere = cache.groups_and_grants("uid=bob,dc=x", "");
    EXPECT_EQ(everywhere.grants.size(), 2u);
    const auto owners = cache.find_mailboxes({"uid=alice,dc=x", "uid=carol,dc=x"});
    ASSERT_EQ(owners.size(), 1u);  // carol is no mailbox here
    const int calls = inner.calls;
    const auto below = cache.groups_and_grants("UID=Bob,dc=x", "uid=alice, dc=x");
    ASSERT_EQ(below.grants.size(), 1u);
    EXPECT_EQ(below.grants[0].name, "g1");  // not eve's grant
    EXPECT_TRUE(cache.find_mailbox("Alice@Example.com"));  // the owner by its primary address
    EXPECT_TRUE(cache.find_mailbox("uid=alice,dc=x"));
    EXPECT_FALSE(cache.find_mailbox("uid=carol,dc=x"));  // negative answers are kept too
    EXPECT_EQ(cache.find_mailboxes({"uid=alice,dc=x", "uid=carol,dc=x"}).size(), 1u);
    EXPECT_TRUE(cache.groups_of("uid=bob,dc=x").empty());
    EXPECT_EQ(inner.calls, calls);
    // The grants below a mailbox are as old as the answer they came from: gone with it.
    clock.advance(31);
    cache.groups_and_grants("uid=bob,dc=x", "uid=alice,dc=x");
    EXPECT_GT(inner.calls, calls);
}

// The grants below each owner come from one split of the login's grants from everywhere
// (caching_directory.h, OwnerIndex), which must say the same as those grants filtered by
// owner -- for every owner, for a mailbox that shares nothing, and after a clear() (a
// change seen in LDAP) from the new answer only, never from the old split.
TEST_F(CachingDirectoryTest, GrantsBelowEachOwnerAreTheLoginsGrantsSplitByOwner) {
    using mailgrant::testing::make_grant;
    inner.grants = {make_grant("uid=alice,dc=x", "a1", {"uid=bob,dc=x"}, {"INBOX"}, "reader"),
                    make_grant("uid=carol,dc=x", "c1", {"uid=bob,dc=x"}, {"*"}, "reader"),
                    make_grant("UID=Alice, DC=x", "a2", {"uid=bob,dc=x"}, {"Team"}, "editor"),
                    make_grant("uid=alice,dc=x", "a3", {"uid=eve,dc=x"}, {"INBOX"}, "reader")};
    CachingDirectory cache(inner, config, clock, "dc=x");
    cache.groups_and_grants("uid=bob,dc=x", "");
    const int calls = inner.calls;
    const struct {
        const char* owner;
        std::vector<std::string> names;
    } cases[] = {{"uid=alice,dc=x", {"a1", "a2"}}, {"uid=carol,dc=x", {"c1"}}, {"uid=dave,dc=x", {}},
                 {"uid=alice,dc=x", {"a1", "a2"}}};   // the second time from the kept split
    for (const auto& c : cases) {
        std::vector<std::string> names;
        for (const auto& grant : cache.groups_and_grants("uid=bob,dc=x", c.owner).grants) names.push_back(grant.name);
        EXPECT_EQ(names, c.names) << c.owner;
    }
    EXPECT_EQ(inner.calls, calls);
    inner.grants.resize(1);   // only a1 is left in LDAP
    cache.clear();
    cache.groups_and_grants("uid=bob,dc=x", "");
    EXPECT_EQ(cache.groups_and_grants("uid=bob,dc=x", "uid=alice,dc=x").grants.size(), 1u);
    EXPECT_TRUE(cache.groups_and_grants("uid=bob,dc=x", "uid=carol,dc=x").grants.empty());
}

// Which answer serves "bob's grants below alice" when several are cached: one fetched for
// alice herself comes first (it can hold grants the search from everywhere cannot see);
// a split never outlives the answer it came from, even when that answer was evicted and
// fetched again before the split expired.
TEST_F(CachingDirectoryTest, SplitByOwnerNeverHidesANewerAnswer) {
    using mailgrant::testing::make_grant;
    const auto names = [](const GroupsAndGrants& answer) {
        std::vector<std::string> out;
        for (const auto& grant : answer.grants) out.push_back(grant.name);
        return out;
    };
    const std::vector<std::string> both{"a1", "a2"}, one{"a1"};
    inner.grants = {make_grant("uid=alice,dc=x", "a1", {"uid=bob,dc=x"}, {"INBOX"}, "reader"),
                    make_grant("uid=alice,dc=x", "a2", {"uid=bob,dc=x"}, {"Team"}, "reader")};
    {
        CachingDirectory cache(inner, config, clock, "dc=x");
        EXPECT_EQ(names(cache.groups_and_grants("uid=bob,dc=x", "uid=alice,dc=x")), both);
        inner.grants.resize(1);
        cache.groups_and_grants("uid=bob,dc=x", "");
        EXPECT_EQ(names(cache.groups_and_grants("uid=bob,dc=x", "uid=alice,dc=x")), both);  // alice's own
    }
    inner.grants = {make_grant("uid=alice,dc=x", "a1", {"uid=bob,dc=x"}, {"INBOX"}, "reader"),
                    make_grant("uid=alice,dc=x", "a2", {"uid=bob,dc=x"}, {"Team"}, "reader")};
    config.max_entries = 1;   // one answer per question kind: another login's evicts bob's
    CachingDirectory cache(inner, config, clock, "dc=x");
    cache.groups_and_grants("uid=bob,dc=x", "");
    EXPECT_EQ(names(cache.groups_and_grants("uid=bob,dc=x", "uid=alice,dc=x")), both);  // split made
    cache.groups_and_grants("uid=eve,dc=x", "");   // evicts bob's answer, not the split
    inner.grants.resize(1);
    cache.groups_and_grants("uid=bob,dc=x", "");   // fetched again: a2 is gone
    EXPECT_EQ(names(cache.groups_and_grants("uid=bob,dc=x", "uid=alice,dc=x")), one);
}

// A mailbox read by DN outside where addresses are searched (an archived entry that
// still owns a grant) must not become the answer for its address: the address search
// decides that (it finds the live entry, or refuses an ambiguous address).
TEST_F(CachingDirectoryTest, OwnersByDnOutsideTheAddressBaseAreNotKeptUnderTheirAddress) {
    const struct {
        const char* address_base;
        bool kept;
    } cases[] = {{"ou=people,dc=x", false}, {"OU=Archive, dc=x", true}, {"dc=x", true}, {"", false}};
    for (const auto& c : cases) {
        mailgrant::testing::FakeDirectory inner_here;
        inner_here.add_account("old@example.com", Account{"uid=old,ou=archive,dc=x", {"old@example.com"}, false, {}});
        CachingDirectory cache(inner_here, config, clock, c.address_base);
        ASSERT_EQ(cache.find_mailboxes({"uid=old,ou=archive,dc=x"}).size(), 1u);
        const int calls = inner_here.calls;
        cache.find_mailbox("old@example.com");
        EXPECT_EQ(inner_here.calls == calls, c.kept) << c.address_base;
    }
}

// The policy daemon's cache (no address base) learns what an address means from
// mailboxes_by_address, whose answers are the address search's own: kept where
// find_mailbox and find_address (a sender's) look, negative ones shorter, errors never.
TEST_F(CachingDirectoryTest, AddressAnswersAreKeptWhereTheAddressQuestionLooks) {
    const std::vector<Account> asked{Account{"uid=alice,dc=x", {"Alice@example.com"}, false, {}},
                                     Account{"uid=zed,dc=x", {"zed@example.com"}, false, {}}};
    {
        CachingDirectory cache(inner, config, clock);  // an inner directory that settles nothing
        EXPECT_TRUE(cache.mailboxes_by_address(asked).empty());
        const int calls = inner.calls;
        EXPECT_TRUE(cache.find_mailbox("alice@example.com"));
        EXPECT_EQ(inner.calls, calls + 1);
    }
    inner.settle_addresses = true;
    CachingDirectory cache(inner, config, clock);
    inner.fail = true;
    EXPECT_THROW(cache.mailboxes_by_address(asked), LdapError);
    inner.fail = false;
    const int before = inner.calls;
    const auto answers = cache.mailboxes_by_address(asked);
    ASSERT_EQ(answers.size(), 2u);
    EXPECT_EQ(inner.calls, before + 1);
    EXPECT_TRUE(answers[0].second);
    EXPECT_FALSE(answers[1].second);
    EXPECT_TRUE(cache.find_mailbox("ALICE@example.com"));
    EXPECT_FALSE(cache.find_address("zed@example.com"));
    EXPECT_EQ(cache.mailboxes_by_address(asked).size(), 2u);
    EXPECT_EQ(inner.calls, before + 1);
    clock.advance(6);  // the negative answer is gone, the positive one is not
    EXPECT_FALSE(cache.find_mailbox("zed@example.com"));
    EXPECT_EQ(inner.calls, before + 2);
    EXPECT_TRUE(cache.find_address("alice@example.com"));
    EXPECT_EQ(inner.calls, before + 2);
    clock.advance(25);
    EXPECT_TRUE(cache.find_address("alice@example.com"));
    EXPECT_EQ(inner.calls, before + 3);
    // A change seen while the batch was being fetched: its answers may predate it.
    CachingDirectory fresh(inner, config, clock);
    inner.during_call = [&] { fresh.clear(); };
    EXPECT_EQ(fresh.mailboxes_by_address(asked).size(), 2u);
    inner.during_call = nullptr;
    const int after = inner.calls;
    EXPECT_TRUE(fresh.find_mailbox("alice@example.com"));
    EXPECT_EQ(inner.calls, after + 1);
    // A result built from the batch lives no longer than its shortest answer (the negative one).
    CachingDirectory scoped(inner, config, clock);
    FreshnessScope scope(clock.steady_now() + std::chrono::hours(1));
    scoped.mailboxes_by_address(asked);
    EXPECT_EQ(scope.expires().backstop, clock.steady_now() + std::chrono::seconds(config.negative_ttl_s));
}

TEST_F(CachingDirectoryTest, BatchedQuestionsCacheNoErrors) {
    CachingDirectory cache(inner, config, clock);
    inner.fail = true;
    EXPECT_THROW(cache.find_mailboxes({"uid=alice,dc=x"}), LdapError);
    EXPECT_THROW(cache.groups_and_grants("uid=alice,dc=x", ""), LdapError);
    inner.fail = false;
    EXPECT_EQ(cache.find_mailboxes({"uid=alice,dc=x"}).size(), 1u);
}

}  // namespace

// A sender decision's facts (issue 19): the first one asks the directory once; the same
// sender again asks nothing; the address's answer is find_mailbox(address)'s, the groups
// groups_of()'s; the grants (maybe only those with a send right) never answer
// groups_and_grants(); clear() drops them all.
TEST_F(CachingDirectoryTest, SenderFactsFillTheCachesTheyCanAnswer) {
    auto send = mailgrant::testing::make_grant("uid=alice,dc=x", "s", {"uid=bob,dc=x"}, {}, "");
    send.send_as = true;
    inner.grants = {send};
    inner.groups[normalize_dn("uid=bob,dc=x")] = {GroupMembership{"cn=g,dc=x", {"cn=g,dc=x"}}};
    CachingDirectory cache(inner, config, clock, "dc=x");
    const auto cold = cache.sender_facts("uid=bob,dc=x", "Alice@Example.com");
    ASSERT_TRUE(cold.mailbox);
    EXPECT_EQ(cold.mailbox->dn, "uid=alice,dc=x");
    ASSERT_EQ(cold.with.grants.size(), 1u);
    EXPECT_EQ(cold.with.groups.size(), 1u);
    const int asked = inner.calls;
    const auto warm = cache.sender_facts("UID=Bob,dc=x", "alice@example.com");
    EXPECT_EQ(inner.calls, asked);
    ASSERT_TRUE(warm.mailbox);
    EXPECT_EQ(warm.with.grants.size(), 1u);
    EXPECT_TRUE(cache.find_mailbox("ALICE@example.com"));
    EXPECT_EQ(cache.groups_of("uid=bob,dc=x").size(), 1u);
    EXPECT_EQ(inner.calls, asked);  // both kept by the sender's fetch
    cache.groups_and_grants("uid=bob,dc=x", "uid=alice,dc=x");
    EXPECT_EQ(inner.calls, asked + 2);  // its own answer (groups_of, grants_of): not the sender's
    EXPECT_FALSE(cache.sender_facts("uid=bob,dc=x", "nobody@example.com").mailbox);
    EXPECT_FALSE(cache.sender_facts("uid=bob,dc=x", "nobody@example.com").mailbox);
    EXPECT_EQ(inner.calls, asked + 3);  // "no such address" is kept too
    cache.clear();
    cache.sender_facts("uid=bob,dc=x", "alice@example.com");
    EXPECT_GT(inner.calls, asked + 3);
    EXPECT_THROW(cache.sender_facts("uid=bob,dc=x", "uid=alice,dc=x"), BadInput);  // never read as a DN
}

// An address already known (a shared namespace's owner, find_mailbox) costs the sender
// only its grants; LDAP trouble caches nothing.
TEST_F(CachingDirectoryTest, SenderFactsUseAKnownAddressAndCacheNoError) {
    CachingDirectory cache(inner, config, clock, "dc=x");
    cache.find_mailbox("alice@example.com");
    const int asked = inner.calls;
    EXPECT_TRUE(cache.sender_facts("uid=bob,dc=x", "alice@example.com").mailbox);
    EXPECT_EQ(inner.calls, asked + 2);  // groups_of and grants_of, not the address again
    inner.fail = true;
    EXPECT_THROW(cache.sender_facts("uid=carol,dc=x", "carol@example.com"), LdapError);
    inner.fail = false;
    EXPECT_FALSE(cache.sender_facts("uid=carol,dc=x", "carol@example.com").mailbox);
}
