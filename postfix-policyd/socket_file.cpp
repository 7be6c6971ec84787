// socket_file.cpp -- see socket_file.h.
#include "socket_file.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace mailgrant::policy {
namespace {

std::runtime_error sys_error(const std::string& what) { return std::runtime_error(what + ": " + std::strerror(errno)); }

// Sets the process umask for its lifetime.
class UmaskScope {
public:
    explicit UmaskScope(mode_t mask) : saved_(umask(mask)) {}
    ~UmaskScope() { umask(saved_); }
    UmaskScope(const UmaskScope&) = delete;
    UmaskScope& operator=(const UmaskScope&) = delete;

private:
    mode_t saved_;
};

bool is_socket(const std::string& path) {
    struct stat st {};
    return lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace

SocketPermissions socket_permissions(const PolicyConfig& config) {
    return socket_permissions(config.socket_owner, config.socket_group, config.socket_mode, "policy");
}

SocketPermissions socket_permissions(const ServiceConfig& config) {
    return socket_permissions(config.socket_owner, config.socket_group, config.socket_mode, "service");
}

SocketPermissions socket_permissions(const std::string& owner_name, const std::string& group_name, int mode,
                                     const std::string& section) {
    SocketPermissions out;
    out.mode = static_cast<mode_t>(mode);
    if (geteuid() != 0) return out;
    if (!owner_name.empty()) {
        const passwd* pw = getpwnam(owner_name.c_str());
        if (!pw) throw std::runtime_error(section + ".socket_owner: no such user '" + owner_name + "'");
        out.uid = pw->pw_uid;
    }
    if (!group_name.empty()) {
        const group* gr = getgrnam(group_name.c_str());
        if (!gr) throw std::runtime_error(section + ".socket_group: no such group '" + group_name + "'");
        out.gid = gr->gr_gid;
    }
    return out;
}

SocketFiles::~SocketFiles() { remove_all(); }

void SocketFiles::add(const std::string& path) {
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) throw sys_error("stat " + path);
    files_.push_back(File{path, st.st_dev, st.st_ino});
}

void SocketFiles::remove_all() noexcept {
    for (const auto& file : files_) {
        struct stat st {};
        if (lstat(file.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == file.dev &&
            st.st_ino == file.ino)
            unlink(file.path.c_str());  // may fail once root is dropped: see the header
    }
    files_.clear();
}

void make_socket_file(const std::string& path, const SocketPermissions& permissions, SocketFiles& files,
                      const std::function<void(const std::string& temporary_path)>& bind_at) {
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode))
        throw std::runtime_error(path + ": exists and is not a socket");
    // The temporary name must fit into sockaddr_un too. When it does not (a path within
    // a few bytes of the limit), bind at the path itself with the final mode as umask;
    // only the owner then changes afterwards.
    std::string temporary = path + "." + std::to_string(getpid()) + ".new";
    const bool rename_into_place = temporary.size() < sizeof(sockaddr_un{}.sun_path);
    if (!rename_into_place) temporary = path;
    if (is_socket(temporary)) unlink(temporary.c_str());  // left over from a crashed run
    auto discard = [&] {
        if (is_socket(temporary)) unlink(temporary.c_str());
    };
    try {
        // Created with its final mode (umask; the process is still single-threaded), so
        // no chmod by path is needed: the directory (Postfix's private/) is writable by
        // the postfix user, who could swap the file for a symlink to make root chmod or
        // chown its target. lchown never follows a symlink, and the file must still be
        // the socket just bound (same device and inode) when it is renamed into place.
        {
            UmaskScope mask(~permissions.mode & 0777);
            bind_at(temporary);
        }
        struct stat bound {};
        if (lstat(temporary.c_str(), &bound) != 0 || !S_ISSOCK(bound.st_mode))
            throw std::runtime_error(temporary + ": not the socket just bound");
        if ((permissions.uid != static_cast<uid_t>(-1) || permissions.gid != static_cast<gid_t>(-1)) &&
            lchown(temporary.c_str(), permissions.uid, permissions.gid) != 0)
            throw sys_error("chown " + temporary);
        struct stat now {};
        if (lstat(temporary.c_str(), &now) != 0 || !S_ISSOCK(now.st_mode) || now.st_dev != bound.st_dev ||
            now.st_ino != bound.st_ino)
            throw std::runtime_error(temporary + ": replaced while being set up");
        if (rename_into_place && rename(temporary.c_str(), path.c_str()) != 0)
            throw sys_error("rename " + temporary + " to " + path);
        files.add(path);
    } catch (...) {
        discard();
        throw;
    }
}

}  // namespace mailgrant::policy
