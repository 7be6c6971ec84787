// cmd_explain.cpp -- `mailgrant explain LOGIN MAILBOX [FOLDER | --send]`: the decision and
// its reasons, straight from mailgrant::Decider -- the same code the Dovecot plugin and
// the policy daemon run, so explain can never disagree with them. A supervisor
// (--as-supervisor, cli.supervisor) may ask only about their subordinates' mailboxes.
#include <algorithm>

#include "mailgrant/decision.h"
#include "mailgrant/invitation.h"
#include "supervisor.h"
#include "verbs.h"

namespace mailgrant::cli {

namespace {

Json path_json(const GrantPath& p) {
    Json j = Json::object();
    j.set("grant_dn", p.grant_dn);
    j.set("grant", p.grant_name);
    j.set("mailbox_dn", p.owner_dn);
    j.set("grantee_dn", p.grantee_dn);
    j.set("group_path", Json::strings(p.group_path));
    return j;
}

// The core names a pending grant "grant 'NAME' is pending (...)"; whether its invitation
// can still be accepted is the core's answer too (invitation.h), given here in its place.
void describe_invitations(Context& ctx, const std::string& mailbox_dn, std::vector<std::string>& notes) {
    const std::string pending = std::string("' is ") + to_string(GrantState::Pending);
    const auto is_pending_note = [&](const std::string& note) {
        return note.size() > pending.size() && note.compare(note.size() - pending.size(), pending.size(), pending) == 0;
    };
    if (mailbox_dn.empty() || std::none_of(notes.begin(), notes.end(), is_pending_note)) return;
    const auto grants = ctx.directory().grants_of(mailbox_dn);
    for (auto& note : notes) {
        if (!is_pending_note(note)) continue;
        for (const auto& g : grants)
            if (g.pending && note == "grant '" + g.name + pending)
                note = "grant '" + g.name + "' is " + invitation_of(g, ctx.now(), ctx.config().invitations).describe();
    }
}

}  // namespace

int run_explain(Invocation& inv) {
    const auto args = parse_args(inv.args, {{"--send", false, false, ""}, {"--as-supervisor", true, false, ""}});
    const bool send = args.has("--send");
    const auto& pos = args.positionals;
    if (send ? pos.size() != 2 : pos.size() != 3)
        throw UsageError(send ? "explain --send takes LOGIN ADDRESS" : "explain takes LOGIN MAILBOX FOLDER (or LOGIN ADDRESS --send)");
    const SupervisorScope scope = SupervisorScope::load(inv.ctx, args.value("--as-supervisor"));
    if (scope.active()) scope.require(inv.ctx.resolve_mailbox(pos[1]).dn, pos[1]);
    Decider& decider = inv.ctx.decider();
    if (send) {
        auto d = decider.sender(pos[0], pos[1]);
        describe_invitations(inv.ctx, d.mailbox_dn, d.not_applied);
        if (inv.json) {
            Json j = Json::object();
            j.set("login", pos[0]);
            j.set("address", pos[1]);
            j.set("allowed", d.allowed());
            j.set("right", to_string(d.right));
            j.set("reason", d.reason);
            j.set("via", d.via ? path_json(*d.via) : Json());
            j.set("not_applied", Json::strings(d.not_applied));
            inv.out << j.dump();
        } else {
            inv.out << "decision: " << (d.allowed() ? "allowed" : "denied") << " (" << to_string(d.right) << ")\n"
                    << "reason:   " << d.reason << "\n";
            for (const auto& note : d.not_applied) inv.out << "not used: " << note << "\n";
        }
        return d.allowed() ? kExitOk : kExitNo;
    }
    auto d = decider.folder_rights(pos[0], pos[1], pos[2]);
    if (!d.not_applied.empty())
        if (const auto mailbox = inv.ctx.directory().find_mailbox(pos[1])) describe_invitations(inv.ctx, mailbox->dn, d.not_applied);
    if (inv.json) {
        Json j = Json::object();
        j.set("login", pos[0]);
        j.set("mailbox", pos[1]);
        j.set("folder", pos[2]);
        j.set("allowed", !d.rights.empty());
        j.set("owner", d.owner);
        j.set("rights", d.rights.letters());
        j.set("reason", d.reason);
        Json applied = Json::array();
        for (const auto& a : d.applied) {
            Json aj = path_json(a.path);
            aj.set("folder_pattern", a.folder_pattern);
            aj.set("rights", a.rights.letters());
            applied.push(aj);
        }
        j.set("applied", applied);
        j.set("not_applied", Json::strings(d.not_applied));
        inv.out << j.dump();
    } else {
        inv.out << "rights:   " << (d.rights.empty() ? "(none)" : d.rights.letters()) << "\nreason:   " << d.reason << "\n";
        for (const auto& a : d.applied)
            inv.out << "grant:    " << a.path.describe() << ", folder pattern '" << a.folder_pattern << "', rights "
                    << a.rights.letters() << "\n";
        for (const auto& note : d.not_applied) inv.out << "not used: " << note << "\n";
    }
    return d.rights.empty() ? kExitNo : kExitOk;
}

}  // namespace mailgrant::cli
