// Self-service (SelfService: IMAP SETACL / DELETEACL written through to LDAP) against a
// real slapd that runs the shipped ldap-schema/service-write-acl.conf in front of a
// typical site policy, writing as the service account cn=mailgrant,ou=services: what
// the unit tests decide is what slapd accepts, and what the ACL forbids stays forbidden.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "mailgrant/clock.h"
#include "mailgrant/directory.h"
#include "mailgrant/dn.h"
#include "mailgrant/grant_writer.h"
#include "mailgrant/ldap_client.h"
#include "mailgrant/self_service.h"

#include "run_command.h"

using namespace mailgrant;

namespace {

const std::string kPeople = "ou=people,dc=example,dc=com";
const std::string kAlice = "uid=alice," + kPeople;
const std::string kService = "cn=mailgrant,ou=services,dc=example,dc=com";

struct Sandbox {
    std::string dir, uri, rootdn, rootpw_file, service_pw_file;
};
Sandbox* sandbox = nullptr;

using mailgrant::testing::run;
using mailgrant::testing::start_slapd;
using mailgrant::testing::stop_slapd;

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

class SlapdEnvironment : public ::testing::Environment {
public:
    void SetUp() override {
        char tmpl[] = "/tmp/mailgrant-selfservice-it-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        sandbox = new Sandbox;
        sandbox->dir = tmpl;
        // The shipped rules, then a typical site policy.
        std::ofstream(sandbox->dir + "/acl.conf")
            << read_file(std::string(MAILGRANT_SCHEMA_DIR) + "/service-write-acl.conf")
            << "\naccess to attrs=userPassword\n\tby self write\n\tby anonymous auth\n\tby * none\n"
               "access to *\n\tby * read\n";
        std::ofstream(sandbox->dir + "/service.ldif")
            << "dn: ou=services,dc=example,dc=com\nobjectClass: organizationalUnit\nou: services\n\n"
               "dn: " << kService << "\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
               "cn: mailgrant\nuserPassword: service-pw\n";
        sandbox->service_pw_file = sandbox->dir + "/service.secret";
        std::ofstream(sandbox->service_pw_file) << "service-pw\n";
        int status = 0;
        const std::string out = start_slapd(sandbox->dir,
                                            "--acl-file " + sandbox->dir + "/acl.conf --ldif " + MAILGRANT_FIXTURES +
                                                "/org.ldif --ldif " + sandbox->dir + "/service.ldif",
                                            &status);
        ASSERT_EQ(status, 0) << out;
        auto started = mailgrant::testing::key_values(out);
        sandbox->uri = started["LDAP_URI"];
        sandbox->rootdn = started["LDAP_ROOTDN"];
        sandbox->rootpw_file = sandbox->dir + "/rootpw";
        ASSERT_FALSE(sandbox->uri.empty()) << out;
    }
    void TearDown() override {
        if (!sandbox) return;
        stop_slapd(sandbox->dir);
        run("rm -rf " + sandbox->dir);
        delete sandbox;
        sandbox = nullptr;
    }
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new SlapdEnvironment);

class SelfServiceLdap : public ::testing::Test {
protected:
    SelfServiceLdap() {
        config.ldap.uris = {sandbox->uri};
        config.ldap.base = "dc=example,dc=com";
        config.ldap.bind_dn = kService;
        config.ldap.bind_password_file = sandbox->service_pw_file;
        config.ldap.network_timeout_ms = 1000;
        config.ldap.operation_timeout_ms = 3000;
    }
    AclChangeResult change(const std::string& folder, const std::string& identifier, const std::string& rights,
                           bool remove = false) {
        LdapConnection reads(config.ldap);  // fresh, uncached reads: each step sees the last
        LdapDirectory directory(config, reads);
        AclChangeRequest r{"alice@example.com", "alice@example.com", folder, identifier, rights, remove};
        return SelfService(config, directory, SystemClock::instance()).apply(r);
    }
    std::optional<Grant> grant(const std::string& dn) {
        LdapConnection reads(config.ldap);
        for (auto& g : LdapDirectory(config, reads).grants_of(kAlice))
            if (normalize_dn(g.dn) == normalize_dn(dn)) return g;
        return std::nullopt;
    }
    Config config;
};

TEST_F(SelfServiceLdap, ShareChangeAndTakeBackAsTheServiceAccount) {
    const std::string dn = "cn=share-carol," + kAlice;
    auto r = change("INBOX", "carol@example.com", "lrs");
    ASSERT_EQ(r.status, AclChangeStatus::Done) << r.message;
    EXPECT_EQ(normalize_dn(r.entry_dn), normalize_dn(dn));
    auto g = grant(dn);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->rights_text, "reader");
    EXPECT_EQ(g->folders, std::vector<std::string>{"INBOX"});
    ASSERT_EQ(g->grantees.size(), 1u);
    EXPECT_EQ(normalize_dn(g->grantees[0]), normalize_dn("uid=carol," + kPeople));
    const std::string who = run("ldapsearch -x -LLL -H " + sandbox->uri + " -D '" + sandbox->rootdn + "' -y " +
                                sandbox->rootpw_file + " -s base -b '" + dn + "' creatorsName description");
    EXPECT_NE(who.find("creatorsName: " + kService), std::string::npos) << who;
    EXPECT_NE(who.find("description: shared by alice@example.com from a mail client on"), std::string::npos) << who;

