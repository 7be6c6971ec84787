// sender_compare.h -- what the cold sender decision's integration tests compare: the
// decision through LdapDirectory's batched questions against the questions one by one.
#pragma once

#include <exception>
#include <string>

#include "mailgrant/decision.h"
#include "mailgrant/directory.h"

namespace mailgrant::testing {

// The questions one by one: every answer LdapDirectory's, but sender_facts and
// sender_facts_for the defaults (Directory's, made of the questions above).
class OneByOne final : public Directory {
public:
    explicit OneByOne(LdapDirectory& d) : d_(d) {}
    std::optional<Account> find_login(const std::string& l) override { return d_.find_login(l); }
    std::optional<Account> find_mailbox(const std::string& a) override { return d_.find_mailbox(a); }
    std::vector<GroupMembership> groups_of(const std::string& u) override { return d_.groups_of(u); }
    std::vector<Grant> grants_of(const std::string& m) override { return d_.grants_of(m); }
    std::vector<Grant> grants_to(const std::vector<std::string>& g) override { return d_.grants_to(g); }
    std::vector<Account> find_mailboxes(const std::vector<std::string>& dns) override { return d_.find_mailboxes(dns); }
    GroupsAndGrants groups_and_grants(const std::string& u, const std::string& m) override {
        return d_.groups_and_grants(u, m);
    }

private:
    LdapDirectory& d_;
};

// What a decision says, as one comparable text (an error: its message).
inline std::string outcome(Decider& decider, const std::string& login, const std::string& address) {
    try {
        const auto d = decider.sender(login, address);
        std::string text = std::string(to_string(d.right)) + " | " + d.reason + " | " + d.mailbox_dn + " |";
        if (d.via) text += " via " + d.via->describe();
        for (const auto& n : d.not_applied) text += " ; " + n;
        return text;
    } catch (const std::exception& e) {
        return std::string("error: ") + e.what();
    }
}

}  // namespace mailgrant::testing
