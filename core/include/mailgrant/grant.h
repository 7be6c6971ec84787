// grant.h -- one mailGrant entry, parsed and judged.
//
// Parsing never throws: a value that does not parse is recorded in `problems` and the
// grant then gives less (bad rights -> no folder access; bad validity time -> nothing at
// all), because a typo in LDAP must never widen access. `mailgrant check` shows problems.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "mailgrant/config.h"
#include "mailgrant/ldap_client.h"
#include "mailgrant/rights.h"

namespace mailgrant {

enum class GrantState { Active, NotYetValid, Expired, Invalid };
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
    std::vector<std::string> problems;

    GrantState state_at(std::time_t now) const;
    // The first folder pattern covering `folder`, or nullopt.
    std::optional<std::string> matching_folder(const std::string& folder) const;
};

// Attributes to request when searching for grants.
std::vector<std::string> grant_attributes(const SchemaConfig& schema);

Grant grant_from_entry(const LdapEntry& entry, const SchemaConfig& schema);

}  // namespace mailgrant
