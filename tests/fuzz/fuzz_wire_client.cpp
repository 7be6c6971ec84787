// Fuzz target: the Dovecot plugin's C client of the service (dovecot-plugin/wire/). The
// first byte chooses what the rest is: (odd) an answer as the C client reads it (mgw_parse_reply,
// then mgw_namespace_read), or (even) a mailgrant.yaml as its reader takes it (mgw_config_parse).
// Differential: an answer the C client accepts must be accepted by the C++ core's reader
// (ReplyReader) with the same fields, and a namespace it accepts by namespace_from() with
// the same mailboxes and the same rights on a folder. A configuration it takes must hold a
// socket path and numbers within config_service.h's bounds.
#include <cstring>
#include <string>

#include "fuzz_targets.h"
#include "mailgrant/config_service.h"
#include "mailgrant/service_protocol.h"
#include "mailgrant/shared_namespace.h"
#include "wire_client.h"
#include "wire_config.h"
#include "wire_namespace.h"

namespace {

void check_config(const char* text, std::size_t size) {
    mgw_config config;
    if (mgw_config_parse(text, size, &config, nullptr, 0) != 1) return;
    if (config.socket_path[0] != '/' || config.timeout_ms < MAILGRANT_SERVICE_TIMEOUT_MS_MIN ||
        config.timeout_ms > MAILGRANT_SERVICE_TIMEOUT_MS_MAX || config.memo_ms < MAILGRANT_SERVICE_MEMO_MS_MIN ||
        config.memo_ms > MAILGRANT_SERVICE_MEMO_MS_MAX || config.ttl_s < MAILGRANT_CACHE_TTL_S_MIN ||
        config.negative_ttl_s > MAILGRANT_CACHE_TTL_S_MAX)
        __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mailgrant;
    if (size == 0) return 0;
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] % 2 == 0) {
        check_config(text.data(), text.size());
        return 0;
    }
    mgw_reply reply;
    if (mgw_parse_reply(text.data(), text.size(), &reply, nullptr, 0) != 0) return 0;
    ServiceReply cpp;
    try {
        ReplyReader reader;
        std::size_t start = 0;
        bool done = false;
        while (!done) {
            const auto lf = text.find('\n', start);
            if (lf == std::string::npos) __builtin_trap();  // C accepted an answer without a final line
            done = reader.add_line(text.substr(start, lf - start));
            start = lf + 1;
        }
        if (start != text.size()) __builtin_trap();  // C accepted lines after the final one
        cpp = reader.take();
    } catch (const ProtocolError&) {
        __builtin_trap();  // C accepted what the core refuses
    }
    if (static_cast<int>(reply.status) != static_cast<int>(cpp.status) || reply.item_count != cpp.items.size())
        __builtin_trap();
    for (std::size_t i = 0; i < reply.item_count; ++i) {
        if (reply.items[i].count != cpp.items[i].size()) __builtin_trap();
        for (std::size_t j = 0; j < reply.items[i].count; ++j)
            if (cpp.items[i][j] != reply.items[i].f[j]) __builtin_trap();
    }
    mgw_namespace ns;
    if (mgw_namespace_read(&reply, &ns, nullptr, 0) != 0) return 0;
    try {
        const auto mailboxes = namespace_from(cpp);
        if (mailboxes.size() != ns.count) __builtin_trap();
        for (std::size_t i = 0; i < ns.count; ++i) {
            if (mailboxes[i].address != ns.mailboxes[i].address) __builtin_trap();
            if (!mailboxes[i].answered) continue;
            const mgw_mailbox* found = mgw_namespace_find(&ns, mailboxes[i].address.c_str());
            if (!found) __builtin_trap();
            for (const char* folder : {"INBOX", "Projects/a", "Sent"}) {
                char out[sizeof(MAILGRANT_RIGHTS_LETTERS)];
                mgw_namespace_folder_letters(&ns, found, folder, out);
                // the first mailbox of an address is the one both find (later duplicates
                // are kept by neither side's lookup in the same way): compare only unique
                bool unique = true;
                for (std::size_t k = 0; k < ns.count; ++k)
                    if (k != i && mailboxes[k].address == mailboxes[i].address) unique = false;
                if (unique && folder_letters(mailboxes[i], folder) != out) __builtin_trap();
            }
        }
    } catch (const ProtocolError&) {
        __builtin_trap();  // C accepted a namespace the core refuses
    }
    mgw_namespace_free(&ns);
    return 0;
}
