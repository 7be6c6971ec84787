/* passdb-mailgrant.c -- libauthdb_mailgrant.so: Dovecot 2.4's `mailgrant` passdb driver,
 * the per-collaborator login ("MAILBOX*GRANTEE" with GRANTEE's own password) as a master
 * passdb:
 *
 *   auth_master_user_separator = *
 *   passdb mailgrant {
 *     driver = mailgrant
 *     master = yes
 *   }
 *
 * Why a driver: 2.4 removed the checkpassword passdb that runs mailgrant-checkpassword on
 * 2.3. Dovecot's auth process loads "authdb_<driver>" from <moduledir>/auth/ when a passdb
 * names a driver it does not have built in (passdb.c, passdb_preinit), as it does with
 * its own libauthdb_ldap.so. Lua (built into 2.4's auth) could call out to LDAP too, but
 * it would decide in a second language; this driver decides nothing: it hands the
 * request to the core over the C ABI (mailgrant_core_collaborator_login, the same
 * mailgrant::collaborator_login that mailgrant-checkpassword uses) and maps the answer:
 *
 *   allowed   -> PASSDB_RESULT_OK
 *   refused   -> PASSDB_RESULT_PASSWORD_MISMATCH (another master passdb may still try)
 *   temporary -> PASSDB_RESULT_INTERNAL_FAILURE  (LDAP trouble: never a success)
 *
 * What it sees: for a master login Dovecot runs master passdbs with fields.user = the
 * master user (GRANTEE, whose password this is) and fields.requested_login_user = the
 * user asked for (MAILBOX); fields.protocol is the service ("imap", "pop3", "smtp" for
 * Postfix's SASL, "submission", "doveadm"...): the core refuses all but imap and pop3.
 *
 * Blocking: the core asks LDAP synchronously (account and grant searches, a bind to
 * check the password), which must never stall the auth master that serves every login.
 * So the driver always runs in auth-worker processes: init() sets the module's
 * `blocking` flag (passdb.c copies passdb_use_worker into it in preinit, which runs
 * first), and verify_plain refuses to run outside a worker should that ever change.
 * Each worker opens one core (configuration, LDAP connection, answer cache) on first
 * use and keeps it; the password is checked by a fresh bind every time, never cached,
 * and Dovecot's auth cache is not offered (no default cache key), so a revoked grant or
 * changed password is obeyed at the next login (grants within cache.ttl_s).
 *
 * Configuration: the global setting mailgrant_config (mailgrant-settings.c, the same
 * definition the mail plugin and the config process's settings module use), default
 * /etc/mailgrant/mailgrant.yaml. The YAML and its password file must be readable by the
 * auth-worker processes (service auth-worker { extra_groups = mailgrant }).
 *
 * Log lines: the core's texts (those of mailgrant-checkpassword) behind Dovecot's prefix
 * for the request, which names the passdb ("mailgrant: " with the block below).
 *
 * Only for 2.4: on 2.3 mailgrant-checkpassword keeps serving (see auth/CMakeLists.txt).
 */
#include "auth-common.h"
#include "passdb.h"
#include "module-dir.h"
#include "settings.h"

#include "mailgrant-core.h"
#include "mailgrant-settings.h"

#include <time.h>

#define MAILGRANT_MESSAGE_SIZE 4096

struct mailgrant_passdb_module {
	struct passdb_module module;
	const char *config_path;
};

/* One core per process (a worker serves one request at a time), shared by the passdb
   instances of every protocol filter: they all name the one global mailgrant_config. */
static struct mailgrant_core *mailgrant_auth_core = NULL;
static char *mailgrant_auth_core_path = NULL;
static time_t mailgrant_auth_core_failed_at = 0;

const char *authdb_mailgrant_version = DOVECOT_ABI_VERSION;
void authdb_mailgrant_init(struct module *module);
void authdb_mailgrant_deinit(void);

static struct mailgrant_core *
mailgrant_auth_get_core(struct auth_request *request, const char *config_path)
{
	char error[1024];

	if (mailgrant_auth_core != NULL &&
	    strcmp(mailgrant_auth_core_path, config_path) == 0)
		return mailgrant_auth_core;
	/* A configuration that failed to load is tried again after the log interval, not
	   on every login (each failure would log the same error again). */
	if (mailgrant_auth_core_failed_at != 0 &&
	    time(NULL) - mailgrant_auth_core_failed_at <
	    mailgrant_core_log_interval(NULL))
		return NULL;
	mailgrant_core_close(mailgrant_auth_core);
	i_free(mailgrant_auth_core_path);
	mailgrant_auth_core = mailgrant_core_open(config_path, error, sizeof(error));
	if (mailgrant_auth_core == NULL) {
		mailgrant_auth_core_failed_at = time(NULL);
		e_error(authdb_event(request), "%s", error);
		return NULL;
	}
	mailgrant_auth_core_failed_at = 0;
	mailgrant_auth_core_path = i_strdup(config_path);
	return mailgrant_auth_core;
}

