// fakes.h -- in-memory stand-ins for unit tests only (integration tests use real slapd).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "mailgrant/directory.h"
#include "mailgrant/dn.h"
#include "mailgrant/input.h"
#include "mailgrant/ldap_client.h"

namespace mailgrant::testing {

// Records every request; answers with a caller-supplied function.
class RecordingSearcher final : public LdapSearcher {
public:
    std::function<std::vector<LdapEntry>(const SearchRequest&)> answer = [](const SearchRequest&) {
        return std::vector<LdapEntry>{};
    };
    std::vector<SearchRequest> requests;

    std::vector<LdapEntry> search(const SearchRequest& request) override {
        requests.push_back(request);
        return answer(request);
    }
};

inline LdapEntry entry(const std::string& dn, std::map<std::string, std::vector<std::string>> attrs) {
    LdapEntry e;
    e.dn = dn;
    for (auto& [k, v] : attrs) e.attributes[ascii_lower(k)] = v;
    return e;
}

// Refuses names that can never be found, as LdapDirectory does (input.h).
class CheckingDirectory final : public Directory {
public:
    explicit CheckingDirectory(Directory& inner) : inner_(inner) {}
    std::optional<Account> find_login(const std::string& login) override {
        check_login(login);
        return inner_.find_login(login);
    }
    std::optional<Account> find_mailbox(const std::string& m) override { return inner_.find_mailbox(m); }
    std::vector<GroupMembership> groups_of(const std::string& dn) override { return inner_.groups_of(dn); }
    std::vector<Grant> grants_of(const std::string& dn) override { return inner_.grants_of(dn); }
    std::vector<Grant> grants_to(const std::vector<std::string>& dns) override { return inner_.grants_to(dns); }

private:
    Directory& inner_;
};

// A directory held in maps; counts calls so caching can be observed. Set `fail` to make
// every call throw an Unavailable LdapError.
class FakeDirectory final : public Directory {
public:
    std::map<std::string, Account> logins;     // lower-case login -> account
    std::map<std::string, Account> mailboxes;  // lower-case address or normalised DN -> account
    std::map<std::string, std::vector<GroupMembership>> groups;  // normalised user DN
    std::vector<Grant> grants;
    std::map<std::string, std::string> group_names;  // lower-case group name -> DN
    bool fail = false;
    int calls = 0;
    int grants_of_calls = 0;  // every grant of one mailbox: what a decision should not need
    // Runs inside every call, before it answers (a test makes a cache clear happen mid-fetch).
    std::function<void()> during_call;

    void add_account(const std::string& login, const Account& a) {
        logins[ascii_lower(login)] = a;
        mailboxes[normalize_dn(a.dn)] = a;
        for (const auto& address : a.addresses) mailboxes[ascii_lower(address)] = a;
    }

    std::optional<Account> find_login(const std::string& login) override {
        touch();
        auto it = logins.find(ascii_lower(login));
        return it == logins.end() ? std::nullopt : std::optional<Account>(it->second);
    }
    std::optional<Account> find_mailbox(const std::string& key) override {
        touch();
        auto it = mailboxes.find(looks_like_dn(key) ? normalize_dn(key) : ascii_lower(key));
        return it == mailboxes.end() ? std::nullopt : std::optional<Account>(it->second);
    }
    std::vector<GroupMembership> groups_of(const std::string& user_dn) override {
        touch();
        auto it = groups.find(normalize_dn(user_dn));
        return it == groups.end() ? std::vector<GroupMembership>{} : it->second;
    }
    std::vector<Grant> grants_of(const std::string& mailbox_dn) override {
        touch();
        ++grants_of_calls;
        std::vector<Grant> out;
        for (const auto& g : grants)
            if (normalize_dn(g.owner_dn) == normalize_dn(mailbox_dn)) out.push_back(g);
        return out;
    }
    std::vector<Grant> grants_to(const std::vector<std::string>& dns) override {
        touch();
        std::vector<Grant> out;
        for (const auto& g : grants) {
            bool hit = false;
            for (const auto& grantee : g.grantees)
                for (const auto& dn : dns) hit = hit || normalize_dn(grantee) == normalize_dn(dn);
            if (hit) out.push_back(g);
        }
        return out;
    }

    // Set: mailboxes_by_address settles every address (one call), as find_mailbox answers it.
    bool settle_addresses = false;
    // Set: mailboxes_by_address throws an LdapError of this kind (and only it does).
    std::optional<LdapErrorKind> address_batch_error;
    AddressAnswers mailboxes_by_address(const std::vector<Account>& asked) override {
        if (address_batch_error) throw LdapError(*address_batch_error, -1, "fake address batch fails");
        if (!settle_addresses) return Directory::mailboxes_by_address(asked);
        touch();
        AddressAnswers out;
        for (const auto& m : asked) {
            auto it = mailboxes.find(ascii_lower(m.primary_address()));
            out.emplace_back(m.primary_address(), it == mailboxes.end() ? std::nullopt : std::optional<Account>(it->second));
        }
        return out;
    }

    std::optional<std::string> find_group(const std::string& name) override {
        touch();
        auto it = group_names.find(ascii_lower(name));
        return it == group_names.end() ? std::nullopt : std::optional<std::string>(it->second);
    }

private:
    void touch() {
        ++calls;
        if (during_call) during_call();
        if (fail) throw LdapError(LdapErrorKind::Unavailable, -1, "fake LDAP is down");
    }
};

// A folder grant below `owner` named `name` ("" rights = none parsed), for table tests.
inline Grant make_grant(const std::string& owner, const std::string& name, std::vector<std::string> grantees,
                        std::vector<std::string> folders, const std::string& rights) {
    Grant g;
    g.owner_dn = owner;
    g.name = name;
    g.dn = "cn=" + name + "," + owner;
    g.grantees = std::move(grantees);
    g.folders = std::move(folders);
    g.rights_text = rights;
    if (!rights.empty()) g.rights = parse_rights(rights);
    return g;
}

// The DNs of the organisation the unit tests' fake directories describe (people below
// ou=people, groups below ou=groups, dc=example,dc=com): one spelling for every test.
namespace dns {
inline const std::string kAlice = "uid=alice,ou=people,dc=example,dc=com";
inline const std::string kBob = "uid=bob,ou=people,dc=example,dc=com";
inline const std::string kCarol = "uid=carol,ou=people,dc=example,dc=com";
inline const std::string kDave = "uid=dave,ou=people,dc=example,dc=com";
inline const std::string kEve = "uid=eve,ou=people,dc=example,dc=com";
inline const std::string kSupport = "uid=support,ou=people,dc=example,dc=com";
inline const std::string kTeam = "cn=team,ou=groups,dc=example,dc=com";
inline const std::string kLeads = "cn=leads,ou=groups,dc=example,dc=com";
}  // namespace dns

}  // namespace mailgrant::testing
