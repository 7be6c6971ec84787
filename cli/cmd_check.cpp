// cmd_check.cpp -- `mailgrant check [--doveadm CMD | --no-doveadm]`: lints every grant in the directory
// for cron or CI. Findings: grant values that do not parse (unknown roles, bad rights
// letters, bad send values or times), grantee DNs that do not exist or are neither person
// nor group, expired grants still present, grants below entries without a mail address,
// group membership cycles, and -- only where doveadm runs -- folder patterns that match
// none of the owner's folders nor anything below one. Exit 1 when anything is found. Entries the core leaves out
// while reading (over a size limit, or unreadable as a grant: see warnings.h) are findings
// too ("ignored-entry"), so the one bad grant that the plugin and the policy daemon skip
// is named here with its DN.
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "doveadm.h"
#include "grant_spec.h"
#include "mailgrant/dn.h"
#include "mailgrant/folder_pattern.h"
#include "mailgrant/warnings.h"
#include "verbs.h"

namespace mailgrant::cli {

namespace {

struct Finding {
    std::string kind;
    std::string dn;
    std::string message;
};

// Each cycle once, as the list of group DNs starting at its smallest member.
std::vector<std::vector<std::string>> find_cycles(const std::map<std::string, std::vector<std::string>>& groups) {
    std::map<std::string, std::string> display;  // normalised -> as stored
    std::map<std::string, std::vector<std::string>> edges;
    for (const auto& g : groups) display[normalize_dn(g.first)] = g.first;
    for (const auto& g : groups)
        for (const auto& m : g.second) {
            const std::string n = normalize_dn(m);
            if (display.count(n)) edges[normalize_dn(g.first)].push_back(n);
        }
    std::set<std::vector<std::string>> seen;
    std::vector<std::vector<std::string>> cycles;
    std::vector<std::string> stack;
    std::set<std::string> on_stack;
    std::set<std::string> done;
    std::function<void(const std::string&)> dfs = [&](const std::string& node) {
        stack.push_back(node);
        on_stack.insert(node);
        for (const auto& next : edges[node]) {
            if (on_stack.count(next)) {
                auto it = std::find(stack.begin(), stack.end(), next);
                std::vector<std::string> cycle(it, stack.end());
                auto min_it = std::min_element(cycle.begin(), cycle.end());
                std::rotate(cycle.begin(), min_it, cycle.end());
                if (seen.insert(cycle).second) {
                    std::vector<std::string> shown;
                    for (const auto& c : cycle) shown.push_back(display[c]);
                    cycles.push_back(shown);
                }
            } else if (!done.count(next)) {
                dfs(next);
            }
        }
        stack.pop_back();
        on_stack.erase(node);
        done.insert(node);
    };
    for (const auto& g : display)
        if (!done.count(g.first)) dfs(g.first);
    return cycles;
}

}  // namespace

int run_check(Invocation& inv) {
    const auto args = parse_args(inv.args, {{"--doveadm", true, false, ""}, {"--no-doveadm", false, false, ""}});
    if (args.has("--no-doveadm") && args.has("--doveadm")) throw UsageError("give either --doveadm or --no-doveadm");
    if (!args.positionals.empty()) throw UsageError("check takes no arguments");
    Context& ctx = inv.ctx;
    const SchemaConfig& schema = ctx.config().schema;
    std::vector<Finding> findings;
    // Collected for the whole check (grants, grantees, owners, groups): every entry the
    // core ignores is reported once, as a finding, instead of a stray line on stderr.
    std::vector<Finding> ignored;
    std::set<std::string> ignored_dns;
    ScopedWarningSink collect([&](const Warning& w) {
        const std::string key = normalize_dn(w.entry_dn);
        if (ignored_dns.insert(key.empty() ? w.entry_dn : key).second) ignored.push_back({"ignored-entry", w.entry_dn, w.text});
    });
    const auto grants = ctx.all_grants();
    const Doveadm doveadm(args.has("--no-doveadm") ? "" : args.value("--doveadm").value_or("doveadm"));
    std::string folder_note = doveadm.configured() ? "" : "folder patterns not checked (--no-doveadm)";
    std::map<std::string, std::optional<std::vector<std::string>>> folders_of;  // owner address -> folders

    for (const auto& g : grants) {
        for (const auto& p : g.problems) {
            std::string kind = "bad-value";
            if (p.rfind(schema.rights + ":", 0) == 0) kind = "bad-rights";
            else if (p.rfind(schema.send + ":", 0) == 0) kind = "bad-send";
            else if (p.rfind(schema.not_before + ":", 0) == 0 || p.rfind(schema.not_after + ":", 0) == 0) kind = "bad-time";
            else if (p.rfind(schema.grantee + ":", 0) == 0) kind = "no-grantee";
            if (kind == "bad-rights" && !g.rights_text.empty())
                findings.push_back({kind, g.dn, schema.rights + " '" + g.rights_text +
                                                    "' is neither a role (reader, editor, admin) nor valid rights letters: " +
                                                    p.substr(schema.rights.size() + 2)});
            else
                findings.push_back({kind, g.dn, p});
        }
        for (const auto& dn : g.grantees) {
            const Principal& p = ctx.describe(dn);
            if (p.kind == Principal::Kind::Missing)
                findings.push_back({"missing-grantee", g.dn, "grantee " + dn + " does not exist"});
            else if (p.kind == Principal::Kind::Other)
                findings.push_back({"bad-grantee", g.dn, "grantee " + dn + " is neither a person with a mail address nor a group"});
        }
        if (g.state_at(ctx.now()) == GrantState::Expired)
            findings.push_back({"expired", g.dn, "expired on " + format_time_human(*g.not_after) + " and still present (revoke it)"});
        const Principal& owner = ctx.describe(g.owner_dn);
        if (owner.kind != Principal::Kind::Person) {
            findings.push_back({"owner-without-address", g.dn,
                                "the entry above the grant (" + g.owner_dn + ") has no mail address: the grant opens nothing"});
            continue;
        }
        if (!doveadm.configured() || g.folders.empty()) continue;
        auto it = folders_of.find(owner.display);
        if (it == folders_of.end()) {
            std::string error;
            it = folders_of.emplace(owner.display, doveadm.folders(owner.display, &error)).first;
            if (!it->second && folder_note.empty())
                folder_note = "folder patterns not checked for some mailboxes: " + error;
        }
        if (!it->second) continue;
        for (const auto& pattern : g.folders) {
            // A pattern for folders still to come ('Projects/*' while Projects has no
            // subfolder yet) is fine as long as it hangs below a folder that exists; only a
            // name or pattern that could match nothing the owner has is a likely typo.
            bool any = false;
            for (const auto& f : *it->second)
                any = any || folder_matches(pattern, f) || pattern_may_match_below(pattern, f);
            if (!any)
                findings.push_back({"folder-matches-nothing", g.dn,
                                    "folder pattern '" + pattern + "' matches no folder of " + owner.display +
                                        ", nor any folder below one"});
        }
    }
    for (const auto& cycle : find_cycles(ctx.all_groups())) {
        std::vector<std::string> names;
        for (const auto& dn : cycle) names.push_back(ctx.describe(dn).display);
        names.push_back(names.front());
        findings.push_back({"group-cycle", cycle.front(), "group membership cycle: " + join(names, " > ")});
    }
    findings.insert(findings.begin(), ignored.begin(), ignored.end());  // the worst first

    if (inv.json) {
        Json j = Json::object();
        j.set("grants_checked", static_cast<long long>(grants.size()));
        Json arr = Json::array();
        for (const auto& f : findings) {
            Json fj = Json::object();
            fj.set("kind", f.kind);
            fj.set("dn", f.dn);
            fj.set("message", f.message);
            arr.push(fj);
        }
        j.set("findings", arr);
        j.set("note", folder_note.empty() ? Json() : Json(folder_note));
        inv.out << j.dump();
    } else {
        if (!findings.empty()) {
            Table t({"KIND", "ENTRY", "PROBLEM"});
            for (const auto& f : findings) t.add({f.kind, f.dn, f.message});
            inv.out << t.render();
        }
        inv.out << grants.size() << " grants checked, " << findings.size() << (findings.size() == 1 ? " finding" : " findings")
                << "\n";
        if (!folder_note.empty()) inv.out << "note: " << folder_note << "\n";
    }
    return findings.empty() ? kExitOk : kExitNo;
}

}  // namespace mailgrant::cli
