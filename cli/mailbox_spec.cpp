// mailbox_spec.cpp -- see mailbox_spec.h.
#include "mailbox_spec.h"

#include <algorithm>

#include "mailgrant/dn.h"
#include "mailgrant/input.h"
#include "verbs.h"

namespace mailgrant::cli {

namespace {

std::vector<OptionSpec> with_write_options(std::vector<OptionSpec> specs, bool writes) {
    if (writes)
        for (const auto& s : write_option_specs()) specs.push_back(s);
    return specs;
}

bool is_role(const std::string& text) {
    const std::string r = ascii_lower(text);
    return r == "reader" || r == "editor" || r == "admin";
}

void one_address(const ParsedArgs& args, const char* sub, MailboxCommand& cmd) {
    if (args.positionals.size() != 1)
        throw UsageError(std::string("mailbox ") + sub + " takes one ADDRESS (got " +
                         std::to_string(args.positionals.size()) + ")");
    cmd.address = args.positionals.front();
}

void check_name(const std::string& name) {
    if (name.find_first_not_of(" \t") == std::string::npos) throw UsageError("--name must not be empty");
    if (name.size() > kMaxMailboxNameLength)
        throw UsageError("--name is longer than " + std::to_string(kMaxMailboxNameLength) + " bytes");
    for (unsigned char c : name)
        if (c < 0x20 || c == 0x7f) throw UsageError("--name must not contain control characters");
}

}  // namespace

SentCopyChoice parse_sent_copy(const std::string& text, bool allow_default) {
    const std::string v = ascii_lower(text);
    if (v == "yes") return SentCopyChoice::Yes;
    if (v == "no") return SentCopyChoice::No;
    if (v == "default" && allow_default) return SentCopyChoice::Default;
    throw UsageError("--sent-copy is yes or no" + std::string(allow_default ? " or default" : "") + ", not '" +
                     excerpt(text) + "'");
}

std::string address_problem(const std::string& address) {
    if (address.empty()) return "the address is empty";
    if (address.size() > kMaxNameLength) return "the address is longer than " + std::to_string(kMaxNameLength) + " bytes";
    for (unsigned char c : address)
        if (c <= 0x20 || c == 0x7f) return "the address contains a space or control character";
    const auto at = address.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == address.size() || address.find('@', at + 1) != std::string::npos)
        return "'" + excerpt(address) + "' is not an address (local@domain)";
    if (looks_like_dn(address)) return "'" + excerpt(address) + "' looks like a DN, not an address";
    return "";
}

