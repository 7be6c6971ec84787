// supervisor.h -- a supervisor's scope for `report`, `list` and `explain` (--as-supervisor
// PERSON, or cli.supervisor in a delegated admin's configuration): the mailboxes whose owner
// has PERSON as manager, directly or through managers of managers (inetOrgPerson / RFC 4524
// `manager`, DN values, possibly several). A shared mailbox's owner is its own `manager`
// value, so following `manager` upwards from the mailbox entry answers both cases alike.
//
// The walk is bounded (cli.manager_max_depth) and cycle-safe: LDAP data is not trusted to
// form a tree. Only directory entries are read; mail content never is.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace mailgrant::cli {

class Context;

// normalised DN -> normalised DNs of its managers
using ManagerLinks = std::map<std::string, std::vector<std::string>>;

// True when `dn` (normalised) reaches `supervisor` (normalised) by following links, in
// 1..max_depth steps. An entry is not its own subordinate.
bool reports_to(const std::string& dn, const std::string& supervisor, const ManagerLinks& links, int max_depth);

// The scope of one run. `asked` is --as-supervisor; cli.supervisor, when set, bounds it (a
// delegated admin may narrow the scope, never leave it: Refusal otherwise). Neither set:
// inactive, every mailbox is covered and nothing is read from LDAP.
class SupervisorScope {
public:
    static SupervisorScope load(Context& ctx, const std::optional<std::string>& asked);

    bool active() const { return !supervisor_.empty(); }
    // True when inactive, or the mailbox entry reports to the supervisor.
    bool covers(const std::string& mailbox_dn) const;
    // Refusal naming the mailbox and the scope unless covers(mailbox_dn).
    void require(const std::string& mailbox_dn, const std::string& mailbox_label) const;

private:
    std::string supervisor_;  // normalised DN, "" = inactive
    std::string label_;       // as given, for messages
    ManagerLinks links_;
    int max_depth_ = 0;
};

}  // namespace mailgrant::cli
