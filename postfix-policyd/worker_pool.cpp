// worker_pool.cpp -- see worker_pool.h.
#include "worker_pool.h"

#include <unistd.h>

#include "limits.h"

namespace mailgrant::policy {

WorkerPool::WorkerPool(int workers, int wake_fd)
    : max_queued_(static_cast<std::size_t>(workers) * limits::kQueuedJobsPerWorker), wake_fd_(wake_fd) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() {
    {
        std::lock_guard<std::mutex> lock(jobs_mutex_);
        stop_ = true;
    }
    jobs_ready_.notify_all();
    for (auto& t : threads_) t.join();
}

bool WorkerPool::submit(Job job) {
    {
        std::lock_guard<std::mutex> lock(jobs_mutex_);
        // Bounded queue: beyond a few requests per worker the answer would come too late anyway.
        if (jobs_.size() >= max_queued_) return false;
        jobs_.push_back(std::move(job));
    }
    jobs_ready_.notify_one();
    return true;
}

std::vector<WorkerPool::Result> WorkerPool::take_results() {
    std::vector<Result> done;
    std::lock_guard<std::mutex> lock(results_mutex_);
    done.swap(results_);
    return done;
}

void WorkerPool::work() {
    for (;;) {
        Job job;
        {
            std::unique_lock<std::mutex> lock(jobs_mutex_);
            jobs_ready_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
            if (stop_) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        Answer answer = job.engine->service->decide(job.request);  // never throws
        {
            std::lock_guard<std::mutex> lock(results_mutex_);
            results_.push_back(Result{job.conn_id, job.seq, std::move(answer)});
        }
        const std::uint64_t one = 1;
        [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
    }
}

}  // namespace mailgrant::policy
