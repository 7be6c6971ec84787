// core_abi_testing.cpp -- see core_abi_testing.h (linked into the unit tests only).
#include "core_abi_testing.h"

mailgrant_core* mailgrant_core_for_testing(mailgrant::Directory& directory, const mailgrant::Clock& clock,
                                           const mailgrant::CacheConfig& cache, mailgrant::GrantWriter* writer) {
    mailgrant::Config config;
    config.cache = cache;
    return mailgrant_core_with_local(cache, clock, mailgrant::local_core_over(config, directory, clock, writer));
}
