// invitation.h -- the one answer to "can this pending grant's invitation still be
// accepted?" (issue 13). A grant with schema.pending TRUE gives nothing anywhere
// (grant.h); this decides only how old the invitation is allowed to get before
// `mailgrant accept` refuses it, `check` reports it and `explain` / `list` say so.
// The age is the entry's createTimestamp, set by the server, so nobody can make an
// invitation look younger by editing it. Pure: the time is the caller's (a Clock).
#pragma once

#include <ctime>
#include <optional>
#include <string>

#include "mailgrant/config.h"
#include "mailgrant/grant.h"

namespace mailgrant {

enum class InvitationState {
    NotPending,  // an accepted (or ordinary) grant: no invitation
    Open,        // pending, may be accepted (or declined)
    Expired,     // pending, older than invitations.expire_after: may only be declined
    AgeUnknown,  // pending, expiry configured, but createTimestamp was not readable:
                 // treated as expired (an invitation of unknown age is never accepted)
};

struct Invitation {
    InvitationState state = InvitationState::NotPending;
    std::optional<std::time_t> sent;     // createTimestamp
    std::optional<std::time_t> expires;  // the first second in which it is expired; empty = never

    bool acceptable() const { return state == InvitationState::Open; }
    // "pending (invitation sent 2026-11-29 10:00:00Z, expires 2026-12-13 10:00:00Z)",
    // "pending, but the invitation expired on 2026-12-13 10:00:00Z (sent ...)", ...; "" when
    // not pending. Always starts with "pending": it gives nothing, whatever its age.
    std::string describe() const;
};

Invitation invitation_of(const Grant& grant, std::time_t now, const InvitationsConfig& config);

}  // namespace mailgrant
