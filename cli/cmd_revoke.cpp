// cmd_revoke.cpp -- `mailgrant revoke MAILBOX (NAME | --grantee GRANTEE [--folder F])`:
// deletes a grant by name, or takes one grantee (optionally one folder) out of every grant
// of the mailbox that names it. A grant that still serves other grantees or folders is
// modified, not deleted, so revoking bob never takes access away from carol.
#include "mailgrant/dn.h"
#include "verbs.h"

namespace mailgrant::cli {

int run_revoke(Invocation& inv) {
    auto specs = write_option_specs();
    specs.push_back({"--grantee", true, false, ""});
    specs.push_back({"--folder", true, false, "-f"});
    const auto args = parse_args(inv.args, specs);
    const auto& pos = args.positionals;
    const bool by_grantee = args.has("--grantee");
    if (by_grantee ? pos.size() != 1 : pos.size() != 2)
        throw UsageError("revoke takes MAILBOX NAME, or MAILBOX --grantee GRANTEE [--folder F]");
    if (!by_grantee && args.has("--folder")) throw UsageError("--folder is used with --grantee");

    Context& ctx = inv.ctx;
    const SchemaConfig& schema = ctx.config().schema;
    const Account mailbox = ctx.resolve_mailbox(pos[0]);
    const auto grants = ctx.directory().grants_of(mailbox.dn);
    std::vector<Change> changes;
    std::vector<std::string> summary;

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
    } else {
        const Principal grantee = ctx.resolve_grantee(*args.value("--grantee"));
        const std::string gkey = normalize_dn(grantee.dn);
        const auto folder = args.value("--folder");
        for (const auto& g : grants) {
            std::string value;  // the mailGrantee value as stored
            for (const auto& v : g.grantees)
                if (normalize_dn(v) == gkey) value = v;
            if (value.empty()) continue;
            if (folder) {
                bool listed = false;
                for (const auto& f : g.folders) listed = listed || f == *folder;
                if (!listed) continue;
            }
            Change c;
            c.dn = g.dn;
            const bool others = g.grantees.size() > 1;
            if (folder && others) {
                throw Refusal("grant '" + g.name + "' also serves other grantees; removing folder '" + *folder +
                              "' would take it from them too. Revoke " + grantee.display +
                              " without --folder, or edit the grant");
            }
            if (folder && g.folders.size() > 1) {
                c.type = Change::Type::Modify;
                c.modifications.push_back({Modification::Op::Delete, schema.folder, {*folder}});
                summary.push_back("removed folder '" + *folder + "' from grant '" + g.name + "' (" + g.dn + ")");
            } else if (others) {
                c.type = Change::Type::Modify;
                c.modifications.push_back({Modification::Op::Delete, schema.grantee, {value}});
                summary.push_back("removed " + grantee.display + " from grant '" + g.name + "' (" + g.dn + ")");
            } else {
                c.type = Change::Type::Delete;
                summary.push_back("deleted grant '" + g.name + "' (" + g.dn + ")");
            }
            changes.push_back(c);
        }
        if (changes.empty()) {
            inv.err << "mailgrant: nothing to revoke: no grant of " << mailbox.primary_address() << " names "
                    << grantee.display << (folder ? " with folder '" + *folder + "'" : std::string()) << "\n";
            return kExitNo;
        }
    }

    if (args.has("--ldif")) {
        for (const auto& c : changes) inv.out << to_ldif(c);
        return kExitOk;
    }
    LdapWriter writer(ctx.config().ldap, write_credentials(args, ctx.config()));
    for (const auto& c : changes) writer.apply(c);
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
        inv.out << j.dump();
    } else {
        for (const auto& s : summary) inv.out << s << "\n";
    }
    return kExitOk;
}

}  // namespace mailgrant::cli
