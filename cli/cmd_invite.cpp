// cmd_invite.cpp -- `mailgrant accept|decline OWNER GRANTEE [--grant CN]`: an admin
// answers an invitation (a grant with schema.pending TRUE, made by `grant --invite`) for
// the grantee. accept removes schema.pending from the matching pending grant(s), so they
// start to give what they say; decline deletes them (or, when an invitation names other
// grantees too, takes only this grantee out of it, as revoke does: grant_edit.h).
// Neither ever touches an active grant. An invitation past invitations.expire_after
// (the core's answer, invitation.h) cannot be accepted, only declined. Everything is
// planned and checked before the first write; --ldif prints the changes instead.
#include "cmd_invite.h"

#include "grant_spec.h"
#include "mailgrant/dn.h"
#include "mailgrant/grant_edit.h"
#include "mailgrant/invitation.h"
#include "verbs.h"

namespace mailgrant::cli {

namespace {

bool same_dn(const std::string& a, const std::string& b) {
    const std::string na = normalize_dn(a);
    return !na.empty() && na == normalize_dn(b);
}

bool names(const Grant& g, const std::string& dn) {
    for (const auto& v : g.grantees)
        if (same_dn(v, dn)) return true;
    return false;
}

const char* verb_name(Answer a) { return a == Answer::Accept ? "accept" : "decline"; }

std::string quoted_names(const std::vector<const Grant*>& grants) {
    std::vector<std::string> out;
    for (const Grant* g : grants) out.push_back("'" + g->name + "'");
    return join(out, ", ");
}

int run_answer(Invocation& inv, Answer answer) {
    const AnswerRequest req = parse_answer(answer, inv.args);
    Context& ctx = inv.ctx;
    const Account mailbox = ctx.resolve_mailbox(req.mailbox);
    const Principal grantee = ctx.resolve_grantee(req.grantee);
    const auto grants = ctx.directory().grants_of(mailbox.dn);
    const auto steps = plan_answer(answer, grants, grantee.dn, req.grant_name, mailbox.primary_address(),
                                   grantee.display, ctx.now(), ctx.config());
    if (req.args.has("--ldif")) {
        for (const auto& s : steps) inv.out << to_ldif(s.change);
        return kExitOk;
    }
    {
        LdapWriter writer(ctx.config().ldap, write_credentials(req.args, ctx.config()));
        for (std::size_t i = 0; i < steps.size(); ++i) {
            try {
                writer.apply(steps[i].change);
            } catch (const std::exception&) {
                for (std::size_t k = 0; k < i; ++k) inv.err << "mailgrant: done before the error: " << steps[k].summary << "\n";
                throw;
            }
        }
    }
    if (inv.json) {
        Json j = Json::object();
        j.set("action", answer == Answer::Accept ? "accepted" : "declined");
        j.set("mailbox", mailbox.primary_address());
        j.set("grantee", grantee.display);
        Json arr = Json::array();
        for (const auto& s : steps) {
            Json sj = Json::object();
            sj.set("grant", s.grant_name);
            sj.set("dn", s.change.dn);
            sj.set("change", s.change.type == Change::Type::Delete ? "deleted" : "modified");
            sj.set("summary", s.summary);
            arr.push(sj);
        }
        j.set("changes", arr);
        inv.out << j.dump();
    } else {
        for (const auto& s : steps) inv.out << s.summary << "\n";
    }
    return kExitOk;
}

}  // namespace

AnswerRequest parse_answer(Answer answer, const std::vector<std::string>& args) {
    auto specs = write_option_specs();
    specs.push_back({"--grant", true, false, ""});
    AnswerRequest req;
    req.args = parse_args(args, specs);
    const auto& pos = req.args.positionals;
    if (pos.size() != 2)
        throw UsageError(std::string(verb_name(answer)) + " takes OWNER GRANTEE [--grant NAME]");
    req.mailbox = pos[0];
    req.grantee = pos[1];
    if (auto name = req.args.value("--grant")) {
        if (name->empty()) throw UsageError("--grant needs the invitation's grant name (cn)");
        req.grant_name = *name;
    }
    return req;
}

std::vector<AnswerStep> plan_answer(Answer answer, const std::vector<Grant>& grants, const std::string& grantee_dn,
                                    const std::optional<std::string>& grant_name, const std::string& mailbox_label,
                                    const std::string& grantee_label, std::time_t now, const Config& config) {
    const std::string who = grantee_label + " on " + mailbox_label;
    std::vector<const Grant*> pending, active;
    bool name_found = false;
    for (const auto& g : grants) {
        if (grant_name && ascii_lower(g.name) != ascii_lower(*grant_name)) continue;
        name_found = true;
        if (!names(g, grantee_dn)) continue;
        (g.pending ? pending : active).push_back(&g);
    }
    if (grant_name && !name_found)
        throw Refusal("mailbox " + mailbox_label + " has no grant named '" + *grant_name + "'");
    if (pending.empty()) {
        std::string why = "no pending invitation for " + who;
        if (grant_name) why = "grant '" + *grant_name + "' of " + mailbox_label + " is no pending invitation for " + grantee_label;
        if (!active.empty())
            why += " (" + quoted_names(active) + (active.size() > 1 ? " are" : " is") +
                   " already an accepted grant, which " + verb_name(answer) + " never changes" +
                   (answer == Answer::Decline ? ": use mailgrant revoke" : "") + ")";
        throw Refusal(why);
    }

    std::vector<AnswerStep> steps;
    std::vector<std::string> refusals;
    for (const Grant* g : pending) {
        AnswerStep step;
        step.grant_name = g->name;
        if (answer == Answer::Accept) {
            const Invitation invitation = invitation_of(*g, now, config.invitations);
            if (!invitation.acceptable()) {
                refusals.push_back("invitation '" + g->name + "': " + invitation.describe());
                continue;
            }
            if (g->grantees.size() > 1 && !grant_name) {
                refusals.push_back("invitation '" + g->name + "' also names " + std::to_string(g->grantees.size() - 1) +
                                   " other grantee(s): accepting it accepts it for them too (name it with --grant " +
                                   g->name + " to do that)");
                continue;
            }
            step.change.type = Change::Type::Modify;
            step.change.dn = g->dn;
            step.change.modifications.push_back({Modification::Op::Delete, config.schema.pending, {}});
            step.summary = "accepted invitation '" + g->name + "' (" + g->dn + "): it is active now";
        } else {
            const GrantEdit edit = remove_part(*g, {grantee_dn}, GrantPart{}, config.schema);
            step.change = edit_change(g->dn, edit);
            step.summary = edit.action == GrantEdit::Action::Delete
                               ? "declined invitation '" + g->name + "' (" + g->dn + "): deleted"
                               : "declined invitation '" + g->name + "' (" + g->dn + ") for " + grantee_label + ": " +
                                     edit.what;
        }
        steps.push_back(std::move(step));
    }
    if (!refusals.empty())
        throw Refusal("cannot accept for " + who + ": " + join(refusals, "; ") +
                      ". Nothing was changed; an expired invitation can only be declined (mailgrant decline), "
                      "then invited again");
    return steps;
}

std::string grant_state_label(const Grant& grant, std::time_t now, const InvitationsConfig& config) {
    const GrantState state = grant.state_at(now);
    if (state != GrantState::Pending) return to_string(state);
    return invitation_of(grant, now, config).describe();
}

int run_accept(Invocation& inv) { return run_answer(inv, Answer::Accept); }
int run_decline(Invocation& inv) { return run_answer(inv, Answer::Decline); }

}  // namespace mailgrant::cli
