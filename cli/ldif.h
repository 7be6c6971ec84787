// ldif.h -- LDAP changes as data: built by grant/revoke, printed as LDIF (--ldif) or
// applied by LdapWriter. Also RFC 4514 escaping for the RDN of new grant entries, so a
// grant name such as "sales, EMEA" or "#1" yields a valid DN instead of a broken one.
// Pure code: unit-tested in tests/cli/test_ldif.cpp.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace mailgrant::cli {

// RFC 4514 section 2.4: escapes , + " \ < > ; = NUL, a leading space or '#', a trailing
// space; control characters become \XX.
std::string escape_rdn_value(const std::string& value);

// "cn=" + escaped name + "," + parent.
std::string child_dn(const std::string& attribute, const std::string& value, const std::string& parent);

struct Modification {
    enum class Op { Add, Delete, Replace };
    Op op = Op::Delete;
    std::string attribute;
    std::vector<std::string> values;  // Delete with no values removes the attribute
};

struct Change {
    enum class Type { Add, Delete, Modify };
    Type type = Type::Add;
    std::string dn;
    std::vector<std::pair<std::string, std::string>> attributes;  // Add: in output order
    std::vector<Modification> modifications;                      // Modify
    std::string comment;                                          // printed as "# ..." lines
};

// One LDIF change record (RFC 2849) ending with an empty line. Values that are not
// "safe strings" (leading space, ':' or '<', trailing space, non-ASCII, CR, LF, NUL)
// are base64-encoded with "attr:: ". Long lines are not folded.
std::string to_ldif(const Change& change);

std::string base64_encode(const std::string& bytes);
bool ldif_safe(const std::string& value);

}  // namespace mailgrant::cli
