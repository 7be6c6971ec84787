// test_cli_units.cpp -- unit tests of the CLI's pure parts: argument parsing, tables and
// JSON, RFC 4514 RDN escaping and LDIF, grant specs (rights, times, refusals), the share
// notice, and doveadm output parsing. No network.
#include <gtest/gtest.h>

#include <tuple>

#include "args.h"
#include "doveadm.h"
#include "grant_spec.h"
#include "ldif.h"
#include "notify.h"
#include "output.h"
#include "subprocess.h"

using namespace mailgrant::cli;

TEST(Args, SplitsPositionalsAndOptions) {
    const auto a = parse_args({"alice", "--folder", "INBOX", "-f", "Sent", "--role=reader", "bob", "--notify"},
                              {{"--folder", true, true, "-f"}, {"--role", true, false, ""}, {"--notify", false, false, ""}});
    EXPECT_EQ(a.positionals, (std::vector<std::string>{"alice", "bob"}));
    EXPECT_EQ(a.values("--folder"), (std::vector<std::string>{"INBOX", "Sent"}));
    EXPECT_EQ(a.value("--role"), "reader");
    EXPECT_TRUE(a.has("--notify"));
}

TEST(Args, RejectsUnknownRepeatedAndMissingValues) {
    const std::vector<OptionSpec> specs{{"--role", true, false, ""}, {"--ldif", false, false, ""}};
    EXPECT_THROW(parse_args({"--bogus"}, specs), UsageError);
    EXPECT_THROW(parse_args({"--role", "a", "--role", "b"}, specs), UsageError);
    EXPECT_THROW(parse_args({"--role"}, specs), UsageError);
    EXPECT_THROW(parse_args({"--ldif=yes"}, specs), UsageError);
    try {
        parse_args({"--bogus"}, specs);
    } catch (const UsageError& e) {
        EXPECT_STREQ(e.what(), "unknown option '--bogus'");
    }
}

TEST(Args, DoubleDashEndsOptions) {
    const auto a = parse_args({"--", "--role"}, {{"--role", true, false, ""}});
    EXPECT_EQ(a.positionals, (std::vector<std::string>{"--role"}));
}

TEST(Args, GlobalOptionsBeforeAndAfterVerb) {
    auto g = parse_global({"-c", "/x.yaml", "list", "--json", "alice"});
    EXPECT_EQ(g.config_path, "/x.yaml");
    EXPECT_EQ(g.verb, "list");
    EXPECT_TRUE(g.json);
    EXPECT_EQ(g.rest, (std::vector<std::string>{"alice"}));
    g = parse_global({"grant", "--help"});
    EXPECT_TRUE(g.help);
    EXPECT_THROW(parse_global({"--frob", "list"}), UsageError);
}

TEST(Args, Sizes) {
    EXPECT_EQ(parse_size("10"), 10u);
    EXPECT_EQ(parse_size("2K"), 2048u);
    EXPECT_EQ(parse_size("1M"), 1048576u);
    EXPECT_THROW(parse_size("ten"), UsageError);
    EXPECT_THROW(parse_size("5Q"), UsageError);
}

TEST(Output, TableAlignsAndSanitises) {
    Table t({"A", "LONGER"});
    t.add({"wide cell", "x"});
    t.add({"b\nc", "y"});
    EXPECT_EQ(t.render(),
              "A          LONGER\n"
              "---------  ------\n"
              "wide cell  x\n"
              "b?c        y\n");
}

TEST(Output, TableCountsUtf8Characters) {
    Table t({"N", "X"});
    t.add({"Jürgen", "1"});
    t.add({"Jurgen", "2"});
    const std::string r = t.render();
    EXPECT_NE(r.find("Jürgen  1\n"), std::string::npos) << r;
    EXPECT_NE(r.find("Jurgen  2\n"), std::string::npos) << r;
}

TEST(Output, JsonEscapesAndKeepsOrder) {
    Json j = Json::object();
    j.set("z", "a\"b\\c\n\x01");
    j.set("a", Json::array());
    j.set("n", 3);
    j.set("null", Json());
    j.set("list", Json::strings({"x"}));
    EXPECT_EQ(j.dump(),
              "{\n"
              "  \"z\": \"a\\\"b\\\\c\\n\\u0001\",\n"
              "  \"a\": [],\n"
              "  \"n\": 3,\n"
              "  \"null\": null,\n"
              "  \"list\": [\n"
              "    \"x\"\n"
              "  ]\n"
              "}\n");
}

