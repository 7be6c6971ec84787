// cmd_check.cpp -- `mailgrant check [--doveadm CMD | --no-doveadm]`: lints every grant in the directory
// for cron or CI. Findings: grant values that do not parse (unknown roles, bad rights
// letters, bad send values or times), grantee DNs that do not exist or are neither person
// nor group, expired grants still present, invitations (pending grants) past
// invitations.expire_after, grants below entries without a mail address,
// group membership cycles, and -- only where doveadm runs -- folder patterns that match
// none of the owner's folders nor anything below one. Exit 1 when anything is found. Entries the core leaves out
// while reading (over a size limit, or unreadable as a grant: see warnings.h) are findings
// too ("ignored-entry"), so the one bad grant that the plugin and the policy daemon skip
// is named here with its DN.
// Where doveadm runs, shares an admin made with `doveadm acl` (entries of local
// `dovecot-acl` files, Dovecot's vfile backend) are findings too ("outside-ldap"): they
// keep working, but `list`, `explain` and `report` never see them. Each is named with
// its mailbox, folder, identifier and rights, read with only the acl plugin loaded so
// that nothing mailgrant's plugin derives from LDAP is reported as local.
// With users.dn_template set, check also says whom the template does not fit (a note:
// those people cost one search more, nothing fails), or that it is not used at all.
#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "doveadm.h"
#include "grant_spec.h"
#include "mailgrant/dn.h"
#include "mailgrant/folder_pattern.h"
#include "mailgrant/invitation.h"
#include "mailgrant/warnings.h"
#include "verbs.h"

namespace mailgrant::cli {

namespace {

struct Finding {
    using Details = std::vector<std::pair<std::string, std::string>>;
    Finding(std::string k, std::string d, std::string m, Details det = {})
        : kind(std::move(k)), dn(std::move(d)), message(std::move(m)), details(std::move(det)) {}
    std::string kind;
    std::string dn;
    std::string message;
    Details details;  // extra JSON fields ("folder": ...)
    // A grant's findings are listed by owner, then grant name (the walk meets grants in
    // the server's order): normalised owner DN, NUL, lower-case name.
    std::string order;
};

// Every entry of the local ACL files of every mailbox's own folders.
void find_local_acls(Context& ctx, const Doveadm& doveadm,
                     const std::function<std::optional<std::vector<std::string>>(const std::string&)>& folders_of,
                     std::vector<Finding>& findings, std::string& note) {
    const auto mailboxes = ctx.all_mailboxes();
    std::set<std::string> addresses;  // lower-case: tells a shared namespace's paths apart
    for (const auto& m : mailboxes)
        for (const auto& a : m.addresses) addresses.insert(ascii_lower(a));
    const auto is_mailbox = [&](const std::string& name) { return addresses.count(ascii_lower(name)) > 0; };
    std::string first_error;
    for (const auto& m : mailboxes) {
        if (!doveadm.configured()) break;  // doveadm hung or is gone: the note says so
        const std::string user = m.primary_address();
        if (user.empty()) continue;
        const auto listed = folders_of(user);
        if (!listed) continue;  // the folder-pattern note already names the error
        for (const auto& folder : own_folders(*listed, is_mailbox)) {
            std::string error;
            const auto entries = doveadm.local_acl(user, folder, &error);
            if (!entries) {
                if (first_error.empty()) first_error = user + " " + folder + ": " + error;
                continue;
            }
            for (const auto& e : *entries)
                findings.push_back({"outside-ldap", m.dn,
                                    "folder '" + folder + "' of " + user + ": " + e.identifier + " has '" + e.rights +
                                        "' from a local ACL file" + (e.global ? " (the global one)" : "") +
                                        ", outside LDAP (list, explain and report do not see it): make it a grant, "
                                        "then remove it with doveadm acl delete",
                                    {{"mailbox", user}, {"folder", folder}, {"identifier", e.identifier},
                                     {"rights", e.rights}, {"global", e.global ? "yes" : "no"}}});
        }
    }
    if (!first_error.empty() && note.empty()) note = "local ACL files not checked for some folders: " + first_error;
}

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

using FoldersOf = std::function<const std::optional<std::vector<std::string>>&(const std::string&)>;

// One grant's findings: its values, its grantees, its dates, its owner, its folders.
void check_grant(Context& ctx, const Grant& g, const SchemaConfig& schema, const Doveadm& doveadm,
                 const FoldersOf& folders_for, std::vector<Finding>& findings) {
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
    // An invitation nobody can accept any more (invitation.h) only clutters the grantee's list.
    const Invitation invitation = invitation_of(g, ctx.now(), ctx.config().invitations);
    if (invitation.state == InvitationState::Expired || invitation.state == InvitationState::AgeUnknown)
        findings.push_back({invitation.state == InvitationState::Expired ? "invitation-expired" : "invitation-age-unknown",
                            g.dn, invitation.describe() + " and still present (mailgrant decline OWNER GRANTEE --grant " +
                                      g.name + ")"});
    const Principal& owner = ctx.describe(g.owner_dn);
    if (owner.kind != Principal::Kind::Person) {
        findings.push_back({"owner-without-address", g.dn,
                            "the entry above the grant (" + g.owner_dn + ") has no mail address: the grant opens nothing"});
        return;
    }
    if (!doveadm.configured() || g.folders.empty()) return;
    const auto& owner_folders = folders_for(owner.display);
    if (!owner_folders) return;
    for (const auto& pattern : g.folders) {
        // A pattern for folders still to come ('Projects/*' while Projects has no
        // subfolder yet) is fine as long as it hangs below a folder that exists; only a
        // name or pattern that could match nothing the owner has is a likely typo.
        bool any = false;
        for (const auto& f : *owner_folders)
            any = any || folder_matches(pattern, f) || pattern_may_match_below(pattern, f);
        if (!any)
            findings.push_back({"folder-matches-nothing", g.dn,
                                "folder pattern '" + pattern + "' matches no folder of " + owner.display +
                                    ", nor any folder below one"});
    }
}

// users.dn_template against every person (not shared mailboxes: nobody logs in as one),
// filled with the person's address and each uid (the logins a site's Dovecot may pass).
// A person it does not fit still works, at one LDAP search more per login and send check
// (core/src/login_groups.cpp): a note for the admin, not a finding.
struct TemplateFit {
    static constexpr std::size_t kExamples = 10;
    std::size_t people = 0, unfit = 0;
    std::vector<std::pair<std::string, std::string>> examples;  // (entry DN, what the template gives)

