// Fuzz target: every parser of values read from LDAP (untrusted): GeneralizedTime,
// rights, folder patterns, DNs, filter escaping and a whole grant entry; and the input
// checks of names from clients (input.h), which may only ever throw BadInput, and a
// client's login filled into users.dn_template (dn.h), which must stay in its RDN, and
// the DN pattern learned from a login and its DN (dn_patterns.h).
#include <string>

#include "fuzz_targets.h"
#include "mailgrant/dn.h"
#include "mailgrant/dn_patterns.h"
#include "mailgrant/folder_pattern.h"
#include "mailgrant/gentime.h"
#include "mailgrant/grant.h"
#include "mailgrant/input.h"
#include "mailgrant/ldap_filter.h"
#include "mailgrant/rights.h"
#include "mailgrant/warnings.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    // Split into two parts so pattern x folder pairs get explored.
    const auto cut = input.find('\n');
    const std::string a = input.substr(0, cut);
    const std::string b = cut == std::string::npos ? std::string() : input.substr(cut + 1);

    mailgrant::parse_generalized_time(a);
    if (auto r = mailgrant::parse_rights(a)) {
        if (*mailgrant::Rights::from_letters(r->letters()) != *r) __builtin_trap();  // round trip
    }
    mailgrant::folder_matches(a.substr(0, 1024), b.substr(0, 1024));
    mailgrant::pattern_may_match_below(a.substr(0, 1024), b.substr(0, 1024));
    mailgrant::normalize_dn(a);
    // one entry for sure: reflexive and symmetric, and never more than normalize_dn says
    if (mailgrant::same_entry_dn(a, b) != mailgrant::same_entry_dn(b, a)) __builtin_trap();
    if (mailgrant::same_entry_dn(a, b) && mailgrant::normalize_dn(a) != mailgrant::normalize_dn(b)) __builtin_trap();
    if (!mailgrant::normalize_dn(a).empty() && !mailgrant::same_entry_dn(a, a)) __builtin_trap();
    mailgrant::parent_dn(a);
    mailgrant::looks_like_dn(a);
    const std::string escaped = mailgrant::escape_filter_value(input);
    for (char c : escaped)
        if (c == '(' || c == ')' || c == '*' || c == '\0') __builtin_trap();  // escaping is complete

    // users.dn_template filled with a client's login: the login stays inside its RDN.
    if (const auto dn = mailgrant::fill_dn_template("uid=%n,ou=%d,dc=ex", b)) {
        if (mailgrant::parent_dn(mailgrant::parent_dn(*dn)) != "dc=ex") __builtin_trap();
    } else {
        __builtin_trap();
    }

    // A DN read from LDAP and a client's login: a learned pattern gives that DN back.
    if (const auto pattern = mailgrant::DnPatterns::derive(b, a)) {
        const auto filled = mailgrant::fill_dn_template(*pattern, b);
        if (!filled || mailgrant::normalize_dn(*filled) != mailgrant::normalize_dn(a)) __builtin_trap();
    }

    mailgrant::LdapEntry entry;
    entry.dn = a;
    entry.attributes["mailgrantee"] = {b};
    entry.attributes["mailgrantfolder"] = {a, b};
    entry.attributes["mailgrantrights"] = {b};
    entry.attributes["mailgrantsend"] = {a};
    entry.attributes["mailgrantnotbefore"] = {a};
    entry.attributes["mailgrantnotafter"] = {b};
    const auto grant = mailgrant::grant_from_entry(entry, mailgrant::SchemaConfig{});
    grant.state_at(0);
    grant.matching_folder(b);

    // A grant entry is either returned or named in exactly one one-line warning.
    int warnings = 0;
    mailgrant::ScopedWarningSink sink([&](const mailgrant::Warning& w) {
        ++warnings;
        if (w.text.find('\n') != std::string::npos || w.text.find('\r') != std::string::npos) __builtin_trap();
    });
    const auto grants = mailgrant::grants_from_entries({entry}, mailgrant::SchemaConfig{});
    if (grants.size() + static_cast<std::size_t>(warnings) != 1) __builtin_trap();

    for (const auto& check : {&mailgrant::check_login, &mailgrant::check_address, &mailgrant::check_dn}) {
        try {
            check(a, "name");
        } catch (const mailgrant::BadInput& e) {
            if (std::string(e.what()).size() > 256) __builtin_trap();  // an excerpt, never the whole input
        }
    }
    return 0;
}
