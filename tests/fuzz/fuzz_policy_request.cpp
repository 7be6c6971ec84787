// Fuzz target: the policy request parser, fed in random-sized chunks as a socket would.
#include <string>

#include "fuzz_targets.h"
#include "request_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using mailgrant::policy::RequestParser;
    RequestParser parser;
    std::string buffer;
    std::size_t pos = 0;
    while (pos < size) {
        // First byte of each chunk chooses the chunk length (1..64).
        const std::size_t chunk = 1 + (data[pos] % 64);
        ++pos;
        buffer.append(reinterpret_cast<const char*>(data) + pos, std::min(chunk, size - pos));
        pos += std::min(chunk, size - pos);
        for (;;) {
            const auto status = parser.parse(buffer);
            if (status == RequestParser::Status::Error) return 0;
            if (status == RequestParser::Status::NeedMore) break;
            const auto request = parser.take();
            if (request.attributes.empty() || request.attributes.size() > RequestParser::kMaxAttributes) __builtin_trap();
        }
        // Buffered input never exceeds one line's limit while waiting for more.
        if (buffer.size() > RequestParser::kMaxLineBytes + 64) __builtin_trap();
    }
    return 0;
}
