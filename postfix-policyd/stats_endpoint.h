// stats_endpoint.h -- the HTTP side of policy.stats_listen: any request on a stats
// connection (curl's GET, or a bare connect-and-read) gets the Prometheus text.
#pragma once

#include "mailgrant/caching_directory.h"
#include "stats.h"

namespace mailgrant::policy {

// Writes one HTTP/1.0 response with the metrics to the fresh connection `fd` (blocking,
// bounded by limits::kStatsSendTimeout); the caller closes it.
void answer_stats(int fd, const Stats& stats, const CacheStats& cache);

}  // namespace mailgrant::policy
