/* wire_client.c -- see wire_client.h: asking the service. A non-blocking unix socket and
 * poll() against one deadline (service.timeout_ms) for connect, write and read, as
 * service_client.cpp does, and the answers kept for service.memo_ms. The text of
 * questions and answers is wire_reply.c's. */
#ifndef _GNU_SOURCE
#  define _GNU_SOURCE
#endif
#include "wire_client.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct mgw_memo {
	char *question;
	char *answer;
	size_t answer_size;
	struct timespec at;
};

/* A question sent before it is needed (mgw_ask_ahead): its connection, not yet read. */
struct mgw_ahead {
	int fd; /* -1 = none */
	char *question;
	struct timespec at;
};

struct mgw_client {
	char *path;
	int timeout_ms, memo_ms;
	struct mgw_memo *memo;
	size_t memo_count;
	unsigned long sent, ahead_used, ahead_dropped;
	struct mgw_ahead ahead;
	struct timespec asked_at; /* when the last answer read was asked for */
};

struct mgw_client *mgw_client_new(const char *socket_path, int timeout_ms, int memo_ms)
{
	struct mgw_client *client = calloc(1, sizeof(*client));

	if (client == NULL || (client->path = strdup(socket_path)) == NULL) {
		free(client);
		return NULL;
	}
	client->timeout_ms = timeout_ms;
	client->memo_ms = memo_ms;
	client->ahead.fd = -1;
	return client;
}

void mgw_client_forget(struct mgw_client *client)
{
	size_t i;

	for (i = 0; i < client->memo_count; i++) {
		free(client->memo[i].question);
		free(client->memo[i].answer);
	}
	free(client->memo);
	client->memo = NULL;
	client->memo_count = 0;
}

void mgw_client_free(struct mgw_client *client)
{
	if (client == NULL)
		return;
	mgw_client_forget(client);
	mgw_client_drop_ahead(client);
	free(client->path);
	free(client);
}

unsigned long mgw_client_questions_sent(const struct mgw_client *client)
{
	return client->sent;
}

static long ms_since(const struct timespec *then, const struct timespec *now)
{
	return (long)(now->tv_sec - then->tv_sec) * 1000 + (now->tv_nsec - then->tv_nsec) / 1000000;
}

/* Waits until fd is ready for `events` or the deadline passes: 1 ready, 0 timed out,
   -1 poll failed. */
static int wait_ready(int fd, short events, const struct timespec *deadline)
{
	for (;;) {
		struct timespec now;
		struct pollfd p = { .fd = fd, .events = events };
		long left;
		int n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = -ms_since(deadline, &now);
		if (left <= 0)
			return 0;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* Does the buffer [data, data+size) hold a final line yet? Scans from *scanned. */
static int has_final_line(const char *data, size_t size, size_t *scanned)
{
	while (*scanned < size) {
		const char *lf = memchr(data + *scanned, '\n', size - *scanned);
		size_t start = *scanned;
		if (lf == NULL)
			return 0;
		*scanned = (size_t)(lf - data) + 1;
		if (!(lf - (data + start) >= 4 && memcmp(data + start, "item", 4) == 0 &&
		      (lf - (data + start) == 4 || data[start + 4] == '\t')))
			return 1;
	}
	return 0;
}

/* service.timeout_ms from now: the one deadline of an exchange. */
static void deadline_from_now(const struct mgw_client *client, struct timespec *deadline)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += client->timeout_ms / 1000;
	deadline->tv_nsec += (long)(client->timeout_ms % 1000) * 1000000;
	if (deadline->tv_nsec >= 1000000000) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000;
	}
}

/* Connects and writes the question: 0 with the connection in *fd_r, -1 with why. */
static int send_question(struct mgw_client *client, const char *question, size_t question_size,
			 const struct timespec *deadline, int *fd_r, char *why, size_t why_size)
{
	struct sockaddr_un addr;
	size_t done = 0;
	int fd, ready;

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (strlen(client->path) >= sizeof(addr.sun_path)) {
		mgw_put(why, why_size, NULL, "socket path too long");
		return -1;
	}
	memcpy(addr.sun_path, client->path, strlen(client->path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(why, why_size, "socket: %s", strerror(errno));
		return -1;
	}
	client->sent++;
	if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) != 0) {
		/* a full backlog (EAGAIN) means the service is overloaded: no waiting for it */
		if (errno != EINPROGRESS) {
			snprintf(why, why_size, "connect: %s", strerror(errno));
			goto fail;
		}
		if ((ready = wait_ready(fd, POLLOUT, deadline)) <= 0) {
			snprintf(why, why_size, "connect: %s", ready == 0 ? "timed out" : strerror(errno));
			goto fail;
		}
	}
	while (done < question_size) {
		ssize_t n;
		if ((ready = wait_ready(fd, POLLOUT, deadline)) <= 0) {
			snprintf(why, why_size, "write: %s", ready == 0 ? "timed out" : strerror(errno));
			goto fail;
		}
		n = send(fd, question + done, question_size - done, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(why, why_size, "write: %s", strerror(errno));
			goto fail;
		}
		if (n > 0)
			done += (size_t)n;
	}
	*fd_r = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

