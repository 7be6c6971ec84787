// engine.cpp -- see engine.h.
#include "engine.h"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mailgrant::policy {

std::shared_ptr<Engine> Engine::build(const Config& config, Stats& stats) {
    auto engine = std::make_shared<Engine>();
    engine->config = config;
    engine->pool = std::make_unique<DirectoryPool>(
        engine->config, static_cast<std::size_t>(config.policy.workers),
        [&stats](std::chrono::microseconds elapsed, bool ok) { stats.observe_ldap(elapsed, ok); });
    engine->pool->dn_patterns().count_in(&stats.dn_guesses);
    // Every cache below keeps answers up to cache.follow_ttl_s while the change feed
    // follows LDAP (stats.following), cache.ttl_s otherwise.
    engine->cache = std::make_unique<CachingDirectory>(*engine->pool, engine->config.cache, SystemClock::instance(),
                                                       std::string(), stats.following);
    engine->decider = std::make_unique<Decider>(*engine->cache, SystemClock::instance());
    engine->service = std::make_unique<PolicyService>(engine->config.policy, *engine->decider, engine->config.cache,
                                                      SystemClock::instance(), stats.following);
    engine->service->refuse_recipients_in(engine->config.team_mailbox.sent_copy_domain);
    engine->answers = std::make_unique<Answers>(engine->config, *engine->cache, *engine->decider,
                                                SystemClock::instance(), ldap_password_check(engine->config.ldap),
                                                Answers::kRememberedNamespaceBytes, stats.following);
    engine->answers->count_namespaces_in(&stats.service_namespaces);
    return engine;
}

std::size_t Engine::forget_everything() {
    const std::size_t directory = cache->clear();  // first, as a statement of its own (see engine.h)
    return directory + (service ? service->forget_answers() : 0) + (answers ? answers->forget() : 0);
}

void read_bind_password(Config& config, const Config* running, const Logger& log) {
    LdapConfig& ldap = config.ldap;
    if (ldap.bind_dn.empty() || !ldap.bind_password.empty()) return;
    try {
        ldap.bind_password = read_secret_file(ldap.bind_password_file);
        return;
    } catch (const ConfigError& e) {
        std::string why = e.what();
        const int fd = open(ldap.bind_password_file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) why += ": " + std::string(std::strerror(errno));
        else close(fd);
        if (geteuid() != 0) {
            // After start the daemon runs as policy.user: say so, or "Permission denied"
            // reads like a broken file instead of a root-only one.
            const passwd* pw = getpwuid(geteuid());
            why += " (read as user " + (pw ? std::string(pw->pw_name) : std::to_string(geteuid())) +
                   ", not as root: the daemon has dropped its privileges)";
        }
        if (running && running->ldap.bind_password_file == ldap.bind_password_file &&
            !running->ldap.bind_password.empty()) {
            ldap.bind_password = running->ldap.bind_password;
            log("reload: " + why + "; keeping the password read at start (restart to read a changed one)");
            return;
        }
        throw ConfigError(why);
    }
}

}  // namespace mailgrant::policy
