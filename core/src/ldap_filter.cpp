// ldap_filter.cpp -- RFC 4515 escaping and filter templates.
#include "mailgrant/ldap_filter.h"

#include "mailgrant/input.h"

namespace mailgrant {

std::string escape_filter_value(std::string_view value) {
    // Bytes >= 0x80 are legal UTF-8 in a filter; escaping them too is still correct and
    // keeps control characters and invalid UTF-8 out of the wire format.
    return hex_escape(value, "\\", [](unsigned char c) {
        return c == '*' || c == '(' || c == ')' || c == '\\' || c < 0x20 || c >= 0x7f;
    });
}

std::string fill_filter(std::string_view filter_template, std::string_view value) {
    const std::string escaped = escape_filter_value(value);
    std::string out;
    for (std::size_t i = 0; i < filter_template.size(); ++i) {
        if (filter_template[i] == '%' && i + 1 < filter_template.size() && filter_template[i + 1] == 's') {
            out += escaped;
            ++i;
        } else {
            out += filter_template[i];
        }
    }
    return out;
}

std::string any_of(const std::vector<std::string>& filters) {
    if (filters.size() == 1) return filters.front();
    std::string out = "(|";
    for (const auto& f : filters) out += f;
    return out + ")";
}

}  // namespace mailgrant