TEST(Output, HumanSize) {
    EXPECT_EQ(human_size(0), "0");
    EXPECT_EQ(human_size(1023), "1023");
    EXPECT_EQ(human_size(1536), "1.5K");
    EXPECT_EQ(human_size(20 * 1024 * 1024), "20M");
}

TEST(Ldif, EscapesRdnValues) {
    EXPECT_EQ(escape_rdn_value("plain"), "plain");
    EXPECT_EQ(escape_rdn_value("sales, EMEA"), "sales\\, EMEA");
    EXPECT_EQ(escape_rdn_value("#1"), "\\#1");
    EXPECT_EQ(escape_rdn_value(" lead"), "\\ lead");
    EXPECT_EQ(escape_rdn_value("trail "), "trail\\ ");
    EXPECT_EQ(escape_rdn_value("a+b=c;<d>\"e\\"), "a\\+b\\=c\\;\\<d\\>\\\"e\\\\");
    EXPECT_EQ(escape_rdn_value(std::string("x\0y", 3)), "x\\00y");
    EXPECT_EQ(child_dn("cn", "a,b", "uid=alice,dc=x"), "cn=a\\,b,uid=alice,dc=x");
}

TEST(Ldif, Base64AndSafeStrings) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_TRUE(ldif_safe("INBOX"));
    EXPECT_FALSE(ldif_safe(" x"));
    EXPECT_FALSE(ldif_safe(":x"));
    EXPECT_FALSE(ldif_safe("x "));
    EXPECT_FALSE(ldif_safe("Entwürfe"));
    EXPECT_FALSE(ldif_safe("a\nb"));
}

TEST(Ldif, ChangeRecords) {
    Change add;
    add.dn = "cn=x,uid=a,dc=e";
    add.attributes = {{"objectClass", "mailGrant"}, {"mailGrantFolder", "Entwürfe"}};
    EXPECT_EQ(to_ldif(add), "dn: cn=x,uid=a,dc=e\nchangetype: add\nobjectClass: mailGrant\nmailGrantFolder:: RW50d8O8cmZl\n\n");
    Change mod;
    mod.type = Change::Type::Modify;
    mod.dn = "cn=x,uid=a,dc=e";
    mod.modifications.push_back({Modification::Op::Delete, "mailGrantee", {"uid=bob,dc=e"}});
    EXPECT_EQ(to_ldif(mod), "dn: cn=x,uid=a,dc=e\nchangetype: modify\ndelete: mailGrantee\nmailGrantee: uid=bob,dc=e\n-\n\n");
    Change del;
    del.type = Change::Type::Delete;
    del.dn = "cn=x,uid=a,dc=e";
    del.comment = "why";
    EXPECT_EQ(to_ldif(del), "# why\ndn: cn=x,uid=a,dc=e\nchangetype: delete\n\n");
}

TEST(GrantSpec, TimeArguments) {
    EXPECT_EQ(parse_time_argument("2024-08-31", false), parse_time_argument("20240831000000Z", false));
    EXPECT_EQ(parse_time_argument("2024-08-31", true), parse_time_argument("20240831235959Z", false));
    EXPECT_EQ(parse_time_argument("2024-08-31T18:00Z", true), parse_time_argument("20240831180000Z", true));
    EXPECT_EQ(format_time_human(parse_time_argument("2024-08-31T18:00:05", false)), "2024-08-31 18:00:05Z");
    EXPECT_THROW(parse_time_argument("next tuesday", false), std::invalid_argument);
    EXPECT_THROW(parse_time_argument("2023-02-30", false), std::invalid_argument);
}

