// test_grant_edit.cpp -- what a grant becomes when a grantee loses or gains part of its
// access (grant_edit.h), table-driven: the one answer IMAP DELETEACL and `mailgrant
// grant` / `revoke` share. Each case shows the grant, the request and the changes as
// "-attr=value +attr=value", "delete", "keep" or "refuse: ...".
#include <gtest/gtest.h>

#include "mailgrant/grant_edit.h"

namespace mailgrant {
namespace {

const std::string kBob = "uid=bob,ou=people,dc=ex";
const std::string kEve = "uid=eve,ou=people,dc=ex";
const std::string kCarol = "uid=carol,ou=people,dc=ex";

struct G {
    std::string name;
    std::vector<std::string> grantees;
    std::vector<std::string> folders;
    std::string rights;
    std::string send;  // "", "sendAs", "sendOnBehalf"
    std::optional<std::time_t> not_after;

    G(std::string n, std::vector<std::string> who, std::vector<std::string> f, std::string r, std::string s,
      std::optional<std::time_t> until = std::nullopt)
        : name(std::move(n)), grantees(std::move(who)), folders(std::move(f)), rights(std::move(r)), send(std::move(s)),
          not_after(until) {}
};

Grant make(const G& d) {
    Grant g;
    g.name = d.name;
    g.dn = "cn=" + d.name + ",uid=alice,dc=ex";
    g.owner_dn = "uid=alice,dc=ex";
    g.grantees = d.grantees;
    g.folders = d.folders;
    g.rights_text = d.rights;
    if (!d.rights.empty()) g.rights = parse_rights(d.rights);
    g.send_as = d.send == "sendAs";
    g.send_on_behalf = d.send == "sendOnBehalf";
    g.not_after = d.not_after;
    return g;
}

std::string show(const GrantEdit& e) {
    switch (e.action) {
        case GrantEdit::Action::Keep: return "keep";
        case GrantEdit::Action::Delete: return "delete";
        case GrantEdit::Action::Refuse: return "refuse: " + e.what;
        case GrantEdit::Action::Modify: break;
    }
    std::string out;
    for (const auto& c : e.changes)
        out += std::string(out.empty() ? "" : " ") + (c.op == ValueChange::Op::Add ? "+" : "-") + c.attribute + "=" + c.value;
    return out;
}

GrantPart folder(std::vector<std::string> f) { return GrantPart{GrantPart::Kind::Folder, std::move(f)}; }
const GrantPart kAll{GrantPart::Kind::Everything, {}};
const GrantPart kFolders{GrantPart::Kind::Folders, {}};
const GrantPart kSend{GrantPart::Kind::Send, {}};

struct RemoveCase {
    const char* what;
    G grant;
    std::vector<std::string> who;
    GrantPart part;
    std::string expected;
};

TEST(GrantEdit, RemovePart) {
    const std::vector<RemoveCase> cases{
        {"everything of a grant of one", {"x", {kBob}, {"INBOX"}, "reader", "sendAs"}, {kBob}, kAll, "delete"},
        {"everything: only the value from a shared grant", {"x", {kBob, kEve}, {"INBOX"}, "reader", ""}, {kBob}, kAll,
         "-mailGrantee=" + kBob},
        {"everything for all its grantees deletes it", {"x", {kBob, kEve}, {"INBOX"}, "reader", ""}, {kBob, kEve}, kAll,
         "delete"},
        {"DN compared normalised", {"x", {"UID=Bob, ou=People,dc=ex"}, {"INBOX"}, "reader", ""}, {kBob}, kAll, "delete"},
        {"a grant of someone else", {"x", {kEve}, {"INBOX"}, "reader", ""}, {kBob}, kAll, "keep"},
        {"one folder of several", {"x", {kBob}, {"INBOX", "Sent"}, "reader", ""}, {kBob}, folder({"Sent"}),
         "-mailGrantFolder=Sent"},
        {"two folders of three", {"x", {kBob}, {"INBOX", "Sent", "Drafts"}, "reader", ""}, {kBob},
         folder({"Sent", "Drafts", "Nope"}), "-mailGrantFolder=Sent -mailGrantFolder=Drafts"},
        {"the only folder, no send: delete", {"x", {kBob}, {"INBOX"}, "reader", ""}, {kBob}, folder({"INBOX"}), "delete"},
        {"the only folder, send stays", {"x", {kBob}, {"INBOX"}, "reader", "sendAs"}, {kBob}, folder({"INBOX"}),
         "-mailGrantFolder=INBOX -mailGrantRights=reader"},
        {"a folder not listed (no pattern match)", {"x", {kBob}, {"Projects/*"}, "reader", ""}, {kBob},
         folder({"Projects/2024"}), "keep"},
        {"a folder of a shared grant is refused", {"x", {kBob, kEve}, {"INBOX", "Sent"}, "reader", ""}, {kBob},
         folder({"Sent"}), "refuse: grant 'x' also serves other grantees (1 more); taking folder 'Sent' out of it would take it from them too"},
        {"folders only, send stays", {"x", {kBob}, {"INBOX", "Sent"}, "editor", "sendOnBehalf"}, {kBob}, kFolders,
         "-mailGrantFolder=INBOX -mailGrantFolder=Sent -mailGrantRights=editor"},
        {"folders only, nothing else: delete", {"x", {kBob}, {"INBOX"}, "editor", ""}, {kBob}, kFolders, "delete"},
        {"folders only of a send-only grant", {"x", {kBob}, {}, "", "sendAs"}, {kBob}, kFolders, "keep"},
        {"send only, folders stay", {"x", {kBob}, {"INBOX"}, "reader", "sendAs"}, {kBob}, kSend, "-mailGrantSend=sendAs"},
        {"send only of a send-only grant: delete", {"x", {kBob}, {}, "", "sendOnBehalf"}, {kBob}, kSend, "delete"},
        {"send only without send", {"x", {kBob}, {"INBOX"}, "reader", ""}, {kBob}, kSend, "keep"},
        {"send of a shared grant is refused", {"x", {kBob, kEve}, {}, "", "sendAs"}, {kBob}, kSend,
         "refuse: grant 'x' also serves other grantees (1 more); taking its send rights out of it would take it from them too"},
        {"send of a grant shared only among the named", {"x", {kBob, kEve}, {"INBOX"}, "reader", "sendAs"}, {kEve, kBob},
         kSend, "-mailGrantSend=sendAs"},
    };
    for (const auto& c : cases)
        EXPECT_EQ(show(remove_part(make(c.grant), c.who, c.part, SchemaConfig{})), c.expected) << c.what;
}

struct ExtendCase {
    const char* what;
    std::vector<G> grants;
    GrantRequest request;
    std::string target;    // name of the grant extended, "" = a new one
    std::string expected;  // changes, or "keep"
};

GrantRequest req(std::vector<std::string> folders, std::string rights, bool send_as = false, bool behalf = false,
                 std::optional<std::time_t> until = std::nullopt) {
    GrantRequest r;
    r.grantee_dn = kBob;
    r.folders = std::move(folders);
    r.rights_text = std::move(rights);
    r.send_as = send_as;
    r.send_on_behalf = behalf;
    r.not_after = until;
    return r;
}

TEST(GrantEdit, PlanExtension) {
    const std::vector<ExtendCase> cases{
        {"no grant yet", {}, req({"INBOX"}, "reader"), "", ""},
        {"send rights join a folder grant (the erin-2 case)", {{"bob", {kBob}, {"INBOX"}, "reader", ""}},
         req({}, "", true), "bob", "+mailGrantSend=sendAs"},
        {"a folder joins a grant with the same rights", {{"bob", {kBob}, {"INBOX"}, "lrs", ""}}, req({"Sent"}, "reader"),
         "bob", "+mailGrantFolder=Sent"},
        {"folders join a send-only grant", {{"bob", {kBob}, {}, "", "sendOnBehalf"}}, req({"INBOX"}, "editor"), "bob",
         "+mailGrantFolder=INBOX +mailGrantRights=editor"},
        {"naming every folder again changes the rights", {{"bob", {kBob}, {"Projects", "Projects/*"}, "reader", ""}},
         req({"Projects", "Projects/*"}, "editor"), "bob", "-mailGrantRights=reader +mailGrantRights=editor"},
        {"other rights on other folders: a new grant", {{"bob", {kBob}, {"Projects"}, "reader", ""}},
         req({"INBOX"}, "editor"), "", ""},
        {"all of it already there", {{"bob", {kBob}, {"INBOX"}, "reader", "sendAs"}}, req({"INBOX"}, "reader", true),
         "bob", "keep"},
        {"sendAs covers on-behalf", {{"bob", {kBob}, {}, "", "sendAs"}}, req({}, "", false, true), "bob", "keep"},
        {"a shared grant is never extended", {{"team", {kBob, kEve}, {"INBOX"}, "reader", ""}}, req({"Sent"}, "reader"),
         "", ""},
        {"another window (vacation cover) is never extended", {{"cover", {kBob}, {"INBOX"}, "reader", "", 4102444800}},
         req({}, "", true), "", ""},
        {"the same window is", {{"cover", {kBob}, {"INBOX"}, "reader", "", 4102444800}},
         req({"Sent"}, "reader", false, false, 4102444800), "cover", "+mailGrantFolder=Sent"},
        {"matching rights win over a send-only grant",
         {{"a-send", {kBob}, {}, "", "sendAs"}, {"b-read", {kBob}, {"INBOX"}, "reader", ""}}, req({"Sent"}, "reader"),
         "b-read", "+mailGrantFolder=Sent"},
        {"grants of others are not looked at", {{"eve", {kEve}, {"INBOX"}, "reader", ""}}, req({}, "", true), "", ""},
    };
    for (const auto& c : cases) {
        std::vector<Grant> grants;
        for (const auto& g : c.grants) grants.push_back(make(g));
        const ExtensionPlan plan = plan_extension(grants, c.request, SchemaConfig{});
        EXPECT_EQ(plan.target ? plan.target->name : "", c.target) << c.what;
        if (plan.target) {
            EXPECT_EQ(show(plan.edit), c.expected) << c.what;
        } else if (!c.grants.empty() && c.grants.front().grantees.front() == kBob) {
            EXPECT_FALSE(plan.why_new.empty()) << c.what;
        }
    }
}

TEST(GrantEdit, WhyNewSaysWhichGrantAndWhy) {
    const std::vector<Grant> grants{make({"projects-bob", {kBob}, {"Projects"}, "reader", ""}),
                                    make({"team", {kBob, kCarol}, {"*"}, "editor", ""})};
    const auto plan = plan_extension(grants, req({"INBOX"}, "editor"), SchemaConfig{});
    EXPECT_EQ(plan.target, nullptr);
    EXPECT_EQ(plan.why_new,
              "'projects-bob' gives lrs on 'Projects' (a grant has one set of rights for all its folders), "
              "'team' is shared with other grantees");
}

}  // namespace
}  // namespace mailgrant
