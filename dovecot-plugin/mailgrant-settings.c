/* mailgrant-settings.c -- the one Dovecot 2.4 setting of mailgrant, `mailgrant_config`
 * (a global setting; 2.3 reads the same name from plugin { }). Defined once here, linked
 * into both the mail plugin and the config process's settings module, so both agree on
 * its name and type. Only built for 2.4 (see CMakeLists.txt).
 *
 * No plugin_dependency: the config process then knows the setting whenever the settings
 * module is installed, also where the mail plugin is loaded from another mail_plugin_dir
 * (the test harness does that).
 */
#include "lib.h"
#include "settings-parser.h"

#include "mailgrant-settings.h"

#undef DEF
#define DEF(type, name) \
	SETTING_DEFINE_STRUCT_##type(#name, name, struct mailgrant_settings)

static const struct setting_define mailgrant_setting_defines[] = {
	DEF(STR, mailgrant_config),
	SETTING_DEFINE_LIST_END
};

static const struct mailgrant_settings mailgrant_default_settings = {
	.mailgrant_config = "",
};

const struct setting_parser_info mailgrant_setting_parser_info = {
	.name = "mailgrant",
	.defines = mailgrant_setting_defines,
	.defaults = &mailgrant_default_settings,
	.struct_size = sizeof(struct mailgrant_settings),
	.pool_offset1 = 1 + offsetof(struct mailgrant_settings, pool),
};
