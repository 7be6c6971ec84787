// supervisor.h -- a supervisor's scope for `report --as-supervisor PERSON` (or cli.supervisor
// in a delegated admin's configuration): the mailboxes whose owner has PERSON as manager,
// directly or through managers of managers (inetOrgPerson / RFC 4524 `manager`, DN values,
// possibly several). A shared mailbox's owner is its own `manager` value, so following
// `manager` upwards from the mailbox entry answers both cases alike.
//
// The walk is bounded (cli.manager_max_depth) and cycle-safe: LDAP data is not trusted to
// form a tree. Only directory entries are read; mail content never is.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace mailgrant::cli {

// normalised DN -> normalised DNs of its managers
using ManagerLinks = std::map<std::string, std::vector<std::string>>;

// True when `dn` (normalised) reaches `supervisor` (normalised) by following links, in
// 1..max_depth steps. An entry is not its own subordinate.
bool reports_to(const std::string& dn, const std::string& supervisor, const ManagerLinks& links, int max_depth);

}  // namespace mailgrant::cli
