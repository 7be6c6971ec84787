// self_service.h -- sharing changed by the mailbox's own people from a mail client
// (IMAP SETACL / DELETEACL, RFC 4314), written through to LDAP grants so that LDAP stays
// the only truth (DESIGN.md, "Self-service from mail clients").
//
// The caller (the Dovecot plugin) has already let Dovecot's ACL check pass: the actor
// holds the `a` right on the folder. This module decides WHAT changes in LDAP and writes
// it with the service account (ldap.bind_dn):
//   set_acl     a mailGrant entry directly below the mailbox's entry gets (or loses) the
//               folder for the grantee; rights "lrs" replace, "+w" adds, "-w" removes
//               letters; stored as a role name when the letters equal a role
//   delete_acl  exactly that grantee's access to exactly that folder goes: a multi-folder
//               grant is trimmed, a grant that also carries send rights keeps them, an
//               entry left with nothing is deleted
// Identifiers: an address, alias or login names a person; "$name" a group (groups.name
// attribute, cn by default). "anyone"/"authenticated" name the group the configuration
// maps them to (self_service.anyone_group / authenticated_group) and are refused when
// none is. SETACL giving a letter outside self_service.allowed_rights is refused. Send
// rights are never granted or removed here.
#pragma once

#include <string>

#include "mailgrant/clock.h"
#include "mailgrant/config.h"
#include "mailgrant/directory.h"
#include "mailgrant/grant_writer.h"

namespace mailgrant {

struct AclChangeRequest {
    std::string actor;       // the login who sent SETACL/DELETEACL (logged, recorded on the entry)
    std::string mailbox;     // the mailbox's address (its owner), as the plugin knows it
    std::string folder;      // the folder's name as the owner sees it ("INBOX", "Projects/2025")
    std::string identifier;  // RFC 4314 identifier: address/alias/login, or "$group"
    std::string rights;      // SETACL only: "lrs", "+w" or "-w" (RFC 4314 modifiers)
    bool remove = false;     // true: DELETEACL
};

enum class AclChangeStatus {
    Done,       // LDAP changed (or nothing needed changing)
    Refused,    // permanent: message says why (unknown person, anyone, bad letters, ...)
    Temporary,  // LDAP trouble: message says what; nothing was changed or the change is whole
};

struct AclChangeResult {
    AclChangeStatus status = AclChangeStatus::Temporary;
    std::string message;  // for the IMAP client (Refused/Temporary) and the log (always)
    std::string entry_dn; // the grant entry created, changed or deleted ("" if none)
    // Temporary only because the grants changed between reading and writing (another
    // edit won the race): LDAP itself works, so a caller's breaker must stay closed;
    // trying the command again is enough.
    bool concurrent_edit = false;
};

class SelfService {
public:
    // `directory` answers lookups (people, groups, grants); writes go through a session
    // opened from `config.ldap` with the service account. Never throws.
    // `writer` (optional) replaces the per-request LdapGrantWriter (tests of a caller).
    SelfService(const Config& config, Directory& directory, const Clock& clock, GrantWriter* writer = nullptr);
    AclChangeResult apply(const AclChangeRequest& request) noexcept;

private:
    const Config& config_;
    Directory& directory_;
    const Clock& clock_;
    GrantWriter* writer_;
};

}  // namespace mailgrant
