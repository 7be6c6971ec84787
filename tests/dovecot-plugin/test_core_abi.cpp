// Unit tests for the Dovecot plugin's C ABI (mailgrant-core.h, core_abi.cpp) over an
// in-memory directory and a manual clock: the circuit breaker, GETACL's grantees, the
// bad-input code, and that no exception ever crosses the boundary. End to end (real
// Dovecot + slapd) these are covered by test_dovecot_plugin.py; here each rule alone.
#include <gtest/gtest.h>
#include <ldap.h>

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "../core/fakes.h"
#include "core_abi_testing.h"
#include "mailgrant/gentime.h"
#include "mailgrant/grant_writer.h"
#include "mailgrant/ldap_error.h"
#include "mailgrant/input.h"
#include "mailgrant/rights.h"

using namespace mailgrant;

namespace {

using mailgrant::testing::CheckingDirectory;
using mailgrant::testing::dns::kAlice;
using mailgrant::testing::dns::kBob;
const std::string kTeam = "cn=team\\, support,ou=groups,dc=example,dc=com";  // an escaped comma

Grant grant(const std::string& name, std::vector<std::string> grantees, std::vector<std::string> folders,
            const std::string& rights) {
    return mailgrant::testing::make_grant(kAlice, name, std::move(grantees), std::move(folders), rights);
}

using Seen = std::vector<std::tuple<int, std::string, std::string>>;

void collect(void* context, int is_group, const char* name, const char* letters) {
    static_cast<Seen*>(context)->emplace_back(is_group, name, letters);
}

class CoreAbiTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir.add_account("alice@example.com", Account{kAlice, {"alice@example.com"}, false});
        dir.add_account("bob@example.com", Account{kBob, {"bob@example.com"}, false});
        clock.set_wall(*parse_generalized_time("20250615120000Z"));
        cache.ttl_s = 0;  // every call reaches the fake: what the breaker saves is countable
        cache.negative_ttl_s = 5;
        core = mailgrant_core_for_testing(checking, clock, cache);
    }
    void TearDown() override { mailgrant_core_close(core); }

    int rights(const char* login, const char* folder, std::string& letters) {
        char buf[32], error[256];
        const int rc = mailgrant_core_folder_rights(core, login, "alice@example.com", folder, buf, sizeof buf, error,
                                                    sizeof error);
        letters = buf;
        last_error = error;
        return rc;
    }
    Seen grantees(const char* folder) {
        Seen seen;
        char error[256];
        EXPECT_EQ(mailgrant_core_folder_grantees(core, "alice@example.com", folder, collect, &seen, error, sizeof error),
                  0)
            << error;
        return seen;
    }

    mailgrant::testing::FakeDirectory dir;
    CheckingDirectory checking{dir};
    ManualClock clock;
    CacheConfig cache;
    mailgrant_core* core = nullptr;
    std::string last_error;
};

TEST_F(CoreAbiTest, RightsComeFromGrants) {
    dir.grants.push_back(grant("projects", {kBob}, {"Projects/*"}, "reader"));
    std::string letters;
    EXPECT_EQ(rights("bob@example.com", "Projects/2025", letters), 0);
    EXPECT_EQ(letters, "lrs");
    EXPECT_EQ(rights("bob@example.com", "INBOX", letters), 0);
    EXPECT_EQ(letters, "");
    EXPECT_EQ(rights("alice@example.com", "INBOX", letters), 0);
    EXPECT_EQ(letters, "") << "an owner's rights are Dovecot's, not ours";
}

TEST_F(CoreAbiTest, LdapTroubleOpensTheBreakerForNegativeTtl) {
    dir.grants.push_back(grant("projects", {kBob}, {"*"}, "reader"));
    dir.fail = true;
    std::string letters = "x";
    EXPECT_EQ(rights("bob@example.com", "INBOX", letters), -1);
    EXPECT_EQ(letters, "") << "fail safe: no rights on error";
    EXPECT_NE(last_error.find("LDAP unavailable"), std::string::npos) << last_error;
    const int calls = dir.calls;
    // While open, calls fail at once with the same reason: no directory call at all.
    dir.fail = false;
    clock.advance(4);
    EXPECT_EQ(rights("bob@example.com", "INBOX", letters), -1);
    EXPECT_EQ(dir.calls, calls);
    EXPECT_NE(last_error.find("fake LDAP is down"), std::string::npos) << last_error;
    // After cache.negative_ttl_s (on the injected clock) the directory is asked again.
    clock.advance(1);
    EXPECT_EQ(rights("bob@example.com", "INBOX", letters), 0) << last_error;
    EXPECT_EQ(letters, "lrs");
    EXPECT_GT(dir.calls, calls);
}

