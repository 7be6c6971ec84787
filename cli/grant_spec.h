// grant_spec.h -- a new grant as the `grant` verb understands it, checked before any LDAP
// write: rights through mailgrant::parse_rights (the same parser every component uses),
// time arguments, the validity window, and "does it grant anything at all". Turns into an
// LDAP add (Change) for LdapWriter or --ldif. Pure code: unit-tested.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "ldif.h"
#include "mailgrant/config.h"
#include "mailgrant/grant_edit.h"

namespace mailgrant::cli {

struct GrantSpec {
    std::string mailbox_dn;
    std::vector<std::string> grantee_dns;  // one, or several for one new --name'd grant
    std::string name;
    std::vector<std::string> folders;
    std::string rights_text;  // as stored: a role name or canonical letters; "" = none
    bool send_as = false;
    bool send_on_behalf = false;
    std::optional<std::time_t> not_before;
    std::optional<std::time_t> not_after;
    std::string description;
};

// --from / --until: GeneralizedTime (20240801000000Z), YYYY-MM-DD, or
// YYYY-MM-DDTHH:MM[:SS][Z] (UTC). A bare date means the start of that day for --from and
// the end of it (23:59:59) for --until. Throws Refusal-style std::invalid_argument.
std::time_t parse_time_argument(const std::string& text, bool end_of_day);

// "2024-08-01 00:00:00Z" / "2024-08-01T00:00:00Z"
std::string format_time_human(std::time_t t);
std::string format_time_iso(std::time_t t);

// Checks a spec (rights, window against `now`, something granted). Returns the reasons it
// could never work; empty = fine.
std::vector<std::string> validate_grant(const GrantSpec& spec, std::time_t now);

// --role / --rights -> the text stored in mailGrantRights, or throws std::invalid_argument
// with parse_rights' message.
std::string rights_argument(const std::optional<std::string>& role, const std::optional<std::string>& letters);

Change grant_add_change(const GrantSpec& spec, const SchemaConfig& schema);

// The core's answer to "what does the grant become" (grant_edit.h) as a Change for
// LdapWriter or --ldif: Modify with single-value adds/deletes, or Delete.
// Precondition: edit.action is Modify or Delete.
Change edit_change(const std::string& grant_dn, const GrantEdit& edit);

}  // namespace mailgrant::cli
