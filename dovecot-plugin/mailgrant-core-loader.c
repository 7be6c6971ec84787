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
 * With the per-host service (service.listen in mailgrant.yaml, read by wire_config.c) the
 * questions do not load the core at all: wire_core.c asks the service in C, as
 * core_abi.cpp would (issue 19: the core's load cost every such process 1.6 ms). The core
 * is then loaded only for what needs it: a SETACL/DELETEACL write (after which the C
 * side forgets what it kept) and a collaborator login. A configuration the C reader does
 * not take (no service, or anything it leaves to config.cpp, errors included) goes to the
 * core as before.
 *
 * The handle the plugin holds is this file's struct mailgrant_core: either side, or both.
 * The core library's own handle (core_abi.cpp's struct of the same name; another shared
 * object) is kept in `cpp` and only ever passed back to that library.
 *
 * Without a loaded core, the functions that take no handle behave as the core does for a
 * NULL handle.
 */
#ifndef _GNU_SOURCE
#  define _GNU_SOURCE /* dladdr() */
#endif
#include "lib.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "mailgrant-core.h"
#include "wire_core.h"

#define MAILGRANT_CORE_LIBRARY "mailgrant/libmailgrant_core.so"

/* The core library's functions, over its own handle (void *: core_abi.cpp's struct). */
struct mailgrant_core_functions {
	void *(*open)(const char *, char *, size_t);
	void (*close)(void *);
	int (*log_interval)(const void *);
	int (*folder_rights)(void *, const char *, const char *, const char *, char *, size_t, char *, size_t);
	int (*sharing_owners)(void *, const char *, void (*)(void *, const char *), void *, char *, size_t);
	int (*folder_grantees)(void *, const char *, const char *, void (*)(void *, int, const char *, const char *),
			       void *, char *, size_t);
	int (*may_open_mailbox)(void *, const char *, const char *, char *, size_t);
	int (*root_rights)(void *, const char *, const char *, char *, size_t, char *, size_t);
	int (*team_folders)(void *, const char *, const char *, void (*)(void *, const char *, const char *), void *,
			    char *, size_t);
	int (*change_acl)(void *, const char *, const char *, const char *, const char *, const char *, int, char *,
			  size_t);
	int (*collaborator_login)(void *, const char *, const char *, const char *, const char *, int *, char *,
				  size_t);
};

/* The plugin's handle: the C client of the service (wire), the core library's handle
   (cpp), or both (the core opened later for a write or a login). */
struct mailgrant_core {
	struct mgw_core *wire;
	void *cpp;
	char *config_path;
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

/* The core library's handle, opened now if the service's C client was enough so far. */
static void *mailgrant_core_cpp(struct mailgrant_core *core, char *error, size_t error_size)
{
	if (core->cpp == NULL && mailgrant_core_load(error, error_size))
		core->cpp = mailgrant_core_fn.open(core->config_path, error, error_size);
	return core->cpp;
}

struct mailgrant_core *mailgrant_core_open(const char *config_path, char *error, size_t error_size)
{
	struct mailgrant_core *core = i_new(struct mailgrant_core, 1);
	struct mgw_config config;
	char why[256];

