// Unit tests for answers.h's remembered "namespace" answers: built once per login and
// answered again without reading the directory, for no longer than the cache entries they
// came from (cache.ttl_s), never past a validity edge of one of the login's grants (a
// pending grant starting, an active one ending), not after forget() (the change feed, a
// write through the plugin), and not at all when forget() ran while one was being built.
#include "mailgrant/answers.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fakes.h"
#include "mailgrant/caching_directory.h"
#include "mailgrant/gentime.h"
#include "mailgrant/shared_namespace.h"

using namespace mailgrant;
using namespace mailgrant::testing::dns;
using mailgrant::testing::make_grant;

namespace {

class AnswersNamespaceTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir.add_account("alice@example.com", Account{kAlice, {"alice@example.com"}, false, {}});
        dir.add_account("bob@example.com", Account{kBob, {"bob@example.com"}, false, {}});
        dir.add_account("carol@example.com", Account{kCarol, {"carol@example.com"}, false, {}});
        clock.set_wall(*parse_generalized_time("20250615120000Z"));
        dir.grants.push_back(make_grant(kAlice, "projects", {kBob}, {"Projects/*"}, "reader"));
        build(30);
    }
    void build(int ttl_s, std::size_t remembered_bytes = Answers::kRememberedNamespaceBytes) {
        config.cache.ttl_s = ttl_s;
        config.cache.negative_ttl_s = ttl_s;
        cache = std::make_unique<CachingDirectory>(dir, config.cache, clock);
        decider = std::make_unique<Decider>(*cache, clock);
        answers = std::make_unique<Answers>(
            config, *cache, *decider, clock, [](const std::string&, const std::string&) { return false; },
            remembered_bytes);
    }
    // The owners bob's namespace answer lists, and how many directory calls it took.
    std::vector<std::string> owners(int* calls = nullptr) {
        const int before = dir.calls;
        const ServiceReply reply = answers->answer({ServiceVerb::Namespace, {"bob@example.com"}});
        EXPECT_EQ(reply.status, ServiceReply::Status::Ok) << reply.message;
        if (calls) *calls = dir.calls - before;
        std::vector<std::string> out;
        for (const auto& mailbox : namespace_from(reply)) out.push_back(mailbox.address);
        return out;
    }

    mailgrant::testing::FakeDirectory dir;
    ManualClock clock;
    Config config;
    std::unique_ptr<CachingDirectory> cache;
    std::unique_ptr<Decider> decider;
    std::unique_ptr<Answers> answers;
};

const std::vector<std::string> kAliceOnly = {"alice@example.com"};

TEST_F(AnswersNamespaceTest, KeptNoLongerThanTheCacheEntriesItWasBuiltFrom) {
    int calls = 0;
    EXPECT_EQ(owners(&calls), kAliceOnly);
    EXPECT_GT(calls, 0);
    // the directory's cache would answer too; the remembered answer needs not even that
    cache->clear();
    EXPECT_EQ(owners(&calls), kAliceOnly);
    EXPECT_EQ(calls, 0);
    build(30);  // a fresh cache and memo: the answer below is built, then kept 30 s
    EXPECT_EQ(owners(), kAliceOnly);
    dir.grants.clear();  // unseen: no change feed here
    clock.advance(29);
    EXPECT_EQ(owners(&calls), kAliceOnly);
    EXPECT_EQ(calls, 0);
    clock.advance(2);  // the cache entries it came from have expired: so has it
    EXPECT_EQ(owners(&calls), std::vector<std::string>{});
    EXPECT_GT(calls, 0);
}

TEST_F(AnswersNamespaceTest, CountsBuiltAndReusedAnswers) {
    NamespaceCounts counts;
    answers->count_namespaces_in(&counts);
    EXPECT_EQ(owners(), kAliceOnly);
    EXPECT_EQ(counts.built.load(), 1u);
    EXPECT_EQ(counts.reused.load(), 0u);
    EXPECT_EQ(owners(), kAliceOnly);
    EXPECT_EQ(counts.built.load(), 1u);
    EXPECT_EQ(counts.reused.load(), 1u);
    answers->forget();
    EXPECT_EQ(owners(), kAliceOnly);
    EXPECT_EQ(counts.built.load(), 2u);
    EXPECT_EQ(counts.reused.load(), 1u);
    // other questions are not namespace answers
    answers->answer({ServiceVerb::Rights, {"bob@example.com", "alice@example.com", "Projects/x"}});
    EXPECT_EQ(counts.built.load() + counts.reused.load(), 3u);
}

