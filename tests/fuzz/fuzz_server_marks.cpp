// Fuzz target: the LDAP server state file (core/server_health.h), written by every
// mailgrant process of a host and so read as untrusted input. Parsing never throws (but
// bad_alloc) and stays within its limits; what format_server_marks writes is read back
// as written (a subset of the marks, the same times), and a second round trip changes
// nothing.
#include <map>
#include <string>

#include "fuzz_targets.h"
#include "mailgrant/server_health.h"

namespace {

std::map<std::string, std::time_t> as_map(const std::vector<mailgrant::ServerMark>& marks) {
    std::map<std::string, std::time_t> m;
    for (const auto& mark : marks) m[mark.uri] = mark.since;
    return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    const auto marks = mailgrant::parse_server_marks(input);
    if (marks.size() > mailgrant::kServerStateMaxMarks) __builtin_trap();
    const auto all = as_map(marks);
    if (all.size() != marks.size()) __builtin_trap();  // a URI is named once
    for (const auto& m : marks)
        if (m.uri.empty() || m.uri.size() > mailgrant::kServerStateMaxUriBytes || m.since < 0) __builtin_trap();

    const std::string text = mailgrant::format_server_marks(marks);
    if (text.size() > mailgrant::kServerStateMaxFileBytes) __builtin_trap();
    const auto once = as_map(mailgrant::parse_server_marks(text));
    for (const auto& [uri, since] : once) {
        const auto it = all.find(uri);
        if (it == all.end() || it->second != since) __builtin_trap();
    }
    if (as_map(mailgrant::parse_server_marks(mailgrant::format_server_marks(mailgrant::parse_server_marks(text)))) != once)
        __builtin_trap();
    return 0;
}
