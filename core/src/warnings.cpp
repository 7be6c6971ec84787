// warnings.cpp -- see warnings.h.
#include "mailgrant/warnings.h"

#include <cstdio>
#include <mutex>

namespace mailgrant {
namespace {

std::mutex& sink_mutex() {
    static std::mutex m;
    return m;
}

WarningSink& current_sink() {
    static WarningSink sink;
    return sink;
}

}  // namespace

WarningSink set_warning_sink(WarningSink sink) {
    std::lock_guard<std::mutex> lock(sink_mutex());
    WarningSink previous = std::move(current_sink());
    current_sink() = std::move(sink);
    return previous;
}

void warn(const Warning& warning) noexcept {
    try {
        // One line whatever the entry holds: a DN or value from LDAP may carry control
        // characters, and a log line must not be forged or split by them.
        Warning line = warning;
        for (auto& c : line.text)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
        std::lock_guard<std::mutex> lock(sink_mutex());
        if (current_sink()) current_sink()(line);
        else std::fprintf(stderr, "mailgrant: warning: %s\n", line.text.c_str());
    } catch (...) {
        // See warnings.h: the lookup that found the problem goes on.
    }
}

}  // namespace mailgrant
