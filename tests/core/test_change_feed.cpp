// Unit tests for change_feed.h (backoff, the sync filter, an unreachable server) and the
// cache generations it relies on (cache.h, caching_directory.h). The feed against a real
// slapd with syncprov: tests/postfix-policyd/test_policyd_change_feed.py.
#include "mailgrant/change_feed.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "fakes.h"
#include "mailgrant/cache.h"
#include "mailgrant/caching_directory.h"
#include "mailgrant/ldap_session.h"

using namespace mailgrant;
using namespace std::chrono_literals;

namespace {

TEST(Backoff, DoublesUpToTheMaximumAndResets) {
    Backoff b(250ms, 2000ms);
    EXPECT_EQ(b.next(), 250ms);
    EXPECT_EQ(b.next(), 500ms);
    EXPECT_EQ(b.next(), 1000ms);
    EXPECT_EQ(b.next(), 2000ms);
    EXPECT_EQ(b.next(), 2000ms);
    b.reset();
    EXPECT_EQ(b.next(), 250ms);
}

TEST(Backoff, DaemonValuesStayBounded) {
    Backoff b(ChangeFeed::kFirstRetry, ChangeFeed::kMaxRetry);
    std::chrono::milliseconds last{};
    for (int i = 0; i < 100; ++i) last = b.next();
    EXPECT_EQ(last, ChangeFeed::kMaxRetry);
}

TEST(ChangeFilter, CoversGrantsGroupsAndAddresses) {
    Config c;
    c.ldap.base = "dc=x";
    EXPECT_EQ(change_filter(c),
              "(|(objectClass=mailGrant)(objectClass=mailSharedMailbox)(objectClass=groupOfNames)"
              "(objectClass=groupOfUniqueNames)(member=*)(uniqueMember=*)(mail=*)(mailLocalAddress=*)"
              "(&(objectClass=inetOrgPerson)(|(uid=*)(mail=*)))(|(mail=*)(mailLocalAddress=*))"
              "(|(&(objectClass=groupOfNames)(member=*))(&(objectClass=groupOfUniqueNames)(uniqueMember=*))))");
}

// A login without an address, a site's own group class: followed too, since their answers
// live cache.follow_ttl_s.
TEST(ChangeFilter, CoversWhateverTheLookupFiltersCouldFind) {
    Config c;
    c.ldap.base = "dc=x";
    c.users.login_filter = "(&(objectClass=account)(uid=%s@corp))";
    c.groups.member_filter = "(&(objectClass=posixGroup)(memberUid=%s))";
    const std::string f = change_filter(c);
    EXPECT_NE(f.find("(&(objectClass=account)(uid=*@corp))"), std::string::npos) << f;
    EXPECT_NE(f.find("(&(objectClass=posixGroup)(memberUid=*))"), std::string::npos) << f;
    EXPECT_EQ(f.find("%s"), std::string::npos) << f;
}

// Where "*" would be no wildcard, what the filter finds is not known: every entry is followed.
TEST(ChangeFilter, FollowsEverythingWhenALookupFilterCannotBeWidened) {
    for (const char* login : {"(uid:caseExactMatch:=%s)", "(cn~=%s)", "(uidNumber>=%s)", "(&(objectClass=x)(uid<=%s))"}) {
        Config c;
        c.ldap.base = "dc=x";
        c.users.login_filter = login;
        EXPECT_EQ(change_filter(c), "(objectClass=*)") << login;
    }
    Config c;
    c.ldap.base = "dc=x";
    c.users.login_filter = "(&(objectClass=x)(|(uid=%s)(cn=pre%spost)))";  // both are values
    EXPECT_NE(change_filter(c).find("(&(objectClass=x)(|(uid=*)(cn=pre*post)))"), std::string::npos);
}

TEST(ChangeFilter, FollowsTheConfiguredNames) {
    Config c;
    c.schema.grant_object_class = "siteGrant";
    c.groups.member_attributes = {"memberUid"};
    c.groups.membership = MembershipMode::MemberOf;
    c.groups.member_of_attribute = "isMemberOf";
    c.users.mail_attribute = "mailPrimaryAddress";
    c.users.alias_attributes = {};
    // the lookup filters as such a site writes them (they are in the change filter too)
    c.groups.member_filter = "(memberUid=%s)";
    c.users.address_filter = "(mailPrimaryAddress=%s)";
    const std::string f = change_filter(c);
    EXPECT_NE(f.find("(objectClass=siteGrant)"), std::string::npos);
    EXPECT_NE(f.find("(memberUid=*)"), std::string::npos);
    EXPECT_NE(f.find("(isMemberOf=*)"), std::string::npos);
    EXPECT_NE(f.find("(mailPrimaryAddress=*)"), std::string::npos);
    EXPECT_EQ(f.find("(member=*)"), std::string::npos);
    EXPECT_EQ(f.find("mailLocalAddress"), std::string::npos);
}

TEST(TtlCacheGeneration, ClearCountsAndRefusesValuesFetchedBeforeIt) {
    ManualClock clock;
    TtlCache<std::string, int> cache(10, clock);
    cache.put("a", 1, 30s);
    cache.put("b", 2, 30s);
    const auto fetched_at = cache.generation();  // a fetch starts ...
    EXPECT_EQ(cache.clear(), 2u);                 // ... a change is seen meanwhile ...
    cache.put("a", 1, 30s, fetched_at);           // ... its (maybe stale) value is not kept
    EXPECT_EQ(cache.get("a"), std::nullopt);
    cache.put("a", 3, 30s, cache.generation());  // fetched after the change: kept
    EXPECT_EQ(cache.get("a"), 3);
    cache.put("c", 4, 30s);  // no generation given: kept as before
    EXPECT_EQ(cache.size(), 2u);
}

TEST(CachingDirectoryClear, ReturnsTheEntriesItDropped) {
    ManualClock clock;
    mailgrant::testing::FakeDirectory inner;
    Account bob;
    bob.dn = "uid=bob,dc=x";
    bob.addresses = {"bob@x"};
    inner.add_account("bob", bob);
    CachingDirectory cache(inner, CacheConfig{}, clock);
    cache.find_login("bob");
    cache.find_mailbox("bob@x");
    cache.find_mailbox("nobody@x");  // negative answers are dropped too
    EXPECT_EQ(cache.clear(), 3u);
    const int calls = inner.calls;
    cache.find_login("bob");
    EXPECT_EQ(inner.calls, calls + 1);  // asked again
}

// A clear() while an answer is being fetched (a change seen meanwhile): the answer is
// returned but not kept, since it may predate the change. Reading the generation after
// the fetch instead of before would keep it, and this test would fail.
TEST(CachingDirectoryClear, AnswerFetchedAcrossAClearIsNotKept) {
    ManualClock clock;
    mailgrant::testing::FakeDirectory inner;
    Account bob;
    bob.dn = "uid=bob,dc=x";
    bob.addresses = {"bob@x"};
    inner.add_account("bob", bob);
    CachingDirectory cache(inner, CacheConfig{}, clock);
    int clears = 0;
    inner.during_call = [&] {
        if (clears++ == 0) cache.clear();  // the first fetch only
    };
    ASSERT_TRUE(cache.find_login("bob").has_value());
    EXPECT_EQ(inner.calls, 1);
    ASSERT_TRUE(cache.find_login("bob").has_value());
    EXPECT_EQ(inner.calls, 2) << "fetched across a clear: not kept, asked again";
    ASSERT_TRUE(cache.find_login("bob").has_value());
    EXPECT_EQ(inner.calls, 2) << "fetched after the clear: kept";
    // The same for the batched mailbox lookup.
    clears = 0;
    const int before = inner.calls;
    ASSERT_EQ(cache.find_mailboxes({"uid=bob,dc=x"}).size(), 1u);
    ASSERT_EQ(cache.find_mailboxes({"uid=bob,dc=x"}).size(), 1u);
    EXPECT_EQ(inner.calls, before + 2) << "fetched across a clear: not kept";
    ASSERT_EQ(cache.find_mailboxes({"uid=bob,dc=x"}).size(), 1u);
    EXPECT_EQ(inner.calls, before + 2);
}

TEST(ClearCoalescer, FirstChangeClearsAtOnceTheBurstGetsOneTrailingClear) {
    ClearCoalescer c(100ms);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(c.due().has_value());
    EXPECT_TRUE(c.change(t0));  // a revocation is obeyed at once
    EXPECT_FALSE(c.due().has_value());
    EXPECT_FALSE(c.change(t0 + 10ms));  // inside the window: left to the trailing clear
    EXPECT_FALSE(c.change(t0 + 50ms));
    ASSERT_TRUE(c.due().has_value());
    EXPECT_EQ(*c.due(), t0 + 100ms);
    EXPECT_FALSE(c.trailing(t0 + 99ms));  // not yet due
    EXPECT_TRUE(c.trailing(t0 + 100ms));  // one clear for both changes
    EXPECT_FALSE(c.trailing(t0 + 300ms)) << "nothing pending any more";
    EXPECT_FALSE(c.due().has_value());
    EXPECT_FALSE(c.change(t0 + 150ms));  // within the window of the trailing clear
    EXPECT_EQ(*c.due(), t0 + 200ms);
    EXPECT_TRUE(c.change(t0 + 260ms)) << "a change after the window clears at once (covers the pending one)";
    EXPECT_FALSE(c.due().has_value());
}

TEST(ClearCoalescer, ARefreshClearCoversWhatIsPending) {
    ClearCoalescer c(100ms);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(c.change(t0));
    EXPECT_FALSE(c.change(t0 + 1ms));
    c.cleared(t0 + 2ms);
    EXPECT_FALSE(c.due().has_value());
    EXPECT_FALSE(c.change(t0 + 3ms)) << "the refresh clear opened a window too";
}

// No server: the feed logs the outage once, keeps retrying, and stops when told.
TEST(ChangeFeed, UnreachableServerIsOneLogLineAndStopEndsIt) {
    Config c;
    c.ldap.base = "dc=x";
    c.ldap.uris = {"ldap://127.0.0.1:1"};  // nothing listens there
    c.ldap.server_state_file = "";
    c.ldap.network_timeout_ms = 500;
    std::mutex m;
    std::vector<std::string> lines;
    int invalidations = 0;
    ChangeFeed feed(
        c,
        [&] {
            ++invalidations;
            return std::size_t{0};
        },
        [&](const std::string& line) {
            std::lock_guard<std::mutex> lock(m);
            lines.push_back(line);
        });
    const auto opens = ldap_open_stats().opens;
    feed.start();
    for (int i = 0; i < 500 && ldap_open_stats().opens < opens + 3; ++i) std::this_thread::sleep_for(20ms);
    EXPECT_GE(ldap_open_stats().opens, opens + 3);  // retried (250 + 500 ms apart)
    EXPECT_EQ(feed.stats().state, FeedState::Down);
    feed.stop();
    EXPECT_EQ(feed.stats().state, FeedState::Off);
    std::lock_guard<std::mutex> lock(m);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("sync connection to ldap://127.0.0.1:1 lost or not opened"), std::string::npos);
    EXPECT_EQ(invalidations, 0);
    EXPECT_EQ(feed.stats().reconnects, 0u);
}

}  // namespace
