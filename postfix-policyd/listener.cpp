// listener.cpp -- see listener.h.
#include "listener.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "limits.h"

namespace mailgrant::policy {

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

std::runtime_error sys_error(const std::string& what) { return std::runtime_error(what + ": " + std::strerror(errno)); }

int listen_on(const std::string& address, const SocketPermissions& permissions, SocketFiles& files) {
    if (address.rfind("unix:", 0) == 0) {
        const std::string path = address.substr(5);
        if (path.size() >= sizeof(sockaddr_un{}.sun_path)) throw std::runtime_error(address + ": socket path too long");
        int fd = -1;
        try {
            make_socket_file(path, permissions, files, [&](const std::string& where) {
                sockaddr_un addr{};
                addr.sun_family = AF_UNIX;
                std::memcpy(addr.sun_path, where.c_str(), where.size() + 1);
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0) throw sys_error("socket");
                if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, limits::kListenBacklog) != 0)
                    throw sys_error("cannot listen on " + address);
            });
        } catch (...) {
            if (fd >= 0) close(fd);
            throw;
        }
        set_nonblocking(fd);
        return fd;
    }
    if (address.rfind("inet:", 0) != 0) throw std::runtime_error(address + ": must be unix:PATH or inet:HOST:PORT");
    const std::string rest = address.substr(5);
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error(address + ": missing port");
    std::string host = rest.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string port = rest.substr(colon + 1);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (const int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0)
        throw std::runtime_error(address + ": " + gai_strerror(rc));
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, &freeaddrinfo);
    const int fd = socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) throw sys_error("socket");
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, limits::kListenBacklog) != 0) {
        close(fd);
        throw sys_error("cannot listen on " + address);
    }
    set_nonblocking(fd);
    return fd;
}

}  // namespace mailgrant::policy
