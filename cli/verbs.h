// verbs.h -- the verbs of `mailgrant` and what they share: the parsed global options,
// the context (config, LDAP, Decider), each verb's --help text and entry point.
// main.cpp only dispatches; each verb lives in its own cmd_<verb>.cpp.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "args.h"
#include "context.h"
#include "ldap_writer.h"
#include "output.h"

namespace mailgrant::cli {

struct Invocation {
    Context& ctx;
    std::vector<std::string> args;  // after the verb, global options removed
    bool json = false;
    std::ostream& out;
    std::ostream& err;
};

struct Verb {
    const char* name;
    const char* summary;
    const char* help;
    int (*run)(Invocation&);
};

const std::vector<Verb>& verbs();
std::string main_usage();

int run_grant(Invocation& inv);
// `grant` for a mailbox given already resolved (mailbox create --grant: the entry is being
// created, with --ldif it exists only in the printed LDIF); nullptr = resolve MAILBOX.
int run_grant_on(Invocation& inv, const Account* new_mailbox);
int run_mailbox(Invocation& inv);
int run_revoke(Invocation& inv);
int run_list(Invocation& inv);
int run_explain(Invocation& inv);
int run_check(Invocation& inv);
int run_report(Invocation& inv);
int run_audit(Invocation& inv);
int run_accept(Invocation& inv);   // cmd_invite.cpp (issue 13)
int run_decline(Invocation& inv);
int run_notify_expiring(Invocation& inv);  // cmd_notify_expiring.cpp (issue 13)

// Write options shared by grant and revoke.
std::vector<OptionSpec> write_option_specs();
WriteCredentials write_credentials(const ParsedArgs& args, const Config& config);

// One grant for --json and tables (list, grant, revoke, report).
Json grant_json(const Grant& grant, Context& ctx);
std::string grant_rights_label(const Grant& grant);    // "editor (lrswipkxte)", "-" when none
std::string grant_send_label(const Grant& grant);      // "sendAs", "sendOnBehalf", "-"
std::string grant_window_label(const Grant& grant);    // "until 2020-02-01 00:00:00Z", "always"

}  // namespace mailgrant::cli
