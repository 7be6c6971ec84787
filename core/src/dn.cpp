// dn.cpp -- DN normalisation on top of libldap's parser (the text-only helpers of dn.h
// are in dn_text.cpp), and input.h's check_dn, which needs it.
#include "mailgrant/dn.h"
#include "mailgrant/bad_input.h"
#include "mailgrant/input.h"

#include <ldap.h>

#include <cctype>
#include <cstring>
#include <memory>
#include <unordered_map>

namespace mailgrant {

namespace {

std::string normalize_dn_uncached(const std::string& in) {
    char* out = nullptr;
    if (ldap_dn_normalize(in.c_str(), LDAP_DN_FORMAT_LDAP, &out, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || !out)
        return {};
    std::unique_ptr<char, decltype(&ldap_memfree)> owned(out, &ldap_memfree);
    return ascii_lower(owned.get());
}

using ParsedDn = std::unique_ptr<LDAPRDN, decltype(&ldap_dnfree)>;

ParsedDn parse_dn(std::string_view dn) {
    LDAPDN parsed = nullptr;
    const std::string in(dn);
    if (ldap_str2dn(in.c_str(), &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS) parsed = nullptr;
    return ParsedDn(parsed, &ldap_dnfree);
}

bool same_bytes(const struct berval& a, const struct berval& b) {
    return a.bv_len == b.bv_len && (a.bv_len == 0 || std::memcmp(a.bv_val, b.bv_val, a.bv_len) == 0);
}

bool same_type(const struct berval& a, const struct berval& b) {
    return a.bv_len == b.bv_len &&
           ascii_lower(std::string_view(a.bv_val, a.bv_len)) == ascii_lower(std::string_view(b.bv_val, b.bv_len));
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

std::optional<FirstRdn> first_rdn(std::string_view dn) {
    const ParsedDn owned = parse_dn(dn);
    const LDAPDN parsed = owned.get();
    if (!parsed || !parsed[0] || !parsed[0][0]) return std::nullopt;
    const LDAPAVA& ava = *parsed[0][0];
    return FirstRdn{std::string(ava.la_attr.bv_val, ava.la_attr.bv_len),
                    std::string(ava.la_value.bv_val, ava.la_value.bv_len), parsed[0][1] != nullptr};
}

std::string first_rdn_value(std::string_view dn) {
    auto rdn = first_rdn(dn);
    return rdn ? std::move(rdn->value) : std::string();
}

void check_dn(std::string_view dn, const char* what) {
    check_name(dn, what, kMaxDnLength);
    if (normalize_dn(dn).empty()) throw BadInput(std::string(what) + " '" + excerpt(dn) + "' is not a valid DN");
}

bool same_entry_dn(std::string_view a, std::string_view b) {
    const ParsedDn pa = parse_dn(a), pb = parse_dn(b);
    if (!pa || !pb) return false;
    const LDAPDN da = pa.get(), db = pb.get();
    std::size_t r = 0;
    for (; da[r] && db[r]; ++r) {
        std::size_t v = 0;
        for (; da[r][v] && db[r][v]; ++v) {
            const LDAPAVA &x = *da[r][v], &y = *db[r][v];
            // the flags say how the value was written (string or #BER): the same bytes
            // in two encodings are not known to be the same value
            if (!same_type(x.la_attr, y.la_attr) || !same_bytes(x.la_value, y.la_value) ||
                (x.la_flags & LDAP_AVA_BINARY) != (y.la_flags & LDAP_AVA_BINARY))
                return false;
        }
        if (da[r][v] || db[r][v]) return false;
    }
    return !da[r] && !db[r];
}

bool dn_within(std::string_view dn, std::string_view base) {
    const std::string d = normalize_dn(dn), b = normalize_dn(base);
    if (d.empty()) return false;
    if (b.empty() || d == b) return true;
    return d.size() > b.size() + 1 && d.compare(d.size() - b.size(), b.size(), b) == 0 && d[d.size() - b.size() - 1] == ',';
}

}  // namespace mailgrant
