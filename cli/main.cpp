// main.cpp -- `mailgrant`, the admin command line tool: parses the global options, loads
// the one YAML config, opens the read connection and dispatches to the verb (verbs.h).
// Maps every failure to the documented exit codes (help.cpp).
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "mailgrant/config.h"
#include "mailgrant/ldap_client.h"
#include "verbs.h"

namespace mailgrant::cli {
std::string verb_help(const Verb& verb);
}

int main(int argc, char** argv) {
    using namespace mailgrant::cli;
    std::signal(SIGPIPE, SIG_IGN);  // libldap and the SMTP client write to sockets
    GlobalArgs global;
    try {
        global = parse_global(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const UsageError& e) {
        std::cerr << "mailgrant: " << e.what() << "\n" << main_usage();
        return kExitUsage;
    }
    if (global.verb.empty()) {
        (global.help ? std::cout : std::cerr) << main_usage();
        return global.help ? kExitOk : kExitUsage;
    }
    const Verb* verb = nullptr;
    for (const auto& v : verbs())
        if (global.verb == v.name) verb = &v;
    if (!verb) {
        std::cerr << "mailgrant: unknown verb '" << global.verb << "'\n" << main_usage();
        return kExitUsage;
    }
    if (global.help) {
        std::cout << verb_help(*verb);
        return kExitOk;
    }
    try {
        const auto config = mailgrant::load_config(global.config_path);
        mailgrant::LdapConnection ldap(config.ldap);
        // Whole-directory walks (check, report, list) read on a connection of their own,
        // opened only when a verb walks (LdapConnection connects on its first search).
        mailgrant::LdapConnection walker(config.ldap);
        Context ctx(config, ldap, mailgrant::SystemClock::instance(), &walker);
        Invocation inv{ctx, global.rest, global.json, std::cout, std::cerr};
        return verb->run(inv);
    } catch (const UsageError& e) {
        std::cerr << "mailgrant " << verb->name << ": " << e.what() << "\n(see: mailgrant " << verb->name << " --help)\n";
        return kExitUsage;
    } catch (const Refusal& e) {
        std::cerr << "mailgrant " << verb->name << ": " << e.what() << "\n";
        return kExitRefused;
    } catch (const mailgrant::ConfigError& e) {
        std::cerr << "mailgrant: configuration error: " << e.what() << "\n";
    } catch (const mailgrant::LdapError& e) {
        std::cerr << "mailgrant: LDAP " << mailgrant::to_string(e.kind()) << ": " << e.what() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "mailgrant: " << e.what() << "\n";
    }
    return kExitTrouble;
}
