// service_notify -- tells systemd how the daemon is doing (sd_notify(3)): READY=1 once
// every socket is open and privileges are dropped, STOPPING=1 when it shuts down. With
// the unit's Type=notify, `systemctl start` returns only when Postfix can be served, and
// a daemon that fails before that makes the start fail instead of looking "active".
// A no-op where NOTIFY_SOCKET is unset (started by hand, by a test, by a non-systemd
// init) and in builds without libsystemd (MAILGRANT_SYSTEMD=OFF, or AUTO without it).
#pragma once

#include <string>

namespace mailgrant::policy {

// True when this build can talk to systemd (linked with libsystemd).
bool service_notify_built_in();
// READY=1 plus a STATUS= line (shown by `systemctl status`). Returns false when systemd
// was not told (no NOTIFY_SOCKET or no libsystemd), true when it was.
bool notify_ready(const std::string& status);
bool notify_stopping();

}  // namespace mailgrant::policy
