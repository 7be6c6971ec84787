// Integration tests of the core against a real slapd (tests/harness/slapd_sandbox.py)
// loaded with the project's schema and tests/fixtures/org.ldif: the LDAP client, the
// directory queries, the decision API, caching, failover, timeouts and the CLI.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <sstream>

#include "mailgrant/bad_input.h"
#include "mailgrant/caching_directory.h"
#include "mailgrant/config.h"
#include "mailgrant/decision.h"
#include "mailgrant/directory_pool.h"
#include "mailgrant/dn.h"
#include "mailgrant/ldap_client.h"
#include "mailgrant/warnings.h"

#include "run_command.h"

using namespace mailgrant;

namespace {

// Work directory of the shared slapd, its connection settings.
struct Sandbox {
    std::string dir;
    std::string uri;
    std::string base;
    std::string rootdn;
    std::string rootpw_file;
    pid_t pid = 0;
};
Sandbox* sandbox = nullptr;

using mailgrant::testing::run;
using mailgrant::testing::start_slapd;
using mailgrant::testing::stop_slapd;
using mailgrant::testing::wait_until_stopped;

class SlapdEnvironment : public ::testing::Environment {
public:
    void SetUp() override {
        // libldap writes to sockets without MSG_NOSIGNAL: a peer that closed would kill
        // the process. Every mailgrant daemon ignores SIGPIPE; so does this test.
        signal(SIGPIPE, SIG_IGN);
        char tmpl[] = "/tmp/mailgrant-core-it-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        sandbox = new Sandbox;
        sandbox->dir = tmpl;
        int status = 0;
        const std::string out =
            start_slapd(sandbox->dir, std::string("--ldif ") + MAILGRANT_FIXTURES + "/org.ldif", &status);
        ASSERT_EQ(status, 0) << out;
        auto started = mailgrant::testing::key_values(out);
        sandbox->uri = started["LDAP_URI"];
        sandbox->base = started["LDAP_BASE"];
        sandbox->rootdn = started["LDAP_ROOTDN"];
        sandbox->rootpw_file = sandbox->dir + "/rootpw";
        std::ifstream pidfile(sandbox->dir + "/slapd.pid");
        pidfile >> sandbox->pid;
        ASSERT_FALSE(sandbox->uri.empty()) << out;
        ASSERT_GT(sandbox->pid, 0);
    }
    void TearDown() override {
        if (!sandbox) return;
        kill(sandbox->pid, SIGCONT);  // in case a test stopped it and failed before resuming
        stop_slapd(sandbox->dir);
        run("rm -rf " + sandbox->dir);
        delete sandbox;
        sandbox = nullptr;
    }
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new SlapdEnvironment);

Config test_config() {
    Config c;
    c.ldap.uris = {sandbox->uri};
    c.ldap.base = sandbox->base;
    c.ldap.bind_dn = sandbox->rootdn;
    c.ldap.bind_password_file = sandbox->rootpw_file;
    c.ldap.network_timeout_ms = 1000;
    c.ldap.operation_timeout_ms = 1500;
    return c;
}

// Applies an LDIF change as the rootdn with OpenLDAP's own client.
void ldapmodify(const std::string& ldif, bool add = false) {
    const std::string path = sandbox->dir + "/change.ldif";
    std::ofstream(path) << ldif;
    int status = 0;
    const std::string out = run(std::string(add ? "ldapadd" : "ldapmodify") + " -x -H " + sandbox->uri + " -D '" +
                                    sandbox->rootdn + "' -y " + sandbox->rootpw_file + " -f " + path,
                                &status);
    ASSERT_EQ(status, 0) << out;
}

class CoreIntegration : public ::testing::Test {
protected:
    Config config = test_config();
    LdapConnection ldap{config.ldap};
    LdapDirectory directory{config, ldap};
    ManualClock clock{1750000000};  // 2025-06-15
    Decider decider{directory, clock};
};

TEST_F(CoreIntegration, LoginByUidOrMailAnyCase) {
    for (const char* login : {"alice", "alice@example.com", "ALICE@Example.COM"}) {
        const auto a = directory.find_login(login);
        ASSERT_TRUE(a) << login;
        EXPECT_EQ(normalize_dn(a->dn), "uid=alice,ou=people,dc=example,dc=com");
        EXPECT_EQ(a->addresses, (std::vector<std::string>{"alice@example.com", "a.smith@example.com"}));
        EXPECT_FALSE(a->shared_mailbox);
    }
    EXPECT_FALSE(directory.find_login("a.smith@example.com"));  // an alias is an address, not a login
    EXPECT_FALSE(directory.find_login("nobody"));
}

TEST_F(CoreIntegration, FilterInjectionIsInert) {
    // Unescaped, "*" would match every person (and be refused as ambiguous).
    EXPECT_FALSE(directory.find_login("*"));
    EXPECT_FALSE(directory.find_login("*)(uid=*"));
    EXPECT_FALSE(directory.find_mailbox("*@example.com"));
}

TEST_F(CoreIntegration, MailboxByAliasAndSharedFlag) {
    const auto s = directory.find_mailbox("HELP@example.com");
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->shared_mailbox);
    EXPECT_EQ(s->primary_address(), "support@example.com");
    const auto byDn = directory.find_mailbox("uid=support,ou=people,dc=example,dc=com");
    ASSERT_TRUE(byDn);
    EXPECT_TRUE(byDn->shared_mailbox);
    EXPECT_FALSE(directory.find_mailbox("ou=people,dc=example,dc=com"));  // no address: not a mailbox
    EXPECT_FALSE(directory.find_mailbox("uid=ghost,ou=people,dc=example,dc=com"));
}