TEST_F(CoreAbiTest, BadInputFailsOneCallAndLeavesTheBreakerClosed) {
    dir.grants.push_back(grant("projects", {kBob}, {"*"}, "reader"));
    std::string letters;
    const std::string long_login(kMaxNameLength + 1, 'b');
    EXPECT_EQ(rights(long_login.c_str(), "INBOX", letters), MAILGRANT_CORE_BAD_INPUT);
    EXPECT_EQ(last_error.rfind("bad input: ", 0), 0u) << last_error;
    EXPECT_EQ(rights("bob@example.com", "INBOX", letters), 0) << "one client's bad name must not cut off others";
    EXPECT_EQ(letters, "lrs");
}

TEST_F(CoreAbiTest, GranteesForGetacl) {
    dir.grants.push_back(grant("projects", {kBob, kTeam}, {"Projects/*"}, "reader"));
    dir.grants.push_back(grant("edit", {kBob}, {"Projects/2025"}, "lrswi"));
    dir.grants.push_back(grant("elsewhere", {kBob}, {"Private"}, "editor"));
    Grant expired = grant("expired", {kTeam}, {"*"}, "admin");
    // Past on the injected clock, future on the real one: the validity is the core's, on its Clock.
    expired.not_after = *parse_generalized_time("20250101000000Z");
    dir.grants.push_back(expired);
    const Seen seen = grantees("Projects/2025");
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0], std::make_tuple(0, std::string("bob@example.com"), std::string("lrswi")));
    EXPECT_EQ(seen[1], std::make_tuple(1, std::string("team, support"), std::string("lrs")));
    EXPECT_TRUE(grantees("Other").empty());
    clock.set_wall(*parse_generalized_time("20241215120000Z"));  // the expired grant still valid then
    const Seen before = grantees("Other");
    ASSERT_EQ(before.size(), 1u);
    EXPECT_EQ(before[0], std::make_tuple(1, std::string("team, support"), std::string("lrswipkxtea")));
}

// SETACL/DELETEACL write-through (SelfService): the status codes and the breaker. The
// writes themselves are tested end to end (test_setacl.py); these cases are decided
// before anything is written.
TEST_F(CoreAbiTest, ChangeAclRefusalsAreRefusedWithTheirReason) {
    char error[256];
    EXPECT_EQ(mailgrant_core_change_acl(core, "alice@example.com", "alice@example.com", "Projects",
                                        "nobody@example.com", "lrs", 0, error, sizeof error),
              MAILGRANT_CORE_REFUSED);
    EXPECT_NE(std::string(error).find("no person or group 'nobody@example.com'"), std::string::npos) << error;
    EXPECT_EQ(mailgrant_core_change_acl(core, "alice@example.com", "alice@example.com", "Projects", "anyone", "", 1,
                                        error, sizeof error),
              MAILGRANT_CORE_REFUSED);
    EXPECT_NE(std::string(error).find("'anyone'"), std::string::npos) << error;
    // a refusal is the request's own problem: lookups go on
    std::string letters;
    dir.grants.push_back(grant("projects", {kBob}, {"*"}, "reader"));
    EXPECT_EQ(rights("bob@example.com", "INBOX", letters), 0) << last_error;
}

TEST_F(CoreAbiTest, ChangeAclWithoutNamesIsBadInput) {
    char error[256];
    EXPECT_EQ(mailgrant_core_change_acl(core, "alice@example.com", "alice@example.com", "Projects", nullptr, "lrs",
                                        0, error, sizeof error),
              MAILGRANT_CORE_BAD_INPUT);
    EXPECT_EQ(mailgrant_core_change_acl(nullptr, "a", "b", "c", "d", "lrs", 0, error, sizeof error), -1);
    EXPECT_NE(std::string(error).find("no configuration"), std::string::npos) << error;
}

