// acl_change.cpp -- what an IMAP SETACL / DELETEACL changes in the LDAP grants below a
// mailbox (DESIGN.md, "Self-service from mail clients"), decided here and written
// through a GrantWriter.
//
// Only grants that name exactly this grantee and list exactly this folder (string
// equality, not pattern match) are ever changed: a pattern such as "*" or a grant shared
// with several people was made by an admin on purpose, and a click in a mail client must
// not widen or narrow it for others. Where such a grant is what gives the access, the
// client is told so instead.
#include "mailgrant/acl_change.h"

#include <ldap.h>

#include <ctime>
#include <set>
#include <stdexcept>

#include "mailgrant/dn.h"
#include "mailgrant/grant_edit.h"
#include "mailgrant/input.h"
#include "mailgrant/rights.h"

namespace mailgrant {

struct AclChanger::Grantee {
    std::string dn;
    std::string label;  // how messages name it: "bob@example.com", "group $staff"
};

namespace {

// A permanent "no" with its reason, thrown from deep inside and turned into Refused.
struct Refusal : std::runtime_error {
    using std::runtime_error::runtime_error;
};

AclChangeResult result(AclChangeStatus status, std::string message, std::string dn = {}) {
    AclChangeResult r;
    r.status = status;
    r.message = std::move(message);
    r.entry_dn = std::move(dn);
    return r;
}

bool same_dn(const std::string& a, const std::string& b) {
    const std::string na = normalize_dn(a);
    return !na.empty() && na == normalize_dn(b);
}
bool only_grantee(const Grant& g, const std::string& dn) { return g.grantees.size() == 1 && same_dn(g.grantees[0], dn); }
bool names_grantee(const Grant& g, const std::string& dn) {
    for (const auto& grantee : g.grantees)
        if (same_dn(grantee, dn)) return true;
    return false;
}
bool lists_folder(const Grant& g, const std::string& folder) {
    for (const auto& f : g.folders)
        if (f == folder) return true;
    return false;
}
// The grants this request may change: this grantee alone, this folder by name, in
// force now. An expired or future grant (a vacation cover) gives nothing today;
// changing it would not give what the client asked, and would change the cover.
bool is_exact(const Grant& g, const std::string& dn, const std::string& folder, std::time_t now) {
    return only_grantee(g, dn) && lists_folder(g, folder) && g.state_at(now) == GrantState::Active;
}

std::string stored_rights(const Rights& r) {
    const std::string role = role_name(r);
    return role.empty() ? r.letters() : role;
}
std::string describe(const Rights& r) {
    const std::string role = role_name(r);
    return role.empty() ? r.letters() : role + " (" + r.letters() + ")";
}
Rights without(const Rights& from, const Rights& removed) {
    std::string letters;
    for (char c : Rights::kLetters)
        if (from.has(c) && !removed.has(c)) letters += c;
    return letters.empty() ? Rights::none() : *Rights::from_letters(letters);
}

std::string utc_date(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
    return out;
}

// Takes `folder` out of one grant of this grantee alone, as the core's one answer to
// "what does the grant become" (grant_edit.h): the entry goes when nothing else is left
// in it; send rights are never touched (DESIGN.md: send rights are never changed through
// IMAP ACL).
void remove_folder(GrantWriter& writer, const SchemaConfig& schema, const Grant& g, const std::string& folder,
                   std::vector<std::string>& changes) {
    const GrantEdit edit = remove_part(g, {g.grantees.at(0)}, GrantPart{GrantPart::Kind::Folder, {folder}}, schema);
    if (edit.action == GrantEdit::Action::Delete) {
        writer.delete_entry(g.dn);
        changes.push_back("deleted " + g.dn);
    } else if (edit.action == GrantEdit::Action::Modify) {
        writer.modify_entry(g.dn, edit.changes);
        changes.push_back(edit.changes.size() > 1 ? "folder and rights removed from " + g.dn + " (its send rights stay)"
                                                  : "folder removed from " + g.dn);
    }
}

// The first other grant that still opens the folder to the grantee, for the message.
const Grant* other_access(const std::vector<Grant>& grants, const std::string& dn, const std::string& folder,
                          std::time_t now) {
    for (const auto& g : grants)
        if (names_grantee(g, dn) && g.state_at(now) == GrantState::Active && !is_exact(g, dn, folder, now) &&
            g.matching_folder(folder))
            return &g;
    return nullptr;
}
std::string how(const Grant& g, const std::string& folder) {
    const std::string pattern = g.matching_folder(folder).value_or(folder);
    if (pattern != folder) return "pattern '" + pattern + "' of grant " + g.dn;
    return "grant " + g.dn + " (shared with " + std::to_string(g.grantees.size()) + " grantees)";
}

}  // namespace

AclChangeResult AclChanger::apply(const AclChangeRequest& request) noexcept {
    try {
        return apply_checked(request);
    } catch (const Refusal& e) {
        return result(AclChangeStatus::Refused, e.what());
    } catch (const BadInput& e) {
        return result(AclChangeStatus::Refused, e.what());
    } catch (const LdapError& e) {
        if (e.code() == LDAP_INSUFFICIENT_ACCESS || e.code() == LDAP_STRONG_AUTH_REQUIRED)
            return result(AclChangeStatus::Refused, std::string("the directory refused the change: ") + e.what());
        if (e.code() == LDAP_NO_SUCH_ATTRIBUTE || e.code() == LDAP_TYPE_OR_VALUE_EXISTS ||
            e.code() == LDAP_ALREADY_EXISTS || e.code() == LDAP_NO_SUCH_OBJECT)
        {
            AclChangeResult r = result(AclChangeStatus::Temporary,
                                       std::string("the grants changed meanwhile, try again: ") + e.what());
            r.concurrent_edit = true;
            return r;
        }
        return result(AclChangeStatus::Temporary, e.what());
    } catch (const ConfigError& e) {  // the service account's password file
        return result(AclChangeStatus::Temporary, std::string("cannot write to LDAP: ") + e.what());
    } catch (const std::exception& e) {
        return result(AclChangeStatus::Temporary, std::string("internal error: ") + e.what());
    } catch (...) {
        return result(AclChangeStatus::Temporary, "internal error");
    }
}

AclChangeResult AclChanger::apply_checked(const AclChangeRequest& request) {
    check_login(request.actor, "actor");
    if (request.folder.empty()) throw BadInput("no folder named");
    if (request.folder.size() > kMaxFolderLength) throw BadInput("folder name longer than 1024 bytes");
    for (unsigned char c : request.folder)
        if (c < 0x20 || c == 0x7f) throw BadInput("folder name '" + excerpt(request.folder) + "' has control characters");
    const std::string& id = request.identifier;
    if (id.empty()) throw BadInput("no identifier named");
    if (id[0] == '-')
        throw Refusal("negative rights ('" + excerpt(id) +
                      "') are not supported: take the access away with DELETEACL instead");

    const auto mailbox = directory_.find_address(request.mailbox);
    if (!mailbox) throw Refusal("no mailbox '" + excerpt(request.mailbox) + "' in the directory");
    const Grantee grantee = resolve_grantee(request, *mailbox);
    return request.remove ? delete_acl(request, *mailbox, grantee, "") : set_acl(request, *mailbox, grantee);
}

AclChanger::Grantee AclChanger::resolve_grantee(const AclChangeRequest& request, const Account& mailbox) {
    const std::string& id = request.identifier;
    const std::string unknown = "no person or group '" + excerpt(id) + "' in the directory";
    // RFC 4314's "anyone"/"authenticated" become the group the configuration names for
    // them (self_service.anyone_group / authenticated_group): LDAP keeps holding only
    // grants to people and groups, which `list` and `explain` understand.
    const std::string lower = ascii_lower(id);
    if (lower == "anyone" || lower == "authenticated") {
        const std::string& group =
            lower == "anyone" ? config_.self_service.anyone_group : config_.self_service.authenticated_group;
        if (group.empty())
            throw Refusal("'" + lower +
                          "' cannot be given access here: a share names a person (address or login) or a group "
                          "($name), and no group is configured for '" + lower + "' (self_service." + lower +
                          "_group)");
        const auto dn = directory_.find_group(group);
        if (!dn)
            throw Refusal("'" + lower + "' stands for the group $" + group + " here (self_service." + lower +
                          "_group), which is not in the directory");
        return {*dn, lower + " (group $" + group + ")"};
    }
    if (id[0] == '$') {
        const std::string name = id.substr(1);
        if (name.empty()) throw Refusal("'$' names no group");
        const auto dn = directory_.find_group(name);
        if (!dn) throw Refusal(unknown);
        return {*dn, "group $" + name};
    }
    // An address or alias first when it looks like one; a login otherwise (the login
    // filter matches uid and mail by default, so "bob" and "bob@example.com" both work).
    std::optional<Account> account;
    if (id.find('@') != std::string::npos) account = directory_.find_address(id);
    if (!account) account = directory_.find_login(id);
    if (!account) throw Refusal(unknown);
    if (account->shared_mailbox)
        throw Refusal("'" + excerpt(id) + "' is a shared mailbox, which has no login of its own: share with its people");
    if (same_dn(account->dn, mailbox.dn))
        throw Refusal("'" + excerpt(id) + "' is the mailbox itself: its owner always has every right");
    return {account->dn, account->primary_address().empty() ? id : account->primary_address()};
}

AclChangeResult AclChanger::set_acl(const AclChangeRequest& request, const Account& mailbox, const Grantee& grantee) {
    const SchemaConfig& schema = config_.schema;
    const std::string& text = request.rights;
    const std::string& folder = request.folder;
    char mode = '=';
    std::string letters = text;
    if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
        mode = text[0];
        letters = text.substr(1);
    }
    // RFC 4314 section 2.1.1: the obsolete RFC 2086 letters still reach servers from
    // old clients; "c" is "kx", "d" is "te" (as Dovecot reads them).
    std::string expanded;
    for (char c : letters) expanded += c == 'c' ? std::string("kx") : c == 'd' ? std::string("te") : std::string(1, c);
    letters = expanded;
    Rights given;
    if (!letters.empty()) {
        std::string error;
        const auto parsed = Rights::from_letters(letters, &error);
        if (!parsed) throw Refusal("rights '" + excerpt(text) + "': " + error);
        given = *parsed;
    } else if (mode != '=') {
        throw Refusal("rights '" + excerpt(text) + "' name no letter");
    }
    // The site's policy on what a share from a mail client may give (self_service.
    // allowed_rights); taking letters away ("-x") is always allowed.
    if (mode != '-') {
        const Rights allowed = *parse_rights(config_.self_service.allowed_rights);
        std::string forbidden;
        for (char c : Rights::kLetters)
            if (given.has(c) && !allowed.has(c)) forbidden += c;
        if (!forbidden.empty())
            throw Refusal("rights '" + excerpt(text) + "' include letters the sharing policy forbids: " + forbidden +
                          " (allowed: " + allowed.letters() + ")");
    }