TEST_F(CoreIntegration, NestedGroupsAcrossBothGroupClasses) {
    const auto groups = directory.groups_of("uid=carol,ou=people,dc=example,dc=com");
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(normalize_dn(groups[0].dn), "cn=support-leads,ou=groups,dc=example,dc=com");
    EXPECT_EQ(normalize_dn(groups[1].dn), "cn=support-team,ou=groups,dc=example,dc=com");
    EXPECT_EQ(groups[1].path.size(), 2u);
}

TEST_F(CoreIntegration, GroupByNameForSelfService) {
    const auto team = directory.find_group("Support-Team");
    ASSERT_TRUE(team);
    EXPECT_EQ(normalize_dn(*team), "cn=support-team,ou=groups,dc=example,dc=com");
    EXPECT_FALSE(directory.find_group("support-*"));  // escaped: a literal, not a wildcard
    EXPECT_FALSE(directory.find_group("alice"));      // a person is not a group
    EXPECT_THROW(directory.find_group(""), BadInput);
}

TEST_F(CoreIntegration, GroupCycleTerminates) {
    const auto groups = directory.groups_of("uid=dave,ou=people,dc=example,dc=com");
    ASSERT_EQ(groups.size(), 2u);  // loop-b, then loop-a; loop-b again is not revisited
    EXPECT_EQ(normalize_dn(groups[0].dn), "cn=loop-b,ou=groups,dc=example,dc=com");
    EXPECT_EQ(normalize_dn(groups[1].dn), "cn=loop-a,ou=groups,dc=example,dc=com");
}

TEST_F(CoreIntegration, GrantsBelowAMailbox) {
    const auto grants = directory.grants_of("uid=alice,ou=people,dc=example,dc=com");
    ASSERT_EQ(grants.size(), 2u);
    for (const auto& g : grants) {
        EXPECT_EQ(normalize_dn(g.owner_dn), "uid=alice,ou=people,dc=example,dc=com");
        EXPECT_TRUE(g.problems.empty()) << g.dn;
    }
    EXPECT_TRUE(directory.grants_of("uid=eve,ou=people,dc=example,dc=com").empty());
}

TEST_F(CoreIntegration, GrantsToMatchesDnEqualityNotText) {
    // Spelled differently from the stored value: the server's distinguishedNameMatch decides.
    const auto grants = directory.grants_to({"UID=Bob, ou=People, dc=example, dc=com"});
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(grants[0].name, "projects-bob");
}

TEST_F(CoreIntegration, FolderDecisionsFromTheFixture) {
    struct Case {
        const char* login;
        const char* mailbox;
        const char* folder;
        const char* rights;
    } cases[] = {
        {"bob@example.com", "alice@example.com", "Projects", "lrs"},
        {"bob@example.com", "alice@example.com", "Projects/2025", "lrs"},
        {"bob@example.com", "alice@example.com", "INBOX", ""},
        {"bob@example.com", "support@example.com", "INBOX", "lrswipkxte"},     // group
        {"carol@example.com", "help@example.com", "Sent", "lrswipkxte"},       // nested group, alias
        {"dave@example.com", "support@example.com", "INBOX", "lr"},            // through the cycle
        {"dave@example.com", "support@example.com", "Sent", ""},
        {"carol@example.com", "alice@example.com", "INBOX", ""},               // expired in 2020
        {"eve@example.com", "support@example.com", "INBOX", ""},
    };
    for (const auto& c : cases) {
        const auto d = decider.folder_rights(c.login, c.mailbox, c.folder);
        EXPECT_EQ(d.rights.letters(), c.rights) << c.login << " " << c.mailbox << " " << c.folder << ": " << d.reason;
    }
}

