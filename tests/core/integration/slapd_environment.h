// slapd_environment.h -- one private slapd (tests/harness/slapd_sandbox.py) for a whole
// core integration test binary, as a GoogleTest global environment: started once with the
// harness arguments given and an LDIF of the binary's own entries, stopped and removed at
// the end. The tests read its directory, URI and base from the object.
#pragma once

#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>

#include <fstream>
#include <string>
#include <utility>

#include "run_command.h"

namespace mailgrant::testing {

class SlapdEnvironment : public ::testing::Environment {
public:
    // `name`: the directory's prefix below /tmp; `args`: the harness's start options;
    // `extra_ldif`: loaded after them (--ldif of a file written in the directory).
    SlapdEnvironment(std::string name, std::string args, std::string extra_ldif)
        : name_(std::move(name)), args_(std::move(args)), extra_ldif_(std::move(extra_ldif)) {}

    void SetUp() override {
        signal(SIGPIPE, SIG_IGN);
        std::string tmpl = "/tmp/" + name_ + "-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir = tmpl;
        std::ofstream(dir + "/extra.ldif") << extra_ldif_;
        const auto s = start_harness_slapd(dir, args_ + " --ldif " + dir + "/extra.ldif");
        ASSERT_EQ(s.status, 0) << s.output;
        uri = s.uri;
        base = s.base;
    }
    void TearDown() override {
        stop_slapd(dir);
        run("rm -rf " + dir);
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

}  // namespace mailgrant::testing
