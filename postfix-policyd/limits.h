// limits.h -- every fixed limit of the policy daemon's I/O, named in one place (the
// configurable ones live in config.h's policy section). Why each value: next to it.
#pragma once

#include <chrono>
#include <cstddef>

namespace mailgrant::policy::limits {

// Pending connections the kernel queues per listening socket: Postfix opens one per
// smtpd process, and a burst of them at start must not be refused.
constexpr int kListenBacklog = 512;
// Queued decisions per worker thread: beyond that an answer would come after
// policy.request_timeout_ms anyway, so the request is deferred at once.
constexpr std::size_t kQueuedJobsPerWorker = 64;
// Bytes read per recv(): a whole policy request (about 1 KiB) fits many times over.
constexpr std::size_t kReadChunkBytes = 16384;
// epoll events handled per wake-up.
constexpr int kEventsPerWait = 256;
// Longest sleep of an idle loop: it wakes to notice a stop or a reloaded engine.
constexpr int kIdleWakeMs = 1000;
// Signals read from the self-pipe per wake-up (more stay in the pipe for the next).
constexpr std::size_t kSignalsPerRead = 16;
// How long a stats reply may block on a slow scraper.
constexpr std::chrono::seconds kStatsSendTimeout{1};

}  // namespace mailgrant::policy::limits
