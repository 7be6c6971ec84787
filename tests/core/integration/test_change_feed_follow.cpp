// Integration test of the change feed's FollowFlag (core/change_feed.h, cache.h) against a
// real slapd with the syncprov overlay (tests/harness/slapd_sandbox.py --syncprov): the
// flag, which lets the caches keep answers up to cache.follow_ttl_s, is on exactly while
// changes are followed. On once the refresh's clear is done; off the moment the server
// goes away; never on when that clear failed (the caches may hold anything then).
// Proved by the flag and the feed's own state and counters; every wait is bounded.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "mailgrant/cache.h"
#include "mailgrant/change_feed.h"
#include "mailgrant/config.h"

#include "run_command.h"

using namespace mailgrant;
using namespace std::chrono_literals;
using mailgrant::testing::stop_slapd;

namespace {

// Waits (at most 10 s) until `done`.
bool wait_for(const std::function<bool()>& done) {
    for (int i = 0; i < 500; ++i) {
        if (done()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return done();
}

class ChangeFeedFollowTest : public ::testing::Test {
protected:
    void SetUp() override {
        signal(SIGPIPE, SIG_IGN);  // as every mailgrant daemon: libldap writes without MSG_NOSIGNAL
        char tmpl[] = "/tmp/mailgrant-feed-follow-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir = tmpl;
        server = mailgrant::testing::start_harness_slapd(
            dir, std::string("--syncprov --ldif ") + MAILGRANT_FIXTURES + "/org.ldif");
        ASSERT_EQ(server.status, 0) << server.output;
        ASSERT_FALSE(server.uri.empty()) << server.output;
        ASSERT_GT(server.pid, 0);
        config.ldap.uris = {server.uri};
        config.ldap.base = server.base;
        config.ldap.bind_dn = server.rootdn;
        config.ldap.bind_password = server.rootpw;
        config.ldap.server_state_file = "";
        config.ldap.operation_timeout_ms = 2000;
    }
    void TearDown() override {
        stop_slapd(dir);
        mailgrant::testing::run("rm -rf " + dir);
    }

    std::string dir;
    mailgrant::testing::HarnessSlapd server;
    Config config;
    std::shared_ptr<FollowFlag> following = std::make_shared<FollowFlag>();
    std::atomic<int> clears{0};
    ChangeFeed::Logger quiet = [](const std::string&) {};
};

TEST_F(ChangeFeedFollowTest, OnWhileFollowingAndOffTheMomentTheServerGoes) {
    ChangeFeed feed(
        config,
        [this] {
            ++clears;
            return std::size_t{0};
        },
        quiet, following);
    EXPECT_FALSE(following->on());
    feed.start();
    ASSERT_TRUE(wait_for([&] { return feed.stats().state == FeedState::Following; }));
    EXPECT_TRUE(following->on());
    EXPECT_GE(clears.load(), 1) << "on only after the refresh's clear";
    kill(server.pid, SIGKILL);
    ASSERT_TRUE(wait_for([&] { return feed.stats().state == FeedState::Down; }));
    EXPECT_FALSE(following->on()) << "down: cache.ttl_s must bound every answer again";
    feed.stop();
    EXPECT_FALSE(following->on());
}

TEST_F(ChangeFeedFollowTest, NeverOnWhenTheRefreshClearFailed) {
    ChangeFeed feed(
        config,
        [this]() -> std::size_t {
            ++clears;
            throw std::runtime_error("the caches could not be emptied");
        },
        quiet, following);
    feed.start();
    ASSERT_TRUE(wait_for([&] { return feed.stats().state == FeedState::Following; }));
    EXPECT_GE(clears.load(), 1);
    std::this_thread::sleep_for(100ms);  // the flag is set right after the clear, or never
    EXPECT_FALSE(following->on()) << "answers older than the refresh may be in the caches";
    EXPECT_EQ(feed.stats().invalidations, 0u);
    feed.stop();
}

}  // namespace
