// ldap_filter.h -- building LDAP search filters from untrusted values.
//
// Every value that ends up in a filter (a login, an address, a DN read from LDAP) goes
// through escape_filter_value() so that "*)(uid=*" is a literal, never filter syntax.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mailgrant {

// RFC 4515 section 3: escapes '*', '(', ')', '\\' and NUL (and, to be safe with every
// server, any byte outside printable ASCII) as \XX.
std::string escape_filter_value(std::string_view value);

// Replaces every "%s" in filter_template by the escaped value.
std::string fill_filter(std::string_view filter_template, std::string_view value);

// "(|" + each filled template + ")"; a single item is returned without the OR wrapper.
std::string any_of(const std::vector<std::string>& filters);

}  // namespace mailgrant
