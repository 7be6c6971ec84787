// dn_patterns.cpp -- see dn_patterns.h.
#include "mailgrant/dn_patterns.h"

#include <ldap.h>

#include <memory>

#include "mailgrant/dn.h"
#include "mailgrant/input.h"

namespace mailgrant {

namespace {

// "%" in the literal part of a pattern is written "%%" (fill_dn_template's escape).
std::string literal(std::string_view text) {
    std::string out;
    for (char c : text) {
        out += c;
        if (c == '%') out += '%';
    }
    return out;
}

bool same_text(std::string_view a, std::string_view b) { return ascii_lower(a) == ascii_lower(b); }

}  // namespace

std::optional<std::string> DnPatterns::derive(std::string_view login, std::string_view dn) {
    if (login.empty() || dn.empty() || dn.size() > kMaxDnLength || login.size() > kMaxNameLength) return std::nullopt;
    LDAPDN parsed = nullptr;
    const std::string in(dn);
    if (ldap_str2dn(in.c_str(), &parsed, LDAP_DN_FORMAT_LDAP) != LDAP_SUCCESS || !parsed) return std::nullopt;
    std::unique_ptr<LDAPRDN, decltype(&ldap_dnfree)> owned(parsed, &ldap_dnfree);
    if (!parsed[0] || !parsed[0][0] || parsed[0][1]) return std::nullopt;  // no RDN, or a multi-valued one
    const LDAPAVA& ava = *parsed[0][0];
    const std::string type(ava.la_attr.bv_val, ava.la_attr.bv_len);
    const std::string value(ava.la_value.bv_val, ava.la_value.bv_len);
    const auto at = login.rfind('@');
    std::string_view local = at == std::string_view::npos ? login : login.substr(0, at);
    const char* field = same_text(value, login) ? "%u" : same_text(value, local) ? "%n" : nullptr;
    if (!field || type.empty()) return std::nullopt;
    const std::string parent = parent_dn(dn);
    std::string pattern = literal(type) + "=" + field + (parent.empty() ? "" : "," + literal(parent));
    // The proof: filled for this login, the pattern gives this DN.
    const auto filled = fill_dn_template(pattern, login);
    if (!filled || normalize_dn(*filled).empty() || normalize_dn(*filled) != normalize_dn(dn)) return std::nullopt;
    return pattern;
}

std::string DnPatterns::domain_of(std::string_view login) {
    const auto at = login.rfind('@');
    return at == std::string_view::npos ? std::string() : ascii_lower(login.substr(at + 1));
}

std::string DnPatterns::for_login(std::string_view login) const {
    const std::string domain = domain_of(login);
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = by_domain_.find(domain);
    return it == by_domain_.end() ? std::string() : it->second;
}

void DnPatterns::learn(std::string_view login, std::string_view dn) {
    auto pattern = derive(login, dn);
    if (!pattern) return;
    const std::string domain = domain_of(login);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = by_domain_.find(domain);
        if (it != by_domain_.end()) {
            if (it->second == *pattern) return;
            it->second = std::move(*pattern);
        } else {
            if (by_domain_.size() >= kMaxDomains) return;
            by_domain_.emplace(domain, std::move(*pattern));
        }
    }
    add(&DnGuessCounts::learned);
}

void DnPatterns::guessed(bool right) {
    add(&DnGuessCounts::guesses);
    if (right) add(&DnGuessCounts::right);
}

void DnPatterns::add(std::atomic<std::uint64_t> DnGuessCounts::*field) {
    ++(own_.*field);
    if (DnGuessCounts* counts = counts_.load()) ++(counts->*field);
}

}  // namespace mailgrant
