// test_cli_audit_units.cpp -- `mailgrant audit`'s pure parts (cli/audit.h), table-driven:
// --since, accesslog entries (add, modify, delete with and without old values, what is not
// a grant write), operational attributes, what-changed summaries, the merge of both
// sources and the three renderings. Entries are shaped as slapd 2.5/2.6 return them
// (tests/cli/test_cli_audit.py reads real ones). No network.
#include <gtest/gtest.h>

#include "args.h"
#include "audit.h"
#include "mailgrant/gentime.h"

using namespace mailgrant;
using namespace mailgrant::cli;

namespace {

const std::time_t kNow = *parse_generalized_time("20261129120000Z");
const std::string kGrant = "cn=bob,uid=alice,ou=people,dc=example,dc=com";

LdapEntry entry(const std::string& dn, std::map<std::string, std::vector<std::string>> attributes) {
    LdapEntry e;
    e.dn = dn;
    for (auto& [name, values] : attributes) {
        std::string key = name;
        for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        e.attributes[key] = values;
    }
    return e;
}

LdapEntry logged(const std::string& type, std::vector<std::string> mods, std::vector<std::string> old = {},
                 const std::string& start = "20261129075239.524081Z") {
    return entry("reqStart=" + start + ",cn=accesslog", {{"reqStart", {start}},
                                                          {"reqType", {type}},
                                                          {"reqDN", {kGrant}},
                                                          {"reqAuthzID", {"dn:uid=carol,ou=people,dc=example,dc=com"}},
                                                          {"reqMod", mods},
                                                          {"reqOld", old}});
}

AuditEvent event(std::time_t when, const std::string& source, const std::string& action, const std::string& dn = kGrant) {
    AuditEvent e;
    e.when = when;
    e.source = source;
    e.action = action;
    e.grant_dn = dn;
    return e;
}

}  // namespace

TEST(AuditSince, DatesTimesAndDurations) {
    const struct {
        const char* text;
        std::time_t expected;
    } cases[] = {
        {"2026-11-01", *parse_generalized_time("20261101000000Z")},
        {"2026-11-01T08:00Z", *parse_generalized_time("20261101080000Z")},
        {"20261101080000Z", *parse_generalized_time("20261101080000Z")},
        {"90m", kNow - 90 * 60},
        {"12h", kNow - 12 * 3600},
        {"7d", kNow - 7 * 86400},
        {"2w", kNow - 14 * 86400},
        {"0d", kNow},
    };
    for (const auto& c : cases) EXPECT_EQ(parse_since(c.text, kNow), c.expected) << c.text;
    for (const char* bad : {"", "yesterday", "7", "7y", "-3d", "1234567d", "2026-13-01", "d"}) {
        try {
            parse_since(bad, kNow);
            ADD_FAILURE() << bad;
        } catch (const UsageError& e) {
            EXPECT_NE(std::string(e.what()).find("(90m, 12h, 7d, 2w)"), std::string::npos) << e.what();
        }
    }
}

TEST(AuditSummary, ModsAndOldValues) {
    const struct {
        std::vector<std::string> lines;
        bool old_values;
        const char* expected;
    } cases[] = {
        {{"mailGrantFolder:+ Projects", "mailGrantFolder:+ Projects/*", "mailGrantSend:- sendAs"}, false,
         "mailGrantFolder+=Projects,Projects/*; mailGrantSend-=sendAs"},
        {{"mailGrantRights:= editor", "modifiersName:= cn=admin,dc=example,dc=com", "modifyTimestamp:= 20261129075243Z",
          "entryCSN:= 20261129075243.1#000000#000#000000"},
         false, "mailGrantRights=editor"},
        {{"mailGrantSend:-"}, false, "mailGrantSend removed"},
        {{"mailGrantNotAfter:="}, false, "mailGrantNotAfter removed"},
        {{"mailGrantFolder:+ a", "MAILGRANTFOLDER:+ b"}, false, "mailGrantFolder+=a,b"},
        {{"no colon here", ":+ x", "mailGrantFolder:? x", "mailGrantFolder:"}, false, ""},
        {{"objectClass: mailGrant", "cn: bob", "mailGrantee: uid=bob,ou=people,dc=example,dc=com", "mailGrantFolder: INBOX"},
         true, "mailGrantee=uid=bob,ou=people,dc=example,dc=com; mailGrantFolder=INBOX"},
        {{"description: two\nlines"}, true, "description=two?lines"},
    };
    for (const auto& c : cases) EXPECT_EQ(summarize_mods(c.lines, c.old_values), c.expected) << c.expected;
    const std::string long_text = summarize_mods({"description: " + std::string(1000, 'x')}, true);
    EXPECT_EQ(long_text.size(), kMaxAuditChangesChars);
    EXPECT_EQ(long_text.substr(long_text.size() - 3), "...");
}

