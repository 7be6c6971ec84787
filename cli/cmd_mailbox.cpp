// cmd_mailbox.cpp -- `mailgrant mailbox create|delete|set|list`: team (shared) mailboxes
// in one command each (issue 17). create writes the entry (mailbox_spec.h: the shape the
// demo's support@ has, no password), its special-use folders through doveadm when asked
// (else the Dovecot plugin creates them on first access), and the first grant through
// `grant`'s own code (run_grant_on), which is also run first as a dry run so an unknown
// grantee refuses the whole command before anything is written. delete never deletes a
// person and refuses while grants exist unless --force; the mail store stays on disk.
// set changes the display name and the sent-copy switch; list shows the shared mailboxes.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "doveadm.h"
#include "mailbox_spec.h"
#include "mailgrant/dn.h"
#include "mailgrant/ldap_filter.h"
#include "subprocess.h"
#include "verbs.h"

namespace mailgrant::cli {

namespace {

// The write options as given, to hand them on to `grant`.
std::vector<std::string> write_args(const ParsedArgs& args) {
    std::vector<std::string> out;
    for (const auto& spec : write_option_specs()) {
        if (spec.name == "--ldif" || !args.has(spec.name)) continue;
        for (const auto& v : args.values(spec.name)) {
            out.push_back(spec.name);
            if (spec.takes_value) out.push_back(v);
        }
    }
    return out;
}

Doveadm make_doveadm(const std::string& command) {
    try {
        return Doveadm(command);
    } catch (const std::invalid_argument& e) {
        throw UsageError(std::string("--doveadm: ") + e.what());
    }
}

std::string sent_copy_label(const LdapEntry& entry, const Config& config) {
    const std::string v = ascii_lower(entry.first(config.schema.sent_copy));
    if (v == "true") return "yes";
    if (v == "false") return "no";
    // the site default for a mailSharedMailbox entry (team_mailbox.sent_copy)
    return config.team_mailbox.sent_copy == SentCopyDefault::None ? "no (default)" : "yes (default)";
}

const char* choice_label(SentCopyChoice c) {
    return c == SentCopyChoice::Yes ? "yes" : c == SentCopyChoice::No ? "no" : "default";
}

// A shared mailbox named by address, alias, login or DN; a person is refused.
Account shared_mailbox(Context& ctx, const std::string& text, const char* what) {
    const Account mailbox = ctx.resolve_mailbox(text);
    if (!mailbox.shared_mailbox)
        throw Refusal(mailbox.primary_address() + " (" + mailbox.dn + ") is not a shared mailbox (no objectClass " +
                      ctx.config().schema.shared_mailbox_object_class + "); mailbox " + what +
                      " only handles shared mailboxes and never changes a person's entry");
    return mailbox;
}

// Refuses an address that is already a mailbox's address or alias, or a login.
void refuse_taken(Context& ctx, const std::string& address) {
    if (auto owner = ctx.directory().find_mailbox(address)) {
        const bool primary = ascii_lower(owner->primary_address()) == ascii_lower(address);
        throw Refusal("address " + address + " is taken: it is " +
                      (primary ? std::string("the address") : "an alias") + " of mailbox " +
                      owner->primary_address() + " (" + owner->dn + ")");
    }
    if (auto owner = ctx.directory().find_login(address))
        throw Refusal("address " + address + " is taken: it is the login of " + owner->dn);
}

int create_mailbox(Invocation& inv, const MailboxCommand& cmd) {
    Context& ctx = inv.ctx;
    const Config& config = ctx.config();
    refuse_taken(ctx, cmd.address);
    for (const auto& a : cmd.aliases) refuse_taken(ctx, a);
    const Change add = shared_mailbox_add(cmd, config);
    const std::string users = normalize_dn(config.users_base());
    const std::string placed = normalize_dn(add.dn);
    if (placed.size() <= users.size() || placed.compare(placed.size() - users.size(), users.size(), users) != 0 ||
        placed[placed.size() - users.size() - 1] != ',')
        throw Refusal("team_mailbox.base (" + shared_mailbox_base(config) + ") is not below the users base (" +
                      config.users_base() + "): no mailgrant component would find the new mailbox there");
    // The entry itself, or its uid elsewhere below the users base (the uid is a login too:
    // users.login_filter). Searched, not describe()d: that cache would keep "missing" for
    // the grant's output after the entry is written.
    const std::string uid = cmd.address.substr(0, cmd.address.find('@'));
    for (const auto& e : ctx.search_users("(uid=" + escape_filter_value(uid) + ")", {"1.1"})) {
        if (normalize_dn(e.dn) == placed)
            throw Refusal("entry " + add.dn + " already exists (" + ctx.grantee_label(add.dn) +
                          "); a new shared mailbox needs a free uid below " + shared_mailbox_base(config));
        throw Refusal("uid '" + uid + "' (the new entry's login) is taken by " + e.dn);
    }

    Account mailbox;
    mailbox.dn = add.dn;
    mailbox.addresses.push_back(cmd.address);
    mailbox.addresses.insert(mailbox.addresses.end(), cmd.aliases.begin(), cmd.aliases.end());
    mailbox.shared_mailbox = true;

    // The first grant, as `grant` takes it: every folder, the rights and send right asked.
    std::vector<std::string> grant_args{cmd.address};
    for (const auto& g : cmd.grantees) {
        if (g.size() > 1 && g[0] == '$') {  // $name: a group, as in IMAP ACLs
            const auto dn = ctx.directory().find_group(g.substr(1));
            if (!dn) throw Refusal("no group '" + g.substr(1) + "' in LDAP (groups.name_filter)");
            grant_args.push_back(*dn);
        } else {
            grant_args.push_back(g);
        }
    }
    if (cmd.role || cmd.letters) grant_args.insert(grant_args.end(), {"--folder", "*"});
    if (cmd.role) grant_args.insert(grant_args.end(), {"--role", *cmd.role});
    if (cmd.letters) grant_args.insert(grant_args.end(), {"--rights", *cmd.letters});
    if (cmd.send_as) grant_args.push_back("--send-as");
    if (cmd.send_on_behalf) grant_args.push_back("--send-on-behalf");
    const auto passed = write_args(cmd.args);
    grant_args.insert(grant_args.end(), passed.begin(), passed.end());
    const bool with_grant = !cmd.grantees.empty();

    const auto folders = special_use_folders(config.team_mailbox);
    const std::string folder_cmd = folder_create_command(cmd.address, config.team_mailbox);
    if (cmd.ldif) {
        inv.out << to_ldif(add);
        if (with_grant) {
            auto args = grant_args;
            args.push_back("--ldif");
            Invocation g{ctx, args, false, inv.out, inv.err};
            run_grant_on(g, &mailbox);
        }
        inv.out << "# special-use folders " << join(folders, ", ")
                << ": created by the Dovecot plugin on first access, or now with: " << folder_cmd << "\n";
        return kExitOk;
    }

    // Dry run of the grant first: whatever it refuses, nothing has been written yet.
    if (with_grant) {
        std::ostringstream discard;
        auto args = grant_args;
        args.push_back("--ldif");
        Invocation dry{ctx, args, false, discard, inv.err};
        run_grant_on(dry, &mailbox);
    }
    {
        LdapWriter writer(config.ldap, write_credentials(cmd.args, config));
        writer.apply(add);
    }
    std::ostringstream grant_out;
    int rc = kExitOk;
    if (with_grant) {
        Invocation g{ctx, grant_args, inv.json, grant_out, inv.err};
        try {
            rc = run_grant_on(g, &mailbox);
        } catch (const std::exception&) {
            inv.err << "mailgrant: the mailbox entry " << add.dn << " was written; its first grant was not\n";
            throw;
        }
    }

    std::string folder_state = "plugin";
    std::string folder_error;
    if (cmd.doveadm) {
        const Doveadm doveadm = make_doveadm(*cmd.doveadm);
        if (doveadm.run(folder_create_args(cmd.address, config.team_mailbox), &folder_error)) {
            folder_state = "doveadm";
        } else {
            folder_state = "failed";
            if (folder_error.empty()) folder_error = "doveadm failed";
            rc = rc == kExitOk ? kExitIncomplete : rc;
        }
    }

    if (inv.json) {
        Json m = Json::object();
        m.set("address", cmd.address);
        m.set("dn", add.dn);
        m.set("name", cmd.name);
        m.set("aliases", Json::strings(cmd.aliases));
        m.set("sent_copy", cmd.sent_copy == SentCopyChoice::Unset ? Json() : Json(choice_label(cmd.sent_copy)));
        Json f = Json::object();
        f.set("names", Json::strings(folders));
        f.set("created_by", folder_state);
        if (!folder_error.empty()) f.set("error", folder_error);
        Json j = Json::object();
        j.set("action", "created");
        j.set("mailbox", m);
        j.set("folders", f);
        j.set("grant", "@@grant@@");
        // `grant`'s own JSON goes in as it printed it (one code path), one level deeper
        std::string text = j.dump();
        std::string nested = grant_out.str();
        while (!nested.empty() && nested.back() == '\n') nested.pop_back();
        std::string indented;
        for (char c : nested) indented += c == '\n' ? std::string("\n  ") : std::string(1, c);
        const std::string placeholder = "\"@@grant@@\"";
        text.replace(text.rfind(placeholder), placeholder.size(), with_grant ? indented : "null");  // the last key
        inv.out << text;
    } else {
        inv.out << "created shared mailbox " << cmd.address << " (\"" << cmd.name << "\")\n"
                << "  dn:        " << add.dn << "\n"
                << "  aliases:   " << (cmd.aliases.empty() ? "-" : join(cmd.aliases, ", ")) << "\n"
                << "  sent copy: "
                << (cmd.sent_copy == SentCopyChoice::Unset ? "default (team_mailbox.sent_copy)" : choice_label(cmd.sent_copy))
                << "\n  folders:   " << join(folders, ", ");
        if (folder_state == "doveadm") inv.out << " created (" << *cmd.doveadm << " mailbox create -s)\n";
        else if (folder_state == "plugin") inv.out << ": created by the Dovecot plugin when the mailbox is first opened\n";
        else inv.out << ": not created\n";
        inv.out << grant_out.str();
    }
    if (folder_state == "failed")
        inv.err << "mailgrant: the folders of " << cmd.address << " could not be created (" << folder_error
                << "); the Dovecot plugin creates them on first access, or run: " << folder_cmd << "\n";
    return rc;
}

int delete_mailbox(Invocation& inv, const MailboxCommand& cmd) {
    Context& ctx = inv.ctx;
    const Account mailbox = shared_mailbox(ctx, cmd.address, "delete");
    const std::string address = mailbox.primary_address();
    const auto grants = ctx.directory().grants_of(mailbox.dn);
    std::vector<std::string> named;
    for (const auto& g : grants) {
        std::vector<std::string> who;
        for (const auto& dn : g.grantees) who.push_back(ctx.grantee_label(dn));
        named.push_back("'" + g.name + "' (" + join(who, ", ") + ")");
    }
    if (!grants.empty() && !cmd.force)
        throw Refusal(address + " still has " + std::to_string(grants.size()) + " grant" +
                      (grants.size() == 1 ? "" : "s") + ": " + join(named, ", ") +
                      "; revoke them first, or add --force to delete them with the mailbox");
    // Entries below it that are no grants (slapd refuses to delete a non-leaf entry):
    // refused before anything is written, so --force never leaves the grants deleted and
    // the mailbox standing.
    std::set<std::string> grant_dns;
    for (const auto& g : grants) grant_dns.insert(normalize_dn(g.dn));
    std::vector<std::string> others;
    for (const auto& child : ctx.ldap().search(SearchRequest{mailbox.dn, SearchScope::OneLevel, "(objectClass=*)", {"1.1"}}))
        if (!grant_dns.count(normalize_dn(child.dn))) others.push_back(child.dn);
    if (!others.empty())
        throw Refusal(address + " has entries below it that are not grants (" + join(others, "; ") +
                      "): move or delete them first; nothing was changed");
    std::vector<Change> changes;
    for (const auto& g : grants) {
        Change c;
        c.type = Change::Type::Delete;
        c.dn = g.dn;
        c.comment = "grant '" + g.name + "' of " + address;
        changes.push_back(c);
    }
    Change entry;
    entry.type = Change::Type::Delete;
    entry.dn = mailbox.dn;
    entry.comment = "shared mailbox " + address + " (its mail store stays on disk)";
    changes.push_back(entry);

    // Where the mail is: asked before the delete (afterwards Dovecot no longer finds the user).
    std::string home;
    if (cmd.doveadm) {
        const Doveadm doveadm = make_doveadm(*cmd.doveadm);
        std::string error;
        if (auto out = doveadm.run({"user", "-f", "home", address}, &error)) {
            home = *out;
            while (!home.empty() && (home.back() == '\n' || home.back() == '\r' || home.back() == ' ')) home.pop_back();
        } else {
            inv.err << "mailgrant: could not ask doveadm where the mail of " << address << " is: " << error << "\n";
        }
    }
    const std::string store_note =
        home.empty() ? "left on disk (mailgrant deletes no mail); `doveadm user -f home " + address +
                           "`, run before the delete (--doveadm does), shows the directory to remove"
                     : "left on disk in " + home + "; remove it with: rm -r -- '" + home + "'";
    if (cmd.ldif) {
        for (const auto& c : changes) inv.out << to_ldif(c);
        inv.out << "# mail store of " << address << ": " << store_note << "\n";
        return kExitOk;
    }
    LdapWriter writer(ctx.config().ldap, write_credentials(cmd.args, ctx.config()));
    for (std::size_t i = 0; i < changes.size(); ++i) {
        try {
            writer.apply(changes[i]);
        } catch (const std::exception&) {
            for (std::size_t k = 0; k < i; ++k) inv.err << "mailgrant: deleted before the error: " << changes[k].dn << "\n";
            throw;
        }
    }
    if (inv.json) {
        Json j = Json::object();
        j.set("action", "deleted");
        j.set("address", address);
        j.set("dn", mailbox.dn);
        Json gj = Json::array();
        for (const auto& g : grants) gj.push(Json(g.dn));
        j.set("grants_deleted", gj);
        j.set("mail_store", home.empty() ? Json() : Json(home));
        j.set("note", "mail store " + store_note);
        inv.out << j.dump();
    } else {
        inv.out << "deleted shared mailbox " << address << " (" << mailbox.dn << ")\n"
                << "  grants deleted: " << (named.empty() ? "-" : join(named, ", ")) << "\n"
                << "  mail store:     " << store_note << "\n";
    }
    return kExitOk;
}

int set_mailbox(Invocation& inv, const MailboxCommand& cmd) {
    Context& ctx = inv.ctx;
    const Account mailbox = shared_mailbox(ctx, cmd.address, "set");
    const Change change = shared_mailbox_modify(mailbox.dn, cmd, ctx.config());
    if (cmd.ldif) {
        inv.out << to_ldif(change);
        return kExitOk;
    }
    LdapWriter writer(ctx.config().ldap, write_credentials(cmd.args, ctx.config()));
    writer.apply(change);
    std::vector<std::string> what;
    if (!cmd.name.empty()) what.push_back("name \"" + cmd.name + "\"");
    if (cmd.sent_copy != SentCopyChoice::Unset) what.push_back(std::string("sent copy ") + choice_label(cmd.sent_copy));
    if (inv.json) {
        Json j = Json::object();
        j.set("action", "changed");
        j.set("address", mailbox.primary_address());
        j.set("dn", mailbox.dn);
        j.set("name", cmd.name.empty() ? Json() : Json(cmd.name));
        j.set("sent_copy", cmd.sent_copy == SentCopyChoice::Unset ? Json() : Json(choice_label(cmd.sent_copy)));
        inv.out << j.dump();
    } else {
        inv.out << "changed shared mailbox " << mailbox.primary_address() << ": " << join(what, ", ") << "\n";
    }
    return kExitOk;
}

int list_mailboxes(Invocation& inv) {
    Context& ctx = inv.ctx;
    const Config& config = ctx.config();
    std::map<std::string, int> grant_count;  // normalised owner DN -> grant entries
    ctx.walk().each_grant([&](Grant&& g) { ++grant_count[normalize_dn(g.owner_dn)]; });  // counted, not held
    auto entries = ctx.mailbox_entries({"displayName", "cn", config.schema.sent_copy});
    entries.erase(std::remove_if(entries.begin(), entries.end(), [](const auto& e) { return !e.first.shared_mailbox; }),
                  entries.end());
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return ascii_lower(a.first.primary_address()) < ascii_lower(b.first.primary_address());
    });
    Json arr = Json::array();
    Table table({"ADDRESS", "NAME", "GRANTS", "SENT COPY"});
    for (const auto& [account, entry] : entries) {
        const std::string name = entry.first("displayName").empty() ? entry.first("cn") : entry.first("displayName");
        const int grants = grant_count[normalize_dn(account.dn)];
        const std::string copy = sent_copy_label(entry, config);
        std::vector<std::string> aliases(account.addresses.begin() + (account.addresses.empty() ? 0 : 1),
                                         account.addresses.end());
        Json j = Json::object();
        j.set("address", account.primary_address());
        j.set("name", name);
        j.set("dn", account.dn);
        j.set("aliases", Json::strings(aliases));
        j.set("grants", grants);
        j.set("sent_copy", copy);
        arr.push(j);
        table.add({account.primary_address(), name.empty() ? "-" : name, std::to_string(grants), copy});
    }
    if (inv.json) {
        Json j = Json::object();
        j.set("mailboxes", arr);
        inv.out << j.dump();
    } else if (table.empty()) {
        inv.out << "no shared mailboxes (entries with objectClass " << config.schema.shared_mailbox_object_class
                << ")\n";
    } else {
        inv.out << table.render();
    }
    return kExitOk;
}

}  // namespace

int run_mailbox(Invocation& inv) {
    const MailboxCommand cmd = parse_mailbox_command(inv.args);
    switch (cmd.kind) {
        case MailboxCommand::Kind::Create: return create_mailbox(inv, cmd);
        case MailboxCommand::Kind::Delete: return delete_mailbox(inv, cmd);
        case MailboxCommand::Kind::Set: return set_mailbox(inv, cmd);
        case MailboxCommand::Kind::List: return list_mailboxes(inv);
    }
    return kExitUsage;
}

}  // namespace mailgrant::cli
