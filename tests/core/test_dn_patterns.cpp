// Unit tests of core/src/dn_patterns.cpp: which DN gives which pattern for a login (and
// which give none), and what the pattern set remembers per domain, within its bounds.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "mailgrant/dn.h"
#include "mailgrant/dn_patterns.h"

using mailgrant::DnPatterns;

namespace {

struct DeriveCase {
    const char* login;
    const char* dn;
    const char* pattern;  // nullptr: none
};

const DeriveCase kDeriveCases[] = {
    {"alice@example.com", "uid=alice,ou=people,dc=example,dc=com", "uid=%n,ou=people,dc=example,dc=com"},
    {"Alice@Example.COM", "uid=alice,ou=people,dc=example,dc=com", "uid=%n,ou=people,dc=example,dc=com"},
    {"alice@example.com", "UID=Alice, ou=People,dc=example,dc=com", "UID=%n,ou=People,dc=example,dc=com"},
    {"alice@example.com", "mail=alice@example.com,ou=people,dc=example,dc=com", "mail=%u,ou=people,dc=example,dc=com"},
    {"gil", "uid=gil,ou=people,dc=example,dc=com", "uid=%u,ou=people,dc=example,dc=com"},
    {"a@b@example.com", "uid=a@b,ou=people,dc=example,dc=com", "uid=%n,ou=people,dc=example,dc=com"},
    // a '%' in the rest stays literal (written %%); an escaped character in the value
    {"alice@example.com", "uid=alice,ou=100%,dc=example,dc=com", "uid=%n,ou=100%%,dc=example,dc=com"},
    {"a,b@example.com", "uid=a\\,b,ou=people,dc=example,dc=com", "uid=%n,ou=people,dc=example,dc=com"},
    {"alice@example.com", "uid=alice", "uid=%n"},
    // no pattern: another value, a multi-valued RDN, no DN, nothing to learn from
    {"alice@example.com", "cn=Alice Smith,ou=people,dc=example,dc=com", nullptr},
    {"alice@example.com", "uid=alice+cn=Alice,ou=people,dc=example,dc=com", nullptr},
    {"alice@example.com", "uid=alice2,ou=people,dc=example,dc=com", nullptr},
    {"alice@example.com", "not a dn", nullptr},
    {"alice@example.com", "", nullptr},
    {"", "uid=alice,ou=people,dc=example,dc=com", nullptr},
    {"example.com", "uid=,ou=people", nullptr},
};

TEST(DnPatterns, DerivesThePatternThatGivesTheDnBack) {
    for (const auto& c : kDeriveCases) {
        const auto got = DnPatterns::derive(c.login, c.dn);
        const std::string key = std::string(c.login) + " / " + c.dn;
        if (!c.pattern) {
            EXPECT_FALSE(got) << key << " gave " << got.value_or("");
            continue;
        }
        ASSERT_TRUE(got) << key;
        EXPECT_EQ(*got, c.pattern) << key;
        const auto filled = mailgrant::fill_dn_template(*got, c.login);
        ASSERT_TRUE(filled) << key;
        EXPECT_EQ(mailgrant::normalize_dn(*filled), mailgrant::normalize_dn(c.dn)) << key;
    }
}

TEST(DnPatterns, RefusesWhatIsTooLong) {
    const std::string value(400, 'a');
    EXPECT_FALSE(DnPatterns::derive(value + "@example.com", "uid=" + value + ",dc=example,dc=com"));  // login > 320
    const std::string rest = "ou=" + std::string(1100, 'x');
    EXPECT_FALSE(DnPatterns::derive("alice@example.com", "uid=alice," + rest));  // DN > 1024
}

TEST(DnPatterns, RemembersOnePatternPerDomain) {
    DnPatterns patterns;
    EXPECT_EQ(patterns.for_login("alice@example.com"), "");
    patterns.learn("alice@example.com", "uid=alice,ou=people,dc=example,dc=com");
    EXPECT_EQ(patterns.for_login("BOB@EXAMPLE.COM"), "uid=%n,ou=people,dc=example,dc=com");
    EXPECT_EQ(patterns.for_login("bob@example.org"), "");  // another domain: nothing yet
    EXPECT_EQ(patterns.for_login("bob"), "");
    patterns.learn("carol@example.com", "cn=Carol Smith,ou=people,dc=example,dc=com");  // fits nothing: kept
    EXPECT_EQ(patterns.for_login("bob@example.com"), "uid=%n,ou=people,dc=example,dc=com");
    patterns.learn("dave@example.com", "uid=dave,ou=staff,dc=example,dc=com");  // another: replaces
    EXPECT_EQ(patterns.for_login("bob@example.com"), "uid=%n,ou=staff,dc=example,dc=com");
    patterns.learn("dave@example.com", "uid=dave,ou=staff,dc=example,dc=com");  // the same: no change
    EXPECT_EQ(patterns.counts().learned.load(), 2u);
}

TEST(DnPatterns, LearnsNoMoreThanItsDomainsAndCountsIntoTheSink) {
    DnPatterns patterns;
    mailgrant::DnGuessCounts sink;
    patterns.count_in(&sink);
    for (std::size_t i = 0; i < DnPatterns::kMaxDomains + 10; ++i) {
        const std::string domain = "d" + std::to_string(i) + ".example";
        patterns.learn("a@" + domain, "uid=a,dc=" + domain);
    }
    EXPECT_EQ(patterns.counts().learned.load(), DnPatterns::kMaxDomains);
    EXPECT_EQ(sink.learned.load(), DnPatterns::kMaxDomains);
    EXPECT_EQ(patterns.for_login("b@d0.example"), "uid=%n,dc=d0.example");
    EXPECT_EQ(patterns.for_login("b@d" + std::to_string(DnPatterns::kMaxDomains) + ".example"), "");
    patterns.guessed("b@d0.example", true);
    patterns.guessed("b@d0.example", false);
    EXPECT_EQ(sink.guesses.load(), 2u);
    EXPECT_EQ(sink.right.load(), 1u);
    patterns.fell_back();
    patterns.fell_back_proved("b@d0.example");  // a step toward barring, not another count
    EXPECT_EQ(sink.fallbacks.load(), 1u);
}

// A domain whose guesses cannot be settled stops guessing after kMaxFallbacks in a row;
// a settled one in between starts the count again, and other domains keep theirs.
TEST(DnPatterns, UnsettledGuessesInARowDropTheDomainsPattern) {
    DnPatterns patterns;
    const std::string dn = "uid=alice,ou=people,dc=example,dc=com", pattern = "uid=%n,ou=people,dc=example,dc=com";
    patterns.learn("alice@example.com", dn);
    patterns.learn("alice@example.org", "uid=alice,ou=people,dc=example,dc=org");
    const auto proved = [&](const char* login) {
        patterns.fell_back();
        patterns.fell_back_proved(login);
    };
    for (unsigned i = 1; i < DnPatterns::kMaxFallbacks; ++i) proved("bob@example.com");
    patterns.guessed("carol@example.com", false);  // settled: the count starts again
    for (unsigned i = 1; i < DnPatterns::kMaxFallbacks; ++i) proved("bob@example.com");
    // Not proved (the plain search found another DN than the guess): counted, never barring.
    for (unsigned i = 0; i < 2 * DnPatterns::kMaxFallbacks; ++i) patterns.fell_back();
    EXPECT_EQ(patterns.for_login("bob@example.com"), pattern);
    proved("bob@example.com");
    EXPECT_EQ(patterns.for_login("bob@example.com"), "");
    patterns.learn("alice@example.com", dn);  // barred: not learned again
    EXPECT_EQ(patterns.for_login("bob@example.com"), "");
    EXPECT_EQ(patterns.for_login("bob@example.org"), "uid=%n,ou=people,dc=example,dc=org");
    EXPECT_EQ(patterns.counts().fallbacks.load(), 2u * (DnPatterns::kMaxFallbacks - 1) + 1u + 2u * DnPatterns::kMaxFallbacks);
    EXPECT_EQ(patterns.counts().learned.load(), 2u);
    proved("nobody@example.net");  // no pattern there: only counted
    EXPECT_EQ(patterns.for_login("nobody@example.net"), "");
}

// The service's connections share one set: learning and reading from several threads.
TEST(DnPatterns, IsSafeToShareBetweenThreads) {
    DnPatterns patterns;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&patterns, t] {
            for (int i = 0; i < 500; ++i) {
                const std::string domain = "d" + std::to_string((i + t) % 50) + ".example";
                patterns.learn("u@" + domain, "uid=u,ou=" + std::to_string(t % 2) + ",dc=" + domain);
                (void)patterns.for_login("x@" + domain);
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_FALSE(patterns.for_login("x@d7.example").empty());
}

}  // namespace
