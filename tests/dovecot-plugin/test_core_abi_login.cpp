// Unit tests for mailgrant_core_collaborator_login (mailgrant-core.h), the C entry of
// Dovecot 2.4's `mailgrant` passdb driver: the C side gets the core's verdict as a status,
// a level and a log-safe line; refusals that need no directory answer even without a
// loaded configuration; LDAP trouble is temporary and opens the breaker; nothing throws.
// The decision itself is tested in tests/core/test_collaborator_login.cpp; end to end in
// test_passdb24.py.
#include <gtest/gtest.h>

#include <string>

#include "../core/fakes.h"
#include "core_abi_testing.h"

using namespace mailgrant;

namespace {

using mailgrant::testing::dns::kBob;
using mailgrant::testing::dns::kSupport;

struct Answer {
    int status;
    int level;
    std::string message;
};

Answer login(mailgrant_core* core, const char* service, const char* mailbox, const char* grantee,
             const char* password) {
    char message[512];
    int level = -99;
    const int status = mailgrant_core_collaborator_login(core, service, mailbox, grantee, password, &level, message,
                                                         sizeof message);
    return {status, level, message};
}

class CoreAbiLogin : public ::testing::Test {
protected:
    void SetUp() override {
        dir.add_account("bob@example.com", Account{kBob, {"bob@example.com"}, false});
        dir.add_account("support@example.com", Account{kSupport, {"support@example.com"}, true});
        CacheConfig cache;
        cache.ttl_s = 0;
        cache.negative_ttl_s = 5;
        core = mailgrant_core_for_testing(dir, clock, cache);
    }
    void TearDown() override { mailgrant_core_close(core); }

    mailgrant::testing::FakeDirectory dir;
    ManualClock clock;
    mailgrant_core* core = nullptr;
};

TEST_F(CoreAbiLogin, SendingServicesRefusedWithAWarningEvenWithoutConfiguration) {
    for (mailgrant_core* c : {core, static_cast<mailgrant_core*>(nullptr)}) {
        for (const char* service : {"smtp", "submission", "", static_cast<const char*>(nullptr)}) {
            const Answer a = login(c, service, "support@example.com", "bob@example.com", "pw");
            EXPECT_EQ(a.status, MAILGRANT_LOGIN_REFUSED);
            EXPECT_EQ(a.level, MAILGRANT_LOG_WARNING);
            EXPECT_NE(a.message.find("refused per-collaborator login of bob@example.com to support@example.com"),
                      std::string::npos)
                << a.message;
        }
    }
    EXPECT_EQ(dir.calls, 0);
}

TEST_F(CoreAbiLogin, NoConfigurationIsTemporaryForImap) {
    const Answer a = login(nullptr, "imap", "support@example.com", "bob@example.com", "pw");
    EXPECT_EQ(a.status, MAILGRANT_LOGIN_TEMPORARY);
    EXPECT_EQ(a.level, MAILGRANT_LOG_ERROR);
    EXPECT_EQ(a.message.rfind("temporary failure: ", 0), 0u) << a.message;
}

TEST_F(CoreAbiLogin, UnknownGranteeRefusedAsInfo) {
    const Answer a = login(core, "imap", "support@example.com", "nobody@example.com", "pw");
    EXPECT_EQ(a.status, MAILGRANT_LOGIN_REFUSED);
    EXPECT_EQ(a.level, MAILGRANT_LOG_INFO);
    EXPECT_EQ(a.message, "wrong password or unknown user nobody@example.com");
}

TEST_F(CoreAbiLogin, EmptyPasswordAndNullNamesRefused) {
    EXPECT_EQ(login(core, "imap", "support@example.com", "bob@example.com", "").status, MAILGRANT_LOGIN_REFUSED);
    EXPECT_EQ(login(core, "imap", "support@example.com", "bob@example.com", nullptr).status, MAILGRANT_LOGIN_REFUSED);
    EXPECT_EQ(login(core, "imap", nullptr, "bob@example.com", "pw").status, MAILGRANT_LOGIN_REFUSED);
    EXPECT_EQ(dir.calls, 0);
}

TEST_F(CoreAbiLogin, LdapDownIsTemporaryAndOpensTheBreaker) {
    dir.fail = true;
    Answer a = login(core, "imap", "support@example.com", "bob@example.com", "pw");
    EXPECT_EQ(a.status, MAILGRANT_LOGIN_TEMPORARY);
    EXPECT_EQ(a.level, MAILGRANT_LOG_ERROR);
    EXPECT_EQ(a.message, "temporary failure: fake LDAP is down");
    // While the breaker is open, no LDAP question is asked: still temporary, never allowed.
    dir.fail = false;
    const int calls = dir.calls;
    a = login(core, "imap", "support@example.com", "bob@example.com", "pw");
    EXPECT_EQ(a.status, MAILGRANT_LOGIN_TEMPORARY);
    EXPECT_EQ(dir.calls, calls);
    clock.advance(6);
    a = login(core, "imap", "support@example.com", "nobody@example.com", "pw");
    EXPECT_EQ(a.status, MAILGRANT_LOGIN_REFUSED) << a.message;
}

TEST_F(CoreAbiLogin, ControlCharactersNeverReachTheLog) {
    const Answer a = login(core, "smtp", "support@example.com", "bob\n\001" "3evil", "pw");
    EXPECT_EQ(a.message.find('\n'), std::string::npos);
    EXPECT_EQ(a.message.find('\001'), std::string::npos);
}

TEST_F(CoreAbiLogin, ShortBufferIsCutNotOverrun) {
    char message[8];
    int level = 0;
    EXPECT_EQ(mailgrant_core_collaborator_login(core, "smtp", "a@x", "b@x", "pw", &level, message, sizeof message),
              MAILGRANT_LOGIN_REFUSED);
    EXPECT_EQ(std::string(message).size(), 7u);
}

}  // namespace
