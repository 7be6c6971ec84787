// cmd_revoke.cpp -- `mailgrant revoke MAILBOX NAME` deletes one grant entry;
// `mailgrant revoke MAILBOX --grantee G [--grantee G2...] [--folders-only | --send-only |
// --folder F...]` takes exactly that part of those grantees' access out of every grant of
// the mailbox that names them. What each grant becomes (trimmed, the grantee's value
// removed, or deleted once it grants nothing) is the core's answer (grant_edit.h), the
// same as for an IMAP DELETEACL: revoking bob never takes access away from carol, and
// revoking send rights leaves folder access (and the other way round). A part that could
// only be taken out of a grant shared with others is refused before anything is written.
#include "grant_spec.h"
#include "mailgrant/dn.h"
#include "mailgrant/grant_edit.h"
#include "notice_outbox.h"
#include "verbs.h"

namespace mailgrant::cli {

namespace {

constexpr std::size_t kMaxGranteesPerCommand = 100;  // as in grant

GrantPart part_from(const ParsedArgs& args) {
    int given = (args.has("--folders-only") ? 1 : 0) + (args.has("--send-only") ? 1 : 0) + (args.has("--folder") ? 1 : 0);
    if (given > 1) throw UsageError("give one of --folders-only, --send-only or --folder");
    GrantPart part;
    if (args.has("--folders-only")) part.kind = GrantPart::Kind::Folders;
    else if (args.has("--send-only")) part.kind = GrantPart::Kind::Send;
    else if (args.has("--folder")) {
        part.kind = GrantPart::Kind::Folder;
        part.folders = args.values("--folder");
        for (const auto& f : part.folders)
            if (f.empty()) throw UsageError("an empty --folder names no folder");
    }
    return part;
}

std::string part_label(const GrantPart& part) {
    switch (part.kind) {
        case GrantPart::Kind::Folder: return " with folder '" + join(part.folders, "', '") + "'";
        case GrantPart::Kind::Folders: return " with folder access";
        case GrantPart::Kind::Send: return " with send rights";
        case GrantPart::Kind::Everything: break;
    }
    return "";
}

}  // namespace

int run_revoke(Invocation& inv) {
    auto specs = write_option_specs();
    specs.push_back({"--grantee", true, true, ""});
    specs.push_back({"--folder", true, true, "-f"});
    specs.push_back({"--folders-only", false, false, ""});
    specs.push_back({"--send-only", false, false, ""});
    specs.push_back({"--notify", false, false, ""});  // mail each removed grantee (issue 13)
    for (const auto& s : notice_option_specs()) specs.push_back(s);
    const auto args = parse_args(inv.args, specs);
    const auto& pos = args.positionals;
    const bool by_grantee = args.has("--grantee");
    if (by_grantee ? pos.size() != 1 : pos.size() != 2)
        throw UsageError("revoke takes MAILBOX NAME, or MAILBOX --grantee GRANTEE [--folders-only | --send-only | --folder F]");
    if (!by_grantee && (args.has("--folder") || args.has("--folders-only") || args.has("--send-only")))
        throw UsageError("--folder, --folders-only and --send-only are used with --grantee");
    if (args.values("--grantee").size() > kMaxGranteesPerCommand)
        throw UsageError("at most " + std::to_string(kMaxGranteesPerCommand) + " grantees per command");
    const GrantPart part = part_from(args);
    const bool notify = args.has("--notify");
    if (notify && args.has("--ldif")) throw UsageError("--notify needs the change to be written; it cannot be used with --ldif");

    Context& ctx = inv.ctx;
    const SchemaConfig& schema = ctx.config().schema;
    const Account mailbox = ctx.resolve_mailbox(pos[0]);
    const auto grants = ctx.directory().grants_of(mailbox.dn);
    std::vector<Change> changes;
    std::vector<std::string> summary;
    // For --notify: what each grantee lost (the part of the grant taken away) and who.
    std::vector<std::pair<Grant, std::vector<std::string>>> lost;

    if (!by_grantee) {
        const Grant* found = nullptr;
        for (const auto& g : grants)
            if (ascii_lower(g.name) == ascii_lower(pos[1])) found = &g;
        if (!found) {
            std::vector<std::string> names;
            for (const auto& g : grants) names.push_back(g.name);
            throw Refusal("mailbox " + mailbox.primary_address() + " has no grant named '" + pos[1] + "'" +
                          (names.empty() ? " (it has no grants)" : " (its grants: " + join(names, ", ") + ")"));
        }
        Change c;
        c.type = Change::Type::Delete;
        c.dn = found->dn;
        changes.push_back(c);
        summary.push_back("deleted grant '" + found->name + "' (" + found->dn + ")");
        lost.emplace_back(*found, found->grantees);
    } else {
        std::vector<Principal> grantees;
        std::vector<std::string> dns;
        for (const auto& text : args.values("--grantee")) {
            const Principal p = ctx.resolve_grantee(text);
            bool dup = false;
            for (const auto& d : dns) dup = dup || normalize_dn(d) == normalize_dn(p.dn);
            if (dup) continue;
            grantees.push_back(p);
            dns.push_back(p.dn);
        }
        std::vector<std::string> refusals;
        for (const auto& g : grants) {
            const GrantEdit edit = remove_part(g, dns, part, schema);
            if (edit.action == GrantEdit::Action::Keep) continue;
            if (edit.action == GrantEdit::Action::Refuse) {
                refusals.push_back(edit.what);
                continue;
            }
            changes.push_back(edit_change(g.dn, edit));
            Grant taken = g;  // the part the grantees lose, for the notice
            if (part.kind == GrantPart::Kind::Folders || part.kind == GrantPart::Kind::Folder)
                taken.send_as = taken.send_on_behalf = false;
            if (part.kind == GrantPart::Kind::Folder) taken.folders = part.folders;
            if (part.kind == GrantPart::Kind::Send) {
                taken.folders.clear();
                taken.rights.reset();
            }
            std::vector<std::string> who;
            for (const auto& v : g.grantees)
                for (const auto& d : dns)
                    if (normalize_dn(v) == normalize_dn(d)) who.push_back(v);
            lost.emplace_back(taken, who);
            if (edit.action == GrantEdit::Action::Delete) {
                summary.push_back("deleted grant '" + g.name + "' (" + g.dn + ")");
            } else if (part.kind == GrantPart::Kind::Everything) {
                std::vector<std::string> removed;
                for (const auto& p : grantees)
                    for (const auto& v : g.grantees)
                        if (normalize_dn(v) == normalize_dn(p.dn)) removed.push_back(p.display);
                summary.push_back("removed " + join(removed, ", ") + " from grant '" + g.name + "' (" + g.dn + ")");
            } else {
                summary.push_back("changed grant '" + g.name + "' (" + g.dn + "): " + edit.what);
            }
        }
        if (!refusals.empty()) {
            std::vector<std::string> names;
            for (const auto& p : grantees) names.push_back(p.display);
            throw Refusal(join(refusals, "; ") + ". Revoke " + join(names, ", ") +
                          " entirely (without --folder/--folders-only/--send-only), or edit the grant");
        }
        if (changes.empty()) {
            std::vector<std::string> names;
            for (const auto& p : grantees) names.push_back(p.display);
            inv.err << "mailgrant: nothing to revoke: no grant of " << mailbox.primary_address() << " names "
                    << join(names, " or ") << part_label(part) << "\n";
            return kExitNo;
        }
    }

    if (args.has("--ldif")) {
        for (const auto& c : changes) inv.out << to_ldif(c);
        return kExitOk;
    }
    LdapWriter writer(ctx.config().ldap, write_credentials(args, ctx.config()));
    for (std::size_t i = 0; i < changes.size(); ++i) {
        try {
            writer.apply(changes[i]);
        } catch (const std::exception&) {
            for (std::size_t k = 0; k < i; ++k) inv.err << "mailgrant: done before the error: " << summary[k] << "\n";
            throw;
        }
    }
    std::vector<std::string> notified;
    std::string notify_error;
    if (notify) {
        NoticeOutbox outbox(ctx, args, write_credentials(args, ctx.config()).bind_dn);
        for (const auto& [grant, who] : lost)
            for (const auto& to : outbox.recipients(who, mailbox))
                outbox.send(outbox.notice(NoticeKind::Revoke, grant, mailbox, to));
        notified = outbox.notified();
        notify_error = outbox.errors();
    }
    if (inv.json) {
        Json j = Json::object();
        j.set("action", "revoked");
        j.set("mailbox", mailbox.primary_address());
        Json arr = Json::array();
        for (std::size_t i = 0; i < changes.size(); ++i) {
            Json cj = Json::object();
            cj.set("dn", changes[i].dn);
            cj.set("change", changes[i].type == Change::Type::Delete ? "deleted" : "modified");
            cj.set("summary", summary[i]);
            arr.push(cj);
        }
        j.set("changes", arr);
        if (notify) j.set("notified", Json::strings(notified));
        if (!notify_error.empty()) j.set("notify_error", notify_error);
        inv.out << j.dump();
    } else {
        for (const auto& s : summary) inv.out << s << "\n";
        if (!notified.empty()) inv.out << "notified: " << join(notified, ", ") << "\n";
    }
    if (!notify_error.empty()) {
        inv.err << "mailgrant: revoked, but the notification failed: " << notify_error << "\n";
        return kExitNotifyFailed;
    }
    return kExitOk;
}

}  // namespace mailgrant::cli
