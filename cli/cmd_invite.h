// cmd_invite.h -- invitations from the admin CLI (issue 13): `mailgrant accept` and
// `mailgrant decline OWNER GRANTEE [--grant CN]`, and how a pending grant is shown.
// The plan (which pending grants, what each becomes) is pure and unit-tested; whether an
// invitation may still be accepted is the core's answer (mailgrant/invitation.h).
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "args.h"
#include "ldif.h"
#include "mailgrant/config.h"
#include "mailgrant/grant.h"

namespace mailgrant::cli {

enum class Answer { Accept, Decline };

struct AnswerRequest {
    std::string mailbox;                    // OWNER: address, alias, login or DN
    std::string grantee;                    // GRANTEE: address, login, group name or DN
    std::optional<std::string> grant_name;  // --grant CN
    ParsedArgs args;                        // the write options too (write_credentials)
};

// accept|decline OWNER GRANTEE [--grant CN] [write options]. Throws UsageError.
AnswerRequest parse_answer(Answer answer, const std::vector<std::string>& args);

struct AnswerStep {
    std::string grant_name;
    Change change;        // accept: Modify (schema.pending removed); decline: Delete, or Modify
                          // (only this grantee taken out of an invitation naming others too)
    std::string summary;  // "accepted invitation 'dave' (cn=dave,...)"
};

// Which of one mailbox's `grants` the answer applies to and how: the pending grants naming
// `grantee_dn` (only the one named `grant_name` when given). Never an active grant.
// Throws Refusal, writing nothing, when none matches, when accepting one that has
// expired (or whose age is unknown), or when accepting, without --grant, an invitation
// that names other grantees too (it would be accepted for them as well).
std::vector<AnswerStep> plan_answer(Answer answer, const std::vector<Grant>& grants, const std::string& grantee_dn,
                                    const std::optional<std::string>& grant_name, const std::string& mailbox_label,
                                    const std::string& grantee_label, std::time_t now, const Config& config);

// The STATE of a grant in tables: to_string(state), or for a pending one the invitation's
// own words ("pending (invitation sent ..., expires ...)", "invitation expired on ...").
std::string grant_state_label(const Grant& grant, std::time_t now, const InvitationsConfig& config);

}  // namespace mailgrant::cli
