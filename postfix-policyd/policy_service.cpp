// policy_service.cpp -- see policy_service.h.
#include "policy_service.h"

#include "mailgrant/caching_directory.h"
#include "mailgrant/dn.h"
#include "mailgrant/input.h"
#include "mailgrant/sent_copy.h"

namespace mailgrant::policy {
namespace {

constexpr std::size_t kMaxEchoedBytes = 100;  // of sender/login inside a reply text

void replace_all(std::string& text, const std::string& what, const std::string& with) {
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + with.size()))
        text.replace(pos, what.size(), with);
}

}  // namespace

bool in_local_domains(const PolicyConfig& config, const std::string& address) {
    const auto at = address.rfind('@');
    if (at == std::string::npos) return false;
    const std::string domain = ascii_lower(address.substr(at + 1));
    for (const auto& local : config.local_domains)
        if (ascii_lower(local) == domain) return true;
    return false;
}

const char* to_string(Verdict verdict) {
    switch (verdict) {
        case Verdict::Allow: return "allow";
        case Verdict::Reject: return "reject";
        case Verdict::Defer: return "defer";
    }
    return "defer";
}

Answer PolicyService::defer(const std::string& reason) const {
    const char* action = config_.defer_action == DeferAction::Defer ? "DEFER " : "DEFER_IF_PERMIT ";
    return Answer{Verdict::Defer, action + config_.defer_text, reason};
}

Answer PolicyService::reject(const std::string& sender, const std::string& login, const std::string& reason) const {
    std::string text = config_.reject_text;
    replace_all(text, "{sender}", printable(sender, kMaxEchoedBytes));
    replace_all(text, "{login}", printable(login, kMaxEchoedBytes));
    return Answer{Verdict::Reject, "REJECT " + text, reason};
}

// The reason is built by input.h from at most an excerpt of the input, control
// characters replaced: safe to put into the one-line reply.
Answer PolicyService::invalid_request(const BadInput& e) {
    return Answer{Verdict::Reject, std::string("REJECT 5.7.1 Invalid request: ") + e.what(),
                  std::string("invalid request: ") + e.what()};
}

Answer PolicyService::unauthenticated(const std::string& sender) const {
    if (config_.unauthenticated == UnauthenticatedMode::RejectLocal && in_local_domains(config_, sender))
        return Answer{Verdict::Reject,
                      "REJECT 5.7.1 Authentication required to send as <" + printable(sender, kMaxEchoedBytes) + ">",
                      "unauthenticated client uses a local domain: " + printable(sender, kMaxEchoedBytes)};
    return Answer{Verdict::Allow, "DUNNO", "not authenticated: left to the site's other restrictions"};
}

PolicyService::PolicyService(const PolicyConfig& config, Decider& decider, const CacheConfig& cache,
                             const Clock& clock, std::shared_ptr<const FollowFlag> following)
    : config_(config), decider_(decider), clock_(clock), ttl_(cache.ttl_s), follow_ttl_(cache.follow_ttl_s),
      answers_(cache.max_entries, clock, 0, std::move(following)) {}

// Checked before the Decider: a login or sender that can never be found is the client's
// mistake (5.7.1, thrown as BadInput), and must cost no LDAP call nor count as LDAP
// trouble. The sender is an address from the client: never read as a DN.
std::optional<Answer> PolicyService::answer_without_directory(const PolicyRequest& request) const {
    const std::string& login = request.get("sasl_username");
    const std::string& sender = request.get("sender");
    // A Sent folder is written only through the milter's own recipient: whoever names
    // the reserved domain (any client, any login) is refused, whatever else holds.
    const std::string& recipient = request.get("recipient");
    if (is_sent_copy_recipient(recipient, reserved_domain_))
        return Answer{Verdict::Reject,
                      "REJECT 5.7.1 <" + printable(recipient, kMaxEchoedBytes) + ">: reserved for mailgrant's sent copies",
                      "recipient <" + printable(recipient, 200) + "> is in the reserved sent-copy domain " +
                          reserved_domain_};
    if (login.empty()) return unauthenticated(sender);
    check_login(login, "login");
    if (!sender.empty()) check_address(sender, "sender address");
    return std::nullopt;
}

Answer PolicyService::decide_or_throw(const PolicyRequest& request) {
    if (auto answer = answer_without_directory(request)) return *answer;
    const std::string& login = request.get("sasl_username");
    const std::string& sender = request.get("sender");
    FreshnessScope freshness(Expiry::after(clock_.steady_now(), ttl_, follow_ttl_));
    const auto generation = answers_.generation();  // forget_answers() meanwhile: not remembered
    const SenderDecision d = decider_.sender(login, sender);
    const Answer answer = d.allowed() ? Answer{Verdict::Allow, "DUNNO", d.reason} : reject(sender, login, d.reason);
    auto expires = freshness.expires();
    if (d.changes_at) expires.limit(clock_.steady_at(*d.changes_at));
    answers_.put_until(login + '\0' + sender, answer, expires, generation);
    return answer;
}

std::size_t PolicyService::forget_answers() { return answers_.clear(); }

std::optional<Answer> PolicyService::decide_from_cache(const PolicyRequest& request) noexcept {
    try {
        if (auto answer = answer_without_directory(request)) return answer;
        return answers_.get(request.get("sasl_username") + '\0' + request.get("sender"));
    } catch (const BadInput& e) {
        return invalid_request(e);  // decided without the directory: no need for a worker
    } catch (...) {
        return std::nullopt;  // let decide() produce (and explain) the answer
    }
}

Answer PolicyService::decide(const PolicyRequest& request) noexcept {
    try {
        return decide_or_throw(request);
    } catch (const BadInput& e) {
        return invalid_request(e);
    } catch (const LdapError& e) {
        return defer(std::string("LDAP ") + to_string(e.kind()) + ": " + e.what());
    } catch (const std::exception& e) {
        return defer(std::string("internal error: ") + e.what());
    } catch (...) {
        return defer("internal error");
    }
}

std::string log_line(const PolicyConfig& config, const PolicyRequest& request, const Answer& answer) {
    const std::string& queue = request.get("queue_id");
    const std::string& instance = request.get("instance");
    // Appended in place: this runs for every request on the I/O thread.
    std::string line;
    line.reserve(256 + answer.reason.size());
    line.append(config.instance_name)
        .append(": instance=")
        .append(printable(instance.empty() ? "-" : instance, 64))
        .append(" queue_id=")
        .append(printable(queue.empty() ? "-" : queue, 32))
        .append(" client=")
        .append(printable(request.get("client_address"), 64))
        .append(" login=")
        .append(printable(request.get("sasl_username"), 100))
        .append(" sender=<")
        .append(printable(request.get("sender"), 200))
        .append("> decision=")
        .append(to_string(answer.verdict))
        .append(" action=\"")
        .append(printable(answer.action, 200))
        .append("\" reason=\"")
        .append(printable(answer.reason, 400))
        .append("\"");
    return line;
}

}  // namespace mailgrant::policy
