// grant_writer.h -- the writes of self-service (self_service.h): add, modify, delete one
// grant entry.
//
// An interface so the decisions of SelfService can be tested against a recording fake,
// and the one real implementation writes with the service account through the core's
// session opener (ldap_session.h: same URIs, timeouts and TLS as every read). Changes
// are single values added or deleted, never "replace": two owners editing different
// folders of one grant at the same time must not undo each other, and a value that
// changed meanwhile makes the write fail (the caller retries) instead of overwriting it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mailgrant/config.h"
#include "mailgrant/ldap_session.h"

namespace mailgrant {

struct ValueChange {
    enum class Op { Add, Delete };
    Op op;
    std::string attribute;
    std::string value;
};

class GrantWriter {
public:
    virtual ~GrantWriter() = default;
    // Each throws LdapError (with libldap's result code) when the server refuses or fails.
    virtual void add_entry(const std::string& dn, const std::map<std::string, std::vector<std::string>>& attributes) = 0;
    virtual void modify_entry(const std::string& dn, const std::vector<ValueChange>& changes) = 0;
    virtual void delete_entry(const std::string& dn) = 0;
};

// Opens its session on the first write (BindAs::service with ldap.bind_password, or the
// first line of ldap.bind_password_file) and keeps it for the writer's life.
class LdapGrantWriter final : public GrantWriter {
public:
    explicit LdapGrantWriter(const LdapConfig& config) : config_(config) {}

    void add_entry(const std::string& dn, const std::map<std::string, std::vector<std::string>>& attributes) override;
    void modify_entry(const std::string& dn, const std::vector<ValueChange>& changes) override;
    void delete_entry(const std::string& dn) override;

private:
    ::ldap* session();
    const LdapConfig& config_;
    LdapSession session_;
};

}  // namespace mailgrant
