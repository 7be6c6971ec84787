// test_self_service.cpp -- what IMAP SETACL / DELETEACL change in the grants below a
// mailbox (AclChanger, the decisions of SelfService), against the fake directory and a
// writer that records instead of writing.
#include <gtest/gtest.h>

#include <ldap.h>

#include "fakes.h"
#include "mailgrant/acl_change.h"

namespace mailgrant {
namespace {

using testing::FakeDirectory;

const std::string kAlice = "uid=alice,dc=ex";
const std::string kBob = "uid=bob,dc=ex";
const std::string kCarol = "uid=carol,dc=ex";
const std::string kStaff = "cn=staff,ou=groups,dc=ex";

// Each write as one line: "add DN folder=.. rights=.. grantee=..", "mod DN -attr=v +attr=v", "del DN".
class RecordingWriter final : public GrantWriter {
public:
    std::vector<std::string> ops;
    std::map<std::string, std::vector<std::string>> last_add;
    int fail_code = 0;  // libldap result code every write fails with (0 = none)

    void add_entry(const std::string& dn, const std::map<std::string, std::vector<std::string>>& a) override {
        maybe_fail();
        last_add = a;
        ops.push_back("add " + dn + " folder=" + a.at("mailGrantFolder").at(0) + " rights=" +
                      a.at("mailGrantRights").at(0) + " grantee=" + a.at("mailGrantee").at(0));
    }
    void modify_entry(const std::string& dn, const std::vector<ValueChange>& changes) override {
        maybe_fail();
        std::string op = "mod " + dn;
        for (const auto& c : changes)
            op += std::string(" ") + (c.op == ValueChange::Op::Add ? "+" : "-") + c.attribute + "=" + c.value;
        ops.push_back(op);
    }
    void delete_entry(const std::string& dn) override {
        maybe_fail();
        ops.push_back("del " + dn);
    }

private:
    void maybe_fail() {
        if (fail_code) throw_ldap(fail_code, "writing");
    }
};

Grant grant(const std::string& cn, std::vector<std::string> grantees, std::vector<std::string> folders,
            const std::string& rights, bool send_as = false, std::optional<std::time_t> not_after = std::nullopt) {
    Grant g;
    g.name = cn;
    g.dn = "cn=" + cn + "," + kAlice;
    g.owner_dn = kAlice;
    g.grantees = std::move(grantees);
    g.folders = std::move(folders);
    g.rights_text = rights;
    if (!rights.empty()) g.rights = parse_rights(rights);
    g.send_as = send_as;
    g.not_after = not_after;
    return g;
}

struct Case {
    const char* name;
    std::vector<Grant> grants;
    std::string folder;
    std::string identifier;
    std::string rights;  // "" with remove
    bool remove;
    AclChangeStatus status;
    std::vector<std::string> ops;
    std::string message_part;  // must appear in the message
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

const std::string G1 = "cn=g1," + kAlice;
const std::string G2 = "cn=g2," + kAlice;
const std::string NEW_BOB = "cn=share-bob," + kAlice;

const Case kCases[] = {
    {"new_share_as_role", {}, "INBOX", "bob@example.com", "lrs", false, AclChangeStatus::Done,
     {"add " + NEW_BOB + " folder=INBOX rights=reader grantee=" + kBob}, "shared 'INBOX' of alice@example.com with bob@example.com as reader (lrs)"},
    {"new_share_letters_by_login", {}, "Projects/2025", "bob", "lrw", false, AclChangeStatus::Done,
     {"add " + NEW_BOB + " folder=Projects/2025 rights=lrw grantee=" + kBob}, "as lrw"},
    {"new_share_by_alias", {}, "INBOX", "Robert@Example.com", "lrswipkxtea", false, AclChangeStatus::Done,
     {"add " + NEW_BOB + " folder=INBOX rights=admin grantee=" + kBob}, "as admin"},
    {"name_taken_gets_suffix", {grant("share-bob", {kCarol}, {"Other"}, "reader")}, "INBOX", "bob", "lrs", false,
     AclChangeStatus::Done, {"add cn=share-bob-2," + kAlice + " folder=INBOX rights=reader grantee=" + kBob}, "created"},
    {"replace_rights_in_place", {grant("g1", {kBob}, {"INBOX"}, "reader")}, "INBOX", "bob", "lrswipkxte", false,
     AclChangeStatus::Done, {"mod " + G1 + " -mailGrantRights=reader +mailGrantRights=editor"}, "editor"},
    {"same_rights_no_write", {grant("g1", {kBob}, {"INBOX"}, "lrs")}, "INBOX", "bob", "rls", false,
     AclChangeStatus::Done, {}, "nothing changed"},
    {"plus_adds_to_current", {grant("g1", {kBob}, {"INBOX"}, "reader")}, "INBOX", "bob", "+w", false,
     AclChangeStatus::Done, {"mod " + G1 + " -mailGrantRights=reader +mailGrantRights=lrsw"}, "as lrsw"},
    {"minus_removes", {grant("g1", {kBob}, {"INBOX"}, "editor")}, "INBOX", "bob", "-wipkxte", false,
     AclChangeStatus::Done, {"mod " + G1 + " -mailGrantRights=editor +mailGrantRights=reader"}, "reader"},
    {"plus_on_nothing_creates", {}, "INBOX", "bob", "+lr", false, AclChangeStatus::Done,
     {"add " + NEW_BOB + " folder=INBOX rights=lr grantee=" + kBob}, "as lr"},
    // + and - work on the grantee's own grants of this folder: a pattern's letters are not
    // copied into a new grant (it would outlive the pattern grant's end date and slip past
    // the rights policy), and "-" cannot take away what another grant gives.
    {"plus_next_to_pattern_adds_only_the_letter", {grant("g1", {kBob}, {"*"}, "reader")}, "INBOX", "bob", "+w",
     false, AclChangeStatus::Done, {"add " + NEW_BOB + " folder=INBOX rights=w grantee=" + kBob},
     "note: pattern '*' of grant " + G1},
    {"minus_on_pattern_refused", {grant("g1", {kBob}, {"*"}, "admin", false, 1800000000)}, "INBOX", "bob", "-w",
     false, AclChangeStatus::Refused, {}, "comes from pattern '*' of grant " + G1},
    {"modifier_on_windowed_multi_folder_refused", {grant("g1", {kBob}, {"INBOX", "Sent"}, "reader", false, 1800000000)},
     "INBOX", "bob", "+w", false, AclChangeStatus::Refused, {}, "validity window"},
    {"equals_on_windowed_multi_folder_splits", {grant("g1", {kBob}, {"INBOX", "Sent"}, "reader", false, 1800000000)},
     "INBOX", "bob", "lrsw", false, AclChangeStatus::Done,
     {"add " + NEW_BOB + " folder=INBOX rights=lrsw grantee=" + kBob, "mod " + G1 + " -mailGrantFolder=INBOX"},
     "as lrsw"},
    {"minus_everything_deletes", {grant("g1", {kBob}, {"INBOX"}, "reader")}, "INBOX", "bob", "-lrs", false,
     AclChangeStatus::Done, {"del " + G1}, "leave none"},
    {"send_rights_kept_on_change", {grant("g1", {kBob}, {"INBOX"}, "reader", true)}, "INBOX", "bob", "lrsw", false,
     AclChangeStatus::Done, {"mod " + G1 + " -mailGrantRights=reader +mailGrantRights=lrsw"}, "lrsw"},
    {"split_multi_folder_creates", {grant("g1", {kBob}, {"INBOX", "Sent"}, "reader")}, "INBOX", "bob", "lrswipkxte",
     false, AclChangeStatus::Done,
     {"add " + NEW_BOB + " folder=INBOX rights=editor grantee=" + kBob, "mod " + G1 + " -mailGrantFolder=INBOX"},
     "folder removed from " + G1},
    {"split_multi_folder_reuses", {grant("g1", {kBob}, {"INBOX", "Sent"}, "reader"), grant("g2", {kBob}, {"Drafts"}, "editor")},
     "INBOX", "bob", "lrswipkxte", false, AclChangeStatus::Done,
     {"mod " + G2 + " +mailGrantFolder=INBOX", "mod " + G1 + " -mailGrantFolder=INBOX"}, "folder added to " + G2},
    {"multi_folder_same_rights_untouched", {grant("g1", {kBob}, {"INBOX", "Sent"}, "reader")}, "INBOX", "bob", "lrs",
     false, AclChangeStatus::Done, {}, "nothing changed"},
    {"shared_grant_with_others_untouched", {grant("g1", {kBob, kCarol}, {"INBOX"}, "reader")}, "INBOX", "bob", "lrsw",
     false, AclChangeStatus::Done, {"add " + NEW_BOB + " folder=INBOX rights=lrsw grantee=" + kBob}, "created"},
    {"group_identifier", {}, "INBOX", "$staff", "lrs", false, AclChangeStatus::Done,
     {"add cn=share-staff," + kAlice + " folder=INBOX rights=reader grantee=" + kStaff}, "group $staff"},
    {"unknown_group", {}, "INBOX", "$nobody", "lrs", false, AclChangeStatus::Refused, {},
     "no person or group '$nobody' in the directory"},
    {"anyone_refused", {}, "INBOX", "anyone", "lrs", false, AclChangeStatus::Refused, {}, "'anyone' cannot be given"},
    {"authenticated_refused", {}, "INBOX", "Authenticated", "lr", false, AclChangeStatus::Refused, {},
     "'authenticated' cannot be given"},
    {"negative_identifier_refused", {}, "INBOX", "-bob", "lrs", false, AclChangeStatus::Refused, {}, "negative rights"},
    {"unknown_person", {}, "INBOX", "zed@example.com", "lrs", false, AclChangeStatus::Refused, {},
     "no person or group 'zed@example.com' in the directory"},
    {"shared_mailbox_grantee", {}, "INBOX", "support@example.com", "lrs", false, AclChangeStatus::Refused, {},
     "is a shared mailbox"},
    {"owner_as_grantee", {}, "INBOX", "alice", "lrs", false, AclChangeStatus::Refused, {}, "the mailbox itself"},
    {"bad_letters", {}, "INBOX", "bob", "lrz", false, AclChangeStatus::Refused, {}, "rights 'lrz'"},
    {"obsolete_letters_c_d", {}, "INBOX", "bob", "lrswicd", false, AclChangeStatus::Done,
     {"add " + NEW_BOB + " folder=INBOX rights=lrswikxte grantee=" + kBob}, "as lrswikxte"},
    {"bad_modifier", {}, "INBOX", "bob", "+", false, AclChangeStatus::Refused, {}, "name no letter"},
    {"dn_shaped_identifier", {}, "INBOX", "uid=bob,dc=ex@x", "lrs", false, AclChangeStatus::Refused, {}, ""},
    {"delete_single", {grant("g1", {kBob}, {"INBOX"}, "reader")}, "INBOX", "bob", "", true, AclChangeStatus::Done,
     {"del " + G1}, "removed bob@example.com's access to 'INBOX'"},
    {"delete_trims_multi", {grant("g1", {kBob}, {"INBOX", "Sent"}, "reader")}, "INBOX", "bob", "", true,
     AclChangeStatus::Done, {"mod " + G1 + " -mailGrantFolder=INBOX"}, "folder removed"},
    {"delete_keeps_send", {grant("g1", {kBob}, {"INBOX"}, "reader", true)}, "INBOX", "bob", "", true,
     AclChangeStatus::Done, {"mod " + G1 + " -mailGrantFolder=INBOX -mailGrantRights=reader"}, "send rights stay"},
    {"delete_pattern_refused", {grant("g1", {kBob}, {"*"}, "reader")}, "INBOX", "bob", "", true,
     AclChangeStatus::Refused, {}, "comes from pattern '*' of grant " + G1 + "; change it with mailgrant or in LDAP"},
    {"delete_shared_grant_refused", {grant("g1", {kBob, kCarol}, {"INBOX"}, "reader")}, "INBOX", "bob", "", true,
     AclChangeStatus::Refused, {}, "shared with 2 grantees"},
    {"delete_nothing", {grant("g1", {kCarol}, {"INBOX"}, "reader")}, "INBOX", "bob", "", true, AclChangeStatus::Done,
     {}, "nothing changed"},
    {"delete_exact_notes_pattern", {grant("g1", {kBob}, {"INBOX"}, "editor"), grant("g2", {kBob}, {"*"}, "reader")},
     "INBOX", "bob", "", true, AclChangeStatus::Done, {"del " + G1}, "note: pattern '*' of grant " + G2},
    {"delete_group", {grant("g1", {kStaff}, {"INBOX"}, "reader")}, "INBOX", "$Staff", "", true, AclChangeStatus::Done,
     {"del " + G1}, "group $Staff"},
    {"expired_grant_left_alone_on_set", {grant("g1", {kBob}, {"INBOX"}, "lrsw", true, 1600000000)}, "INBOX", "bob",
     "lrs", false, AclChangeStatus::Done, {"add " + NEW_BOB + " folder=INBOX rights=reader grantee=" + kBob}, "created"},
    {"expired_grant_left_alone_on_delete", {grant("g1", {kBob}, {"INBOX"}, "lrsw", false, 1600000000)}, "INBOX", "bob",
     "", true, AclChangeStatus::Done, {}, "nothing changed"},
    {"active_window_changed_in_place", {grant("g1", {kBob}, {"INBOX"}, "reader", false, 1800000000)}, "INBOX", "bob",
     "lrsw", false, AclChangeStatus::Done, {"mod " + G1 + " -mailGrantRights=reader +mailGrantRights=lrsw"}, "lrsw"},
    {"delete_other_folder_untouched", {grant("g1", {kBob}, {"Sent"}, "reader")}, "INBOX", "bob", "", true,
     AclChangeStatus::Done, {}, "nothing changed"},
};

// The directory and writer every case runs against; one fixture per parameter type.
template <typename Param>
class SelfServiceFixture : public ::testing::TestWithParam<Param> {
protected:
    void SetUp() override {
        dir.add_account("alice@example.com", Account{kAlice, {"alice@example.com"}, false, {}});
        dir.logins["alice"] = dir.logins["alice@example.com"];
        dir.add_account("bob@example.com", Account{kBob, {"bob@example.com", "robert@example.com"}, false, {}});
        dir.logins["bob"] = dir.logins["bob@example.com"];
        dir.add_account("carol@example.com", Account{kCarol, {"carol@example.com"}, false, {}});
        dir.add_account("support@example.com", Account{"uid=support,dc=ex", {"support@example.com"}, true, {}});
        dir.group_names["staff"] = kStaff;
    }
    AclChangeResult run(const AclChangeRequest& r) { return AclChanger(config, dir, clock, writer).apply(r); }
    static AclChangeRequest request(const Case& c) {
        AclChangeRequest r;
        r.actor = "alice@example.com";
        r.mailbox = "alice@example.com";
        r.folder = c.folder;
        r.identifier = c.identifier;
        r.rights = c.rights;
        r.remove = c.remove;
        return r;
    }

