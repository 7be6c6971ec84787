/* mailgrant-settings.h -- Dovecot 2.4's typed setting of the plugin (2.4 only).
 *
 * 2.4 has no plugin { } block: every setting is declared by a setting_parser_info, and
 * the config process rejects names it has not been told about ("Unknown setting:
 * mailgrant_config"). The same info is compiled into the mail plugin (which reads it
 * with settings_get()) and into libmailgrant_settings.so, the settings module the config
 * process loads from Dovecot's module dir settings/ (mailgrant-settings-module.c).
 */
#ifndef MAILGRANT_SETTINGS_H
#define MAILGRANT_SETTINGS_H

#include "lib.h"
#include "settings-parser.h"

struct mailgrant_settings {
	pool_t pool;
	/* path of mailgrant.yaml; "" = the core's default path */
	const char *mailgrant_config;
};

extern const struct setting_parser_info mailgrant_setting_parser_info;

#endif
