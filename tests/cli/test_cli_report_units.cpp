// test_cli_report_units.cpp -- issue 14's pure CLI parts, table-driven: report columns,
// filters and sorts over rows shaped like tests/fixtures/org.ldif's organisation (with the
// counts of tests/fixtures/cli/fake_doveadm.py and the logins of last-login.db), the
// renderings, Dovecot last_login dict parsing, the supervisor walk (chains, cycles,
// depth) and grant edits as LDIF. No network.
#include <gtest/gtest.h>

#include <sstream>

#include "args.h"
#include "grant_spec.h"
#include "last_login.h"
#include "report_table.h"
#include "supervisor.h"

using namespace mailgrant::cli;

namespace {

ReportRow row(const std::string& address, const std::string& name, bool shared, std::vector<std::string> access,
              std::optional<unsigned long long> messages, std::optional<unsigned long long> unread,
              std::optional<unsigned long long> size, std::optional<std::time_t> login, std::vector<std::string> grants,
              std::optional<std::time_t> expires = std::nullopt) {
    ReportRow r;
    r.address = address;
    r.dn = "uid=" + address.substr(0, address.find('@')) + ",ou=people,dc=example,dc=com";
    r.name = name;
    r.shared = shared;
    if (!shared) r.owners = {address};
    r.access = std::move(access);
    r.messages = messages;
    r.unread = unread;
    r.size = size;
    r.last_login = login;
    r.grants = std::move(grants);
    r.expires = expires;
    return r;
}

// org.ldif's mailboxes, as cmd_report.cpp fills them (expires: a cover for carol ending 2030-08-31).
std::vector<ReportRow> org() {
    std::vector<ReportRow> rows{
        row("alice@example.com", "Alice Smith", false, {"bob@example.com (reader)"}, 120, 3, 5242880, 1767259800,
            {"projects-bob", "vacation-2020"}, 1914451199),
        row("bob@example.com", "Bob Jones", false, {}, 10, 0, 20480, 1735723800, {}),
        row("carol@example.com", "Carol White", false, {"dave@example.com (sendOnBehalf)"}, 0, 0, 0, 1751362200,
            {"behalf-dave"}),
        row("dave@example.com", "Dave Brown", false, {}, 42, 42, 1572864, std::nullopt, {}),
        row("eve@example.com", "Eve Outsider", false, {}, std::nullopt, std::nullopt, std::nullopt, std::nullopt, {}),
        row("support@example.com", "Support", true,
            {"bob@example.com (editor+sendAs via support-team)", "carol@example.com (editor+sendAs via support-team > support-leads)",
             "dave@example.com (lr via loop-a > loop-b)"},
            930, 12, 3221749760ULL, 1764581400, {"loop", "team"}),
    };
    rows[0].aliases = {"a.smith@example.com"};
    rows[5].aliases = {"help@example.com"};
    return rows;
}

std::string addresses(const std::vector<ReportRow>& rows) {
    std::string out;
    for (const auto& r : rows) out += (out.empty() ? "" : " ") + r.address.substr(0, r.address.find('@'));
    return out;
}

std::vector<ReportRow> filtered(const std::vector<std::string>& filters) {
    std::vector<ReportRow> out;
    for (const auto& r : org()) {
        bool keep = true;
        for (const auto& f : filters) keep = keep && matches(r, parse_filter(f));
        if (keep) out.push_back(r);
    }
    return out;
}

}  // namespace

TEST(ReportFilter, EveryColumnAndOperator) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{"address=*e*"}, "alice bob carol dave eve support"},
        {{"address=A*"}, "alice"},
        {{"address!=*r*"}, "alice bob dave eve"},
        {{"name=*white*"}, "carol"},
        {{"type=shared"}, "support"},
        {{"type!=shared"}, "alice bob carol dave eve"},
        {{"owner=-"}, "support"},
        {{"owner=bob@*"}, "bob"},
        {{"aliases=help@*"}, "support"},
        {{"aliases>0"}, "alice support"},
        {{"access=*via support-team*"}, "support"},
        {{"access=-"}, "bob dave eve"},
        {{"access>=1"}, "alice carol support"},
        {{"messages>41"}, "alice dave support"},
        {{"messages=0"}, "carol"},
        {{"unread<1"}, "bob carol"},           // eve: unknown, never compared
        {{"unread=-"}, "eve"},
        {{"size>1M"}, "alice dave support"},
        {{"size>=1536K"}, "alice dave support"},
        {{"size<=20K"}, "bob carol"},
        {{"size>2G"}, "support"},
        {{"last-login<2026-01-01"}, "bob carol support"},
        {{"last-login>=2026-01-01"}, "alice"},
        {{"last-login=-"}, "dave eve"},
        {{"last-login=2025-*"}, "bob carol support"},
        {{"grants=vacation-*"}, "alice"},
        {{"grants>1"}, "alice support"},
        {{"grants=-"}, "bob dave eve"},
        {{"expires<2031-01-01"}, "alice"},
        {{"expires=2030-08-31"}, "alice"},
        {{"type=personal", "size>1M", "last-login>2025-12-31"}, "alice"},
    };
    for (const auto& [filters, expected] : cases) EXPECT_EQ(addresses(filtered(filters)), expected) << filters[0];
}

