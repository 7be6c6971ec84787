/* wire_namespace.c -- see wire_namespace.h. */
#include "wire_namespace.h"

#include <stdlib.h>
#include <string.h>

#include "mailgrant/folder_match.h"

static int are_rights_letters(const char *text)
{
	for (; *text != '\0'; text++)
		if (strchr(MAILGRANT_RIGHTS_LETTERS, *text) == NULL)
			return 0;
	return 1;
}

static int by_address(const void *a, const void *b)
{
	return strcmp((*(struct mgw_mailbox *const *)a)->address, (*(struct mgw_mailbox *const *)b)->address);
}

void mgw_namespace_free(struct mgw_namespace *ns)
{
	mgw_reply_free(&ns->reply);
	free(ns->mailboxes);
	free(ns->by_address);
	free(ns->patterns);
	free(ns->letters);
	free(ns->folder_names);
	free(ns->folder_uses);
	memset(ns, 0, sizeof(*ns));
}

static int fail(struct mgw_namespace *ns, char *error, size_t error_size, const char *why)
{
	mgw_put(error, error_size, "namespace answer: ", why);
	mgw_namespace_free(ns);
	return -1;
}

int mgw_namespace_read(struct mgw_reply *reply, struct mgw_namespace *ns, char *error, size_t error_size)
{
	size_t n = 0, np = 0, nf = 0, i, boxes = 0;

	memset(ns, 0, sizeof(*ns));
	ns->reply = *reply;
	memset(reply, 0, sizeof(*reply));
	for (i = 0; i < ns->reply.item_count; i++) {
		const char *kind = ns->reply.items[i].count > 0 ? ns->reply.items[i].f[0] : "";
		boxes += strcmp(kind, "mailbox") == 0 || strcmp(kind, "owner") == 0;
	}
	n = ns->reply.item_count;
	ns->mailboxes = calloc(boxes + 1, sizeof(*ns->mailboxes));
	ns->by_address = calloc(boxes + 1, sizeof(*ns->by_address));
	ns->patterns = calloc(n + 1, sizeof(*ns->patterns));
	ns->letters = calloc(n + 1, sizeof(*ns->letters));
	ns->folder_names = calloc(n + 1, sizeof(*ns->folder_names));
	ns->folder_uses = calloc(n + 1, sizeof(*ns->folder_uses));
	if (ns->mailboxes == NULL || ns->by_address == NULL || ns->patterns == NULL || ns->letters == NULL ||
	    ns->folder_names == NULL || ns->folder_uses == NULL)
		return fail(ns, error, error_size, "out of memory");
	for (i = 0; i < n; i++) {
		const struct mgw_line *item = &ns->reply.items[i];
		const char *kind = item->count > 0 ? item->f[0] : "";
		struct mgw_mailbox *last = ns->count > 0 ? &ns->mailboxes[ns->count - 1] : NULL;

		if (strcmp(kind, "mailbox") == 0 && item->count == 6) {
			struct mgw_mailbox *m = &ns->mailboxes[ns->count++];
			if (item->f[1][0] == '\0')
				return fail(ns, error, error_size, "a mailbox without an address");
			if (strcmp(item->f[4], "0") != 0 && strcmp(item->f[4], "1") != 0)
				return fail(ns, error, error_size, "team is neither 0 nor 1");
			if (!are_rights_letters(item->f[2]))
				return fail(ns, error, error_size, "root rights that are not rights letters");
			m->address = item->f[1];
			m->answered = 1;
			m->root_letters = item->f[2];
			m->root_reason = item->f[3];
			m->team = item->f[4][0] == '1';
			m->team_reason = item->f[5];
			m->pattern_first = np;
			m->folder_first = nf;
			ns->by_address[ns->answered++] = m;
		} else if (strcmp(kind, "owner") == 0 && item->count == 2) {
			struct mgw_mailbox *m = &ns->mailboxes[ns->count++];
			if (item->f[1][0] == '\0')
				return fail(ns, error, error_size, "an owner without an address");
			m->address = item->f[1];
		} else if ((last == NULL || !last->answered) &&
			   (strcmp(kind, "pattern") == 0 || strcmp(kind, "folder") == 0)) {
			return fail(ns, error, error_size, "a pattern or folder before any answered mailbox");
		} else if (strcmp(kind, "pattern") == 0 && item->count == 3) {
			if (!are_rights_letters(item->f[2]))
				return fail(ns, error, error_size, "pattern rights that are not rights letters");
			ns->patterns[np] = item->f[1];
			ns->letters[np++] = item->f[2];
			last->pattern_count++;
		} else if (strcmp(kind, "folder") == 0 && item->count == 3) {
			if (!last->team)
				return fail(ns, error, error_size, "a team folder of a mailbox that is no team's");
			ns->folder_names[nf] = item->f[1];
			ns->folder_uses[nf++] = item->f[2];
			last->folder_count++;
		} else {
			return fail(ns, error, error_size, "an item of an unknown kind or with the wrong number of fields");
		}
	}
	qsort(ns->by_address, ns->answered, sizeof(*ns->by_address), by_address);
	return 0;
}

