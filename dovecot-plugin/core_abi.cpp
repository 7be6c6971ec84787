// core_abi.cpp -- implements mailgrant-core.h over the C++ core for the Dovecot plugin.
//
// Every entry point catches every exception. LDAP trouble opens a short circuit breaker
// (cache.negative_ttl_s, at least 1 s): while it is open, calls fail at once instead of
// each IMAP command waiting for another LDAP timeout, so a slow directory costs one
// timeout per interval, not one per command. Only LDAP trouble opens it: bad input from
// a client (BadInput) fails that one call, or any client could switch off shared access
// for everyone in the process with one malformed name.
#include "mailgrant-core.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mailgrant/bad_input.h"
#include "mailgrant/caching_directory.h"
#include "mailgrant/config.h"
#include "mailgrant/decision.h"
#include "mailgrant/ldap_client.h"

struct mailgrant_core {
    mailgrant::Config config;
    std::unique_ptr<mailgrant::LdapConnection> ldap;
    std::unique_ptr<mailgrant::LdapDirectory> directory;
    std::unique_ptr<mailgrant::CachingDirectory> cache;
    std::unique_ptr<mailgrant::Decider> decider;
    std::time_t breaker_until = 0;
    std::string breaker_reason;
};

namespace {

void put(char* out, std::size_t size, const std::string& text) {
    if (!out || size == 0) return;
    const std::size_t n = std::min(size - 1, text.size());
    std::memcpy(out, text.data(), n);
    out[n] = '\0';
}

// Runs fn; converts every failure into -1 (MAILGRANT_CORE_BAD_INPUT for bad input) and a
// message, and manages the breaker.
template <typename Fn>
int guarded(mailgrant_core* core, char* error, std::size_t error_size, Fn&& fn) {
    if (!core) {
        put(error, error_size, "mailgrant has no configuration loaded (see the error logged when loading it)");
        return -1;
    }
    const std::time_t now = std::time(nullptr);
    if (now < core->breaker_until) {
        put(error, error_size, core->breaker_reason);
        return -1;
    }
    try {
        return fn();
    } catch (const mailgrant::BadInput& e) {
        put(error, error_size, std::string("bad input: ") + e.what());
        return MAILGRANT_CORE_BAD_INPUT;
    } catch (const mailgrant::LdapError& e) {
        core->breaker_until = now + std::max(1, core->config.cache.negative_ttl_s);
        core->breaker_reason = std::string("LDAP ") + mailgrant::to_string(e.kind()) + ": " + e.what();
        put(error, error_size, core->breaker_reason);
    } catch (const std::exception& e) {
        put(error, error_size, std::string("internal error: ") + e.what());
    } catch (...) {
        put(error, error_size, "internal error");
    }
    return -1;
}

}  // namespace

extern "C" {

mailgrant_core* mailgrant_core_open(const char* config_path, char* error, std::size_t error_size) {
    const std::string path = config_path ? config_path : "/etc/mailgrant/mailgrant.yaml";
    // Every message names the configuration (a password file error names only that file).
    auto fail = [&](const std::string& what) {
        put(error, error_size, what.rfind(path, 0) == 0 ? what : path + ": " + what);
    };
    try {
        auto core = std::make_unique<mailgrant_core>();
        core->config = mailgrant::load_config(path);
        core->ldap = std::make_unique<mailgrant::LdapConnection>(core->config.ldap);
        core->directory = std::make_unique<mailgrant::LdapDirectory>(core->config, *core->ldap);
        core->cache = std::make_unique<mailgrant::CachingDirectory>(*core->directory, core->config.cache,
                                                                    mailgrant::SystemClock::instance());
        core->decider = std::make_unique<mailgrant::Decider>(*core->cache, mailgrant::SystemClock::instance());
        return core.release();
    } catch (const std::exception& e) {
        fail(e.what());
    } catch (...) {
        fail("internal error");
    }
    return nullptr;
}

void mailgrant_core_close(mailgrant_core* core) { delete core; }

int mailgrant_core_log_interval(const mailgrant_core* core) {
    return core ? std::max(1, core->config.cache.ttl_s) : 30;
}

int mailgrant_core_folder_rights(mailgrant_core* core, const char* login, const char* mailbox, const char* folder,
                                 char* letters, std::size_t letters_size, char* error, std::size_t error_size) {
    put(letters, letters_size, "");
    return guarded(core, error, error_size, [&] {
        const auto d = core->decider->folder_rights(login, mailbox, folder);
        if (!d.owner) put(letters, letters_size, d.rights.letters());
        return 0;
    });
}

int mailgrant_core_sharing_owners(mailgrant_core* core, const char* login, void (*owner_cb)(void*, const char*),
                                  void* context, char* error, std::size_t error_size) {
    return guarded(core, error, error_size, [&] {
        for (const auto& owner : core->decider->sharing_with(login))
            if (!owner.owner.addresses.empty()) owner_cb(context, owner.owner.primary_address().c_str());
        return 0;
    });
}

int mailgrant_core_folder_grantees(mailgrant_core* core, const char* mailbox, const char* folder,
                                   void (*grant_cb)(void*, int, const char*, const char*), void* context,
                                   char* error, std::size_t error_size) {
    return guarded(core, error, error_size, [&] {
        const auto owner = core->cache->find_mailbox(mailbox);
        if (!owner) return 0;
        const std::time_t now = std::time(nullptr);
        // identifier -> (is_group, rights), in first-seen order for a stable GETACL
        std::vector<std::pair<std::string, std::pair<int, mailgrant::Rights>>> found;
        for (const auto& grant : core->cache->grants_of(owner->dn)) {
            if (grant.state_at(now) != mailgrant::GrantState::Active || !grant.rights ||
                !grant.matching_folder(folder))
                continue;
            for (const auto& grantee : grant.grantees) {
                const auto person = core->cache->find_mailbox(grantee);
                std::string name;
                int is_group = 0;
                if (person) {
                    name = person->primary_address();
                } else {  // a group (or a dangling DN, which `mailgrant check` reports)
                    is_group = 1;
                    const auto eq = grantee.find('=');
                    const auto comma = grantee.find(',');
                    name = grantee.substr(eq + 1, comma == std::string::npos ? std::string::npos : comma - eq - 1);
                }
                auto it = std::find_if(found.begin(), found.end(), [&](const auto& f) { return f.first == name; });
                if (it == found.end()) found.push_back({name, {is_group, *grant.rights}});
                else it->second.second |= *grant.rights;
            }
        }
        for (const auto& [name, entry] : found)
            grant_cb(context, entry.first, name.c_str(), entry.second.letters().c_str());
        return 0;
    });
}

int mailgrant_core_may_open_mailbox(mailgrant_core* core, const char* login, const char* mailbox, char* error,
                                    std::size_t error_size) {
    return guarded(core, error, error_size, [&] {
        return core->decider->may_open_mailbox(login, mailbox) ? 1 : 0;
    });
}

}  // extern "C"
