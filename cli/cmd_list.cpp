// cmd_list.cpp -- `mailgrant list [MAILBOX | --grantee GRANTEE] [--expand]`: the grants
// with their state right now (active, not yet valid, expired, invalid, or a pending
// invitation and whether it can still be accepted: cmd_invite.h), all of them, those
// of one mailbox, or those that reach one user (directly or through groups);
// --expand lists the people behind group grantees. A supervisor (--as-supervisor,
// cli.supervisor) sees only the grants on their subordinates' mailboxes (supervisor.h).
#include <algorithm>

#include "cmd_invite.h"
#include "mailgrant/dn.h"
#include "supervisor.h"
#include "verbs.h"

namespace mailgrant::cli {

int run_list(Invocation& inv) {
    const auto args = parse_args(inv.args, {{"--grantee", true, false, ""},
                                            {"--expand", false, false, ""},
                                            {"--as-supervisor", true, false, ""}});
    if (args.positionals.size() > 1 || (args.has("--grantee") && !args.positionals.empty()))
        throw UsageError("list takes no argument, a MAILBOX, or --grantee GRANTEE");
    Context& ctx = inv.ctx;
    const bool expand = args.has("--expand");
    std::vector<Grant> grants;
    std::vector<GroupMembership> memberships;
    const SupervisorScope scope = SupervisorScope::load(ctx, args.value("--as-supervisor"));
    if (!args.positionals.empty()) {
        const Account mailbox = ctx.resolve_mailbox(args.positionals[0]);
        scope.require(mailbox.dn, args.positionals[0]);
        grants = ctx.directory().grants_of(mailbox.dn);
        std::sort(grants.begin(), grants.end(),
                  [](const Grant& a, const Grant& b) { return ascii_lower(a.name) < ascii_lower(b.name); });
    } else if (auto g = args.value("--grantee")) {
        const Principal who = ctx.resolve_grantee(*g);
        std::vector<std::string> dns{who.dn};
        if (who.kind == Principal::Kind::Person) {
            memberships = ctx.directory().groups_of(who.dn);
            for (const auto& m : memberships) dns.push_back(m.dn);
        }
        grants = ctx.directory().grants_to(dns);
        std::sort(grants.begin(), grants.end(), [](const Grant& a, const Grant& b) {
            return std::make_pair(normalize_dn(a.owner_dn), ascii_lower(a.name)) <
                   std::make_pair(normalize_dn(b.owner_dn), ascii_lower(b.name));
        });
    } else {
        ctx.know_people();  // every owner and grantee described from one walk, not read one by one
        grants = ctx.all_grants();
    }
    grants.erase(std::remove_if(grants.begin(), grants.end(), [&](const Grant& g) { return !scope.covers(g.owner_dn); }),
                 grants.end());

    auto mailbox_label = [&](const Grant& g) {
        const Principal& p = ctx.describe(g.owner_dn);
        return p.kind == Principal::Kind::Person ? p.display : g.owner_dn;
    };
    auto people_of = [&](const Grant& g) {
        std::vector<std::string> people;
        for (const auto& dn : g.grantees) {
            const Principal& p = ctx.describe(dn);
            if (p.kind == Principal::Kind::Person) {
                people.push_back(p.display);
            } else if (p.kind == Principal::Kind::Group) {
                for (const auto& m : ctx.expand_group(dn))
                    people.push_back(m.address.empty() ? m.dn : m.address);
            }
        }
        std::sort(people.begin(), people.end());
        people.erase(std::unique(people.begin(), people.end()), people.end());
        return people;
    };
    auto via_of = [&](const Grant& g) {
        std::vector<std::string> via;
        for (const auto& dn : g.grantees)
            for (const auto& m : memberships)
                if (normalize_dn(m.dn) == normalize_dn(dn)) {
                    std::vector<std::string> names;
                    for (const auto& step : m.path) names.push_back(ctx.describe(step).display);
                    via.push_back(join(names, " > "));
                }
        return via;
    };

    if (inv.json) {
        Json arr = Json::array();
        for (const auto& g : grants) {
            Json j = grant_json(g, ctx);
            if (expand) j.set("people", Json::strings(people_of(g)));
            if (!memberships.empty() || args.has("--grantee")) j.set("via_groups", Json::strings(via_of(g)));
            arr.push(j);
        }
        Json top = Json::object();
        top.set("grants", arr);
        inv.out << top.dump();
        return kExitOk;
    }
    std::vector<std::string> headers{"MAILBOX", "GRANT", "GRANTEE", "FOLDERS", "RIGHTS", "SEND", "VALID", "STATE"};
    if (args.has("--grantee")) headers.push_back("VIA");
    if (expand) headers.push_back("PEOPLE");
    Table table(headers);
    for (const auto& g : grants) {
        std::vector<std::string> labels;
        for (const auto& dn : g.grantees) labels.push_back(ctx.grantee_label(dn));
        std::vector<std::string> row{mailbox_label(g),
                                     g.name,
                                     labels.empty() ? "-" : join(labels, ", "),
                                     g.folders.empty() ? "-" : join(g.folders, ", "),
                                     grant_rights_label(g),
                                     grant_send_label(g),
                                     grant_window_label(g),
                                     grant_state_label(g, ctx.now(), ctx.config().invitations)};
        if (args.has("--grantee")) {
            const auto via = via_of(g);
            row.push_back(via.empty() ? "direct" : join(via, "; "));
        }
        if (expand) row.push_back(join(people_of(g), ", "));
        table.add(row);
    }
    if (table.empty()) {
        inv.out << "no grants\n";
        return kExitOk;
    }
    inv.out << table.render();
    return kExitOk;
}

}  // namespace mailgrant::cli
