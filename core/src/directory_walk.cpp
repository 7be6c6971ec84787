// directory_walk.cpp -- see directory_walk.h.
#include "mailgrant/directory_walk.h"

#include "mailgrant/ldap_filter.h"

namespace mailgrant {

void DirectoryWalk::grants_of_search(const SearchRequest& request, const std::function<void(Grant&&)>& each) {
    // One entry at a time through the one reader of grant entries, so an entry that
    // cannot be a grant is left out and warned about here as everywhere else.
    std::vector<LdapEntry> one(1);
    ldap_.search_each(request, [&](LdapEntry&& entry) {
        one.front() = std::move(entry);
        for (auto& grant : grants_from_entries(one, config_.schema)) each(std::move(grant));
    });
}

void DirectoryWalk::each_grant(const std::function<void(Grant&&)>& each) {
    grants_of_search(SearchRequest{config_.ldap.base, SearchScope::Subtree,
                                   "(objectClass=" + escape_filter_value(config_.schema.grant_object_class) + ")",
                                   grant_attributes(config_.schema)},
                     each);
}

void DirectoryWalk::each_mailbox(const std::vector<std::string>& extra,
                                 const std::function<void(Account&&, LdapEntry&&)>& each) {
    auto attributes = accounts_.account_attributes();
    attributes.insert(attributes.end(), extra.begin(), extra.end());
    ldap_.search_each(SearchRequest{config_.users_base(), SearchScope::Subtree,
                                    "(" + config_.users.mail_attribute + "=*)", attributes},
                      [&](LdapEntry&& entry) {
                          Account account = accounts_.account_from_entry(entry);
                          each(std::move(account), std::move(entry));
                      });
}

}  // namespace mailgrant
