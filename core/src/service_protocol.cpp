// service_protocol.cpp -- see service_protocol.h: escaping, the question and answer lines,
// and their limits.
#include "mailgrant/service_protocol.h"

#include <poll.h>

#include <cerrno>

#include <array>
#include <cstdio>
#include <utility>

namespace mailgrant {

namespace {

struct VerbName {
    ServiceVerb verb;
    const char* name;
    std::size_t fields;
};

constexpr std::array<VerbName, 9> kVerbs{{
    {ServiceVerb::Rights, "rights", 3},         // login mailbox folder
    {ServiceVerb::Owners, "owners", 1},         // login
    {ServiceVerb::Grantees, "grantees", 2},     // mailbox folder
    {ServiceVerb::MayOpen, "may_open", 2},      // login mailbox
    {ServiceVerb::RootRights, "root", 2},       // login mailbox
    {ServiceVerb::TeamFolders, "team", 2},      // login mailbox
    {ServiceVerb::Login, "login", 4},           // service mailbox grantee password
    {ServiceVerb::Changed, "changed", 0},
    {ServiceVerb::Namespace, "namespace", 1},   // login
}};

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::vector<std::string> split_tabs(const std::string& line, std::size_t max_parts) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        if (parts.size() == max_parts) throw ProtocolError("too many fields");
        const auto tab = line.find('\t', start);
        parts.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
        if (tab == std::string::npos) return parts;
        start = tab + 1;
    }
}

std::string join(const char* head, const std::vector<std::string>& fields) {
    std::string out = head;
    for (const auto& f : fields) out.append("\t").append(escape_field(f));
    out.push_back('\n');
    return out;
}

}  // namespace

const char* to_string(ServiceVerb verb) {
    for (const auto& v : kVerbs)
        if (v.verb == verb) return v.name;
    return "?";
}

std::size_t field_count(ServiceVerb verb) {
    for (const auto& v : kVerbs)
        if (v.verb == verb) return v.fields;
    return 0;
}

std::string escape_field(const std::string& value) {
    std::string out;
    out.reserve(value.size());
    for (unsigned char c : value) {
        if (c < 0x20 || c == 0x7f || c == '%') {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", c);
            out += buf;
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    return out;
}

std::string unescape_field(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 || c == 0x7f) throw ProtocolError("unescaped control character in a field");
        if (c != '%') {
            out.push_back(static_cast<char>(c));
            continue;
        }
        if (i + 2 >= text.size()) throw ProtocolError("truncated %XX escape");
        const int hi = hex_value(text[i + 1]);
        const int lo = hex_value(text[i + 2]);
        if (hi < 0 || lo < 0) throw ProtocolError("bad %XX escape");
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

std::string format_request(const ServiceRequest& request) {
    if (request.fields.size() != field_count(request.verb)) throw ProtocolError("wrong number of fields");
    std::string line = join(to_string(request.verb), request.fields);
    if (line.size() > service_limits::kMaxRequestBytes) throw ProtocolError("question longer than 8 KiB");
    return line;
}

ServiceRequest parse_request(const std::string& line) {
    if (line.size() >= service_limits::kMaxRequestBytes) throw ProtocolError("question longer than 8 KiB");
    const auto parts = split_tabs(line, service_limits::kMaxFields + 1);
    for (const auto& v : kVerbs) {
        if (parts[0] != v.name) continue;
        if (parts.size() - 1 != v.fields)
            throw ProtocolError(std::string("'") + v.name + "' takes " + std::to_string(v.fields) + " fields");
        ServiceRequest request;
        request.verb = v.verb;
        for (std::size_t i = 1; i < parts.size(); ++i) request.fields.push_back(unescape_field(parts[i]));
        return request;
    }
    throw ProtocolError("unknown question");
}

std::string format_reply(const ServiceReply& reply) {
    std::string out;
    for (const auto& item : reply.items) out += join("item", item);
    switch (reply.status) {
        case ServiceReply::Status::Ok: out += join("ok", reply.values); break;
        case ServiceReply::Status::BadInput: out += join("bad", {reply.message}); break;
        case ServiceReply::Status::Temporary: out += join("temp", {reply.message}); break;
        case ServiceReply::Status::Failed: out += join("fail", {reply.message}); break;
    }
    return out;
}

bool ReplyReader::add_line(const std::string& line) {
    if (line.size() >= service_limits::kMaxReplyLineBytes) throw ProtocolError("answer line longer than 16 KiB");
    bytes_ += line.size() + 1;
    if (bytes_ > service_limits::kMaxReplyBytes) throw ProtocolError("answer longer than 16 MiB");
    auto parts = split_tabs(line, service_limits::kMaxFields + 1);
    const std::string head = parts[0];
    std::vector<std::string> fields;
    for (std::size_t i = 1; i < parts.size(); ++i) fields.push_back(unescape_field(parts[i]));
    if (head == "item") {
        if (reply_.items.size() >= service_limits::kMaxReplyItems) throw ProtocolError("more than 200000 items");
        reply_.items.push_back(std::move(fields));
        return false;
    }
    if (head == "ok") {
        reply_.status = ServiceReply::Status::Ok;
        reply_.values = std::move(fields);
        return true;
    }
    if (head == "bad" || head == "temp" || head == "fail") {
        if (fields.size() != 1) throw ProtocolError("'" + head + "' takes one message");
        reply_.status = head == "bad"    ? ServiceReply::Status::BadInput
                        : head == "temp" ? ServiceReply::Status::Temporary
                                         : ServiceReply::Status::Failed;
        reply_.message = fields[0];
        return true;
    }
    throw ProtocolError("unknown answer line");
}

int wait_ready(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    while (true) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        if (left <= 0) return 0;
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left));
        if (n > 0) return 1;
        if (n < 0 && errno != EINTR) return -1;
    }
}

}  // namespace mailgrant