TEST_F(CoreIntegration, SenderDecisionsFromTheFixture) {
    EXPECT_EQ(decider.sender("bob@example.com", "support@example.com").right, SenderRight::SendAs);
    EXPECT_EQ(decider.sender("carol@example.com", "help@example.com").right, SenderRight::SendAs);
    EXPECT_EQ(decider.sender("dave@example.com", "carol@example.com").right, SenderRight::SendOnBehalf);
    EXPECT_EQ(decider.sender("dave@example.com", "support@example.com").right, SenderRight::Denied);  // lr only
    EXPECT_EQ(decider.sender("eve@example.com", "support@example.com").right, SenderRight::Denied);
    EXPECT_EQ(decider.sender("alice", "A.Smith@example.com").right, SenderRight::Own);
    EXPECT_EQ(decider.sender("support@example.com", "help@example.com").right, SenderRight::Denied);
    // The expired vacation cover also held sendOnBehalf: expired means gone.
    const auto d = decider.sender("carol@example.com", "alice@example.com");
    EXPECT_EQ(d.right, SenderRight::Denied);
    ASSERT_EQ(d.not_applied.size(), 1u);
    EXPECT_NE(d.not_applied[0].find("expired"), std::string::npos);
    clock.set_wall(1579000000);  // January 2020: the cover was valid then
    EXPECT_EQ(decider.sender("carol@example.com", "alice@example.com").right, SenderRight::SendOnBehalf);
}

TEST_F(CoreIntegration, SharingWithForTheSharedNamespace) {
    const auto owners = decider.sharing_with("bob@example.com");
    std::vector<std::string> addresses;
    for (const auto& o : owners) addresses.push_back(o.owner.primary_address());
    std::sort(addresses.begin(), addresses.end());
    EXPECT_EQ(addresses, (std::vector<std::string>{"alice@example.com", "support@example.com"}));
}

TEST_F(CoreIntegration, NewAndRevokedGrantsObeyedWithinTtl) {
    CachingDirectory cached(directory, config.cache, clock);
    Decider fresh(cached, clock);
    EXPECT_TRUE(fresh.folder_rights("eve@example.com", "alice@example.com", "INBOX").rights.empty());
    ldapmodify(
        "dn: cn=eve-temp,uid=alice,ou=people,dc=example,dc=com\n"
        "objectClass: mailGrant\ncn: eve-temp\n"
        "mailGrantee: uid=eve,ou=people,dc=example,dc=com\nmailGrantFolder: INBOX\nmailGrantRights: reader\n",
        true);
    // Still the cached "no grant" answer until the negative TTL passes.
    EXPECT_TRUE(fresh.folder_rights("eve@example.com", "alice@example.com", "INBOX").rights.empty());
    clock.advance(config.cache.ttl_s + 1);
    EXPECT_EQ(fresh.folder_rights("eve@example.com", "alice@example.com", "INBOX").rights.letters(), "lrs");
    ldapmodify("dn: cn=eve-temp,uid=alice,ou=people,dc=example,dc=com\nchangetype: delete\n");
    clock.advance(config.cache.ttl_s + 1);
    EXPECT_TRUE(fresh.folder_rights("eve@example.com", "alice@example.com", "INBOX").rights.empty());
}

TEST_F(CoreIntegration, FailoverToTheNextUri) {
    Config c = test_config();
    c.ldap.uris = {"ldap://127.0.0.1:1", sandbox->uri};  // nothing listens on port 1
    LdapConnection failover(c.ldap);
    LdapDirectory dir(c, failover);
    EXPECT_TRUE(dir.find_login("alice"));
    EXPECT_EQ(failover.connected_uri(), sandbox->uri);
}

