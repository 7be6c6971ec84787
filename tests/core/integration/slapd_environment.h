// slapd_environment.h -- one private slapd (tests/harness/slapd_sandbox.py) for a whole
// core integration test binary, as a GoogleTest global environment: started once with the
// harness arguments given and an LDIF of the binary's own entries, stopped and removed at
// the end. The tests read its directory, URI and base from the object.
#pragma once

#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>

#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "mailgrant/config.h"
#include "run_command.h"

namespace mailgrant::testing {

class SlapdEnvironment : public ::testing::Environment {
public:
    // `name`: the directory's prefix below /tmp; `args`: the harness's start options;
    // `extra_ldif`: loaded after them (--ldif of a file written in the directory); may be empty.
    SlapdEnvironment(std::string name, std::string args, std::string extra_ldif)
        : name_(std::move(name)), args_(std::move(args)), extra_ldif_(std::move(extra_ldif)) {}

    void SetUp() override {
        signal(SIGPIPE, SIG_IGN);
        std::string tmpl = "/tmp/" + name_ + "-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir = tmpl;
        std::string args = args_;
        if (!extra_ldif_.empty()) {
            std::ofstream(dir + "/extra.ldif") << extra_ldif_;
            args += " --ldif " + dir + "/extra.ldif";
        }
        const auto s = start_harness_slapd(dir, args);
        ASSERT_EQ(s.status, 0) << s.output;
        uri = s.uri;
        base = s.base;
    }
    void TearDown() override {
        stop_slapd(dir);
        run("rm -rf " + dir);
    }

    // A configuration reaching this slapd anonymously with the timeouts the integration
    // tests use; each test adds what it is about.
    Config config() const {
        Config c;
        c.ldap.uris = {uri};
        c.ldap.base = base;
        c.ldap.network_timeout_ms = 2000;
        c.ldap.operation_timeout_ms = 5000;
        return c;
    }

    std::string dir, uri, base;

private:
    std::string name_, args_, extra_ldif_;
};

// Registers one with GoogleTest (which owns it) and returns it.
inline SlapdEnvironment* add_slapd_environment(std::string name, std::string args, std::string extra_ldif) {
    auto* env = new SlapdEnvironment(std::move(name), std::move(args), std::move(extra_ldif));
    ::testing::AddGlobalTestEnvironment(env);
    return env;
}

// What a harness slapd's log says about indexes. slapd 2.5/2.6 log "not indexed" only at
// debug level filter (start with --log-filters): `candidates` (its candidate lines) > 0
// proves that level was on, so that a check of `unindexed` can fail. Each warning comes
// with the SRCH line it belongs to: the last one its thread (the log's second field) logged.
struct SlapdIndexLog {
    int searches = 0, candidates = 0;
    std::vector<std::pair<std::string, std::string>> unindexed;  // (SRCH line, warning)
};

inline SlapdIndexLog read_index_log(const std::string& slapd_dir) {
    SlapdIndexLog out;
    std::ifstream log(slapd_dir + "/slapd.log");
    std::map<std::string, std::string> last_search;  // thread -> its last SRCH line
    for (std::string line; std::getline(log, line);) {
        const auto first = line.find(' ');
        const std::string thread = first == std::string::npos ? "" : line.substr(first + 1, line.find(' ', first + 1) - first - 1);
        if (line.find(" SRCH base=") != std::string::npos) {
            ++out.searches;
            last_search[thread] = line;
        }
        out.candidates += line.find("mdb_filter_candidates") != std::string::npos;
        if (line.find("not indexed") != std::string::npos) out.unindexed.emplace_back(last_search[thread], line);
    }
    return out;
}

}  // namespace mailgrant::testing
