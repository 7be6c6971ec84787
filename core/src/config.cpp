// config.cpp -- YAML -> Config with strict validation (see config.h for why strict).
#include "mailgrant/config.h"

#include "mailgrant/dn.h"
#include "mailgrant/rights.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace mailgrant {
namespace {

constexpr std::size_t kMaxConfigBytes = 1 << 20;  // a config larger than 1 MiB is a mistake
constexpr std::size_t kMaxSecretBytes = 4096;

// Walks one YAML mapping, remembering which keys were consumed so the leftovers can be
// reported as unknown. Every error carries "file:line: dotted.key: problem".
class Section {
public:
    Section(const YAML::Node& node, std::string path, const std::string& file)
        : node_(node), path_(std::move(path)), file_(file) {
        if (!node_.IsMap()) fail(node_, path_, "expected a mapping of keys");
    }

    template <typename Fn>
    void with(const std::string& key, Fn&& fn) {
        seen_.insert(key);
        const YAML::Node value = node_[key];
        if (value && !value.IsNull()) fn(value, dotted(key));
    }

    void string(const std::string& key, std::string& out, bool allow_empty = true) {
        with(key, [&](const YAML::Node& v, const std::string& name) {
            if (!v.IsScalar()) fail(v, name, "expected a string");
            out = v.Scalar();
            if (!allow_empty && out.empty()) fail(v, name, "must not be empty");
        });
    }

    void strings(const std::string& key, std::vector<std::string>& out) {
        with(key, [&](const YAML::Node& v, const std::string& name) {
            if (v.IsScalar()) {  // a single string is accepted as a one-element list
                out = {v.Scalar()};
                return;
            }
            if (!v.IsSequence()) fail(v, name, "expected a list of strings");
            out.clear();
            for (const auto& item : v) {
                if (!item.IsScalar() || item.Scalar().empty())
                    fail(item, name, "every list item must be a non-empty string");
                out.push_back(item.Scalar());
            }
        });
    }

    void boolean(const std::string& key, bool& out) {
        with(key, [&](const YAML::Node& v, const std::string& name) {
            bool parsed = false;
            if (!v.IsScalar() || !YAML::convert<bool>::decode(v, parsed))
                fail(v, name, "expected true or false");
            out = parsed;
        });
    }