TEST(ReportFilter, RefusesWhatCannotWork) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"size", "is not KEY=GLOB"},
        {"=x", "is not KEY=GLOB"},
        {"colour=red", "unknown column 'colour'"},
        {"size>lots", "not a size"},
        {"name<b", "name is text"},
        {"type>1", "type is text"},
        {"messages>1.5", "is not a number"},
        {"last-login<soon", "is not a time"},
        {std::string("name=") + std::string(kMaxReportArgument, 'x'), "longer than 1024"},
    };
    for (const auto& [text, message] : cases) {
        try {
            parse_filter(text);
            ADD_FAILURE() << text;
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << text << ": " << e.what();
        }
    }
}

TEST(ReportSort, ByEveryKindUnknownLast) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"address", "alice bob carol dave eve support"},
        {"-address", "support eve dave carol bob alice"},
        {"name", "alice bob carol dave eve support"},
        {"type,-address", "eve dave carol bob alice support"},
        {"size", "carol bob dave alice support eve"},
        {"-size", "support alice dave bob carol eve"},
        {"-unread,address", "dave support alice bob carol eve"},
        {"last-login", "bob carol support alice dave eve"},
        {"-last-login", "alice support carol bob dave eve"},
        {"-access", "support carol alice bob dave eve"},
        {"grants", "bob dave eve carol support alice"},  // equal counts: by text
        {"expires", "alice bob carol dave eve support"},
        {"+messages", "carol bob dave alice support eve"},
    };
    for (const auto& [keys, expected] : cases) {
        auto rows = org();
        sort_rows(rows, parse_sort(keys));
        EXPECT_EQ(addresses(rows), expected) << keys;
    }
    EXPECT_THROW(parse_sort("-"), UsageError);
    EXPECT_THROW(parse_sort(","), UsageError);
}

TEST(ReportColumns, ParseAndCells) {
    EXPECT_EQ(parse_columns("address, size,address,last-login"),
              (std::vector<Col>{Col::Address, Col::Size, Col::LastLogin}));
    EXPECT_THROW(parse_columns(""), UsageError);
    EXPECT_THROW(parse_columns("address,bogus"), UsageError);
    const auto rows = org();
    const std::vector<std::pair<Col, std::string>> alice{
        {Col::Address, "alice@example.com"}, {Col::Name, "Alice Smith"}, {Col::Type, "personal"},
        {Col::Owner, "alice@example.com"},   {Col::Aliases, "a.smith@example.com"},
        {Col::Access, "bob@example.com (reader)"}, {Col::Messages, "120"}, {Col::Unread, "3"},
        {Col::Size, "5.0M"}, {Col::LastLogin, "2026-01-01"}, {Col::Grants, "projects-bob, vacation-2020"},
        {Col::Expires, "2030-08-31"}};
    for (const auto& [col, text] : alice) EXPECT_EQ(cell(rows[0], col), text) << column_info(col).key;
    for (Col col : {Col::Messages, Col::Size, Col::LastLogin, Col::Grants, Col::Expires, Col::Access})
        EXPECT_EQ(cell(rows[4], col), "-") << column_info(col).key;
}