    void add(const std::string& tmpl, const Account& account, const LdapEntry& entry) {
        if (account.shared_mailbox) return;
        ++people;
        std::vector<std::string> logins;
        if (!account.addresses.empty()) logins.push_back(account.primary_address());
        for (const auto& uid : entry.values("uid")) logins.push_back(uid);
        const std::string key = normalize_dn(entry.dn);
        std::string guess;
        for (const auto& login : logins) {
            const auto dn = fill_dn_template(tmpl, login);
            if (!dn) continue;
            if (normalize_dn(*dn) == key) return;
            if (guess.empty()) guess = *dn;
        }
        ++unfit;
        if (examples.size() < kExamples) examples.emplace_back(entry.dn, guess);
    }
};

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
    // Every person and group read once, in two walks, so that the grantees and owners of
    // a million grants are described from memory (issue 19), not read one by one.
    const std::string& dn_template = ctx.config().users.dn_template;
    // A template the runtime never uses (memberof mode, a login filter the combined search
    // cannot test) is said as such: its fit would mislead.
    const std::string unused = dn_template.empty() ? "" : ctx.ldap_directory().dn_template_unused("someone@example.org");
    TemplateFit fit;
    ctx.know_people([&](const Account& account, const LdapEntry& entry) {
        if (!dn_template.empty()) fit.add(dn_template, account, entry);
    });
    const auto groups = ctx.all_groups();
    const Doveadm doveadm(args.has("--no-doveadm") ? "" : args.value("--doveadm").value_or("doveadm"));
    std::string folder_note =
        doveadm.configured() ? "" : "folder patterns and local ACL files not checked (--no-doveadm)";
    std::map<std::string, std::optional<std::vector<std::string>>> folders_of;  // owner address -> folders
    // Runs doveadm for an owner not asked yet: never while a walk is between pages.
    const auto list_folders = [&](const std::string& address) -> const std::optional<std::vector<std::string>>& {
        auto it = folders_of.find(address);
        if (it == folders_of.end()) {
            std::string error;
            it = folders_of.emplace(address, doveadm.folders(address, &error)).first;
            if (!it->second && folder_note.empty())
                folder_note = "folder patterns and local ACL files not checked for some mailboxes (first " + address +
                              ": " + error + ")";
        }
        return it->second;
    };
    // doveadm takes its time per owner (seconds for a big or locked mailbox), and
    // meanwhile the LDAP connection is idle: a slapd with `idletimeout` closes it, and a
    // walk between pages cannot go on on another connection (the page's cookie belongs
    // to the closed one). So a first walk names the owners whose folders matter, their
    // folders are listed with no search open, and the checking walk only looks them up.
    // An owner whose grant appeared between the two walks is left unchecked this run,
    // and the note says so (no note means every grant's folders were compared).
    static const std::optional<std::vector<std::string>> unlisted;
    std::size_t late = 0;
    const auto folders_for = [&](const std::string& address) -> const std::optional<std::vector<std::string>>& {
        const auto it = folders_of.find(address);
        if (it != folders_of.end()) return it->second;
        ++late;
        return unlisted;
    };
    if (doveadm.configured()) {
        std::set<std::string> owners;
        ctx.walk().each_grant([&](Grant&& g) {
            if (g.folders.empty()) return;
            const Principal& owner = ctx.describe(g.owner_dn);
            if (owner.kind == Principal::Kind::Person) owners.insert(owner.display);
        });
        for (const auto& address : owners) list_folders(address);
    }

