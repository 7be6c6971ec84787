// dn.cpp -- DN normalisation on top of libldap's parser.
#include "mailgrant/dn.h"

#include <ldap.h>

#include <cctype>
#include <memory>
#include <unordered_map>

namespace mailgrant {

std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

namespace {

std::string normalize_dn_uncached(const std::string& in) {
    char* out = nullptr;
    if (ldap_dn_normalize(in.c_str(), LDAP_DN_FORMAT_LDAP, &out, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || !out)
        return {};
    std::unique_ptr<char, decltype(&ldap_memfree)> owned(out, &ldap_memfree);
    return ascii_lower(owned.get());
}

}  // namespace

// Decisions compare the same few DNs (user, groups, grantees) over and over; libldap's
// parser is far slower than a hash lookup, so results are memoised per thread. Bounded:
// the memo is dropped whole when it grows past kMemoEntries.
std::string normalize_dn(std::string_view dn) {
    constexpr std::size_t kMemoEntries = 4096;
    thread_local std::unordered_map<std::string, std::string> memo;
    const std::string in(dn);
    if (const auto it = memo.find(in); it != memo.end()) return it->second;
    if (memo.size() >= kMemoEntries) memo.clear();
    return memo.emplace(in, normalize_dn_uncached(in)).first->second;
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

std::string first_rdn_value(std::string_view dn) {
    LDAPDN parsed = nullptr;
    const std::string in(dn);
    if (ldap_str2dn(in.c_str(), &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS || !parsed) return {};
    std::unique_ptr<LDAPRDN, decltype(&ldap_dnfree)> owned(parsed, &ldap_dnfree);
    if (!parsed[0] || !parsed[0][0]) return {};
    const berval& value = parsed[0][0]->la_value;
    return std::string(value.bv_val, value.bv_len);
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

}  // namespace mailgrant
