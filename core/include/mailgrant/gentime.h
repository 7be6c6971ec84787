// gentime.h -- LDAP GeneralizedTime (RFC 4517 3.3.13), used by grant validity windows.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace mailgrant {

// Accepts YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|+hhmm|-hhmm) and returns UTC seconds.
// Fractions are truncated. nullopt (+ message) for anything else, including impossible
// dates such as 20230230.
std::optional<std::time_t> parse_generalized_time(std::string_view text, std::string* error = nullptr);

// UTC seconds -> "YYYYMMDDHHMMSSZ".
std::string format_generalized_time(std::time_t t);

// UTC seconds formatted with strftime(3) (e.g. "%Y-%m-%dT%H:%M:%SZ"); at most 63 bytes.
std::string format_utc(std::time_t t, const char* strftime_format);

}  // namespace mailgrant
