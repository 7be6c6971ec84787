// directory_pool.h -- a fixed set of LDAP connections shared by worker threads.
//
// Each call borrows one idle LdapDirectory (its own LdapConnection) for the duration of
// the call, so N threads can wait on LDAP at once while CachingDirectory in front shares
// one cache between them. Waiting for an idle connection is bounded by the LDAP
// operation timeout (then LdapError Timeout), so a stuck directory cannot pile up work.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "mailgrant/directory.h"

namespace mailgrant {

class DirectoryPool final : public Directory {
public:
    // Called after every LDAP-backed call with its duration and whether it succeeded;
    // not for a call refused as BadInput (the client's mistake, not LDAP's).
    using Observer = std::function<void(std::chrono::microseconds elapsed, bool ok)>;

    // Reads the bind password now (ConfigError); connects lazily, per connection.
    DirectoryPool(const Config& config, std::size_t size, Observer observer = nullptr);
    ~DirectoryPool() override;
    DirectoryPool(const DirectoryPool&) = delete;
    DirectoryPool& operator=(const DirectoryPool&) = delete;

    std::optional<Account> find_login(const std::string& login) override;
    std::optional<Account> find_mailbox(const std::string& address_or_dn) override;
    std::vector<GroupMembership> groups_of(const std::string& user_dn) override;
    std::vector<Grant> grants_of(const std::string& mailbox_dn) override;
    std::vector<Grant> grants_to(const std::vector<std::string>& grantee_dns) override;
    std::optional<std::string> find_group(const std::string& name) override;
    std::vector<Account> find_mailboxes(const std::vector<std::string>& dns) override;
    GroupsAndGrants groups_and_grants(const std::string& user_dn, const std::string& mailbox_dn) override;
    AddressAnswers mailboxes_by_address(const std::vector<Account>& mailboxes) override;
    SenderFacts sender_facts(const std::string& user_dn, const std::string& address) override;
    SenderFacts sender_facts_for(const Account& user, const std::string& address) override;
    GroupsAndGrants groups_and_grants_for(const Account& user, const std::string& mailbox_dn) override;

    // The DN patterns every connection's login searches learn and use (dn_patterns.h):
    // one set for the pool, so a domain's pattern is learned once, not once per connection.
    DnPatterns& dn_patterns() { return *patterns_; }

private:
    struct Member;
    template <typename Fn>
    auto with_member(Fn&& fn) -> decltype(fn(std::declval<LdapDirectory&>()));

    const Config config_;  // a copy: members refer to it for their whole life
    std::shared_ptr<DnPatterns> patterns_ = std::make_shared<DnPatterns>();
    std::vector<std::unique_ptr<Member>> members_;
    std::vector<Member*> idle_;
    std::mutex mutex_;
    std::condition_variable idle_changed_;
    Observer observer_;
};

}  // namespace mailgrant
