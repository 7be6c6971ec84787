// Integration test of the shared memory of failed LDAP servers (core/server_health.h)
// through the one session opener (core/ldap_session.h), against two real slapd servers
// (tests/harness/slapd_sandbox.py) loaded with the same directory, as two providers of
// a replicated site: ldap.uris = [first, second].
//
// The first server is frozen (SIGSTOP: it accepts TCP connections and never answers):
// the first opener pays one timeout and marks it; the openers after it, in this process
// and in other processes, go straight to the second. When the hold-down ends, one
// opener probes the first again: still frozen it pays one more timeout; resumed
// (SIGCONT) it answers and is used again. Then the first is killed and the second
// serves. Every claim is proved by the opener's counts (LdapOpenStats: servers tried,
// failures, servers held down, probes), its warning lines and the state file, never by
// timings.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "mailgrant/config.h"
#include "mailgrant/ldap_client.h"
#include "mailgrant/ldap_session.h"
#include "mailgrant/server_health.h"
#include "mailgrant/warnings.h"

#include "run_command.h"

using namespace mailgrant;
using mailgrant::testing::run;
using mailgrant::testing::stop_slapd;
using mailgrant::testing::wait_until_stopped;

namespace {

struct Server {
    std::string dir;
    std::string uri;
    pid_t pid = 0;
};

struct Sandbox {
    std::string dir;
    Server first, second;
    std::string base, rootdn, rootpw_file;
};
Sandbox* sandbox = nullptr;

// Starts one slapd of the harness in `dir`; fills `server` (and the shared settings).
void start_server(const std::string& dir, Server& server) {
    const auto started =
        mailgrant::testing::start_harness_slapd(dir, std::string("--ldif ") + MAILGRANT_FIXTURES + "/org.ldif");
    ASSERT_EQ(started.status, 0) << started.output;
    server.dir = dir;
    server.uri = started.uri;
    server.pid = started.pid;
    sandbox->base = started.base;
    sandbox->rootdn = started.rootdn;
    sandbox->rootpw_file = dir + "/rootpw";  // the harness's default password: the same in both
    ASSERT_FALSE(server.uri.empty()) << started.output;
    ASSERT_GT(server.pid, 0);
}

class TwoServers : public ::testing::Environment {
public:
    void SetUp() override {
        signal(SIGPIPE, SIG_IGN);  // as every mailgrant daemon: libldap writes without MSG_NOSIGNAL
        char tmpl[] = "/tmp/mailgrant-failover-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        sandbox = new Sandbox;
        sandbox->dir = tmpl;
        start_server(sandbox->dir + "/first", sandbox->first);
        start_server(sandbox->dir + "/second", sandbox->second);
    }
    void TearDown() override {
        if (!sandbox) return;
        for (const Server* s : {&sandbox->first, &sandbox->second}) {
            if (s->pid > 0) kill(s->pid, SIGCONT);  // a failed test may have left it stopped
            stop_slapd(s->dir);
        }
        run("rm -rf " + sandbox->dir);
        delete sandbox;
        sandbox = nullptr;
    }
};

const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new TwoServers);

// Bounded wait until `pid` is gone (slapd is not our child: no waitpid).
bool wait_until_gone(pid_t pid) {
    for (int round = 0; round < 500; ++round) {
        if (kill(pid, 0) != 0) return true;
        const std::string state = run("sed -n 's/^State:\\s*//p' /proc/" + std::to_string(pid) + "/status");
        if (state.empty() || state[0] == 'Z') return true;
        usleep(10000);
    }
    return false;
}

LdapOpenStats operator-(const LdapOpenStats& a, const LdapOpenStats& b) {
    LdapOpenStats d;
    d.opens = a.opens - b.opens;
    d.attempts = a.attempts - b.attempts;
    d.failures = a.failures - b.failures;
    d.held_down = a.held_down - b.held_down;
    d.probes = a.probes - b.probes;
    return d;
}

