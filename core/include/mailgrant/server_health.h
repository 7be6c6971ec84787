// server_health.h -- which LDAP servers timed out lately, remembered by every mailgrant
// process on the host.
//
// Each imap process, checkpassword run and policy daemon worker opens its own LDAP
// session (ldap_session.h). Without a memory shared between them, a first server in
// ldap.uris that hangs (accepts TCP but never answers) costs every new session a whole
// operation timeout before the second server is tried, for as long as it hangs. So the
// opener writes "this URI failed at T" into a small state file (ldap.server_state_file),
// and every opener reads it: a server marked less than ldap.server_holddown_s ago is
// tried last instead of first. When the hold-down ends, the first opener to notice claims
// one probe (it renews the mark, so the others keep skipping the server meanwhile) and
// tries the server in its configured place: an answer clears the mark, another failure
// renews it. A hung first server therefore costs one timeout per hold-down on the whole
// host, not one per session.
//
// The memory only reorders: held-down servers are still tried, after the others, so all
// servers marked down never means failing without trying. For the same reason the file
// is advisory: whoever can write it can change the order in which servers are tried,
// nothing else. It is still read as untrusted input, with the limits below (a bad line
// affects only itself). Writes are atomic (a temporary file renamed over it). Two
// processes writing at the same moment can lose one update; that costs at most one more
// timeout or one more probe, so there is no lock. When the file cannot be written the
// opener works as before (no memory) and says so in one warning per process.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "mailgrant/clock.h"

namespace mailgrant {

// One line of the state file: `uri` failed (timed out or unreachable) at `since`
// (UTC seconds: wall time, because the file is shared between processes).
struct ServerMark {
    std::string uri;
    std::time_t since = 0;
};

// Limits on the state file. Beyond kMaxFileBytes the rest is ignored; lines beyond
// kMaxMarks are ignored; a URI longer than kMaxUriBytes, or with a byte outside
// printable ASCII, makes its line ignored.
inline constexpr std::size_t kServerStateMaxFileBytes = 16 * 1024;
inline constexpr std::size_t kServerStateMaxMarks = 64;
inline constexpr std::size_t kServerStateMaxUriBytes = 512;
// A mark older than this is dropped when the file is rewritten (the largest hold-down
// ldap.server_holddown_s accepts), so marks of URIs no longer configured do not pile up.
inline constexpr std::time_t kServerMarkMaxAge = 86400;

// The file's text: "<since> <uri>" lines; '#' lines and malformed lines are skipped.
// A URI named twice keeps its latest mark. Never throws but bad_alloc.
std::vector<ServerMark> parse_server_marks(const std::string& text);
// The inverse (with a header comment): the newest marks, at most kServerStateMaxMarks
// and kServerStateMaxFileBytes, so whatever it writes is read back whole.
std::string format_server_marks(const std::vector<ServerMark>& marks);

class ServerHealth {
public:
    // holddown_s <= 0 or an empty path: no memory (plan() returns `uris` unchanged and
    // nothing is read or written).
    ServerHealth(std::string path, int holddown_s, const Clock& clock = SystemClock::instance());

    // Reads the file and returns the order in which to try `uris`: the servers not held
    // down in their configured order, then the held-down ones in theirs. A server whose
    // hold-down has ended is claimed for a probe (its mark renewed in the file) and keeps
    // its configured place.
    std::vector<std::string> plan(const std::vector<std::string>& uris);
    // `uri` timed out or could not be reached: mark it (re-reading the file first, so
    // other processes' marks are kept).
    void failed(const std::string& uri);
    // `uri` answered: clear its mark, if plan() saw one (no write otherwise).
    void answered(const std::string& uri);

    // Of the last plan(): how many servers were moved back (held down), how many probed.
    std::size_t held_down() const { return held_down_; }
    std::size_t probes() const { return probes_; }

private:
    bool enabled() const { return holddown_s_ > 0 && !path_.empty(); }
    std::vector<ServerMark> load() const;
    void store(std::vector<ServerMark> marks) const;

    std::string path_;
    int holddown_s_;
    const Clock& clock_;
    std::vector<std::string> marked_;  // URIs plan() found marked (held down or probed)
    std::vector<std::string> probed_;  // of those, the ones this opener claimed a probe of
    std::size_t held_down_ = 0;
    std::size_t probes_ = 0;
};

}  // namespace mailgrant
