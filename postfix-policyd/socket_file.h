// socket_file.h -- the unix socket files of mailgrant-policyd: they appear complete and
// go away with the daemon.
//
// Complete: a socket file appears at its path already with its final owner, group and
// mode. It is made under a temporary name next to it with its final mode (through the
// umask; owned by root meanwhile, and not listening yet), given its owner with lchown
// (never through a symlink someone put there) and renamed into place. Binding
// at the path and chmod-ing afterwards would leave a moment where the file has the
// umask's mode (0755 under umask 022) and root as owner: Postfix's smtpd (not root)
// could be refused, and an observer could see the wrong mode (issue 10, part 7). The
// rename also replaces a socket left over by an earlier run in one step.
//
// Go away: SocketFiles removes the socket files this process made when it is destroyed,
// so every way out of main (a configuration error after the first socket exists
// included) leaves none behind -- but only while the path still holds the same socket
// (a newer instance may have replaced it). After root is dropped the directory may no
// longer let the daemon remove them; the next start replaces them.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "mailgrant/config.h"

namespace mailgrant::policy {

// Who a socket file belongs to. uid/gid -1 = leave as created (root, or whoever runs us).
struct SocketPermissions {
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    mode_t mode = 0600;
};

// policy.socket_owner / socket_group / socket_mode, with the names resolved (only when
// running as root: nobody else can give files away). Throws std::runtime_error naming
// the key. Called before any socket exists, so a typo costs no socket file.
SocketPermissions socket_permissions(const PolicyConfig& config);
// service.socket_owner / socket_group / socket_mode (the decision service's socket).
SocketPermissions socket_permissions(const ServiceConfig& config);
// Both of the above; `section` names the keys in messages.
SocketPermissions socket_permissions(const std::string& owner, const std::string& group, int mode,
                                     const std::string& section);

// Socket files made by this process, removed when it is destroyed (see above).
class SocketFiles {
public:
    SocketFiles() = default;
    ~SocketFiles();
    SocketFiles(const SocketFiles&) = delete;
    SocketFiles& operator=(const SocketFiles&) = delete;

    // Remembers the socket file now at `path` (its device and inode).
    void add(const std::string& path);
    // Removes every remembered file that is still the same socket. Never throws.
    void remove_all() noexcept;

private:
    struct File {
        std::string path;
        dev_t dev;
        ino_t ino;
    };
    std::vector<File> files_;
};

// Makes the unix socket file `path` as described above: `bind_at(temporary_path)` creates
// the socket there (bind + listen, or libmilter's smfi_opensocket), then it gets
// `permissions` and is renamed to `path`, and `files` remembers it. A path that exists
// and is not a socket is an error. Throws std::runtime_error naming the path; the
// temporary file never outlives a failure. Not thread-safe (it sets the process umask):
// call while the daemon is still single-threaded.
void make_socket_file(const std::string& path, const SocketPermissions& permissions, SocketFiles& files,
                      const std::function<void(const std::string& temporary_path)>& bind_at);

}  // namespace mailgrant::policy