TEST(ReportRender, TableCsvJson) {
    std::vector<ReportRow> rows{org()[4], org()[5]};
    rows[1].name = "Support, \"2nd\" line";
    const std::vector<Col> cols{Col::Address, Col::Name, Col::Size, Col::LastLogin};
    EXPECT_EQ(render_table(rows, cols),
              "MAILBOX              NAME                 SIZE  LAST LOGIN\n"
              "-------------------  -------------------  ----  ----------\n"
              "eve@example.com      Eve Outsider         -     -\n"
              "support@example.com  Support, \"2nd\" line  3.0G  2025-12-01\n");
    EXPECT_EQ(render_csv(rows, cols),
              "address,name,size,last-login\r\n"
              "eve@example.com,Eve Outsider,,\r\n"
              "support@example.com,\"Support, \"\"2nd\"\" line\",3221749760,2025-12-01\r\n");
    EXPECT_EQ(render_json({rows[0]}, cols).dump(),
              "{\n  \"mailboxes\": [\n    {\n      \"mailbox\": \"eve@example.com\",\n"
              "      \"dn\": \"uid=eve,ou=people,dc=example,dc=com\",\n      \"name\": \"Eve Outsider\",\n"
              "      \"size\": null,\n      \"last_login\": null\n    }\n  ]\n}\n");
}

// The writer streams CSV and JSON row by row (and holds a table's cells, or the rows of
// a sort), and prints byte for byte what render_* of the sorted rows print: for every
// format, sorted or not, with no row, one row and all of them.
TEST(ReportRender, WriterPrintsWhatTheRenderersPrint) {
    const std::vector<Col> cols{Col::Address, Col::Name, Col::Type, Col::Size, Col::Access, Col::Expires};
    const std::vector<std::vector<SortKey>> sorts{{}, {SortKey{Col::Size, true}}, {SortKey{Col::Name, false}}};
    const std::vector<std::vector<ReportRow>> inputs{{}, {org()[2]}, org()};
    for (const std::string format : {"table", "csv", "json"})
        for (const auto& sort : sorts)
            for (const auto& input : inputs) {
                std::ostringstream out;
                ReportWriter writer(out, format, cols, sort);
                for (auto row : input) writer.add(std::move(row));
                writer.finish();
                auto rows = input;
                if (!sort.empty()) sort_rows(rows, sort);
                const std::string expected = format == "table" ? render_table(rows, cols)
                                             : format == "csv" ? render_csv(rows, cols)
                                                               : render_json(rows, cols).dump();
                EXPECT_EQ(out.str(), expected) << format << ", " << sort.size() << " sort keys, " << input.size()
                                               << " rows";
            }
}

TEST(LastLogin, DovecotFileDictAndDictIter) {
    // as dict-file writes it: key line, value line; \001-escapes for TAB/LF/\001
    const auto d = parse_file_dict("shared/last-login/alice@example.com\n1767259800\n"
                                   "shared/last-login/we\001tird\n1\n"
                                   "priv/x\nvalue\ntrailing-key-without-value\n");
    EXPECT_EQ(d.size(), 3u);
    EXPECT_EQ(d.at("shared/last-login/alice@example.com"), "1767259800");
    EXPECT_EQ(d.at("shared/last-login/we\tird"), "1");
    const auto t = parse_dict_iter_tab("key\tvalue\nshared/last-login/bob@example.com\t1735723800000\nbroken line\n");
    EXPECT_EQ(t.size(), 1u);
    EXPECT_EQ(t.at("shared/last-login/bob@example.com"), "1735723800000");
    const std::vector<std::pair<std::string, std::optional<std::time_t>>> values{
        {"1767259800", 1767259800}, {"1767259800123", 1767259800}, {"1767259800123456", 1767259800},
        {"1767259800123456789", 1767259800}, {"", std::nullopt}, {"-5", std::nullopt}, {"12x", std::nullopt},
        {"123456789012345678901", std::nullopt}};
    for (const auto& [text, expected] : values) EXPECT_EQ(parse_last_login_value(text), expected) << text;
    EXPECT_EQ(last_login_dict_key("last-login/%u", "alice@example.com"), "shared/last-login/alice@example.com");
    EXPECT_EQ(last_login_dict_key("ll/%{user}/imap", "bob"), "shared/ll/bob/imap");
}

TEST(LastLogin, MissingSourcesSayWhy) {
    std::string error;
    const Doveadm none("");
    EXPECT_FALSE(LastLogins::load("", "last-login/%u", none, &error).loaded());
    EXPECT_NE(error.find("no last-login dictionary configured"), std::string::npos);
    EXPECT_FALSE(LastLogins::load("file:/nonexistent/ll.db", "last-login/%u", none, &error).loaded());
    EXPECT_NE(error.find("cannot read /nonexistent/ll.db"), std::string::npos);
    EXPECT_FALSE(LastLogins::load("proxy::lastlogin", "last-login/%u", none, &error).loaded());
    EXPECT_NE(error.find("doveadm dict iter proxy::lastlogin"), std::string::npos);
}