MailboxCommand parse_mailbox_command(const std::vector<std::string>& argv) {
    if (argv.empty()) throw UsageError("mailbox takes a sub-command: create, delete, set or list");
    const std::string sub = argv.front();
    const std::vector<std::string> rest(argv.begin() + 1, argv.end());
    MailboxCommand cmd;
    if (sub == "create") {
        cmd.kind = MailboxCommand::Kind::Create;
        cmd.args = parse_args(rest, with_write_options({{"--name", true, false, ""},
                                                        {"--alias", true, true, ""},
                                                        {"--grant", true, true, ""},
                                                        {"--owner-group", true, false, ""},
                                                        {"--rights", true, false, ""},
                                                        {"--role", true, false, ""},
                                                        {"--send-as", false, false, ""},
                                                        {"--send-on-behalf", false, false, ""},
                                                        {"--sent-copy", true, false, ""},
                                                        {"--doveadm", true, false, ""}},
                                                       true));
        one_address(cmd.args, "create", cmd);
        const auto name = cmd.args.value("--name");
        if (!name) throw UsageError("mailbox create needs --name \"DISPLAY NAME\"");
        check_name(*name);
        cmd.name = *name;
        cmd.aliases = cmd.args.values("--alias");
        cmd.grantees = cmd.args.values("--grant");
        // --owner-group G: the team that owns the mailbox, i.e. one grant to group G with the
        // admin role on every folder (re-sharing, "configure the mailbox") and sendAs.
        const auto owner_group = cmd.args.value("--owner-group");
        if (owner_group) {
            for (const char* other : {"--grant", "--rights", "--role", "--send-as", "--send-on-behalf"})
                if (cmd.args.has(other))
                    throw UsageError(std::string("--owner-group is the first grant already (admin on every folder, "
                                                 "send as): give it without ") + other);
            std::string name = *owner_group;
            if (!name.empty() && name[0] == '$') name.erase(0, 1);
            if (name.empty()) throw UsageError("--owner-group needs a group name");
            cmd.grantees = {"$" + name};
        }
        if (cmd.aliases.size() > kMaxMailboxAliases)
            throw UsageError("at most " + std::to_string(kMaxMailboxAliases) + " aliases per command");
        if (cmd.grantees.size() > kMaxMailboxGrantees)
            throw UsageError("at most " + std::to_string(kMaxMailboxGrantees) + " grantees per command");
        if (cmd.args.has("--rights") && cmd.args.has("--role")) throw UsageError("give either --rights or --role");
        const auto rights = cmd.args.has("--role") ? cmd.args.value("--role") : cmd.args.value("--rights");
        cmd.send_as = cmd.args.has("--send-as");
        cmd.send_on_behalf = cmd.args.has("--send-on-behalf");
        if (cmd.send_as && cmd.send_on_behalf)
            throw UsageError("give either --send-as or --send-on-behalf (sendAs already includes sending on behalf)");
        if (cmd.grantees.empty() && (rights || cmd.send_as || cmd.send_on_behalf))
            throw UsageError("--rights, --send-as and --send-on-behalf belong to the first grant: add --grant WHO");
        if (!owner_group && !cmd.grantees.empty() && !rights && !cmd.send_as && !cmd.send_on_behalf)
            throw UsageError("--grant needs --rights ROLE (reader, editor, admin or letters) and/or --send-as / --send-on-behalf");
        if (rights) {
            if (cmd.args.has("--role") || is_role(*rights)) cmd.role = *rights;  // grant checks the name
            else cmd.letters = *rights;
        }
        if (owner_group) {  // the first grant: the admin role on every folder and sendAs
            cmd.role = "admin";
            cmd.send_as = true;
        }
        if (auto v = cmd.args.value("--sent-copy")) cmd.sent_copy = parse_sent_copy(*v, false);
        cmd.doveadm = cmd.args.value("--doveadm");
        if (cmd.doveadm && cmd.doveadm->find_first_not_of(" \t") == std::string::npos)
            throw UsageError("--doveadm needs a command, e.g. --doveadm \"doveadm -c /etc/dovecot/dovecot.conf\"");
        cmd.ldif = cmd.args.has("--ldif");
        if (cmd.ldif && cmd.doveadm) throw UsageError("--ldif writes nothing, so it cannot run --doveadm");
    } else if (sub == "delete") {
        cmd.kind = MailboxCommand::Kind::Delete;
        cmd.args = parse_args(rest, with_write_options({{"--force", false, false, ""}, {"--doveadm", true, false, ""}}, true));
        one_address(cmd.args, "delete", cmd);
        cmd.force = cmd.args.has("--force");
        cmd.doveadm = cmd.args.value("--doveadm");
        cmd.ldif = cmd.args.has("--ldif");
    } else if (sub == "set") {
        cmd.kind = MailboxCommand::Kind::Set;
        cmd.args = parse_args(rest, with_write_options({{"--name", true, false, ""}, {"--sent-copy", true, false, ""}}, true));
        one_address(cmd.args, "set", cmd);
        if (auto name = cmd.args.value("--name")) {
            check_name(*name);
            cmd.name = *name;
        }
        if (auto v = cmd.args.value("--sent-copy")) cmd.sent_copy = parse_sent_copy(*v, true);
        if (cmd.name.empty() && cmd.sent_copy == SentCopyChoice::Unset)
            throw UsageError("mailbox set needs --name and/or --sent-copy");
        cmd.ldif = cmd.args.has("--ldif");
    } else if (sub == "list") {
        cmd.kind = MailboxCommand::Kind::List;
        cmd.args = parse_args(rest, {});
        if (!cmd.args.positionals.empty()) throw UsageError("mailbox list takes no arguments");
    } else {
        throw UsageError("unknown mailbox sub-command '" + excerpt(sub) + "' (create, delete, set, list)");
    }
    if (cmd.kind != MailboxCommand::Kind::List) {
        const std::string problem = address_problem(cmd.address);
        // delete and set also take a DN or login (an existing mailbox); create needs an address
        if (cmd.kind == MailboxCommand::Kind::Create && !problem.empty()) throw UsageError(problem);
        std::vector<std::string> seen{ascii_lower(cmd.address)};
        for (const auto& a : cmd.aliases) {
            const std::string p = address_problem(a);
            if (!p.empty()) throw UsageError("--alias: " + p);
            if (std::find(seen.begin(), seen.end(), ascii_lower(a)) != seen.end())
                throw UsageError("--alias " + a + " is given twice (or is the address itself)");
            seen.push_back(ascii_lower(a));
        }
    }
    return cmd;
}

