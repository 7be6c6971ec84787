// service_notify.cpp -- see service_notify.h. The only file that includes libsystemd.
#include "service_notify.h"

#ifdef MAILGRANT_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace mailgrant::policy {

namespace {

// STATUS= is one line for systemd: a newline would start a new assignment.
std::string one_line(std::string text) {
    for (char& c : text)
        if (c == '\n' || c == '\r') c = ' ';
    return text;
}

bool send([[maybe_unused]] const std::string& state) {
#ifdef MAILGRANT_HAVE_SYSTEMD
    // unset_environment = 0: a reload re-uses nothing from here, but keeping
    // NOTIFY_SOCKET lets STOPPING=1 reach systemd at the end too.
    return sd_notify(0, state.c_str()) > 0;
#else
    return false;
#endif
}

}  // namespace

bool service_notify_built_in() {
#ifdef MAILGRANT_HAVE_SYSTEMD
    return true;
#else
    return false;
#endif
}

bool notify_ready(const std::string& status) { return send("READY=1\nSTATUS=" + one_line(status)); }

bool notify_stopping() { return send("STOPPING=1"); }

}  // namespace mailgrant::policy