class ServerFailover : public ::testing::Test {
protected:
    void SetUp() override {
        config.uris = {sandbox->first.uri, sandbox->second.uri};
        config.base = sandbox->base;
        config.bind_dn = sandbox->rootdn;
        config.bind_password_file = sandbox->rootpw_file;
        config.network_timeout_ms = 1000;
        config.operation_timeout_ms = 700;
        config.server_holddown_s = 30;
        config.server_state_file = sandbox->dir + "/ldap-servers";
        password = read_secret_file(config.bind_password_file);
    }

    // One session, as every imap process, checkpassword run or policy worker opens it;
    // returns the URI that served it.
    std::string open_one() {
        return LdapSession::open(config, BindAs::service(config, password)).uri();
    }

    std::string state() const {
        std::ifstream in(config.server_state_file);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

    // Moves the first server's mark back past the hold-down: what 30 s of waiting would
    // do, without a test that depends on sleeping.
    void end_holddown() {
        auto marks = parse_server_marks(state());
        bool found = false;
        for (auto& m : marks)
            if (m.uri == sandbox->first.uri) m.since = std::time(nullptr) - config.server_holddown_s - 1, found = true;
        ASSERT_TRUE(found) << state();
        std::ofstream(config.server_state_file) << format_server_marks(marks);
    }

    // `count` other processes open a session each; how many were served by the second
    // server without trying the first (their own counts, reported by exit status).
    int children_served_by_second_alone(int count) {
        int alone = 0;
        for (int i = 0; i < count; ++i) {
            const pid_t child = fork();
            if (child == 0) {
                int code = 1;
                try {
                    const auto before = ldap_open_stats();
                    const std::string uri = open_one();
                    const auto d = ldap_open_stats() - before;
                    code = uri == sandbox->second.uri && d.attempts == 1 && d.failures == 0 && d.held_down == 1 ? 0 : 2;
                } catch (...) {
                    code = 3;
                }
                _exit(code);
            }
            int status = 0;
            if (child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0)
                ++alone;
        }
        return alone;
    }

    LdapConfig config;
    std::string password;
};

std::size_t count_containing(const std::vector<Warning>& warnings, const std::string& text) {
    std::size_t n = 0;
    for (const auto& w : warnings) n += w.text.find(text) != std::string::npos;
    return n;
}

TEST_F(ServerFailover, FrozenFirstServerCostsOneTimeoutThenProbeThenKilled) {
    std::vector<Warning> warnings;
    ScopedWarningSink sink([&warnings](const Warning& w) { warnings.push_back(w); });
    const std::string first = sandbox->first.uri, second = sandbox->second.uri;
    const std::string marked = "LDAP server " + first + " timed out or is unreachable";

    // Both up: the first serves, nothing is written.
    auto before = ldap_open_stats();
    EXPECT_EQ(open_one(), first);
    auto d = ldap_open_stats() - before;
    EXPECT_EQ(d.attempts, 1u);
    EXPECT_EQ(d.failures, 0u);
    EXPECT_TRUE(state().empty()) << state();

    // Frozen: the first opener pays one timeout and marks the server.
    ASSERT_EQ(kill(sandbox->first.pid, SIGSTOP), 0);
    ASSERT_TRUE(wait_until_stopped(sandbox->first.pid)) << "slapd did not stop";
    before = ldap_open_stats();
    EXPECT_EQ(open_one(), second);
    d = ldap_open_stats() - before;
    EXPECT_EQ(d.attempts, 2u);
    EXPECT_EQ(d.failures, 1u);
    EXPECT_NE(state().find(" " + first + "\n"), std::string::npos) << state();
    EXPECT_EQ(count_containing(warnings, marked), 1u);

    // The next sessions within the hold-down pay nothing: the first is not even tried.
    constexpr unsigned kSessions = 20;
    before = ldap_open_stats();
    for (unsigned i = 0; i < kSessions; ++i) EXPECT_EQ(open_one(), second);
    d = ldap_open_stats() - before;
    EXPECT_EQ(d.opens, kSessions);
    EXPECT_EQ(d.attempts, kSessions);
    EXPECT_EQ(d.failures, 0u);
    EXPECT_EQ(d.held_down, kSessions);
    // ... and neither do other processes (the memory is the state file, not this process).
    EXPECT_EQ(children_served_by_second_alone(3), 3);
    // The searches of a whole LDAP connection are answered by the second.
    {
        LdapConnection connection(config);
        SearchRequest find_alice;
        find_alice.base = sandbox->base;
        find_alice.filter = "(uid=alice)";
        EXPECT_EQ(connection.search(find_alice).size(), 1u);
        EXPECT_EQ(connection.connected_uri(), second);
    }
    EXPECT_EQ(count_containing(warnings, marked), 1u) << "one line per hold-down, not per session";

    // The hold-down ends while it is still frozen: one opener probes (one more timeout),
    // the others keep skipping it.
    end_holddown();
    before = ldap_open_stats();
    EXPECT_EQ(open_one(), second);
    d = ldap_open_stats() - before;
    EXPECT_EQ(d.probes, 1u);
    EXPECT_EQ(d.attempts, 2u);
    EXPECT_EQ(d.failures, 1u);
    EXPECT_EQ(count_containing(warnings, marked), 2u) << "a failed probe is said once";
    before = ldap_open_stats();
    for (unsigned i = 0; i < kSessions; ++i) EXPECT_EQ(open_one(), second);
    d = ldap_open_stats() - before;
    EXPECT_EQ(d.attempts, kSessions);
    EXPECT_EQ(d.failures, 0u);
    EXPECT_EQ(d.probes, 0u);

    // Resumed: still skipped until the hold-down ends (the memory, not luck) ...
    ASSERT_EQ(kill(sandbox->first.pid, SIGCONT), 0);
    before = ldap_open_stats();
    EXPECT_EQ(open_one(), second);
    EXPECT_EQ((ldap_open_stats() - before).held_down, 1u);
    // ... then the probe finds it answering: it serves again and its mark is gone.
    end_holddown();
    before = ldap_open_stats();
    EXPECT_EQ(open_one(), first);
    d = ldap_open_stats() - before;
    EXPECT_EQ(d.probes, 1u);
    EXPECT_EQ(d.attempts, 1u);
    EXPECT_EQ(d.failures, 0u);
    EXPECT_EQ(state().find(first), std::string::npos) << state();
    before = ldap_open_stats();
    EXPECT_EQ(open_one(), first);
    d = ldap_open_stats() - before;
    EXPECT_EQ(d.held_down, 0u);
    EXPECT_EQ(d.probes, 0u);

    // Killed: refused at once; the second serves and the first is tried last from then on.
    ASSERT_EQ(kill(sandbox->first.pid, SIGKILL), 0);
    ASSERT_TRUE(wait_until_gone(sandbox->first.pid));
    before = ldap_open_stats();
    EXPECT_EQ(open_one(), second);
    d = ldap_open_stats() - before;
    EXPECT_EQ(d.attempts, 2u);
    EXPECT_EQ(d.failures, 1u);
    before = ldap_open_stats();
    EXPECT_EQ(open_one(), second);
    d = ldap_open_stats() - before;
    EXPECT_EQ(d.attempts, 1u);
    EXPECT_EQ(d.held_down, 1u);
    EXPECT_EQ(count_containing(warnings, marked), 3u);
}

// Both servers marked: every session still tries them all, in order, before failing.
TEST_F(ServerFailover, AllMarkedServersAreStillTried) {
    config.uris = {"ldap://127.0.0.1:1", sandbox->second.uri};
    std::ofstream(config.server_state_file)
        << std::time(nullptr) << " ldap://127.0.0.1:1\n" << std::time(nullptr) << " " << sandbox->second.uri << "\n";
    auto before = ldap_open_stats();
    EXPECT_EQ(open_one(), sandbox->second.uri) << "a held-down server that answers is used";
    auto d = ldap_open_stats() - before;
    EXPECT_EQ(d.held_down, 2u);
    EXPECT_EQ(d.attempts, 2u);
    EXPECT_EQ(state().find(sandbox->second.uri), std::string::npos) << "its answer cleared its mark";

    config.uris = {"ldap://127.0.0.1:1", "ldap://127.0.0.1:2"};
    before = ldap_open_stats();
    EXPECT_THROW(open_one(), LdapError);
    d = ldap_open_stats() - before;
    EXPECT_EQ(d.attempts, 2u);
    EXPECT_EQ(d.failures, 2u);
}

}  // namespace
