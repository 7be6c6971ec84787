// dn_patterns.h -- people's DN patterns learned from login searches, for search mode
// without users.dn_template (the default configuration: issue 19).
//
// Why: a grant may name one of the user's groups, and in search mode those are found by
// (member=<user DN>), which only the login search gives: a group member's cold send
// decision then costs 3 searches, a LOGIN + LIST through the service 5. With
// users.dn_template the login search also asks for the groups of the DN the template
// guesses (login_groups.cpp): 2 and 4. Most directories name people one way
// (uid=<local part>,ou=people,...), so the first login search of a domain shows the
// pattern: "uid=alice,ou=people,dc=example,dc=com" for alice@example.com gives
// "uid=%n,ou=people,dc=example,dc=com", used for that domain's next logins as a
// configured template is. Like the configured one, a learned pattern decides nothing:
// the groups found with its guess are kept only when the login search finds exactly
// that DN (a wrong guess costs what no guess costs: the groups' own search), and a login
// whose DN does not fit teaches its own pattern in place of the old one.
//
// A domain whose guesses cannot be settled (the one search's entries cannot all be
// placed: a person entry of an objectClass the login filter names only through a
// subclass, say, or the search hits a limit) would pay that search and then the plain
// one at every login: after kMaxFallbacks of those in a row (each proved by the plain
// search finding the guessed DN) its pattern is dropped and the domain learns none again
// (dn_guess_fallbacks_total counts every unsettled search).
//
// One per DirectoryPool (shared by its connections) or per LdapDirectory; thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace mailgrant {

// What the patterns did (mailgrant-policyd's stats endpoint shows them).
struct DnGuessCounts {
    std::atomic<std::uint64_t> learned{0};  // patterns learned (a domain's first, or a replaced one)
    std::atomic<std::uint64_t> guesses{0};  // login searches that also asked a guessed DN's groups
    std::atomic<std::uint64_t> right{0};    // of those, the ones whose guess the login search proved
    std::atomic<std::uint64_t> fallbacks{0};  // learned guesses whose search ran and could not be settled
};

class DnPatterns {
public:
    // Domains remembered at most (a login without '@' is the domain ""); past it, a new
    // domain is not learned (its logins cost what they cost without a pattern).
    static constexpr std::size_t kMaxDomains = 256;
    // Unsettled guesses in a row after which a domain's pattern is dropped for good.
    static constexpr unsigned kMaxFallbacks = 3;

    DnPatterns() = default;
    DnPatterns(const DnPatterns&) = delete;
    DnPatterns& operator=(const DnPatterns&) = delete;

    // The pattern `dn` follows for `login`: its first RDN's value replaced by %u (the
    // login) or %n (its part before the last '@'), compared case-insensitively; nullopt
    // when neither fits, or the DN does not parse or is longer than input.h's limit. The
    // pattern filled for the login (dn.h's fill_dn_template) gives `dn` back, compared
    // normalised: a multi-valued first RDN, say, gives none.
    static std::optional<std::string> derive(std::string_view login, std::string_view dn);

    // The pattern learned for the login's domain, "" for none.
    std::string for_login(std::string_view login) const;
    // The login search for `login` found `dn`: remember the pattern it follows for the
    // login's domain (no change when it follows none).
    void learn(std::string_view login, std::string_view dn);
    // A login search asked the groups of a DN guessed for `login`; `right`: the guess was
    // proved. Either way the search was settled.
    void guessed(std::string_view login, bool right);
    // A search with a learned guess ran and could not be settled: the
    // plain login search runs instead (see above). Counted only.
    void fell_back();
    // ... and the plain search found the guessed DN: the pattern was right and its
    // searches cannot be settled. Only these count toward kMaxFallbacks (a login written
    // so that slapd matches it and mailgrant cannot tell, which anyone may send, guesses
    // another DN).
    void fell_back_proved(std::string_view login);

    // Counts also go to `counts` (nullptr: nowhere), which must outlive this.
    void count_in(DnGuessCounts* counts) { counts_.store(counts); }
    const DnGuessCounts& counts() const { return own_; }

private:
    static std::string domain_of(std::string_view login);
    void add(std::atomic<std::uint64_t> DnGuessCounts::*field);

    struct Domain {
        std::string pattern;      // "" when barred
        unsigned unsettled = 0;   // fallbacks in a row
        bool barred = false;      // kMaxFallbacks reached: learns nothing again
    };

    mutable std::mutex mutex_;
    std::map<std::string, Domain> by_domain_;
    DnGuessCounts own_;
    std::atomic<DnGuessCounts*> counts_{nullptr};
};

}  // namespace mailgrant
