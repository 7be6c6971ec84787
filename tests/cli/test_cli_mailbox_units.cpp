// test_cli_mailbox_units.cpp -- unit tests of `mailgrant mailbox`'s pure half
// (cli/mailbox_spec.h): argument parsing (table-driven: what is accepted, and the
// message of each refusal), the new entry's shape, the doveadm folder command and the
// `set` modification. No network.
#include <gtest/gtest.h>

#include <optional>
#include <tuple>

#include "mailbox_spec.h"

using namespace mailgrant::cli;

namespace {

struct Bad {
    std::vector<std::string> args;
    const char* message;  // a part of the UsageError's text
};

mailgrant::Config config() {
    mailgrant::Config c;
    c.ldap.base = "dc=example,dc=com";
    return c;
}

}  // namespace

TEST(MailboxArgs, RefusalsSayWhy) {
    const std::vector<Bad> table{
        {{}, "mailbox takes a sub-command"},
        {{"rename", "a@b"}, "unknown mailbox sub-command 'rename'"},
        {{"create"}, "mailbox create takes one ADDRESS (got 0)"},
        {{"create", "a@b", "c@d", "--name", "X"}, "takes one ADDRESS (got 2)"},
        {{"create", "a@b"}, "needs --name"},
        {{"create", "a@b", "--name", "  "}, "--name must not be empty"},
        {{"create", "a@b", "--name", "A\nB"}, "control characters"},
        {{"create", "a@b", "--name", std::string(300, 'x')}, "longer than 256"},
        {{"create", "sales", "--name", "S"}, "'sales' is not an address"},
        {{"create", "@b", "--name", "S"}, "is not an address"},
        {{"create", "a@", "--name", "S"}, "is not an address"},
        {{"create", "a@b@c", "--name", "S"}, "is not an address"},
        {{"create", "a b@c", "--name", "S"}, "space or control character"},
        {{"create", "uid=a@b,dc=x", "--name", "S"}, "looks like a DN"},
        {{"create", "a@b", "--name", "S", "--alias", "x"}, "--alias: 'x' is not an address"},
        {{"create", "a@b", "--name", "S", "--alias", "A@B"}, "given twice (or is the address itself)"},
        {{"create", "a@b", "--name", "S", "--alias", "c@d", "--alias", "c@D"}, "given twice"},
        {{"create", "a@b", "--name", "S", "--grant", "bob"}, "--grant needs --rights ROLE"},
        {{"create", "a@b", "--name", "S", "--rights", "reader"}, "add --grant WHO"},
        {{"create", "a@b", "--name", "S", "--send-as"}, "add --grant WHO"},
        {{"create", "a@b", "--name", "S", "--grant", "b", "--rights", "reader", "--role", "admin"}, "either --rights or --role"},
        {{"create", "a@b", "--name", "S", "--grant", "b", "--send-as", "--send-on-behalf"}, "either --send-as or --send-on-behalf"},
        {{"create", "a@b", "--name", "S", "--sent-copy", "default"}, "--sent-copy is yes or no, not 'default'"},
        {{"create", "a@b", "--name", "S", "--sent-copy", "maybe"}, "--sent-copy is yes or no"},
        {{"create", "a@b", "--name", "S", "--doveadm", " "}, "--doveadm needs a command"},
        {{"create", "a@b", "--name", "S", "--doveadm", "doveadm", "--ldif"}, "--ldif writes nothing"},
        {{"create", "a@b", "--name", "S", "--force"}, "unknown option '--force'"},
        {{"create", "a@b", "--name", "S", "--owner-group", "t", "--grant", "b"}, "give it without --grant"},
        {{"create", "a@b", "--name", "S", "--owner-group", "t", "--rights", "reader"}, "give it without --rights"},
        {{"create", "a@b", "--name", "S", "--owner-group", "$"}, "--owner-group needs a group name"},
        {{"delete"}, "mailbox delete takes one ADDRESS"},
        {{"delete", "a@b", "--name", "X"}, "unknown option '--name'"},
        {{"set", "a@b"}, "needs --name and/or --sent-copy"},
        {{"set", "a@b", "--sent-copy", "perhaps"}, "yes or no or default"},
        {{"list", "x"}, "mailbox list takes no arguments"},
        {{"list", "--ldif"}, "unknown option '--ldif'"},
    };
    for (const auto& row : table) {
        std::string joined;
        for (const auto& a : row.args) joined += a + " ";
        try {
            parse_mailbox_command(row.args);
            ADD_FAILURE() << "accepted: " << joined;
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find(row.message), std::string::npos)
                << joined << "-> " << e.what() << " (expected: " << row.message << ")";
        }
    }
}

