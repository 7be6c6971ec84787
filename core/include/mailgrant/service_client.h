// service_client.h -- a mail process's side of the per-host decision service
// (service_protocol.h): asks mailgrant-policyd on service.listen instead of LDAP.
//
// One connection per question (the service keeps no state per IMAP session, so 10,000
// sessions cost it nothing while idle), every step bounded by service.timeout_ms. An
// unreachable, slow or garbled service is a Temporary answer: the caller denies shared
// access, exactly as with LDAP down. Answers other than logins and namespaces are reused for
// service.memo_ms (a rights check runs several times per IMAP command), so a change
// reaches an open session within memo_ms after the service has seen it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "mailgrant/config.h"
#include "mailgrant/service_protocol.h"

namespace mailgrant {

class ServiceClient {
public:
    explicit ServiceClient(const ServiceConfig& config);
    ServiceClient(const ServiceClient&) = delete;
    ServiceClient& operator=(const ServiceClient&) = delete;

    ServiceReply ask(const ServiceRequest& request);
    void forget() { memo_.clear(); }  // after this process changed grants (SETACL)

    std::uint64_t questions_sent() const { return sent_; }
    static constexpr std::size_t kMaxMemoEntries = 4096;

private:
    using Steady = std::chrono::steady_clock;
    struct Memo {
        Steady::time_point at;
        ServiceReply reply;
    };
    // Throws ProtocolError or std::runtime_error (unreachable, timeout) with the reason.
    ServiceReply exchange(const std::string& line);

    const std::string path_;
    const std::chrono::milliseconds timeout_, memo_for_;
    std::map<std::string, Memo> memo_;
    std::uint64_t sent_ = 0;
};

}  // namespace mailgrant
