// Integration tests of the batched questions and paged results (issue 19) against a real
// slapd (tests/harness/slapd_sandbox.py) holding tests/fixtures/org.ldif plus generated
// people and grants: the searches one login or one decision costs do not grow with the
// number of mailboxes involved, answers above slapd's default size limit of 500 arrive
// whole through RFC 2696 paging, a size-limit error names the limit really hit, and
// slapd never warns that a search was not indexed.
//
// mailgrant binds as a service account (not the rootdn, which has no limits), with the
// `limits` line ldap-schema/README.md gives it: slapd's default size limit (500) for
// plain searches, unlimited totals for paged ones. A second account without that line
// shows the server's limit being named.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <ldap.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "mailgrant/bad_input.h"
#include "mailgrant/caching_directory.h"
#include "mailgrant/config.h"
#include "mailgrant/decision.h"
#include "mailgrant/dn.h"
#include "mailgrant/ldap_client.h"
#include "mailgrant/shared_namespace.h"
#include "mailgrant/team_mailbox.h"

#include "run_command.h"
#include "slapd_environment.h"

using namespace mailgrant;

namespace {

constexpr int kBigN = 600;  // above slapd's default size limit of 500
constexpr const char* kService = "cn=mailgrant,ou=services,dc=example,dc=com";
constexpr const char* kUnlimited = "cn=plain,ou=services,dc=example,dc=com";  // no limits line

struct Sandbox {
    std::string dir, uri, base, rootdn;
    pid_t pid = 0;
};
Sandbox* sandbox = nullptr;

using mailgrant::testing::run;
using mailgrant::testing::start_slapd;
using mailgrant::testing::stop_slapd;

std::string person(const std::string& uid) {
    return "dn: uid=" + uid + ",ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: " + uid +
           "\ncn: " + uid + "\nsn: " + uid + "\nmail: " + uid + "@example.com\nuserPassword: " + uid + "-pw\n\n";
}

std::string dn_of(const std::string& uid) { return "uid=" + uid + ",ou=people,dc=example,dc=com"; }

// sharer-0 .. sharer-599 each grant INBOX to frank, and the first N of them to uN too;
// big grants sendAs to each sharer (600 grants below one mailbox).
std::string bulk_ldif() {
    std::ostringstream out;
    out << "dn: ou=services,dc=example,dc=com\nobjectClass: organizationalUnit\nou: services\n\n";
    for (const char* dn : {kService, kUnlimited})
        out << "dn: " << dn << "\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: "
            << (dn == kService ? "mailgrant" : "plain") << "\nuserPassword: service-pw\n\n";
    for (const char* uid : {"frank", "u1", "u10", "u100", "big"}) out << person(uid);
    // For mailboxes_by_address: an address two people have, and an archive (outside the
    // users base of AddressAnswersAreTheAddressSearchs) holding a live person's address.
    for (const char* uid : {"dup-a", "dup-b", "moved"}) out << person(uid);
    out << "dn: " << dn_of("dup-a") << "\nchangetype: modify\nadd: mail\nmail: dup@example.com\n\n";
    out << "dn: " << dn_of("dup-b") << "\nchangetype: modify\nadd: mail\nmail: dup@example.com\n\n";
    out << "dn: ou=archive,dc=example,dc=com\nobjectClass: organizationalUnit\nou: archive\n\n";
    out << person("contacted");
    out << "dn: ou=contacts,ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: contacts\n\n";
    out << "dn: cn=contact,ou=contacts,ou=people,dc=example,dc=com\nobjectClass: account\nobjectClass: "
           "extensibleObject\ncn: contact\nuid: contact\nmail: contacted@example.com\n\n";
    out << "dn: uid=gone,ou=archive,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: gone\ncn: gone\nsn: gone\n"
           "mail: moved@example.com\nmail: gone@example.com\n\n";
    for (int i = 0; i < kBigN; ++i) {
        const std::string sharer = "sharer-" + std::to_string(i);
        out << person(sharer);
        out << "dn: cn=share," << dn_of(sharer) << "\nobjectClass: mailGrant\ncn: share\nmailGrantee: "
            << dn_of("frank") << "\n";
        for (int n : {1, 10, 100})
            if (i < n) out << "mailGrantee: " << dn_of("u" + std::to_string(n)) << "\n";
        out << "mailGrantFolder: INBOX\nmailGrantRights: reader\n\n";
        out << "dn: cn=send-" << i << "," << dn_of("big") << "\nobjectClass: mailGrant\ncn: send-" << i
            << "\nmailGrantee: " << dn_of(sharer) << "\nmailGrantSend: sendAs\n\n";
    }
    return out.str();
}

class SlapdEnvironment : public ::testing::Environment {
public:
    void SetUp() override {
        signal(SIGPIPE, SIG_IGN);
        char tmpl[] = "/tmp/mailgrant-batched-it-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        sandbox = new Sandbox;
        sandbox->dir = tmpl;
        // ldap-schema/README.md's limits line for the service account.
        std::ofstream(sandbox->dir + "/limits.conf")
            << "limits dn.exact=\"" << kService << "\" size.prtotal=unlimited\n"
            // An address book below the users base whose entryDN the service account may
            // not search by (a filter on it is Undefined there, not False).
            << "access to dn.subtree=\"ou=contacts,ou=people,dc=example,dc=com\" attrs=entryDN by * none\n"
            << "access to * by * read\n";
        std::ofstream(sandbox->dir + "/secret") << "service-pw";
        int status = 0;
        const std::string out = start_slapd(
            sandbox->dir,
            std::string("--log-filters --ldif ") + MAILGRANT_FIXTURES + "/org.ldif --acl-file " + sandbox->dir + "/limits.conf",
            &status);
        ASSERT_EQ(status, 0) << out;
        auto started = mailgrant::testing::key_values(out);
        sandbox->uri = started["LDAP_URI"];
        sandbox->base = started["LDAP_BASE"];
        sandbox->rootdn = started["LDAP_ROOTDN"];
        ASSERT_FALSE(sandbox->uri.empty()) << out;
        std::ofstream(sandbox->dir + "/bulk.ldif") << bulk_ldif();
        const std::string add = run("ldapadd -x -H " + sandbox->uri + " -D '" + sandbox->rootdn + "' -y " +
                                        sandbox->dir + "/rootpw -f " + sandbox->dir + "/bulk.ldif > /dev/null",
                                    &status);
        ASSERT_EQ(status, 0) << add;
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

Config service_config(const std::string& bind_dn = kService) {
    Config c;
    c.ldap.uris = {sandbox->uri};
    c.ldap.base = sandbox->base;
    c.ldap.bind_dn = bind_dn;
    c.ldap.bind_password_file = sandbox->dir + "/secret";
    c.ldap.network_timeout_ms = 2000;
    c.ldap.operation_timeout_ms = 5000;
    return c;
}

// Counts what mailgrant asks LDAP: searches (each page is one on the wire: see
// LdapConnection::search_count) and the entries they bring back.
class CountingSearcher final : public LdapSearcher {
public:
    explicit CountingSearcher(const Config& config) : connection(config.ldap) {}
    std::vector<LdapEntry> search(const SearchRequest& request) override {
        filters.push_back(request.filter);
        auto entries = connection.search(request);
        entries_read += entries.size();
        return entries;
    }
    unsigned long long searches() const { return connection.search_count(); }
    LdapConnection connection;
    std::size_t entries_read = 0;
    std::vector<std::string> filters;
};

// A cold stack as one IMAP process has it (dovecot-plugin/core_local.cpp): connection,
// directory, cache (empty; owners kept under their addresses inside users.base), decider.
// As the policy daemon has it (postfix-policyd/engine.cpp) with `as_daemon`: its cache
// keeps no mailbox under an address from a read by DN, so a sender's address lookup
// always has the address search's own answer.
struct Stack {
    explicit Stack(Config c = service_config(), bool as_daemon = false)
        : config(std::move(c)), ldap(config), directory(config, ldap),
          cache(directory, config.cache, clock, as_daemon ? std::string() : config.users_base()),
          decider(cache, clock), team(config.team_mailbox, cache, decider) {}
    Config config;
    CountingSearcher ldap;
    LdapDirectory directory;
    const SystemClock& clock = SystemClock::instance();
    CachingDirectory cache;
    Decider decider;
    TeamMailboxes team;
};

// What the plugin asks for LOGIN + LIST "" "*": the owners for the shared namespace,
// then every shared INBOX's rights by the owner's address (as Dovecot names it).
TEST(BatchedLdap, LoginAndListSearchesDoNotGrowWithSharers) {
    std::vector<unsigned long long> counts;
    for (int n : {1, 10, 100}) {
        Stack stack;
        const std::string login = "u" + std::to_string(n) + "@example.com";
        const auto owners = stack.decider.sharing_with(login);
        ASSERT_EQ(owners.size(), static_cast<std::size_t>(n));
        for (const auto& owner : owners) {
            const auto d = stack.decider.folder_rights(login, owner.owner.primary_address(), "INBOX");
            EXPECT_EQ(d.rights.letters(), "lrs") << d.reason;
        }
        const auto searches = stack.ldap.searches();
        counts.push_back(searches);
        // The login, its groups with its grants, the owners: three, whatever N.
        EXPECT_LE(searches, 3u) << "N=" << n;
        std::printf("N=%d: %llu mailgrant searches for LOGIN + LIST\n", n, searches);
    }
    EXPECT_EQ(counts.front(), counts.back());
}

// A cold send-as decision reads the login, the sender address's mailbox, and (with the
// user's groups) only the grants below that mailbox naming the user or a group: not the
// 600 grants of the mailbox.
TEST(BatchedLdap, ColdSenderDecisionAsksForTheGrantsThatMatter) {
    Stack stack;
    const auto d = stack.decider.sender("sharer-7@example.com", "big@example.com");
    EXPECT_EQ(d.right, SenderRight::SendAs) << d.reason;
    EXPECT_NE(d.reason.find("send-7"), std::string::npos) << d.reason;
    EXPECT_EQ(stack.ldap.searches(), 2u);
    EXPECT_LE(stack.ldap.entries_read, 3u);  // two accounts and one grant
    Stack own;
    EXPECT_EQ(own.decider.sender("big@example.com", "big@example.com").right, SenderRight::Own);
    EXPECT_EQ(own.ldap.searches(), 1u);  // one's own address: the login alone
}

TEST(BatchedLdap, EveryDelegateOfAMailboxWithMoreThan500GrantsMaySend) {
    Stack stack;
    int allowed = 0;
    for (int i = 0; i < kBigN; ++i) {
        const auto d = stack.decider.sender("sharer-" + std::to_string(i) + "@example.com", "big@example.com");
        if (d.right == SenderRight::SendAs) ++allowed;
        else ADD_FAILURE() << d.reason;
    }
    EXPECT_EQ(allowed, kBigN);
    // All its grants at once (GETACL, report): paged past the server's 500.
    LdapDirectory& directory = stack.directory;
    EXPECT_EQ(directory.grants_of(dn_of("big")).size(), static_cast<std::size_t>(kBigN));
}

TEST(BatchedLdap, UserWithMoreThan500SharersSeesThemAll) {
    Stack stack;
    const auto owners = stack.decider.sharing_with("frank@example.com");
    EXPECT_EQ(owners.size(), static_cast<std::size_t>(kBigN));
    const auto before = stack.ldap.searches();
    const auto d = stack.decider.folder_rights("frank@example.com", "sharer-599@example.com", "INBOX");
    EXPECT_EQ(d.rights.letters(), "lrs") << d.reason;
    EXPECT_EQ(stack.ldap.searches(), before);  // LIST after LOGIN asks nothing more
    // 600 grants in pages of 500, 600 owners in OR-filters of 256: a handful of searches.
    EXPECT_LE(before, 1u + 2u + 3u);
}

// A one-level search (the grants of one mailbox) is asked first without paging: slapd
// pages a one-level search by testing every entry its filter's index gives. Up to a page
// it is one search; the 600 grants below big end that try at the server's limit and are
// then read whole in pages: the try and two pages.
TEST(BatchedLdap, OneLevelSearchesPageOnlyWhenTheyMust) {
    Stack small;
    EXPECT_EQ(small.directory.grants_of(dn_of("sharer-7")).size(), 1u);
    EXPECT_EQ(small.ldap.searches(), 1u);
    Stack big;
    const auto grants = big.directory.grants_of(dn_of("big"));
    EXPECT_EQ(grants.size(), static_cast<std::size_t>(kBigN));
    std::set<std::string> names;
    for (const auto& g : grants) names.insert(g.name);
    EXPECT_EQ(names.size(), static_cast<std::size_t>(kBigN));  // none twice: the try's entries were dropped
    EXPECT_EQ(big.ldap.searches(), 3u);
}

// A walk (the admin CLI's check and report) reads past ldap.size_limit, hands each page
// over once it is complete, and lets the caller take longer than the operation timeout
// with its own lookups meanwhile (check runs doveadm per owner, report and list describe
// grantees): 1,200-odd grant entries in 3 pages, 2 ms spent on each.
TEST(BatchedLdap, AWalkHandsOverWholePagesAndWaitsForItsCaller) {
    Config config = service_config();
    config.ldap.size_limit = 100;
    config.ldap.operation_timeout_ms = 1000;
    LdapConnection connection(config.ldap);
    LdapConnection lookups(config.ldap);  // as the CLI has it: walks on a connection of their own
    std::size_t entries = 0, looked_up = 0;
    const SearchRequest every_grant{"dc=example,dc=com", SearchScope::Subtree, "(objectClass=mailGrant)", {"cn"}};
    const auto started = std::chrono::steady_clock::now();
    connection.search_each(every_grant, [&](LdapEntry&& entry) {
        ++entries;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        if (entries % 250 == 0)
            looked_up += lookups.search(SearchRequest{"dc=example,dc=com", SearchScope::Subtree,
                                                      "(mail=frank@example.com)", {"mail"}}).size();
        EXPECT_FALSE(entry.dn.empty());
    });
    // What one ordinary search (ldap.size_limit 5000) gives: the 1,200 and a few others.
    LdapConnection plain(service_config().ldap);
    EXPECT_EQ(entries, plain.search(every_grant).size());
    EXPECT_GE(entries, static_cast<std::size_t>(2 * kBigN));
    EXPECT_EQ(looked_up, 4u);
    EXPECT_GT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(2000));  // past the timeout
    EXPECT_EQ(connection.search_count(), 3u);
    try {  // the same search as a lookup stops at ldap.size_limit
        connection.search(every_grant);
        ADD_FAILURE() << "a lookup went past ldap.size_limit 100";
    } catch (const LdapError& e) {
        EXPECT_NE(std::string(e.what()).find("ldap.size_limit"), std::string::npos) << e.what();
    }
}

// What the caller of a walk throws reaches it as thrown, and is never taken for this
// connection's server failing: a lookup of the caller's that timed out elsewhere does not
// close the walk's session nor mark its server (server_health.h).
TEST(BatchedLdap, AWalksCallerErrorsAreTheCallers) {
    LdapConnection connection(service_config().ldap);
    std::size_t entries = 0;
    try {
        connection.search_each(SearchRequest{"dc=example,dc=com", SearchScope::Subtree, "(objectClass=mailGrant)", {"cn"}},
                               [&](LdapEntry&&) {
                                   if (++entries == 10)
                                       throw LdapError(LdapErrorKind::Timeout, LDAP_TIMEOUT, "the caller's own lookup timed out");
                               });
        ADD_FAILURE() << "the caller's error was lost";
    } catch (const LdapError& e) {
        EXPECT_EQ(std::string(e.what()), "the caller's own lookup timed out");
        EXPECT_EQ(e.kind(), LdapErrorKind::Timeout);
    }
    EXPECT_EQ(entries, 10u);
    EXPECT_FALSE(connection.connected_uri().empty());  // not closed as a failed server's session
}

TEST(BatchedLdap, SizeLimitErrorsNameTheLimitThatWasHit) {
    // The server's: an account without the limits line may not page past 500.
    Stack plain(service_config(kUnlimited));
    try {
        plain.decider.sharing_with("frank@example.com");
        ADD_FAILURE() << "600 grants arrived past the server's limit";
    } catch (const LdapError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("LDAP server's size limit"), std::string::npos) << what;
        EXPECT_EQ(what.find("ldap.size_limit)"), std::string::npos) << what;
    }
    // mailgrant's own.
    Config small = service_config();
    small.ldap.size_limit = 100;
    Stack limited(small);
    try {
        limited.decider.sharing_with("frank@example.com");
        ADD_FAILURE() << "600 grants arrived past ldap.size_limit 100";
    } catch (const LdapError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("more than 100 entries (mailgrant's limit ldap.size_limit)"), std::string::npos) << what;
    }
}

