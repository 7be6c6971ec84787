// local_open_static.cpp -- local_core_entry_point() for builds that link core_local.cpp
// into the same binary (unit tests, Dovecot 2.4's passdb): no library to load.
#include "core_local.h"

namespace mailgrant {

NewLocalCore local_core_entry_point() { return &mailgrant_local_core_new; }

}  // namespace mailgrant
