// input.cpp -- see input.h.
#include "mailgrant/input.h"

#include <algorithm>

#include "mailgrant/dn.h"

namespace mailgrant {
namespace {

bool has_control_character(std::string_view text) {
    for (char c : text)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
    return false;
}

}  // namespace

void check_name(std::string_view name, const char* what, std::size_t max) {
    if (name.empty()) throw BadInput(std::string("empty ") + what);
    if (name.size() > max)
        throw BadInput(std::string(what) + " is longer than " + std::to_string(max) + " characters");
    if (has_control_character(name)) throw BadInput(std::string(what) + " contains a control character");
}

std::string hex_escape(std::string_view value, std::string_view prefix, bool (*escape)(unsigned char),
                       std::size_t max) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(std::min(value.size(), max));
    for (unsigned char c : value) {
        if (out.size() >= max) return out + "...";
        if (!escape(c)) {
            out += static_cast<char>(c);
            continue;
        }
        out.append(prefix);
        out += hex[c >> 4];
        out += hex[c & 0x0f];
    }
    return out;
}

std::string excerpt(std::string_view text, std::size_t max) {
    std::string out(text.substr(0, max));
    for (auto& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    if (text.size() > max) out += "...";
    return out;
}

void check_login(std::string_view login, const char* what) { check_name(login, what, kMaxNameLength); }

void check_address(std::string_view address, const char* what) {
    check_name(address, what, kMaxNameLength);
    if (looks_like_dn(address))
        throw BadInput(std::string(what) + " '" + excerpt(address) + "' has the shape of an LDAP DN, not of a mail address");
}

}  // namespace mailgrant
