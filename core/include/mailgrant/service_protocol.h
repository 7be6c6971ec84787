// service_protocol.h -- the line protocol of the per-host decision service (DESIGN.md
// "One cache per host"): the Dovecot plugin and checkpassword (service_client.h) ask
// mailgrant-policyd (postfix-policyd/decision_service.h), which answers from its one
// cache and LDAP pool with the same code a mail process would run itself (answers.h).
//
// One question per connection, on a unix socket:
//   question:  VERB TAB FIELD ... LF           (at most kMaxRequestBytes, kMaxFields fields)
//   answer:    ("item" TAB FIELD ... LF)*       (at most kMaxReplyItems)
//              ("ok" (TAB FIELD)* | "bad" TAB MESSAGE | "temp" TAB MESSAGE | "fail" TAB MESSAGE) LF
// Fields are bytes with '%', DEL and every control character written %XX (hex), so a
// field never holds TAB or LF. "bad" = the question can never be answered (bad input:
// permanent for that call); "temp" = LDAP trouble (the caller fails safe, and stops asking
// for a moment, as with LDAP down); "fail" = an internal error on this one question (the
// caller fails safe for that call only: one client's odd name never switches off shares).
// Everything read from the peer is checked against these limits; a violation is a
// ProtocolError, never a crash or an unbounded read.
#pragma once

#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace mailgrant {

namespace service_limits {
inline constexpr std::size_t kMaxRequestBytes = 8192;     // one question line, LF included
inline constexpr std::size_t kMaxFields = 8;              // fields after the verb
inline constexpr std::size_t kMaxReplyLineBytes = 16384;  // one answer line
inline constexpr std::size_t kMaxReplyItems = 200000;     // item lines in one answer
inline constexpr std::size_t kMaxReplyBytes = 16 * 1024 * 1024;
}  // namespace service_limits

class ProtocolError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The questions: one per mailgrant-core.h entry point that reads grants.
// Changed: this process changed grants in LDAP (SETACL): the service empties its caches,
// so the change is seen at once instead of when the change feed reports it.
// Namespace: the login's whole shared namespace in one answer (shared_namespace.h).
enum class ServiceVerb { Rights, Owners, Grantees, MayOpen, RootRights, TeamFolders, Login, Changed, Namespace };
const char* to_string(ServiceVerb verb);

struct ServiceRequest {
    ServiceVerb verb = ServiceVerb::Rights;
    std::vector<std::string> fields;  // exactly the verb's arity (field_count)
};

struct ServiceReply {
    enum class Status { Ok, BadInput, Temporary, Failed };
    Status status = Status::Temporary;
    std::vector<std::vector<std::string>> items;
    std::vector<std::string> values;  // the ok line's fields
    std::string message;              // bad / temp / fail: why
};

// How many fields a verb takes (rights: login mailbox folder; owners: login; ...).
std::size_t field_count(ServiceVerb verb);

std::string escape_field(const std::string& value);
std::string unescape_field(const std::string& text);  // ProtocolError on a bad %XX

// Question <-> line (the LF included in the output, excluded from the input).
std::string format_request(const ServiceRequest& request);
ServiceRequest parse_request(const std::string& line);

// Answer <-> text. format_reply writes every line; ReplyReader takes lines one at a time.
std::string format_reply(const ServiceReply& reply);

class ReplyReader {
public:
    // Feeds one line (without LF). Returns true when it was the final line.
    bool add_line(const std::string& line);
    ServiceReply take() { return std::move(reply_); }

private:
    ServiceReply reply_;
    std::size_t bytes_ = 0;
};

// Both ends bound every socket step by one deadline: waits until `fd` is ready for
// `events` (poll's POLLIN/POLLOUT) or `deadline` passes. 1 = ready, 0 = the deadline
// passed, -1 = poll failed (errno says why). EINTR is retried.
int wait_ready(int fd, short events, std::chrono::steady_clock::time_point deadline);

}  // namespace mailgrant