TEST_F(CoreIntegration, NoServerIsUnavailableNotEmpty) {
    Config c = test_config();
    c.ldap.uris = {"ldap://127.0.0.1:1"};
    LdapConnection down(c.ldap);
    LdapDirectory dir(c, down);
    try {
        dir.find_login("alice");
        FAIL() << "expected an LdapError";
    } catch (const LdapError& e) {
        EXPECT_EQ(e.kind(), LdapErrorKind::Unavailable) << e.what();
    }
}

TEST_F(CoreIntegration, WrongPasswordIsAnErrorNotAnonymous) {
    Config c = test_config();
    const std::string wrong = sandbox->dir + "/wrongpw";
    std::ofstream(wrong) << "not-the-password";
    c.ldap.bind_password_file = wrong;
    LdapConnection bad(c.ldap);
    EXPECT_THROW(bad.connect(), LdapError);
}

TEST_F(CoreIntegration, HungServerTimesOutAndRecovers) {
    EXPECT_TRUE(directory.find_login("alice"));  // connected
    ASSERT_EQ(kill(sandbox->pid, SIGSTOP), 0);
    ASSERT_TRUE(wait_until_stopped(sandbox->pid)) << "slapd did not stop";
    LdapErrorKind kind = LdapErrorKind::Other;
    try {
        directory.find_login("bob");
        ADD_FAILURE() << "a stopped server must not answer";
    } catch (const LdapError& e) {
        kind = e.kind();
    }
    ASSERT_EQ(kill(sandbox->pid, SIGCONT), 0);
    EXPECT_EQ(kind, LdapErrorKind::Timeout);
    EXPECT_TRUE(directory.find_login("bob"));  // a fresh connection after the timeout
}

// A loopback TCP proxy in front of slapd that can cut every connection, as a server
// restart or an idle timeout on a firewall would.
class CuttableProxy {
public:
    explicit CuttableProxy(int target_port) : target_port_(target_port) {
        listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        socklen_t len = sizeof addr;
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        listen(listen_fd_, 8);
        thread_ = std::thread([this] { loop(); });
    }
    ~CuttableProxy() {
        stop_ = true;
        thread_.join();
        cut_all();
        close(listen_fd_);
    }
    int port() const { return port_; }
    int accepted() const { return accepted_; }
    void cut() { cut_requested_ = true; while (cut_requested_) usleep(1000); }

private:
    void cut_all() {
        for (auto& [a, b] : pairs_) {
            close(a);
            close(b);
        }
        pairs_.clear();
    }
    void loop() {
        for (int rounds = 0; !stop_ && rounds < 600000; ++rounds) {  // bounded: at most ~10 min
            if (cut_requested_) {
                cut_all();
                cut_requested_ = false;
            }
            std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
            for (auto& [a, b] : pairs_) {
                fds.push_back({a, POLLIN, 0});
                fds.push_back({b, POLLIN, 0});
            }
            if (poll(fds.data(), fds.size(), 20) <= 0) continue;
            if (fds[0].revents & POLLIN) {
                const int client = accept(listen_fd_, nullptr, nullptr);
                const int server = socket(AF_INET, SOCK_STREAM, 0);
                sockaddr_in addr{};
                addr.sin_family = AF_INET;
                addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                addr.sin_port = htons(static_cast<uint16_t>(target_port_));
                if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
                    pairs_.emplace_back(client, server);
                    ++accepted_;
                } else {
                    close(client);
                    close(server);
                }
            }
            for (std::size_t i = 1; i < fds.size(); ++i) {
                if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                auto& pair = pairs_[(i - 1) / 2];
                const int from = fds[i].fd, to = from == pair.first ? pair.second : pair.first;
                char buf[16384];
                const ssize_t n = read(from, buf, sizeof buf);
                if (n <= 0 || write(to, buf, static_cast<std::size_t>(n)) != n) {
                    cut_requested_ = true;  // one side closed: drop everything, simplest for a test
                    break;
                }
            }
        }
    }
    int target_port_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<bool> cut_requested_{false};
    std::atomic<int> accepted_{0};
    std::vector<std::pair<int, int>> pairs_;
    std::thread thread_;
};

