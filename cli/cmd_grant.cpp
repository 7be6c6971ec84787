// cmd_grant.cpp -- `mailgrant grant MAILBOX GRANTEE ...`: creates one mailGrant entry below
// the mailbox, after refusing anything that could never work (unknown mailbox or grantee,
// bad rights, a window that ends before it starts or already ended, a grant that grants
// nothing). --ldif prints the entry instead; --notify mails the grantee(s) afterwards.
#include <algorithm>
#include <set>

#include "grant_spec.h"
#include "mailgrant/dn.h"
#include "notify.h"
#include "verbs.h"

namespace mailgrant::cli {

namespace {

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

}  // namespace

int run_grant(Invocation& inv) {
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
                                                {"--notify-from", true, false, ""},
                                                {"--smtp", true, false, ""},
                                                {"--sendmail", true, false, ""}})
        specs.push_back(s);
    const auto args = parse_args(inv.args, specs);
    if (args.positionals.size() != 2) throw UsageError("grant takes MAILBOX GRANTEE and options");
    if (args.has("--send-as") && args.has("--send-on-behalf"))
        throw UsageError("give either --send-as or --send-on-behalf (sendAs already includes sending on behalf)");
    const bool ldif = args.has("--ldif");
    const bool notify = args.has("--notify");
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
    const Account mailbox = ctx.resolve_mailbox(args.positionals[0]);
    const Principal grantee = ctx.resolve_grantee(args.positionals[1]);
    if (normalize_dn(grantee.dn) == normalize_dn(mailbox.dn))
        throw Refusal("'" + args.positionals[1] + "' is the mailbox itself; a grant to its owner gives nothing");
    if (grantee.kind == Principal::Kind::Person && grantee.shared_mailbox)
        throw Refusal("grantee " + grantee.display + " is a shared mailbox; it has no login of its own and cannot use a grant");
    spec.mailbox_dn = mailbox.dn;
    spec.grantee_dn = grantee.dn;

    std::set<std::string> taken;
    for (const auto& g : ctx.directory().grants_of(mailbox.dn)) taken.insert(ascii_lower(g.name));
    if (auto name = args.value("--name")) {
        spec.name = *name;
        if (taken.count(ascii_lower(spec.name)))
            throw Refusal("mailbox " + mailbox.primary_address() + " already has a grant named '" + spec.name +
                          "' (choose another --name, or revoke it first)");
    } else {
        const std::string base = default_name(grantee);
        spec.name = base;
        for (int i = 2; taken.count(ascii_lower(spec.name)); ++i) spec.name = base + "-" + std::to_string(i);
    }
    const auto problems = validate_grant(spec, ctx.now());
    if (!problems.empty()) throw Refusal("refusing grant: " + join(problems, "; "));

    const Change change = grant_add_change(spec, ctx.config().schema);
    if (ldif) {
        inv.out << to_ldif(change);
        return kExitOk;
    }
    LdapWriter writer(ctx.config().ldap, write_credentials(args, ctx.config()));
    writer.apply(change);
    const Grant created = grant_from_change(change, ctx.config().schema);

    // notification recipients: the person, or every member of the group with an address
    std::vector<std::string> recipients;
    if (notify) {
        if (grantee.kind == Principal::Kind::Person) {
            recipients.push_back(grantee.display);
        } else {
            for (const auto& m : ctx.expand_group(grantee.dn))
                if (!m.address.empty() && normalize_dn(m.dn) != normalize_dn(mailbox.dn)) recipients.push_back(m.address);
        }
    }
    std::vector<std::string> notified;
    std::string notify_error;
    for (const auto& to : recipients) {
        Notice n;
        const std::string owner = mailbox.primary_address();
        const auto at = owner.find('@');
        n.from = args.value("--notify-from").value_or("postmaster@" + (at == std::string::npos ? std::string("localhost")
                                                                                              : owner.substr(at + 1)));
        n.to = to;
        n.owner = owner;
        n.owner_is_shared = mailbox.shared_mailbox;
        if (grantee.kind == Principal::Kind::Group) n.granted_by_group = grantee.display;
        n.folders = spec.folders;
        n.rights = created.rights ? created.rights->letters() : "";
        n.role = created.rights ? role_name(*created.rights) : "";
        n.send_as = spec.send_as;
        n.send_on_behalf = spec.send_on_behalf;
        n.not_before = spec.not_before;
        n.not_after = spec.not_after;
        n.date = ctx.now();
        n.message_id_host = at == std::string::npos ? "localhost" : owner.substr(at + 1);
        try {
            const std::string message = compose_notice(n);
            if (auto smtp = args.value("--smtp")) send_with_smtp(*smtp, n.from, {to}, message, 15000);
            else send_with_sendmail(args.value("--sendmail").value_or("/usr/sbin/sendmail -t -i"), message, 30000);
            notified.push_back(to);
        } catch (const std::exception& e) {
            notify_error += (notify_error.empty() ? "" : "; ") + to + ": " + e.what();
        }
    }

    if (inv.json) {
        Json j = Json::object();
        j.set("action", "created");
        j.set("grant", grant_json(created, ctx));
        j.set("notified", Json::strings(notified));
        if (!notify_error.empty()) j.set("notify_error", notify_error);
        inv.out << j.dump();
    } else {
        inv.out << "created grant '" << created.name << "' on " << mailbox.primary_address() << "\n"
                << "  dn:       " << created.dn << "\n"
                << "  grantee:  " << ctx.grantee_label(grantee.dn) << "\n"
                << "  folders:  " << (created.folders.empty() ? "-" : join(created.folders, ", ")) << "\n"
                << "  rights:   " << grant_rights_label(created) << "\n"
                << "  send:     " << grant_send_label(created) << "\n"
                << "  valid:    " << grant_window_label(created) << "\n";
        if (!notified.empty()) inv.out << "notified: " << join(notified, ", ") << "\n";
    }
    if (!notify_error.empty()) {
        inv.err << "mailgrant: the grant was created, but the notification failed: " << notify_error << "\n";
        return kExitNotifyFailed;
    }
    return kExitOk;
}

}  // namespace mailgrant::cli
