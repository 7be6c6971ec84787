// worker_pool.h -- the threads that make decisions which may wait on LDAP, for one
// event loop. The loop submits a job per request its fast path could not answer; a
// worker decides it once (PolicyService::decide) and posts the result, waking the loop
// through its eventfd. The queue is bounded (limits::kQueuedJobsPerWorker per worker).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine.h"
#include "request_parser.h"

namespace mailgrant::policy {

class WorkerPool {
public:
    struct Job {
        std::uint64_t conn_id, seq;
        PolicyRequest request;
        std::shared_ptr<Engine> engine;  // the engine of the request's time (reloads swap it)
    };
    struct Result {
        std::uint64_t conn_id, seq;
        Answer answer;
    };

    // Starts `workers` threads; each result is announced by writing to `wake_fd`.
    WorkerPool(int workers, int wake_fd);
    ~WorkerPool();  // stops and joins the threads; queued jobs are dropped
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // False when the queue is full: the caller answers "overloaded" itself.
    bool submit(Job job);
    std::vector<Result> take_results();

private:
    void work();

    const std::size_t max_queued_;
    const int wake_fd_;
    std::mutex jobs_mutex_;
    std::condition_variable jobs_ready_;
    std::deque<Job> jobs_;
    bool stop_ = false;
    std::mutex results_mutex_;
    std::vector<Result> results_;
    std::vector<std::thread> threads_;
};

}  // namespace mailgrant::policy
