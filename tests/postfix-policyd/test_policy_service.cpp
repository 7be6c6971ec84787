// Unit tests for the policy decisions over an in-memory directory, plus golden
// request/response files (tests/postfix-policyd/golden/*.in -> *.ref).
#include "policy_service.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "fixture.h"
#include "mailgrant/caching_directory.h"
#include "mailgrant/gentime.h"

using namespace mailgrant;
using namespace mailgrant::policy;

namespace {

using mailgrant::testing::populate;

class PolicyServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        populate(dir);
        config.local_domains = {"example.com"};
    }
    PolicyRequest request(const std::string& login, const std::string& sender) {
        PolicyRequest r;
        r.attributes = {{"request", "smtpd_access_policy"}, {"sasl_username", login}, {"sender", sender}};
        return r;
    }
    Answer decide(const std::string& login, const std::string& sender) {
        PolicyService service(config, decider);
        return service.decide(request(login, sender));
    }
    mailgrant::testing::FakeDirectory dir;
    ManualClock clock;
    Decider decider{dir, clock};
    PolicyConfig config;
};

struct Case {
    const char* name;
    const char* login;
    const char* sender;
    Verdict verdict;
    const char* action_prefix;
};

class Decisions : public PolicyServiceTest, public ::testing::WithParamInterface<Case> {};

TEST_P(Decisions, Table) {
    const auto& c = GetParam();
    const Answer a = decide(c.login, c.sender);
    EXPECT_EQ(a.verdict, c.verdict) << a.reason;
    EXPECT_EQ(a.action.rfind(c.action_prefix, 0), 0u) << a.action;
}

