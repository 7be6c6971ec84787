// acl_change.h -- the decisions behind SelfService (self_service.h), with the writes
// going to an injected GrantWriter (grant_writer.h), so every case can be tested
// against an in-memory directory and a recording writer. SelfService is this with the
// real LDAP writer; nothing else should need it.
#pragma once

#include "mailgrant/clock.h"
#include "mailgrant/config.h"
#include "mailgrant/directory.h"
#include "mailgrant/grant_writer.h"
#include "mailgrant/self_service.h"

namespace mailgrant {

class AclChanger {
public:
    // `grant_reader` (optional) answers grants_of instead of `directory`: the grants a
    // change is computed from must be LDAP's current ones, not a cache's (a DELETEACL
    // right after a SETACL would otherwise find nothing to remove and say "done").
    AclChanger(const Config& config, Directory& directory, const Clock& clock, GrantWriter& writer,
               Directory* grant_reader = nullptr)
        : config_(config), directory_(directory), clock_(clock), writer_(writer),
          grant_reader_(grant_reader ? *grant_reader : directory) {}

    // As SelfService::apply: never throws.
    AclChangeResult apply(const AclChangeRequest& request) noexcept;

    // Longest folder name accepted (Dovecot's own limit on a mailbox name is lower).
    static constexpr std::size_t kMaxFolderLength = 1024;

private:
    struct Grantee;  // the resolved identifier
    AclChangeResult apply_checked(const AclChangeRequest& request);
    Grantee resolve_grantee(const AclChangeRequest& request, const Account& mailbox);
    AclChangeResult set_acl(const AclChangeRequest& request, const Account& mailbox, const Grantee& grantee);
    AclChangeResult delete_acl(const AclChangeRequest& request, const Account& mailbox, const Grantee& grantee,
                               const std::string& why);
    std::string create_grant(const Account& mailbox, const Grantee& grantee, const std::vector<Grant>& existing,
                             const std::string& folder, const std::string& rights_value, const std::string& actor);

    const Config& config_;
    Directory& directory_;
    const Clock& clock_;
    GrantWriter& writer_;
    Directory& grant_reader_;
};

}  // namespace mailgrant