	core->config_path = i_strdup(config_path != NULL ? config_path : MAILGRANT_DEFAULT_CONFIG_PATH);
	if (mgw_config_read(core->config_path, &config, why, sizeof(why)) == 1 &&
	    (core->wire = mgw_core_new(&config)) != NULL)
		return core;
	if (mailgrant_core_cpp(core, error, error_size) == NULL) {
		i_free(core->config_path);
		i_free(core);
		return NULL;
	}
	return core;
}

void mailgrant_core_close(struct mailgrant_core *core)
{
	if (core == NULL)
		return;
	if (core->cpp != NULL)
		mailgrant_core_fn.close(core->cpp);
	mgw_core_free(core->wire);
	i_free(core->config_path);
	i_free(core);
}

void mailgrant_core_pin_per_command(struct mailgrant_core *core)
{
	if (core != NULL && core->wire != NULL)
		mgw_core_pin_per_command(core->wire, 1);
}

void mailgrant_core_command_done(struct mailgrant_core *core)
{
	if (core != NULL && core->wire != NULL)
		mgw_core_command_done(core->wire);
}

void mailgrant_core_namespace_ahead(struct mailgrant_core *core, const char *login)
{
	if (core != NULL && core->wire != NULL)
		mgw_core_namespace_ahead(core->wire, login);
}

void mailgrant_core_ahead_counts(const struct mailgrant_core *core, unsigned long *used, unsigned long *dropped)
{
	*used = *dropped = 0;
	if (core != NULL && core->wire != NULL)
		mgw_core_ahead_counts(core->wire, used, dropped);
}

int mailgrant_core_log_interval(const struct mailgrant_core *core)
{
	if (core != NULL && core->wire != NULL)
		return mgw_core_log_interval(core->wire);
	return mailgrant_core_loaded ? mailgrant_core_fn.log_interval(core != NULL ? core->cpp : NULL)
				     : MAILGRANT_DEFAULT_LOG_INTERVAL;
}

/* The rest is called only with a handle mailgrant_core_open() returned: without the C
   client, the core is loaded and open (asserted). */
int mailgrant_core_folder_rights(struct mailgrant_core *core, const char *login, const char *mailbox,
				 const char *folder, char *letters, size_t letters_size, char *error,
				 size_t error_size)
{
	if (core->wire != NULL)
		return mgw_core_folder_rights(core->wire, login, mailbox, folder, letters, letters_size, error,
					      error_size);
	i_assert(core->cpp != NULL);
	return mailgrant_core_fn.folder_rights(core->cpp, login, mailbox, folder, letters, letters_size,
					       error, error_size);
}

int mailgrant_core_sharing_owners(struct mailgrant_core *core, const char *login,
				  void (*owner_cb)(void *context, const char *owner), void *context,
				  char *error, size_t error_size)
{
	if (core->wire != NULL)
		return mgw_core_sharing_owners(core->wire, login, owner_cb, context, error, error_size);
	i_assert(core->cpp != NULL);
	return mailgrant_core_fn.sharing_owners(core->cpp, login, owner_cb, context, error, error_size);
}

int mailgrant_core_folder_grantees(struct mailgrant_core *core, const char *mailbox, const char *folder,
				   void (*grant_cb)(void *context, int is_group, const char *name,
						    const char *letters),
				   void *context, char *error, size_t error_size)
{
	if (core->wire != NULL)
		return mgw_core_folder_grantees(core->wire, mailbox, folder, grant_cb, context, error, error_size);
	i_assert(core->cpp != NULL);
	return mailgrant_core_fn.folder_grantees(core->cpp, mailbox, folder, grant_cb, context, error, error_size);
}

int mailgrant_core_may_open_mailbox(struct mailgrant_core *core, const char *login, const char *mailbox,
				    char *error, size_t error_size)
{
	if (core->wire != NULL)
		return mgw_core_may_open_mailbox(core->wire, login, mailbox, error, error_size);
	i_assert(core->cpp != NULL);
	return mailgrant_core_fn.may_open_mailbox(core->cpp, login, mailbox, error, error_size);
}

int mailgrant_core_root_rights(struct mailgrant_core *core, const char *login, const char *mailbox,
			       char *letters, size_t letters_size, char *message, size_t message_size)
{
	if (core->wire != NULL)
		return mgw_core_root_rights(core->wire, login, mailbox, letters, letters_size, message, message_size);
	i_assert(core->cpp != NULL);
	return mailgrant_core_fn.root_rights(core->cpp, login, mailbox, letters, letters_size, message,
					     message_size);
}

int mailgrant_core_team_folders(struct mailgrant_core *core, const char *login, const char *mailbox,
				void (*folder_cb)(void *context, const char *name, const char *special_use),
				void *context, char *message, size_t message_size)
{
	if (core->wire != NULL)
		return mgw_core_team_folders(core->wire, login, mailbox, folder_cb, context, message, message_size);
	i_assert(core->cpp != NULL);
	return mailgrant_core_fn.team_folders(core->cpp, login, mailbox, folder_cb, context, message,
					      message_size);
}

int mailgrant_core_change_acl(struct mailgrant_core *core, const char *actor, const char *mailbox,
			      const char *folder, const char *identifier, const char *rights, int remove,
			      char *error, size_t error_size)
{
	int ret;

	/* the write is the core's (SelfService over LDAP); with the service it also tells the
	   service to empty its cache */
	if (mailgrant_core_cpp(core, error, error_size) == NULL)
		return -1;
	ret = mailgrant_core_fn.change_acl(core->cpp, actor, mailbox, folder, identifier, rights, remove,
					   error, error_size);
	if (ret == 0 && core->wire != NULL)
		mgw_core_forget(core->wire); /* the actor's next look shows the change */
	return ret;
}

int mailgrant_core_collaborator_login(struct mailgrant_core *core, const char *service, const char *mailbox,
				      const char *grantee, const char *password, int *log_level, char *message,
				      size_t message_size)
{
	char error[256];
	void *cpp = NULL;

	/* the core decides even without a configuration (refusals needing no directory) */
	if (!mailgrant_core_load(error, sizeof(error)) ||
	    (core != NULL && (cpp = mailgrant_core_cpp(core, error, sizeof(error))) == NULL)) {
		if (log_level != NULL)
			*log_level = MAILGRANT_LOG_ERROR;
		mailgrant_core_error(message, message_size, t_strdup_printf("temporary failure: %s", error));
		return MAILGRANT_LOGIN_TEMPORARY;
	}
	return mailgrant_core_fn.collaborator_login(cpp, service, mailbox, grantee, password, log_level,
						    message, message_size);
}
