// audit.cpp -- see audit.h.
#include "audit.h"

#include <algorithm>
#include <regex>
#include <set>
#include <stdexcept>

#include "args.h"
#include "grant_spec.h"
#include "mailgrant/dn.h"
#include "mailgrant/gentime.h"

namespace mailgrant::cli {

namespace {

// Written by slapd itself, the same for every entry: noise in "what changed".
bool operational(const std::string& attribute) {
    static const std::set<std::string> names{"entrycsn",       "entryuuid",        "modifiersname", "modifytimestamp",
                                             "creatorsname",   "createtimestamp",  "structuralobjectclass",
                                             "objectclass",    "subschemasubentry", "hassubordinates",
                                             "entrydn",        "contextcsn",       "cn"};
    return names.count(ascii_lower(attribute)) != 0;
}

// One line of a table cell: control characters (a newline in an LDAP value) become '?'.
std::string printable(const std::string& text) {
    std::string out = text;
    for (auto& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return out;
}

std::string strip_dn_prefix(const std::string& authz) {
    return authz.rfind("dn:", 0) == 0 ? authz.substr(3) : authz;  // RFC 4513 authzId
}

std::string csv_field(const std::string& v) {
    if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
    std::string out = "\"";
    for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string time_text(std::time_t t) { return format_utc(t, "%Y-%m-%d %H:%M:%SZ"); }

}  // namespace

std::time_t parse_since(const std::string& text, std::time_t now) {
    static const std::regex duration(R"((\d{1,6})([mhdw]))");
    std::smatch m;
    if (std::regex_match(text, m, duration)) {
        const long long n = std::stoll(m[1].str());
        const char unit = m[2].str()[0];
        const long long seconds = unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : 7 * 86400;
        return now - static_cast<std::time_t>(n * seconds);
    }
    try {
        return parse_time_argument(text, false);
    } catch (const std::invalid_argument&) {
        throw UsageError("--since '" + text + "' is neither a date (2026-11-01), a time (2026-11-01T08:00Z) " +
                         "nor a duration (90m, 12h, 7d, 2w)");
    }
}

std::string summarize_mods(const std::vector<std::string>& lines, bool old_values) {
    struct Group {
        std::string attribute;  // as first written
        char op;                // '=', '+', '-', '#'
        std::vector<std::string> values;
    };
    std::vector<Group> groups;  // in the order first seen
    for (const auto& line : lines) {
        const auto colon = line.find(':');
        if (colon == std::string::npos || colon == 0) continue;
        const std::string attribute = line.substr(0, colon);
        if (operational(attribute)) continue;
        char op = '=';
        std::string value;
        if (old_values) {  // "attr: value"
            value = line.size() > colon + 2 ? line.substr(colon + 2) : "";
        } else {  // "attr:+ value", "attr:-" (every value), "attr:= value", "attr:=" (none left)
            if (colon + 1 >= line.size()) continue;
            op = line[colon + 1];
            if (op != '+' && op != '-' && op != '=' && op != '#') continue;
            value = line.size() > colon + 3 ? line.substr(colon + 3) : "";
        }
        auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
            return g.op == op && ascii_lower(g.attribute) == ascii_lower(attribute);
        });
        if (it == groups.end()) it = groups.insert(groups.end(), Group{attribute, op, {}});
        if (!value.empty()) it->values.push_back(printable(value));
    }
    std::vector<std::string> parts;
    for (const auto& g : groups) {
        if (g.values.empty()) parts.push_back(g.attribute + (g.op == '+' || g.op == '#' ? std::string(1, g.op) : " removed"));
        else parts.push_back(g.attribute + (g.op == '=' ? "" : g.op == '#' ? "+" : std::string(1, g.op)) + "=" +
                             join(g.values, ","));
    }
    std::string out = join(parts, "; ");
    if (out.size() > kMaxAuditChangesChars) out = out.substr(0, kMaxAuditChangesChars - 3) + "...";
    return out;
}

std::optional<AuditEvent> event_from_accesslog(const LdapEntry& entry, const std::string& grant_class,
                                               std::optional<bool>* is_grant) {
    if (is_grant) is_grant->reset();
    const std::string type = ascii_lower(entry.first("reqType"));
    AuditEvent e;
    e.source = "accesslog";
    if (type == "add") e.action = "granted";
    else if (type == "modify") e.action = "changed";
    else if (type == "delete") e.action = "revoked";
    else return std::nullopt;  // modrdn, extended operations: not how grants change
    const auto when = parse_generalized_time(entry.first("reqStart"));
    if (!when || entry.first("reqDN").empty()) return std::nullopt;
    e.when = *when;
    e.grant_dn = entry.first("reqDN");
    e.actor_dn = strip_dn_prefix(entry.first("reqAuthzID"));
    const auto& mods = entry.values("reqMod");
    const auto& old = entry.values("reqOld");  // only where olcAccessLogOld asks for it
    if (type == "modify") {
        e.changes = summarize_mods(mods, false);
    } else if (type == "add") {  // every value is "attr:+ value": shown as the entry's values
        std::vector<std::string> values;
        for (const auto& line : mods) {
            const auto at = line.find(":+ ");
            if (at != std::string::npos) values.push_back(line.substr(0, at) + ": " + line.substr(at + 3));
        }
        e.changes = summarize_mods(values, true);
    } else {
        e.changes = summarize_mods(old, true);
    }
    if (is_grant) {
        const std::string want = ascii_lower(grant_class);
        bool saw_classes = false, found = false;
        for (const auto& line : mods) {  // an add lists every value: "objectClass:+ mailGrant"
            const auto colon = line.find(':');
            if (colon == std::string::npos || ascii_lower(line.substr(0, colon)) != "objectclass") continue;
            if (type != "add") continue;
            saw_classes = true;
            found = found || (line.size() > colon + 3 && ascii_lower(line.substr(colon + 3)) == want);
        }
        for (const auto& line : old) {
            const auto colon = line.find(':');
            if (colon == std::string::npos || ascii_lower(line.substr(0, colon)) != "objectclass") continue;
            saw_classes = true;
            found = found || (line.size() > colon + 2 && ascii_lower(line.substr(colon + 2)) == want);
        }
        if (saw_classes) *is_grant = found;
    }
    return e;
}

std::vector<AuditEvent> events_from_grant_entry(const LdapEntry& entry) {
    std::vector<AuditEvent> out;
    const auto created = parse_generalized_time(entry.first("createTimestamp"));
    if (created) {
        AuditEvent e;
        e.when = *created;
        e.source = "ldap";
        e.action = "granted";
        e.actor_dn = entry.first("creatorsName");
        e.grant_dn = entry.dn;
        out.push_back(e);
    }
    const auto modified = parse_generalized_time(entry.first("modifyTimestamp"));
    if (modified && (!created || *modified != *created)) {
        AuditEvent e;
        e.when = *modified;
        e.source = "ldap";
        e.action = "changed";
        e.actor_dn = entry.first("modifiersName");
        e.grant_dn = entry.dn;
        e.changes = "";  // the last change only; what changed is not kept in the entry
        out.push_back(e);
    }
    return out;
}

std::vector<AuditEvent> merge_events(const std::vector<AuditEvent>& accesslog, const std::vector<AuditEvent>& ldap) {
    std::vector<AuditEvent> out = accesslog;
    for (const auto& e : ldap) {
        const bool seen = std::any_of(accesslog.begin(), accesslog.end(), [&](const AuditEvent& a) {
            return a.action == e.action && normalize_dn(a.grant_dn) == normalize_dn(e.grant_dn) &&
                   (a.when >= e.when ? a.when - e.when : e.when - a.when) <= 1;
        });
        if (!seen) out.push_back(e);
    }
    std::stable_sort(out.begin(), out.end(), [](const AuditEvent& a, const AuditEvent& b) {
        return a.when < b.when;  // accesslog order (reqStart) kept within one second
    });
    return out;
}

std::string render_audit_table(const std::vector<AuditEvent>& events) {
    Table t({"TIME", "ACTION", "MAILBOX", "GRANT", "BY", "SOURCE", "CHANGES"});
    for (const auto& e : events)
        t.add({time_text(e.when), e.action, printable(e.mailbox), printable(first_rdn_value(e.grant_dn)),
               e.actor.empty() ? "-" : printable(e.actor), e.source, e.changes.empty() ? "-" : e.changes});
    return t.empty() ? std::string("no grant changes\n") : t.render();
}

std::string render_audit_csv(const std::vector<AuditEvent>& events) {
    std::string out = "time,action,mailbox,grant,by,source,changes,grant_dn,by_dn\r\n";
    for (const auto& e : events) {
        const std::vector<std::string> cells{format_time_iso(e.when), e.action, e.mailbox, first_rdn_value(e.grant_dn),
                                             e.actor, e.source, e.changes, e.grant_dn, e.actor_dn};
        for (std::size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + csv_field(cells[i]);
        out += "\r\n";
    }
    return out;
}

Json render_audit_json(const std::vector<AuditEvent>& events, const std::vector<std::string>& notes) {
    Json arr = Json::array();
    for (const auto& e : events) {
        Json j = Json::object();
        j.set("time", format_time_iso(e.when));
        j.set("action", e.action);
        j.set("mailbox", e.mailbox);
        j.set("mailbox_dn", parent_dn(e.grant_dn));
        j.set("grant", first_rdn_value(e.grant_dn));
        j.set("grant_dn", e.grant_dn);
        j.set("by", e.actor.empty() ? Json() : Json(e.actor));
        j.set("by_dn", e.actor_dn.empty() ? Json() : Json(e.actor_dn));
        j.set("source", e.source);
        j.set("changes", e.changes.empty() ? Json() : Json(e.changes));
        arr.push(j);
    }
    Json top = Json::object();
    top.set("events", arr);
    top.set("notes", Json::strings(notes));
    return top;
}

}  // namespace mailgrant::cli
