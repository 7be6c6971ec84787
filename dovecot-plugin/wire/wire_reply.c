/* wire_reply.c -- the service protocol's text in C (wire_client.h): an answer read
 * strictly within its limits, and a question written with its fields escaped. No I/O:
 * unit tests and fuzz_wire_client compare it with the core's reader. */
#include "wire_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies text to out + used, cut to fit with its NUL; the new length. */
static size_t copy_cut(char *out, size_t out_size, size_t used, const char *text)
{
	size_t n = strlen(text);

	if (n > out_size - 1 - used)
		n = out_size - 1 - used;
	memcpy(out + used, text, n);
	out[used + n] = '\0';
	return used + n;
}

/* snprintf("%s%s") without its format parsing: this copies the rights letters of every
   rights refresh, several per IMAP command. */
void mgw_put(char *out, size_t out_size, const char *prefix, const char *text)
{
	if (out == NULL || out_size == 0)
		return;
	if (prefix == NULL || strncmp(text, prefix, strlen(prefix)) == 0)
		prefix = "";
	copy_cut(out, out_size, copy_cut(out, out_size, 0, prefix), text);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Unescapes [p, end) in place to a NUL-terminated field; NULL + why when not a field. */
static const char *unescape(char *p, char *end, const char **why)
{
	char *out = p, *start = p;

	for (; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		int hi, lo;
		if (c < 0x20 || c == 0x7f) {
			*why = "unescaped control character in a field";
			return NULL;
		}
		if (c != '%') {
			*out++ = (char)c;
			continue;
		}
		if (end - p < 3 || (hi = hex_value(p[1])) < 0 || (lo = hex_value(p[2])) < 0) {
			*why = "bad %XX escape";
			return NULL;
		}
		if (hi == 0 && lo == 0) {
			*why = "NUL in a field";
			return NULL;
		}
		*out++ = (char)(hi * 16 + lo);
		p += 2;
	}
	*out = '\0';
	return start;
}

void mgw_reply_free(struct mgw_reply *reply)
{
	free(reply->items);
	free(reply->storage);
	memset(reply, 0, sizeof(*reply));
}

const char *mgw_reply_message(const struct mgw_reply *reply)
{
	return reply->status != MGW_OK && reply->values.count == 1 ? reply->values.f[0] : "";
}

/* Splits one line [line, end) (no LF) into head and fields, unescaped in place. */
static int split_line(char *line, char *end, const char **head, struct mgw_line *out, const char **why)
{
	char *p = line;

	out->count = 0;
	*head = NULL;
	for (;;) {
		char *tab = memchr(p, '\t', (size_t)(end - p));
		char *stop = tab != NULL ? tab : end;
		if (*head == NULL) {
			/* compared as a C string below: a NUL inside would cut "item\0x" to "item" */
			if (memchr(p, '\0', (size_t)(stop - p)) != NULL) {
				*why = "unknown answer line";
				return -1;
			}
			*stop = '\0';
			*head = p;
		} else {
			if (out->count == MGW_MAX_FIELDS) {
				*why = "too many fields";
				return -1;
			}
			if ((out->f[out->count] = unescape(p, stop, why)) == NULL)
				return -1;
			out->count++;
		}
		if (tab == NULL)
			return 0;
		p = tab + 1;
	}
}

int mgw_parse_reply(const char *data, size_t size, struct mgw_reply *reply, char *error, size_t error_size)
{
	const char *why = NULL;
	size_t lines = 0, i, item = 0;
	char *p, *end;

	memset(reply, 0, sizeof(*reply));
	if (size > MGW_MAX_REPLY_BYTES) {
		mgw_put(error, error_size, NULL, "answer longer than 16 MiB");
		return -1;
	}
	if (size == 0 || data[size - 1] != '\n') {
		mgw_put(error, error_size, NULL, "the answer does not end with a final line");
		return -1;
	}
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (lines - 1 > MGW_MAX_REPLY_ITEMS) {
		mgw_put(error, error_size, NULL, "more than 200000 items");
		return -1;
	}
	reply->storage = malloc(size);
	reply->items = lines > 1 ? calloc(lines - 1, sizeof(*reply->items)) : NULL;
	if (reply->storage == NULL || (lines > 1 && reply->items == NULL)) {
		mgw_reply_free(reply);
		mgw_put(error, error_size, NULL, "out of memory");
		return -1;
	}
	memcpy(reply->storage, data, size);
	p = reply->storage;
	end = p + size;
	while (p < end) {
		char *lf = memchr(p, '\n', (size_t)(end - p));
		const char *head;
		struct mgw_line line;
		int last = lf + 1 == end;

		if ((size_t)(lf - p) >= MGW_MAX_REPLY_LINE_BYTES) {
			why = "answer line longer than 16 KiB";
			break;
		}
		if (split_line(p, lf, &head, &line, &why) < 0)
			break;
		p = lf + 1;
		if (strcmp(head, "item") == 0) {
			if (last) {
				why = "the answer does not end with a final line";
				break;
			}
			reply->items[item++] = line;
			continue;
		}
		if (!last) {
			why = "an answer line after the final one";
			break;
		}
		if (strcmp(head, "ok") == 0) {
			reply->status = MGW_OK;
		} else if (strcmp(head, "bad") == 0 || strcmp(head, "temp") == 0 || strcmp(head, "fail") == 0) {
			if (line.count != 1) {
				why = "a final line of bad, temp or fail takes one message";
				break;
			}
			reply->status = head[0] == 'b' ? MGW_BAD : head[0] == 't' ? MGW_TEMP : MGW_FAIL;
		} else {
			why = "unknown answer line";
			break;
		}
		reply->values = line;
		reply->item_count = item;
		return 0;
	}
	mgw_reply_free(reply);
	mgw_put(error, error_size, NULL, why != NULL ? why : "the answer does not end with a final line");
	return -1;
}

size_t mgw_format_request(const char *verb, const char *const *fields, size_t count, char *out, size_t out_size)
{
	size_t n = 0, i, limit = out_size < MGW_MAX_REQUEST_BYTES ? out_size : MGW_MAX_REQUEST_BYTES;
	const char *s;

#define MGW_PUT(c) do { if (n + 1 >= limit) return 0; out[n++] = (c); } while (0)
	for (s = verb; *s != '\0'; s++)
		MGW_PUT(*s);
	for (i = 0; i < count; i++) {
		MGW_PUT('\t');
		for (s = fields[i]; *s != '\0'; s++) {
			unsigned char c = (unsigned char)*s;
			if (c < 0x20 || c == 0x7f || c == '%') {
				static const char hex[] = "0123456789ABCDEF";
				MGW_PUT('%');
				MGW_PUT(hex[c >> 4]);
				MGW_PUT(hex[c & 15]);
			} else {
				MGW_PUT((char)c);
			}
		}
	}
	MGW_PUT('\n');
#undef MGW_PUT
	out[n] = '\0';
	return n;
}