TEST(GrantSpec, RightsArguments) {
    EXPECT_EQ(rights_argument(std::string("Reader"), std::nullopt), "reader");
    EXPECT_EQ(rights_argument(std::nullopt, std::string("srl")), "lrs");
    EXPECT_EQ(rights_argument(std::nullopt, std::nullopt), "");
    EXPECT_THROW(rights_argument(std::string("boss"), std::nullopt), std::invalid_argument);
    EXPECT_THROW(rights_argument(std::nullopt, std::string("lrz")), std::invalid_argument);
    EXPECT_THROW(rights_argument(std::string("reader"), std::string("lr")), std::invalid_argument);
}

TEST(GrantSpec, ValidationSaysWhy) {
    GrantSpec s;
    s.name = "x";
    auto p = validate_grant(s, 1700000000);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_NE(p[0].find("gives nothing"), std::string::npos);
    s.folders = {"INBOX"};
    p = validate_grant(s, 1700000000);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_NE(p[0].find("without rights"), std::string::npos);
    s.rights_text = "reader";
    EXPECT_TRUE(validate_grant(s, 1700000000).empty());
    s.not_before = 1800000000;
    s.not_after = 1700000500;
    p = validate_grant(s, 1700000000);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_NE(p[0].find("is before --from"), std::string::npos);
    s.not_before.reset();
    s.not_after = 1600000000;
    p = validate_grant(s, 1700000000);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_NE(p[0].find("in the past"), std::string::npos);
}

TEST(GrantSpec, AddChange) {
    GrantSpec s;
    s.mailbox_dn = "uid=alice,ou=people,dc=example,dc=com";
    s.grantee_dns = {"uid=bob,ou=people,dc=example,dc=com"};
    s.name = "vacation, 2024";
    s.folders = {"INBOX"};
    s.rights_text = "lrsw";
    s.send_on_behalf = true;
    s.not_after = parse_time_argument("2024-08-31", true);
    EXPECT_EQ(to_ldif(grant_add_change(s, mailgrant::SchemaConfig{})),
              "dn: cn=vacation\\, 2024,uid=alice,ou=people,dc=example,dc=com\n"
              "changetype: add\n"
              "objectClass: mailGrant\n"
              "cn: vacation, 2024\n"
              "mailGrantee: uid=bob,ou=people,dc=example,dc=com\n"
              "mailGrantFolder: INBOX\n"
              "mailGrantRights: lrsw\n"
              "mailGrantSend: sendOnBehalf\n"
              "mailGrantNotAfter: 20240831235959Z\n\n");
}

TEST(Notify, NoticeSaysWhatHowAndUntil) {
    Notice n;
    n.from = "postmaster@example.com";
    n.to = "bob@example.com";
    n.owner = "alice@example.com";
    n.folders = {"Projects", "Projects/*"};
    n.rights = "lrs";
    n.role = "reader";
    n.not_after = parse_time_argument("2024-08-31", true);
    n.date = 1700000000;
    const std::string m = compose_notice(n);
    EXPECT_EQ(notice_subject(n), "alice@example.com shared Projects, Projects/* with you");
    EXPECT_NE(m.find("Subject: alice@example.com shared Projects, Projects/* with you\n"), std::string::npos);
    EXPECT_NE(m.find("To: <bob@example.com>\n"), std::string::npos);
    EXPECT_NE(m.find("read only"), std::string::npos);
    EXPECT_NE(m.find("2024-08-31 23:59:59Z"), std::string::npos);
    EXPECT_NE(m.find("shared/alice@example.com/Projects\n"), std::string::npos);
    EXPECT_NE(m.find("alice@example.com*bob@example.com"), std::string::npos);
    EXPECT_NE(m.find("Auto-Submitted: auto-generated"), std::string::npos);
}

TEST(Notify, SendOnlyNoticeAndHeaderInjection) {
    Notice n;
    n.from = "postmaster@example.com";
    n.to = "bob@example.com\r\nBcc: evil@example.org";
    n.owner = "support@example.com";
    n.send_as = true;
    const std::string m = compose_notice(n);
    EXPECT_EQ(notice_subject(n), "You may now send as support@example.com");
    EXPECT_EQ(m.find("\nBcc:"), std::string::npos);
    EXPECT_NE(m.find("until it is revoked"), std::string::npos);
}

