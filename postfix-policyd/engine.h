// engine.h -- everything the daemon builds from one configuration (LDAP pool, cache,
// decider, policy service), and reading the bind password it needs.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "mailgrant/answers.h"
#include "mailgrant/caching_directory.h"
#include "mailgrant/config.h"
#include "mailgrant/decision.h"
#include "mailgrant/directory_pool.h"
#include "policy_service.h"
#include "stats.h"

namespace mailgrant::policy {

// Receives one or more log lines separated by '\n' (no trailing newline).
using Logger = std::function<void(const std::string& lines)>;

// Everything built from one configuration; replaced whole on reload, kept alive by the
// jobs still using it.
struct Engine {
    Config config;
    std::unique_ptr<DirectoryPool> pool;
    std::unique_ptr<CachingDirectory> cache;
    std::unique_ptr<Decider> decider;
    std::unique_ptr<PolicyService> service;
    std::unique_ptr<Answers> answers;  // the per-host decision service's (decision_service.h)

    static std::shared_ptr<Engine> build(const Config& config, Stats& stats);
    // Empties the directory's cache, then the remembered decisions and namespace answers
    // (the change feed, and a mail process's "changed"); returns how many entries went. The order matters: were
    // the decisions forgotten first, a worker could read a stale directory hit in between
    // and remember a stale answer for the whole TTL.
    std::size_t forget_everything();
};

// Reads ldap.bind_password_file into config.ldap.bind_password (when bind_dn is set),
// so the LDAP connections never read it themselves. At start this runs as root, before
// privileges are dropped: the file may stay readable by root alone (0600), as Postfix
// and nginx keep their secrets. On reload (`running` = the configuration in use) the
// daemon is no longer root: when it cannot read the file and the file is the same as
// before, the password read at start is kept and `log` says so. Throws ConfigError
// saying which user tried to read the file.
void read_bind_password(Config& config, const Config* running, const Logger& log);

}  // namespace mailgrant::policy
