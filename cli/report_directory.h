// report_directory.h -- the Directory the report's decider asks while the report goes
// through every mailbox (issue 19: 100,000 mailboxes, 1,000,000 grants). Who has access
// to a mailbox stays the core's answer (Decider::grantees_of, the same as GETACL's);
// this only gives it what the report has already read: mailboxes by DN from the one walk
// that listed them, so a mailbox costs one search (its grants, one level below it)
// instead of three (the mailbox, its grants, their grantees). Anything else (a grantee
// outside the users base, a group) goes to LDAP once per report: the answer, found or not,
// is kept for the rest of the report.
//
// Why not the grants of many mailboxes in one search: an OR of
// (entryDN:dnOneLevelMatch:=DN) is not answered from an index when nothing else in the
// filter narrows it (slapd tests every grant entry against every term: 0.8 s for 256
// mailboxes in a directory of 100,000 grants, growing with both), while a one-level
// search below one DN is slapd's own DN index.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mailgrant/directory.h"

namespace mailgrant::cli {

class ReportDirectory final : public Directory {
public:
    explicit ReportDirectory(Directory& inner) : inner_(inner) {}

    // `account` (owned by the caller, alive as long as this) answers find_mailbox(its DN).
    void know(const Account& account);
    // The grants the last grants_of() read, when it was for `mailbox_dn` (else none):
    // the report's grant names and ends come from the same read as its access column.
    const std::vector<Grant>& last_grants(const std::string& mailbox_dn) const;

    std::optional<Account> find_login(const std::string& login) override { return inner_.find_login(login); }
    std::optional<Account> find_mailbox(const std::string& address_or_dn) override;
    std::vector<GroupMembership> groups_of(const std::string& user_dn) override { return inner_.groups_of(user_dn); }
    std::vector<Grant> grants_of(const std::string& mailbox_dn) override;
    std::vector<Grant> grants_to(const std::vector<std::string>& grantee_dns) override {
        return inner_.grants_to(grantee_dns);
    }
    std::vector<Account> find_mailboxes(const std::vector<std::string>& dns) override;
    GroupsAndGrants groups_and_grants(const std::string& user_dn, const std::string& mailbox_dn) override {
        return inner_.groups_and_grants(user_dn, mailbox_dn);
    }
    AddressAnswers mailboxes_by_address(const std::vector<Account>& mailboxes) override {
        return inner_.mailboxes_by_address(mailboxes);
    }
    std::optional<std::string> find_group(const std::string& name) override { return inner_.find_group(name); }

private:
    Directory& inner_;
    std::map<std::string, const Account*> by_dn_;  // normalised DN
    std::map<std::string, std::optional<Account>> asked_;  // read from LDAP: found or not
    std::string last_dn_;  // normalised
    std::vector<Grant> last_grants_;
};

}  // namespace mailgrant::cli
