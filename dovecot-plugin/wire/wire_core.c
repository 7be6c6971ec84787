/* wire_core.c -- see wire_core.h; core_abi.cpp is the model, function for function. */
#include "wire_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../mailgrant-core.h"
#include "wire_client.h"
#include "wire_namespace.h"
#include "mailgrant/folder_match.h"

struct mgw_core {
	struct mgw_client *client;
	struct mgw_namespace_memo *namespaces;
	int negative_ttl_s, ttl_s;
	int pin_per_command; /* namespaces fetched stay fresh until mgw_core_command_done */
	/* logins whose sharing dict was asked in this process (Dovecot asks it once per
	   session: acl_shared_namespaces_add, then at most hourly) */
	char *dict_asked[MGW_MAX_NAMESPACE_LOGINS];
	size_t dict_asked_count;
	time_t breaker_until;
	char breaker_reason[1024];
};

static const char *text_of(const char *s)
{
	return s != NULL ? s : "";
}

struct mgw_core *mgw_core_new(const struct mgw_config *config)
{
	struct mgw_core *core = calloc(1, sizeof(*core));

	if (core == NULL)
		return NULL;
	core->client = mgw_client_new(config->socket_path, config->timeout_ms, config->memo_ms);
	core->namespaces = mgw_namespace_memo_new(config->memo_ms);
	if (core->client == NULL || core->namespaces == NULL) {
		mgw_core_free(core);
		return NULL;
	}
	core->negative_ttl_s = config->negative_ttl_s;
	core->ttl_s = config->ttl_s;
	return core;
}

void mgw_core_free(struct mgw_core *core)
{
	if (core == NULL)
		return;
	mgw_client_free(core->client);
	mgw_namespace_memo_free(core->namespaces);
	while (core->dict_asked_count > 0)
		free(core->dict_asked[--core->dict_asked_count]);
	free(core);
}

int mgw_core_log_interval(const struct mgw_core *core)
{
	return core->ttl_s > 1 ? core->ttl_s : 1;
}

void mgw_core_pin_per_command(struct mgw_core *core, int on)
{
	core->pin_per_command = on;
}

void mgw_core_command_done(struct mgw_core *core)
{
	mgw_namespace_memo_unpin(core->namespaces);
	/* an answer asked ahead for this command is not the next command's */
	mgw_client_drop_ahead(core->client);
}

void mgw_core_forget(struct mgw_core *core)
{
	mgw_namespace_memo_forget(core->namespaces);
	mgw_client_forget(core->client);
	mgw_client_drop_ahead(core->client); /* asked before this process changed grants */
}

static int dict_asked(const struct mgw_core *core, const char *login)
{
	size_t i;

	for (i = 0; i < core->dict_asked_count; i++) {
		if (strcmp(core->dict_asked[i], login) == 0)
			return 1;
	}
	return 0;
}

/* A process with more logins than it can note asks ahead for the others' first LIST
   each time (a wasted question at worst, never a wrong answer). */
static void note_dict_asked(struct mgw_core *core, const char *login)
{
	char *copy;

	if (dict_asked(core, login) || core->dict_asked_count >= MGW_MAX_NAMESPACE_LOGINS ||
	    (copy = strdup(login)) == NULL)
		return;
	core->dict_asked[core->dict_asked_count++] = copy;
}

void mgw_core_namespace_ahead(struct mgw_core *core, const char *login)
{
	const char *fields[1] = { login };
	struct timespec now;

	/* an open breaker answers at once: nothing to overlap */
	if (login == NULL || *login == '\0' || time(NULL) < core->breaker_until)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* who reads the answer: the session's first LIST asks the sharing dict; a later one
	   fetches only a namespace kept past its freshness that lists mailboxes */
	if (dict_asked(core, login) && !mgw_namespace_memo_refetches(core->namespaces, login, &now))
		return;
	(void)mgw_ask_ahead(core->client, "namespace", fields, 1);
}

