// local_open_dl.cpp -- local_core_entry_point() for the plugin's libmailgrant_core.so: loads
// libmailgrant_local.so (core_local.h) from the directory this library itself was loaded
// from, at the first call, and keeps it loaded for the life of the process.
//
// By the real path of this library's file (dladdr, then realpath: symlinks followed, as the
// plugin's loader does), never a relative name: dlopen would search the working
// directory, a user's home. Loaded RTLD_LOCAL, so its copy of the core and of libldap
// stays private to it.
#include "core_local.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

#include <mutex>
#include <stdexcept>
#include <string>

namespace mailgrant {

NewLocalCore local_core_entry_point() {
    static std::mutex mutex;
    static NewLocalCore entry = nullptr;
    std::lock_guard<std::mutex> lock(mutex);
    if (entry) return entry;
    Dl_info self{};
    if (!dladdr(reinterpret_cast<void*>(&local_core_entry_point), &self) || !self.dli_fname)
        throw std::runtime_error("cannot tell where libmailgrant_core.so was loaded from");
    char real[PATH_MAX];
    if (!realpath(self.dli_fname, real))
        throw std::runtime_error(std::string("cannot resolve the path of ") + self.dli_fname);
    std::string path = real;
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) throw std::runtime_error("libmailgrant_core.so was loaded by a relative name: " + path);
    path = path.substr(0, slash + 1) + "libmailgrant_local.so";
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* why = dlerror();
        throw std::runtime_error("cannot load " + path + ": " + (why ? why : "unknown error"));
    }
    dlerror();
    entry = reinterpret_cast<NewLocalCore>(dlsym(handle, "mailgrant_local_core_new"));
    if (!entry) {
        const char* why = dlerror();
        const std::string message = path + " has no mailgrant_local_core_new: " + (why ? why : "unknown error");
        dlclose(handle);
        throw std::runtime_error(message);
    }
    return entry;
}

}  // namespace mailgrant