INSTANTIATE_TEST_SUITE_P(
    Table, Decisions,
    ::testing::Values(Case{"own", "alice@example.com", "alice@example.com", Verdict::Allow, "DUNNO"},
                      Case{"alias_any_case", "alice@example.com", "A.SMITH@example.com", Verdict::Allow, "DUNNO"},
                      Case{"send_as_group", "bob@example.com", "support@example.com", Verdict::Allow, "DUNNO"},
                      Case{"send_as_alias", "bob@example.com", "help@example.com", Verdict::Allow, "DUNNO"},
                      Case{"on_behalf", "bob@example.com", "alice@example.com", Verdict::Allow, "DUNNO"},
                      Case{"null_sender", "bob@example.com", "", Verdict::Allow, "DUNNO"},
                      Case{"not_delegated", "eve@example.com", "support@example.com", Verdict::Reject, "REJECT 5.7.1 "},
                      Case{"unknown_address", "bob@example.com", "ceo@example.com", Verdict::Reject, "REJECT 5.7.1 "},
                      Case{"foreign", "bob@example.com", "bob@gmail.com", Verdict::Reject, "REJECT 5.7.1 "},
                      Case{"suffix_trick", "bob@example.com", "bob@badexample.com", Verdict::Reject, "REJECT 5.7.1 "},
                      Case{"shared_login", "support@example.com", "help@example.com", Verdict::Reject, "REJECT 5.7.1 "},
                      Case{"unknown_login", "mallory", "support@example.com", Verdict::Reject, "REJECT 5.7.1 "},
                      Case{"injection", "bob@example.com", "*)(mail=*", Verdict::Reject, "REJECT 5.7.1 "}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(PolicyServiceTest, NeverOk) {
    for (const char* sender : {"alice@example.com", "support@example.com", ""})
        EXPECT_EQ(decide("bob@example.com", sender).action.find("OK"), std::string::npos);
}

TEST_F(PolicyServiceTest, RejectTextNamesSenderAndLoginSanitised) {
    const Answer a = decide("eve@example.com", "support@example.com");
    EXPECT_EQ(a.action, "REJECT 5.7.1 Sender address <support@example.com> is not owned by or delegated to user eve@example.com");
    config.reject_text = "5.7.1 {login} may not use {sender}";
    EXPECT_EQ(decide("eve@example.com", "x\xc3\xa9y@example.com").action,
              "REJECT 5.7.1 eve@example.com may not use x\\xc3\\xa9y@example.com");
}

TEST_F(PolicyServiceTest, LdapTroubleIsTemporaryNeverPermanent) {
    dir.fail = true;
    Answer a = decide("bob@example.com", "support@example.com");
    EXPECT_EQ(a.verdict, Verdict::Defer);
    EXPECT_EQ(a.action.rfind("DEFER_IF_PERMIT 4.", 0), 0u) << a.action;
    config.defer_action = DeferAction::Defer;
    a = decide("bob@example.com", "support@example.com");
    EXPECT_EQ(a.action.rfind("DEFER 4.", 0), 0u) << a.action;
    // Even the own login as sender is looked up (it might be a shared mailbox): deferred.
    EXPECT_EQ(decide("bob@example.com", "bob@example.com").verdict, Verdict::Defer);
}

// Issue 11: the I/O thread's fast path answers only what a worker has decided (or what
// needs no directory); a miss decides nothing, so nothing is decided twice. A remembered
// answer lives no longer than the directory answers it was built from; a deferral is
// never remembered.
TEST_F(PolicyServiceTest, FastPathAnswersOnlyWhatAWorkerDecided) {
    CacheConfig cache;
    cache.ttl_s = 30;
    cache.negative_ttl_s = 5;
    CachingDirectory cached(dir, cache, clock);
    Decider cached_decider(cached, clock);
    PolicyService service(config, cached_decider, cache, clock);
    const auto req = request("bob@example.com", "support@example.com");
    dir.calls = 0;
    EXPECT_FALSE(service.decide_from_cache(req).has_value());
    EXPECT_EQ(dir.calls, 0) << "a miss hands off without asking anything";
    const Answer decided = service.decide(req);
    EXPECT_NE(decided.verdict, Verdict::Defer) << decided.reason;
    const int calls = dir.calls;
    const auto fast = service.decide_from_cache(req);
    ASSERT_TRUE(fast.has_value());
    EXPECT_EQ(fast->action, decided.action);
    EXPECT_EQ(dir.calls, calls);
    clock.advance(cache.ttl_s);
    EXPECT_FALSE(service.decide_from_cache(req).has_value()) << "outlived the directory answers";
    dir.fail = true;
    EXPECT_EQ(service.decide(req).verdict, Verdict::Defer);
    EXPECT_FALSE(service.decide_from_cache(req).has_value()) << "a deferral is never remembered";
}

// A change seen while a decision is being made (the change feed empties the caches, the
// directory's first, as main.cpp does): the decision is answered but not remembered, since
// it may predate the change. Reading the answers' generation after the decision instead of
// before would remember it, and this test would fail.
TEST_F(PolicyServiceTest, DecisionMadeAcrossAClearIsNotRemembered) {
    CacheConfig cache;
    cache.ttl_s = 30;
    cache.negative_ttl_s = 30;
    CachingDirectory cached(dir, cache, clock);
    Decider cached_decider(cached, clock);
    PolicyService service(config, cached_decider, cache, clock);
    const auto req = request("bob@example.com", "support@example.com");
    int clears = 0;
    dir.during_call = [&] {
        if (clears++ == 0) {  // during the first decision's first directory call only
            cached.clear();
            service.forget_answers();
        }
    };
    EXPECT_EQ(service.decide(req).verdict, Verdict::Allow);
    EXPECT_FALSE(service.decide_from_cache(req).has_value()) << "decided across a clear: not remembered";
    EXPECT_EQ(service.decide(req).verdict, Verdict::Allow);
    const int calls = dir.calls;
    const auto fast = service.decide_from_cache(req);
    ASSERT_TRUE(fast.has_value()) << "decided after the clear: remembered";
    EXPECT_EQ(fast->verdict, Verdict::Allow);
    EXPECT_EQ(dir.calls, calls);
}

// A remembered answer expires with the OLDEST directory answer it used, not with the
// ones fetched for it: bob's login is cached 20 s before support@'s grants are fetched.
TEST_F(PolicyServiceTest, RememberedAnswerExpiresWithTheOldestDirectoryAnswerItUsed) {
    CacheConfig cache;
    cache.ttl_s = 30;
    cache.negative_ttl_s = 5;
    CachingDirectory cached(dir, cache, clock);
    Decider cached_decider(cached, clock);
    PolicyService service(config, cached_decider, cache, clock);
    service.decide(request("bob@example.com", "alice@example.com"));  // caches bob's login and groups
    clock.advance(20);
    const auto req = request("bob@example.com", "support@example.com");
    EXPECT_EQ(service.decide(req).verdict, Verdict::Allow);
    clock.advance(9);
    EXPECT_TRUE(service.decide_from_cache(req).has_value()) << "bob's entries are 29 s old";
    clock.advance(1);
    EXPECT_FALSE(service.decide_from_cache(req).has_value()) << "bob's entries expired: so did the answer";
}

// A grant's validity window ends the remembered answer at the first second its state
// changes: an allow is never served after mailGrantNotAfter, a refusal not after
// mailGrantNotBefore (both inclusive edges of the window).
TEST_F(PolicyServiceTest, RememberedAnswerEndsAtTheGrantsValidityEdges) {
    CacheConfig cache;
    cache.ttl_s = 300;
    CachingDirectory cached(dir, cache, clock);
    Decider cached_decider(cached, clock);
    PolicyService service(config, cached_decider, cache, clock);
    for (auto& g : dir.grants)
        if (g.name == "team") g.not_after = clock.wall_now() + 10;
    const auto req = request("bob@example.com", "support@example.com");
    EXPECT_EQ(service.decide(req).verdict, Verdict::Allow);
    clock.advance(10);  // exactly mailGrantNotAfter: still valid
    auto fast = service.decide_from_cache(req);
    ASSERT_TRUE(fast.has_value());
    EXPECT_EQ(fast->verdict, Verdict::Allow);
    clock.advance(1);  // one second later: expired
    fast = service.decide_from_cache(req);
    EXPECT_TRUE(!fast || fast->verdict == Verdict::Reject) << "allowed after the grant expired";
    EXPECT_EQ(service.decide(req).verdict, Verdict::Reject);

    for (auto& g : dir.grants)
        if (g.name == "assistant") g.not_before = clock.wall_now() + 5;
    CachingDirectory cached2(dir, cache, clock);
    Decider decider2(cached2, clock);
    PolicyService service2(config, decider2, cache, clock);
    const auto behalf = request("bob@example.com", "alice@example.com");
    EXPECT_EQ(service2.decide(behalf).verdict, Verdict::Reject);
    clock.advance(5);  // mailGrantNotBefore: valid from this second on
    fast = service2.decide_from_cache(behalf);
    EXPECT_TRUE(!fast || fast->verdict == Verdict::Allow) << "refused after the grant became valid";
}

// Issue 10, part 4: input that can never be found is answered 5.7.1 at once (the client
// stops retrying), with its reason, and never asks the directory -- so even with LDAP
// down it is no 4xx, and no LDAP error is counted for it.
struct BadInputCase {
    const char* name;
    std::string login;
    std::string sender;
    const char* action;  // expected, whole
};

class BadInputs : public PolicyServiceTest, public ::testing::WithParamInterface<BadInputCase> {};

TEST_P(BadInputs, RejectedPermanentlyWithoutLdap) {
    const auto& c = GetParam();
    for (const bool ldap_down : {false, true}) {
        dir.fail = ldap_down;
        dir.calls = 0;
        PolicyService service(config, decider);
        const Answer a = service.decide(request(c.login, c.sender));
        EXPECT_EQ(a.verdict, Verdict::Reject) << a.reason;
        EXPECT_EQ(a.action, c.action);
        EXPECT_EQ(dir.calls, 0) << "bad input must not reach the directory";
        // The I/O thread's fast path decides it too: no worker, no LDAP.
        const auto fast = service.decide_from_cache(request(c.login, c.sender));
        ASSERT_TRUE(fast.has_value());
        EXPECT_EQ(fast->action, c.action);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadInputs,
    ::testing::Values(
        BadInputCase{"long_login", std::string(321, 'b'), "bob@example.com",
                     "REJECT 5.7.1 Invalid request: login is longer than 320 characters"},
        BadInputCase{"long_sender", "bob@example.com", std::string(309, 'b') + "@example.com",
                     "REJECT 5.7.1 Invalid request: sender address is longer than 320 characters"},
        BadInputCase{"dn_shaped_sender", "bob@example.com", "a=b,c@example.com",
                     "REJECT 5.7.1 Invalid request: sender address 'a=b,c@example.com' has the shape of an LDAP DN, "
                     "not of a mail address"},
        BadInputCase{"dn_as_sender", "bob@example.com", "uid=alice,ou=people,dc=example,dc=com",
                     "REJECT 5.7.1 Invalid request: sender address 'uid=alice,ou=people,dc=example,dc=com' has the "
                     "shape of an LDAP DN, not of a mail address"},
        BadInputCase{"control_character_sender", "bob@example.com", "x\x01y@example.com",
                     "REJECT 5.7.1 Invalid request: sender address contains a control character"},
        BadInputCase{"control_character_login", "bob\r@example.com", "bob@example.com",
                     "REJECT 5.7.1 Invalid request: login contains a control character"}),
    [](const auto& info) { return std::string(info.param.name); });

// The limits are inclusive: 320 characters and '=' in a local part (SRS) are fine.
TEST_F(PolicyServiceTest, LegalInputAtTheLimitsIsDecidedAsUsual) {
    EXPECT_EQ(decide("bob@example.com", std::string(308, 'b') + "@example.com").action.rfind("REJECT 5.7.1 Sender", 0), 0u);
    EXPECT_EQ(decide("bob@example.com", "srs0=ab=cd=example.org=x@example.com").action.rfind("REJECT 5.7.1 Sender", 0), 0u);
    EXPECT_EQ(decide(std::string(320, 'b'), "bob@example.com").action.rfind("REJECT 5.7.1 Sender", 0), 0u);
}

TEST_F(PolicyServiceTest, UnauthenticatedModes) {
    EXPECT_EQ(decide("", "alice@example.com").action, "DUNNO");
    config.unauthenticated = UnauthenticatedMode::RejectLocal;
    EXPECT_EQ(decide("", "alice@EXAMPLE.com").verdict, Verdict::Reject);
    EXPECT_EQ(decide("", "someone@badexample.com").action, "DUNNO");  // exact domain, not suffix
    EXPECT_EQ(decide("", "").action, "DUNNO");                         // bounces
    EXPECT_EQ(dir.calls, 0);                                           // no LDAP for any of these
}

// Issue 17: the sent-copy domain is the milter's alone. RCPT TO it is refused from every
// client -- authenticated or not, a sender it may use or not, the cached answer or not,
// LDAP up or down -- and nothing else changes for other recipients.
TEST_F(PolicyServiceTest, SentCopyDomainRefusedFromEveryClient) {
    const std::string domain = "sent-copy.mailgrant.invalid";
    auto with_rcpt = [](PolicyRequest r, const std::string& rcpt) {
        r.attributes["recipient"] = rcpt;
        return r;
    };
    PolicyService service(config, decider);
    service.refuse_recipients_in(domain);
    for (const char* login : {"bob@example.com", "", "eve@example.com"}) {
        for (const char* rcpt : {"support@example.com.sent-copy.mailgrant.invalid", "X@Sent-Copy.Mailgrant.Invalid"}) {
            const PolicyRequest r = with_rcpt(request(login, "support@example.com"), rcpt);
            for (const Answer& a : {service.decide(r), *service.decide_from_cache(r)}) {
                EXPECT_EQ(a.verdict, Verdict::Reject) << login << " " << rcpt;
                EXPECT_EQ(a.action.rfind("REJECT 5.7.1 <", 0), 0u) << a.action;
                EXPECT_NE(a.action.find("reserved for mailgrant's sent copies"), std::string::npos) << a.action;
                EXPECT_NE(a.reason.find("reserved sent-copy domain"), std::string::npos) << a.reason;
            }
        }
    }
    dir.fail = true;  // decided without LDAP
    EXPECT_EQ(service.decide(with_rcpt(request("bob@example.com", "bob@example.com"), "a@b.sent-copy.mailgrant.invalid"))
                  .verdict,
              Verdict::Reject);
    dir.fail = false;
    EXPECT_EQ(service.decide(with_rcpt(request("bob@example.com", "support@example.com"), "alice@example.com")).action,
              "DUNNO");
    // Without the domain configured nothing is reserved.
    PolicyService plain(config, decider);
    EXPECT_EQ(plain.decide(with_rcpt(request("bob@example.com", "support@example.com"),
                                     "support@example.com.sent-copy.mailgrant.invalid"))
                  .action,
              "DUNNO");
}

TEST_F(PolicyServiceTest, LogLineHasEveryField) {
    PolicyRequest r = request("eve@example.com", "support@example.com");
    r.attributes["queue_id"] = "ABC123";
    r.attributes["instance"] = "1a2b.3c";
    PolicyService service(config, decider);
    const std::string line = log_line(config, r, service.decide(r));
    for (const char* part : {"instance=1a2b.3c", "queue_id=ABC123", "login=eve@example.com", "sender=<support@example.com>",
                             "decision=reject", "reason=\""})
        EXPECT_NE(line.find(part), std::string::npos) << line;
}

// Golden files: each .in holds one or more wire requests; the .ref holds, per request,
// the reply the daemon writes, or "error: <message>" where the connection is closed.
std::string run_golden(const std::string& wire) {
    mailgrant::testing::FakeDirectory dir;
    populate(dir);
    ManualClock clock;
    Decider decider(dir, clock);
    PolicyConfig config;
    PolicyService service(config, decider);
    RequestParser parser;
    std::string buffer = wire, out;
    for (;;) {
        const auto status = parser.parse(buffer);
        if (status == RequestParser::Status::NeedMore) break;
        if (status == RequestParser::Status::Error) {
            out += "error: " + parser.error() + "\n";
            break;
        }
        out += "action=" + service.decide(parser.take()).action + "\n\n";
    }
    return out;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(Golden, RequestsAndReplies) {
    const std::string dir = MAILGRANT_GOLDEN_DIR;
    int files = 0;
    for (const char* name : {"delegated", "pipelined", "rejected", "malformed", "unauthenticated"}) {
        const std::string in = slurp(dir + "/" + name + ".in");
        const std::string ref = slurp(dir + "/" + name + ".ref");
        ASSERT_FALSE(in.empty()) << name;
        EXPECT_EQ(run_golden(in), ref) << name;
        ++files;
    }
    EXPECT_EQ(files, 5);
}

}  // namespace
