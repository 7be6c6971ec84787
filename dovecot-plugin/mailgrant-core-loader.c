/* mailgrant-core-loader.c -- the plugin's way into the core: mailgrant-core.h's functions,
 * each forwarding to the core library (libmailgrant_core.so: core_abi.cpp and the C++
 * core with yaml-cpp; it loads its LDAP side, libmailgrant_local.so, only when it must
 * talk to LDAP itself: core_local.h), which is loaded with dlopen() on the first
 * mailgrant_core_open().
 *
 * Why: Dovecot starts a new process for every IMAP or POP3 login (and LMTP delivery,
 * where mail_plugins has the plugin) and loads the mail plugins into it. Linked into the
 * plugin, the core's libraries (then with libldap) cost each process about 9 ms of loading and relocation
 * (bench/exec_cost.py), paid even where the plugin asks nothing: a session that opens
 * only the user's own folders (bench (c)), a delivery. Now only a process that asks the
 * core something loads it: opening or listing a shared folder (a LIST that covers the
 * shared namespace asks who shares with the user), SETACL/GETACL, a collaborator login.
 *
 * Where: the core library lives in "mailgrant/" next to the plugin's real file (the
 * installed module dir, or the build tree; a symlink to the plugin is followed). It is
 * loaded after Dovecot's mail_chroot, if one is set: the library must then exist at the
 * same path inside the chroot (mailgrant does not support chrooted mail processes).
 *
 * Without a loaded core, the functions that take no handle behave as the core does for a
 * NULL handle; the others are only ever called with a handle mailgrant_core_open()
 * returned, so the core is loaded (asserted).
 */
#ifndef _GNU_SOURCE
#  define _GNU_SOURCE /* dladdr() */
#endif
#include "lib.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "mailgrant-core.h"

#define MAILGRANT_CORE_LIBRARY "mailgrant/libmailgrant_core.so"

struct mailgrant_core_functions {
	struct mailgrant_core *(*open)(const char *, char *, size_t);
	void (*close)(struct mailgrant_core *);
	int (*log_interval)(const struct mailgrant_core *);
	int (*folder_rights)(struct mailgrant_core *, const char *, const char *, const char *, char *, size_t,
			     char *, size_t);
	int (*sharing_owners)(struct mailgrant_core *, const char *, void (*)(void *, const char *), void *,
			      char *, size_t);
	int (*folder_grantees)(struct mailgrant_core *, const char *, const char *,
			       void (*)(void *, int, const char *, const char *), void *, char *, size_t);
	int (*may_open_mailbox)(struct mailgrant_core *, const char *, const char *, char *, size_t);
	int (*root_rights)(struct mailgrant_core *, const char *, const char *, char *, size_t, char *, size_t);
	int (*team_folders)(struct mailgrant_core *, const char *, const char *,
			    void (*)(void *, const char *, const char *), void *, char *, size_t);
	int (*change_acl)(struct mailgrant_core *, const char *, const char *, const char *, const char *,
			  const char *, int, char *, size_t);
	int (*collaborator_login)(struct mailgrant_core *, const char *, const char *, const char *, const char *,
				  int *, char *, size_t);
};

static struct mailgrant_core_functions mailgrant_core_fn;
static bool mailgrant_core_loaded = FALSE;

static void mailgrant_core_error(char *error, size_t error_size, const char *text)
{
	if (error != NULL && error_size > 0)
		i_strocpy(error, text, error_size);
}

/* The core library's path: "mailgrant/" in the directory of this plugin's real file.
   NULL when that directory cannot be known: never a relative path, which dlopen() would
   look up in the process's working directory (a user's home). */
static const char *mailgrant_core_library_path(void)
{
	Dl_info info;
	char *real;
	const char *dir, *slash;

	if (dladdr((void *)mailgrant_core_library_path, &info) == 0 || info.dli_fname == NULL)
		return NULL;
	real = realpath(info.dli_fname, NULL);
	dir = real != NULL ? t_strdup(real) : t_strdup(info.dli_fname);
	free(real);
	slash = strrchr(dir, '/');
	if (*dir != '/' || slash == NULL)
		return NULL;
	return t_strdup_printf("%s/%s", t_strdup_until(dir, slash), MAILGRANT_CORE_LIBRARY);
}