TEST(AuditAccesslog, AddModifyDelete) {
    std::optional<bool> is_grant;
    auto add = event_from_accesslog(logged("add", {"objectClass:+ top", "objectClass:+ mailGrant", "cn:+ bob",
                                                   "mailGrantee:+ uid=bob,ou=people,dc=example,dc=com",
                                                   "mailGrantFolder:+ Projects", "mailGrantRights:+ reader",
                                                   "structuralObjectClass:+ mailGrant"}),
                                    "mailGrant", &is_grant);
    ASSERT_TRUE(add);
    EXPECT_EQ(add->action, "granted");
    EXPECT_EQ(add->source, "accesslog");
    EXPECT_EQ(add->when, *parse_generalized_time("20261129075239Z"));
    EXPECT_EQ(add->actor_dn, "uid=carol,ou=people,dc=example,dc=com");  // "dn:" of the authzId dropped
    EXPECT_EQ(add->grant_dn, kGrant);
    EXPECT_EQ(add->changes, "mailGrantee=uid=bob,ou=people,dc=example,dc=com; mailGrantFolder=Projects; mailGrantRights=reader");
    EXPECT_EQ(is_grant, std::optional<bool>(true));

    auto person = event_from_accesslog(logged("add", {"objectClass:+ inetOrgPerson", "uid:+ zed"}), "mailGrant", &is_grant);
    ASSERT_TRUE(person);
    EXPECT_EQ(is_grant, std::optional<bool>(false));

    auto modify = event_from_accesslog(logged("modify", {"mailGrantSend:+ sendAs"}), "mailGrant", &is_grant);
    ASSERT_TRUE(modify);
    EXPECT_EQ(modify->action, "changed");
    EXPECT_EQ(modify->changes, "mailGrantSend+=sendAs");
    EXPECT_FALSE(is_grant);  // unknown: no objectClass in a modify

    auto del = event_from_accesslog(logged("delete", {}, {"objectClass: mailGrant", "mailGrantFolder: Projects"}),
                                    "mailGrant", &is_grant);
    ASSERT_TRUE(del);
    EXPECT_EQ(del->action, "revoked");
    EXPECT_EQ(del->changes, "mailGrantFolder=Projects");
    EXPECT_EQ(is_grant, std::optional<bool>(true));

    auto bare_delete = event_from_accesslog(logged("delete", {}), "mailGrant", &is_grant);
    ASSERT_TRUE(bare_delete);
    EXPECT_EQ(bare_delete->changes, "");
    EXPECT_FALSE(is_grant);  // no old values logged: cmd_audit decides by where it was
}

TEST(AuditAccesslog, WhatIsNotAGrantWrite) {
    EXPECT_FALSE(event_from_accesslog(logged("modrdn", {}), "mailGrant", nullptr));
    EXPECT_FALSE(event_from_accesslog(logged("extended", {}), "mailGrant", nullptr));
    EXPECT_FALSE(event_from_accesslog(logged("add", {}, {}, "yesterday"), "mailGrant", nullptr));
    LdapEntry no_dn = logged("add", {});
    no_dn.attributes.erase("reqdn");
    EXPECT_FALSE(event_from_accesslog(no_dn, "mailGrant", nullptr));
    LdapEntry anonymous = logged("modify", {"mailGrantFolder:+ x"});
    anonymous.attributes.erase("reqauthzid");
    auto e = event_from_accesslog(anonymous, "mailGrant", nullptr);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->actor_dn, "");
}