TEST_F(AnswersNamespaceTest, AnAnswerLargerThanTheByteBudgetIsNotKept) {
    build(30, 64);  // smaller than any namespace answer
    EXPECT_EQ(owners(), kAliceOnly);
    cache->clear();
    int calls = 0;
    EXPECT_EQ(owners(&calls), kAliceOnly);
    EXPECT_GT(calls, 0);  // built again: nothing was kept
}

TEST(ReplyBytes, GrowWithTheItemsAndTheirText) {
    ServiceReply small;
    small.items = {{"mailbox", "a@example.com"}};
    ServiceReply big = small;
    for (int i = 0; i < 1000; ++i) big.items.push_back({"mailbox", "sharer-" + std::to_string(i) + "@example.com"});
    EXPECT_GT(reply_bytes(small), 2 * sizeof(std::string));
    // at least the text and a string per field; the answer of 1,000 sharers stays below
    // ~200 bytes per mailbox, so kRememberedNamespaceBytes keeps hundreds of them
    EXPECT_GT(reply_bytes(big), reply_bytes(small) + 1000 * (2 * sizeof(std::string) + 20));
    EXPECT_LT(reply_bytes(big), 1001 * 200u);
}

TEST_F(AnswersNamespaceTest, BuiltFromOlderCacheEntriesItExpiresWithThem) {
    EXPECT_EQ(owners(), kAliceOnly);  // the cache's entries: until +30
    answers->forget();                // the answer only: the cache keeps its entries
    clock.advance(20);
    int calls = 0;
    EXPECT_EQ(owners(&calls), kAliceOnly);  // built again from cache hits
    EXPECT_EQ(calls, 0);
    dir.grants.clear();
    clock.advance(11);  // +31: those entries are gone, and so is the answer built from them
    EXPECT_EQ(owners(), std::vector<std::string>{});
}

TEST_F(AnswersNamespaceTest, NotKeptWithoutACache) {
    build(0);
    int calls = 0;
    EXPECT_EQ(owners(), kAliceOnly);
    EXPECT_EQ(owners(&calls), kAliceOnly);
    EXPECT_GT(calls, 0);
}

TEST_F(AnswersNamespaceTest, ForgetDropsItAndOneForgottenWhileBuildingIsNotKept) {
    EXPECT_EQ(owners(), kAliceOnly);
    dir.grants.clear();
    cache->clear();  // engine.h's order: the cache, then what was built from it
    EXPECT_EQ(answers->forget(), 1u);
    EXPECT_EQ(owners(), std::vector<std::string>{});

    dir.grants.push_back(make_grant(kAlice, "projects", {kBob}, {"Projects/*"}, "reader"));
    cache->clear();
    answers->forget();
    bool once = true;
    dir.during_call = [&] {
        if (once) answers->forget();  // a change seen while the answer is built
        once = false;
    };
    EXPECT_EQ(owners(), kAliceOnly);
    dir.during_call = nullptr;
    cache->clear();
    int calls = 0;
    EXPECT_EQ(owners(&calls), kAliceOnly);
    EXPECT_GT(calls, 0) << "an answer built across forget() was kept";
}

TEST_F(AnswersNamespaceTest, NeverPastAValidityEdgeOfTheLoginsGrants) {
    const std::time_t now = clock.wall_now();
    Grant ending = make_grant(kAlice, "ending", {kBob}, {"Old"}, "reader");
    ending.not_after = now + 10;
    Grant pending = make_grant(kCarol, "pending", {kBob}, {"New"}, "reader");
    pending.not_before = now + 20;
    dir.grants = {ending, pending};
    build(300);  // cache entries far outlive both edges
    EXPECT_EQ(owners(), kAliceOnly);
    clock.advance(9);
    EXPECT_EQ(owners(), kAliceOnly);
    clock.advance(2);  // past not_after: alice's grant has ended
    EXPECT_EQ(owners(), std::vector<std::string>{});
    clock.advance(10);  // past not_before: carol's has started
    EXPECT_EQ(owners(), std::vector<std::string>{"carol@example.com"});
}

}  // namespace
