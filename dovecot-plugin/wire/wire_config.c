/* wire_config.c -- see wire_config.h.
 *
 * libyaml is loaded with dlopen() at the first read, not linked into the plugin: every
 * IMAP, POP3 and LMTP process loads the plugin, and most never ask mailgrant anything
 * (bench (c): a user's own mailbox). Linked, its mapping cost each of them about 0.1 ms.
 */
#include "wire_config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "mailgrant/config_service.h"
#include "wire_client.h" /* mgw_put */

#define MGW_LIBYAML "libyaml-0.so.2" /* Debian's libyaml-0-2, bookworm and trixie */

static const char *const service_keys[] = { MAILGRANT_SERVICE_KEYS };
static const char *const cache_keys[] = { MAILGRANT_CACHE_KEYS };

static struct {
	int (*parser_initialize)(yaml_parser_t *);
	void (*parser_set_input_string)(yaml_parser_t *, const unsigned char *, size_t);
	int (*parser_load)(yaml_parser_t *, yaml_document_t *);
	void (*parser_delete)(yaml_parser_t *);
	yaml_node_t *(*document_get_node)(yaml_document_t *, int);
	yaml_node_t *(*document_get_root_node)(yaml_document_t *);
	void (*document_delete)(yaml_document_t *);
} yaml;
static int yaml_loaded;