#define MAILGRANT_CORE_SYMBOL(handle, name, missing) \
	((*(void **)&mailgrant_core_fn.name = dlsym(handle, "mailgrant_core_" #name)) == NULL ? \
	 ((missing) = "mailgrant_core_" #name) : NULL)

static bool mailgrant_core_load(char *error, size_t error_size)
{
	const char *path, *missing = NULL;
	void *handle;

	if (mailgrant_core_loaded)
		return TRUE;
	path = mailgrant_core_library_path();
	if (path == NULL) {
		mailgrant_core_error(error, error_size, "cannot load the mailgrant core library: "
				     "the plugin's own directory is unknown (dladdr)");
		return FALSE;
	}
	/* RTLD_LOCAL: the core's C++ symbols stay out of Dovecot's global namespace */
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		mailgrant_core_error(error, error_size, t_strdup_printf(
			"cannot load the mailgrant core library %s: %s", path, dlerror()));
		return FALSE;
	}
	MAILGRANT_CORE_SYMBOL(handle, open, missing);
	MAILGRANT_CORE_SYMBOL(handle, close, missing);
	MAILGRANT_CORE_SYMBOL(handle, log_interval, missing);
	MAILGRANT_CORE_SYMBOL(handle, folder_rights, missing);
	MAILGRANT_CORE_SYMBOL(handle, sharing_owners, missing);
	MAILGRANT_CORE_SYMBOL(handle, folder_grantees, missing);
	MAILGRANT_CORE_SYMBOL(handle, may_open_mailbox, missing);
	MAILGRANT_CORE_SYMBOL(handle, root_rights, missing);
	MAILGRANT_CORE_SYMBOL(handle, team_folders, missing);
	MAILGRANT_CORE_SYMBOL(handle, change_acl, missing);
	MAILGRANT_CORE_SYMBOL(handle, collaborator_login, missing);
	if (missing != NULL) {
		mailgrant_core_error(error, error_size, t_strdup_printf(
			"the mailgrant core library %s has no %s (a different mailgrant version?)", path, missing));
		(void)dlclose(handle);
		return FALSE;
	}
	/* kept loaded for the process's life: Dovecot keeps its plugins loaded as well */
	mailgrant_core_loaded = TRUE;
	return TRUE;
}

const char *mailgrant_core_default_config_path(void)
{
	return MAILGRANT_DEFAULT_CONFIG_PATH;
}

struct mailgrant_core *mailgrant_core_open(const char *config_path, char *error, size_t error_size)
{
	if (!mailgrant_core_load(error, error_size))
		return NULL;
	return mailgrant_core_fn.open(config_path, error, error_size);
}

void mailgrant_core_close(struct mailgrant_core *core)
{
	if (core != NULL && mailgrant_core_loaded)
		mailgrant_core_fn.close(core);
}

int mailgrant_core_log_interval(const struct mailgrant_core *core)
{
	return mailgrant_core_loaded ? mailgrant_core_fn.log_interval(core) : MAILGRANT_DEFAULT_LOG_INTERVAL;
}

/* The rest is called only with a handle mailgrant_core_open() returned: the core is loaded. */
int mailgrant_core_folder_rights(struct mailgrant_core *core, const char *login, const char *mailbox,
				 const char *folder, char *letters, size_t letters_size, char *error,
				 size_t error_size)
{
	i_assert(mailgrant_core_loaded);
	return mailgrant_core_fn.folder_rights(core, login, mailbox, folder, letters, letters_size,
					       error, error_size);
}

int mailgrant_core_sharing_owners(struct mailgrant_core *core, const char *login,
				  void (*owner_cb)(void *context, const char *owner), void *context,
				  char *error, size_t error_size)
{
	i_assert(mailgrant_core_loaded);
	return mailgrant_core_fn.sharing_owners(core, login, owner_cb, context, error, error_size);
}

int mailgrant_core_folder_grantees(struct mailgrant_core *core, const char *mailbox, const char *folder,
				   void (*grant_cb)(void *context, int is_group, const char *name,
						    const char *letters),
				   void *context, char *error, size_t error_size)
{
	i_assert(mailgrant_core_loaded);
	return mailgrant_core_fn.folder_grantees(core, mailbox, folder, grant_cb, context, error, error_size);
}

int mailgrant_core_may_open_mailbox(struct mailgrant_core *core, const char *login, const char *mailbox,
				    char *error, size_t error_size)
{
	i_assert(mailgrant_core_loaded);
	return mailgrant_core_fn.may_open_mailbox(core, login, mailbox, error, error_size);
}

int mailgrant_core_root_rights(struct mailgrant_core *core, const char *login, const char *mailbox,
			       char *letters, size_t letters_size, char *message, size_t message_size)
{
	i_assert(mailgrant_core_loaded);
	return mailgrant_core_fn.root_rights(core, login, mailbox, letters, letters_size, message, message_size);
}

int mailgrant_core_team_folders(struct mailgrant_core *core, const char *login, const char *mailbox,
				void (*folder_cb)(void *context, const char *name, const char *special_use),
				void *context, char *message, size_t message_size)
{
	i_assert(mailgrant_core_loaded);
	return mailgrant_core_fn.team_folders(core, login, mailbox, folder_cb, context, message, message_size);
}

int mailgrant_core_change_acl(struct mailgrant_core *core, const char *actor, const char *mailbox,
			      const char *folder, const char *identifier, const char *rights, int remove,
			      char *error, size_t error_size)
{
	i_assert(mailgrant_core_loaded);
	return mailgrant_core_fn.change_acl(core, actor, mailbox, folder, identifier, rights, remove,
					    error, error_size);
}

int mailgrant_core_collaborator_login(struct mailgrant_core *core, const char *service, const char *mailbox,
				      const char *grantee, const char *password, int *log_level, char *message,
				      size_t message_size)
{
	char error[256];

	/* the core decides even without a configuration (refusals needing no directory) */
	if (!mailgrant_core_load(error, sizeof(error))) {
		if (log_level != NULL)
			*log_level = MAILGRANT_LOG_ERROR;
		mailgrant_core_error(message, message_size, t_strdup_printf("temporary failure: %s", error));
		return MAILGRANT_LOGIN_TEMPORARY;
	}
	return mailgrant_core_fn.collaborator_login(core, service, mailbox, grantee, password, log_level,
						    message, message_size);
}
