// core_abi_testing.h -- the one C++ way into mailgrant-core.h's handle other than
// mailgrant_core_open: a handle over a given Directory and Clock, so unit tests can run
// the C ABI (breaker, grantees, bad input) without a configuration file or slapd. Not
// used by the plugin itself (core_abi_testing.cpp is linked into the tests only).
#pragma once

#include <memory>

#include "core_local.h"
#include "mailgrant-core.h"
#include "mailgrant/clock.h"
#include "mailgrant/config.h"
#include "mailgrant/directory.h"
#include "mailgrant/grant_writer.h"

// `directory`, `clock` and `writer` must outlive the handle; close it with
// mailgrant_core_close. `writer` receives SETACL/DELETEACL writes (nullptr = LDAP, as the
// plugin does: with the test configuration that write fails as LDAP trouble).
mailgrant_core* mailgrant_core_for_testing(mailgrant::Directory& directory, const mailgrant::Clock& clock,
                                           const mailgrant::CacheConfig& cache,
                                           mailgrant::GrantWriter* writer = nullptr);

// The handle over a given LocalCore (core_abi.cpp; what mailgrant_core_for_testing uses).
mailgrant_core* mailgrant_core_with_local(const mailgrant::CacheConfig& cache, const mailgrant::Clock& clock,
                                          std::unique_ptr<mailgrant::LocalCore> local);
