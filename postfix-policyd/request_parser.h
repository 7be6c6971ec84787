// request_parser.h -- Postfix SMTP access policy delegation requests (SMTPD_POLICY_README).
//
// A request is "name=value" lines ending in an empty line; many requests may follow on
// one connection. Input is untrusted and parsed with explicit limits: a line longer than
// kMaxLineBytes, more than kMaxAttributes attributes or kMaxRequestBytes in one request,
// a line without '=', a bad attribute name, a NUL byte or a repeated attribute is a
// protocol error: the caller logs it and closes the connection (Postfix then applies its
// own default action), and keeps serving every other connection.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace mailgrant::policy {

struct PolicyRequest {
    std::map<std::string, std::string> attributes;
    // The value, or "" when missing (Postfix sends empty values for unknown facts).
    const std::string& get(const std::string& name) const;
};

class RequestParser {
public:
    static constexpr std::size_t kMaxLineBytes = 4096;
    static constexpr std::size_t kMaxAttributes = 128;
    static constexpr std::size_t kMaxRequestBytes = 64 * 1024;
    static constexpr std::size_t kMaxNameBytes = 64;

    enum class Status { NeedMore, Complete, Error };

    // Consumes complete lines from the front of `buffer`. Complete: take() the request
    // (the rest of the buffer is left for the next one). Error: error() says why; the
    // parser must not be used again.
    Status parse(std::string& buffer);
    PolicyRequest take();
    const std::string& error() const { return error_; }

private:
    Status fail(std::string why);

    PolicyRequest current_;
    std::size_t request_bytes_ = 0;
    std::string error_;
    bool failed_ = false;
};

// Makes a value safe to log: at most `max` bytes, control and non-ASCII bytes as \xNN.
std::string printable(std::string_view value, std::size_t max = 200);

}  // namespace mailgrant::policy
