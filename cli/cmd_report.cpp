// cmd_report.cpp -- `mailgrant report [filters]`: one row per mailbox like the
// "mailboxes" page of a groupware console: addresses, personal or shared, who has access
// and how (groups expanded to people), and messages / unread / size from doveadm when it
// runs ("-" otherwise). Filters: --address GLOB, --grantee WHO, --type personal|shared,
// --min-size SIZE.
#include <algorithm>
#include <fnmatch.h>

#include "doveadm.h"
#include "mailgrant/dn.h"
#include "verbs.h"

namespace mailgrant::cli {

namespace {

struct Access {
    std::string who;  // address (or DN for a member without one)
    Rights rights;
    bool send_as = false;
    bool send_on_behalf = false;
    std::vector<std::string> grants;
    std::vector<std::string> via;  // group paths, "direct" when named in the grant

    std::string label() const {
        std::string r = rights.empty() ? "" : (role_name(rights).empty() ? rights.letters() : role_name(rights));
        if (send_as) r += std::string(r.empty() ? "" : "+") + "sendAs";
        else if (send_on_behalf) r += std::string(r.empty() ? "" : "+") + "sendOnBehalf";
        std::string out = who + " (" + r;
        std::vector<std::string> groups;
        for (const auto& v : via)
            if (v != "direct") groups.push_back(v);
        if (!groups.empty()) out += " via " + join(groups, ", ");
        return out + ")";
    }
};

bool glob_ci(const std::string& pattern, const std::string& text) {
    return fnmatch(ascii_lower(pattern).c_str(), ascii_lower(text).c_str(), 0) == 0;
}

}  // namespace

int run_report(Invocation& inv) {
    const auto args = parse_args(inv.args, {{"--doveadm", true, false, ""},
                                            {"--no-doveadm", false, false, ""},
                                            {"--address", true, false, ""},
                                            {"--grantee", true, false, ""},
                                            {"--type", true, false, ""},
                                            {"--min-size", true, false, ""}});
    if (!args.positionals.empty()) throw UsageError("report takes only options");
    const auto type = args.value("--type");
    if (type && *type != "personal" && *type != "shared") throw UsageError("--type is 'personal' or 'shared'");
    const bool has_min_size = args.has("--min-size");
    const unsigned long long min_size = has_min_size ? parse_size(*args.value("--min-size")) : 0;
    if (args.has("--no-doveadm") && args.has("--doveadm")) throw UsageError("give either --doveadm or --no-doveadm");
    const Doveadm doveadm(args.has("--no-doveadm") ? "" : args.value("--doveadm").value_or("doveadm"));

    Context& ctx = inv.ctx;
    std::optional<Principal> grantee_filter;
    if (auto g = args.value("--grantee")) grantee_filter = ctx.resolve_grantee(*g);

    Json rows = Json::array();
    Table table({"MAILBOX", "TYPE", "ALIASES", "ACCESS", "MESSAGES", "UNREAD", "SIZE"});
    for (const auto& mb : ctx.all_mailboxes()) {
        if (type && (*type == "shared") != mb.shared_mailbox) continue;
        if (auto pattern = args.value("--address")) {
            bool any = false;
            for (const auto& a : mb.addresses) any = any || glob_ci(*pattern, a);
            if (!any) continue;
        }
        std::vector<Access> access;
        bool filter_hit = !grantee_filter;
        auto add = [&](const std::string& who, const std::string& via, const Grantee& g) {
            auto it = std::find_if(access.begin(), access.end(), [&](const Access& a) { return a.who == who; });
            if (it == access.end()) {
                access.push_back(Access{who, Rights::none(), false, false, {}, {}});
                it = access.end() - 1;
            }
            it->rights |= g.rights;
            it->send_as = it->send_as || g.send_as;
            it->send_on_behalf = it->send_on_behalf || g.send_on_behalf;
            for (const auto& name : g.grants)
                if (std::find(it->grants.begin(), it->grants.end(), name) == it->grants.end()) it->grants.push_back(name);
            if (std::find(it->via.begin(), it->via.end(), via) == it->via.end()) it->via.push_back(via);
        };
        // Who has access is the core's answer (the same as GETACL's); the report adds
        // the people behind each group.
        for (const auto& g : ctx.decider().grantees_of(mb.dn)) {
            if (grantee_filter && normalize_dn(g.dn) == normalize_dn(grantee_filter->dn)) filter_hit = true;
            if (g.person) {
                add(g.person->primary_address(), "direct", g);
            } else if (ctx.describe(g.dn).kind == Principal::Kind::Group) {
                for (const auto& m : ctx.expand_group(g.dn)) {
                    const std::string who = m.address.empty() ? m.dn : m.address;
                    if (grantee_filter && grantee_filter->kind == Principal::Kind::Person &&
                        normalize_dn(m.dn) == normalize_dn(grantee_filter->dn))
                        filter_hit = true;
                    add(who, join(m.via, " > "), g);
                }
            }
        }
        if (!filter_hit) continue;
        std::sort(access.begin(), access.end(), [](const Access& a, const Access& b) { return a.who < b.who; });
        MailboxStatus st{};
        bool have_status = false;
        if (doveadm.configured()) {
            if (const auto s = doveadm.status(mb.primary_address())) {
                st = *s;
                have_status = true;
            }
        }
        if (has_min_size && (!have_status || st.vsize < min_size)) continue;

        std::vector<std::string> aliases(mb.addresses.size() > 1 ? mb.addresses.begin() + 1 : mb.addresses.end(),
                                         mb.addresses.end());
        Json row = Json::object();
        row.set("mailbox", mb.primary_address());
        row.set("dn", mb.dn);
        row.set("type", mb.shared_mailbox ? "shared" : "personal");
        row.set("aliases", Json::strings(aliases));
        Json acc = Json::array();
        std::vector<std::string> labels;
        for (const auto& a : access) {
            Json aj = Json::object();
            aj.set("who", a.who);
            aj.set("rights", a.rights.letters());
            aj.set("role", role_name(a.rights).empty() ? Json() : Json(role_name(a.rights)));
            aj.set("send_as", a.send_as);
            aj.set("send_on_behalf", a.send_on_behalf);
            aj.set("grants", Json::strings(a.grants));
            aj.set("via", Json::strings(a.via));
            acc.push(aj);
            labels.push_back(a.label());
        }
        row.set("access", acc);
        row.set("messages", have_status ? Json(st.messages) : Json());
        row.set("unread", have_status ? Json(st.unseen) : Json());
        row.set("size", have_status ? Json(st.vsize) : Json());
        rows.push(row);
        table.add({mb.primary_address(), mb.shared_mailbox ? "shared" : "personal", aliases.empty() ? "-" : join(aliases, ", "),
                   labels.empty() ? "-" : join(labels, "; "), have_status ? std::to_string(st.messages) : "-",
                   have_status ? std::to_string(st.unseen) : "-", have_status ? human_size(st.vsize) : "-"});
    }
    if (inv.json) {
        Json top = Json::object();
        top.set("mailboxes", rows);
        inv.out << top.dump();
    } else {
        inv.out << table.render();
    }
    return kExitOk;
}

}  // namespace mailgrant::cli
