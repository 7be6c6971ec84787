// Fuzz target: LocalFilter (core/include/mailgrant/local_filter.h), the reader of filter
// texts built from configuration templates and client values, and its evaluator on an
// entry read from LDAP. Beyond not crashing: the answer of "(!f)" is the negation of
// f's and "(&ff)" answers as f does, so the three-valued logic is checked
// on every filter the fuzzer finds.
#include <string>

#include "fuzz_targets.h"
#include "mailgrant/local_filter.h"

using mailgrant::LocalFilter;
using mailgrant::Truth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const auto filter = LocalFilter::parse(text);
    if (!filter) return 0;
    mailgrant::LdapEntry entry;
    entry.dn = "cn=team,ou=groups,dc=example,dc=com";
    entry.attributes["objectclass"] = {"groupOfNames", "extensibleObject"};
    entry.attributes["mail"] = {"Team@example.com", "t\xc3\xa4m@example.com"};
    entry.attributes["member"] = {"uid=bob,ou=people,dc=example,dc=com"};
    entry.attributes["cn"] = {"team  one"};
    entry.attributes["mail;lang-de"] = {"Mannschaft@example.com"};
    const std::set<std::string> read{"objectclass", "mail", "member", "cn", "uid"};
    const Truth plain = filter->evaluate(entry, read);
    for (const auto& a : filter->attributes())
        if (a.empty()) __builtin_trap();  // named attributes only
    if (const auto negated = LocalFilter::parse("(!" + text + ")")) {
        const Truth n = negated->evaluate(entry, read);
        const Truth want = plain == Truth::True ? Truth::False : plain == Truth::False ? Truth::True : Truth::Unknown;
        if (n != want) __builtin_trap();
    }
    if (const auto both = LocalFilter::parse("(&" + text + text + ")"))
        if (both->evaluate(entry, read) != plain) __builtin_trap();
    return 0;
}
