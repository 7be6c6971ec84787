// directory_pool.cpp -- see directory_pool.h.
#include "mailgrant/directory_pool.h"

#include "mailgrant/bad_input.h"

namespace mailgrant {

struct DirectoryPool::Member {
    LdapConnection ldap;
    LdapDirectory directory;
    Member(const Config& config) : ldap(config.ldap), directory(config, ldap) {}
};

DirectoryPool::DirectoryPool(const Config& config, std::size_t size, Observer observer)
    : config_(config), observer_(std::move(observer)) {
    for (std::size_t i = 0; i < (size ? size : 1); ++i) {
        members_.push_back(std::make_unique<Member>(config_));
        members_.back()->directory.share_dn_patterns(patterns_);
        idle_.push_back(members_.back().get());
    }
}

DirectoryPool::~DirectoryPool() = default;

template <typename Fn>
auto DirectoryPool::with_member(Fn&& fn) -> decltype(fn(std::declval<LdapDirectory&>())) {
    Member* member = nullptr;
    {
        std::unique_lock<std::mutex> lock(mutex_);
        const auto wait = std::chrono::milliseconds(config_.ldap.operation_timeout_ms);
        if (!idle_changed_.wait_for(lock, wait, [this] { return !idle_.empty(); }))
            throw LdapError(LdapErrorKind::Timeout, 0, "every LDAP connection is busy");
        member = idle_.back();
        idle_.pop_back();
    }
    // Give the connection back however the call ends.
    struct Return {
        DirectoryPool& pool;
        Member* member;
        ~Return() {
            {
                std::lock_guard<std::mutex> lock(pool.mutex_);
                pool.idle_.push_back(member);
            }
            pool.idle_changed_.notify_one();
        }
    } give_back{*this, member};

    const auto start = std::chrono::steady_clock::now();
    bool ok = false;
    bool observed = true;
    struct Observe {
        const Observer& observer;
        std::chrono::steady_clock::time_point start;
        const bool& ok;
        const bool& observed;
        ~Observe() {
            if (observer && observed)
                observer(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start), ok);
        }
    } observe{observer_, start, ok, observed};
    try {
        auto result = fn(member->directory);
        ok = true;
        return result;
    } catch (const BadInput&) {
        // Refused before any search (input.h): no LDAP call to time, and no LDAP error to
        // count -- a malformed sender must not look like directory trouble in the stats.
        observed = false;
        throw;
    }
}

std::optional<Account> DirectoryPool::find_login(const std::string& login) {
    return with_member([&](LdapDirectory& d) { return d.find_login(login); });
}
std::optional<Account> DirectoryPool::find_mailbox(const std::string& address_or_dn) {
    return with_member([&](LdapDirectory& d) { return d.find_mailbox(address_or_dn); });
}
std::vector<GroupMembership> DirectoryPool::groups_of(const std::string& user_dn) {
    return with_member([&](LdapDirectory& d) { return d.groups_of(user_dn); });
}
std::vector<Grant> DirectoryPool::grants_of(const std::string& mailbox_dn) {
    return with_member([&](LdapDirectory& d) { return d.grants_of(mailbox_dn); });
}
std::vector<Grant> DirectoryPool::grants_to(const std::vector<std::string>& grantee_dns) {
    return with_member([&](LdapDirectory& d) { return d.grants_to(grantee_dns); });
}
std::optional<std::string> DirectoryPool::find_group(const std::string& name) {
    return with_member([&](LdapDirectory& d) { return d.find_group(name); });
}
std::vector<Account> DirectoryPool::find_mailboxes(const std::vector<std::string>& dns) {
    return with_member([&](LdapDirectory& d) { return d.find_mailboxes(dns); });
}
AddressAnswers DirectoryPool::mailboxes_by_address(const std::vector<Account>& mailboxes) {
    return with_member([&](LdapDirectory& d) { return d.mailboxes_by_address(mailboxes); });
}
GroupsAndGrants DirectoryPool::groups_and_grants(const std::string& user_dn, const std::string& mailbox_dn) {
    return with_member([&](LdapDirectory& d) { return d.groups_and_grants(user_dn, mailbox_dn); });
}
SenderFacts DirectoryPool::sender_facts(const std::string& user_dn, const std::string& address) {
    return with_member([&](LdapDirectory& d) { return d.sender_facts(user_dn, address); });
}

SenderFacts DirectoryPool::sender_facts_for(const Account& user, const std::string& address) {
    return with_member([&](LdapDirectory& d) { return d.sender_facts_for(user, address); });
}

GroupsAndGrants DirectoryPool::groups_and_grants_for(const Account& user, const std::string& mailbox_dn) {
    return with_member([&](LdapDirectory& d) { return d.groups_and_grants_for(user, mailbox_dn); });
}

}  // namespace mailgrant
