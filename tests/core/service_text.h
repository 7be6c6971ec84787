// service_text.h -- for the service protocol's unit tests: an answer's text read back
// line by line, the way a mail process reads it (service_client.cpp).
#pragma once

#include <string>

#include "mailgrant/service_protocol.h"

namespace mailgrant::testing {

// The answer in `text` (format_reply's output). `complete` is false when the text ends
// before the final line or goes on after it.
inline ServiceReply read_reply_text(const std::string& text, bool& complete) {
    ReplyReader reader;
    std::size_t start = 0;
    bool last = false;
    while (!last) {
        const auto lf = text.find('\n', start);
        if (lf == std::string::npos) break;
        last = reader.add_line(text.substr(start, lf - start));
        start = lf + 1;
    }
    complete = last && start == text.size();
    return reader.take();
}

}  // namespace mailgrant::testing
