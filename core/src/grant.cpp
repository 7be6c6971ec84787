// grant.cpp -- mailGrant entry -> Grant, and the validity window.
#include "mailgrant/grant.h"

#include "mailgrant/dn.h"
#include "mailgrant/folder_pattern.h"
#include "mailgrant/gentime.h"
#include "mailgrant/input.h"
#include "mailgrant/warnings.h"

namespace mailgrant {

namespace {
// RFC 4512 operational attribute: when the server added the entry (an invitation's age).
const char* const kCreateTimestamp = "createTimestamp";
}  // namespace

const char* to_string(GrantState state) {
    switch (state) {
        case GrantState::Active: return "active";
        case GrantState::NotYetValid: return "not yet valid";
        case GrantState::Expired: return "expired";
        case GrantState::Invalid: return "invalid";
        case GrantState::Pending: return "pending (an invitation not accepted yet)";
    }
    return "invalid";
}

GrantState Grant::state_at(std::time_t now) const {
    if (window_invalid) return GrantState::Invalid;
    if (pending) return GrantState::Pending;
    if (not_before && now < *not_before) return GrantState::NotYetValid;
    if (not_after && now > *not_after) return GrantState::Expired;
    return GrantState::Active;
}

std::optional<std::string> Grant::matching_folder(const std::string& folder) const {
    for (const auto& pattern : folders)
        if (folder_matches(pattern, folder)) return pattern;
    return std::nullopt;
}

std::vector<std::string> grant_attributes(const SchemaConfig& s) {
    return {s.grant_name, s.grantee, s.folder, s.rights, s.send, s.not_before, s.not_after, s.pending, kCreateTimestamp};
}

namespace {

std::optional<std::time_t> read_time(const LdapEntry& entry, const std::string& attribute, Grant& grant) {
    const auto& values = entry.values(attribute);
    if (values.empty()) return std::nullopt;
    std::string error;
    auto t = parse_generalized_time(values.front(), &error);
    if (!t) {
        grant.window_invalid = true;
        grant.problems.push_back(attribute + ": " + error);
    }
    return t;
}

}  // namespace

Grant grant_from_entry(const LdapEntry& entry, const SchemaConfig& schema) {
    Grant grant;
    grant.dn = entry.dn;
    grant.owner_dn = parent_dn(entry.dn);
    grant.name = entry.first(schema.grant_name);
    grant.grantees = entry.values(schema.grantee);
    grant.folders = entry.values(schema.folder);
    if (grant.grantees.empty()) grant.problems.push_back(schema.grantee + ": no grantee");

    grant.rights_text = entry.first(schema.rights);
    if (!grant.rights_text.empty()) {
        std::string error;
        grant.rights = parse_rights(grant.rights_text, &error);
        if (!grant.rights) grant.problems.push_back(schema.rights + ": " + error);
    }
    if (!grant.folders.empty() && grant.rights_text.empty())
        grant.problems.push_back(schema.rights + ": folders are listed but no rights are given");

    for (const auto& value : entry.values(schema.send)) {
        const std::string v = ascii_lower(value);
        if (v == "sendas") grant.send_as = true;
        else if (v == "sendonbehalf") grant.send_on_behalf = true;
        else grant.problems.push_back(schema.send + ": unknown value '" + value.substr(0, 64) + "' (sendAs or sendOnBehalf)");
    }
    // Anything but FALSE keeps the invitation closed: a typo must never open it.
    if (const auto& values = entry.values(schema.pending); !values.empty()) {
        const std::string v = ascii_lower(values.front());
        if (v != "false") grant.pending = true;
        if (v != "true" && v != "false")
            grant.problems.push_back(schema.pending + ": '" + values.front().substr(0, 64) +
                                     "' is not TRUE or FALSE (read as pending)");
    }
    if (const auto& values = entry.values(kCreateTimestamp); !values.empty())
        grant.created = parse_generalized_time(values.front());
    grant.not_before = read_time(entry, schema.not_before, grant);
    grant.not_after = read_time(entry, schema.not_after, grant);
    if (grant.not_before && grant.not_after && *grant.not_after < *grant.not_before)
        grant.problems.push_back(schema.not_after + ": ends before " + schema.not_before);
    return grant;
}

std::vector<Grant> grants_from_entries(const std::vector<LdapEntry>& entries, const SchemaConfig& schema) {
    std::vector<Grant> grants;
    grants.reserve(entries.size());
    for (const auto& entry : entries) {
        std::string problem;
        try {
            Grant grant = grant_from_entry(entry, schema);
            // The owner is looked up by DN later (the shared namespace): a grant whose parent
            // is no DN would fail that lookup for every grant of the grantee, not just itself.
            if (grant.owner_dn.empty()) problem = "it has no parent entry (the mailbox it would open)";
            else if (grant.owner_dn.size() > kMaxDnLength) problem = "the DN of its parent entry is too long";
            else if (normalize_dn(grant.owner_dn).empty()) problem = "the DN of its parent entry does not parse";
            else grants.push_back(std::move(grant));
        } catch (const std::exception& e) {
            problem = e.what();
        }
        if (!problem.empty())
            warn(Warning{entry.dn, "grant entry " + (entry.dn.empty() ? std::string("(no DN)") : entry.dn) +
                                       " ignored: " + problem});
    }
    return grants;
}

}  // namespace mailgrant
