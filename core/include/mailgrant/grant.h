// grant.h -- one mailGrant entry, parsed and judged.
//
// Parsing never throws: a value that does not parse is recorded in `problems` and the
// grant then gives less (bad rights -> no folder access; bad validity time -> nothing at
// all), because a typo in LDAP must never widen access. `mailgrant check` shows problems.
// A broken grant only ever affects itself: see grants_from_entries().
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "mailgrant/config.h"
#include "mailgrant/ldap_client.h"
#include "mailgrant/rights.h"

namespace mailgrant {

// Pending: an invitation (schema.pending TRUE) the grantee has not accepted; like the
// states outside the window, it gives nothing in any component.
enum class GrantState { Active, NotYetValid, Expired, Invalid, Pending };
const char* to_string(GrantState state);

struct Grant {
    std::string dn;
    std::string owner_dn;  // the parent entry: the mailbox this grant opens
    std::string name;      // cn
    std::vector<std::string> grantees;
    std::vector<std::string> folders;
    std::string rights_text;
    std::optional<Rights> rights;  // nullopt when absent or unparsable
    bool send_as = false;
    bool send_on_behalf = false;
    std::optional<std::time_t> not_before;
    std::optional<std::time_t> not_after;
    bool window_invalid = false;  // a validity value did not parse: the grant does not exist
    bool pending = false;         // invited, not accepted (an unreadable value counts as pending)
    // The entry's createTimestamp (operational, set by the server): when an invitation was
    // made (invitation.h). Empty when not readable; never a problem of the grant itself.
    std::optional<std::time_t> created;
    std::vector<std::string> problems;

    GrantState state_at(std::time_t now) const;
    // The first folder pattern covering `folder`, or nullopt.
    std::optional<std::string> matching_folder(const std::string& folder) const;
};

// Attributes to request when searching for grants (createTimestamp included).
std::vector<std::string> grant_attributes(const SchemaConfig& schema);

Grant grant_from_entry(const LdapEntry& entry, const SchemaConfig& schema);

// The grants of a search result, one per entry -- except an entry that cannot be a grant
// at all (its owner, the parent DN, is not a usable DN; or reading it failed): that one
// is left out and named in one warning (warnings.h), and every other grant is returned.
// Every reader of grant entries goes through here, so the plugin, the policy daemon and
// `mailgrant check` leave out (and name) the same entries.
std::vector<Grant> grants_from_entries(const std::vector<LdapEntry>& entries, const SchemaConfig& schema);

}  // namespace mailgrant
