// dn_text.cpp -- the DN helpers that read text only (dn.h): no DN parser, so the
// Dovecot plugin's service-mode core (libmailgrant_core.so) needs no libldap.
#include "mailgrant/dn.h"

#include <cctype>

namespace mailgrant {

std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string parent_dn(std::string_view dn) {
    // Walk the first RDN honouring backslash escapes and quotes, then skip the comma.
    bool quoted = false;
    for (std::size_t i = 0; i < dn.size(); ++i) {
        const char c = dn[i];
        if (c == '\\') {
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (!quoted && (c == ',' || c == ';')) {
            std::size_t start = i + 1;
            while (start < dn.size() && dn[start] == ' ') ++start;
            return std::string(dn.substr(start));
        }
    }
    return {};
}

std::string escape_rdn_value(std::string_view value) {
    static const char* const hex = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const auto c = static_cast<unsigned char>(value[i]);
        const bool edge_space = c == ' ' && (i == 0 || i + 1 == value.size());
        if (c < 0x20 || c == 0x7f) {
            out += '\\';
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else if (std::string_view(",+\"\\<>;=").find(static_cast<char>(c)) != std::string_view::npos || edge_space ||
                   (i == 0 && c == '#')) {
            out += '\\';
            out += static_cast<char>(c);
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

bool looks_like_dn(std::string_view text) {
    // An attribute type (letters, digits, '-', or a dotted OID) must come before '='.
    const auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;
    for (char c : text.substr(0, eq))
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
    // "a=b@example.com" is an address (SRS/BATV local parts contain '='); a DN with an
    // address in it ("mail=a@x,ou=people,...") still has more than one RDN.
    const bool has_at = text.find('@') != std::string_view::npos;
    const bool has_comma = text.find(',') != std::string_view::npos;
    return !has_at || has_comma;
}

LoginParts split_login(std::string_view login) {
    const auto at = login.rfind('@');
    if (at == std::string_view::npos) return {login, std::string_view()};
    return {login.substr(0, at), login.substr(at + 1)};
}

std::optional<std::string> fill_dn_template(std::string_view tmpl, std::string_view login) {
    const auto [local, domain] = split_login(login);
    std::string out;
    for (std::size_t i = 0; i < tmpl.size(); ++i) {
        if (tmpl[i] != '%') {
            out += tmpl[i];
            continue;
        }
        if (++i == tmpl.size()) return std::nullopt;
        switch (tmpl[i]) {
            case 'u': out += escape_rdn_value(login); break;
            case 'n': out += escape_rdn_value(local); break;
            case 'd': out += escape_rdn_value(domain); break;
            case '%': out += '%'; break;
            default: return std::nullopt;
        }
    }
    return out;
}

}  // namespace mailgrant