    template <typename Int>
    void integer(const std::string& key, Int& out, long long min, long long max) {
        with(key, [&](const YAML::Node& v, const std::string& name) {
            long long parsed = 0;
            if (!v.IsScalar() || !YAML::convert<long long>::decode(v, parsed))
                fail(v, name, "expected an integer");
            if (parsed < min || parsed > max)
                fail(v, name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
            out = static_cast<Int>(parsed);
        });
    }

    void choice(const std::string& key, std::string& out, const std::set<std::string>& allowed) {
        string(key, out);
        if (!allowed.count(out)) {
            std::string list;
            for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
            fail(node_[key], dotted(key), "must be one of: " + list);
        }
    }

    Section child(const std::string& key) {
        seen_.insert(key);
        YAML::Node value = node_[key];
        if (!value || value.IsNull()) value = YAML::Node(YAML::NodeType::Map);
        return Section(value, dotted(key), file_);
    }

    bool has(const std::string& key) const { return node_[key] && !node_[key].IsNull(); }
    YAML::Node raw(const std::string& key) const { return node_[key]; }

    // Call after every known key was read.
    void reject_unknown() const {
        for (const auto& kv : node_) {
            const std::string key = kv.first.Scalar();
            if (!seen_.count(key)) fail(kv.first, dotted(key), "unknown key");
        }
    }

    [[noreturn]] void fail(const YAML::Node& at, const std::string& key, const std::string& what) const {
        std::ostringstream msg;
        msg << file_;
        const YAML::Mark mark = at.Mark();
        if (!mark.is_null()) msg << ':' << (mark.line + 1);
        msg << ": " << key << ": " << what;
        throw ConfigError(msg.str());
    }

    std::string dotted(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

private:
    YAML::Node node_;
    std::string path_;
    const std::string& file_;
    std::set<std::string> seen_;
};

// yaml-cpp accepts a repeated key, keeps both entries and answers node[key] with the
// first: a "policy:" section or a "ttl_s:" an admin appended to harden the config would
// be silently ignored. So the whole document is walked once, before anything is read,
// and any key given twice in one mapping (at any depth, in lists too) is an error naming
// both lines. Aliases share their node with the anchor: each node is walked once (also
// keeps "billion laughs" alias trees linear).
class DuplicateKeyCheck {
public:
    explicit DuplicateKeyCheck(const std::string& file) : file_(file) {}

    void walk(const YAML::Node& node, const std::string& path, int depth = 0) {
        if (!node.IsMap() && !node.IsSequence()) return;
        const YAML::Mark mark = node.Mark();
        if (!mark.is_null() && !visited_.insert(mark.pos).second) return;
        if (depth > kMaxDepth)
            fail(node, "'" + path + "' is nested more than " + std::to_string(kMaxDepth) + " levels deep");
        if (node.IsSequence()) {
            std::size_t index = 0;
            for (const auto& item : node) walk(item, path + "[" + std::to_string(index++) + "]", depth + 1);
            return;
        }
        std::map<std::string, YAML::Mark> first_at;
        for (const auto& kv : node) {
            if (!kv.first.IsScalar()) continue;  // a complex key is reported as unknown by Section
            const std::string key = kv.first.Scalar();
            const std::string name = path.empty() ? key : path + "." + key;
            const auto [it, fresh] = first_at.emplace(key, kv.first.Mark());
            if (!fresh)
                fail(kv.first, "duplicate key '" + name + "' (first at line " + std::to_string(it->second.line + 1) + ")");
            walk(kv.second, name, depth + 1);
        }
    }

private:
    static constexpr int kMaxDepth = 32;  // the config itself is 3 deep

    [[noreturn]] void fail(const YAML::Node& at, const std::string& what) const {
        std::ostringstream msg;
        msg << file_;
        if (!at.Mark().is_null()) msg << ':' << (at.Mark().line + 1);
        msg << ": " << what;
        throw ConfigError(msg.str());
    }

    const std::string& file_;
    std::set<int> visited_;  // YAML::Mark::pos of every collection walked
};

// A filter template must be a parenthesised filter that uses the value it is given.
void check_filter_template(Section& s, const std::string& key, const std::string& filter) {
    if (!s.has(key)) return;
    if (filter.size() < 2 || filter.front() != '(' || filter.back() != ')')
        s.fail(s.raw(key), s.dotted(key), "must be an LDAP filter in parentheses");
    if (filter.find("%s") == std::string::npos)
        s.fail(s.raw(key), s.dotted(key), "must contain %s where the escaped value goes");
    int depth = 0;
    for (char c : filter) {
        depth += (c == '(') - (c == ')');
        if (depth < 0) break;
    }
    if (depth != 0) s.fail(s.raw(key), s.dotted(key), "has unbalanced parentheses");
}

void check_attribute_name(Section& s, const std::string& key, const std::string& name) {
    bool ok = !name.empty() && std::isalpha(static_cast<unsigned char>(name[0]));
    for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-');
    if (!ok) s.fail(s.raw(key), s.dotted(key), "must be an LDAP attribute or class name (letters, digits, '-')");
}

void read_ldap(Section s, LdapConfig& c) {
    s.strings("uris", c.uris);
    s.string("base", c.base);
    s.string("bind_dn", c.bind_dn);
    s.string("bind_password_file", c.bind_password_file);
    s.boolean("starttls", c.starttls);
    s.string("tls_ca_file", c.tls_ca_file);
    s.choice("tls_require_cert", c.tls_require_cert, {"never", "allow", "try", "demand", "hard"});
    s.integer("network_timeout_ms", c.network_timeout_ms, 10, 600000);
    s.integer("operation_timeout_ms", c.operation_timeout_ms, 10, 600000);
    s.integer("size_limit", c.size_limit, 1, 1000000);
    s.integer("server_holddown_s", c.server_holddown_s, 0, 86400);
    s.string("server_state_file", c.server_state_file);
    s.reject_unknown();
    if (!c.server_state_file.empty() && c.server_state_file.front() != '/')
        s.fail(s.raw("server_state_file"), s.dotted("server_state_file"), "must be an absolute path (or '' for none)");

    if (c.base.empty()) s.fail(s.raw("base"), s.dotted("base"), "is required (the search base, e.g. dc=example,dc=com)");
    if (c.uris.empty()) s.fail(s.raw("uris"), s.dotted("uris"), "needs at least one URI");
    for (const auto& uri : c.uris) {
        if (uri.rfind("ldap://", 0) != 0 && uri.rfind("ldaps://", 0) != 0 && uri.rfind("ldapi://", 0) != 0)
            s.fail(s.raw("uris"), s.dotted("uris"), "'" + uri + "' is not an ldap://, ldaps:// or ldapi:// URI");
    }
    if (!c.bind_dn.empty() && c.bind_password_file.empty())
        s.fail(s.raw("bind_dn"), s.dotted("bind_password_file"), "is required when bind_dn is set");
}

void read_users(Section s, UsersConfig& c) {
    s.string("base", c.base);
    s.string("login_filter", c.login_filter, false);
    s.string("address_filter", c.address_filter, false);
    s.string("dn_template", c.dn_template);
    s.string("mail_attribute", c.mail_attribute, false);
    s.strings("alias_attributes", c.alias_attributes);
    s.string("language_attribute", c.language_attribute, false);
    s.reject_unknown();
    check_attribute_name(s, "language_attribute", c.language_attribute);
    check_filter_template(s, "login_filter", c.login_filter);
    check_filter_template(s, "address_filter", c.address_filter);
    if (!c.dn_template.empty()) {
        // Two logins of one domain must give two DNs: a template with only %d would guess
        // one DN for a whole domain (harmless, the login search proves it, but useless).
        const auto sample = fill_dn_template(c.dn_template, "someone@example.org");
        if (!sample || sample == fill_dn_template(c.dn_template, "other@example.org"))
            s.fail(s.raw("dn_template"), s.dotted("dn_template"),
                   "must contain %u or %n where the login goes (and no other '%' but %%, %d)");
        // Only the shape here (this library has no libldap to parse DNs): a template whose
        // DNs do not parse or lie outside the users base is never used, which `mailgrant
        // check` says (LdapDirectory::dn_template_unused).
        if (!looks_like_dn(*sample))
            s.fail(s.raw("dn_template"), s.dotted("dn_template"), "is not a DN once filled ('" + *sample + "')");
    }
    check_attribute_name(s, "mail_attribute", c.mail_attribute);
    for (const auto& a : c.alias_attributes) check_attribute_name(s, "alias_attributes", a);
}

void read_groups(Section s, GroupsConfig& c) {
    s.string("base", c.base);
    std::string mode = "search";
    s.choice("membership", mode, {"search", "memberof"});
    c.membership = mode == "memberof" ? MembershipMode::MemberOf : MembershipMode::Search;
    s.string("member_filter", c.member_filter, false);
    s.strings("member_attributes", c.member_attributes);
    s.string("member_of_attribute", c.member_of_attribute, false);
    s.integer("max_depth", c.max_depth, 1, 64);
    s.string("name_filter", c.name_filter, false);
    s.reject_unknown();
    check_filter_template(s, "member_filter", c.member_filter);
    check_filter_template(s, "name_filter", c.name_filter);
    check_attribute_name(s, "member_of_attribute", c.member_of_attribute);
    for (const auto& a : c.member_attributes) check_attribute_name(s, "member_attributes", a);
}

void read_cache(Section s, CacheConfig& c) {
    s.integer("ttl_s", c.ttl_s, MAILGRANT_CACHE_TTL_S_MIN, MAILGRANT_CACHE_TTL_S_MAX);
    s.integer("negative_ttl_s", c.negative_ttl_s, MAILGRANT_CACHE_TTL_S_MIN, MAILGRANT_CACHE_TTL_S_MAX);
    s.integer("follow_ttl_s", c.follow_ttl_s, MAILGRANT_CACHE_TTL_S_MIN, MAILGRANT_CACHE_TTL_S_MAX);
    s.integer("max_entries", c.max_entries, 1, 10000000);
    s.boolean("follow_changes", c.follow_changes);
    s.reject_unknown();
}

void check_listen(Section& s, const std::string& key, const std::string& value) {
    if (!s.has(key)) return;
    const bool unix_ok = value.rfind("unix:", 0) == 0 && value.size() > 5 && value[5] == '/';
    const auto colon = value.rfind(':');
    const bool inet_ok = value.rfind("inet:", 0) == 0 && colon > 5 && colon + 1 < value.size() &&
                         value.find_first_not_of("0123456789", colon + 1) == std::string::npos;
    if (!unix_ok && !inet_ok)
        s.fail(s.raw(key), s.dotted(key), "must be unix:/ABSOLUTE/PATH or inet:HOST:PORT");
}

// A unix socket's mode as written in the YAML (a quoted octal string), for policy and
// service alike; "" = keep the default.
void read_socket_mode(Section& s, const std::string& mode, int& out) {
    if (mode.empty()) return;
    if (mode.size() > 4 || mode.find_first_not_of("01234567") != std::string::npos)
        s.fail(s.raw("socket_mode"), s.dotted("socket_mode"), "must be an octal mode such as \"0660\" (quoted)");
    out = std::stoi(mode, nullptr, 8);
}

void read_policy(Section s, PolicyConfig& c) {
    s.string("listen", c.listen, false);
    s.string("socket_owner", c.socket_owner);
    s.string("socket_group", c.socket_group);
    std::string mode;
    s.string("socket_mode", mode);
    s.string("user", c.user, false);
    s.string("stats_listen", c.stats_listen);
    s.string("milter_listen", c.milter_listen);
    s.integer("workers", c.workers, 1, 256);
    s.integer("io_threads", c.io_threads, 1, 64);
    s.integer("max_connections", c.max_connections, 1, 100000);
    s.integer("request_timeout_ms", c.request_timeout_ms, 100, 600000);
    std::string defer = "DEFER_IF_PERMIT";
    s.choice("defer_action", defer, {"DEFER_IF_PERMIT", "DEFER"});
    c.defer_action = defer == "DEFER" ? DeferAction::Defer : DeferAction::DeferIfPermit;
    s.string("defer_text", c.defer_text, false);
    s.string("reject_text", c.reject_text, false);
    std::string unauth = "dunno";
    s.choice("unauthenticated", unauth, {"dunno", "reject_local"});
    c.unauthenticated = unauth == "reject_local" ? UnauthenticatedMode::RejectLocal : UnauthenticatedMode::Dunno;
    s.strings("local_domains", c.local_domains);
    s.string("instance_name", c.instance_name, false);
    s.reject_unknown();
    check_listen(s, "listen", c.listen);
    if (!c.stats_listen.empty()) check_listen(s, "stats_listen", c.stats_listen);
    if (!c.milter_listen.empty()) check_listen(s, "milter_listen", c.milter_listen);
    read_socket_mode(s, mode, c.socket_mode);
    // The texts go into Postfix replies: they must start with the right class of status code.
    if (c.defer_text.rfind("4.", 0) != 0)
        s.fail(s.raw("defer_text"), s.dotted("defer_text"), "must start with a 4.x.x enhanced status code");
    if (c.reject_text.rfind("5.", 0) != 0)
        s.fail(s.raw("reject_text"), s.dotted("reject_text"), "must start with a 5.x.x enhanced status code");
    for (const auto* text : {&c.defer_text, &c.reject_text})
        for (char ch : *text)
            if (static_cast<unsigned char>(ch) < 0x20)
                s.fail(s.raw(text == &c.defer_text ? "defer_text" : "reject_text"),
                       s.dotted(text == &c.defer_text ? "defer_text" : "reject_text"), "must be one line of text");
    if (c.unauthenticated == UnauthenticatedMode::RejectLocal && c.local_domains.empty())
        s.fail(s.raw("local_domains"), s.dotted("local_domains"), "is required when unauthenticated is reject_local");
}

void read_service(Section s, ServiceConfig& c) {
    s.string("listen", c.listen);
    s.string("socket_owner", c.socket_owner);
    s.string("socket_group", c.socket_group);
    std::string mode;
    s.string("socket_mode", mode);
    s.integer("workers", c.workers, 1, 256);
    s.integer("timeout_ms", c.timeout_ms, MAILGRANT_SERVICE_TIMEOUT_MS_MIN, MAILGRANT_SERVICE_TIMEOUT_MS_MAX);
    s.integer("memo_ms", c.memo_ms, MAILGRANT_SERVICE_MEMO_MS_MIN, MAILGRANT_SERVICE_MEMO_MS_MAX);
    s.reject_unknown();
    // Local only: the socket's owner, group and mode are what keeps other users out.
    if (!c.listen.empty() && !(c.listen.rfind("unix:/", 0) == 0 && c.listen.size() > 6))
        s.fail(s.raw("listen"), s.dotted("listen"), "must be unix:/ABSOLUTE/PATH (or empty: off)");
    if (c.listen.size() > MAILGRANT_SERVICE_LISTEN_MAX)
        s.fail(s.raw("listen"), s.dotted("listen"), "is longer than a unix socket path may be (100 bytes)");
    read_socket_mode(s, mode, c.socket_mode);
}

void read_schema(Section s, SchemaConfig& c) {
    const std::vector<std::pair<const char*, std::string*>> names{
        {"grant_object_class", &c.grant_object_class},
        {"shared_mailbox_object_class", &c.shared_mailbox_object_class},
        {"grant_name", &c.grant_name},
        {"grantee", &c.grantee},
        {"folder", &c.folder},
        {"rights", &c.rights},
        {"send", &c.send},
        {"not_before", &c.not_before},
        {"not_after", &c.not_after},
        {"pending", &c.pending},
        {"sent_copy", &c.sent_copy},
    };
    for (const auto& [key, out] : names) {
        s.string(key, *out, false);
        check_attribute_name(s, key, *out);
    }
    s.reject_unknown();
}

void read_cli(Section s, CliConfig& c) {
    s.string("supervisor", c.supervisor);
    s.string("manager_attribute", c.manager_attribute, false);
    s.integer("manager_max_depth", c.manager_max_depth, 1, 64);
    s.string("last_login_dict", c.last_login_dict);
    s.string("last_login_key", c.last_login_key, false);
    s.string("accesslog_base", c.accesslog_base);
    s.string("sendmail", c.sendmail, false);
    s.reject_unknown();
    if (!c.accesslog_base.empty() && !looks_like_dn(c.accesslog_base))
        s.fail(s.raw("accesslog_base"), s.dotted("accesslog_base"), "must be a DN (e.g. cn=accesslog)");
    if (c.sendmail.find_first_not_of(" \t") == std::string::npos || c.sendmail.find_first_of("\r\n") != std::string::npos)
        s.fail(s.raw("sendmail"), s.dotted("sendmail"), "must be one command line (e.g. /usr/sbin/sendmail -t -i)");
    check_attribute_name(s, "manager_attribute", c.manager_attribute);
    if (c.last_login_key.find("%u") == std::string::npos && c.last_login_key.find("%{user}") == std::string::npos)
        s.fail(s.raw("last_login_key"), s.dotted("last_login_key"), "must contain %u (the login), as Dovecot's");
    if (c.last_login_dict.rfind("file:", 0) == 0 && (c.last_login_dict.size() < 6 || c.last_login_dict[5] != '/'))
        s.fail(s.raw("last_login_dict"), s.dotted("last_login_dict"), "file: needs an absolute path (file:/var/lib/...)");
    if (c.last_login_dict.find_first_of("\r\n") != std::string::npos)
        s.fail(s.raw("last_login_dict"), s.dotted("last_login_dict"), "must be one line");
}

// A group name as a client's "$name" gives it: the name alone, one line.
void check_group_name(Section& s, const std::string& key, const std::string& name) {
    if (name.empty() || !s.has(key)) return;
    if (name[0] == '$') s.fail(s.raw(key), s.dotted(key), "is the group's name without the '$' (e.g. all-staff)");
    if (name.size() > 256) s.fail(s.raw(key), s.dotted(key), "must be at most 256 characters");
    for (char ch : name)
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
            s.fail(s.raw(key), s.dotted(key), "must be one line without control characters");
}

void read_self_service(Section s, SelfServiceConfig& c) {
    s.string("anyone_group", c.anyone_group);
    s.string("authenticated_group", c.authenticated_group);
    s.string("allowed_rights", c.allowed_rights, false);
    s.reject_unknown();
    check_group_name(s, "anyone_group", c.anyone_group);
    check_group_name(s, "authenticated_group", c.authenticated_group);
    std::string error;
    const auto allowed = parse_rights(c.allowed_rights, &error);
    if (!allowed || allowed->empty())
        s.fail(s.raw("allowed_rights"), s.dotted("allowed_rights"),
               "must be RFC 4314 letters (" + std::string(Rights::kLetters) + ") or a role name: " + error);
    c.allowed_rights = allowed->letters();
}

// A folder name as the mailbox's owner sees it: one line, no IMAP wildcards, not empty.
void check_folder_name(Section& s, const std::string& key, const std::string& name) {
    if (name.empty()) s.fail(s.raw(key), s.dotted(key), "must not be empty");
    if (name.size() > 255) s.fail(s.raw(key), s.dotted(key), "must be at most 255 characters");
    for (char ch : name)
        if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f || ch == '*' || ch == '%')
            s.fail(s.raw(key), s.dotted(key), "must be one folder name without control characters, '*' or '%'");
}

// The reserved routing domain: lower-case DNS labels with at least one dot, so it can be
// matched exactly in Postfix's transport_maps and never collides with a user's typo.
void check_sent_copy_domain(Section& s, const std::string& domain) {
    if (domain.empty()) return;
    const std::string key = "sent_copy_domain";
    if (domain.size() > 128) s.fail(s.raw(key), s.dotted(key), "must be at most 128 characters");
    std::size_t label = 0;
    for (char ch : domain) {
        if (ch == '.') {
            if (label == 0) s.fail(s.raw(key), s.dotted(key), "must not have an empty label");
            label = 0;
        } else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-') {
            ++label;
        } else {
            s.fail(s.raw(key), s.dotted(key), "must be a lower-case domain name (letters, digits, '-', '.')");
        }
    }
    if (label == 0 || domain.find('.') == std::string::npos)
        s.fail(s.raw(key), s.dotted(key), "must be a domain with at least two labels (e.g. sent-copy.mailgrant.invalid)");
}

void read_team_mailbox(Section s, TeamMailboxConfig& c) {
    s.string("base", c.base);
    const std::vector<std::pair<const char*, std::string*>> folders{
        {"drafts", &c.drafts}, {"sent", &c.sent}, {"trash", &c.trash}, {"junk", &c.junk}};
    for (const auto& [key, out] : folders) s.string(key, *out, false);
    std::string copy = "shared";
    s.choice("sent_copy", copy, {"shared", "all", "none"});
    c.sent_copy = copy == "all" ? SentCopyDefault::All : copy == "none" ? SentCopyDefault::None : SentCopyDefault::Shared;
    s.string("sent_copy_domain", c.sent_copy_domain);
    s.reject_unknown();
    check_sent_copy_domain(s, c.sent_copy_domain);
    for (const auto& [key, out] : folders) check_folder_name(s, key, *out);
    if (!c.base.empty() && !looks_like_dn(c.base))
        s.fail(s.raw("base"), s.dotted("base"), "must be a DN (ou=shared,dc=example,dc=com)");
}

// invitations.expire_after: a duration as Postfix writes its time values ("14d", "12h",
// "90m", "30s", "2w"); a bare number is days (as Postfix's maximal_queue_lifetime), 0 =
// never. Seconds exist so a site (and a test) can use short invitations.
void read_invitations(Section s, InvitationsConfig& c) {
    constexpr long long kMaxSeconds = 3650LL * 86400;  // ten years: anything longer is a typo for "never" (0)
    s.with("expire_after", [&](const YAML::Node& v, const std::string& name) {
        const std::string text = v.IsScalar() ? v.Scalar() : std::string();
        const std::size_t digits = text.find_first_not_of("0123456789");
        const std::string number = text.substr(0, digits);
        const std::string unit = digits == std::string::npos ? "d" : text.substr(digits);
        static const std::map<std::string, long long> kUnits{{"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {"w", 604800}};
        const auto factor = kUnits.find(unit);
        if (number.empty() || number.size() > 7 || factor == kUnits.end())
            s.fail(v, name, "expected a duration such as 14d, 36h, 90m, 30s or 2w (0 = never expires)");
        const long long seconds = std::stoll(number) * factor->second;
        if (seconds > kMaxSeconds) s.fail(v, name, "must be at most 3650d (0 = never expires)");
        c.expire_after_s = seconds;
    });
    s.reject_unknown();
}

// notify: where the notices go and what they link to (issue 13).
void read_notify(Section s, NotifyConfig& c) {
    s.string("webmail_url", c.webmail_url);
    s.string("templates_dir", c.templates_dir);
    s.string("default_language", c.default_language, false);
    s.string("from", c.from);
    s.string("smtp", c.smtp);
    std::string tls = "starttls";
    s.choice("smtp_tls", tls, {"none", "starttls", "required"});
    c.smtp_tls = tls == "none" ? SmtpTlsMode::None : tls == "required" ? SmtpTlsMode::Required : SmtpTlsMode::StartTls;
    s.string("smtp_user", c.smtp_user);
    s.string("smtp_password_file", c.smtp_password_file);
    s.integer("smtp_timeout", c.smtp_timeout_s, 1, 600);
    s.reject_unknown();
    const std::vector<std::pair<const char*, const std::string*>> one_word{
        {"webmail_url", &c.webmail_url}, {"from", &c.from}, {"smtp", &c.smtp},
        {"smtp_user", &c.smtp_user}, {"smtp_password_file", &c.smtp_password_file}};
    for (const auto& [key, value] : one_word)
        if (value->find_first_of(" \t\r\n") != std::string::npos)
            s.fail(s.raw(key), s.dotted(key), "must not contain spaces or line breaks");
    if (!c.webmail_url.empty() && c.webmail_url.rfind("https://", 0) != 0 && c.webmail_url.rfind("http://", 0) != 0)
        s.fail(s.raw("webmail_url"), s.dotted("webmail_url"), "must be an http:// or https:// URL");
    if (!c.templates_dir.empty() && c.templates_dir[0] != '/')
        s.fail(s.raw("templates_dir"), s.dotted("templates_dir"), "must be an absolute path (\"\" = none)");
    bool lang_ok = c.default_language.size() >= 2 && c.default_language.size() <= 8;
    for (char ch : c.default_language) lang_ok = lang_ok && ch >= 'a' && ch <= 'z';
    if (!lang_ok)
        s.fail(s.raw("default_language"), s.dotted("default_language"), "must be a lower-case language code such as en");
    if (!c.from.empty() && (c.from.find('@') == std::string::npos || c.from.find_first_of("<>\"") != std::string::npos))
        s.fail(s.raw("from"), s.dotted("from"), "must be a bare address (postmaster@example.com)");
    if (!c.smtp.empty() && c.smtp.rfind("smtp://", 0) != 0 && c.smtp.rfind("smtps://", 0) != 0)
        s.fail(s.raw("smtp"), s.dotted("smtp"), "must be an smtp://host:port or smtps://host:port URL (\"\" = cli.sendmail)");
    if (c.smtp_user.empty() != c.smtp_password_file.empty())
        s.fail(s.raw(c.smtp_user.empty() ? "smtp_password_file" : "smtp_user"),
               s.dotted(c.smtp_user.empty() ? "smtp_password_file" : "smtp_user"),
               "smtp_user and smtp_password_file go together");
}

}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& name) {
    if (yaml_text.size() > kMaxConfigBytes) throw ConfigError(name + ": larger than 1 MiB");
    YAML::Node root;
    try {
        root = YAML::Load(yaml_text);
    } catch (const YAML::Exception& e) {
        throw ConfigError(name + ":" + std::to_string(e.mark.line + 1) + ": YAML syntax error: " + e.msg);
    }
    if (!root || root.IsNull()) throw ConfigError(name + ": empty configuration (ldap.base is required)");

    Config config;
    try {
        DuplicateKeyCheck(name).walk(root, "");
        Section top(root, "", name);
        read_ldap(top.child("ldap"), config.ldap);
        read_users(top.child("users"), config.users);
        read_groups(top.child("groups"), config.groups);
        read_cache(top.child("cache"), config.cache);
        read_policy(top.child("policy"), config.policy);
        read_service(top.child("service"), config.service);
        read_schema(top.child("schema"), config.schema);
        read_cli(top.child("cli"), config.cli);
        read_self_service(top.child("self_service"), config.self_service);
        read_team_mailbox(top.child("team_mailbox"), config.team_mailbox);
        read_invitations(top.child("invitations"), config.invitations);
        read_notify(top.child("notify"), config.notify);
        top.reject_unknown();
    } catch (const YAML::Exception& e) {  // e.g. bad conversions
        throw ConfigError(name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    return config;
}

namespace {
// At most `limit` + 1 bytes of `in` (one more than allowed, so the caller can tell a file
// over the limit), read in small chunks: every Dovecot mail process that asks mailgrant
// something loads the configuration, and zero-filling a buffer of the whole limit (1 MiB)
// cost each such process about a millisecond of page faults (bench/exec_cost.py).
// A read that fails (a directory, an I/O error) is `unreadable` + the system's reason,
// not a shorter text: a truncated configuration must not be parsed as if it were whole.
std::string read_bounded(std::istream& in, std::size_t limit, const std::string& unreadable) {
    std::string text;
    char chunk[8192];
    errno = 0;
    while (text.size() <= limit && in) {
        const std::size_t want = std::min(sizeof chunk, limit + 1 - text.size());
        in.read(chunk, static_cast<std::streamsize>(want));
        text.append(chunk, static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) throw ConfigError(unreadable + (errno ? std::string(": ") + std::strerror(errno) : std::string()));
    return text;
}
}  // namespace

Config load_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot open the configuration file");
    return parse_config(read_bounded(in, kMaxConfigBytes, path + ": cannot read the configuration file"), path);
}

std::string read_secret_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string unreadable = path + ": cannot read the password file (ldap.bind_password_file)";
    if (!in) throw ConfigError(unreadable);
    std::string text = read_bounded(in, kMaxSecretBytes, unreadable);
    if (text.size() > kMaxSecretBytes) throw ConfigError(path + ": password file is larger than 4 KiB");
    const auto eol = text.find_first_of("\r\n");
    if (eol != std::string::npos) text.resize(eol);
    if (text.empty()) throw ConfigError(path + ": password file is empty (ldap.bind_password_file)");
    return text;
}

}  // namespace mailgrant