/* Reads the answer on fd (closed here) until its final line: 0 with the answer's bytes
   in *answer (malloc'd), -1 with why. */
static int read_answer(int fd, const struct timespec *deadline, char **answer, size_t *answer_size, char *why,
		       size_t why_size)
{
	size_t size = 0, capacity = 0, scanned = 0;
	char *buffer = NULL;
	int ready;

	for (;;) {
		ssize_t n;
		if (has_final_line(buffer, size, &scanned))
			break;
		if (size - (scanned < size ? scanned : size) >= MGW_MAX_REPLY_LINE_BYTES) {
			mgw_put(why, why_size, NULL, "answer line longer than 16 KiB");
			goto fail;
		}
		if (capacity - size < 16384) {
			size_t grown = capacity == 0 ? 65536 : capacity * 2;
			char *bigger;
			if (grown > MGW_MAX_REPLY_BYTES + 16384) {
				mgw_put(why, why_size, NULL, "answer longer than 16 MiB");
				goto fail;
			}
			if ((bigger = realloc(buffer, grown)) == NULL) {
				mgw_put(why, why_size, NULL, "out of memory");
				goto fail;
			}
			buffer = bigger;
			capacity = grown;
		}
		if ((ready = wait_ready(fd, POLLIN, deadline)) <= 0) {
			snprintf(why, why_size, "%s", ready == 0 ? "no answer within service.timeout_ms" : strerror(errno));
			goto fail;
		}
		n = recv(fd, buffer + size, capacity - size, 0);
		if (n == 0) {
			mgw_put(why, why_size, NULL, "connection closed before the answer ended");
			goto fail;
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			snprintf(why, why_size, "read: %s", strerror(errno));
			goto fail;
		}
		size += (size_t)n;
	}
	close(fd);
	*answer = buffer;
	*answer_size = scanned; /* bytes after the final line are not the answer's */
	return 0;
fail:
	free(buffer);
	close(fd);
	return -1;
}

/* One exchange: 0 with the answer's bytes in *answer (malloc'd), -1 with why. A question
   asked ahead (the same text) is read instead of asked again. */
static int exchange(struct mgw_client *client, const char *question, size_t question_size, char **answer,
		    size_t *answer_size, char *why, size_t why_size)
{
	struct timespec deadline;
	int fd;

	if (client->ahead.fd >= 0) {
		struct timespec now;
		long age;
		clock_gettime(CLOCK_MONOTONIC, &now);
		age = ms_since(&client->ahead.at, &now);
		if (strcmp(client->ahead.question, question) == 0 && age >= 0 && age < MGW_AHEAD_MAX_MS) {
			fd = client->ahead.fd;
			/* the wait starts now: however long the process worked since it asked (a
			   large private folder tree), the answer gets service.timeout_ms */
			deadline_from_now(client, &deadline);
			client->asked_at = client->ahead.at;
			client->ahead.fd = -1;
			free(client->ahead.question);
			client->ahead.question = NULL;
			client->ahead_used++;
			return read_answer(fd, &deadline, answer, answer_size, why, why_size);
		}
		mgw_client_drop_ahead(client); /* another question, or too old to be this one's answer */
	}
	clock_gettime(CLOCK_MONOTONIC, &client->asked_at);
	deadline_from_now(client, &deadline);
	if (send_question(client, question, question_size, &deadline, &fd, why, why_size) < 0)
		return -1;
	return read_answer(fd, &deadline, answer, answer_size, why, why_size);
}

int mgw_ask_ahead(struct mgw_client *client, const char *verb, const char *const *fields, size_t count)
{
	char question[MGW_MAX_REQUEST_BYTES + 1], why[512];
	size_t question_size = mgw_format_request(verb, fields, count, question, sizeof(question));
	struct timespec deadline;
	int fd;

	if (question_size == 0)
		return -1; /* mgw_ask will say why */
	if (client->ahead.fd >= 0 && strcmp(client->ahead.question, question) == 0)
		return 0;
	mgw_client_drop_ahead(client);
	if ((client->ahead.question = strdup(question)) == NULL)
		return -1;
	deadline_from_now(client, &deadline);
	/* an unreachable service is said by the mgw_ask that follows, with the same why */
	if (send_question(client, question, question_size, &deadline, &fd, why, sizeof(why)) < 0) {
		free(client->ahead.question);
		client->ahead.question = NULL;
		return -1;
	}
	client->ahead.fd = fd;
	clock_gettime(CLOCK_MONOTONIC, &client->ahead.at);
	return 0;
}

