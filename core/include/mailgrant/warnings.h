// warnings.h -- the core's one channel for "something is wrong in the directory, but
// everything else keeps working" (an LDAP entry left out because it breaks a limit, a
// grant entry that cannot be read).
//
// The core has no logger of its own: each program routes warnings where its operator
// looks (the policy daemon's log, Dovecot's i_warning, the CLI's `check` findings) by
// installing a sink. Without one, warnings go to stderr, one line each. A warning never
// changes a decision; it only says which entry was left out and why.
#pragma once

#include <functional>
#include <string>

namespace mailgrant {

struct Warning {
    std::string entry_dn;  // the LDAP entry concerned ("" when there is none)
    std::string text;      // one line, naming the entry and the reason
};

using WarningSink = std::function<void(const Warning&)>;

// Installs `sink` for the whole process (nullptr = stderr) and returns the previous one.
// Thread-safe; warnings are serialised, so a sink needs no locking of its own.
WarningSink set_warning_sink(WarningSink sink);

// Hands one warning to the current sink. Never throws (a failing sink is ignored: a
// warning must not turn into an error of the lookup that found it).
void warn(const Warning& warning) noexcept;

// Installs a sink for the lifetime of a scope and restores the previous one after
// (tests, and verbs such as `check` that collect warnings as findings).
class ScopedWarningSink {
public:
    explicit ScopedWarningSink(WarningSink sink) : previous_(set_warning_sink(std::move(sink))) {}
    ~ScopedWarningSink() { set_warning_sink(std::move(previous_)); }
    ScopedWarningSink(const ScopedWarningSink&) = delete;
    ScopedWarningSink& operator=(const ScopedWarningSink&) = delete;

private:
    WarningSink previous_;
};

}  // namespace mailgrant