    r = change("INBOX", "carol", "+w");
    ASSERT_EQ(r.status, AclChangeStatus::Done) << r.message;
    EXPECT_EQ(grant(dn)->rights_text, "lrsw");

    r = change("INBOX", "carol@example.com", "", true);
    ASSERT_EQ(r.status, AclChangeStatus::Done) << r.message;
    EXPECT_FALSE(grant(dn));
}

TEST_F(SelfServiceLdap, GroupIdentifier) {
    auto r = change("Shared/Team", "$support-team", "lrswipkxte");
    ASSERT_EQ(r.status, AclChangeStatus::Done) << r.message;
    auto g = grant(r.entry_dn);
    ASSERT_TRUE(g) << r.entry_dn;
    EXPECT_EQ(g->rights_text, "editor");
    EXPECT_EQ(normalize_dn(g->grantees.at(0)), normalize_dn("cn=support-team,ou=groups,dc=example,dc=com"));
    EXPECT_EQ(change("Shared/Team", "$no-such-group", "lrs").status, AclChangeStatus::Refused);
    EXPECT_EQ(change("Shared/Team", "$support-team", "", true).status, AclChangeStatus::Done);
    EXPECT_FALSE(grant(r.entry_dn));
}

TEST_F(SelfServiceLdap, TrimAndSplitAnAdminsMultiFolderGrant) {
    const std::string dn = "cn=projects-bob," + kAlice;  // Projects + Projects/*, reader
    auto r = change("Projects", "bob", "lrsw");
    ASSERT_EQ(r.status, AclChangeStatus::Done) << r.message;
    EXPECT_EQ(grant(dn)->folders, std::vector<std::string>{"Projects/*"});
    EXPECT_EQ(grant(r.entry_dn)->rights_text, "lrsw");
    r = change("Projects/*", "bob", "", true);  // the last folder: the entry goes
    ASSERT_EQ(r.status, AclChangeStatus::Done) << r.message;
    EXPECT_FALSE(grant(dn));
}

TEST_F(SelfServiceLdap, WhatTheAclForbidsIsRefused) {
    LdapGrantWriter writer(config.ldap);
    try {
        writer.modify_entry(kAlice, {{ValueChange::Op::Add, "userPassword", "owned"}});
        FAIL() << "the service account changed a password";
    } catch (const LdapError& e) {
        EXPECT_EQ(e.code(), 50) << e.what();
    }
    try {
        writer.modify_entry("cn=vacation-2020," + kAlice, {{ValueChange::Op::Add, "mailGrantSend", "sendAs"}});
        FAIL() << "the service account added send rights";
    } catch (const LdapError& e) {
        EXPECT_EQ(e.code(), 50) << e.what();
    }
}

TEST_F(SelfServiceLdap, DirectoryDownIsTemporary) {
    config.ldap.uris = {"ldap://127.0.0.1:1"};
    Config reads_config = config;
    LdapConnection reads(reads_config.ldap);
    LdapDirectory directory(reads_config, reads);
    AclChangeRequest req{"alice@example.com", "alice@example.com", "INBOX", "bob", "lrs", false};
    const auto r = SelfService(config, directory, SystemClock::instance()).apply(req);
    EXPECT_EQ(r.status, AclChangeStatus::Temporary) << r.message;
}

}  // namespace
