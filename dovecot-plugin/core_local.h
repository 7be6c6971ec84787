// core_local.h -- what a mail process does over its own LDAP connection instead of asking
// the per-host service: answer the questions itself (service.listen empty) and write a
// share made from a mail client (SETACL/DELETEACL, in either mode).
//
// Why a separate piece: it is the only part of the plugin's core that needs the directory
// code, libldap and its TLS stack. The plugin's libmailgrant_core.so (core_abi.cpp over
// core's mailgrant_core_base) loads it from libmailgrant_local.so next to itself only when
// a process first needs it (local_open_dl.cpp), so an IMAP process that only asks the
// service never loads libldap (issue 19: about 6 of the 9 ms a process paid to load the
// core). Static builds (unit tests, Dovecot 2.4's passdb) link it directly
// (local_open_static.cpp). Every method is noexcept: no exception crosses the library
// boundary. The two libraries pass C++ objects (Config, requests, results) to each other,
// so they must come from one build: the entry point refuses another build's core (an
// IMAP session that outlived a package upgrade), and the caller says to restart Dovecot.
// Each library has its own copy of the base code, warnings.h's sink included: a sink
// installed through the core does not see the LDAP side's warnings (none is installed in
// the plugin; both write to stderr, Dovecot's log).
#pragma once

#include <memory>
#include <string>

#include "mailgrant/clock.h"
#include "mailgrant/config.h"
#include "mailgrant/self_service.h"
#include "mailgrant/service_protocol.h"

namespace mailgrant {

class Directory;
class GrantWriter;

class LocalCore {
public:
    virtual ~LocalCore() = default;
    // The core's Answers (answers.h) over this process's cache: what the service would say.
    virtual ServiceReply answer(const ServiceRequest& request) noexcept = 0;
    // SelfService over the uncached directory (a read-modify-write starts from what LDAP
    // has now); after a done change this process's cache is emptied.
    virtual AclChangeResult change_acl(const AclChangeRequest& request) noexcept = 0;
};

// A LocalCore over `directory` and `writer` (nullptr = LDAP), which must outlive it (tests).
std::unique_ptr<LocalCore> local_core_over(const Config& config, Directory& directory, const Clock& clock,
                                           GrantWriter* writer);

}  // namespace mailgrant

// libmailgrant_local.so's entry point (dlsym'd by local_open_dl.cpp): a new LocalCore over
// its own LDAP connection, or nullptr with the reason in `error`. `build_id` is the
// caller's MAILGRANT_BUILD_ID (mailgrant_build_id.h), read before anything else: another
// build's is refused. `config` is copied.
extern "C" mailgrant::LocalCore* mailgrant_local_core_new(const char* build_id, const mailgrant::Config* config,
                                                          const mailgrant::Clock* clock, char* error,
                                                          std::size_t error_size) noexcept;

namespace mailgrant {

// How this build reaches that entry point: from libmailgrant_local.so beside the core,
// loaded at the first call (local_open_dl.cpp), or linked in (local_open_static.cpp).
// Throws std::runtime_error naming what could not be loaded.
using NewLocalCore = decltype(&mailgrant_local_core_new);
NewLocalCore local_core_entry_point();

}  // namespace mailgrant
