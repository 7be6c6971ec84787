// clock.h -- the time source of decisions and caches, injectable so tests can move time.
//
// Wall time decides grant validity windows; monotonic time ages cache entries (so a
// clock step never makes stale data look fresh).
#pragma once

#include <chrono>
#include <ctime>

namespace mailgrant {

class Clock {
public:
    virtual ~Clock() = default;
    virtual std::time_t wall_now() const = 0;                               // UTC seconds
    virtual std::chrono::steady_clock::time_point steady_now() const = 0;  // cache ageing

    // The steady-clock moment the wall clock reaches `wall` (a grant's start or end): how
    // long an answer that changes then may be kept, in the clock caches age by.
    std::chrono::steady_clock::time_point steady_at(std::time_t wall) const {
        return steady_now() + std::chrono::seconds(wall - wall_now());
    }
};

class SystemClock final : public Clock {
public:
    std::time_t wall_now() const override { return std::time(nullptr); }
    std::chrono::steady_clock::time_point steady_now() const override { return std::chrono::steady_clock::now(); }
    static const SystemClock& instance() {
        static const SystemClock clock;
        return clock;
    }
};

// For tests: time stands still until advanced.
class ManualClock final : public Clock {
public:
    explicit ManualClock(std::time_t wall = 1700000000) : wall_(wall) {}
    std::time_t wall_now() const override { return wall_; }
    std::chrono::steady_clock::time_point steady_now() const override {
        return std::chrono::steady_clock::time_point(std::chrono::seconds(steady_s_));
    }
    void advance(long seconds) {
        wall_ += seconds;
        steady_s_ += seconds;
    }
    void set_wall(std::time_t wall) { wall_ = wall; }

private:
    std::time_t wall_;
    long steady_s_ = 1000;
};

}  // namespace mailgrant