TEST(MailboxArgs, CreateTakesEverything) {
    const auto c = parse_mailbox_command({"create", "sales@example.com", "--name", "Sales", "--alias", "v@example.com",
                                          "--grant", "$support-team", "--grant", "bob", "--rights", "Editor",
                                          "--send-as", "--sent-copy", "YES", "--doveadm", "doveadm -c /x",
                                          "--sasl-external", "--ldap-uri", "ldapi:///"});
    EXPECT_EQ(c.kind, MailboxCommand::Kind::Create);
    EXPECT_EQ(c.address, "sales@example.com");
    EXPECT_EQ(c.name, "Sales");
    EXPECT_EQ(c.aliases, (std::vector<std::string>{"v@example.com"}));
    EXPECT_EQ(c.grantees, (std::vector<std::string>{"$support-team", "bob"}));
    EXPECT_EQ(c.role, "Editor");  // a role name (grant checks and lower-cases it)
    EXPECT_FALSE(c.letters);
    EXPECT_TRUE(c.send_as);
    EXPECT_EQ(c.sent_copy, SentCopyChoice::Yes);
    EXPECT_EQ(c.doveadm, "doveadm -c /x");
    EXPECT_TRUE(c.args.has("--sasl-external"));
    EXPECT_FALSE(c.ldif);
}

TEST(MailboxArgs, OwnerGroupIsAnAdminGrantWithSendAs) {
    for (const char* given : {"support-team", "$support-team"}) {
        const auto c = parse_mailbox_command({"create", "sales@example.com", "--name", "Sales", "--owner-group", given});
        EXPECT_EQ(c.grantees, (std::vector<std::string>{"$support-team"})) << given;
        EXPECT_EQ(c.role, std::optional<std::string>("admin"));
        EXPECT_FALSE(c.letters);
        EXPECT_TRUE(c.send_as);
        EXPECT_FALSE(c.send_on_behalf);
    }
}

TEST(MailboxArgs, RightsAreRoleOrLetters) {
    const std::vector<std::tuple<std::vector<std::string>, std::optional<std::string>, std::optional<std::string>>> table{
        {{"--rights", "reader"}, "reader", std::nullopt},
        {{"--rights", "admin"}, "admin", std::nullopt},
        {{"--rights", "lrsw"}, std::nullopt, "lrsw"},
        {{"--role", "editor"}, "editor", std::nullopt},
        {{"--role", "lrs"}, "lrs", std::nullopt},  // --role is always a role: grant refuses 'lrs'
        {{"--send-on-behalf"}, std::nullopt, std::nullopt},
    };
    for (const auto& [extra, role, letters] : table) {
        std::vector<std::string> args{"create", "a@b", "--name", "A", "--grant", "bob"};
        args.insert(args.end(), extra.begin(), extra.end());
        const auto c = parse_mailbox_command(args);
        EXPECT_EQ(c.role, role) << extra.front();
        EXPECT_EQ(c.letters, letters) << extra.front();
    }
}

TEST(MailboxArgs, DeleteSetList) {
    auto c = parse_mailbox_command({"delete", "uid=support,ou=people,dc=example,dc=com", "--force", "--ldif"});
    EXPECT_EQ(c.kind, MailboxCommand::Kind::Delete);  // delete and set take any name of a mailbox
    EXPECT_TRUE(c.force);
    EXPECT_TRUE(c.ldif);
    c = parse_mailbox_command({"set", "support", "--sent-copy", "default"});
    EXPECT_EQ(c.kind, MailboxCommand::Kind::Set);
    EXPECT_EQ(c.sent_copy, SentCopyChoice::Default);
    EXPECT_EQ(c.name, "");
    c = parse_mailbox_command({"set", "support@example.com", "--name", "Help Desk"});
    EXPECT_EQ(c.name, "Help Desk");
    EXPECT_EQ(c.sent_copy, SentCopyChoice::Unset);
    EXPECT_EQ(parse_mailbox_command({"list"}).kind, MailboxCommand::Kind::List);
}