    const auto grants = grant_reader_.grants_of(mailbox.dn);
    // + and - work on the rights of the grants this command rewrites: the grantee's own
    // grants naming this folder (RFC 4314: the modifiers change the identifier's current
    // rights). Not on letters from a pattern, group or shared grant: grants add up, so
    // "-w" cannot take away what another grant gives, and copying that grant's letters
    // into a new one would outlive its end date or slip past the rights policy (the
    // message notes the other grant instead).
    const std::time_t now = clock_.wall_now();
    Rights current;
    bool windowed = false;
    for (const auto& g : grants)
        if (is_exact(g, grantee.dn, folder, now) && g.rights) {
            current |= *g.rights;
            windowed = windowed || g.not_before || g.not_after;
        }
    const Rights wanted = mode == '=' ? given : mode == '+' ? current | given : without(current, given);
    if (wanted.empty()) return delete_acl(request, mailbox, grantee, " (rights '" + excerpt(text) + "' leave none)");
    const std::string value = stored_rights(wanted);

    std::vector<const Grant*> exact;
    for (const auto& g : grants)
        if (is_exact(g, grantee.dn, folder, now)) exact.push_back(&g);
    // The grant that ends up holding the folder: one that already has these rights, else
    // one that holds only this folder (its rights change in place).
    const Grant* target = nullptr;
    for (const Grant* g : exact)
        if (!target && g->rights && *g->rights == wanted) target = g;
    for (const Grant* g : exact)
        if (!target && g->folders.size() == 1) target = g;