TEST(BatchedLdap, CliListAndExplainAgreeWithTheSharedNamespace) {
    const std::string yaml = sandbox->dir + "/mailgrant.yaml";
    std::ofstream(yaml) << "ldap:\n  uris: [" << sandbox->uri << "]\n  base: " << sandbox->base << "\n  bind_dn: \""
                        << kService << "\"\n  bind_password_file: " << sandbox->dir << "/secret\n";
    int status = -1;
    std::string out = run(std::string(MAILGRANT_CLI) + " -c " + yaml + " list > /dev/null", &status);
    EXPECT_EQ(status, 0) << out;
    out = run(std::string(MAILGRANT_CLI) + " -c " + yaml + " list --grantee frank@example.com", &status);
    EXPECT_EQ(status, 0) << out.substr(0, 2000);
    EXPECT_NE(out.find("sharer-599"), std::string::npos) << out.substr(0, 2000);
    out = run(std::string(MAILGRANT_CLI) + " -c " + yaml + " explain frank@example.com sharer-599@example.com INBOX",
              &status);
    EXPECT_EQ(status, 0) << out;
    EXPECT_NE(out.find("lrs"), std::string::npos) << out;
}

// The service's "namespace" answer on a cold daemon cache: the owners' addresses are
// checked in two OR-searches per 128, not one search per sharer; every owner is answered
// with its own grants, and the later per-mailbox questions read nothing more.
TEST(BatchedLdap, ColdDaemonNamespaceSearchesDoNotGrowWithSharers) {
    for (int n : {1, 10, 100, kBigN}) {
        Stack stack(service_config(), true);  // as the daemon has it
        const std::string login = n == kBigN ? "frank@example.com" : "u" + std::to_string(n) + "@example.com";
        const auto mailboxes = shared_namespace(login, stack.cache, stack.decider, stack.team);
        ASSERT_EQ(mailboxes.size(), static_cast<std::size_t>(n));
        for (const auto& m : mailboxes) {
            ASSERT_TRUE(m.answered) << m.address;
            EXPECT_EQ(folder_letters(m, "INBOX"), "lrs") << m.address;
        }
        const auto searches = stack.ldap.searches();
        // The login, its groups with its grants (pages of 500), the owners by DN (256 per
        // filter), then 2 per 128 addresses.
        const unsigned long long chunks = (n + 127) / 128;
        EXPECT_LE(searches, 1u + (n + 499) / 500 + (n + 255) / 256 + 2 * chunks) << "N=" << n;
        std::printf("N=%d: %llu searches for a cold daemon's namespace answer\n", n, searches);
        // A folder question after it: from the cache.
        const auto d = stack.decider.folder_rights(login, mailboxes.back().address, "INBOX");
        EXPECT_EQ(d.rights.letters(), "lrs") << d.reason;
        EXPECT_EQ(stack.ldap.searches(), searches);
        // A sender decision for an owner's address reads that address from what the batch
        // cached (the address search's own answer): no address search of its own.
        const std::size_t asked = stack.ldap.filters.size();
        const auto sender = stack.decider.sender(login, mailboxes.back().address);
        EXPECT_EQ(sender.right, SenderRight::Denied) << sender.reason;
        for (std::size_t i = asked; i < stack.ldap.filters.size(); ++i)
            EXPECT_EQ(stack.ldap.filters[i].find("mail=" + mailboxes.back().address), std::string::npos)
                << stack.ldap.filters[i];
    }
}

