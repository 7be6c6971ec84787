// Fuzz target: the From:/Sender: header parser (header_address.h). Checks the parser's
// promises on every input: a result is either ok with 1..limit mailboxes each holding
// an '@', or refused with a one-line reason and no mailboxes.
#include <string_view>

#include "fuzz_targets.h"
#include "header_address.h"

namespace {

void check(const mailgrant::policy::HeaderParseResult& r, bool single) {
    using namespace mailgrant::policy;
    if (r.ok) {
        if (!r.error.empty() || r.mailboxes.empty() || r.mailboxes.size() > kMaxHeaderMailboxes) __builtin_trap();
        if (single && r.mailboxes.size() != 1) __builtin_trap();
        for (const auto& m : r.mailboxes) {
            if (m.address.find('@') == std::string::npos) __builtin_trap();
            if (m.address.find_first_of("\r\n") != std::string::npos) __builtin_trap();
        }
    } else {
        if (r.error.empty() || !r.mailboxes.empty()) __builtin_trap();
        if (r.error.find_first_of("\r\n") != std::string::npos) __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view value(reinterpret_cast<const char*>(data), size);
    check(mailgrant::policy::parse_from_header(value), false);
    check(mailgrant::policy::parse_sender_header(value), true);
    return 0;
}