TEST(AuditEntries, CreatedAndLastChanged) {
    auto events = events_from_grant_entry(entry(kGrant, {{"createTimestamp", {"20261101080000Z"}},
                                                         {"creatorsName", {"cn=admin,dc=example,dc=com"}},
                                                         {"modifyTimestamp", {"20261102090000Z"}},
                                                         {"modifiersName", {"uid=carol,ou=people,dc=example,dc=com"}}}));
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].action, "granted");
    EXPECT_EQ(events[0].actor_dn, "cn=admin,dc=example,dc=com");
    EXPECT_EQ(events[0].source, "ldap");
    EXPECT_EQ(events[1].action, "changed");
    EXPECT_EQ(events[1].actor_dn, "uid=carol,ou=people,dc=example,dc=com");
    EXPECT_EQ(events[1].when, *parse_generalized_time("20261102090000Z"));
    // never modified: modifyTimestamp equals createTimestamp
    EXPECT_EQ(events_from_grant_entry(entry(kGrant, {{"createTimestamp", {"20261101080000Z"}},
                                                     {"modifyTimestamp", {"20261101080000Z"}}}))
                  .size(),
              1u);
    EXPECT_TRUE(events_from_grant_entry(entry(kGrant, {{"createTimestamp", {"garbage"}}})).empty());
}

TEST(AuditMerge, OneListInTimeOrderWithoutDuplicates) {
    const std::time_t t = kNow;
    const std::vector<AuditEvent> log{event(t, "accesslog", "granted"), event(t + 10, "accesslog", "changed"),
                                      event(t + 20, "accesslog", "revoked")};
    const std::vector<AuditEvent> ldap{
        event(t - 100, "ldap", "granted", "cn=old,uid=alice,ou=people,dc=example,dc=com"),  // before the log began
        event(t, "ldap", "granted", "CN=bob,UID=alice,ou=people,dc=example,dc=com"),         // the same add
        event(t + 11, "ldap", "changed"),                                                     // the same change
        event(t + 30, "ldap", "changed", "cn=other,uid=alice,ou=people,dc=example,dc=com")};
    const auto merged = merge_events(log, ldap);
    std::vector<std::string> seen;
    for (const auto& e : merged) seen.push_back(e.source + " " + e.action + " " + std::to_string(e.when - t));
    EXPECT_EQ(seen, (std::vector<std::string>{"ldap granted -100", "accesslog granted 0", "accesslog changed 10",
                                              "accesslog revoked 20", "ldap changed 30"}));
}

TEST(AuditRender, TableCsvJson) {
    AuditEvent e = event(*parse_generalized_time("20261129075239Z"), "accesslog", "changed");
    e.actor_dn = "uid=carol,ou=people,dc=example,dc=com";
    e.actor = "carol@example.com";
    e.mailbox = "alice@example.com";
    e.changes = "mailGrantFolder+=a,b";
    EXPECT_EQ(render_audit_table({}), "no grant changes\n");
    EXPECT_EQ(render_audit_table({e}),
              "TIME                  ACTION   MAILBOX            GRANT  BY                 SOURCE     CHANGES\n"
              "--------------------  -------  -----------------  -----  -----------------  ---------  --------------------\n"
              "2026-11-29 07:52:39Z  changed  alice@example.com  bob    carol@example.com  accesslog  mailGrantFolder+=a,b\n");
    EXPECT_EQ(render_audit_csv({e}),
              "time,action,mailbox,grant,by,source,changes,grant_dn,by_dn\r\n"
              "2026-11-29T07:52:39Z,changed,alice@example.com,bob,carol@example.com,accesslog,\"mailGrantFolder+=a,b\","
              "\"cn=bob,uid=alice,ou=people,dc=example,dc=com\",\"uid=carol,ou=people,dc=example,dc=com\"\r\n");
    const std::string json = render_audit_json({e}, {"a note"}).dump();
    for (const char* part : {"\"time\": \"2026-11-29T07:52:39Z\"", "\"mailbox_dn\": \"uid=alice,ou=people,dc=example,dc=com\"",
                             "\"by\": \"carol@example.com\"", "\"notes\": [\n    \"a note\"\n  ]"})
        EXPECT_NE(json.find(part), std::string::npos) << part << "\n" << json;
}