TEST_F(CoreIntegration, DroppedConnectionIsReconnectedAndRetriedOnce) {
    const int slapd_port = std::stoi(sandbox->uri.substr(sandbox->uri.rfind(':') + 1));
    CuttableProxy proxy(slapd_port);
    Config c = test_config();
    c.ldap.uris = {"ldap://127.0.0.1:" + std::to_string(proxy.port())};
    LdapConnection conn(c.ldap);
    LdapDirectory dir(c, conn);
    EXPECT_TRUE(dir.find_login("alice"));
    EXPECT_EQ(proxy.accepted(), 1);
    proxy.cut();
    EXPECT_TRUE(dir.find_login("bob"));  // the caller never sees the dropped connection
    EXPECT_EQ(proxy.accepted(), 2);
}

// Issue 10, part 2: one grant whose mailGrantFolder value is over the 256 KiB limit
// (any owner can write one below his own mailbox) is left out and named in one warning;
// the grantee's other grants, from other owners, keep working.
TEST_F(CoreIntegration, OversizedGrantSkipsOnlyItself) {
    const std::string huge_dn = "cn=eve-huge,uid=alice,ou=people,dc=example,dc=com";
    const std::string good_dn = "cn=eve-good,uid=carol,ou=people,dc=example,dc=com";
    ldapmodify("dn: " + huge_dn + "\nobjectClass: mailGrant\ncn: eve-huge\n"
               "mailGrantee: uid=eve,ou=people,dc=example,dc=com\nmailGrantRights: reader\nmailGrantFolder: " +
                   std::string(300 * 1024, 'x') + "\n\n"
               "dn: " + good_dn + "\nobjectClass: mailGrant\ncn: eve-good\n"
               "mailGrantee: uid=eve,ou=people,dc=example,dc=com\nmailGrantRights: reader\nmailGrantFolder: INBOX\n",
               true);
    struct Cleanup {  // the fixture is shared by every test of this binary
        std::string dns;
        ~Cleanup() {
            const std::string path = sandbox->dir + "/cleanup.ldif";
            std::ofstream(path) << dns;
            run("ldapmodify -x -H " + sandbox->uri + " -D '" + sandbox->rootdn + "' -y " + sandbox->rootpw_file +
                " -c -f " + path);
        }
    } cleanup{"dn: " + huge_dn + "\nchangetype: delete\n\ndn: " + good_dn + "\nchangetype: delete\n"};

    std::vector<Warning> warnings;
    ScopedWarningSink sink([&](const Warning& w) { warnings.push_back(w); });
    const auto grants = directory.grants_to({"uid=eve,ou=people,dc=example,dc=com"});
    ASSERT_EQ(grants.size(), 1u);
    EXPECT_EQ(normalize_dn(grants[0].dn), normalize_dn(good_dn));
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_EQ(normalize_dn(warnings[0].entry_dn), normalize_dn(huge_dn));
    EXPECT_NE(warnings[0].text.find("cn=eve-huge"), std::string::npos) << warnings[0].text;
    EXPECT_NE(warnings[0].text.find("mailGrantFolder"), std::string::npos) << warnings[0].text;

    // The shared namespace still lists carol; alice's other grants are unaffected.
    warnings.clear();
    const auto owners = decider.sharing_with("eve@example.com");
    ASSERT_EQ(owners.size(), 1u);
    EXPECT_EQ(owners[0].owner.primary_address(), "carol@example.com");
    EXPECT_EQ(warnings.size(), 1u);  // one search, one line
    EXPECT_EQ(decider.folder_rights("eve@example.com", "carol@example.com", "INBOX").rights.letters(), "lrs");
    EXPECT_EQ(decider.folder_rights("bob@example.com", "alice@example.com", "Projects").rights.letters(), "lrs");
    EXPECT_EQ(directory.grants_of("uid=alice,ou=people,dc=example,dc=com").size(), 2u);  // without eve-huge
}

// Issue 10, part 4: names that can never be found are BadInput, never LdapError -- also
// where the server itself refuses the DN -- and the pool does not count them as LDAP calls.
TEST_F(CoreIntegration, BadInputIsNotAnLdapError) {
    EXPECT_THROW(directory.find_mailbox("a=b,c@example.com"), BadInput);
    EXPECT_THROW(directory.find_mailbox("foo=bar,baz=qux"), BadInput);  // slapd: invalid DN syntax
    EXPECT_THROW(directory.find_address("uid=alice,ou=people,dc=example,dc=com"), BadInput);
    EXPECT_THROW(directory.find_login(std::string(321, 'a')), BadInput);
    EXPECT_FALSE(directory.find_mailbox("uid=x,dc=elsewhere,dc=org"));  // a DN no database holds: not found
    EXPECT_TRUE(directory.find_mailbox("uid=alice,ou=people,dc=example,dc=com"));  // DNs from LDAP still work

    int observed = 0, failed = 0;
    DirectoryPool pool(config, 1, [&](std::chrono::microseconds, bool ok) {
        ++observed;
        failed += ok ? 0 : 1;
    });
    EXPECT_THROW(pool.find_login(std::string(321, 'a')), BadInput);
    EXPECT_THROW(pool.find_mailbox("foo=bar,baz=qux"), BadInput);
    EXPECT_EQ(observed, 0);
    EXPECT_TRUE(pool.find_login("alice"));
    EXPECT_EQ(observed, 1);
    EXPECT_EQ(failed, 0);
}

