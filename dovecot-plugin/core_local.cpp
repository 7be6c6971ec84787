// core_local.cpp -- see core_local.h: the in-process answers and the SETACL writer over
// this process's own LDAP connection and TTL cache.
#include "core_local.h"

#include <cstring>
#include <exception>
#include <string>
#include <utility>

#include "mailgrant_build_id.h"

#include "mailgrant/answers.h"
#include "mailgrant/caching_directory.h"
#include "mailgrant/decision.h"
#include "mailgrant/directory.h"
#include "mailgrant/ldap_client.h"
#include "mailgrant/ldap_session.h"

namespace mailgrant {

namespace {

class Local final : public LocalCore {
public:
    // Over its own connection.
    Local(Config config, const Clock& clock)
        : config_(std::move(config)), clock_(clock),
          ldap_(std::make_unique<LdapConnection>(config_.ldap)),
          owned_directory_(std::make_unique<LdapDirectory>(config_, *ldap_)) {
        build(*owned_directory_, nullptr);
    }
    // Over a given directory (tests).
    Local(Config config, const Clock& clock, Directory& directory, GrantWriter* writer)
        : config_(std::move(config)), clock_(clock) {
        build(directory, writer);
    }

    ServiceReply answer(const ServiceRequest& request) noexcept override { return answers_->answer(request); }

    AclChangeResult change_acl(const AclChangeRequest& request) noexcept override {
        SelfService service(config_, *uncached_, clock_, writer_);
        AclChangeResult result = service.apply(request);
        // The answers cached here may hold the old grants of this mailbox (the cache is
        // keyed by DN per question and can only be emptied as a whole): ask LDAP again
        // rather than wait for the TTL.
        if (result.status == AclChangeStatus::Done) {
            cache_->clear();
            answers_->forget();  // built from the cache: after it (engine.h's order)
        }
        return result;
    }

private:
    void build(Directory& directory, GrantWriter* writer) {
        uncached_ = &directory;
        writer_ = writer;
        cache_ = std::make_unique<CachingDirectory>(directory, config_.cache, clock_, config_.users_base());
        decider_ = std::make_unique<Decider>(*cache_, clock_);
        answers_ = std::make_unique<Answers>(config_, *cache_, *decider_, clock_, ldap_password_check(config_.ldap));
    }

    const Config config_;
    const Clock& clock_;
    std::unique_ptr<LdapConnection> ldap_;
    std::unique_ptr<LdapDirectory> owned_directory_;
    Directory* uncached_ = nullptr;
    GrantWriter* writer_ = nullptr;  // nullptr = the service account over LDAP (SelfService)
    std::unique_ptr<CachingDirectory> cache_;
    std::unique_ptr<Decider> decider_;
    std::unique_ptr<Answers> answers_;
};

}  // namespace

std::unique_ptr<LocalCore> local_core_over(const Config& config, Directory& directory, const Clock& clock,
                                           GrantWriter* writer) {
    return std::make_unique<Local>(config, clock, directory, writer);
}

}  // namespace mailgrant

extern "C" mailgrant::LocalCore* mailgrant_local_core_new(const char* build_id, const mailgrant::Config* config,
                                                          const mailgrant::Clock* clock, char* error,
                                                          std::size_t error_size) noexcept {
    auto put = [&](const char* text) {
        if (!error || error_size == 0) return;
        std::strncpy(error, text, error_size - 1);
        error[error_size - 1] = '\0';
    };
    if (!build_id || std::strcmp(build_id, MAILGRANT_BUILD_ID) != 0) {
        try {
            put(("the LDAP side (libmailgrant_local.so, build " MAILGRANT_BUILD_ID ") is not from the build of "
                 "the core that loaded it (build " + std::string(build_id ? build_id : "unknown") +
                 "): restart Dovecot after an upgrade").c_str());
        } catch (...) {
            put("the LDAP side is not from the core's build: restart Dovecot after an upgrade");
        }
        return nullptr;
    }
    if (!config || !clock) {
        put("no configuration");
        return nullptr;
    }
    try {
        return new mailgrant::Local(*config, *clock);
    } catch (const std::exception& e) {
        put(e.what());
    } catch (...) {
        put("internal error");
    }
    return nullptr;
}