TEST(Doveadm, ParsesFlowStatus) {
    const auto s = parse_status_flow(
        "mailbox=INBOX messages=3 unseen=1 vsize=1200\n"
        "Sent Items messages=2 unseen=0 vsize=800\n"
        "garbage\n");
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->messages, 5u);
    EXPECT_EQ(s->unseen, 1u);
    EXPECT_EQ(s->vsize, 2000u);
    EXPECT_FALSE(parse_status_flow("").has_value());
    EXPECT_EQ(parse_mailbox_list("INBOX\nProjects\r\n\nProjects/x\n"),
              (std::vector<std::string>{"INBOX", "Projects", "Projects/x"}));
}

// Issue 12: `check` reports local ACL file entries; `doveadm -f tab acl get` as Dovecot
// 2.3 prints it, right names turned into RFC 4314 letters.
TEST(Doveadm, ParsesAclGetTab) {
    struct {
        const char* output;
        std::vector<std::tuple<std::string, std::string, bool>> entries;  // identifier, rights, global
    } const cases[] = {
        {"ID\tGlobal\tRights\n", {}},
        {"", {}},
        {"ID\tGlobal\tRights\nuser=dave@example.com\t\tlookup read\nanyone\t\tlookup\n",
         {{"user=dave@example.com", "lr", false}, {"anyone", "l", false}}},
        {"ID\tGlobal\tRights\r\ngroup=staff\tglobal\tread write lookup write-seen write-deleted insert post expunge "
         "create delete admin\r\n",
         {{"group=staff", "lrswipkxtea", true}}},
        {"ID\tGlobal\tRights\nuser=x\t\tlookup custom-flag\nno tabs here\n\tyes\tlookup\n",
         {{"user=x", "l custom-flag", false}}},
    };
    for (const auto& c : cases) {
        std::vector<std::tuple<std::string, std::string, bool>> got;
        for (const auto& e : parse_acl_get_tab(c.output)) got.emplace_back(e.identifier, e.rights, e.global);
        EXPECT_EQ(got, c.entries) << c.output;
    }
}

// A grantee's `mailbox list` includes the shared namespace's view of other mailboxes;
// their ACL files belong to their owners and are checked there.
TEST(Doveadm, OwnFoldersLeaveSharedNamespacesOut) {
    const auto is_mailbox = [](const std::string& n) { return n == "alice@example.com" || n == "support@example.com"; };
    EXPECT_EQ(own_folders({"Stuff", "shared", "shared/alice@example.com", "shared/alice@example.com/Projects",
                           "shared/support@example.com", "INBOX", "Clients", "Clients/acme"},
                          is_mailbox),
              (std::vector<std::string>{"Stuff", "INBOX", "Clients", "Clients/acme"}));
    EXPECT_EQ(own_folders({"shared", "INBOX"}, is_mailbox), (std::vector<std::string>{"shared", "INBOX"}));
}

TEST(Subprocess, SplitsAndRuns) {
    EXPECT_EQ(split_command("doveadm -c '/a b/dovecot.conf'"),
              (std::vector<std::string>{"doveadm", "-c", "/a b/dovecot.conf"}));
    EXPECT_THROW(split_command("x 'open"), std::invalid_argument);
    const auto r = run_process({"cat"}, "hello", 10000);
    EXPECT_TRUE(r.started);
    EXPECT_EQ(r.exit_status, 0);
    EXPECT_EQ(r.out, "hello");
    EXPECT_FALSE(r.truncated);
    const auto missing = run_process({"/nonexistent/mailgrant-test"}, "", 10000);
    EXPECT_FALSE(missing.started);
    EXPECT_NE(missing.errors.find("cannot run"), std::string::npos);
    // Output past the limit is read to the end (the program is not blocked) and cut.
    const auto big = run_process({"head", "-c", std::to_string(kMaxProcessOutputBytes + 5), "/dev/zero"}, "", 30000);
    EXPECT_EQ(big.exit_status, 0);
    EXPECT_TRUE(big.truncated);
    EXPECT_EQ(big.out.size(), kMaxProcessOutputBytes);
    const auto exact = run_process({"head", "-c", std::to_string(kMaxProcessOutputBytes), "/dev/zero"}, "", 30000);
    EXPECT_FALSE(exact.truncated);
    EXPECT_EQ(exact.out.size(), kMaxProcessOutputBytes);
}
