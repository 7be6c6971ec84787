// core_abi_testing.h -- the one C++ way into mailgrant-core.h's handle other than
// mailgrant_core_open: a handle over a given Directory and Clock, so unit tests can run
// the C ABI (breaker, grantees, bad input) without a configuration file or slapd. Not
// used by the plugin itself.
#pragma once

#include "mailgrant-core.h"
#include "mailgrant/clock.h"
#include "mailgrant/config.h"
#include "mailgrant/directory.h"

// `directory` and `clock` must outlive the handle; close it with mailgrant_core_close.
mailgrant_core* mailgrant_core_for_testing(mailgrant::Directory& directory, const mailgrant::Clock& clock,
                                           const mailgrant::CacheConfig& cache);
