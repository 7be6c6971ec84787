// dn_patterns.cpp -- see dn_patterns.h.
#include "mailgrant/dn_patterns.h"

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
    const auto rdn = first_rdn(dn);
    if (!rdn || rdn->multi_valued || rdn->type.empty()) return std::nullopt;
    const char* field = same_text(rdn->value, login)                     ? "%u"
                        : same_text(rdn->value, split_login(login).local) ? "%n"
                                                                           : nullptr;
    if (!field) return std::nullopt;
    const std::string parent = parent_dn(dn);
    std::string pattern = literal(rdn->type) + "=" + field + (parent.empty() ? "" : "," + literal(parent));
    // The proof: filled for this login, the pattern gives this DN.
    const auto filled = fill_dn_template(pattern, login);
    const std::string normalized = filled ? normalize_dn(*filled) : std::string();
    if (normalized.empty() || normalized != normalize_dn(dn)) return std::nullopt;
    return pattern;
}

std::string DnPatterns::domain_of(std::string_view login) { return ascii_lower(split_login(login).domain); }

std::string DnPatterns::for_login(std::string_view login) const {
    const std::string domain = domain_of(login);
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = by_domain_.find(domain);
    return it == by_domain_.end() ? std::string() : it->second.pattern;
}

void DnPatterns::learn(std::string_view login, std::string_view dn) {
    auto pattern = derive(login, dn);
    if (!pattern) return;
    const std::string domain = domain_of(login);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = by_domain_.find(domain);
        if (it != by_domain_.end()) {
            if (it->second.barred || it->second.pattern == *pattern) return;
            it->second.pattern = std::move(*pattern);
            it->second.unsettled = 0;
        } else {
            if (by_domain_.size() >= kMaxDomains) return;
            by_domain_.emplace(domain, Domain{std::move(*pattern), 0, false});
        }
    }
    add(&DnGuessCounts::learned);
}

void DnPatterns::guessed(std::string_view login, bool right) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (const auto it = by_domain_.find(domain_of(login)); it != by_domain_.end()) it->second.unsettled = 0;
    }
    add(&DnGuessCounts::guesses);
    if (right) add(&DnGuessCounts::right);
}

void DnPatterns::fell_back() { add(&DnGuessCounts::fallbacks); }

void DnPatterns::fell_back_proved(std::string_view login) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (const auto it = by_domain_.find(domain_of(login)); it != by_domain_.end() && !it->second.barred &&
                                                              ++it->second.unsettled >= kMaxFallbacks) {
        it->second.pattern.clear();
        it->second.barred = true;
    }
}

void DnPatterns::add(std::atomic<std::uint64_t> DnGuessCounts::*field) {
    ++(own_.*field);
    if (DnGuessCounts* counts = counts_.load()) ++(counts->*field);
}

}  // namespace mailgrant
