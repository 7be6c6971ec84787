/* wire_client.h -- the Dovecot plugin's C client of the per-host decision service
 * (core/include/mailgrant/service_protocol.h: one question per connection on a unix
 * socket, "item" lines, then one final ok/bad/temp/fail line; fields %XX-escaped).
 *
 * Why in C: with the service configured, a mail process only forwards questions and
 * reads answers. Doing that through the C++ core cost every new IMAP process about
 * 1.6 ms for loading libstdc++, yaml-cpp and the core and opening the configuration
 * (bench/exec_cost.py), which is what kept bench (a) and (b) of issue 19 above stock
 * Dovecot. This client decides nothing: the service answers with the core's Answers;
 * a folder's rights in a namespace answer come from folder_match.c, the core's own
 * matcher. Plain C without Dovecot's lib, so unit tests and a fuzz target run it alone.
 *
 * Limits are service_protocol.h's (a unit test checks they are the same); anything read
 * from the peer beyond them, or not in the protocol, is a protocol error: the answer is
 * then a "temp" one (shared access denied for a moment, as with LDAP down).
 */
#ifndef MAILGRANT_WIRE_CLIENT_H
#define MAILGRANT_WIRE_CLIENT_H

#include <stddef.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MGW_MAX_REQUEST_BYTES 8192u            /* one question line, LF included */
#define MGW_MAX_FIELDS 8u                      /* fields after a line's head */
#define MGW_MAX_REPLY_LINE_BYTES 16384u        /* one answer line */
#define MGW_MAX_REPLY_ITEMS 200000u            /* item lines in one answer */
#define MGW_MAX_REPLY_BYTES (16u * 1024u * 1024u)
#define MGW_MAX_MEMO 1024u                     /* answers kept per process */

enum mgw_status { MGW_OK = 0, MGW_BAD, MGW_TEMP, MGW_FAIL };

struct mgw_line {
	size_t count;
	const char *f[MGW_MAX_FIELDS];
};

struct mgw_reply {
	enum mgw_status status;
	size_t item_count;
	struct mgw_line *items;
	struct mgw_line values; /* the final line's fields: ok's values, else f[0] = why */
	char *storage;          /* every field, NUL-terminated */
};

/* A whole answer: lines ending in LF, the last one final. 0 = parsed into `reply` (free
   it with mgw_reply_free); -1 = not an answer of the protocol, `error` says why. */
int mgw_parse_reply(const char *data, size_t size, struct mgw_reply *reply, char *error, size_t error_size);
void mgw_reply_free(struct mgw_reply *reply);
/* The final line's message (bad/temp/fail) or "" */
const char *mgw_reply_message(const struct mgw_reply *reply);

/* `prefix` + `text` into `out`, cut to out_size and NUL-terminated (nothing when out is
   NULL or out_size 0); `text` alone when prefix is NULL or text already begins with it.
   Every message of the C client is written with it. */
void mgw_put(char *out, size_t out_size, const char *prefix, const char *text);

/* VERB TAB escaped fields LF into out; its length, or 0 when it would pass
   MGW_MAX_REQUEST_BYTES or out_size. */
size_t mgw_format_request(const char *verb, const char *const *fields, size_t count, char *out, size_t out_size);

struct mgw_client;

/* `socket_path` without "unix:". NULL when out of memory. */
struct mgw_client *mgw_client_new(const char *socket_path, int timeout_ms, int memo_ms);
void mgw_client_free(struct mgw_client *client);

/* Asks VERB with `fields`; always fills `reply` (free it): an unreachable, slow or
   garbled service is a MGW_TEMP answer naming the socket and the reason; a question too
   long to send is MGW_BAD. Ok answers to verbs other than "login" and "namespace" are
   reused for memo_ms. */
void mgw_ask(struct mgw_client *client, const char *verb, const char *const *fields, size_t count,
	     struct mgw_reply *reply);
/* Asking ahead: sends VERB with `fields` now and leaves the answer unread, so the service
   works on it while the process does something else (an imap process: LIST asks ahead
   for the namespace before listing the user's own folders, the shared namespace reads the
   answer after them). The mgw_ask of the same question within MGW_AHEAD_MAX_MS reads that
   answer; any other question, mgw_client_drop_ahead() or mgw_client_free() closes it
   unread. One question ahead at a time. 0 sent (or already ahead), -1 not sent (the
   mgw_ask that follows asks and reports). */
#define MGW_AHEAD_MAX_MS 1000
int mgw_ask_ahead(struct mgw_client *client, const char *verb, const char *const *fields, size_t count);
void mgw_client_drop_ahead(struct mgw_client *client);
/* When the question of the last answer read over the socket was sent (CLOCK_MONOTONIC):
   for an answer asked ahead, the time of mgw_ask_ahead, not of the read. What is kept
   from an answer is as old as this. */
void mgw_client_asked_at(const struct mgw_client *client, struct timespec *at);
/* Questions asked ahead whose answer an mgw_ask read, and those closed unread. */
void mgw_client_ahead_counts(const struct mgw_client *client, unsigned long *used, unsigned long *dropped);
/* Drops every kept answer (after this process changed grants). */
void mgw_client_forget(struct mgw_client *client);
/* Questions sent over the socket (not answered from the memo). */
unsigned long mgw_client_questions_sent(const struct mgw_client *client);

#ifdef __cplusplus
}
#endif

#endif
