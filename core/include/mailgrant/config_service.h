/* config_service.h -- the defaults and bounds of the configuration keys a mail process
 * needs to ask the per-host service (service.listen, .timeout_ms, .memo_ms; cache.ttl_s,
 * .negative_ttl_s). Plain C: config.cpp (the one validating loader) and the Dovecot
 * plugin's C reader (dovecot-plugin/wire/wire_config.c, which reads only these keys and
 * leaves everything else, errors included, to config.cpp) take them from here.
 */
#ifndef MAILGRANT_CONFIG_SERVICE_H
#define MAILGRANT_CONFIG_SERVICE_H

#define MAILGRANT_SERVICE_TIMEOUT_MS_DEFAULT 2000
#define MAILGRANT_SERVICE_TIMEOUT_MS_MIN 50
#define MAILGRANT_SERVICE_TIMEOUT_MS_MAX 60000
#define MAILGRANT_SERVICE_MEMO_MS_DEFAULT 500
#define MAILGRANT_SERVICE_MEMO_MS_MIN 0
#define MAILGRANT_SERVICE_MEMO_MS_MAX 5000
#define MAILGRANT_SERVICE_LISTEN_MAX 100 /* bytes of "unix:/PATH" */
#define MAILGRANT_CACHE_TTL_S_DEFAULT 30
#define MAILGRANT_CACHE_NEGATIVE_TTL_S_DEFAULT 5
#define MAILGRANT_CACHE_FOLLOW_TTL_S_DEFAULT 600
#define MAILGRANT_CACHE_TTL_S_MIN 0
#define MAILGRANT_CACHE_TTL_S_MAX 86400

/* Every key config.cpp reads in service: and in cache: (its read_service/read_cache).
   The C reader leaves a file with any other key there to config.cpp, which names the
   unknown key and its line: a typo is reported by the mail process too, not taken as
   absent. tests/dovecot-plugin/wire/test_wire.cpp checks config.cpp accepts each. */
#define MAILGRANT_SERVICE_KEYS \
	"listen", "socket_owner", "socket_group", "socket_mode", "workers", "timeout_ms", "memo_ms"
#define MAILGRANT_CACHE_KEYS "ttl_s", "negative_ttl_s", "follow_ttl_s", "max_entries", "follow_changes"

#endif