    // Writes go in an order that never takes access away before the new access exists:
    // a failure half-way leaves the grantee with the old and new rights, and a retry
    // finishes the job (it finds the new grant as the target).
    std::vector<std::string> changes;
    std::string entry_dn;
    if (target) {
        entry_dn = target->dn;
        if (!(target->rights && *target->rights == wanted)) {
            std::vector<ValueChange> ch;
            if (!target->rights_text.empty()) ch.push_back({ValueChange::Op::Delete, schema.rights, target->rights_text});
            ch.push_back({ValueChange::Op::Add, schema.rights, value});
            writer_.modify_entry(target->dn, ch);
            changes.push_back("rights of " + target->dn + " changed from '" + target->rights_text + "' to '" + value + "'");
        }
    } else {
        // A modifier on a folder of a multi-folder grant with a validity window would move
        // the folder into a grant without one: the owner says what is meant with "=".
        if (mode != '=' && windowed)
            throw Refusal("'" + folder + "' is shared with " + grantee.label +
                          " by a grant with a validity window that covers other folders too; set the rights "
                          "without + or - (or change the grant with mailgrant or in LDAP)");
        // Taking the folder out of a multi-folder grant: it joins a grant of this grantee
        // alone that already has the new rights (and no validity window), if there is one.
        const Grant* reuse = nullptr;
        if (!exact.empty())
            for (const auto& g : grants)
                if (!reuse && only_grantee(g, grantee.dn) && g.rights && *g.rights == wanted && !g.not_before &&
                    !g.not_after && !g.window_invalid && !lists_folder(g, folder))
                    reuse = &g;
        if (reuse) {
            writer_.modify_entry(reuse->dn, {{ValueChange::Op::Add, schema.folder, folder}});
            entry_dn = reuse->dn;
            changes.push_back("folder added to " + reuse->dn);
        } else {
            entry_dn = create_grant(mailbox, grantee, grants, folder, value, request.actor);
            changes.push_back("created " + entry_dn);
        }
    }
    for (const Grant* g : exact)
        if (g != target) remove_folder(writer_, schema, *g, folder, changes);