    std::size_t checked = 0;
    // The grants one at a time as the walk reads them: only findings are kept.
    ctx.walk().each_grant([&](Grant&& grant) {
        const Grant& g = grant;
        ++checked;
        const std::size_t first = findings.size();
        check_grant(ctx, g, schema, doveadm, folders_for, findings);
        const std::string order = normalize_dn(g.owner_dn) + '\0' + ascii_lower(g.name);
        for (std::size_t i = first; i < findings.size(); ++i) findings[i].order = order;
    });
    std::stable_sort(findings.begin(), findings.end(),
                     [](const Finding& a, const Finding& b) { return a.order < b.order; });
    if (late > 0 && folder_note.empty())
        folder_note = "folder patterns of " + std::to_string(late) +
                      " grant(s) of mailboxes whose first grant came while check ran not checked (run it again)";
    if (doveadm.configured()) find_local_acls(ctx, doveadm, list_folders, findings, folder_note);
    for (const auto& cycle : find_cycles(groups)) {
        std::vector<std::string> names;
        for (const auto& dn : cycle) names.push_back(ctx.describe(dn).display);
        names.push_back(names.front());
        findings.push_back({"group-cycle", cycle.front(), "group membership cycle: " + join(names, " > ")});
    }
    findings.insert(findings.begin(), ignored.begin(), ignored.end());  // the worst first

    if (inv.json) {
        Json j = Json::object();
        j.set("grants_checked", static_cast<long long>(checked));
        Json arr = Json::array();
        for (const auto& f : findings) {
            Json fj = Json::object();
            fj.set("kind", f.kind);
            fj.set("dn", f.dn);
            fj.set("message", f.message);
            for (const auto& [key, value] : f.details) fj.set(key, value);
            arr.push(fj);
        }
        j.set("findings", arr);
        j.set("note", folder_note.empty() ? Json() : Json(folder_note));
        if (!dn_template.empty()) {
            Json t = Json::object();
            t.set("people", static_cast<long long>(fit.people));
            t.set("not_fitting", static_cast<long long>(fit.unfit));
            Json examples = Json::array();
            for (const auto& [dn, guess] : fit.examples) {
                Json e = Json::object();
                e.set("dn", dn);
                e.set("template_gives", guess);
                examples.push(e);
            }
            t.set("examples", examples);
            t.set("unused", unused.empty() ? Json() : Json(unused));
            j.set("dn_template", t);
        }
        inv.out << j.dump();
    } else {
        if (!findings.empty()) {
            Table t({"KIND", "ENTRY", "PROBLEM"});
            for (const auto& f : findings) t.add({f.kind, f.dn, f.message});
            inv.out << t.render();
        }
        inv.out << checked << " grants checked, " << findings.size() << (findings.size() == 1 ? " finding" : " findings")
                << "\n";
        if (!folder_note.empty()) inv.out << "note: " << folder_note << "\n";
        if (!unused.empty()) inv.out << "note: users.dn_template is set but not used: " << unused << "\n";
        if (!dn_template.empty() && fit.unfit == 0) {
            inv.out << "users.dn_template fits all " << fit.people << " people\n";
        } else if (!dn_template.empty()) {
            std::vector<std::string> named;
            for (const auto& [dn, guess] : fit.examples)
                named.push_back(dn + (guess.empty() ? "" : " (the template gives " + guess + ")"));
            inv.out << "note: users.dn_template does not fit " << fit.unfit << " of " << fit.people
                    << " people (each costs one LDAP search more per login and send check): " << join(named, "; ")
                    << (fit.unfit > fit.examples.size() ? "; ..." : "") << "\n";
        }
    }
    return findings.empty() ? kExitOk : kExitNo;
}

}  // namespace mailgrant::cli