void mgw_core_ahead_counts(const struct mgw_core *core, unsigned long *used, unsigned long *dropped)
{
	mgw_client_ahead_counts(core->client, used, dropped);
}

unsigned long mgw_core_questions_sent(const struct mgw_core *core)
{
	return mgw_client_questions_sent(core->client);
}

/* The breaker is open: the call fails at once with its reason. */
static int breaker_open(struct mgw_core *core, char *error, size_t error_size)
{
	if (time(NULL) >= core->breaker_until)
		return 0;
	mgw_put(error, error_size, NULL, core->breaker_reason);
	return 1;
}

/* Asks; 0 with an ok answer in `reply`, else what the call returns (its error written,
   `reply` freed): bad input -> MAILGRANT_CORE_BAD_INPUT; temp -> -1 and the breaker
   opens; fail -> -1 (this call only). */
static int ask(struct mgw_core *core, const char *verb, const char *const *fields, size_t count,
	       struct mgw_reply *reply, char *error, size_t error_size)
{
	const char *message;

	mgw_ask(core->client, verb, fields, count, reply);
	if (reply->status == MGW_OK)
		return 0;
	message = mgw_reply_message(reply);
	switch (reply->status) {
	case MGW_BAD:
		mgw_put(error, error_size, "bad input: ", message);
		mgw_reply_free(reply);
		return MAILGRANT_CORE_BAD_INPUT;
	case MGW_TEMP: {
		int negative = core->negative_ttl_s > 1 ? core->negative_ttl_s : 1;
		core->breaker_until = time(NULL) + negative;
		mgw_put(core->breaker_reason, sizeof(core->breaker_reason), NULL, message);
		mgw_put(error, error_size, NULL, core->breaker_reason);
		break;
	}
	default:
		mgw_put(error, error_size, "internal error: ", message);
		break;
	}
	mgw_reply_free(reply);
	return -1;
}

/* The ok answer's value `index`; NULL (with the error written) when it has none. */
static const char *value(const struct mgw_reply *reply, size_t index, char *error, size_t error_size)
{
	if (index < reply->values.count)
		return reply->values.f[index];
	if (error != NULL && error_size > 0)
		snprintf(error, error_size, "internal error: answer without value %zu", index);
	return NULL;
}

/* Keeps the namespace just fetched (taken) as login's, as old as its question: an answer
   asked ahead may be read up to MGW_AHEAD_MAX_MS after it was asked for. */
static void keep_namespace(struct mgw_core *core, const char *login, struct mgw_namespace *ns)
{
	struct timespec at;

	mgw_client_asked_at(core->client, &at);
	mgw_namespace_memo_put(core->namespaces, login, ns, &at, core->pin_per_command);
}

/* Asks for login's namespace: 0 with it in *ns (the caller keeps it in the memo, which
   frees it), else the call's return. */
static int fetch_namespace(struct mgw_core *core, const char *login, struct mgw_namespace *ns, char *error,
			   size_t error_size)
{
	struct mgw_reply reply;
	char why[256];
	const char *fields[1] = { login };
	int ret = ask(core, "namespace", fields, 1, &reply, error, error_size);

	if (ret != 0)
		return ret;
	if (mgw_namespace_read(&reply, ns, why, sizeof(why)) < 0) {
		mgw_put(error, error_size, "internal error: ", why);
		return -1;
	}
	return 0;
}

/* The mailbox of login's namespace fetched within memo_ms (NULL = ask). A namespace kept
   longer than that which held the mailbox is fetched again: one question, not one per
   folder of every sharer a long LIST has still to go. *ret = an error of that fetch. */
static const struct mgw_mailbox *remembered(struct mgw_core *core, const char *login, const char *mailbox,
					    const struct mgw_namespace **ns_r, int *ret, char *error,
					    size_t error_size)
{
	const struct mgw_mailbox *found;
	struct mgw_namespace ns;
	struct timespec now;

	*ret = 0;
	if (login == NULL || mailbox == NULL)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if ((found = mgw_namespace_memo_find(core->namespaces, login, mailbox, &now, ns_r)) != NULL)
		return found;
	if (!mgw_namespace_memo_listed(core->namespaces, login, mailbox))
		return NULL;
	if ((*ret = fetch_namespace(core, login, &ns, error, error_size)) != 0)
		return NULL;
	keep_namespace(core, login, &ns);
	clock_gettime(CLOCK_MONOTONIC, &now);
	return mgw_namespace_memo_find(core->namespaces, login, mailbox, &now, ns_r);
}

