/* folder_match.c -- see folder_match.h. */
#include "mailgrant/folder_match.h"

#include <stdlib.h>
#include <string.h>

/* Patterns and folders longer than this never match (LDAP values and IMAP names are far
   shorter; the bound keeps the automaton's memory small). */
#define MAILGRANT_MATCH_MAX_LEN 65536

struct automaton {
	const char *p;
	size_t n;
	int inbox; /* the pattern's first 5 bytes are "INBOX" in any case, then end or '/' */
	unsigned char *live, *next;
};

static int is_wildcard(char c)
{
	return c == '*' || c == '%';
}

/* "inbox", "Inbox/Sub": the first five bytes are compared as "INBOX". */
static int inbox_head(const char *s, size_t len)
{
	static const char inbox[] = "INBOX";
	size_t i;

	if (len < 5 || (len > 5 && s[5] != MAILGRANT_FOLDER_SEPARATOR))
		return 0;
	for (i = 0; i < 5; i++) {
		char c = s[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c != inbox[i])
			return 0;
	}
	return 1;
}

static char pattern_at(const struct automaton *a, size_t i)
{
	return a->inbox && i < 5 ? "INBOX"[i] : a->p[i];
}

static void close_wildcards(struct automaton *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (a->live[i] && is_wildcard(pattern_at(a, i)))
			a->live[i + 1] = 1;
}

static int automaton_init(struct automaton *a, const char *pattern, size_t len)
{
	if (len > MAILGRANT_MATCH_MAX_LEN)
		return 0;
	a->p = pattern;
	a->n = len;
	a->inbox = inbox_head(pattern, len);
	a->live = calloc(2 * (len + 1), 1);
	if (a->live == NULL)
		return 0;
	a->next = a->live + len + 1;
	a->live[0] = 1;
	close_wildcards(a);
	return 1;
}

static void automaton_step(struct automaton *a, char c)
{
	unsigned char *swap;
	size_t i;

	memset(a->next, 0, a->n + 1);
	for (i = 0; i < a->n; i++) {
		char pc;
		if (!a->live[i])
			continue;
		pc = pattern_at(a, i);
		if (pc == '*' || (pc == '%' && c != MAILGRANT_FOLDER_SEPARATOR))
			a->next[i] = 1;
		else if (!is_wildcard(pc) && pc == c)
			a->next[i + 1] = 1;
	}
	swap = a->live;
	a->live = a->next;
	a->next = swap;
	close_wildcards(a);
}

static void automaton_feed(struct automaton *a, const char *text, size_t len)
{
	int inbox = inbox_head(text, len);
	size_t i;

	for (i = 0; i < len; i++)
		automaton_step(a, inbox && i < 5 ? "INBOX"[i] : text[i]);
}

static void automaton_free(struct automaton *a)
{
	/* live and next share one allocation; free whichever is its start */
	free(a->live < a->next ? a->live : a->next);
}

int mailgrant_folder_matches(const char *pattern, size_t pattern_len, const char *folder, size_t folder_len)
{
	struct automaton a;
	int accepted;

	if (folder_len > MAILGRANT_MATCH_MAX_LEN || !automaton_init(&a, pattern, pattern_len))
		return 0;
	automaton_feed(&a, folder, folder_len);
	accepted = a.live[a.n];
	automaton_free(&a);
	return accepted;
}

int mailgrant_pattern_may_match_below(const char *pattern, size_t pattern_len, const char *parent,
				      size_t parent_len)
{
	struct automaton a;
	int longer = 0;
	size_t i;

	if (parent_len > MAILGRANT_MATCH_MAX_LEN || !automaton_init(&a, pattern, pattern_len))
		return 0;
	automaton_feed(&a, parent, parent_len);
	automaton_step(&a, MAILGRANT_FOLDER_SEPARATOR);
	/* a live position before the end can consume more */
	for (i = 0; i < a.n && !longer; i++)
		longer = a.live[i];
	automaton_free(&a);
	return longer;
}

void mailgrant_folder_letters(const char *const *patterns, const char *const *letters, size_t count,
			      const char *folder, char *out)
{
	static const char order[] = MAILGRANT_RIGHTS_LETTERS;
	int given[sizeof(order)] = {0};
	size_t folder_len = strlen(folder), i, n = 0;

	for (i = 0; i < count; i++) {
		const char *l;
		if (!mailgrant_folder_matches(patterns[i], strlen(patterns[i]), folder, folder_len))
			continue;
		for (l = letters[i]; *l != '\0'; l++) {
			const char *at = strchr(order, *l);
			if (at != NULL)
				given[at - order] = 1;
		}
	}
	for (i = 0; i + 1 < sizeof(order); i++)
		if (given[i])
			out[n++] = order[i];
	out[n] = '\0';
}
