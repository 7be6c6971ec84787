// cmd_report.cpp -- `mailgrant report`: the admin's table of every mailbox, like the
// "mailboxes" page of a groupware console. Columns to choose (address, name, type,
// owner, aliases, access, messages, unread, size, last-login, grants, expires), sorting,
// filters on each column and table / JSON / CSV output live in report_table.h; this file
// fills the rows: LDAP (names, owners, who has access and how, groups expanded to people,
// grants and when they end), doveadm (messages, unread, size: metadata only) and Dovecot's
// last_login dictionary. A supervisor (--as-supervisor, cli.supervisor) sees only the
// mailboxes of the people below them (supervisor.h). The CLI never opens mail content.
//
// When counts or last logins were asked for but could not be read, the table still comes
// out (with "-"), stderr says what is missing and how to get it, and the exit code is 6:
// a cron job or script can tell an incomplete report from a complete one.
#include <algorithm>
#include <fnmatch.h>
#include <set>

#include "doveadm.h"
#include "last_login.h"
#include "mailgrant/dn.h"
#include "report_directory.h"
#include "report_table.h"
#include "supervisor.h"
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
                                            {"--min-size", true, false, ""},
                                            {"--columns", true, false, ""},
                                            {"--sort", true, false, ""},
                                            {"--filter", true, true, ""},
                                            {"--format", true, false, ""},
                                            {"--as-supervisor", true, false, ""},
                                            {"--last-login-dict", true, false, ""}});
    if (!args.positionals.empty()) throw UsageError("report takes only options");
    const auto type = args.value("--type");
    if (type && *type != "personal" && *type != "shared") throw UsageError("--type is 'personal' or 'shared'");
    std::string format = args.value("--format").value_or(inv.json ? "json" : "table");
    if (format != "table" && format != "json" && format != "csv") throw UsageError("--format is table, json or csv");
    if (inv.json && format != "json") throw UsageError("--json and --format " + format + " contradict each other");
    const std::vector<Col> cols = args.has("--columns") ? parse_columns(*args.value("--columns"))
                                  : format == "json"    ? default_json_columns()
                                                        : default_table_columns();
    const std::vector<SortKey> sort = args.has("--sort") ? parse_sort(*args.value("--sort")) : std::vector<SortKey>{};
    std::vector<Filter> filters;
    for (const auto& f : args.values("--filter")) filters.push_back(parse_filter(f));
    if (args.has("--min-size")) filters.push_back(Filter{Col::Size, Filter::Op::GreaterEq, "",
                                                         static_cast<long long>(parse_size(*args.value("--min-size")))});
    if (args.has("--no-doveadm") && args.has("--doveadm")) throw UsageError("give either --doveadm or --no-doveadm");
    const bool no_doveadm = args.has("--no-doveadm");
    const Doveadm doveadm(no_doveadm ? "" : args.value("--doveadm").value_or("doveadm"));

    // What has to be read: counts and last logins only when shown, filtered or sorted on.
    std::set<Col> used(cols.begin(), cols.end());
    for (const auto& f : filters) used.insert(f.col);
    for (const auto& k : sort) used.insert(k.col);
    bool want_counts = false;
    for (Col c : used) want_counts = want_counts || needs_counts(c);
    const bool want_last_login = used.count(Col::LastLogin) != 0;
    if (no_doveadm)
        for (const auto& f : filters)
            if (needs_counts(f.col))
                throw UsageError(std::string("filtering on ") + column_info(f.col).key + " needs doveadm (drop --no-doveadm)");

    Context& ctx = inv.ctx;
    const CliConfig& cli = ctx.config().cli;
    std::optional<Principal> grantee_filter;
    if (auto g = args.value("--grantee")) grantee_filter = ctx.resolve_grantee(*g);

    const SupervisorScope scope = SupervisorScope::load(ctx, args.value("--as-supervisor"));

    LastLogins last_logins;
    std::string last_login_error;
    if (want_last_login)
        last_logins = LastLogins::load(args.value("--last-login-dict").value_or(cli.last_login_dict), cli.last_login_key,
                                       doveadm, &last_login_error);

    // Every mailbox in one walk: the rows' order, and the accounts the decider would
    // otherwise read one by one (owners, grantees). Each person is also known to
    // describe() (the owners of shared mailboxes).
    struct Mailbox {
        Account account;
        std::string name;                   // displayName, else cn
        std::vector<std::string> managers;  // cli.manager_attribute
        bool listed = false;                // passes the supervisor scope and --type/--address
    };
    std::vector<Mailbox> mailboxes;
    ctx.walk().each_mailbox({"displayName", "cn", cli.manager_attribute}, [&](Account&& account, LdapEntry&& entry) {
        ctx.know(entry);
        Mailbox mb{std::move(account), entry.first("displayName").empty() ? entry.first("cn") : entry.first("displayName"),
                   entry.values(cli.manager_attribute), false};
        mb.listed = scope.covers(mb.account.dn) && (!type || (*type == "shared") == mb.account.shared_mailbox);
        if (const auto pattern = args.value("--address"); mb.listed && pattern) {
            bool any = false;
            for (const auto& a : mb.account.addresses) any = any || glob_ci(*pattern, a);
            mb.listed = any;
        }
        mailboxes.push_back(std::move(mb));
    });
    std::sort(mailboxes.begin(), mailboxes.end(), [](const Mailbox& a, const Mailbox& b) {
        return ascii_lower(a.account.primary_address()) < ascii_lower(b.account.primary_address());
    });
    ReportDirectory directory(ctx.directory());
    for (const auto& mb : mailboxes) directory.know(mb.account);
    Decider decider(directory, ctx.clock());
    std::map<std::string, std::vector<Member>> members_of;  // normalised group DN: each group expanded once

    ReportWriter writer(inv.out, format, cols, sort);
    std::size_t count_failures = 0, counted = 0;
    std::string count_error;
    for (const auto& mb : mailboxes) {
        if (!mb.listed) continue;
        const Account& account = mb.account;
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
        for (const auto& g : decider.grantees_of(account.dn)) {
            if (grantee_filter && normalize_dn(g.dn) == normalize_dn(grantee_filter->dn)) filter_hit = true;
            if (g.person) {
                add(g.person->primary_address(), "direct", g);
            } else if (ctx.describe(g.dn).kind == Principal::Kind::Group) {
                auto known = members_of.find(normalize_dn(g.dn));
                if (known == members_of.end()) known = members_of.emplace(normalize_dn(g.dn), ctx.expand_group(g.dn)).first;
                for (const auto& m : known->second) {
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

        ReportRow row;
        row.address = account.primary_address();
        row.dn = account.dn;
        row.name = mb.name;
        row.shared = account.shared_mailbox;
        if (!account.shared_mailbox) row.owners.push_back(row.address);
        else
            for (const auto& m : mb.managers) {
                const Principal& p = ctx.describe(m);
                row.owners.push_back(p.kind == Principal::Kind::Person ? p.display : m);
            }
        if (account.addresses.size() > 1) row.aliases.assign(account.addresses.begin() + 1, account.addresses.end());
        for (const auto& a : access) {
            if (format == "json") {  // only JSON shows the parts
                Json aj = Json::object();
                aj.set("who", a.who);
                aj.set("rights", a.rights.letters());
                aj.set("role", role_name(a.rights).empty() ? Json() : Json(role_name(a.rights)));
                aj.set("send_as", a.send_as);
                aj.set("send_on_behalf", a.send_on_behalf);
                aj.set("grants", Json::strings(a.grants));
                aj.set("via", Json::strings(a.via));
                row.access_json.push(aj);
            }
            row.access.push_back(a.label());
        }
        // The grant names and the earliest end, from the grants the decider read.
        std::vector<const Grant*> own;
        for (const auto& g : directory.last_grants(account.dn)) own.push_back(&g);
        std::sort(own.begin(), own.end(), [](const Grant* a, const Grant* b) {
            return ascii_lower(a->name) < ascii_lower(b->name);
        });
        for (const Grant* g : own) {
            row.grants.push_back(g->name);
            const GrantState st = g->state_at(ctx.now());
            if (g->not_after && (st == GrantState::Active || st == GrantState::NotYetValid) &&
                (!row.expires || *g->not_after < *row.expires))
                row.expires = g->not_after;
        }
        if (want_counts && doveadm.configured()) {
            ++counted;
            std::string error;
            if (const auto s = doveadm.status(row.address, &error)) {
                row.messages = s->messages;
                row.unread = s->unseen;
                row.size = s->vsize;
            } else {
                ++count_failures;
                if (count_error.empty()) count_error = error.empty() ? "doveadm failed" : error;
            }
        } else if (want_counts && !no_doveadm) {  // doveadm broke on an earlier mailbox
            ++counted;
            ++count_failures;
        }
        if (want_last_login) row.last_login = last_logins.of(row.address);
        bool keep = true;
        for (const auto& f : filters) keep = keep && matches(row, f);
        if (keep) writer.add(std::move(row));
    }
    writer.finish();

    bool incomplete = false;
    if (count_failures > 0) {
        while (!count_error.empty() && (count_error.back() == '\n' || count_error.back() == ' ')) count_error.pop_back();
        inv.err << "mailgrant report: warning: message counts could not be read for " << count_failures << " of "
                << counted << " mailboxes (" << (count_error.empty() ? "doveadm failed" : count_error)
                << "); they show as \"-\". Run as root with --doveadm \"doveadm -c /etc/dovecot/dovecot.conf\", "
                << "or --no-doveadm to leave them out.\n";
        incomplete = true;
    }
    if (want_last_login && !last_logins.loaded()) {
        inv.err << "mailgrant report: warning: last logins could not be read: " << last_login_error
                << "; they show as \"-\". Wire Dovecot's last_login plugin and set cli.last_login_dict "
                << "(README, \"Admin CLI\").\n";
        incomplete = true;
    }
    return incomplete ? kExitIncomplete : kExitOk;
}

}  // namespace mailgrant::cli