int mgw_core_folder_rights(struct mgw_core *core, const char *login, const char *mailbox, const char *folder,
			   char *letters, size_t letters_size, char *error, size_t error_size)
{
	const struct mgw_namespace *ns = NULL;
	const struct mgw_mailbox *shared;
	struct mgw_reply reply;
	const char *fields[3] = { text_of(login), text_of(mailbox), text_of(folder) }, *v;
	int ret;

	mgw_put(letters, letters_size, NULL, "");
	if (breaker_open(core, error, error_size))
		return -1;
	shared = remembered(core, login, mailbox, &ns, &ret, error, error_size);
	if (ret != 0)
		return ret;
	if (shared != NULL && folder != NULL) {
		char out[sizeof(MAILGRANT_RIGHTS_LETTERS)];
		mgw_namespace_folder_letters(ns, shared, folder, out);
		mgw_put(letters, letters_size, NULL, out);
		return 0;
	}
	if ((ret = ask(core, "rights", fields, 3, &reply, error, error_size)) != 0)
		return ret;
	v = value(&reply, 0, error, error_size);
	if (v != NULL)
		mgw_put(letters, letters_size, NULL, v);
	mgw_reply_free(&reply);
	return v != NULL ? 0 : -1;
}

int mgw_core_sharing_owners(struct mgw_core *core, const char *login,
			    void (*owner_cb)(void *context, const char *owner), void *context, char *error,
			    size_t error_size)
{
	struct mgw_namespace ns;
	size_t i;
	int ret;

	note_dict_asked(core, text_of(login));
	if (breaker_open(core, error, error_size))
		return -1;
	/* the whole namespace in one question: the questions about each mailbox that
	   building and listing the namespace ask next are answered from it */
	if ((ret = fetch_namespace(core, text_of(login), &ns, error, error_size)) != 0)
		return ret;
	for (i = 0; i < ns.count; i++)
		owner_cb(context, ns.mailboxes[i].address);
	keep_namespace(core, text_of(login), &ns);
	return 0;
}

int mgw_core_folder_grantees(struct mgw_core *core, const char *mailbox, const char *folder,
			     void (*grant_cb)(void *context, int is_group, const char *name, const char *letters),
			     void *context, char *error, size_t error_size)
{
	struct mgw_reply reply;
	const char *fields[2] = { text_of(mailbox), text_of(folder) };
	size_t i;
	int ret;

	if (breaker_open(core, error, error_size))
		return -1;
	if ((ret = ask(core, "grantees", fields, 2, &reply, error, error_size)) != 0)
		return ret;
	for (i = 0; i < reply.item_count; i++) {
		const struct mgw_line *item = &reply.items[i];
		if (item->count == 3)
			grant_cb(context, strcmp(item->f[0], "1") == 0 ? 1 : 0, item->f[1], item->f[2]);
	}
	mgw_reply_free(&reply);
	return 0;
}

int mgw_core_may_open_mailbox(struct mgw_core *core, const char *login, const char *mailbox, char *error,
			      size_t error_size)
{
	struct mgw_reply reply;
	const char *fields[2] = { text_of(login), text_of(mailbox) }, *v;
	int ret;

	if (breaker_open(core, error, error_size))
		return -1;
	if ((ret = ask(core, "may_open", fields, 2, &reply, error, error_size)) != 0)
		return ret;
	v = value(&reply, 0, error, error_size);
	ret = v == NULL ? -1 : strcmp(v, "1") == 0 ? 1 : 0;
	mgw_reply_free(&reply);
	return ret;
}

