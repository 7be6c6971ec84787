// cmd_grant.cpp -- `mailgrant grant MAILBOX GRANTEE [GRANTEE...] ...`: one grant per
// grantee and mailbox. A grantee who already has a grant here gets it extended (folders,
// rights, send rights) where the core says the result gives exactly the old access plus
// the new (grant_edit.h: same validity window, one set of rights per grant); otherwise a
// new mailGrant entry is created. --name always creates one new entry, naming every
// grantee given. Everything that could never work is refused before any write (unknown
// mailbox or grantee, bad rights, a window that ends before it starts or already ended, a
// grant that grants nothing). --ldif prints the changes instead; --notify mails the
// grantee(s) afterwards. --invite creates the grant as an invitation (schema.pending TRUE:
// it gives nothing until `mailgrant accept` or the grantee accepts it), always as a new
// entry: an invitation never extends, nor is extended into, a grant already in force.
#include <algorithm>
#include <set>

#include "cmd_invite.h"
#include "grant_spec.h"
#include "mailgrant/dn.h"
#include "mailgrant/grant_edit.h"
#include "mailgrant/invitation.h"
#include "notice_outbox.h"
#include "verbs.h"

namespace mailgrant::cli {

namespace {

// Most grantees in one command: each is resolved and planned before anything is written.
constexpr std::size_t kMaxGranteesPerCommand = 100;

Grant grant_from_change(const Change& change, const SchemaConfig& schema) {
    LdapEntry entry;
    entry.dn = change.dn;
    for (const auto& a : change.attributes) entry.attributes[ascii_lower(a.first)].push_back(a.second);
    return grant_from_entry(entry, schema);
}

std::string default_name(const Principal& grantee) {
    if (grantee.kind == Principal::Kind::Person) {
        const auto at = grantee.display.find('@');
        return at == std::string::npos ? grantee.display : grantee.display.substr(0, at);
    }
    return grantee.display;
}

// One thing the command does below the mailbox.
struct Step {
    enum class Kind { Create, Extend, Unchanged };
    Kind kind = Kind::Create;
    std::vector<Principal> grantees;
    Change change;        // Create / Extend
    std::string what;     // Extend / Unchanged: the core's words
    std::string note;     // Create next to existing grants: why none was extended
    std::string grant_dn;
    Grant result;         // the grant as it is (or would be) afterwards
};

const char* action_name(Step::Kind k) {
    return k == Step::Kind::Create ? "created" : k == Step::Kind::Extend ? "extended" : "unchanged";
}

// The grant after `edit`, for display before it is read back (--ldif).
Grant simulate(Grant g, const GrantEdit& edit, const SchemaConfig& schema) {
    for (const auto& c : edit.changes) {
        const bool add = c.op == ValueChange::Op::Add;
        if (c.attribute == schema.folder) {
            if (add) g.folders.push_back(c.value);
            else g.folders.erase(std::remove(g.folders.begin(), g.folders.end(), c.value), g.folders.end());
        } else if (c.attribute == schema.rights) {
            g.rights_text = add ? c.value : "";
            g.rights = add ? parse_rights(c.value) : std::nullopt;
        } else if (c.attribute == schema.send) {
            if (ascii_lower(c.value) == "sendas") g.send_as = add;
            else g.send_on_behalf = add;
        }
    }
    return g;
}

}  // namespace

int run_grant(Invocation& inv) { return run_grant_on(inv, nullptr); }

int run_grant_on(Invocation& inv, const Account* new_mailbox) {
    auto specs = write_option_specs();
    for (OptionSpec s : std::vector<OptionSpec>{{"--folder", true, true, "-f"},
                                                {"--role", true, false, ""},
                                                {"--rights", true, false, ""},
                                                {"--send-as", false, false, ""},
                                                {"--send-on-behalf", false, false, ""},
                                                {"--from", true, false, ""},
                                                {"--until", true, false, ""},
                                                {"--name", true, false, ""},
                                                {"--description", true, false, ""},
                                                {"--notify", false, false, ""},
                                                {"--invite", false, false, ""},
                                                {"--notify-from", true, false, ""},
                                                {"--smtp", true, false, ""},
                                                {"--sendmail", true, false, ""}})
        specs.push_back(s);
    const auto args = parse_args(inv.args, specs);
    if (args.positionals.size() < 2) throw UsageError("grant takes MAILBOX GRANTEE [GRANTEE...] and options");
    if (args.positionals.size() - 1 > kMaxGranteesPerCommand)
        throw UsageError("at most " + std::to_string(kMaxGranteesPerCommand) + " grantees per command");
    if (args.has("--send-as") && args.has("--send-on-behalf"))
        throw UsageError("give either --send-as or --send-on-behalf (sendAs already includes sending on behalf)");
    const bool ldif = args.has("--ldif");
    const bool notify = args.has("--notify");
    const bool invite = args.has("--invite");
    if (notify && ldif) throw UsageError("--notify needs the grant to be written; it cannot be used with --ldif");
    if (args.has("--smtp") && args.has("--sendmail")) throw UsageError("give either --smtp or --sendmail");

    GrantSpec spec;
    try {
        spec.rights_text = rights_argument(args.value("--role"), args.value("--rights"));
        if (auto v = args.value("--from")) spec.not_before = parse_time_argument(*v, false);
        if (auto v = args.value("--until")) spec.not_after = parse_time_argument(*v, true);
    } catch (const std::invalid_argument& e) {
        throw Refusal(e.what());
    }
    spec.folders = args.values("--folder");
    spec.send_as = args.has("--send-as");
    spec.send_on_behalf = args.has("--send-on-behalf");
    spec.description = args.value("--description").value_or("");

    Context& ctx = inv.ctx;
    const SchemaConfig& schema = ctx.config().schema;
    const Account mailbox = new_mailbox ? *new_mailbox : ctx.resolve_mailbox(args.positionals[0]);
    std::vector<Principal> grantees;
    for (std::size_t i = 1; i < args.positionals.size(); ++i) {
        const std::string& text = args.positionals[i];
        const Principal grantee = ctx.resolve_grantee(text);
        if (normalize_dn(grantee.dn) == normalize_dn(mailbox.dn))
            throw Refusal("'" + text + "' is the mailbox itself; a grant to its owner gives nothing");
        if (grantee.kind == Principal::Kind::Person && grantee.shared_mailbox)
            throw Refusal("grantee " + grantee.display +
                          " is a shared mailbox; it has no login of its own and cannot use a grant");
        bool dup = false;
        for (const auto& g : grantees) dup = dup || normalize_dn(g.dn) == normalize_dn(grantee.dn);
        if (!dup) grantees.push_back(grantee);
    }
    spec.mailbox_dn = mailbox.dn;
    spec.name = "(checked)";  // names are chosen below; validate the rest once for every grantee
    const auto problems = validate_grant(spec, ctx.now());
    if (!problems.empty()) throw Refusal("refusing grant: " + join(problems, "; "));

    // a mailbox being created (mailbox create --grant) has no grants, and with --ldif no entry yet
    const auto existing = new_mailbox ? std::vector<Grant>{} : ctx.directory().grants_of(mailbox.dn);
    std::set<std::string> taken;
    for (const auto& g : existing) taken.insert(ascii_lower(g.name));
    std::vector<Step> steps;
    auto create = [&](const std::vector<Principal>& who, const std::string& name, const std::string& note) {
        GrantSpec s = spec;
        s.name = name;
        s.grantee_dns.clear();
        for (const auto& p : who) s.grantee_dns.push_back(p.dn);
        taken.insert(ascii_lower(name));
        Step step;
        step.kind = Step::Kind::Create;
        step.grantees = who;
        step.change = grant_add_change(s, schema);
        if (invite) step.change.attributes.emplace_back(schema.pending, "TRUE");
        step.grant_dn = step.change.dn;
        step.result = grant_from_change(step.change, schema);
        step.note = note;
        steps.push_back(step);
    };
    // A pending invitation is never extended by an ordinary grant (the new access would
    // wait for an acceptance nobody asked for), and --invite never extends anything.
    std::vector<Grant> extendable;
    for (const auto& g : existing)
        if (!g.pending) extendable.push_back(g);
    if (auto name = args.value("--name")) {
        if (taken.count(ascii_lower(*name)))
            throw Refusal("mailbox " + mailbox.primary_address() + " already has a grant named '" + *name +
                          "' (choose another --name, or revoke it first)");
        create(grantees, *name, "");
    } else {
        for (const auto& grantee : grantees) {
            GrantRequest req;
            req.grantee_dn = grantee.dn;
            req.folders = spec.folders;
            req.rights_text = spec.rights_text;
            req.send_as = spec.send_as;
            req.send_on_behalf = spec.send_on_behalf;
            req.not_before = spec.not_before;
            req.not_after = spec.not_after;
            const ExtensionPlan plan = invite ? ExtensionPlan{} : plan_extension(extendable, req, schema);
            if (!plan.target) {
                const std::string base = default_name(grantee);
                std::string name = base;
                for (int i = 2; taken.count(ascii_lower(name)); ++i) name = base + "-" + std::to_string(i);
                create({grantee}, name, plan.why_new.empty() ? "" : "not added to an existing grant: " + plan.why_new);
                continue;
            }
            Step step;
            step.grantees = {grantee};
            step.grant_dn = plan.target->dn;
            step.what = plan.edit.what;
            step.result = simulate(*plan.target, plan.edit, schema);
            if (plan.edit.action == GrantEdit::Action::Keep) {
                step.kind = Step::Kind::Unchanged;
            } else {
                step.kind = Step::Kind::Extend;
                step.change = edit_change(plan.target->dn, plan.edit);
                step.change.comment = "extends grant '" + plan.target->name + "': " + plan.edit.what;
            }
            steps.push_back(step);
        }
    }

    if (ldif) {
        for (const auto& s : steps) {
            if (s.kind == Step::Kind::Unchanged)
                inv.out << "# grant '" << s.result.name << "' already gives " << s.grantees.front().display
                        << " all of it; nothing to change\n\n";
            else
                inv.out << to_ldif(s.change);
        }
        return kExitOk;
    }
    std::vector<std::string> written;
    {
        LdapWriter writer(ctx.config().ldap, write_credentials(args, ctx.config()));
        for (const auto& s : steps) {
            if (s.kind == Step::Kind::Unchanged) continue;
            try {
                writer.apply(s.change);
            } catch (const std::exception&) {
                if (!written.empty())
                    inv.err << "mailgrant: written before the error: " << join(written, ", ") << "\n";
                throw;
            }
            written.push_back(s.grant_dn);
        }
    }
    // What LDAP holds now, for the output (a grant can have values this command did not set).
    if (!written.empty()) {
        const auto after = ctx.directory().grants_of(mailbox.dn);
        for (auto& s : steps)
            for (const auto& g : after)
                if (normalize_dn(g.dn) == normalize_dn(s.grant_dn)) s.result = g;
    }

    // notification recipients: the person, or every member of the group with an address
    // (notice_outbox.h: the actor, each recipient's language, the delivery)
    std::vector<std::string> notified;
    std::string notify_error;
    if (notify) {
        NoticeOutbox outbox(ctx, args, write_credentials(args, ctx.config()).bind_dn);
        for (const auto& s : steps) {
            if (s.kind == Step::Kind::Unchanged) continue;
            std::vector<std::string> dns;
            for (const auto& grantee : s.grantees) dns.push_back(grantee.dn);
            for (const auto& to : outbox.recipients(dns, mailbox))
                outbox.send(outbox.notice(NoticeKind::Grant, s.result, mailbox, to));
        }
        notified = outbox.notified();
        notify_error = outbox.errors();
    }

    if (inv.json) {
        Json results = Json::array();
        for (const auto& s : steps) {
            Json r = Json::object();
            r.set("action", action_name(s.kind));
            r.set("grant", grant_json(s.result, ctx));
            if (!s.what.empty()) r.set("changes", s.what);
            if (!s.note.empty()) r.set("note", s.note);
            results.push(r);
        }
        Json j = Json::object();
        if (steps.size() == 1) {  // the one-grantee shape scripts already read
            j.set("action", action_name(steps.front().kind));
            j.set("grant", grant_json(steps.front().result, ctx));
        }
        j.set("results", results);
        j.set("notified", Json::strings(notified));
        if (!notify_error.empty()) j.set("notify_error", notify_error);
        inv.out << j.dump();
    } else {
        for (const auto& s : steps) {
            const Grant& g = s.result;
            std::vector<std::string> labels;
            for (const auto& p : s.grantees) labels.push_back(ctx.grantee_label(p.dn));
            if (s.kind == Step::Kind::Create)
                inv.out << "created grant '" << g.name << "' on " << mailbox.primary_address() << "\n";
            else if (s.kind == Step::Kind::Extend)
                inv.out << "extended grant '" << g.name << "' on " << mailbox.primary_address() << ": " << s.what << "\n";
            else
                inv.out << "grant '" << g.name << "' on " << mailbox.primary_address() << " already gives "
                        << join(labels, ", ") << " all of it; nothing changed\n";
            inv.out << "  dn:       " << g.dn << "\n"
                    << "  grantee:  " << join(labels, ", ") << "\n"
                    << "  folders:  " << (g.folders.empty() ? "-" : join(g.folders, ", ")) << "\n"
                    << "  rights:   " << grant_rights_label(g) << "\n"
                    << "  send:     " << grant_send_label(g) << "\n"
                    << "  valid:    " << grant_window_label(g) << "\n";
            if (g.pending)
                inv.out << "  state:    " << grant_state_label(g, ctx.now(), ctx.config().invitations)
                        << ": gives nothing until accepted (mailgrant accept " << mailbox.primary_address() << " "
                        << s.grantees.front().display << " --grant " << g.name << ")\n";
            if (!s.note.empty()) inv.out << "  note:     " << s.note << "\n";
            if (s.kind != Step::Kind::Create && !spec.description.empty())
                inv.out << "  note:     --description is set on new grants only; this one keeps its own\n";
        }
        if (!notified.empty()) inv.out << "notified: " << join(notified, ", ") << "\n";
    }
    if (!notify_error.empty()) {
        const bool created = std::any_of(steps.begin(), steps.end(), [](const Step& s) { return s.kind == Step::Kind::Create; });
        inv.err << "mailgrant: the grant was " << (created ? "created" : "extended") << ", but the notification failed: "
                << notify_error << "\n";
        return kExitNotifyFailed;
    }
    return kExitOk;
}

}  // namespace mailgrant::cli
