// invitation.cpp -- see invitation.h.
#include "mailgrant/invitation.h"

#include "mailgrant/gentime.h"

namespace mailgrant {

namespace {

std::string when(std::time_t t) { return format_utc(t, "%Y-%m-%d %H:%M:%SZ"); }

}  // namespace

Invitation invitation_of(const Grant& grant, std::time_t now, const InvitationsConfig& config) {
    Invitation inv;
    if (!grant.pending) return inv;
    inv.sent = grant.created;
    if (config.expire_after_s <= 0) {
        inv.state = InvitationState::Open;
        return inv;
    }
    if (!grant.created) {
        inv.state = InvitationState::AgeUnknown;
        return inv;
    }
    inv.expires = *grant.created + static_cast<std::time_t>(config.expire_after_s);
    inv.state = now >= *inv.expires ? InvitationState::Expired : InvitationState::Open;
    return inv;
}

std::string Invitation::describe() const {
    const std::string sent_text = sent ? "sent " + when(*sent) : std::string();
    switch (state) {
        case InvitationState::NotPending: return "";
        case InvitationState::Open:
            return "pending (invitation " + (sent_text.empty() ? std::string() : sent_text + ", ") +
                   (expires ? "expires " + when(*expires) : std::string("never expires")) + ")";
        case InvitationState::Expired: return "pending, but the invitation expired on " + when(*expires) + " (" + sent_text + ")";
        case InvitationState::AgeUnknown:
            return "pending, but the invitation's age is unknown (its createTimestamp is not readable): "
                   "treated as expired";
    }
    return "";
}

}  // namespace mailgrant
