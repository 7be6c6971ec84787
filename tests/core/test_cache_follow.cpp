// Unit tests for the two ends of a cached answer (cache.h's Expiry and FollowFlag): kept up
// to cache.follow_ttl_s while the change feed follows LDAP, cache.ttl_s (the backstop) as
// soon as it does not, for entries stored while it did too; and the same for what is built
// from them (FreshnessScope: a login's namespace answer in answers.h).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fakes.h"
#include "mailgrant/answers.h"
#include "mailgrant/cache.h"
#include "mailgrant/caching_directory.h"
#include "mailgrant/gentime.h"
#include "mailgrant/shared_namespace.h"

using namespace mailgrant;
using namespace mailgrant::testing::dns;
using namespace std::chrono_literals;
using mailgrant::testing::make_grant;

namespace {

struct ExpiryCase {
    const char* name;
    int ttl_s, follow_ttl_s;
    int backstop_s, followed_s;  // from the fetch; -1 = not kept at all
};

class ExpiryAfter : public ::testing::TestWithParam<ExpiryCase> {};

TEST_P(ExpiryAfter, GivesBothEnds) {
    const ExpiryCase& c = GetParam();
    const Expiry::TimePoint now{std::chrono::seconds(1000)};
    const Expiry e = Expiry::after(now, std::chrono::seconds(c.ttl_s), std::chrono::seconds(c.follow_ttl_s));
    if (c.backstop_s < 0) {
        EXPECT_EQ(e.at(false), now);
        EXPECT_EQ(e.at(true), now);
        return;
    }
    EXPECT_EQ(e.at(false), now + std::chrono::seconds(c.backstop_s));
    EXPECT_EQ(e.at(true), now + std::chrono::seconds(c.followed_s));
}

INSTANTIATE_TEST_SUITE_P(
    Table, ExpiryAfter,
    ::testing::Values(ExpiryCase{"followed_longer", 30, 600, 30, 600},
                      ExpiryCase{"follow_off", 30, 0, 30, 30},
                      ExpiryCase{"follow_shorter_than_ttl", 30, 10, 30, 30},  // never shortens
                      ExpiryCase{"ttl_zero_keeps_nothing", 0, 600, -1, -1},   // caching off stays off
                      ExpiryCase{"negative_answer", 5, 600, 5, 600}),
    [](const ::testing::TestParamInfo<ExpiryCase>& info) { return std::string(info.param.name); });

// What the feed's log line says it keeps is what the caches keep (caching off: nothing).
TEST(Expiry, FollowedTtlIsTheRuleOfAfter) {
    EXPECT_EQ(followed_ttl(30s, 600s), 600s);
    EXPECT_EQ(followed_ttl(30s, 10s), 30s);
    EXPECT_EQ(followed_ttl(0s, 600s), 0s);
}

TEST(Expiry, LimitTakesTheEarlierOfEachEnd) {
    const Expiry::TimePoint t0{};
    Expiry e = Expiry::after(t0, 30s, 600s);
    e.limit(Expiry::after(t0 + 10s, 30s, 100s));  // fetched later, followed for less
    EXPECT_EQ(e.at(false), t0 + 30s);
    EXPECT_EQ(e.at(true), t0 + 110s);
    e.limit(t0 + 20s);  // a validity edge: both ends
    EXPECT_EQ(e.at(false), t0 + 20s);
    EXPECT_EQ(e.at(true), t0 + 20s);
}

TEST(TtlCacheFollowed, LivesToTheLaterEndOnlyWhileFollowing) {
    ManualClock clock;
    auto following = std::make_shared<FollowFlag>();
    TtlCache<std::string, int> cache(10, clock, 0, following);
    following->set(true);
    cache.put_until("a", 1, Expiry::after(clock.steady_now(), 30s, 600s));
    clock.advance(100);
    EXPECT_EQ(cache.get("a"), 1) << "followed: kept past cache.ttl_s";
    following->set(false);  // the feed went down: the backstop holds again
    EXPECT_EQ(cache.get("a"), std::nullopt);
    EXPECT_EQ(cache.size(), 0u);
    // Not followed when stored: dropped at the backstop, and kept again if the flag returns.
    cache.put_until("b", 2, Expiry::after(clock.steady_now(), 30s, 600s));
    clock.advance(31);
    following->set(true);
    EXPECT_EQ(cache.get("b"), 2);
    following->set(false);
    EXPECT_EQ(cache.get("b"), std::nullopt);
    // Past its backstop already while not followed: not stored at all.
    cache.put_until("c", 3, Expiry(clock.steady_now() - 1s, clock.steady_now() + 500s));
    following->set(true);
    EXPECT_EQ(cache.get("c"), std::nullopt);
}

TEST(TtlCacheFollowed, WithoutAFlagTheBackstopIsTheEnd) {
    ManualClock clock;
    TtlCache<std::string, int> cache(10, clock);
    cache.put_until("a", 1, Expiry::after(clock.steady_now(), 30s, 600s));
    clock.advance(30);
    EXPECT_EQ(cache.get("a"), std::nullopt);
}

class CachingDirectoryFollowTest : public ::testing::Test {
protected:
    void SetUp() override {
        inner.add_account("alice@example.com", Account{"uid=alice,dc=x", {"alice@example.com"}, false, {}});
        config.ttl_s = 30;
        config.negative_ttl_s = 5;
        config.follow_ttl_s = 600;
    }
    ManualClock clock;
    mailgrant::testing::FakeDirectory inner;
    CacheConfig config;
    std::shared_ptr<FollowFlag> following = std::make_shared<FollowFlag>();
};

TEST_F(CachingDirectoryFollowTest, PositiveAndNegativeAnswersLiveFollowTtlWhileFollowed) {
    CachingDirectory cache(inner, config, clock, {}, following);
    following->set(true);
    EXPECT_TRUE(cache.find_login("alice@example.com"));
    EXPECT_FALSE(cache.find_login("nobody"));
    EXPECT_EQ(inner.calls, 2);
    clock.advance(599);
    EXPECT_TRUE(cache.find_login("alice@example.com"));
    EXPECT_FALSE(cache.find_login("nobody"));
    EXPECT_EQ(inner.calls, 2) << "followed: no fetch within cache.follow_ttl_s";
    EXPECT_EQ(cache.stats().followed_hits, 2u);
    clock.advance(1);
    EXPECT_TRUE(cache.find_login("alice@example.com"));
    EXPECT_EQ(inner.calls, 3) << "cache.follow_ttl_s is an end too";
}

TEST_F(CachingDirectoryFollowTest, TheBackstopHoldsOnceTheFeedIsDown) {
    CachingDirectory cache(inner, config, clock, {}, following);
    following->set(true);
    EXPECT_TRUE(cache.find_login("alice@example.com"));
    clock.advance(29);
    following->set(false);
    EXPECT_TRUE(cache.find_login("alice@example.com"));  // within cache.ttl_s: kept
    EXPECT_EQ(inner.calls, 1);
    EXPECT_EQ(cache.stats().followed_hits, 0u);
    clock.advance(1);
    EXPECT_TRUE(cache.find_login("alice@example.com"));
    EXPECT_EQ(inner.calls, 2) << "down: cache.ttl_s after the fetch, though it was stored while followed";
}

TEST_F(CachingDirectoryFollowTest, FollowTtlZeroKeepsTheTtl) {
    config.follow_ttl_s = 0;
    CachingDirectory cache(inner, config, clock, {}, following);
    following->set(true);
    EXPECT_TRUE(cache.find_login("alice@example.com"));
    clock.advance(30);
    EXPECT_TRUE(cache.find_login("alice@example.com"));
    EXPECT_EQ(inner.calls, 2);
}

// A login's namespace answer is built from cache entries: followed, it lives as they do.
TEST(AnswersFollowed, ANamespaceAnswerIsReusedPastTheTtlOnlyWhileFollowed) {
    mailgrant::testing::FakeDirectory dir;
    dir.add_account("alice@example.com", Account{kAlice, {"alice@example.com"}, false, {}});
    dir.add_account("bob@example.com", Account{kBob, {"bob@example.com"}, false, {}});
    dir.grants.push_back(make_grant(kAlice, "projects", {kBob}, {"Projects/*"}, "reader"));
    ManualClock clock;
    clock.set_wall(*parse_generalized_time("20250615120000Z"));
    Config config;
    config.cache.ttl_s = 30;
    config.cache.negative_ttl_s = 30;
    config.cache.follow_ttl_s = 600;
    auto following = std::make_shared<FollowFlag>();
    CachingDirectory cache(dir, config.cache, clock, {}, following);
    Decider decider(cache, clock);
    Answers answers(
        config, cache, decider, clock, [](const std::string&, const std::string&) { return false; },
        Answers::kRememberedNamespaceBytes, following);
    NamespaceCounts counts;
    answers.count_namespaces_in(&counts);
    const auto ask = [&] {
        const ServiceReply reply = answers.answer({ServiceVerb::Namespace, {"bob@example.com"}});
        EXPECT_EQ(reply.status, ServiceReply::Status::Ok) << reply.message;
        return namespace_from(reply).size();
    };
    following->set(true);
    EXPECT_EQ(ask(), 1u);
    clock.advance(300);
    const int calls = dir.calls;
    EXPECT_EQ(ask(), 1u);
    EXPECT_EQ(dir.calls, calls);
    EXPECT_EQ(counts.built.load(), 1u);
    EXPECT_EQ(counts.followed.load(), 1u);
    following->set(false);
    EXPECT_EQ(ask(), 1u);
    EXPECT_GT(dir.calls, calls) << "not followed: built again from fresh entries";
    EXPECT_EQ(counts.built.load(), 2u);
    EXPECT_EQ(counts.followed.load(), 1u);
}

}  // namespace