// Every address mailboxes_by_address settles is what find_mailbox(address) answers, and
// what it cannot settle exactly it leaves out: an address two entries have, an archived
// entry's address now a live person's, no address at all, two mailboxes with one address
// -- and then the rest of that filter's addresses too (a filter does not say which
// address an entry matched).
TEST(BatchedLdap, AddressAnswersAreTheAddressSearchs) {
    Config config = service_config();
    config.users.base = "ou=people," + sandbox->base;
    CountingSearcher ldap(config);
    LdapDirectory directory(config, ldap);
    const Account gone{"uid=gone,ou=archive," + sandbox->base, {"moved@example.com"}, false};
    const Account gone_own{"uid=gone,ou=archive," + sandbox->base, {"gone@example.com"}, false};
    struct Case {
        const char* name;
        std::vector<Account> asked;
        std::vector<std::string> settled;  // addresses answered
    };
    const std::vector<Case> cases = {
        {"a person's own address", {{dn_of("sharer-1"), {"sharer-1@example.com"}, false}}, {"sharer-1@example.com"}},
        {"an address nobody has", {{dn_of("sharer-2"), {"nobody@example.com"}, false}}, {"nobody@example.com"}},
        {"an archive outside the users base, its own address", {gone_own}, {"gone@example.com"}},
        {"an archive's address that a live person has now", {gone}, {}},
        {"an address two people have", {{dn_of("dup-a"), {"dup@example.com"}, false}}, {}},
        {"an over-long address", {{dn_of("sharer-3"), {std::string(LdapDirectory::kMaxNameLength, 'a') + "@example.com"}, false}}, {}},
        {"no at sign (the address search answers it too)", {{dn_of("sharer-3"), {"no at sign"}, false}}, {"no at sign"}},
        {"two mailboxes with one address",
         {{dn_of("sharer-4"), {"sharer-4@example.com"}, false}, {dn_of("sharer-5"), {"sharer-4@example.com"}, false}},
         {}},
        {"a good address beside an ambiguous one",
         {{dn_of("sharer-1"), {"sharer-1@example.com"}, false}, {dn_of("dup-b"), {"dup@example.com"}, false}},
         {}},
        {"an address an entry has whose entryDN may not be searched", {{dn_of("contacted"), {"contacted@example.com"}, false}}, {}},
        {"one mailbox under two addresses",
         {{dn_of("sharer-8"), {"sharer-8@example.com"}, false}, {dn_of("sharer-8"), {"old-8@example.com"}, false}},
         {}},
        {"many good ones", {{dn_of("sharer-6"), {"SHARER-6@example.com"}, false}, {dn_of("moved"), {"moved@example.com"}, false}},
         {"SHARER-6@example.com", "moved@example.com"}},
    };
    for (const auto& c : cases) {
        const auto before = ldap.searches();
        const auto answers = directory.mailboxes_by_address(c.asked);
        EXPECT_LE(ldap.searches() - before, 2u) << c.name;
        std::vector<std::string> settled;
        for (const auto& [address, answer] : answers) {
            settled.push_back(address);
            const auto searched = directory.find_mailbox(address);
            ASSERT_EQ(answer.has_value(), searched.has_value()) << c.name << ": " << address;
            if (answer) {
                EXPECT_EQ(normalize_dn(answer->dn), normalize_dn(searched->dn)) << c.name;
                EXPECT_EQ(answer->addresses, searched->addresses) << c.name;
            }
        }
        auto expected = c.settled;
        std::sort(settled.begin(), settled.end());
        std::sort(expected.begin(), expected.end());
        EXPECT_EQ(settled, expected) << c.name;
    }
    EXPECT_THROW(directory.find_mailbox(std::string(LdapDirectory::kMaxNameLength, 'a') + "@example.com"), BadInput);
    // What was left out has an answer find_mailbox gives (or a refusal): the batch did not hide it.
    EXPECT_THROW(directory.find_mailbox("dup@example.com"), LdapError);
    EXPECT_THROW(directory.find_mailbox("contacted@example.com"), LdapError);
    EXPECT_EQ(normalize_dn(directory.find_mailbox("moved@example.com")->dn), normalize_dn(dn_of("moved")));
}

