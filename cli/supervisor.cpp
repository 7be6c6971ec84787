// supervisor.cpp -- see supervisor.h.
#include "supervisor.h"

#include "context.h"
#include "mailgrant/dn.h"

namespace mailgrant::cli {

bool reports_to(const std::string& dn, const std::string& supervisor, const ManagerLinks& links, int max_depth) {
    if (dn.empty() || supervisor.empty() || dn == supervisor) return false;
    std::set<std::string> seen{dn};
    std::vector<std::string> frontier{dn};
    for (int depth = 1; depth <= max_depth && !frontier.empty(); ++depth) {
        std::vector<std::string> next;
        for (const auto& node : frontier) {
            auto it = links.find(node);
            if (it == links.end()) continue;
            for (const auto& manager : it->second) {
                if (manager == supervisor) return true;
                if (seen.insert(manager).second) next.push_back(manager);  // each entry once: cycles end here
            }
        }
        frontier.swap(next);
    }
    return false;
}

SupervisorScope SupervisorScope::load(Context& ctx, const std::optional<std::string>& asked) {
    const CliConfig& cli = ctx.config().cli;
    SupervisorScope scope;
    if (!asked && cli.supervisor.empty()) return scope;
    scope.max_depth_ = cli.manager_max_depth;
    // manager links of every entry that has one (one search, whatever the number of mailboxes)
    for (const auto& e : ctx.search_users("(" + cli.manager_attribute + "=*)", {cli.manager_attribute})) {
        auto& to = scope.links_[normalize_dn(e.dn)];
        for (const auto& m : e.values(cli.manager_attribute)) to.push_back(normalize_dn(m));
    }
    auto person = [&](const std::string& text, const char* what) {
        const Principal p = ctx.resolve_grantee(text);
        if (p.kind != Principal::Kind::Person) throw Refusal(std::string(what) + " '" + text + "' is not a person");
        return normalize_dn(p.dn);
    };
    const std::string fixed = cli.supervisor.empty() ? "" : person(cli.supervisor, "cli.supervisor");
    scope.supervisor_ = fixed;
    scope.label_ = cli.supervisor;
    if (!asked) return scope;
    const std::string wanted = person(*asked, "--as-supervisor");
    if (!fixed.empty() && wanted != fixed && !reports_to(wanted, fixed, scope.links_, scope.max_depth_))
        throw Refusal("this configuration is limited to the people below " + cli.supervisor + " (cli.supervisor); '" +
                      *asked + "' is not one of them");
    scope.supervisor_ = wanted;
    scope.label_ = *asked;
    return scope;
}

bool SupervisorScope::covers(const std::string& mailbox_dn) const {
    return !active() || reports_to(normalize_dn(mailbox_dn), supervisor_, links_, max_depth_);
}

void SupervisorScope::require(const std::string& mailbox_dn, const std::string& mailbox_label) const {
    if (!covers(mailbox_dn))
        throw Refusal("mailbox '" + mailbox_label + "' is not below supervisor '" + label_ +
                      "' (its owner does not have them as manager)");
}

}  // namespace mailgrant::cli
