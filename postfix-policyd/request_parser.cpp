// request_parser.cpp -- see request_parser.h.
#include "request_parser.h"

#include "mailgrant/input.h"

#include <cctype>

namespace mailgrant::policy {

const std::string& PolicyRequest::get(const std::string& name) const {
    static const std::string empty;
    const auto it = attributes.find(name);
    return it == attributes.end() ? empty : it->second;
}

RequestParser::Status RequestParser::fail(std::string why) {
    failed_ = true;
    error_ = std::move(why);
    return Status::Error;
}

RequestParser::Status RequestParser::parse(std::string& buffer) {
    if (failed_) return Status::Error;
    std::size_t pos = 0;
    Status status = Status::NeedMore;
    while (status == Status::NeedMore) {
        const auto eol = buffer.find('\n', pos);
        if (eol == std::string::npos) {
            if (buffer.size() - pos > kMaxLineBytes) {
                buffer.erase(0, pos);
                return fail("line longer than " + std::to_string(kMaxLineBytes) + " bytes: " +
                            printable(std::string_view(buffer).substr(0, 64)));
            }
            break;
        }
        std::string_view line(buffer.data() + pos, eol - pos);
        const std::size_t line_bytes = eol - pos + 1;
        pos = eol + 1;
        if (line_bytes > kMaxLineBytes)
            return fail("line longer than " + std::to_string(kMaxLineBytes) + " bytes: " + printable(line.substr(0, 64)));
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // tolerate CRLF (telnet tests)
        request_bytes_ += line_bytes;
        if (request_bytes_ > kMaxRequestBytes)
            return fail("request larger than " + std::to_string(kMaxRequestBytes) + " bytes");
        if (line.empty()) {
            if (current_.attributes.empty()) return fail("empty request (a blank line with no attributes)");
            status = Status::Complete;
            break;
        }
        if (line.find('\0') != std::string_view::npos) return fail("NUL byte in request: " + printable(line));
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) return fail("line without '=': " + printable(line));
        const std::string_view name = line.substr(0, eq);
        if (name.empty() || name.size() > kMaxNameBytes) return fail("bad attribute name: " + printable(line, 80));
        for (char c : name)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-')
                return fail("bad attribute name: " + printable(name, 80));
        if (current_.attributes.size() >= kMaxAttributes)
            return fail("more than " + std::to_string(kMaxAttributes) + " attributes in one request");
        if (!current_.attributes.emplace(std::string(name), std::string(line.substr(eq + 1))).second)
            return fail("attribute repeated in one request: " + printable(name, 80));
    }
    buffer.erase(0, pos);
    return status;
}

PolicyRequest RequestParser::take() {
    PolicyRequest out = std::move(current_);
    current_ = PolicyRequest{};
    request_bytes_ = 0;
    return out;
}

std::string printable(std::string_view value, std::size_t max) {
    static constexpr auto unprintable = [](unsigned char c) { return c < 0x20 || c >= 0x7f || c == '\\'; };
    // Fast path (every decision logs several values): nothing to escape or cut.
    bool plain = value.size() <= max;
    for (std::size_t i = 0; plain && i < value.size(); ++i) plain = !unprintable(static_cast<unsigned char>(value[i]));
    if (plain) return std::string(value);
    return hex_escape(value, "\\x", unprintable, max);
}

}  // namespace mailgrant::policy
