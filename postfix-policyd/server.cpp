// server.cpp -- see server.h: starts the loops, splits the workers, runs and stops.
#include "server.h"

#include <unistd.h>

#include <algorithm>
#include <thread>

#include "event_loop.h"
#include "signals.h"

namespace mailgrant::policy {

Server::Server(std::shared_ptr<Engine> engine, std::string config_path, int listen_fd, int stats_fd, Logger log,
               Stats& stats)
    : shared_(std::make_unique<LoopShared>()), listen_fd_(listen_fd), stats_fd_(stats_fd) {
    const int loops = engine->config.policy.io_threads;
    const int workers = engine->config.policy.workers;
    shared_->engine = std::move(engine);
    for (int i = 0; i < loops; ++i) {
        // Workers are split between the loops; each loop has at least one.
        const int here = std::max(1, workers / loops + (i < workers % loops ? 1 : 0));
        loops_.push_back(std::make_unique<EventLoop>(*shared_, i, here, config_path, listen_fd,
                                                     i == 0 ? stats_fd : -1, log, stats));
        shared_->wake_fds.push_back(loops_.back()->wake_fd());
    }
}

Server::~Server() {
    loops_.clear();
    close(listen_fd_);
    if (stats_fd_ >= 0) close(stats_fd_);
}

void Server::install_signal_handlers() { policy::install_signal_handlers(); }

int Server::run() {
    std::vector<std::thread> others;
    std::vector<int> codes(loops_.size(), 0);
    for (std::size_t i = 1; i < loops_.size(); ++i) others.emplace_back([this, i, &codes] { codes[i] = loops_[i]->run(); });
    codes[0] = loops_[0]->run();
    for (auto& t : others) t.join();
    for (int c : codes)
        if (c != 0) return c;
    return 0;
}

void Server::request_stop() { raise_stop(); }

std::shared_ptr<Engine> Server::engine() const { return std::atomic_load(&shared_->engine); }

}  // namespace mailgrant::policy
