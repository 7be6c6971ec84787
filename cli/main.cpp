// mailgrant -- the admin command line tool (so far: `explain`, the window onto the
// decision API that the Dovecot plugin and the policy daemon share).
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "mailgrant/caching_directory.h"
#include "mailgrant/config.h"
#include "mailgrant/decision.h"
#include "mailgrant/ldap_client.h"

namespace {

constexpr int kExitAllowed = 0;
constexpr int kExitDenied = 1;
constexpr int kExitUsage = 2;
constexpr int kExitTrouble = 3;  // config or LDAP error: no decision could be made

void usage(std::ostream& out) {
    out << "usage: mailgrant [-c CONFIG] explain LOGIN MAILBOX [FOLDER | --send]\n"
           "\n"
           "  explain LOGIN MAILBOX FOLDER   rights of LOGIN on FOLDER of MAILBOX, and why\n"
           "  explain LOGIN ADDRESS --send   may LOGIN send as ADDRESS, and why\n"
           "\n"
           "CONFIG defaults to /etc/mailgrant/mailgrant.yaml.\n"
           "Exit codes: 0 allowed, 1 denied, 2 usage error, 3 configuration or LDAP error.\n";
}

int explain(mailgrant::Decider& decider, const std::vector<std::string>& args) {
    if (args.size() != 3) {
        usage(std::cerr);
        return kExitUsage;
    }
    const std::string& login = args[0];
    if (args[2] == "--send") {
        const auto d = decider.sender(login, args[1]);
        std::cout << "decision: " << (d.allowed() ? "allowed" : "denied") << " (" << mailgrant::to_string(d.right)
                  << ")\nreason:   " << d.reason << "\n";
        for (const auto& note : d.not_applied) std::cout << "not used: " << note << "\n";
        return d.allowed() ? kExitAllowed : kExitDenied;
    }
    const auto d = decider.folder_rights(login, args[1], args[2]);
    std::cout << "rights:   " << (d.rights.empty() ? "(none)" : d.rights.letters()) << "\nreason:   " << d.reason
              << "\n";
    for (const auto& a : d.applied)
        std::cout << "grant:    " << a.path.describe() << ", folder pattern '" << a.folder_pattern << "', rights "
                  << a.rights.letters() << "\n";
    for (const auto& note : d.not_applied) std::cout << "not used: " << note << "\n";
    return d.rights.empty() ? kExitDenied : kExitAllowed;
}

}  // namespace

int main(int argc, char** argv) {
    std::string config_path = "/etc/mailgrant/mailgrant.yaml";
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        if ((!std::strcmp(argv[i], "-c") || !std::strcmp(argv[i], "--config")) && i + 1 < argc) {
            config_path = argv[++i];
        } else if (!std::strcmp(argv[i], "-h") || !std::strcmp(argv[i], "--help")) {
            usage(std::cout);
            return 0;
        } else {
            args.emplace_back(argv[i]);
        }
    }
    if (args.empty() || args[0] != "explain") {
        usage(std::cerr);
        return kExitUsage;
    }
    try {
        const auto config = mailgrant::load_config(config_path);
        mailgrant::LdapConnection ldap(config.ldap);
        mailgrant::LdapDirectory directory(config, ldap);
        mailgrant::Decider decider(directory, mailgrant::SystemClock::instance());
        return explain(decider, {args.begin() + 1, args.end()});
    } catch (const mailgrant::ConfigError& e) {
        std::cerr << "mailgrant: configuration error: " << e.what() << "\n";
    } catch (const mailgrant::LdapError& e) {
        std::cerr << "mailgrant: LDAP " << mailgrant::to_string(e.kind()) << ": " << e.what() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "mailgrant: " << e.what() << "\n";
    }
    return kExitTrouble;
}
