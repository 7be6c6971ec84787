// fixture.h -- the small directory every policy-daemon unit test runs against
// (unit tests only: integration tests use tests/fixtures/org.ldif in a real slapd).
#pragma once

#include "../core/fakes.h"

namespace mailgrant::testing {

inline const std::string kAlice = "uid=alice,ou=people,dc=example,dc=com";
inline const std::string kBob = "uid=bob,ou=people,dc=example,dc=com";
inline const std::string kEve = "uid=eve,ou=people,dc=example,dc=com";
inline const std::string kSupport = "uid=support,ou=people,dc=example,dc=com";
inline const std::string kTeam = "cn=team,ou=groups,dc=example,dc=com";

// alice (alias a.smith@), bob (in team), eve; support@ (shared, alias help@) grants
// team sendAs; alice grants bob sendOnBehalf.
inline void populate(mailgrant::testing::FakeDirectory& dir) {
    dir.add_account("alice@example.com", Account{kAlice, {"alice@example.com", "a.smith@example.com"}, false});
    dir.add_account("bob@example.com", Account{kBob, {"bob@example.com"}, false});
    dir.add_account("eve@example.com", Account{kEve, {"eve@example.com"}, false});
    dir.add_account("support@example.com", Account{kSupport, {"support@example.com", "help@example.com"}, true});
    dir.groups[normalize_dn(kBob)] = {{kTeam, {kTeam}}};
    Grant team;
    team.dn = "cn=team," + kSupport;
    team.owner_dn = kSupport;
    team.name = "team";
    team.grantees = {kTeam};
    team.send_as = true;
    dir.grants.push_back(team);
    Grant behalf = team;
    behalf.dn = "cn=assistant," + kAlice;
    behalf.owner_dn = kAlice;
    behalf.name = "assistant";
    behalf.grantees = {kBob};
    behalf.send_as = false;
    behalf.send_on_behalf = true;
    dir.grants.push_back(behalf);
}

}  // namespace mailgrant::testing