void mgw_client_drop_ahead(struct mgw_client *client)
{
	if (client->ahead.fd >= 0) {
		close(client->ahead.fd);
		client->ahead.fd = -1;
		client->ahead_dropped++;
	}
	free(client->ahead.question);
	client->ahead.question = NULL;
}

void mgw_client_asked_at(const struct mgw_client *client, struct timespec *at)
{
	*at = client->asked_at;
}

void mgw_client_ahead_counts(const struct mgw_client *client, unsigned long *used, unsigned long *dropped)
{
	*used = client->ahead_used;
	*dropped = client->ahead_dropped;
}

/* A "temp" (or "bad") answer made here, in the protocol's own form. */
static void local_answer(const char *head, const char *message, struct mgw_reply *reply)
{
	char line[1024];
	const char *fields[1] = { message };
	size_t n = mgw_format_request(head, fields, 1, line, sizeof(line));

	if (n == 0 || mgw_parse_reply(line, n, reply, NULL, 0) < 0) {
		n = mgw_format_request(head, (const char *const[]){ "mailgrant service: internal error" }, 1, line,
				       sizeof(line));
		(void)mgw_parse_reply(line, n, reply, NULL, 0);
		reply->status = head[0] == 'b' ? MGW_BAD : MGW_TEMP; /* never OK, even out of memory */
	}
}

static void memo_put(struct mgw_client *client, const char *question, const char *answer, size_t answer_size,
		     const struct timespec *now)
{
	struct mgw_memo entry;

	if (client->memo_count >= MGW_MAX_MEMO)
		mgw_client_forget(client);
	if (client->memo == NULL && (client->memo = calloc(MGW_MAX_MEMO, sizeof(*client->memo))) == NULL)
		return;
	entry.question = strdup(question);
	entry.answer = malloc(answer_size);
	if (entry.question == NULL || entry.answer == NULL) {
		free(entry.question);
		free(entry.answer);
		return;
	}
	memcpy(entry.answer, answer, answer_size);
	entry.answer_size = answer_size;
	entry.at = *now;
	client->memo[client->memo_count++] = entry;
}

static struct mgw_memo *memo_find(struct mgw_client *client, const char *question, const struct timespec *now)
{
	size_t i;

	for (i = 0; i < client->memo_count; i++) {
		struct mgw_memo *m = &client->memo[i];
		long age;
		if (strcmp(m->question, question) != 0)
			continue;
		age = ms_since(&m->at, now);
		if (age >= 0 && age < client->memo_ms)
			return m;
		/* stale: replaced by the answer asked for now */
		free(m->question);
		free(m->answer);
		*m = client->memo[--client->memo_count];
		return NULL;
	}
	return NULL;
}

void mgw_ask(struct mgw_client *client, const char *verb, const char *const *fields, size_t count,
	     struct mgw_reply *reply)
{
	char question[MGW_MAX_REQUEST_BYTES + 1], why[512], error[256], message[1024];
	char *answer = NULL;
	size_t question_size, answer_size = 0;
	struct timespec now;
	struct mgw_memo *kept;
	int memoize = client->memo_ms > 0 && strcmp(verb, "login") != 0 && strcmp(verb, "namespace") != 0;

	question_size = mgw_format_request(verb, fields, count, question, sizeof(question));
	if (question_size == 0) {
		local_answer("bad", "bad input: question longer than 8 KiB", reply);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (memoize && (kept = memo_find(client, question, &now)) != NULL &&
	    mgw_parse_reply(kept->answer, kept->answer_size, reply, NULL, 0) == 0)
		return;
	if (exchange(client, question, question_size, &answer, &answer_size, why, sizeof(why)) < 0) {
		snprintf(message, sizeof(message), "mailgrant service unix:%s: %s", client->path, why);
		local_answer("temp", message, reply);
		return;
	}
	if (mgw_parse_reply(answer, answer_size, reply, error, sizeof(error)) < 0) {
		snprintf(message, sizeof(message), "mailgrant service unix:%s: %s", client->path, error);
		free(answer);
		local_answer("temp", message, reply);
		return;
	}
	if (memoize && reply->status == MGW_OK)
		memo_put(client, question, answer, answer_size, &now);
	free(answer);
}
