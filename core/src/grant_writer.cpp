// grant_writer.cpp -- LDAP add / modify (single values) / delete with the service account.
#include "mailgrant/grant_writer.h"

#include <ldap.h>

#include <memory>

namespace mailgrant {

namespace {

// libldap wants NULL-terminated arrays of LDAPMod* holding berval* arrays; this owns the
// pieces so every exit (a throw included) frees them.
class ModList {
public:
    void add(int op, const std::string& attribute, const std::vector<std::string>& values) {
        auto& mod = mods_.emplace_back(std::make_unique<Mod>());
        mod->type = attribute;
        mod->values = values;  // owned copies: the bervals below point into them
        for (auto& v : mod->values) mod->bervals.push_back(berval{static_cast<ber_len_t>(v.size()), v.data()});
        for (auto& b : mod->bervals) mod->pointers.push_back(&b);
        mod->pointers.push_back(nullptr);
        mod->mod.mod_op = op | LDAP_MOD_BVALUES;
        mod->mod.mod_type = const_cast<char*>(mod->type.c_str());
        mod->mod.mod_bvalues = mod->pointers.data();
    }
    LDAPMod** get() {
        array_.clear();
        for (auto& m : mods_) array_.push_back(&m->mod);
        array_.push_back(nullptr);
        return array_.data();
    }

private:
    struct Mod {
        std::string type;
        std::vector<std::string> values;
        std::vector<berval> bervals;
        std::vector<berval*> pointers;
        LDAPMod mod{};
    };
    std::vector<std::unique_ptr<Mod>> mods_;  // stable addresses
    std::vector<LDAPMod*> array_;
};

}  // namespace

::ldap* LdapGrantWriter::session() {
    if (!session_) {
        std::string password;
        if (!config_.bind_dn.empty())
            password = config_.bind_password.empty() ? read_secret_file(config_.bind_password_file) : config_.bind_password;
        session_ = LdapSession::open(config_, BindAs::service(config_, password));
    }
    return session_.get();
}

void LdapGrantWriter::add_entry(const std::string& dn, const std::map<std::string, std::vector<std::string>>& attributes) {
    ModList mods;
    for (const auto& [attribute, values] : attributes) mods.add(LDAP_MOD_ADD, attribute, values);
    const int rc = ldap_add_ext_s(session(), dn.c_str(), mods.get(), nullptr, nullptr);
    if (rc != LDAP_SUCCESS) throw_ldap(rc, "adding " + dn);
}

void LdapGrantWriter::modify_entry(const std::string& dn, const std::vector<ValueChange>& changes) {
    if (changes.empty()) return;
    ModList mods;
    for (const auto& c : changes)
        mods.add(c.op == ValueChange::Op::Add ? LDAP_MOD_ADD : LDAP_MOD_DELETE, c.attribute, {c.value});
    const int rc = ldap_modify_ext_s(session(), dn.c_str(), mods.get(), nullptr, nullptr);
    if (rc != LDAP_SUCCESS) throw_ldap(rc, "changing " + dn);
}

void LdapGrantWriter::delete_entry(const std::string& dn) {
    const int rc = ldap_delete_ext_s(session(), dn.c_str(), nullptr, nullptr);
    if (rc != LDAP_SUCCESS) throw_ldap(rc, "deleting " + dn);
}

}  // namespace mailgrant
