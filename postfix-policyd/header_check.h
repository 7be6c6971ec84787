// header_check.h -- the header From:/Sender: decision for one message, independent of
// libmilter (milter.h is only the protocol glue around it).
//
// Rules (issue 7), for an authenticated user:
//   every From: mailbox must be the user's own address or one granting the user sendAs
//   or sendOnBehalf -- asked of the same Decider as the envelope check, so the two agree;
//   when one is sendOnBehalf (or From: names several mailboxes, where RFC 5322 requires
//   Sender:), Sender: must be the user's own address: added when missing, refused when it
//   names anyone else. A Sender: present otherwise must be one the user may send as.
//   One From: and at most one Sender: header; anything the parser refuses is refused.
// Unauthenticated messages are judged only with policy.unauthenticated = reject_local:
// a From: in policy.local_domains is refused, as the policy check does for the envelope.
// LdapError and any other exception propagate: the caller turns them into a tempfail.
#pragma once

#include <string>
#include <vector>

#include "mailgrant/config.h"
#include "mailgrant/decision.h"
#include "mailgrant/directory.h"

namespace mailgrant::policy {

// The From:/Sender: headers of one message as the MTA passed them (values only).
struct MessageHeaders {
    std::vector<std::string> from;
    std::vector<std::string> sender;
};

struct HeaderVerdict {
    enum class Kind { Accept, Reject };
    Kind kind = Kind::Reject;
    std::string reason;      // one line: the REJECT text (without the status codes), or why accepted
    std::string add_sender;  // non-empty: add "Sender: <this>" before accepting
    // Accepted (authenticated): the decision for each From: address, in order -- what the
    // sent-copy decision (core's sent_copy.h) is asked with.
    std::vector<SenderDecision> authors;
};

// Authenticated session: `login` is the SASL login ({auth_authen}).
HeaderVerdict judge_authenticated(Decider& decider, Directory& directory, const std::string& login,
                                  const MessageHeaders& headers);

// Unauthenticated session, under policy.unauthenticated / policy.local_domains.
HeaderVerdict judge_unauthenticated(const PolicyConfig& config, const MessageHeaders& headers);

// Printable ASCII only, at most `max` bytes, '%' doubled (smfi_setreply treats it as a
// format character) -- safe inside an SMTP reply line.
std::string reply_text(const std::string& text, std::size_t max = 400);

}  // namespace mailgrant::policy
