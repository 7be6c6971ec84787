/* mailgrant-settings-module.c -- libmailgrant_settings.so, Dovecot 2.4's settings module
 * for mailgrant (2.4 only; installed into <moduledir>/settings/).
 *
 * 2.4's config process (src/config/config-parser.c, config_parse_load_modules) loads
 * every module in MODULEDIR/settings and takes the NULL-terminated array
 * <name>_set_infos from each (name = file name without "lib" and ".so"), as it does with
 * Pigeonhole's libpigeonhole_settings.so. Without it, a configuration naming
 * mailgrant_config is refused ("Unknown setting: mailgrant_config"). <name>_version lets
 * the loader refuse a module built for another Dovecot ABI.
 */
#include "lib.h"
#include "settings-parser.h"

#include "mailgrant-settings.h"

extern const char *mailgrant_settings_version;
extern const struct setting_parser_info *mailgrant_settings_set_infos[];

const char *mailgrant_settings_version = DOVECOT_ABI_VERSION;

const struct setting_parser_info *mailgrant_settings_set_infos[] = {
	&mailgrant_setting_parser_info,
	NULL
};