TEST(Supervisor, ChainsCyclesAndDepth) {
    const ManagerLinks links{{"alice", {"bob"}}, {"bob", {"carol"}}, {"carol", {"frank"}}, {"dave", {"carol", "x"}},
                             {"support", {"dave"}}, {"eve", {"gina"}}, {"gina", {"eve"}}, {"x", {"x"}}};
    const std::vector<std::tuple<std::string, std::string, int, bool>> cases{
        {"alice", "bob", 8, true},     {"alice", "frank", 8, true},   {"alice", "frank", 3, true},
        {"alice", "frank", 2, false},  {"support", "frank", 3, true}, {"support", "frank", 2, false},
        {"dave", "frank", 8, true},    {"frank", "frank", 8, false},  {"bob", "alice", 8, false},
        {"eve", "frank", 64, false},   {"eve", "gina", 8, true},      {"eve", "eve", 8, false},
        {"x", "frank", 64, false},     {"nobody", "frank", 8, false}, {"alice", "", 8, false},
    };
    for (const auto& [dn, supervisor, depth, expected] : cases)
        EXPECT_EQ(reports_to(dn, supervisor, links, depth), expected) << dn << " -> " << supervisor << " in " << depth;
}

TEST(GrantEditLdif, ModifyAndDelete) {
    mailgrant::GrantEdit e;
    e.action = mailgrant::GrantEdit::Action::Modify;
    e.changes = {{mailgrant::ValueChange::Op::Delete, "mailGrantSend", "sendAs"},
                 {mailgrant::ValueChange::Op::Add, "mailGrantFolder", "Entwürfe"}};
    EXPECT_EQ(to_ldif(edit_change("cn=bob,uid=alice,dc=ex", e)),
              "dn: cn=bob,uid=alice,dc=ex\nchangetype: modify\ndelete: mailGrantSend\nmailGrantSend: sendAs\n-\n"
              "add: mailGrantFolder\nmailGrantFolder:: RW50d8O8cmZl\n-\n\n");
    e.action = mailgrant::GrantEdit::Action::Delete;
    EXPECT_EQ(to_ldif(edit_change("cn=bob,uid=alice,dc=ex", e)), "dn: cn=bob,uid=alice,dc=ex\nchangetype: delete\n\n");
}

TEST(CliConfig, DefaultsAndValidationInTheOneConfig) {
    const std::string base = "ldap:\n  base: dc=example,dc=com\n";
    const auto d = mailgrant::parse_config(base);
    EXPECT_EQ(d.cli.supervisor, "");
    EXPECT_EQ(d.cli.manager_attribute, "manager");
    EXPECT_EQ(d.cli.manager_max_depth, 8);
    EXPECT_EQ(d.cli.last_login_dict, "");
    EXPECT_EQ(d.cli.last_login_key, "last-login/%u");
    const auto c = mailgrant::parse_config(base + "cli:\n  supervisor: carol@example.com\n  manager_max_depth: 3\n"
                                                  "  last_login_dict: file:/var/lib/dovecot/last-login.db\n");
    EXPECT_EQ(c.cli.supervisor, "carol@example.com");
    EXPECT_EQ(c.cli.manager_max_depth, 3);
    const std::vector<std::pair<std::string, std::string>> bad{
        {"cli:\n  supervisr: x\n", "cli.supervisr: unknown key"},
        {"cli:\n  manager_max_depth: 0\n", "cli.manager_max_depth: must be between 1 and 64"},
        {"cli:\n  manager_attribute: 'a b'\n", "cli.manager_attribute"},
        {"cli:\n  last_login_key: last-login/\n", "cli.last_login_key: must contain %u"},
        {"cli:\n  last_login_dict: 'file:relative.db'\n", "cli.last_login_dict: file: needs an absolute path"},
        {"cli:\n  supervisor: a\n  supervisor: b\n", "duplicate key 'cli.supervisor'"},
    };
    for (const auto& [yaml, message] : bad) {
        try {
            mailgrant::parse_config(base + yaml);
            ADD_FAILURE() << yaml;
        } catch (const mailgrant::ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
        }
    }
}