static void
mailgrant_verify_plain(struct auth_request *request, const char *password,
		       verify_plain_callback_t *callback)
{
	struct mailgrant_passdb_module *module =
		(struct mailgrant_passdb_module *)request->passdb->passdb;
	struct mailgrant_core *core;
	char message[MAILGRANT_MESSAGE_SIZE];
	int level = MAILGRANT_LOG_ERROR;
	enum passdb_result result;

	if (!worker) {
		e_error(authdb_event(request),
			"not running in an auth-worker process: refusing to ask LDAP from the auth master");
		callback(PASSDB_RESULT_INTERNAL_FAILURE, request);
		return;
	}
	if (auth_request_set_passdb_fields(request, NULL) < 0) {
		callback(PASSDB_RESULT_INTERNAL_FAILURE, request);
		return;
	}
	core = mailgrant_auth_get_core(request, module->config_path);
	/* core == NULL (configuration not loaded) is the ABI's to answer: refusals that
	   need no directory still refuse, the rest is a temporary failure. */
	switch (mailgrant_core_collaborator_login(core, request->fields.protocol,
						  request->fields.requested_login_user,
						  request->fields.user, password,
						  &level, message, sizeof(message))) {
	case MAILGRANT_LOGIN_ALLOWED:
		result = PASSDB_RESULT_OK;
		break;
	case MAILGRANT_LOGIN_REFUSED:
		result = PASSDB_RESULT_PASSWORD_MISMATCH;
		break;
	default:
		result = PASSDB_RESULT_INTERNAL_FAILURE;
		break;
	}
	switch (level) {
	case MAILGRANT_LOG_INFO:
		e_info(authdb_event(request), "%s", message);
		break;
	case MAILGRANT_LOG_WARNING:
		e_warning(authdb_event(request), "%s", message);
		break;
	default:
		e_error(authdb_event(request), "%s", message);
		break;
	}
	callback(result, request);
}

static int
mailgrant_preinit(pool_t pool, struct event *event,
		  struct passdb_module **module_r, const char **error_r ATTR_UNUSED)
{
	struct mailgrant_passdb_module *module;
	const struct mailgrant_settings *set;
	const char *error;

	module = p_new(pool, struct mailgrant_passdb_module, 1);
	module->config_path = p_strdup(pool, mailgrant_core_default_config_path());
	if (settings_get(event, &mailgrant_setting_parser_info, 0,
			 &set, &error) < 0) {
		/* Without mailgrant's settings module the configuration cannot name
		   mailgrant_config at all: the default path is the only one possible. */
		e_warning(event, "mailgrant: cannot read mailgrant_config (%s); using %s",
			  error, module->config_path);
	} else {
		if (set->mailgrant_config[0] != '\0')
			module->config_path = p_strdup(pool, set->mailgrant_config);
		settings_free(set);
	}
	/* No default_cache_key: Dovecot's auth cache never answers for this passdb. */
	*module_r = &module->module;
	return 0;
}

static void mailgrant_init(struct passdb_module *module)
{
	/* passdb_preinit() has copied passdb_use_worker into `blocking` by now; the LDAP
	   calls block, so they run in auth workers whatever that setting says. */
	module->blocking = TRUE;
}

static struct passdb_module_interface passdb_mailgrant = {
	.name = "mailgrant",
	.preinit = mailgrant_preinit,
	.init = mailgrant_init,
	.verify_plain = mailgrant_verify_plain,
	/* No lookup_credentials: the grantee's password is checked by an LDAP bind, so
	   only plaintext mechanisms (PLAIN, LOGIN) can carry a per-collaborator login. */
};

void authdb_mailgrant_init(struct module *module ATTR_UNUSED)
{
	passdb_register_module(&passdb_mailgrant);
}

void authdb_mailgrant_deinit(void)
{
	passdb_unregister_module(&passdb_mailgrant);
	mailgrant_core_close(mailgrant_auth_core);
	mailgrant_auth_core = NULL;
	i_free(mailgrant_auth_core_path);
}
