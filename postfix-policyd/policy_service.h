// policy_service.h -- one policy request in, one Postfix action out.
//
// The decision itself comes from the core's Decider (shared with the Dovecot plugin and
// the CLI); this module maps it onto Postfix actions:
//   allowed (own address, sendAs, sendOnBehalf, null sender)  -> DUNNO (never OK, so the
//                                                                site's later restrictions still apply)
//   denied                                                   -> REJECT 5.7.1 <text>
//   bad input (an empty, over-long or control-character       -> REJECT 5.7.1 Invalid request: <why>
//   login or sender, a sender shaped like a DN: BadInput)        (permanent: retrying cannot help; checked
//                                                                before any lookup, so no LDAP call is made
//                                                                or counted as an LDAP error)
//   LDAP trouble, timeout, any other exception               -> DEFER_IF_PERMIT / DEFER 4.x.x
// It never throws: every other failure becomes the temporary answer.
#pragma once

#include <optional>
#include <string>

#include "mailgrant/bad_input.h"
#include "mailgrant/config.h"
#include "mailgrant/decision.h"
#include "request_parser.h"

namespace mailgrant::policy {

enum class Verdict { Allow, Reject, Defer };
const char* to_string(Verdict verdict);

struct Answer {
    Verdict verdict = Verdict::Defer;
    std::string action;  // the text after "action=" (one line)
    std::string reason;  // for the log line
};

class PolicyService {
public:
    PolicyService(const PolicyConfig& config, Decider& decider) : config_(config), decider_(decider) {}

    Answer decide(const PolicyRequest& request) noexcept;
    // The same decision made from cached directory answers only; nullopt when something
    // is not cached (then call decide() on a thread that may wait for LDAP).
    std::optional<Answer> decide_from_cache(const PolicyRequest& request) noexcept;
    Answer defer(const std::string& reason) const;

private:
    Answer decide_or_throw(const PolicyRequest& request);
    Answer reject(const std::string& sender, const std::string& login, const std::string& reason) const;
    static Answer invalid_request(const BadInput& e);
    Answer unauthenticated(const std::string& sender) const;

    PolicyConfig config_;
    Decider& decider_;
};

// True when the address's domain is one of policy.local_domains, compared exactly and
// without case (example.com never matches badexample.com). Shared by the envelope
// check and the header check for unauthenticated senders (unauthenticated: reject_local).
bool in_local_domains(const PolicyConfig& config, const std::string& address);

// "instance=<queue id or client> login=<...> sender=<...> decision=<...> reason=<...>"
std::string log_line(const PolicyConfig& config, const PolicyRequest& request, const Answer& answer);

}  // namespace mailgrant::policy
