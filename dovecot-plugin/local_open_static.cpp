// local_open_static.cpp -- open_local_core() for builds that link core_local.cpp into the
// same binary (unit tests, Dovecot 2.4's passdb): no library to load.
#include "core_local.h"

#include <stdexcept>

#include "mailgrant_build_id.h"

namespace mailgrant {

std::unique_ptr<LocalCore> open_local_core(const Config& config, const Clock& clock) {
    char error[512] = "";
    LocalCore* local = mailgrant_local_core_new(MAILGRANT_BUILD_ID, &config, &clock, error, sizeof error);
    if (!local) throw std::runtime_error(error);
    return std::unique_ptr<LocalCore>(local);
}

}  // namespace mailgrant
