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
//   a recipient in team_mailbox.sent_copy_domain, from any    -> REJECT 5.7.1 (before anything else: only
//   client, authenticated or not                                the milter may add one, sent_copy.h)
//   LDAP trouble, timeout, any other exception               -> DEFER_IF_PERMIT / DEFER 4.x.x
// It never throws: every other failure becomes the temporary answer.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "mailgrant/bad_input.h"
#include "mailgrant/cache.h"
#include "mailgrant/clock.h"
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

// Answers are remembered (cache.max_entries of them) for as long as every directory
// answer they were built from is (caching_directory.h's FreshnessScope), and never past
// the next validity-window edge of a grant they considered, so a change is obeyed as
// soon as without them. Deferrals are never remembered.
class PolicyService {
public:
    // `following`: the directory's (caching_directory.h), so an answer lives as its sources do.
    PolicyService(const PolicyConfig& config, Decider& decider, const CacheConfig& cache = {},
                  const Clock& clock = SystemClock::instance(), std::shared_ptr<const FollowFlag> following = nullptr);

    // Decides, asking the directory as needed (may wait on LDAP: a worker's job), and
    // remembers the answer.
    Answer decide(const PolicyRequest& request) noexcept;
    // The I/O thread's fast path, which never waits: a remembered answer, or one that
    // needs no directory (bad input, unauthenticated). nullopt = hand the request to
    // decide() on a worker; nothing has been decided yet, so nothing is decided twice.
    std::optional<Answer> decide_from_cache(const PolicyRequest& request) noexcept;
    Answer defer(const std::string& reason) const;
    // Drops every remembered answer (a change in LDAP was seen, change_feed.h); returns
    // how many. A decision under way meanwhile is not remembered.
    std::size_t forget_answers();
    // The reserved domain of sent copies (team_mailbox.sent_copy_domain; "" = none): a
    // RCPT TO in it is refused. Set once, before the first request.
    void refuse_recipients_in(const std::string& domain) { reserved_domain_ = domain; }

private:
    std::optional<Answer> answer_without_directory(const PolicyRequest& request) const;
    Answer decide_or_throw(const PolicyRequest& request);
    Answer reject(const std::string& sender, const std::string& login, const std::string& reason) const;
    static Answer invalid_request(const BadInput& e);
    Answer unauthenticated(const std::string& sender) const;

    PolicyConfig config_;
    Decider& decider_;
    const Clock& clock_;
    const std::chrono::seconds ttl_, follow_ttl_;
    TtlCache<std::string, Answer> answers_;  // login '\0' sender -> answer
    std::string reserved_domain_;
};

// True when the address's domain is one of policy.local_domains, compared exactly and
// without case (example.com never matches badexample.com). Shared by the envelope
// check and the header check for unauthenticated senders (unauthenticated: reject_local).
bool in_local_domains(const PolicyConfig& config, const std::string& address);

// "instance=<queue id or client> login=<...> sender=<...> decision=<...> reason=<...>"
std::string log_line(const PolicyConfig& config, const PolicyRequest& request, const Answer& answer);

}  // namespace mailgrant::policy
