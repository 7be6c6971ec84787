// Unit tests for cache.h and caching_directory.h.
#include "mailgrant/cache.h"

#include <gtest/gtest.h>

#include "fakes.h"
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

class CachingDirectoryTest : public ::testing::Test {
protected:
    void SetUp() override {
        inner.add_account("alice@example.com", Account{"uid=alice,dc=x", {"alice@example.com"}, false});
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

}  // namespace
