// Unit tests for config.h: defaults, fixed keys, and errors that name key and line.
#include "mailgrant/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

using mailgrant::ConfigError;
using mailgrant::parse_config;
using mailgrant::SentCopyDefault;

namespace {

std::string error_of(const std::string& yaml) {
    try {
        parse_config(yaml, "test.yaml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(Config, FixedKeysOnlyGiveWorkingDefaults) {
    const auto c = parse_config(
        "ldap:\n"
        "  uris: [ldap://10.0.0.1, ldap://10.0.0.2]\n"
        "  base: dc=example,dc=com\n"
        "  bind_dn: cn=mailgrant,dc=example,dc=com\n"
        "  bind_password_file: /etc/mailgrant/ldap.secret\n"
        "cache:\n"
        "  ttl_s: 60\n"
        "policy:\n"
        "  listen: inet:127.0.0.1:10031\n");
    EXPECT_EQ(c.ldap.uris.size(), 2u);
    EXPECT_EQ(c.ldap.uris[1], "ldap://10.0.0.2");
    EXPECT_EQ(c.ldap.base, "dc=example,dc=com");
    EXPECT_EQ(c.cache.ttl_s, 60);
    EXPECT_EQ(c.policy.listen, "inet:127.0.0.1:10031");
    // Defaults for a plain OpenLDAP directory.
    EXPECT_EQ(c.users_base(), "dc=example,dc=com");
    EXPECT_NE(c.users.login_filter.find("inetOrgPerson"), std::string::npos);
    EXPECT_NE(c.users.address_filter.find("mailLocalAddress"), std::string::npos);
    EXPECT_EQ(c.users.alias_attributes, std::vector<std::string>{"mailLocalAddress"});
    EXPECT_NE(c.groups.member_filter.find("groupOfUniqueNames"), std::string::npos);
    EXPECT_EQ(c.schema.grantee, "mailGrantee");
    EXPECT_EQ(c.cache.negative_ttl_s, 5);
    EXPECT_EQ(c.ldap.tls_require_cert, "demand");
}

TEST(Config, DefaultTtlIsThirtySeconds) {
    const auto c = parse_config("ldap:\n  base: dc=x\n");
    EXPECT_EQ(c.cache.ttl_s, 30);
    EXPECT_EQ(c.ldap.uris.size(), 1u);
}

TEST(Config, ServiceIsOffByDefault) {
    const auto c = parse_config("ldap:\n  base: dc=x\n");
    EXPECT_EQ(c.service.listen, "");
    EXPECT_EQ(c.service.socket_group, "mailgrant");
    EXPECT_EQ(c.service.socket_mode, 0660);
    EXPECT_EQ(c.service.memo_ms, 500);
    const auto on = parse_config("ldap:\n  base: dc=x\nservice:\n  listen: unix:/run/mailgrant/service\n"
                                 "  socket_mode: \"0600\"\n  memo_ms: 0\n");
    EXPECT_EQ(on.service.listen, "unix:/run/mailgrant/service");
    EXPECT_EQ(on.service.socket_mode, 0600);
    EXPECT_EQ(on.service.memo_ms, 0);
}

TEST(Config, FollowChangesDefaultsOnAndCanBeTurnedOff) {
    EXPECT_TRUE(parse_config("ldap:\n  base: dc=x\n").cache.follow_changes);
    EXPECT_FALSE(parse_config("ldap:\n  base: dc=x\ncache:\n  follow_changes: false\n").cache.follow_changes);
    EXPECT_EQ(parse_config("ldap:\n  base: dc=x\n").cache.follow_ttl_s, 600);
    EXPECT_EQ(parse_config("ldap:\n  base: dc=x\ncache:\n  follow_ttl_s: 0\n").cache.follow_ttl_s, 0);
}

TEST(Config, SingleUriStringIsAccepted) {
    EXPECT_EQ(parse_config("ldap:\n  base: dc=x\n  uris: ldap://h\n").ldap.uris.front(), "ldap://h");
}

struct BadConfig {
    const char* name;
    const char* yaml;
    const char* expected;  // substring of the message
};

class ConfigErrors : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ConfigErrors, NameKeyAndLine) {
    const auto& c = GetParam();
    const std::string message = error_of(c.yaml);
    EXPECT_NE(message.find(c.expected), std::string::npos) << "message was: " << message;
}

// Issue 19: the shared memory of failed LDAP servers (server_health.h).
INSTANTIATE_TEST_SUITE_P(
    ServerHealth, ConfigErrors,
    ::testing::Values(
        BadConfig{"holddown_negative", "ldap:\n  base: dc=x\n  server_holddown_s: -1\n",
                  "test.yaml:3: ldap.server_holddown_s: must be between 0 and 86400"},
        BadConfig{"holddown_too_long", "ldap:\n  base: dc=x\n  server_holddown_s: 86401\n",
                  "ldap.server_holddown_s: must be between 0 and 86400"},
        BadConfig{"holddown_not_int", "ldap:\n  base: dc=x\n  server_holddown_s: 30s\n",
                  "test.yaml:3: ldap.server_holddown_s: expected an integer"},
        BadConfig{"state_file_relative", "ldap:\n  base: dc=x\n  server_state_file: run/ldap-servers\n",
                  "test.yaml:3: ldap.server_state_file: must be an absolute path"},
        BadConfig{"state_file_list", "ldap:\n  base: dc=x\n  server_state_file: [/a]\n",
                  "test.yaml:3: ldap.server_state_file: expected a string"},
        BadConfig{"state_file_twice", "ldap:\n  base: dc=x\n  server_state_file: /a\n  server_state_file: /b\n",
                  "test.yaml:4: duplicate key 'ldap.server_state_file' (first at line 3)"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Config, ServerHoldDownDefaultsAndValues) {
    const auto d = parse_config("ldap:\n  base: dc=x\n");
    EXPECT_EQ(d.ldap.server_holddown_s, 30);
    EXPECT_EQ(d.ldap.server_state_file, "/run/mailgrant/ldap-servers");
    const auto c = parse_config("ldap:\n  base: dc=x\n  server_holddown_s: 0\n  server_state_file: ''\n");
    EXPECT_EQ(c.ldap.server_holddown_s, 0);
    EXPECT_EQ(c.ldap.server_state_file, "");
    EXPECT_EQ(parse_config("ldap:\n  base: dc=x\n  server_state_file: /var/lib/mailgrant/s\n").ldap.server_state_file,
              "/var/lib/mailgrant/s");
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigErrors,
    ::testing::Values(
        BadConfig{"unknown_top", "ldap:\n  base: dc=x\nldpa:\n  base: y\n", "test.yaml:3: ldpa: unknown key"},
        BadConfig{"unknown_nested", "ldap:\n  base: dc=x\n  bsae: dc=y\n", "test.yaml:3: ldap.bsae: unknown key"},
        BadConfig{"missing_base", "ldap:\n  uris: [ldap://h]\n", "ldap.base: is required"},
        BadConfig{"empty_file", "", "ldap.base is required"},
        BadConfig{"bad_uri", "ldap:\n  base: dc=x\n  uris: [http://h]\n", "ldap.uris: 'http://h' is not"},
        BadConfig{"uris_not_list", "ldap:\n  base: dc=x\n  uris: {a: b}\n", "test.yaml:3: ldap.uris: expected a list"},
        BadConfig{"ttl_not_int", "ldap:\n  base: dc=x\ncache:\n  ttl_s: soon\n", "test.yaml:4: cache.ttl_s: expected an integer"},
        BadConfig{"ttl_negative", "ldap:\n  base: dc=x\ncache:\n  ttl_s: -1\n", "cache.ttl_s: must be between 0 and 86400"},
        BadConfig{"follow_ttl_too_long", "ldap:\n  base: dc=x\ncache:\n  follow_ttl_s: 86401\n",
                  "test.yaml:4: cache.follow_ttl_s: must be between 0 and 86400"},
        BadConfig{"bool_bad", "ldap:\n  base: dc=x\n  starttls: maybe\n", "ldap.starttls: expected true or false"},
        BadConfig{"follow_changes_bad", "ldap:\n  base: dc=x\ncache:\n  follow_changes: sometimes\n",
                  "test.yaml:4: cache.follow_changes: expected true or false"},
        BadConfig{"choice_bad", "ldap:\n  base: dc=x\n  tls_require_cert: sometimes\n", "ldap.tls_require_cert: must be one of"},
        BadConfig{"service_listen_inet", "ldap:\n  base: dc=x\nservice:\n  listen: inet:127.0.0.1:99\n",
                  "test.yaml:4: service.listen: must be unix:/ABSOLUTE/PATH"},
        BadConfig{"service_listen_relative", "ldap:\n  base: dc=x\nservice:\n  listen: unix:run/s\n",
                  "service.listen: must be unix:/ABSOLUTE/PATH"},
        BadConfig{"service_listen_too_long", "ldap:\n  base: dc=x\nservice:\n  listen: unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
                  "service.listen: is longer than a unix socket path may be"},
        BadConfig{"service_mode", "ldap:\n  base: dc=x\nservice:\n  socket_mode: \"0999\"\n",
                  "service.socket_mode: must be an octal mode"},
        BadConfig{"service_timeout", "ldap:\n  base: dc=x\nservice:\n  timeout_ms: 10\n",
                  "service.timeout_ms: must be between 50 and 60000"},
        BadConfig{"service_unknown", "ldap:\n  base: dc=x\nservice:\n  listen: unix:/run/s\n  listne: x\n",
                  "test.yaml:5: service.listne"},
        BadConfig{"bind_without_password", "ldap:\n  base: dc=x\n  bind_dn: cn=a\n", "ldap.bind_password_file: is required"},
        BadConfig{"filter_without_value", "ldap:\n  base: dc=x\nusers:\n  login_filter: (uid=bob)\n", "test.yaml:4: users.login_filter: must contain %s"},
        BadConfig{"dn_template_no_login", "ldap:\n  base: dc=x\nusers:\n  dn_template: uid=bob,dc=x\n",
                  "test.yaml:4: users.dn_template: must contain %u or %n"},
        BadConfig{"dn_template_bad_percent", "ldap:\n  base: dc=x\nusers:\n  dn_template: uid=%s,dc=x\n",
                  "users.dn_template: must contain %u or %n where the login goes (and no other '%' but %%, %d)"},
        BadConfig{"dn_template_domain_only", "ldap:\n  base: dc=x\nusers:\n  dn_template: ou=%d,dc=x\n",
                  "test.yaml:4: users.dn_template: must contain %u or %n"},
        BadConfig{"dn_template_not_dn", "ldap:\n  base: dc=x\nusers:\n  dn_template: '%n'\n",
                  "users.dn_template: is not a DN once filled ('someone')"},
        BadConfig{"filter_unbalanced", "ldap:\n  base: dc=x\nusers:\n  login_filter: (|(uid=%s)\n", "users.login_filter: has unbalanced"},
        BadConfig{"bad_attribute", "ldap:\n  base: dc=x\nschema:\n  grantee: 'mail grantee'\n", "schema.grantee: must be an LDAP attribute"},
        BadConfig{"membership_bad", "ldap:\n  base: dc=x\ngroups:\n  membership: magic\n", "groups.membership: must be one of: memberof, search"},
        BadConfig{"listen_bad", "ldap:\n  base: dc=x\npolicy:\n  listen: 10031\n", "policy.listen: must be unix:/ABSOLUTE/PATH or inet:HOST:PORT"},
        BadConfig{"listen_no_port", "ldap:\n  base: dc=x\npolicy:\n  listen: inet:127.0.0.1\n", "policy.listen: must be"},
        BadConfig{"defer_5xx", "ldap:\n  base: dc=x\npolicy:\n  defer_text: 5.7.1 no\n", "policy.defer_text: must start with a 4.x.x"},
        BadConfig{"reject_4xx", "ldap:\n  base: dc=x\npolicy:\n  reject_text: 4.7.1 later\n", "policy.reject_text: must start with a 5.x.x"},
        BadConfig{"anyone_group_with_dollar", "ldap:\n  base: dc=x\nself_service:\n  anyone_group: $staff\n",
                  "test.yaml:4: self_service.anyone_group: is the group's name without the '$'"},
        BadConfig{"authenticated_group_two_lines", "ldap:\n  base: dc=x\nself_service:\n  authenticated_group: \"a\\nb\"\n",
                  "self_service.authenticated_group: must be one line"},
        BadConfig{"allowed_rights_unknown_letter", "ldap:\n  base: dc=x\nself_service:\n  allowed_rights: lrsz\n",
                  "test.yaml:4: self_service.allowed_rights: must be RFC 4314 letters"},
        BadConfig{"allowed_rights_empty", "ldap:\n  base: dc=x\nself_service:\n  allowed_rights: ''\n",
                  "self_service.allowed_rights: must not be empty"},
        BadConfig{"team_mailbox_sent_copy_bad", "ldap:\n  base: dc=x\nteam_mailbox:\n  sent_copy: always\n",
                  "test.yaml:4: team_mailbox.sent_copy"},
        BadConfig{"team_mailbox_folder_wildcard", "ldap:\n  base: dc=x\nteam_mailbox:\n  sent: 'Sent*'\n",
                  "test.yaml:4: team_mailbox.sent: must be one folder name"},
        BadConfig{"team_mailbox_folder_empty", "ldap:\n  base: dc=x\nteam_mailbox:\n  drafts: ''\n",
                  "team_mailbox.drafts: must not be empty"},
        BadConfig{"team_mailbox_base_not_dn", "ldap:\n  base: dc=x\nteam_mailbox:\n  base: shared\n",
                  "test.yaml:4: team_mailbox.base: must be a DN"},
        BadConfig{"team_mailbox_unknown", "ldap:\n  base: dc=x\nteam_mailbox:\n  outbox: Out\n",
                  "team_mailbox.outbox: unknown key"},
        BadConfig{"team_mailbox_sent_copy_domain_upper", "ldap:\n  base: dc=x\nteam_mailbox:\n  sent_copy_domain: Sent.Example\n",
                  "test.yaml:4: team_mailbox.sent_copy_domain: must be a lower-case domain name"},
        BadConfig{"team_mailbox_sent_copy_domain_one_label", "ldap:\n  base: dc=x\nteam_mailbox:\n  sent_copy_domain: invalid\n",
                  "test.yaml:4: team_mailbox.sent_copy_domain: must be a domain with at least two labels"},
        BadConfig{"team_mailbox_sent_copy_domain_empty_label", "ldap:\n  base: dc=x\nteam_mailbox:\n  sent_copy_domain: a..invalid\n",
                  "team_mailbox.sent_copy_domain: must not have an empty label"},
        BadConfig{"team_mailbox_sent_copy_domain_at", "ldap:\n  base: dc=x\nteam_mailbox:\n  sent_copy_domain: '@x.invalid'\n",
                  "team_mailbox.sent_copy_domain: must be a lower-case domain name"},
        BadConfig{"cli_accesslog_base_not_dn", "ldap:\n  base: dc=x\ncli:\n  accesslog_base: accesslog\n",
                  "test.yaml:4: cli.accesslog_base: must be a DN"},
        BadConfig{"cli_sendmail_blank", "ldap:\n  base: dc=x\ncli:\n  sendmail: ' '\n", "test.yaml:4: cli.sendmail: must be one command"},
        BadConfig{"cli_sendmail_two_lines", "ldap:\n  base: dc=x\ncli:\n  sendmail: \"a\\nb\"\n", "cli.sendmail: must be one command"},
        BadConfig{"self_service_unknown", "ldap:\n  base: dc=x\nself_service:\n  anyone: staff\n",
                  "self_service.anyone: unknown key"},
        BadConfig{"defer_action_bad", "ldap:\n  base: dc=x\npolicy:\n  defer_action: REJECT\n", "policy.defer_action: must be one of"},
        BadConfig{"mode_bad", "ldap:\n  base: dc=x\npolicy:\n  socket_mode: '0999'\n", "policy.socket_mode: must be an octal mode"},
        BadConfig{"reject_local_no_domains", "ldap:\n  base: dc=x\npolicy:\n  unauthenticated: reject_local\n", "policy.local_domains: is required"},
        BadConfig{"section_not_map", "ldap: [1, 2]\n", "ldap: expected a mapping"},
        BadConfig{"syntax", "ldap:\n  base: [unclosed\n", "YAML syntax error"},
        BadConfig{"timeout_zero", "ldap:\n  base: dc=x\n  operation_timeout_ms: 0\n", "ldap.operation_timeout_ms: must be between"}),
    [](const auto& info) { return std::string(info.param.name); });

// Issue 10, part 3: yaml-cpp keeps the first of two equal keys, so a hardening appended
// to the file would be silently ignored. Every duplicate, at any depth, names the key
// (dotted) and both lines.
INSTANTIATE_TEST_SUITE_P(
    DuplicateKeys, ConfigErrors,
    ::testing::Values(
        BadConfig{"second_section", "ldap:\n  base: dc=x\npolicy:\n  workers: 4\ncache:\n  ttl_s: 5\npolicy:\n  workers: 1\n",
                  "test.yaml:7: duplicate key 'policy' (first at line 3)"},
        BadConfig{"empty_second_section", "ldap:\n  base: dc=x\npolicy:\n  workers: 4\npolicy:\n",
                  "test.yaml:5: duplicate key 'policy' (first at line 3)"},
        BadConfig{"nested_twice", "ldap:\n  base: dc=x\ncache:\n  ttl_s: 30\n  negative_ttl_s: 5\n  ttl_s: 600\n",
                  "test.yaml:6: duplicate key 'cache.ttl_s' (first at line 4)"},
        BadConfig{"same_value_twice", "ldap:\n  base: dc=x\n  base: dc=x\n",
                  "test.yaml:3: duplicate key 'ldap.base' (first at line 2)"},
        BadConfig{"flow_mapping", "ldap: {base: dc=x, base: dc=y}\n", "test.yaml:1: duplicate key 'ldap.base' (first at line 1)"},
        BadConfig{"quoted_spelling", "ldap:\n  base: dc=x\ncache:\n  ttl_s: 30\n  'ttl_s': 600\n",
                  "test.yaml:5: duplicate key 'cache.ttl_s' (first at line 4)"},
        BadConfig{"unknown_key_twice", "ldap:\n  base: dc=x\nextra: 1\nextra: 2\n",
                  "test.yaml:4: duplicate key 'extra' (first at line 3)"},
        BadConfig{"inside_a_list", "ldap:\n  base: dc=x\n  uris:\n    - {a: 1, a: 2}\n",
                  "test.yaml:4: duplicate key 'ldap.uris[0].a' (first at line 4)"},
        BadConfig{"deep_nesting", "ldap:\n  base: dc=x\nx: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
                  "is nested more than 32 levels deep"}),
    [](const auto& info) { return std::string(info.param.name); });

// The same key in different mappings is no duplicate.
TEST(Config, DnTemplateIsOffByDefaultAndRead) {
    EXPECT_EQ(parse_config("ldap:\n  base: dc=x\n").users.dn_template, "");
    const auto c = parse_config("ldap:\n  base: dc=x\nusers:\n  dn_template: 'uid=%n,ou=people,dc=x'\n");
    EXPECT_EQ(c.users.dn_template, "uid=%n,ou=people,dc=x");
}

TEST(Config, GroupNameFilterForSelfService) {
    const auto defaults = parse_config("ldap:\n  base: dc=example,dc=com\n");
    EXPECT_NE(defaults.groups.name_filter.find("(cn=%s)"), std::string::npos);
    const auto c = parse_config("ldap:\n  base: dc=example,dc=com\ngroups:\n  name_filter: \"(&(objectClass=posixGroup)(cn=%s))\"\n");
    EXPECT_EQ(c.groups.name_filter, "(&(objectClass=posixGroup)(cn=%s))");
    EXPECT_THROW(parse_config("ldap:\n  base: dc=example,dc=com\ngroups:\n  name_filter: \"(cn=x)\"\n"), ConfigError);
}

// Issue 12: "anyone"/"authenticated" map to a group only when configured; the rights a
// client may give default to all letters (what was allowed before the key existed).
TEST(Config, SelfServiceDefaultsAndValues) {
    const auto defaults = parse_config("ldap:\n  base: dc=x\n");
    EXPECT_EQ(defaults.self_service.anyone_group, "");
    EXPECT_EQ(defaults.self_service.authenticated_group, "");
    EXPECT_EQ(defaults.self_service.allowed_rights, "lrswipkxtea");
    struct {
        const char* given;
        const char* canonical;
    } const rights[] = {{"lrswipkxte", "lrswipkxte"}, {"editor", "lrswipkxte"}, {"srl", "lrs"}, {"Reader", "lrs"}};
    for (const auto& r : rights) {
        const auto c = parse_config(std::string("ldap:\n  base: dc=x\nself_service:\n  allowed_rights: ") + r.given + "\n");
        EXPECT_EQ(c.self_service.allowed_rights, r.canonical) << r.given;
    }
    const auto c = parse_config(
        "ldap:\n  base: dc=x\nself_service:\n  anyone_group: all-staff\n  authenticated_group: 'team, all'\n");
    EXPECT_EQ(c.self_service.anyone_group, "all-staff");
    EXPECT_EQ(c.self_service.authenticated_group, "team, all");
}

TEST(Config, TeamMailboxDefaultsAndValues) {
    const auto d = parse_config("ldap:\n  base: dc=x\n");
    EXPECT_EQ(d.team_mailbox.base, "");
    EXPECT_EQ(d.team_mailbox.drafts, "Drafts");
    EXPECT_EQ(d.team_mailbox.sent, "Sent");
    EXPECT_EQ(d.team_mailbox.trash, "Trash");
    EXPECT_EQ(d.team_mailbox.junk, "Junk");
    EXPECT_EQ(d.team_mailbox.sent_copy, SentCopyDefault::Shared);
    EXPECT_EQ(d.schema.sent_copy, "mailSharedSentCopy");
    EXPECT_EQ(d.team_mailbox.sent_copy_domain, "");  // no copies until Postfix routes them
    const struct {
        const char* given;
        SentCopyDefault value;
    } copies[] = {{"shared", SentCopyDefault::Shared}, {"all", SentCopyDefault::All}, {"none", SentCopyDefault::None}};
    for (const auto& c : copies)
        EXPECT_EQ(parse_config(std::string("ldap:\n  base: dc=x\nteam_mailbox:\n  sent_copy: ") + c.given + "\n")
                      .team_mailbox.sent_copy,
                  c.value)
            << c.given;
    const auto c = parse_config(
        "ldap:\n  base: dc=x\nteam_mailbox:\n  base: ou=shared,dc=x\n  sent: Sent Items\n  trash: Deleted Items\n");
    EXPECT_EQ(c.team_mailbox.base, "ou=shared,dc=x");
    EXPECT_EQ(c.team_mailbox.sent, "Sent Items");
    EXPECT_EQ(c.team_mailbox.trash, "Deleted Items");
    EXPECT_EQ(parse_config("ldap:\n  base: dc=x\nteam_mailbox:\n  sent_copy_domain: sent-copy.mailgrant.invalid\n")
                  .team_mailbox.sent_copy_domain,
              "sent-copy.mailgrant.invalid");
}

TEST(Config, CliAccesslogBase) {
    EXPECT_EQ(parse_config("ldap:\n  base: dc=x\n").cli.accesslog_base, "");  // default: not used
    EXPECT_EQ(parse_config("ldap:\n  base: dc=x\ncli:\n  accesslog_base: cn=accesslog\n").cli.accesslog_base,
              "cn=accesslog");
    EXPECT_EQ(parse_config("ldap:\n  base: dc=x\n").cli.sendmail, "/usr/sbin/sendmail -t -i");
    EXPECT_EQ(parse_config("ldap:\n  base: dc=x\ncli:\n  sendmail: /usr/bin/msmtp -t\n").cli.sendmail, "/usr/bin/msmtp -t");
}

TEST(Config, EqualKeysInDifferentSectionsAreFine) {
    const auto c = parse_config(
        "ldap:\n  base: dc=x\nusers:\n  base: ou=people,dc=x\ngroups:\n  base: ou=groups,dc=x\n"
        "policy:\n  workers: 3\n");
    EXPECT_EQ(c.users_base(), "ou=people,dc=x");
    EXPECT_EQ(c.groups_base(), "ou=groups,dc=x");
    EXPECT_EQ(c.policy.workers, 3);
}

TEST(Config, SecretFileFirstLineWithoutNewline) {
    const std::string path = ::testing::TempDir() + "/secret";
    std::ofstream(path) << "s3cret\r\nignored\n";
    EXPECT_EQ(mailgrant::read_secret_file(path), "s3cret");
    std::ofstream(path, std::ios::trunc) << "\n";
    EXPECT_THROW(mailgrant::read_secret_file(path), ConfigError);
    EXPECT_THROW(mailgrant::read_secret_file(path + ".missing"), ConfigError);
}

// The files are read in chunks up to their limits (config.cpp's read_bounded): a file of
// exactly the limit is read whole, one byte more is refused, naming the limit.
TEST(Config, FileLimitsAreExactAcrossChunks) {
    const std::string secret = ::testing::TempDir() + "/secret-limit";
    std::ofstream(secret, std::ios::trunc) << std::string(4096, 'p');
    EXPECT_EQ(mailgrant::read_secret_file(secret), std::string(4096, 'p'));
    std::ofstream(secret, std::ios::trunc) << std::string(4097, 'p');
    EXPECT_THROW(mailgrant::read_secret_file(secret), ConfigError);

    const std::string config = ::testing::TempDir() + "/config-limit.yaml";
    const std::string head = "ldap:\n  base: dc=x\n";
    std::string padded = head + std::string((1u << 20) - head.size() - 1, '#') + "\n";   // a comment line
    std::ofstream(config, std::ios::trunc | std::ios::binary) << padded;
    EXPECT_EQ(mailgrant::load_config(config).ldap.base, "dc=x");
    std::ofstream(config, std::ios::trunc | std::ios::binary) << padded << "\n";
    try {
        mailgrant::load_config(config);
        FAIL() << "a configuration over 1 MiB was accepted";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("larger than 1 MiB"), std::string::npos) << e.what();
    }
}

// A file that opens but cannot be read (here a directory) is refused as unreadable, never
// parsed as the empty or partial text a failed read leaves.
TEST(Config, UnreadableFilesAreRefusedAsUnreadable) {
    const std::string dir = ::testing::TempDir() + "/config-is-a-directory";
    std::filesystem::create_directories(dir);
    const struct {
        std::function<void()> load;
        const char* says;
    } cases[] = {{[&] { mailgrant::load_config(dir); }, "cannot read the configuration file"},
                 {[&] { mailgrant::read_secret_file(dir); }, "cannot read the password file"}};
    for (const auto& c : cases) {
        try {
            c.load();
            ADD_FAILURE() << "a directory was read as " << c.says;
        } catch (const ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
        }
    }
}

TEST(Config, LoadConfigNamesTheFile) {
    try {
        mailgrant::load_config("/nonexistent/mailgrant.yaml");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/mailgrant.yaml"), std::string::npos);
    }
}

// Issue 13: invitations.expire_after, a duration (bare number = days, 0 = never).
INSTANTIATE_TEST_SUITE_P(
    Invitations, ConfigErrors,
    ::testing::Values(
        BadConfig{"expire_unit_unknown", "ldap:\n  base: dc=x\ninvitations:\n  expire_after: 14 days\n",
                  "test.yaml:4: invitations.expire_after: expected a duration such as 14d"},
        BadConfig{"expire_negative", "ldap:\n  base: dc=x\ninvitations:\n  expire_after: -1d\n",
                  "test.yaml:4: invitations.expire_after: expected a duration"},
        BadConfig{"expire_no_number", "ldap:\n  base: dc=x\ninvitations:\n  expire_after: d\n",
                  "invitations.expire_after: expected a duration"},
        BadConfig{"expire_list", "ldap:\n  base: dc=x\ninvitations:\n  expire_after: [14d]\n",
                  "test.yaml:4: invitations.expire_after: expected a duration"},
        BadConfig{"expire_too_long", "ldap:\n  base: dc=x\ninvitations:\n  expire_after: 3651d\n",
                  "invitations.expire_after: must be at most 3650d"},
        BadConfig{"expire_huge_number", "ldap:\n  base: dc=x\ninvitations:\n  expire_after: 99999999999999999999s\n",
                  "invitations.expire_after: expected a duration"},
        BadConfig{"invitations_unknown", "ldap:\n  base: dc=x\ninvitations:\n  expire_days: 14\n",
                  "test.yaml:4: invitations.expire_days: unknown key"},
        BadConfig{"invitations_twice", "ldap:\n  base: dc=x\ninvitations:\n  expire_after: 1d\n  expire_after: 0\n",
                  "test.yaml:5: duplicate key 'invitations.expire_after' (first at line 4)"}),
    [](const auto& info) { return std::string(info.param.name); });

// Issue 13: notify (the notices) and users.language_attribute.
INSTANTIATE_TEST_SUITE_P(
    Notify, ConfigErrors,
    ::testing::Values(
        BadConfig{"notify_unknown", "ldap:\n  base: dc=x\nnotify:\n  smtp_host: localhost\n",
                  "test.yaml:4: notify.smtp_host: unknown key"},
        BadConfig{"notify_twice", "ldap:\n  base: dc=x\nnotify:\n  from: a@x\n  from: b@x\n",
                  "test.yaml:5: duplicate key 'notify.from' (first at line 4)"},
        BadConfig{"notify_tls_choice", "ldap:\n  base: dc=x\nnotify:\n  smtp_tls: yes\n",
                  "test.yaml:4: notify.smtp_tls"},
        BadConfig{"notify_smtp_not_url", "ldap:\n  base: dc=x\nnotify:\n  smtp: localhost:25\n",
                  "test.yaml:4: notify.smtp: must be an smtp://host:port or smtps://host:port URL"},
        BadConfig{"notify_webmail_not_http", "ldap:\n  base: dc=x\nnotify:\n  webmail_url: mail.example.com\n",
                  "test.yaml:4: notify.webmail_url: must be an http:// or https:// URL"},
        BadConfig{"notify_webmail_space", "ldap:\n  base: dc=x\nnotify:\n  webmail_url: \"https://x/ y\"\n",
                  "test.yaml:4: notify.webmail_url: must not contain spaces or line breaks"},
        BadConfig{"notify_templates_relative", "ldap:\n  base: dc=x\nnotify:\n  templates_dir: notices\n",
                  "test.yaml:4: notify.templates_dir: must be an absolute path"},
        BadConfig{"notify_language_upper", "ldap:\n  base: dc=x\nnotify:\n  default_language: PL\n",
                  "test.yaml:4: notify.default_language: must be a lower-case language code"},
        BadConfig{"notify_language_empty", "ldap:\n  base: dc=x\nnotify:\n  default_language: \"\"\n",
                  "notify.default_language"},
        BadConfig{"notify_from_angle", "ldap:\n  base: dc=x\nnotify:\n  from: \"<a@x>\"\n",
                  "test.yaml:4: notify.from: must be a bare address"},
        BadConfig{"notify_user_without_password", "ldap:\n  base: dc=x\nnotify:\n  smtp_user: mailgrant\n",
                  "test.yaml:4: notify.smtp_user: smtp_user and smtp_password_file go together"},
        BadConfig{"notify_timeout_zero", "ldap:\n  base: dc=x\nnotify:\n  smtp_timeout: 0\n",
                  "test.yaml:4: notify.smtp_timeout"},
        BadConfig{"language_attribute_bad", "ldap:\n  base: dc=x\nusers:\n  language_attribute: \"preferred language\"\n",
                  "test.yaml:4: users.language_attribute"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Config, NotifyDefaultsAndValues) {
    const auto d = parse_config("ldap:\n  base: dc=x\n");
    EXPECT_EQ(d.notify.webmail_url, "");
    EXPECT_EQ(d.notify.templates_dir, "/etc/mailgrant/notices");
    EXPECT_EQ(d.notify.default_language, "en");
    EXPECT_EQ(d.notify.smtp, "");
    EXPECT_EQ(d.notify.smtp_tls, mailgrant::SmtpTlsMode::StartTls);
    EXPECT_EQ(d.notify.smtp_timeout_s, 30);
    EXPECT_EQ(d.users.language_attribute, "preferredLanguage");
    const auto c = parse_config(
        "ldap:\n  base: dc=x\nusers:\n  language_attribute: lang\nnotify:\n"
        "  webmail_url: https://mail.example.com/roundcube/\n  templates_dir: \"\"\n  default_language: pl\n"
        "  from: notices@example.com\n  smtp: smtps://mail.example.com:465\n  smtp_tls: required\n"
        "  smtp_user: mailgrant\n  smtp_password_file: /etc/mailgrant/smtp.secret\n  smtp_timeout: 60\n");
    EXPECT_EQ(c.users.language_attribute, "lang");
    EXPECT_EQ(c.notify.webmail_url, "https://mail.example.com/roundcube/");
    EXPECT_EQ(c.notify.templates_dir, "");
    EXPECT_EQ(c.notify.default_language, "pl");
    EXPECT_EQ(c.notify.from, "notices@example.com");
    EXPECT_EQ(c.notify.smtp, "smtps://mail.example.com:465");
    EXPECT_EQ(c.notify.smtp_tls, mailgrant::SmtpTlsMode::Required);
    EXPECT_EQ(c.notify.smtp_user, "mailgrant");
    EXPECT_EQ(c.notify.smtp_password_file, "/etc/mailgrant/smtp.secret");
    EXPECT_EQ(c.notify.smtp_timeout_s, 60);
    EXPECT_EQ(parse_config("ldap:\n  base: dc=x\nnotify:\n  smtp_tls: none\n").notify.smtp_tls,
              mailgrant::SmtpTlsMode::None);
}

TEST(Config, InvitationExpiryDefaultsAndValues) {
    EXPECT_EQ(parse_config("ldap:\n  base: dc=x\n").invitations.expire_after_s, 14LL * 86400);
    const struct {
        const char* value;
        long long seconds;
    } cases[] = {{"14d", 14LL * 86400}, {"14", 14LL * 86400}, {"36h", 36LL * 3600}, {"90m", 5400},
                 {"30s", 30},           {"2w", 14LL * 86400}, {"0", 0},             {"0s", 0},
                 {"3650d", 3650LL * 86400}};
    for (const auto& c : cases)
        EXPECT_EQ(parse_config(std::string("ldap:\n  base: dc=x\ninvitations:\n  expire_after: ") + c.value + "\n")
                      .invitations.expire_after_s,
                  c.seconds)
            << c.value;
}

}  // namespace

namespace {

// The shipped, fully commented example must load and must show the real defaults.
TEST(Config, ShippedExampleLoadsAndShowsTheDefaults) {
    const auto shipped = mailgrant::load_config(MAILGRANT_EXAMPLES "/mailgrant.yaml");
    const auto defaults = parse_config("ldap:\n  base: dc=example,dc=com\n");
    EXPECT_EQ(shipped.ldap.uris, defaults.ldap.uris);
    EXPECT_EQ(shipped.ldap.operation_timeout_ms, defaults.ldap.operation_timeout_ms);
    EXPECT_EQ(shipped.ldap.size_limit, defaults.ldap.size_limit);
    EXPECT_EQ(shipped.ldap.server_holddown_s, defaults.ldap.server_holddown_s);
    EXPECT_EQ(shipped.ldap.server_state_file, defaults.ldap.server_state_file);
    EXPECT_EQ(shipped.users.login_filter, defaults.users.login_filter);
    EXPECT_EQ(shipped.users.address_filter, defaults.users.address_filter);
    EXPECT_EQ(shipped.users.dn_template, defaults.users.dn_template);
    EXPECT_EQ(shipped.groups.member_filter, defaults.groups.member_filter);
    EXPECT_EQ(shipped.groups.max_depth, defaults.groups.max_depth);
    EXPECT_EQ(shipped.cache.ttl_s, defaults.cache.ttl_s);
    EXPECT_EQ(shipped.cache.negative_ttl_s, defaults.cache.negative_ttl_s);
    EXPECT_EQ(shipped.policy.listen, defaults.policy.listen);
    EXPECT_EQ(shipped.policy.socket_mode, defaults.policy.socket_mode);
    EXPECT_EQ(shipped.policy.reject_text, defaults.policy.reject_text);
    EXPECT_EQ(shipped.policy.defer_text, defaults.policy.defer_text);
    EXPECT_EQ(shipped.policy.request_timeout_ms, defaults.policy.request_timeout_ms);
    EXPECT_EQ(shipped.schema.grantee, defaults.schema.grantee);
    EXPECT_EQ(shipped.self_service.anyone_group, defaults.self_service.anyone_group);
    EXPECT_EQ(shipped.self_service.authenticated_group, defaults.self_service.authenticated_group);
    EXPECT_EQ(shipped.self_service.allowed_rights, defaults.self_service.allowed_rights);
    EXPECT_EQ(shipped.invitations.expire_after_s, defaults.invitations.expire_after_s);
}

}  // namespace
