// directory_walk.h -- reading a whole directory in bounded memory, for the admin CLI's
// check, report, list and notify-expiring (issue 19: a million grants in under two
// minutes and 200 MB). Every grant or every mailbox, each handed to the caller as it
// arrives: the searches are walks
// (LdapSearcher::search_each: one page held at a time, no ldap.size_limit, which is a
// bound for the daemons' lookups, not for an admin's scan of everything).
//
// Entries become grants and accounts exactly as every other reader makes them
// (grants_from_entries, LdapDirectory::account_from_entry), so a walk and a lookup never
// disagree on what an entry means, and an entry the core ignores is named in the same
// warning (warnings.h).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "mailgrant/config.h"
#include "mailgrant/directory.h"
#include "mailgrant/grant.h"
#include "mailgrant/ldap_client.h"

namespace mailgrant {

class DirectoryWalk {
public:
    // `ldap`: best a connection of its own (the CLI opens a second one), so that lookups
    // made from inside `each` never interleave with the walk's pages.
    DirectoryWalk(const Config& config, LdapSearcher& ldap) : config_(config), ldap_(ldap), accounts_(config, ldap) {}

    // Every grant below ldap.base, in the server's order.
    void each_grant(const std::function<void(Grant&&)>& each);
    // Every entry with a mail address below the users base (users.mail_attribute=*), as an
    // Account and its entry, read with `extra` attributes besides an account's own.
    void each_mailbox(const std::vector<std::string>& extra,
                      const std::function<void(Account&&, LdapEntry&&)>& each);

    // The connection the walks read on, for a caller's own walk of other entries.
    LdapSearcher& searcher() { return ldap_; }

private:
    void grants_of_search(const SearchRequest& request, const std::function<void(Grant&&)>& each);

    const Config& config_;
    LdapSearcher& ldap_;
    LdapDirectory accounts_;  // account_attributes / account_from_entry only
};

}  // namespace mailgrant
