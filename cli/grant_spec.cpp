// grant_spec.cpp -- see grant_spec.h.
#include "grant_spec.h"

#include <cctype>
#include <cstdio>
#include <regex>
#include <stdexcept>

#include "mailgrant/gentime.h"
#include "mailgrant/rights.h"

namespace mailgrant::cli {

std::time_t parse_time_argument(const std::string& text, bool end_of_day) {
    static const std::regex date(R"((\d{4})-(\d{2})-(\d{2}))");
    static const std::regex datetime(R"((\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?Z?)");
    std::smatch m;
    std::string generalized;
    if (std::regex_match(text, m, date)) {
        generalized = m[1].str() + m[2].str() + m[3].str() + (end_of_day ? "235959Z" : "000000Z");
    } else if (std::regex_match(text, m, datetime)) {
        generalized = m[1].str() + m[2].str() + m[3].str() + m[4].str() + m[5].str() +
                      (m[6].matched ? m[6].str() : "00") + "Z";
    } else {
        generalized = text;
    }
    std::string error;
    const auto t = parse_generalized_time(generalized, &error);
    if (!t)
        throw std::invalid_argument("'" + text + "' is not a time (use 2024-08-31, 2024-08-31T18:00Z or 20240831180000Z): " +
                                    error);
    return *t;
}

std::string format_time_human(std::time_t t) { return format_utc(t, "%Y-%m-%d %H:%M:%SZ"); }

std::string format_time_iso(std::time_t t) { return format_utc(t, "%Y-%m-%dT%H:%M:%SZ"); }

std::string rights_argument(const std::optional<std::string>& role, const std::optional<std::string>& letters) {
    if (role && letters) throw std::invalid_argument("give either --role or --rights, not both");
    std::string error;
    if (role) {
        std::string name;
        for (char c : *role)
            if (c != ' ' && c != '\t') name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (name != "reader" && name != "editor" && name != "admin")
            throw std::invalid_argument("unknown role '" + *role +
                                        "' (roles: reader = lrs, editor = lrswipkxte, admin = lrswipkxtea)");
        return name;
    }
    if (letters) {
        const auto r = Rights::from_letters(*letters, &error);
        if (!r) throw std::invalid_argument("bad rights '" + *letters + "': " + error);
        return r->letters();
    }
    return "";
}

std::vector<std::string> validate_grant(const GrantSpec& spec, std::time_t now) {
    std::vector<std::string> problems;
    if (spec.name.empty()) problems.push_back("the grant needs a name");
    if (!spec.rights_text.empty()) {
        std::string error;
        if (!parse_rights(spec.rights_text, &error)) problems.push_back("bad rights '" + spec.rights_text + "': " + error);
    }
    if (!spec.folders.empty() && spec.rights_text.empty())
        problems.push_back("folders given without rights: add --role reader|editor|admin or --rights LETTERS");
    if (spec.folders.empty() && !spec.rights_text.empty())
        problems.push_back("rights given without a folder: add --folder INBOX, --folder 'Projects/*' or --folder '*'");
    if (spec.folders.empty() && !spec.send_as && !spec.send_on_behalf)
        problems.push_back("the grant gives nothing: add --folder with --role/--rights, or --send-as / --send-on-behalf");
    for (const auto& f : spec.folders)
        if (f.empty()) problems.push_back("an empty --folder never matches a folder");
    if (spec.not_before && spec.not_after && *spec.not_after < *spec.not_before)
        problems.push_back("--until " + format_time_human(*spec.not_after) + " is before --from " +
                           format_time_human(*spec.not_before));
    else if (spec.not_after && *spec.not_after < now)
        problems.push_back("--until " + format_time_human(*spec.not_after) + " is in the past: the grant would already be expired");
    return problems;
}

Change grant_add_change(const GrantSpec& spec, const SchemaConfig& schema) {
    Change c;
    c.type = Change::Type::Add;
    c.dn = child_dn(schema.grant_name, spec.name, spec.mailbox_dn);
    c.attributes.emplace_back("objectClass", schema.grant_object_class);
    c.attributes.emplace_back(schema.grant_name, spec.name);
    for (const auto& g : spec.grantee_dns) c.attributes.emplace_back(schema.grantee, g);
    for (const auto& f : spec.folders) c.attributes.emplace_back(schema.folder, f);
    if (!spec.rights_text.empty()) c.attributes.emplace_back(schema.rights, spec.rights_text);
    if (spec.send_as) c.attributes.emplace_back(schema.send, "sendAs");
    if (spec.send_on_behalf) c.attributes.emplace_back(schema.send, "sendOnBehalf");
    if (spec.not_before) c.attributes.emplace_back(schema.not_before, format_generalized_time(*spec.not_before));
    if (spec.not_after) c.attributes.emplace_back(schema.not_after, format_generalized_time(*spec.not_after));
    if (!spec.description.empty()) c.attributes.emplace_back("description", spec.description);
    return c;
}

Change edit_change(const std::string& grant_dn, const GrantEdit& edit) {
    Change c;
    c.dn = grant_dn;
    if (edit.action == GrantEdit::Action::Delete) {
        c.type = Change::Type::Delete;
        return c;
    }
    c.type = Change::Type::Modify;
    for (const auto& v : edit.changes)
        c.modifications.push_back({v.op == ValueChange::Op::Add ? Modification::Op::Add : Modification::Op::Delete,
                                   v.attribute,
                                   {v.value}});
    return c;
}

}  // namespace mailgrant::cli
