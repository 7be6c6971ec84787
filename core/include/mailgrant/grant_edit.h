// grant_edit.h -- what one grant entry becomes when a grantee gains or loses part of its
// access. The one answer to "what does the grant become": IMAP DELETEACL (acl_change.cpp)
// and `mailgrant grant` / `mailgrant revoke` all ask here, so a grant trimmed from a mail
// client and one trimmed by an admin end up the same.
//
// Pure: returns single-value changes (grant_writer.h's ValueChange, never "replace", for
// the reasons given there); the caller writes them (GrantWriter, the CLI's LdapWriter,
// or LDIF). Rules:
//   - a grant shared with other grantees is never trimmed for one of them: taking a
//     folder or send right out of it would take it from the others too (Refuse), and
//     revoking the grantee entirely takes only its mailGrantee value out;
//   - folder access and send rights are independent parts: removing one keeps the other;
//   - an entry left granting nothing is deleted;
//   - a grant is extended only where the result gives exactly what was there plus what
//     was asked: same validity window (a vacation cover's end date never spreads to
//     access that was meant to stay), and one set of rights per grant (folders join a
//     grant only when its rights are the requested ones, or when the request names
//     every folder the grant lists).
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "mailgrant/config.h"
#include "mailgrant/grant.h"
#include "mailgrant/grant_writer.h"
#include "mailgrant/rights.h"

namespace mailgrant {

struct GrantEdit {
    enum class Action { Keep, Modify, Delete, Refuse };
    Action action = Action::Keep;
    std::vector<ValueChange> changes;  // Modify only
    std::string what;                  // for people: "folder 'Sent' removed", or why (Refuse)
};

struct GrantPart {
    enum class Kind {
        Everything,  // all the grantee has through this grant
        Folder,      // exactly these folder values (string equality, not pattern match)
        Folders,     // every folder (and so the rights); send rights stay
        Send,        // sendAs and sendOnBehalf; folders stay
    };
    Kind kind = Kind::Everything;
    std::vector<std::string> folders;  // Kind::Folder
};

// `grantee_dns` (one or more) lose `part` of `g`. Keep when `g` names none of them or
// has no such part; Refuse when `g` serves other grantees too and the part is not
// Everything. Everything for all of a grant's grantees deletes it.
GrantEdit remove_part(const Grant& g, const std::vector<std::string>& grantee_dns, const GrantPart& part,
                      const SchemaConfig& schema);

// What a grantee is to get below one mailbox (`mailgrant grant`).
struct GrantRequest {
    std::string grantee_dn;
    std::vector<std::string> folders;
    std::string rights_text;  // as it would be stored ("reader", "lrsw"); "" with no folders
    bool send_as = false;
    bool send_on_behalf = false;
    std::optional<std::time_t> not_before;
    std::optional<std::time_t> not_after;
};

struct ExtensionPlan {
    const Grant* target = nullptr;  // the grant to extend; nullptr = create a new entry
    GrantEdit edit;                 // target's changes (Keep: it already gives all of it)
    std::string why_new;            // target == nullptr and the grantee has grants here: why none fits
};

// Which of `grants` (one mailbox's) takes `request`, and how. Only a grant naming the
// grantee alone, readable without problems, with the same validity window is extended;
// among several, the one whose rights already match wins, then the first by name.
ExtensionPlan plan_extension(const std::vector<Grant>& grants, const GrantRequest& request,
                             const SchemaConfig& schema);

}  // namespace mailgrant
