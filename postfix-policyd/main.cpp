// mailgrant-policyd -- Postfix SMTP access policy server enforcing who may use which
// envelope sender, from LDAP grants (see README.md and examples/postfix/).
#include <grp.h>
#include <pwd.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <mutex>
#include <string>

#include "decision_service.h"
#include "milter.h"
#include "preflight.h"
#include "mailgrant/change_feed.h"
#include "mailgrant/gentime.h"
#include "mailgrant/warnings.h"
#include "server.h"
#include "service_notify.h"

namespace {

void usage(std::ostream& out) {
    out << "usage: mailgrant-policyd [-c CONFIG] [--listen unix:PATH|inet:HOST:PORT] [--stats unix:PATH|inet:HOST:PORT]\n"
           "                         [--milter unix:PATH|inet:HOST:PORT|inet:PORT@HOST]\n"
           "                         [--user USER] [--syslog] [--check-config]\n"
           "\n"
           "CONFIG defaults to /etc/mailgrant/mailgrant.yaml. --listen, --stats and --user override\n"
           "policy.listen, policy.stats_listen and policy.user. Runs in the foreground; logs to stderr\n"
           "(or syslog facility mail with --syslog). SIGHUP reloads the configuration, SIGUSR1 logs\n"
           "the counters, SIGTERM stops after answering requests in flight.\n"
           "--milter also serves the header From:/Sender: check to Postfix's smtpd_milters on that\n"
           "socket (libmilter; overrides policy.milter_listen; see README \"Header From enforcement\").\n";
}

// The user the daemon becomes (policy.user), looked up while nothing exists yet that a
// typo would leave behind. Empty name = not running as root: nothing to drop.
struct Account {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
};

Account account_to_run_as(const std::string& user) {
    if (geteuid() != 0) return {};
    const passwd* pw = getpwnam(user.c_str());
    if (!pw) throw std::runtime_error("policy.user: no such user '" + user + "'");
    if (pw->pw_uid == 0) throw std::runtime_error("policy.user: refusing to run as root");
    return Account{pw->pw_name, pw->pw_uid, pw->pw_gid};
}

// Drops root for good: supplementary groups, group, then user. Fails loudly.
void drop_privileges(const Account& account) {
    if (account.name.empty()) return;
    if (initgroups(account.name.c_str(), account.gid) != 0 || setgid(account.gid) != 0 || setuid(account.uid) != 0)
        throw std::runtime_error("cannot switch to user '" + account.name + "': " + std::strerror(errno));
    if (setuid(0) == 0) throw std::runtime_error("privileges could be regained after dropping them");
}

}  // namespace

