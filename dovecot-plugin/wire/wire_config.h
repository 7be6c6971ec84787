/* wire_config.h -- what the plugin's C client needs from mailgrant.yaml: the service's
 * socket and the few numbers that govern asking it (config_service.h's keys).
 *
 * DESIGN.md: the plugin finds the service through the same YAML as every component. This
 * reader (libyaml, C) looks at those five keys only and validates them with the bounds
 * config.cpp uses (config_service.h). It never reports a configuration error itself: a
 * file it cannot read, a key it does not understand the way config.cpp would, or no
 * service configured, and the plugin loads the C++ core, whose loader validates the whole
 * file and says what is wrong with it. So a broken configuration is reported exactly as
 * before, and only a service-mode configuration whose five keys are plain takes the fast
 * path. The rest of the file (ldap:, policy:, ...) is the service's and checkpassword's
 * to validate: a mail process with the service never uses it.
 */
#ifndef MAILGRANT_WIRE_CONFIG_H
#define MAILGRANT_WIRE_CONFIG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MGW_MAX_CONFIG_BYTES (1024u * 1024u) /* config.cpp's limit */

struct mgw_config {
	char socket_path[128]; /* service.listen without "unix:" */
	int timeout_ms, memo_ms, ttl_s, negative_ttl_s;
};

/* 1 = a service is configured and `out` holds it; 0 = use the C++ core (no service,
   or anything this reader leaves to config.cpp). `why` says which, for debugging. */
int mgw_config_parse(const char *text, size_t size, struct mgw_config *out, char *why, size_t why_size);
int mgw_config_read(const char *path, struct mgw_config *out, char *why, size_t why_size);

#ifdef __cplusplus
}
#endif

#endif
