// Fuzz target: the decision service's protocol (service_protocol.h), both directions.
// The first byte chooses: a question line as policyd reads it, or answer lines as a
// mail process reads them. Any input either parses within the limits or throws
// ProtocolError; a question that parses must format back to a line that parses equal.
// An answer that parses is also read as a "namespace" answer (shared_namespace.h), which
// takes it whole or throws ProtocolError.
#include <string>

#include "fuzz_targets.h"
#include "mailgrant/service_protocol.h"
#include "mailgrant/shared_namespace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mailgrant;
    if (size == 0) return 0;
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] % 2 == 0) {
        try {
            const ServiceRequest request = parse_request(text);
            if (request.fields.size() != field_count(request.verb)) __builtin_trap();
            std::string line;
            try {
                line = format_request(request);
            } catch (const ProtocolError&) {
                return 0;  // escaping may lengthen a field past the line limit
            }
            line.pop_back();  // the LF
            const ServiceRequest again = parse_request(line);
            if (again.verb != request.verb || again.fields != request.fields) __builtin_trap();
        } catch (const ProtocolError&) {
        }
        return 0;
    }
    ReplyReader reader;
    try {
        std::size_t start = 0;
        while (start <= text.size()) {
            const auto lf = text.find('\n', start);
            const std::string line = text.substr(start, lf == std::string::npos ? std::string::npos : lf - start);
            if (reader.add_line(line)) {
                const ServiceReply reply = reader.take();
                if (reply.items.size() > service_limits::kMaxReplyItems) __builtin_trap();
                for (const auto& mailbox : namespace_from(reply))
                    if (mailbox.address.empty()) __builtin_trap();
                break;
            }
            if (lf == std::string::npos) break;
            start = lf + 1;
        }
    } catch (const ProtocolError&) {
    }
    return 0;
}
