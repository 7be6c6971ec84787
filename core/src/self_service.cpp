// self_service.cpp -- SelfService: AclChanger (acl_change.h) writing with the service
// account through LdapGrantWriter (or a caller's writer, for the plugin ABI's tests). A
// writer per request: SETACL is rare, and a session
// that lives only as long as the change cannot go stale between two of them. The grants
// a change starts from are read through `directory`, so the caller passes one WITHOUT a
// cache in front (the Dovecot plugin passes the LDAP directory below its cache): a change
// computed from a stale copy would miss a share made seconds ago and, for a DELETEACL,
// say "nothing to remove" while the share stays.
#include "mailgrant/self_service.h"

#include "mailgrant/acl_change.h"
#include "mailgrant/grant_writer.h"

namespace mailgrant {

SelfService::SelfService(const Config& config, Directory& directory, const Clock& clock, GrantWriter* writer)
    : config_(config), directory_(directory), clock_(clock), writer_(writer) {}

AclChangeResult SelfService::apply(const AclChangeRequest& request) noexcept {
    AclChangeResult r;
    r.status = AclChangeStatus::Temporary;
    try {
        if (writer_) return AclChanger(config_, directory_, clock_, *writer_).apply(request);
        LdapGrantWriter writer(config_.ldap);
        return AclChanger(config_, directory_, clock_, writer).apply(request);
    } catch (const std::exception& e) {  // AclChanger::apply never throws; this guards the set-up
        r.message = std::string("cannot write to LDAP: ") + e.what();
    } catch (...) {
        r.message = "cannot write to LDAP";
    }
    return r;
}

}  // namespace mailgrant
