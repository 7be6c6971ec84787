// report_directory.cpp -- see report_directory.h.
#include "report_directory.h"

#include <set>

#include "mailgrant/dn.h"

namespace mailgrant::cli {

void ReportDirectory::know(const Account& account) {
    const std::string key = normalize_dn(account.dn);
    if (!key.empty()) by_dn_[key] = &account;
}

const std::vector<Grant>& ReportDirectory::last_grants(const std::string& mailbox_dn) const {
    static const std::vector<Grant> none;
    return normalize_dn(mailbox_dn) == last_dn_ ? last_grants_ : none;
}

std::optional<Account> ReportDirectory::find_mailbox(const std::string& address_or_dn) {
    if (!looks_like_dn(address_or_dn)) return inner_.find_mailbox(address_or_dn);
    const std::string key = normalize_dn(address_or_dn);
    const auto it = by_dn_.find(key);
    if (it != by_dn_.end()) return *it->second;
    const auto asked = asked_.find(key);
    if (asked != asked_.end()) return asked->second;
    auto account = inner_.find_mailbox(address_or_dn);
    if (!key.empty()) asked_.emplace(key, account);
    return account;
}

std::vector<Grant> ReportDirectory::grants_of(const std::string& mailbox_dn) {
    last_grants_ = inner_.grants_of(mailbox_dn);
    last_dn_ = normalize_dn(mailbox_dn);
    return last_grants_;
}

std::vector<Account> ReportDirectory::find_mailboxes(const std::vector<std::string>& dns) {
    std::vector<Account> found;
    std::vector<std::string> ask;  // not met in the walk: LDAP, batched as the core does
    std::set<std::string> seen;
    for (const auto& dn : dns) {
        const std::string key = normalize_dn(dn);
        if (!seen.insert(key).second) continue;
        const auto it = by_dn_.find(key);
        const auto asked = it == by_dn_.end() ? asked_.find(key) : asked_.end();
        if (it != by_dn_.end()) found.push_back(*it->second);
        else if (asked != asked_.end()) {
            if (asked->second) found.push_back(*asked->second);
        } else {
            ask.push_back(dn);
        }
    }
    if (ask.empty()) return found;
    std::map<std::string, std::optional<Account>> answers;
    for (const auto& dn : ask) answers[normalize_dn(dn)];  // not found unless read below
    for (auto& account : inner_.find_mailboxes(ask)) {
        found.push_back(account);
        answers[normalize_dn(account.dn)] = std::move(account);
    }
    for (auto& [key, answer] : answers)
        if (!key.empty()) asked_.emplace(key, std::move(answer));
    return found;
}

}  // namespace mailgrant::cli