    Config config;
    FakeDirectory dir;
    ManualClock clock;
    RecordingWriter writer;
};
using SelfServiceTest = SelfServiceFixture<Case>;

TEST_P(SelfServiceTest, Semantics) {
    const Case& c = GetParam();
    dir.grants = c.grants;
    const auto result = run(request(c));
    EXPECT_EQ(static_cast<int>(result.status), static_cast<int>(c.status)) << result.message;
    EXPECT_EQ(writer.ops, c.ops) << result.message;
    EXPECT_NE(result.message.find(c.message_part), std::string::npos) << result.message;
}

INSTANTIATE_TEST_SUITE_P(Cases, SelfServiceTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

TEST_F(SelfServiceTest, NewEntryRecordsWhoAskedAndWhen) {
    const auto result = run(request(kCases[0]));
    ASSERT_EQ(result.status, AclChangeStatus::Done) << result.message;
    EXPECT_EQ(result.entry_dn, NEW_BOB);
    EXPECT_EQ(writer.last_add.at("objectClass"), std::vector<std::string>{"mailGrant"});
    EXPECT_EQ(writer.last_add.at("cn"), std::vector<std::string>{"share-bob"});
    EXPECT_EQ(writer.last_add.at("description"),
              std::vector<std::string>{"shared by alice@example.com from a mail client on 2023-11-14"});
    EXPECT_NE(result.message.find("alice@example.com shared"), std::string::npos) << result.message;
    EXPECT_NE(result.message.find(NEW_BOB), std::string::npos) << result.message;
}

TEST_F(SelfServiceTest, GrantNameIsRdnEscaped) {
    dir.group_names["a,b"] = "cn=a\\,b\\+x,dc=ex";
    AclChangeRequest r = request(kCases[0]);
    r.identifier = "$a,b";
    const auto result = run(r);
    ASSERT_EQ(result.status, AclChangeStatus::Done) << result.message;
    EXPECT_EQ(result.entry_dn, "cn=share-a\\,b\\+x," + kAlice);
    EXPECT_EQ(parent_dn(result.entry_dn), kAlice);
}

TEST_F(SelfServiceTest, InsufficientAccessIsRefused) {
    writer.fail_code = LDAP_INSUFFICIENT_ACCESS;
    const auto result = run(request(kCases[0]));
    EXPECT_EQ(result.status, AclChangeStatus::Refused);
    EXPECT_NE(result.message.find("the directory refused the change"), std::string::npos) << result.message;
}

TEST_F(SelfServiceTest, LdapTroubleIsTemporary) {
    writer.fail_code = LDAP_SERVER_DOWN;
    EXPECT_EQ(run(request(kCases[0])).status, AclChangeStatus::Temporary);
    writer.fail_code = 0;
    dir.fail = true;
    const auto result = run(request(kCases[0]));
    EXPECT_EQ(result.status, AclChangeStatus::Temporary);
    EXPECT_NE(result.message.find("fake LDAP is down"), std::string::npos) << result.message;
}

TEST_F(SelfServiceTest, ConcurrentChangeIsTemporary) {
    dir.grants = {grant("g1", {kBob}, {"INBOX"}, "reader")};
    writer.fail_code = LDAP_NO_SUCH_ATTRIBUTE;
    const auto result = run(request(kCases[4]));
    EXPECT_EQ(result.status, AclChangeStatus::Temporary);
    EXPECT_NE(result.message.find("changed meanwhile"), std::string::npos) << result.message;
    EXPECT_TRUE(result.concurrent_edit) << "LDAP works: no caller should open its breaker";
    for (int code : {LDAP_TYPE_OR_VALUE_EXISTS, LDAP_NO_SUCH_OBJECT}) {
        writer.fail_code = code;
        const auto r = run(request(kCases[4]));
        EXPECT_EQ(r.status, AclChangeStatus::Temporary) << code;
        EXPECT_TRUE(r.concurrent_edit) << code;
    }
    writer.fail_code = LDAP_SERVER_DOWN;
    EXPECT_FALSE(run(request(kCases[4])).concurrent_edit) << "LDAP trouble is not a concurrent edit";
}

// Issue 12's configuration: "anyone"/"authenticated" mapped to a group, and the letters
// a share from a mail client may give (self_service.*). Each case runs with its own
// configuration over the same directory as the table above.
struct ConfiguredCase {
    const char* name;
    const char* anyone_group;
    const char* authenticated_group;
    const char* allowed_rights;
    std::vector<Grant> grants;
    std::string identifier;
    std::string rights;
    bool remove;
    AclChangeStatus status;
    std::vector<std::string> ops;
    std::string message_part;
};

const std::string NEW_STAFF = "cn=share-staff," + kAlice;

const ConfiguredCase kConfiguredCases[] = {
    {"anyone_unmapped_names_the_key", "", "", "lrswipkxtea", {}, "anyone", "lr", false, AclChangeStatus::Refused, {},
     "no group is configured for 'anyone' (self_service.anyone_group)"},
    {"authenticated_unmapped_on_delete", "staff", "", "lrswipkxtea", {}, "authenticated", "", true,
     AclChangeStatus::Refused, {}, "self_service.authenticated_group"},
    {"anyone_mapped_writes_group_grant", "staff", "", "lrswipkxtea", {}, "anyone", "lrs", false, AclChangeStatus::Done,
     {"add " + NEW_STAFF + " folder=INBOX rights=reader grantee=" + kStaff}, "anyone (group $staff)"},
    {"authenticated_mapped_case_insensitive", "", "Staff", "lrswipkxtea", {}, "Authenticated", "lr", false,
     AclChangeStatus::Done, {"add " + NEW_STAFF + " folder=INBOX rights=lr grantee=" + kStaff}, "authenticated (group $Staff)"},
    {"anyone_mapped_delete", "staff", "", "lrswipkxtea", {grant("g1", {kStaff}, {"INBOX"}, "reader")}, "anyone", "",
     true, AclChangeStatus::Done, {"del " + G1}, "removed anyone (group $staff)'s access"},
    {"anyone_mapped_group_missing", "no-such-group", "", "lrswipkxtea", {}, "anyone", "lr", false,
     AclChangeStatus::Refused, {}, "'anyone' stands for the group $no-such-group here (self_service.anyone_group), which is not in the directory"},
    {"policy_forbids_admin", "", "", "lrswipkxte", {}, "bob", "lrswitexkpa", false, AclChangeStatus::Refused, {},
     "rights 'lrswitexkpa' include letters the sharing policy forbids: a (allowed: lrswipkxte)"},
    {"policy_names_every_letter", "", "", "lrs", {}, "bob", "lrswd", false, AclChangeStatus::Refused, {},
     "forbids: wte (allowed: lrs)"},
    {"policy_forbids_added_letter", "", "", "lrs", {grant("g1", {kBob}, {"INBOX"}, "reader")}, "bob", "+w", false,
     AclChangeStatus::Refused, {}, "forbids: w"},
    {"policy_allows_removing_any_letter", "", "", "lrs", {grant("g1", {kBob}, {"INBOX"}, "lrsw")}, "bob", "-w", false,
     AclChangeStatus::Done, {"mod " + G1 + " -mailGrantRights=lrsw +mailGrantRights=reader"}, "reader"},
    {"policy_allows_within", "", "", "lrs", {}, "bob", "lr", false, AclChangeStatus::Done,
     {"add " + NEW_BOB + " folder=INBOX rights=lr grantee=" + kBob}, "created"},
    {"policy_applies_to_anyone", "staff", "", "lrs", {}, "anyone", "lrsw", false, AclChangeStatus::Refused, {},
     "forbids: w"},
    {"policy_leaves_delete_alone", "", "", "lrs", {grant("g1", {kBob}, {"INBOX"}, "admin")}, "bob", "", true,
     AclChangeStatus::Done, {"del " + G1}, "removed"},
};

std::ostream& operator<<(std::ostream& os, const ConfiguredCase& c) { return os << c.name; }

using SelfServiceConfiguredTest = SelfServiceFixture<ConfiguredCase>;

TEST_P(SelfServiceConfiguredTest, Semantics) {
    const ConfiguredCase& c = GetParam();
    config.self_service.anyone_group = c.anyone_group;
    config.self_service.authenticated_group = c.authenticated_group;
    config.self_service.allowed_rights = c.allowed_rights;
    dir.grants = c.grants;
    AclChangeRequest r;
    r.actor = "alice@example.com";
    r.mailbox = "alice@example.com";
    r.folder = "INBOX";
    r.identifier = c.identifier;
    r.rights = c.rights;
    r.remove = c.remove;
    const auto result = run(r);
    EXPECT_EQ(static_cast<int>(result.status), static_cast<int>(c.status)) << result.message;
    EXPECT_EQ(writer.ops, c.ops) << result.message;
    EXPECT_NE(result.message.find(c.message_part), std::string::npos) << result.message;
}

INSTANTIATE_TEST_SUITE_P(Cases, SelfServiceConfiguredTest, ::testing::ValuesIn(kConfiguredCases),
                         [](const ::testing::TestParamInfo<ConfiguredCase>& i) { return std::string(i.param.name); });

TEST_F(SelfServiceTest, BadInputIsRefusedNotThrown) {
    AclChangeRequest r = request(kCases[0]);
    r.folder = "";
    EXPECT_EQ(run(r).status, AclChangeStatus::Refused);
    r = request(kCases[0]);
    r.folder = "a\nb";
    EXPECT_EQ(run(r).status, AclChangeStatus::Refused);
    r = request(kCases[0]);
    r.mailbox = "nobody@example.com";
    EXPECT_EQ(run(r).status, AclChangeStatus::Refused);
    r = request(kCases[0]);
    r.identifier = std::string(400, 'x');
    EXPECT_EQ(run(r).status, AclChangeStatus::Refused);
    EXPECT_TRUE(writer.ops.empty());
}

TEST_F(SelfServiceTest, PatternStillGivingMoreIsNoted) {
    dir.grants = {grant("g1", {kBob}, {"*"}, "editor")};
    AclChangeRequest r = request(kCases[0]);  // lrs on INBOX
    const auto result = run(r);
    EXPECT_EQ(result.status, AclChangeStatus::Done);
    EXPECT_NE(result.message.find("note: pattern '*' of grant " + G1 + " still gives lrswipkxte"), std::string::npos)
        << result.message;
}

}  // namespace
}  // namespace mailgrant