int main(int argc, char** argv) {
    std::string config_path = mailgrant::kDefaultConfigPath;
    std::string listen_override, stats_override, user_override, milter_address;
    bool use_syslog = false, check_only = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&](const char* name) -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "mailgrant-policyd: " << name << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "-c" || arg == "--config") config_path = value("-c");
        else if (arg == "--listen") listen_override = value("--listen");
        else if (arg == "--stats") stats_override = value("--stats");
        else if (arg == "--user") user_override = value("--user");
        else if (arg == "--milter") milter_address = value("--milter");
        else if (arg == "--syslog") use_syslog = true;
        else if (arg == "--check-config") check_only = true;
        else if (arg == "-h" || arg == "--help") {
            usage(std::cout);
            return 0;
        } else {
            std::cerr << "mailgrant-policyd: unknown argument '" << arg << "'\n";
            usage(std::cerr);
            return 2;
        }
    }

    std::mutex log_mutex;
    mailgrant::policy::Logger log = [&](const std::string& lines) {
        if (use_syslog) {
            std::size_t start = 0;
            while (start <= lines.size()) {
                const auto end = std::min(lines.find('\n', start), lines.size());
                syslog(LOG_INFO, "%s", lines.substr(start, end - start).c_str());
                start = end + 1;
            }
            return;
        }
        const std::string prefix = mailgrant::format_utc(std::time(nullptr), "%Y-%m-%dT%H:%M:%SZ ") + "mailgrant-policyd: ";
        // One write(2) per batch: lines from several threads never interleave.
        std::string text;
        text.reserve(lines.size() + 64 * prefix.size());
        for (std::size_t start = 0; start <= lines.size();) {
            const auto end = std::min(lines.find('\n', start), lines.size());
            text.append(prefix).append(lines, start, end - start).push_back('\n');
            start = end + 1;
        }
        std::lock_guard<std::mutex> lock(log_mutex);
        std::fwrite(text.data(), 1, text.size(), stderr);
    };
    if (use_syslog) openlog("mailgrant-policyd", LOG_PID, LOG_MAIL);
    // The core's "entry left out" warnings (warnings.h) go where the decisions go.
    mailgrant::set_warning_sink([&log](const mailgrant::Warning& w) { log("warning: " + w.text); });

    try {
        // Everything a configuration error can stop is checked before the first socket
        // exists, so such an exit leaves nothing behind; `sockets` (below) removes the
        // socket files of any later way out.
        mailgrant::Config config = mailgrant::load_config(config_path);
        if (!listen_override.empty()) config.policy.listen = listen_override;
        if (!stats_override.empty()) config.policy.stats_listen = stats_override;
        if (!user_override.empty()) config.policy.user = user_override;
        if (milter_address.empty()) milter_address = config.policy.milter_listen;  // --milter overrides
        if (!milter_address.empty()) mailgrant::policy::milter_socket_spec(milter_address);  // validate early
        // Secrets are read now, as root, and kept in memory (as Postfix and nginx do):
        // the password file need not be readable by policy.user.
        mailgrant::policy::read_bind_password(config, nullptr, log);
        if (check_only) {
            // Beyond parsing: what the running daemon will need (preflight.h).
            const auto findings = mailgrant::policy::preflight(config, config_path, milter_address,
                                                               mailgrant::policy::postfix_queue_directory());
            bool failed = false;
            for (const auto& f : findings) {
                std::cerr << config_path << ": " << (f.error ? "error: " : "warning: ") << f.text << "\n";
                failed = failed || f.error;
            }
            if (failed) return 1;
            std::cout << config_path << ": OK\n";
            return 0;
        }
        const Account account = account_to_run_as(config.policy.user);
        const mailgrant::policy::SocketPermissions permissions = mailgrant::policy::socket_permissions(config.policy);
        mailgrant::policy::SocketPermissions root_only;  // the stats socket: root's (0600)
        mailgrant::policy::Stats stats;
        mailgrant::policy::Server::install_signal_handlers();
        mailgrant::policy::SocketFiles sockets;  // declared before all that uses them: removed last
        const int listen_fd = mailgrant::policy::listen_on(config.policy.listen, permissions, sockets);
        const int stats_fd = config.policy.stats_listen.empty()
                                 ? -1
                                 : mailgrant::policy::listen_on(config.policy.stats_listen, root_only, sockets);
        // The milter's socket too is opened as root (owner/mode like the policy socket).
        std::unique_ptr<mailgrant::policy::Milter> milter;
        if (!milter_address.empty())
            milter = std::make_unique<mailgrant::policy::Milter>(milter_address, log, permissions, sockets);
        // The per-host decision service's socket (service.listen), for the mail processes.
        const int service_fd =
            config.service.listen.empty()
                ? -1
                : mailgrant::policy::listen_on(config.service.listen,
                                               mailgrant::policy::socket_permissions(config.service), sockets);
        drop_privileges(account);
        auto engine = mailgrant::policy::Engine::build(config, stats);
        log("listening on " + config.policy.listen +
            (stats_fd >= 0 ? ", stats on " + config.policy.stats_listen : std::string()) + ", " +
            std::to_string(config.policy.workers) + " workers, cache ttl " + std::to_string(config.cache.ttl_s) + " s");
        mailgrant::policy::Server server(engine, config_path, listen_fd, stats_fd, log, stats);
        if (milter) {
            // Same Engine as the policy path (and its reloads): one Decider, one cache.
            milter->start([&server] { return server.engine(); }, &stats, [&server] { server.request_stop(); });
            log("milter on " + milter->address());
        }
        std::unique_ptr<mailgrant::policy::DecisionService> decisions;
        if (service_fd >= 0) {
            // Same Engine again: the mail processes, the policy check and the milter read
            // one cache, which the change feed below empties.
            decisions = std::make_unique<mailgrant::policy::DecisionService>(
                service_fd, config.service.workers, [&server] { return server.engine(); }, log, stats);
            decisions->start();
            log("decision service on " + config.service.listen + ", " + std::to_string(config.service.workers) +
                " threads");
        }
        // LDAP changes empty every cache the policy check and the milter read (the
        // directory's and the remembered answers) of the Engine in use (change_feed.h).
        // Its LDAP settings are the start's: a reload does not move it (restart does).
        std::unique_ptr<mailgrant::ChangeFeed> feed;
        if (config.cache.follow_changes) {
            feed = std::make_unique<mailgrant::ChangeFeed>(
                config,
                [&server] { return server.engine()->forget_everything(); },
                log, stats.following);
            stats.change_feed = feed.get();
            feed->start();
        }
        // However main leaves from here (server.run() may throw), the stats socket's
        // pointer is reset before `feed` (declared earlier, destroyed later) goes.
        struct ForgetFeed {
            mailgrant::policy::Stats& stats;
            ~ForgetFeed() { stats.change_feed = nullptr; }
        } forget_feed{stats};
        // Every socket is open and root is dropped: a Type=notify start may return now.
        if (mailgrant::policy::notify_ready("serving " + config.policy.listen +
                                            (milter ? " and the milter on " + milter->address() : std::string())))
            log("told systemd: ready");
        const int rc = server.run();
        mailgrant::policy::notify_stopping();
        // The service first: it must not answer from a cache the feed no longer empties.
        if (decisions) decisions->stop();
        if (feed) {
            stats.change_feed = nullptr;
            feed->stop();
        }
        if (milter) milter->stop();
        log("stopped");
        return rc;
    } catch (const mailgrant::ConfigError& e) {
        log(std::string("configuration error: ") + e.what());
    } catch (const std::exception& e) {
        log(std::string("fatal: ") + e.what());
    }
    return 1;
}