std::string shared_mailbox_base(const Config& config) {
    return config.team_mailbox.base.empty() ? config.users_base() : config.team_mailbox.base;
}

std::string shared_mailbox_dn(const std::string& address, const Config& config) {
    return child_dn("uid", address.substr(0, address.find('@')), shared_mailbox_base(config));
}

Change shared_mailbox_add(const MailboxCommand& cmd, const Config& config) {
    Change c;
    c.type = Change::Type::Add;
    c.dn = shared_mailbox_dn(cmd.address, config);
    c.comment = "shared mailbox " + cmd.address + ": no password, reached through grants only";
    const bool aliases = !cmd.aliases.empty();
    if (aliases && config.users.alias_attributes.empty())
        throw UsageError("--alias needs users.alias_attributes in the configuration (e.g. mailLocalAddress)");
    const std::string alias_attr = aliases ? config.users.alias_attributes.front() : std::string();
    c.attributes.push_back({"objectClass", "inetOrgPerson"});
    // mailLocalAddress (misc.schema) is allowed by inetLocalMailRecipient; another alias
    // attribute is the site's own and comes with its own class on the site's entries.
    if (aliases && ascii_lower(alias_attr) == "maillocaladdress")
        c.attributes.push_back({"objectClass", "inetLocalMailRecipient"});
    c.attributes.push_back({"objectClass", config.schema.shared_mailbox_object_class});
    c.attributes.push_back({"uid", cmd.address.substr(0, cmd.address.find('@'))});
    c.attributes.push_back({"cn", cmd.name});
    c.attributes.push_back({"sn", cmd.name});
    c.attributes.push_back({"displayName", cmd.name});
    c.attributes.push_back({config.users.mail_attribute, cmd.address});
    for (const auto& a : cmd.aliases) c.attributes.push_back({alias_attr, a});
    if (cmd.sent_copy == SentCopyChoice::Yes || cmd.sent_copy == SentCopyChoice::No)
        c.attributes.push_back({config.schema.sent_copy, cmd.sent_copy == SentCopyChoice::Yes ? "TRUE" : "FALSE"});
    c.attributes.push_back({"description", "shared mailbox (no password: reached through grants)"});
    return c;
}

std::vector<std::string> special_use_folders(const TeamMailboxConfig& team) {
    std::vector<std::string> out;
    for (const auto* name : {&team.drafts, &team.sent, &team.trash, &team.junk})
        if (!name->empty() && std::find(out.begin(), out.end(), *name) == out.end()) out.push_back(*name);
    return out;
}

std::vector<std::string> folder_create_args(const std::string& address, const TeamMailboxConfig& team) {
    std::vector<std::string> args{"mailbox", "create", "-s", "-u", address};
    for (const auto& f : special_use_folders(team)) args.push_back(f);
    return args;
}

std::string folder_create_command(const std::string& address, const TeamMailboxConfig& team) {
    std::string out = "doveadm";
    for (const auto& a : folder_create_args(address, team)) {
        if (!a.empty() && a.find_first_of(" \t'\"\\$`;&|<>()*?[]{}~#!") == std::string::npos) {
            out += " " + a;
            continue;
        }
        out += " '";
        for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
        out += "'";
    }
    return out;
}

Change shared_mailbox_modify(const std::string& dn, const MailboxCommand& cmd, const Config& config) {
    Change c;
    c.type = Change::Type::Modify;
    c.dn = dn;
    if (!cmd.name.empty()) c.modifications.push_back({Modification::Op::Replace, "displayName", {cmd.name}});
    switch (cmd.sent_copy) {
        case SentCopyChoice::Yes:
        case SentCopyChoice::No:
            c.modifications.push_back(
                {Modification::Op::Replace, config.schema.sent_copy, {cmd.sent_copy == SentCopyChoice::Yes ? "TRUE" : "FALSE"}});
            break;
        case SentCopyChoice::Default:  // replace with no values: gone, and no error when absent
            c.modifications.push_back({Modification::Op::Replace, config.schema.sent_copy, {}});
            break;
        case SentCopyChoice::Unset:
            break;
    }
    return c;
}

}  // namespace mailgrant::cli