    std::string message;
    if (changes.empty())
        message = request.actor + ": " + grantee.label + " already has " + describe(wanted) + " on '" + folder +
                  "' of " + mailbox.primary_address() + " (" + entry_dn + "); nothing changed";
    else
        message = request.actor + " shared '" + folder + "' of " + mailbox.primary_address() + " with " +
                  grantee.label + " as " + describe(wanted) + ": " + join(changes);
    if (const Grant* other = other_access(grants, grantee.dn, folder, now); other && other->rights && !wanted.contains(*other->rights))
        message += "; note: " + how(*other, folder) + " still gives " + other->rights->letters() +
                   " (change it with mailgrant or in LDAP)";
    return result(AclChangeStatus::Done, message, entry_dn);
}

AclChangeResult AclChanger::delete_acl(const AclChangeRequest& request, const Account& mailbox,
                                       const Grantee& grantee, const std::string& why) {
    const std::string& folder = request.folder;
    const auto grants = grant_reader_.grants_of(mailbox.dn);
    const std::time_t now = clock_.wall_now();
    std::vector<std::string> changes;
    std::string entry_dn;
    for (const auto& g : grants)
        if (is_exact(g, grantee.dn, folder, now)) {
            remove_folder(writer_, config_.schema, g, folder, changes);
            entry_dn = g.dn;
        }
    const Grant* other = other_access(grants, grantee.dn, folder, now);
    if (changes.empty()) {
        if (other)
            throw Refusal("access to '" + folder + "' for " + grantee.label + " comes from " + how(*other, folder) +
                          "; change it with mailgrant or in LDAP");
        return result(AclChangeStatus::Done, request.actor + ": " + grantee.label + " has no share of '" + folder +
                                                 "' of " + mailbox.primary_address() + "; nothing changed");
    }
    std::string message = request.actor + " removed " + grantee.label + "'s access to '" + folder + "' of " +
                           mailbox.primary_address() + why + ": " + join(changes);
    if (other) message += "; note: " + how(*other, folder) + " still gives access (change it with mailgrant or in LDAP)";
    return result(AclChangeStatus::Done, message, entry_dn);
}

std::string AclChanger::create_grant(const Account& mailbox, const Grantee& grantee, const std::vector<Grant>& existing,
                                     const std::string& folder, const std::string& rights_value,
                                     const std::string& actor) {
    const SchemaConfig& schema = config_.schema;
    std::set<std::string> taken;
    for (const auto& g : existing) taken.insert(ascii_lower(first_rdn_value(g.dn)));
    std::string base = first_rdn_value(grantee.dn);
    base = base.empty() ? "share" : "share-" + base;
    // A name nobody uses below this mailbox; a concurrent creation of the same name
    // (alreadyExists) moves on to the next one.
    int attempts = 0;
    for (int n = 1;; ++n) {
        const std::string name = n == 1 ? base : base + "-" + std::to_string(n);
        if (taken.count(ascii_lower(name))) continue;
        const std::string dn = schema.grant_name + "=" + escape_rdn_value(name) + "," + mailbox.dn;
        std::map<std::string, std::vector<std::string>> attrs{
            {"objectClass", {schema.grant_object_class}},
            {schema.grantee, {grantee.dn}},
            {schema.folder, {folder}},
            {schema.rights, {rights_value}},
            {"description", {"shared by " + actor + " from a mail client on " + utc_date(clock_.wall_now())}},
        };
        attrs[schema.grant_name].push_back(name);
        try {
            writer_.add_entry(dn, attrs);
            return dn;
        } catch (const LdapError& e) {
            if (e.code() != LDAP_ALREADY_EXISTS || ++attempts >= 3) throw;
        }
    }
}

}  // namespace mailgrant
