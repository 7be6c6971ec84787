// core_load.cpp -- what a Dovecot mail process pays on its first question to the per-host
// service (issue 19, benches (a) and (b)): loading the core library and opening a
// service-mode configuration, in forked children whose CPU time wait4() reports, against
// children that only exit. A C++ program, not Python: a forked Python child copies and
// touches a large interpreter, which doubled the figure.
//
// usage: core_load LIBMAILGRANT_CORE.so CONFIG [CHILDREN] [ROUNDS]
// Prints CPU ms per child for "nothing" and "load + open" (alternating rounds) and the
// difference; bench/exec_cost.py runs it.
#include <dlfcn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using OpenFn = void* (*)(const char*, char*, std::size_t);
using CloseFn = void (*)(void*);

[[noreturn]] void child(const char* library, const char* config) {
    if (library) {
        // As dovecot-plugin/mailgrant-core-loader.c loads it.
        void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            std::fprintf(stderr, "dlopen: %s\n", dlerror());
            _exit(1);
        }
        auto open = reinterpret_cast<OpenFn>(dlsym(handle, "mailgrant_core_open"));
        auto close = reinterpret_cast<CloseFn>(dlsym(handle, "mailgrant_core_close"));
        char error[512];
        void* core = open && close ? open(config, error, sizeof error) : nullptr;
        if (!core) {
            std::fprintf(stderr, "open: %s\n", open ? error : "no mailgrant_core_open");
            _exit(1);
        }
        close(core);
    }
    _exit(0);
}

double cpu_ms_per_child(const char* library, const char* config, int children) {
    double total = 0;
    for (int i = 0; i < children; ++i) {
        const pid_t pid = fork();
        if (pid < 0) return -1;
        if (pid == 0) child(library, config);
        int status = 0;
        rusage usage{};
        if (wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
        total += usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec / 1e3 + usage.ru_stime.tv_sec * 1e3 +
                 usage.ru_stime.tv_usec / 1e3;
    }
    return total / children;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: core_load LIBMAILGRANT_CORE.so CONFIG [CHILDREN] [ROUNDS]\n");
        return 2;
    }
    const int children = argc > 3 ? std::atoi(argv[3]) : 500;
    const int rounds = argc > 4 ? std::atoi(argv[4]) : 3;
    if (children < 1 || children > 100000 || rounds < 1 || rounds > 100) {
        std::fprintf(stderr, "core_load: CHILDREN 1..100000, ROUNDS 1..100\n");
        return 2;
    }
    double nothing = 0, loaded = 0;
    for (int r = 0; r < rounds; ++r) {  // alternate the order: a busy machine hurts both alike
        for (int k = 0; k < 2; ++k) {
            const bool load = (k == 0) == (r % 2 == 0);
            const double ms = cpu_ms_per_child(load ? argv[1] : nullptr, argv[2], children);
            if (ms < 0) {
                std::fprintf(stderr, "core_load: a child failed\n");
                return 1;
            }
            (load ? loaded : nothing) += ms;
        }
    }
    nothing /= rounds;
    loaded /= rounds;
    std::printf("forked child, %d x %d rounds, CPU per child\n", children, rounds);
    std::printf("  %-20s %6.3f ms  ratio 1.00\n", "nothing", nothing);
    std::printf("  %-20s %6.3f ms  ratio %.2f  (+%.3f ms)\n", "load + open", loaded, loaded / nothing, loaded - nothing);
    return 0;
}
