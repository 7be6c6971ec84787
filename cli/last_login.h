// last_login.h -- when each mailbox was last logged in to, for `report`'s last-login
// column, from what Dovecot's last_login plugin writes: one dict key per user,
// "shared/" + last_login_key with %u replaced by the login (default
// "shared/last-login/alice@example.com"), the value a Unix time in s (or ms/us/ns with
// last_login_precision). The CLI only reads that dictionary; it never opens mail.
//
// Sources (cli.last_login_dict, or report --last-login-dict):
//   file:/PATH   Dovecot's file dict, read directly: "key\nvalue\n" pairs, each line
//                tab-escaped (\001 + letter), as dict-file writes it; no file yet in an
//                existing directory = nobody has logged in (an empty set, not an error)
//   other URI    `doveadm -f tab dict iter URI shared/<prefix>` ("key<TAB>value" lines
//                under a header); e.g. proxy::lastlogin, redis:..., for Dovecot 2.3
// Parsing is pure and unit-tested; both paths have size limits (untrusted input).
#pragma once

#include <ctime>
#include <map>
#include <optional>
#include <string>

#include "doveadm.h"

namespace mailgrant::cli {

constexpr std::size_t kMaxLastLoginDictBytes = 64u << 20;  // a 64 MiB dict file is not a last-login dict
constexpr std::size_t kMaxLastLoginKeyBytes = 4096;         // longer keys/values are skipped

// file dict text -> key -> value (unescaped). Malformed tails are ignored.
std::map<std::string, std::string> parse_file_dict(const std::string& text);
// `doveadm -f tab dict iter` output -> key -> value.
std::map<std::string, std::string> parse_dict_iter_tab(const std::string& text);
// "1700000000" -> 1700000000; 13/16/19 digit values (ms, us, ns) scaled to seconds.
std::optional<std::time_t> parse_last_login_value(const std::string& value);
// "shared/" + template with %u and %{user} replaced.
std::string last_login_dict_key(const std::string& key_template, const std::string& login);

class LastLogins {
public:
    // Reads every key once. `error` gets why nothing could be read (returns an empty set).
    static LastLogins load(const std::string& dict_uri, const std::string& key_template, const Doveadm& doveadm,
                           std::string* error);
    bool loaded() const { return loaded_; }
    std::optional<std::time_t> of(const std::string& login) const;

private:
    bool loaded_ = false;
    std::string key_template_;
    std::map<std::string, std::string> values_;  // full dict key -> value
};

}  // namespace mailgrant::cli