TEST_F(CoreIntegration, CliExplainUsesTheSameDecisions) {
    const std::string yaml = sandbox->dir + "/mailgrant.yaml";
    std::ofstream(yaml) << "ldap:\n  uris: [" << sandbox->uri << "]\n  base: " << sandbox->base
                        << "\n  bind_dn: " << sandbox->rootdn << "\n  bind_password_file: " << sandbox->rootpw_file
                        << "\n";
    int status = -1;
    std::string out = run(std::string(MAILGRANT_CLI) + " -c " + yaml + " explain carol@example.com support@example.com INBOX", &status);
    EXPECT_EQ(status, 0) << out;
    EXPECT_NE(out.find("lrswipkxte"), std::string::npos) << out;
    EXPECT_NE(out.find("support-leads"), std::string::npos) << out;  // the group path is shown
    out = run(std::string(MAILGRANT_CLI) + " -c " + yaml + " explain eve@example.com support@example.com --send", &status);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("denied"), std::string::npos) << out;
    out = run(std::string(MAILGRANT_CLI) + " -c " + yaml + ".missing explain a b c", &status);
    EXPECT_EQ(status, 3) << out;
}

// mailGrantPending through the real schema, directory and CLI: an invitation gives eve
// nothing (folders, sending, the shared namespace) and `explain` names it pending; once
// accepted (attribute removed) it gives what it says.
TEST_F(CoreIntegration, PendingInvitationGivesNothingUntilAccepted) {
    const std::string dn = "cn=invite-eve,uid=alice,ou=people,dc=example,dc=com";
    ldapmodify("dn: " + dn +
                   "\nobjectClass: mailGrant\ncn: invite-eve\nmailGrantee: uid=eve,ou=people,dc=example,dc=com\n"
                   "mailGrantFolder: INBOX\nmailGrantRights: reader\nmailGrantSend: sendAs\nmailGrantPending: TRUE\n",
               true);
    struct Cleanup {  // the fixture is shared by every test of this binary
        ~Cleanup() { ldapmodify("dn: cn=invite-eve,uid=alice,ou=people,dc=example,dc=com\nchangetype: delete\n"); }
    } cleanup;
    Decider live(directory, clock);
    const auto rights = live.folder_rights("eve@example.com", "alice@example.com", "INBOX");
    EXPECT_TRUE(rights.rights.empty());
    ASSERT_FALSE(rights.not_applied.empty());
    EXPECT_NE(rights.not_applied[0].find("pending"), std::string::npos) << rights.not_applied[0];
    EXPECT_FALSE(live.sender("eve@example.com", "alice@example.com").allowed());
    for (const auto& owner : live.sharing_with("eve@example.com"))
        EXPECT_NE(owner.owner.primary_address(), "alice@example.com");

    const std::string yaml = sandbox->dir + "/pending.yaml";
    std::ofstream(yaml) << "ldap:\n  uris: [" << sandbox->uri << "]\n  base: " << sandbox->base
                        << "\n  bind_dn: " << sandbox->rootdn << "\n  bind_password_file: " << sandbox->rootpw_file
                        << "\n";
    int status = -1;
    std::string out = run(std::string(MAILGRANT_CLI) + " -c " + yaml + " explain eve@example.com alice@example.com --send", &status);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("pending"), std::string::npos) << out;

    ldapmodify("dn: " + dn + "\nchangetype: modify\ndelete: mailGrantPending\n");  // accepted
    EXPECT_EQ(live.folder_rights("eve@example.com", "alice@example.com", "INBOX").rights.letters(), "lrs");
    EXPECT_EQ(live.sender("eve@example.com", "alice@example.com").right, SenderRight::SendAs);
}

}  // namespace