TEST(MailboxEntry, ShapeOfANewSharedMailbox) {
    auto cfg = config();
    auto cmd = parse_mailbox_command({"create", "sales@example.com", "--name", "Sales, EMEA", "--alias", "v@example.com",
                                      "--sent-copy", "no"});
    const Change add = shared_mailbox_add(cmd, cfg);
    EXPECT_EQ(add.dn, "uid=sales,dc=example,dc=com");
    EXPECT_EQ(to_ldif(add),
              "# shared mailbox sales@example.com: no password, reached through grants only\n"
              "dn: uid=sales,dc=example,dc=com\n"
              "changetype: add\n"
              "objectClass: inetOrgPerson\n"
              "objectClass: inetLocalMailRecipient\n"
              "objectClass: mailSharedMailbox\n"
              "uid: sales\n"
              "cn: Sales, EMEA\n"
              "sn: Sales, EMEA\n"
              "displayName: Sales, EMEA\n"
              "mail: sales@example.com\n"
              "mailLocalAddress: v@example.com\n"
              "mailSharedSentCopy: FALSE\n"
              "description: shared mailbox (no password: reached through grants)\n\n");
    for (const auto& [attr, value] : add.attributes) EXPECT_NE(attr, "userPassword");
    // no aliases: no inetLocalMailRecipient; the base is team_mailbox.base when set
    cfg.team_mailbox.base = "ou=shared,dc=example,dc=com";
    cfg.schema.shared_mailbox_object_class = "teamMailbox";
    cmd = parse_mailbox_command({"create", "a+b@example.com", "--name", "X"});
    const Change plain = shared_mailbox_add(cmd, cfg);
    EXPECT_EQ(plain.dn, "uid=a\\+b,ou=shared,dc=example,dc=com");  // RFC 4514: '+' escaped
    std::vector<std::string> classes;
    for (const auto& [attr, value] : plain.attributes)
        if (attr == "objectClass") classes.push_back(value);
    EXPECT_EQ(classes, (std::vector<std::string>{"inetOrgPerson", "teamMailbox"}));
    // aliases need an alias attribute
    cfg.users.alias_attributes.clear();
    cmd = parse_mailbox_command({"create", "a@example.com", "--name", "X", "--alias", "b@example.com"});
    EXPECT_THROW(shared_mailbox_add(cmd, cfg), UsageError);
}

TEST(MailboxEntry, FoldersFromTheTeamMailboxSection) {
    mailgrant::TeamMailboxConfig team;
    EXPECT_EQ(folder_create_args("s@example.com", team),
              (std::vector<std::string>{"mailbox", "create", "-s", "-u", "s@example.com", "Drafts", "Sent", "Trash", "Junk"}));
    team.sent = "Sent Items";
    team.junk = "Drafts";  // a repeat is created once
    team.trash = "";       // an empty name is left out
    EXPECT_EQ(special_use_folders(team), (std::vector<std::string>{"Drafts", "Sent Items"}));
    team.trash = "Don't";
    EXPECT_EQ(folder_create_command("s@example.com", team),
              "doveadm mailbox create -s -u s@example.com Drafts 'Sent Items' 'Don'\\''t'");
}

TEST(MailboxEntry, SetModifiesOnlyWhatWasAsked) {
    const auto cfg = config();
    auto c = shared_mailbox_modify("uid=s,dc=x", parse_mailbox_command({"set", "s@x.y", "--name", "Help"}), cfg);
    EXPECT_EQ(to_ldif(c), "dn: uid=s,dc=x\nchangetype: modify\nreplace: displayName\ndisplayName: Help\n-\n\n");
    c = shared_mailbox_modify("uid=s,dc=x", parse_mailbox_command({"set", "s@x.y", "--sent-copy", "yes"}), cfg);
    EXPECT_EQ(to_ldif(c), "dn: uid=s,dc=x\nchangetype: modify\nreplace: mailSharedSentCopy\nmailSharedSentCopy: TRUE\n-\n\n");
    c = shared_mailbox_modify("uid=s,dc=x", parse_mailbox_command({"set", "s@x.y", "--sent-copy", "default"}), cfg);
    ASSERT_EQ(c.modifications.size(), 1u);
    EXPECT_EQ(c.modifications[0].op, Modification::Op::Replace);
    EXPECT_TRUE(c.modifications[0].values.empty());  // replace with nothing: gone, no error when absent
}

TEST(MailboxEntry, AddressProblems) {
    EXPECT_EQ(address_problem("sales@example.com"), "");
    EXPECT_NE(address_problem(""), "");
    EXPECT_NE(address_problem(std::string(400, 'a') + "@b"), "");
    EXPECT_NE(address_problem("a\tb@c"), "");
}