// One address that finds two entries, among 100 good ones: the batch halves around it,
// so the others are still settled and the cost stays far below one search each.
TEST(BatchedLdap, OneAmbiguousAddressCostsItsHalvesNotTheBatch) {
    Config config = service_config();
    CountingSearcher ldap(config);
    LdapDirectory directory(config, ldap);
    std::vector<Account> asked;
    for (int i = 0; i < 100; ++i) {
        const std::string uid = "sharer-" + std::to_string(i);
        asked.push_back({dn_of(uid), {uid + "@example.com"}, false});
    }
    asked[37] = {dn_of("dup-a"), {"dup@example.com"}, false};
    const auto answers = directory.mailboxes_by_address(asked);
    for (const auto& [address, answer] : answers) {
        EXPECT_NE(address, "dup@example.com");
        ASSERT_TRUE(answer) << address;
        EXPECT_TRUE(answer->owns_address(address));
    }
    // Halves of 100, 50, 25, 12, 6: the bad half costs 1 search each, the good ones 2; the
    // last 6 (dup among them) are left to find_mailbox.
    EXPECT_GE(answers.size(), 90u);
    EXPECT_LE(ldap.searches(), 16u);
    std::printf("one ambiguous address among 100: %zu settled in %llu searches\n", answers.size(), ldap.searches());
}

// Last: every search the tests above made used an index, but the walk's (mail=*) (every
// mailbox, read whole by design: ldap-schema/README.md, "Indexes"). slapd 2.5/2.6 log the
// warning for a filter on an attribute without one only at debug level "filter"
// (--log-filters, in SetUp): its candidate lines prove that level is on, so the check can
// fail (slapd_environment.h, read_index_log).
TEST(BatchedLdap, ZzSlapdLogsNoUnindexedSearch) {
    const auto log = mailgrant::testing::read_index_log(sandbox->dir);
    int walks = 0;
    for (const auto& [search, warning] : log.unindexed) {
        if (warning.find("mdb_presence_candidates: (mail) not indexed") != std::string::npos &&
            search.find("filter=\"(mail=*)\"") != std::string::npos) {
            ++walks;
            continue;
        }
        ADD_FAILURE() << search << "\n" << warning;
    }
    EXPECT_GT(log.candidates, 0) << "slapd does not log at level filter: no warning could show";
    std::printf("the walks' (mail=*), unindexed by design: %d warnings\n", walks);
}

}  // namespace
