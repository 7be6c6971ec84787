// ldap_writer.cpp -- see ldap_writer.h.
#include "ldap_writer.h"

#include <ldap.h>

#include <cstring>

namespace mailgrant::cli {

namespace {

// berval arrays that own their storage for one LDAPMod.
struct ModHolder {
    std::vector<std::string> values;
    std::vector<berval> bvals;
    std::vector<berval*> ptrs;
    std::string attribute;
    LDAPMod mod{};

    ModHolder(int op, const std::string& attr, const std::vector<std::string>& vals) : values(vals), attribute(attr) {
        bvals.resize(values.size());
        for (std::size_t i = 0; i < values.size(); ++i) {
            bvals[i].bv_val = values[i].data();
            bvals[i].bv_len = values[i].size();
        }
        for (auto& b : bvals) ptrs.push_back(&b);
        ptrs.push_back(nullptr);
        mod.mod_op = op | LDAP_MOD_BVALUES;
        mod.mod_type = attribute.data();
        mod.mod_bvalues = values.empty() ? nullptr : ptrs.data();
    }
    ModHolder(const ModHolder&) = delete;
    ModHolder& operator=(const ModHolder&) = delete;
};

}  // namespace

LdapWriter::LdapWriter(const LdapConfig& config, WriteCredentials credentials)
    : config_(config), credentials_(std::move(credentials)) {
    if (!credentials_.sasl_external && !credentials_.bind_dn.empty()) {
        if (credentials_.bind_password_file.empty())
            throw ConfigError("a bind DN for writes needs a password file (--bind-password-file)");
        password_ = read_secret_file(credentials_.bind_password_file);
    }
}

LdapWriter::~LdapWriter() = default;

void LdapWriter::connect() {
    const BindAs as = credentials_.sasl_external ? BindAs::sasl_external()
                                                 : BindAs::person(credentials_.bind_dn, password_);
    session_ = LdapSession::open(config_, as, credentials_.uris);
}

void LdapWriter::wait_result(int msgid, const std::string& what) {
    timeval timeout = to_timeval(config_.operation_timeout_ms);
    LDAPMessage* result = nullptr;
    const int got = ldap_result(session_.get(), msgid, LDAP_MSG_ALL, &timeout, &result);
    if (got <= 0) {
        if (result) ldap_msgfree(result);
        ldap_abandon_ext(session_.get(), msgid, nullptr, nullptr);
        session_.close();
        throw LdapError(got == 0 ? LdapErrorKind::Timeout : LdapErrorKind::Unavailable, got == 0 ? LDAP_TIMEOUT : -1,
                        what + ": " + (got == 0 ? "no answer within ldap.operation_timeout_ms" : "connection lost"));
    }
    int code = LDAP_OTHER;
    char* matched = nullptr;
    char* message = nullptr;
    const int rc = ldap_parse_result(session_.get(), result, &code, &matched, &message, nullptr, nullptr, 1);
    std::string text = message && *message ? std::string(" (") + message + ")" : std::string();
    if (matched) ldap_memfree(matched);
    if (message) ldap_memfree(message);
    if (rc != LDAP_SUCCESS) throw LdapError(classify_ldap_code(rc), rc, what + ": " + ldap_err2string(rc));
    if (code != LDAP_SUCCESS) throw LdapError(classify_ldap_code(code), code, what + ": " + ldap_err2string(code) + text);
}

void LdapWriter::apply(const Change& change) {
    if (!session_) connect();
    int msgid = 0;
    int rc = LDAP_SUCCESS;
    std::string what;
    std::vector<std::unique_ptr<ModHolder>> holders;
    std::vector<LDAPMod*> mods;
    switch (change.type) {
        case Change::Type::Add: {
            what = "adding " + change.dn;
            // group values by attribute, keeping first-seen order
            std::vector<std::pair<std::string, std::vector<std::string>>> grouped;
            for (const auto& a : change.attributes) {
                auto it = grouped.begin();
                for (; it != grouped.end(); ++it)
                    if (it->first == a.first) break;
                if (it == grouped.end()) grouped.push_back({a.first, {a.second}});
                else it->second.push_back(a.second);
            }
            for (const auto& g : grouped) holders.push_back(std::make_unique<ModHolder>(LDAP_MOD_ADD, g.first, g.second));
            for (auto& h : holders) mods.push_back(&h->mod);
            mods.push_back(nullptr);
            rc = ldap_add_ext(session_.get(), change.dn.c_str(), mods.data(), nullptr, nullptr, &msgid);
            break;
        }
        case Change::Type::Delete:
            what = "deleting " + change.dn;
            rc = ldap_delete_ext(session_.get(), change.dn.c_str(), nullptr, nullptr, &msgid);
            break;
        case Change::Type::Modify: {
            what = "modifying " + change.dn;
            for (const auto& m : change.modifications) {
                const int op = m.op == Modification::Op::Add      ? LDAP_MOD_ADD
                               : m.op == Modification::Op::Delete ? LDAP_MOD_DELETE
                                                                  : LDAP_MOD_REPLACE;
                holders.push_back(std::make_unique<ModHolder>(op, m.attribute, m.values));
            }
            for (auto& h : holders) mods.push_back(&h->mod);
            mods.push_back(nullptr);
            rc = ldap_modify_ext(session_.get(), change.dn.c_str(), mods.data(), nullptr, nullptr, &msgid);
            break;
        }
    }
    if (rc != LDAP_SUCCESS) {
        session_.close();
        throw LdapError(classify_ldap_code(rc), rc, what + ": " + ldap_err2string(rc));
    }
    wait_result(msgid, what);
}

}  // namespace mailgrant::cli