/* The start both mailbox questions share: the breaker, the arguments, then the kept
   namespace. 1 = *shared_r answers (from *ns_r), 0 = ask, else the call's return. */
static int mailbox_question(struct mgw_core *core, const char *login, const char *mailbox,
			    const struct mgw_namespace **ns_r, const struct mgw_mailbox **shared_r,
			    char *message, size_t message_size)
{
	int ret;

	if (breaker_open(core, message, message_size))
		return -1;
	if (login == NULL || mailbox == NULL) {
		mgw_put(message, message_size, NULL, "bad input: missing login or mailbox");
		return MAILGRANT_CORE_BAD_INPUT;
	}
	*shared_r = remembered(core, login, mailbox, ns_r, &ret, message, message_size);
	if (ret != 0)
		return ret;
	return *shared_r != NULL ? 1 : 0;
}

/* Asks VERB login mailbox for an answer of two values (what, reason): 0 with them, the
   reason already in `message` (free `reply`), else the call's return. */
static int ask_two(struct mgw_core *core, const char *verb, const char *login, const char *mailbox,
		   struct mgw_reply *reply, const char **v0_r, char *message, size_t message_size)
{
	const char *fields[2] = { login, mailbox }, *v1;
	int ret = ask(core, verb, fields, 2, reply, message, message_size);

	if (ret != 0)
		return ret;
	*v0_r = value(reply, 0, message, message_size);
	v1 = *v0_r != NULL ? value(reply, 1, message, message_size) : NULL;
	if (v1 == NULL) {
		mgw_reply_free(reply);
		return -1;
	}
	mgw_put(message, message_size, NULL, v1);
	return 0;
}

int mgw_core_root_rights(struct mgw_core *core, const char *login, const char *mailbox, char *letters,
			 size_t letters_size, char *message, size_t message_size)
{
	const struct mgw_namespace *ns = NULL;
	const struct mgw_mailbox *shared = NULL;
	struct mgw_reply reply;
	const char *v0;
	int ret;

	mgw_put(letters, letters_size, NULL, "");
	mgw_put(message, message_size, NULL, "");
	if ((ret = mailbox_question(core, login, mailbox, &ns, &shared, message, message_size)) < 0)
		return ret;
	if (ret == 1) {
		mgw_put(letters, letters_size, NULL, shared->root_letters);
		mgw_put(message, message_size, NULL, shared->root_reason);
		return 0;
	}
	if ((ret = ask_two(core, "root", login, mailbox, &reply, &v0, message, message_size)) != 0)
		return ret;
	mgw_put(letters, letters_size, NULL, v0);
	mgw_reply_free(&reply);
	return 0;
}

int mgw_core_team_folders(struct mgw_core *core, const char *login, const char *mailbox,
			  void (*folder_cb)(void *context, const char *name, const char *special_use), void *context,
			  char *message, size_t message_size)
{
	const struct mgw_namespace *ns = NULL;
	const struct mgw_mailbox *shared = NULL;
	struct mgw_reply reply;
	const char *v0;
	size_t i;
	int ret;

	mgw_put(message, message_size, NULL, "");
	if ((ret = mailbox_question(core, login, mailbox, &ns, &shared, message, message_size)) < 0)
		return ret;
	if (ret == 1) {
		mgw_put(message, message_size, NULL, shared->team_reason);
		if (!shared->team)
			return 0;
		for (i = 0; i < shared->folder_count; i++)
			folder_cb(context, ns->folder_names[shared->folder_first + i],
				  ns->folder_uses[shared->folder_first + i]);
		return 1;
	}
	if ((ret = ask_two(core, "team", login, mailbox, &reply, &v0, message, message_size)) != 0)
		return ret;
	ret = strcmp(v0, "1") == 0 ? 1 : 0;
	for (i = 0; ret == 1 && i < reply.item_count; i++)
		if (reply.items[i].count == 2)
			folder_cb(context, reply.items[i].f[0], reply.items[i].f[1]);
	mgw_reply_free(&reply);
	return ret;
}
