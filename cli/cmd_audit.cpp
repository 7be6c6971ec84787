// cmd_audit.cpp -- `mailgrant audit [--since WHEN] [--mailbox ADDRESS] [--format F]`: who
// granted, changed and revoked which grant, and when. Reads two LDAP sources with the
// YAML's read credentials (audit.h merges and renders them):
//   - the grant entries' operational attributes (always): creations and last changes of
//     the grants that exist now;
//   - slapd's accesslog database below cli.accesslog_base (where the site runs the overlay):
//     every write, deletions included.
// Without the accesslog a revocation leaves no trace in LDAP, and the output says so.
//
// The plugin's and the policy daemon's logs are not read: the plugin's writes are in LDAP
// already (the service account writes them, with "shared by PERSON" in description), and
// the policy daemon decides sends, it never changes a grant.
#include <set>

#include "audit.h"
#include "mailgrant/dn.h"
#include "mailgrant/gentime.h"
#include "mailgrant/ldap_filter.h"
#include "verbs.h"

namespace mailgrant::cli {

namespace {

constexpr const char* kNoAccesslogNote =
    "revocations are not visible without slapd's accesslog: see README (\"Audit\"), then set cli.accesslog_base";

// dn_within, except that an empty (or unparsable) base holds nothing here.
bool below(const std::string& dn, const std::string& base) { return !normalize_dn(base).empty() && dn_within(dn, base); }

}  // namespace

int run_audit(Invocation& inv) {
    const auto args = parse_args(inv.args, {{"--since", true, false, ""},
                                            {"--mailbox", true, false, ""},
                                            {"--format", true, false, ""}});
    if (!args.positionals.empty()) throw UsageError("audit takes only options");
    const std::string format = args.value("--format").value_or(inv.json ? "json" : "table");
    if (format != "table" && format != "json" && format != "csv") throw UsageError("--format is table, json or csv");
    if (inv.json && format != "json") throw UsageError("--json and --format " + format + " contradict each other");
    Context& ctx = inv.ctx;
    const Config& config = ctx.config();
    // A flag and a plain value rather than std::optional: GCC 12 at -O2 reports a false
    // "may be used uninitialized" for the optional's payload (Debian 12's compiler).
    const bool has_since = args.has("--since");
    const std::time_t since = has_since ? parse_since(*args.value("--since"), ctx.now()) : 0;
    std::string mailbox_dn;  // normalised, "" = every mailbox
    if (auto m = args.value("--mailbox")) mailbox_dn = normalize_dn(ctx.resolve_mailbox(*m).dn);

    // What exists now: every grant entry with its operational attributes.
    std::set<std::string> grant_dns;  // normalised
    std::vector<AuditEvent> from_entries;
    for (const auto& entry : ctx.ldap().search(SearchRequest{
             config.ldap.base, SearchScope::Subtree, "(objectClass=" + escape_filter_value(config.schema.grant_object_class) + ")",
             {"cn", "createTimestamp", "creatorsName", "modifyTimestamp", "modifiersName"}})) {
        grant_dns.insert(normalize_dn(entry.dn));
        for (auto& e : events_from_grant_entry(entry)) from_entries.push_back(std::move(e));
    }

    // Every write the accesslog kept (successful ones only).
    std::vector<AuditEvent> from_log;
    const std::string& log_base = config.cli.accesslog_base;
    if (!log_base.empty()) {
        std::string filter = "(&(objectClass=auditWriteObject)(reqResult=0)";
        if (has_since) filter += "(reqStart>=" + format_generalized_time(since) + ")";
        filter += ")";
        std::vector<std::pair<AuditEvent, std::optional<bool>>> candidates;
        for (const auto& entry : ctx.ldap().search(SearchRequest{
                 log_base, SearchScope::OneLevel, filter, {"reqStart", "reqType", "reqDN", "reqAuthzID", "reqMod", "reqOld"}})) {
            std::optional<bool> is_grant;
            auto e = event_from_accesslog(entry, config.schema.grant_object_class, &is_grant);
            if (!e || !below(e->grant_dn, config.ldap.base)) continue;
            if (is_grant && *is_grant) grant_dns.insert(normalize_dn(e->grant_dn));
            candidates.emplace_back(std::move(*e), is_grant);
        }
        for (auto& [e, is_grant] : candidates) {
            // A grant: its objectClass said so, it is (or was added as) one, or -- a delete or
            // modify logged without old values -- it sits directly below a mailbox, where
            // only grants live (DESIGN: the owner is the grant's parent).
            bool grant = is_grant ? *is_grant : grant_dns.count(normalize_dn(e.grant_dn)) != 0;
            if (!is_grant && !grant) grant = ctx.describe(parent_dn(e.grant_dn)).kind == Principal::Kind::Person;
            if (grant) from_log.push_back(std::move(e));
        }
    }

    std::vector<AuditEvent> events;
    for (auto& e : merge_events(from_log, from_entries)) {
        if (has_since && e.when < since) continue;
        const std::string owner = parent_dn(e.grant_dn);
        if (!mailbox_dn.empty() && normalize_dn(owner) != mailbox_dn) continue;
        const Principal& mb = ctx.describe(owner);
        e.mailbox = mb.kind == Principal::Kind::Person ? mb.display : owner;
        e.actor = e.actor_dn;
        if (below(e.actor_dn, config.ldap.base)) {  // cn=peercred,cn=external,cn=auth is not an entry
            const Principal& who = ctx.describe(e.actor_dn);
            if (who.kind == Principal::Kind::Person) e.actor = who.display;
        }
        events.push_back(std::move(e));
    }

    std::vector<std::string> notes;
    if (log_base.empty()) notes.push_back(kNoAccesslogNote);
    if (format == "json") inv.out << render_audit_json(events, notes).dump();
    else if (format == "csv") inv.out << render_audit_csv(events);
    else inv.out << render_audit_table(events);
    for (const auto& n : notes) inv.err << "mailgrant audit: note: " << n << "\n";
    return kExitOk;
}

}  // namespace mailgrant::cli