#define MGW_YAML_SYMBOL(handle, name) \
	((*(void **)&yaml.name = dlsym(handle, "yaml_" #name)) != NULL)

/* 1 when libyaml's functions are there (kept loaded for the process's life). */
static int load_libyaml(void)
{
	void *handle;

	if (yaml_loaded)
		return 1;
	handle = NULL;
#ifdef MGW_LIBYAML_PATH
	/* Where the build found it: no search of ld.so.cache (an mmap, a lookup and a
	   munmap in every mail process that asks; about 70 us here). The name alone is
	   the fallback, for a library that moved since the build. */
	handle = dlopen(MGW_LIBYAML_PATH, RTLD_NOW | RTLD_LOCAL);
#endif
	if (handle == NULL)
		handle = dlopen(MGW_LIBYAML, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL)
		return 0;
	if (!MGW_YAML_SYMBOL(handle, parser_initialize) || !MGW_YAML_SYMBOL(handle, parser_set_input_string) ||
	    !MGW_YAML_SYMBOL(handle, parser_load) || !MGW_YAML_SYMBOL(handle, parser_delete) ||
	    !MGW_YAML_SYMBOL(handle, document_get_node) || !MGW_YAML_SYMBOL(handle, document_get_root_node) ||
	    !MGW_YAML_SYMBOL(handle, document_delete)) {
		(void)dlclose(handle);
		return 0;
	}
	yaml_loaded = 1;
	return 1;
}

/* Leaves the file to config.cpp: 0, with the reason in `why`. */
static int leave(char *why, size_t why_size, const char *text)
{
	mgw_put(why, why_size, NULL, text);
	return 0;
}

static int is_scalar(const yaml_node_t *node, const char *text)
{
	return node != NULL && node->type == YAML_SCALAR_NODE &&
	       node->data.scalar.length == strlen(text) &&
	       memcmp(node->data.scalar.value, text, node->data.scalar.length) == 0;
}

/* The value of `key` in the mapping `map` (NULL = absent); *twice = it appears twice. */
static yaml_node_t *lookup(yaml_document_t *doc, yaml_node_t *map, const char *key, int *twice)
{
	yaml_node_pair_t *pair;
	yaml_node_t *found = NULL;

	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		if (!is_scalar(yaml.document_get_node(doc, pair->key), key))
			continue;
		if (found != NULL)
			*twice = 1;
		found = yaml.document_get_node(doc, pair->value);
	}
	return found;
}

/* A plain (untagged, unquoted-or-quoted) decimal integer within [min, max]. */
static int integer(yaml_node_t *node, int min, int max, int *out)
{
	const char *p;
	char text[16];
	long value;
	size_t i;

	if (node->type != YAML_SCALAR_NODE || node->data.scalar.length == 0 ||
	    node->data.scalar.length >= sizeof(text) ||
	    node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	memcpy(text, node->data.scalar.value, node->data.scalar.length);
	text[node->data.scalar.length] = '\0';
	for (i = 0, p = text; *p != '\0'; p++, i++)
		if (*p < '0' || *p > '9')
			return 0;
	if (i > 1 && text[0] == '0')
		return 0; /* YAML 1.1 reads it as octal; config.cpp's reading decides */
	value = strtol(text, NULL, 10);
	if (value < min || value > max)
		return 0;
	*out = (int)value;
	return 1;
}

/* 1 when every key of `section` (absent: none) is one of `keys`. */
static int only_known_keys(yaml_document_t *doc, yaml_node_t *section, const char *const *keys, size_t count)
{
	yaml_node_pair_t *pair;
	size_t i;

	if (section == NULL)
		return 1;
	for (pair = section->data.mapping.pairs.start; pair < section->data.mapping.pairs.top; pair++) {
		yaml_node_t *key = yaml.document_get_node(doc, pair->key);
		for (i = 0; i < count && !is_scalar(key, keys[i]); i++)
			;
		if (i == count)
			return 0;
	}
	return 1;
}

/* Reads `key` of `section` into *out if present; 0 when it is there but not plain. */
static int section_integer(yaml_document_t *doc, yaml_node_t *section, const char *key, int min, int max,
			   int *out, int *twice)
{
	yaml_node_t *value = section != NULL ? lookup(doc, section, key, twice) : NULL;

	return value == NULL || integer(value, min, max, out);
}

/* The mapping under `key` of the root, NULL when absent or empty; *ok = 0 when it is
   something else (config.cpp says what). */
static yaml_node_t *section_of(yaml_document_t *doc, yaml_node_t *root, const char *key, int *ok, int *twice)
{
	yaml_node_t *node = lookup(doc, root, key, twice);

	if (node == NULL || (node->type == YAML_SCALAR_NODE && node->data.scalar.length == 0))
		return NULL;
	if (node->type != YAML_MAPPING_NODE)
		*ok = 0;
	return node->type == YAML_MAPPING_NODE ? node : NULL;
}

static int parse_document(yaml_document_t *doc, struct mgw_config *out, char *why, size_t why_size)
{
	yaml_node_t *root = yaml.document_get_root_node(doc), *service, *cache, *listen;
	int ok = 1, twice = 0;

	if (root == NULL || root->type != YAML_MAPPING_NODE)
		return leave(why, why_size, "not a mapping");
	service = section_of(doc, root, "service", &ok, &twice);
	cache = section_of(doc, root, "cache", &ok, &twice);
	if (!ok || twice)
		return leave(why, why_size, "service: or cache: is not a plain mapping");
	if (!only_known_keys(doc, service, service_keys, sizeof(service_keys) / sizeof(service_keys[0])) ||
	    !only_known_keys(doc, cache, cache_keys, sizeof(cache_keys) / sizeof(cache_keys[0])))
		return leave(why, why_size, "a key in service: or cache: that config.cpp does not read");
	listen = service != NULL ? lookup(doc, service, "listen", &twice) : NULL;
	if (listen == NULL || listen->type != YAML_SCALAR_NODE || listen->data.scalar.length == 0)
		return leave(why, why_size, "no service.listen: this process asks LDAP itself");
	if (listen->data.scalar.length > MAILGRANT_SERVICE_LISTEN_MAX || listen->data.scalar.length <= 6 ||
	    memcmp(listen->data.scalar.value, "unix:/", 6) != 0 ||
	    memchr(listen->data.scalar.value, '\0', listen->data.scalar.length) != NULL)
		return leave(why, why_size, "service.listen is not unix:/PATH");
	memcpy(out->socket_path, listen->data.scalar.value + 5, listen->data.scalar.length - 5);
	out->socket_path[listen->data.scalar.length - 5] = '\0';
	out->timeout_ms = MAILGRANT_SERVICE_TIMEOUT_MS_DEFAULT;
	out->memo_ms = MAILGRANT_SERVICE_MEMO_MS_DEFAULT;
	out->ttl_s = MAILGRANT_CACHE_TTL_S_DEFAULT;
	out->negative_ttl_s = MAILGRANT_CACHE_NEGATIVE_TTL_S_DEFAULT;
	if (!section_integer(doc, service, "timeout_ms", MAILGRANT_SERVICE_TIMEOUT_MS_MIN,
			     MAILGRANT_SERVICE_TIMEOUT_MS_MAX, &out->timeout_ms, &twice) ||
	    !section_integer(doc, service, "memo_ms", MAILGRANT_SERVICE_MEMO_MS_MIN, MAILGRANT_SERVICE_MEMO_MS_MAX,
			     &out->memo_ms, &twice) ||
	    !section_integer(doc, cache, "ttl_s", MAILGRANT_CACHE_TTL_S_MIN, MAILGRANT_CACHE_TTL_S_MAX, &out->ttl_s,
			     &twice) ||
	    !section_integer(doc, cache, "negative_ttl_s", MAILGRANT_CACHE_TTL_S_MIN, MAILGRANT_CACHE_TTL_S_MAX,
			     &out->negative_ttl_s, &twice) ||
	    twice)
		return leave(why, why_size, "a service or cache number is not a plain integer in its bounds");
	return 1;
}

int mgw_config_parse(const char *text, size_t size, struct mgw_config *out, char *why, size_t why_size)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int ret;

	memset(out, 0, sizeof(*out));
	if (size > MGW_MAX_CONFIG_BYTES)
		return leave(why, why_size, "larger than 1 MiB");
	if (!load_libyaml())
		return leave(why, why_size, "cannot load " MGW_LIBYAML);
	if (!yaml.parser_initialize(&parser))
		return leave(why, why_size, "out of memory");
	yaml.parser_set_input_string(&parser, (const unsigned char *)text, size);
	if (!yaml.parser_load(&parser, &doc)) {
		yaml.parser_delete(&parser);
		return leave(why, why_size, "not YAML that libyaml reads");
	}
	ret = parse_document(&doc, out, why, why_size);
	yaml.document_delete(&doc);
	yaml.parser_delete(&parser);
	if (ret != 1)
		memset(out, 0, sizeof(*out));
	return ret;
}

int mgw_config_read(const char *path, struct mgw_config *out, char *why, size_t why_size)
{
	char *text;
	size_t size = 0, capacity;
	struct stat st;
	int fd, ret;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return leave(why, why_size, "cannot open it");
	/* A buffer of the file's size (+1 to see the end), not of the limit: every mail
	   process that asks reads this file, and a 1 MiB allocation is an mmap and a munmap
	   for a file of a few hundred bytes. It grows if the file grew since the fstat. */
	capacity = (fstat(fd, &st) == 0 && st.st_size >= 0 && (uintmax_t)st.st_size < MGW_MAX_CONFIG_BYTES
			    ? (size_t)st.st_size
			    : MGW_MAX_CONFIG_BYTES) +
		   1;
	text = malloc(capacity);
	if (text == NULL) {
		close(fd);
		return leave(why, why_size, "out of memory");
	}
	for (;;) {
		ssize_t n;

		if (size == capacity && capacity <= MGW_MAX_CONFIG_BYTES) {
			size_t grown = capacity * 2 > MGW_MAX_CONFIG_BYTES + 1 ? MGW_MAX_CONFIG_BYTES + 1 : capacity * 2;
			char *bigger = realloc(text, grown);

			if (bigger == NULL) {
				close(fd);
				free(text);
				return leave(why, why_size, "out of memory");
			}
			text = bigger;
			capacity = grown;
		}
		n = read(fd, text + size, capacity - size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			free(text);
			return leave(why, why_size, "cannot read it");
		}
		if (n == 0 || (size += (size_t)n) > MGW_MAX_CONFIG_BYTES)
			break;
	}
	close(fd);
	ret = size > MGW_MAX_CONFIG_BYTES ? leave(why, why_size, "larger than 1 MiB")
					  : mgw_config_parse(text, size, out, why, why_size);
	free(text);
	return ret;
}