const struct mgw_mailbox *mgw_namespace_find(const struct mgw_namespace *ns, const char *address)
{
	struct mgw_mailbox key, *keyp = &key, **found;

	if (ns->answered == 0)
		return NULL;
	key.address = address;
	found = bsearch(&keyp, ns->by_address, ns->answered, sizeof(*ns->by_address), by_address);
	return found != NULL ? *found : NULL;
}

void mgw_namespace_folder_letters(const struct mgw_namespace *ns, const struct mgw_mailbox *mailbox,
				  const char *folder, char *out)
{
	mailgrant_folder_letters(ns->patterns + mailbox->pattern_first, ns->letters + mailbox->pattern_first,
				 mailbox->pattern_count, folder, out);
}

struct mgw_memo_entry {
	char *login;
	struct timespec at;
	int pinned; /* fresh until mgw_namespace_memo_unpin (at most MGW_PIN_MAX_MS) */
	struct mgw_namespace ns;
};

struct mgw_namespace_memo {
	int keep_ms;
	size_t count;
	struct mgw_memo_entry entries[MGW_MAX_NAMESPACE_LOGINS];
};

struct mgw_namespace_memo *mgw_namespace_memo_new(int keep_ms)
{
	struct mgw_namespace_memo *memo = calloc(1, sizeof(*memo));

	if (memo != NULL)
		memo->keep_ms = keep_ms;
	return memo;
}

void mgw_namespace_memo_forget(struct mgw_namespace_memo *memo)
{
	size_t i;

	for (i = 0; i < memo->count; i++) {
		free(memo->entries[i].login);
		mgw_namespace_free(&memo->entries[i].ns);
	}
	memo->count = 0;
}

void mgw_namespace_memo_free(struct mgw_namespace_memo *memo)
{
	if (memo == NULL)
		return;
	mgw_namespace_memo_forget(memo);
	free(memo);
}

static struct mgw_memo_entry *entry_of(const struct mgw_namespace_memo *memo, const char *login)
{
	size_t i;

	for (i = 0; i < memo->count; i++)
		if (strcmp(memo->entries[i].login, login) == 0)
			return (struct mgw_memo_entry *)&memo->entries[i];
	return NULL;
}

void mgw_namespace_memo_put(struct mgw_namespace_memo *memo, const char *login, struct mgw_namespace *ns,
			    const struct timespec *now, int pin)
{
	struct mgw_memo_entry *entry;

	if (memo->keep_ms <= 0) {
		mgw_namespace_free(ns);
		return;
	}
	entry = entry_of(memo, login);
	if (entry != NULL) {
		mgw_namespace_free(&entry->ns);
	} else {
		char *copy = strdup(login);
		if (copy == NULL) {
			mgw_namespace_free(ns);
			return;
		}
		if (memo->count >= MGW_MAX_NAMESPACE_LOGINS)
			mgw_namespace_memo_forget(memo);
		entry = &memo->entries[memo->count++];
		entry->login = copy;
	}
	entry->ns = *ns;
	entry->at = *now;
	entry->pinned = pin;
	memset(ns, 0, sizeof(*ns));
}

static int entry_fresh(const struct mgw_namespace_memo *memo, const struct mgw_memo_entry *entry,
		       const struct timespec *now)
{
	long age = (long)(now->tv_sec - entry->at.tv_sec) * 1000 + (now->tv_nsec - entry->at.tv_nsec) / 1000000;

	/* a pin lengthens keep_ms, never shortens it */
	return age >= 0 && age < (entry->pinned && memo->keep_ms < MGW_PIN_MAX_MS ? MGW_PIN_MAX_MS : memo->keep_ms);
}

const struct mgw_mailbox *mgw_namespace_memo_find(const struct mgw_namespace_memo *memo, const char *login,
						  const char *address, const struct timespec *now,
						  const struct mgw_namespace **ns_r)
{
	const struct mgw_memo_entry *entry = entry_of(memo, login);

	if (entry == NULL || !entry_fresh(memo, entry, now))
		return NULL;
	*ns_r = &entry->ns;
	return mgw_namespace_find(&entry->ns, address);
}

int mgw_namespace_memo_refetches(const struct mgw_namespace_memo *memo, const char *login,
				   const struct timespec *now)
{
	const struct mgw_memo_entry *entry = entry_of(memo, login);

	return entry != NULL && !entry_fresh(memo, entry, now) && entry->ns.answered > 0;
}

void mgw_namespace_memo_unpin(struct mgw_namespace_memo *memo)
{
	size_t i;

	for (i = 0; i < memo->count; i++)
		memo->entries[i].pinned = 0;
}

int mgw_namespace_memo_listed(const struct mgw_namespace_memo *memo, const char *login, const char *address)
{
	const struct mgw_memo_entry *entry = entry_of(memo, login);

	return entry != NULL && mgw_namespace_find(&entry->ns, address) != NULL;
}