TEST_F(CoreAbiTest, ChangeAclFailsAtOnceWhileTheBreakerIsOpen) {
    dir.fail = true;
    std::string letters;
    EXPECT_EQ(rights("bob@example.com", "INBOX", letters), -1);
    dir.fail = false;
    const int calls = dir.calls;
    char error[256];
    EXPECT_EQ(mailgrant_core_change_acl(core, "alice@example.com", "alice@example.com", "Projects",
                                        "bob@example.com", "lrs", 0, error, sizeof error),
              -1);
    EXPECT_EQ(dir.calls, calls) << "no directory call while the breaker is open";
    EXPECT_NE(std::string(error).find("fake LDAP is down"), std::string::npos) << error;
}

// Issue 12: a write that loses a race with another edit is "try again" for that command
// only; LDAP answered, so the breaker stays closed and other lookups go on. Real LDAP
// trouble while writing still opens it.
class FailingWriter final : public GrantWriter {
public:
    int code = 0;  // libldap result code of every write
    int writes = 0;
    void add_entry(const std::string&, const std::map<std::string, std::vector<std::string>>&) override { fail(); }
    void modify_entry(const std::string&, const std::vector<ValueChange>&) override { fail(); }
    void delete_entry(const std::string&) override { fail(); }

private:
    void fail() {
        ++writes;
        throw_ldap(code, "writing");
    }
};

TEST_F(CoreAbiTest, ConcurrentEditFailsOneCommandWithoutOpeningTheBreaker) {
    struct {
        int code;
        const char* message_part;
        bool opens_breaker;
    } const cases[] = {
        {LDAP_NO_SUCH_ATTRIBUTE, "changed meanwhile, try again", false},
        {LDAP_TYPE_OR_VALUE_EXISTS, "changed meanwhile, try again", false},
        {LDAP_NO_SUCH_OBJECT, "changed meanwhile, try again", false},
        {LDAP_ALREADY_EXISTS, "changed meanwhile, try again", false},
        {LDAP_SERVER_DOWN, "", true},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.code);
        FailingWriter writer;
        writer.code = c.code;
        mailgrant_core* with_writer = mailgrant_core_for_testing(checking, clock, cache, &writer);
        dir.grants = {grant("projects", {kBob}, {"Projects"}, "reader")};
        char error[256];
        EXPECT_EQ(mailgrant_core_change_acl(with_writer, "alice@example.com", "alice@example.com", "Projects",
                                            "bob@example.com", "lrsw", 0, error, sizeof error),
                  -1);
        EXPECT_EQ(writer.writes, 1);
        EXPECT_NE(std::string(error).find(c.message_part), std::string::npos) << error;
        // the next lookup: answered from the directory, or refused at once by the breaker
        const int calls = dir.calls;
        char letters[32];
        const int rc = mailgrant_core_folder_rights(with_writer, "bob@example.com", "alice@example.com", "Projects",
                                                    letters, sizeof letters, error, sizeof error);
        if (c.opens_breaker) {
            EXPECT_EQ(rc, -1);
            EXPECT_EQ(dir.calls, calls) << "the breaker is open: no directory call";
        } else {
            EXPECT_EQ(rc, 0) << error;
            EXPECT_STREQ(letters, "lrs");
            EXPECT_GT(dir.calls, calls);
        }
        mailgrant_core_close(with_writer);
    }
}

TEST_F(CoreAbiTest, NoConfigurationIsAnErrorNotACrash) {
    char letters[8] = "x", error[128];
    EXPECT_EQ(mailgrant_core_folder_rights(nullptr, "bob", "alice", "INBOX", letters, sizeof letters, error,
                                           sizeof error),
              -1);
    EXPECT_STREQ(letters, "");
    EXPECT_NE(std::string(error).find("no configuration"), std::string::npos);
    EXPECT_EQ(mailgrant_core_log_interval(nullptr), 30);
    EXPECT_EQ(mailgrant_core_open("/nonexistent/mailgrant.yaml", error, sizeof error), nullptr);
    EXPECT_EQ(std::string(error).rfind("/nonexistent/mailgrant.yaml", 0), 0u) << error;
    EXPECT_STREQ(mailgrant_core_default_config_path(), "/etc/mailgrant/mailgrant.yaml");
}

}  // namespace
