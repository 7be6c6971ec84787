/* core_load.c -- what a Dovecot mail process pays on its first question to the per-host
 * service (issue 19, benches (a) and (b)), in forked children whose CPU time wait4()
 * reports, against children that only exit:
 *  - "C++ core": load libmailgrant_core.so and open a service-mode configuration with it
 *    (what the plugin did until the C client, and still does without the service);
 *  - "C client": what the plugin does now with the service (dovecot-plugin/wire/): read
 *    the configuration's service keys (libyaml, dlopen'ed) and make the client.
 * C, not C++: an imap process is C, and a C++ parent would hand its children libstdc++
 * already mapped, hiding part of what loading the core costs. Not Python: a forked
 * interpreter touches too much memory (it doubled the figure).
 *
 * usage: core_load LIBMAILGRANT_CORE.so CONFIG [CHILDREN] [ROUNDS]
 * Prints CPU ms and minor page faults per child for each (alternating rounds) and the
 * difference to "nothing";
 * bench/exec_cost.py runs it.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "wire_config.h"
#include "wire_core.h"

enum mode { NOTHING, CPP_CORE, C_CLIENT, MODES };
static const char *const mode_names[MODES] = { "nothing", "C++ core: load + open", "C client: read + open" };

typedef void *(*open_fn)(const char *, char *, size_t);
typedef void (*close_fn)(void *);

static void child(enum mode mode, const char *library, const char *config)
{
	if (mode == CPP_CORE) {
		/* as dovecot-plugin/mailgrant-core-loader.c loads it */
		void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL), *core = NULL;
		open_fn open;
		close_fn close;
		char error[512] = "";

		if (handle == NULL) {
			fprintf(stderr, "dlopen: %s\n", dlerror());
			_exit(1);
		}
		*(void **)&open = dlsym(handle, "mailgrant_core_open");
		*(void **)&close = dlsym(handle, "mailgrant_core_close");
		if (open != NULL && close != NULL)
			core = open(config, error, sizeof(error));
		if (core == NULL) {
			fprintf(stderr, "open: %s\n", error);
			_exit(1);
		}
		close(core);
	} else if (mode == C_CLIENT) {
		struct mgw_config parsed;
		struct mgw_core *core;
		char why[256] = "";

		if (mgw_config_read(config, &parsed, why, sizeof(why)) != 1 || (core = mgw_core_new(&parsed)) == NULL) {
			fprintf(stderr, "C client: %s\n", why);
			_exit(1);
		}
		mgw_core_free(core);
	}
	_exit(0);
}

/* Minor page faults per child of the last cpu_ms_per_child() (exact, unlike CPU time). */
static double faults_per_child;

static double cpu_ms_per_child(enum mode mode, const char *library, const char *config, int children)
{
	double total = 0, faults = 0;
	int i;

	for (i = 0; i < children; i++) {
		pid_t pid = fork();
		int status = 0;
		struct rusage usage;

		if (pid < 0)
			return -1;
		if (pid == 0)
			child(mode, library, config);
		if (wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			return -1;
		total += usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec / 1e3 + usage.ru_stime.tv_sec * 1e3 +
			 usage.ru_stime.tv_usec / 1e3;
		faults += usage.ru_minflt;
	}
	faults_per_child = faults / children;
	return total / children;
}

int main(int argc, char **argv)
{
	double ms[MODES] = { 0 }, faults[MODES] = { 0 };
	int children, rounds, r, k;

	if (argc < 3) {
		fprintf(stderr, "usage: core_load LIBMAILGRANT_CORE.so CONFIG [CHILDREN] [ROUNDS]\n");
		return 2;
	}
	children = argc > 3 ? atoi(argv[3]) : 500;
	rounds = argc > 4 ? atoi(argv[4]) : 3;
	if (children < 1 || children > 100000 || rounds < 1 || rounds > 100) {
		fprintf(stderr, "core_load: CHILDREN 1..100000, ROUNDS 1..100\n");
		return 2;
	}
	for (r = 0; r < rounds; r++) {
		/* rotate the order: a busy machine hurts every mode alike */
		for (k = 0; k < MODES; k++) {
			enum mode mode = (enum mode)((k + r) % MODES);
			double one = cpu_ms_per_child(mode, argv[1], argv[2], children);
			if (one < 0) {
				fprintf(stderr, "core_load: a child failed (%s)\n", mode_names[mode]);
				return 1;
			}
			ms[mode] += one;
			faults[mode] += faults_per_child;
		}
	}
	printf("forked child, %d x %d rounds, CPU per child\n", children, rounds);
	for (k = 0; k < MODES; k++) {
		ms[k] /= rounds;
		faults[k] /= rounds;
		printf("  %-24s %6.3f ms  ratio %.2f  (+%.3f ms)  page faults %.1f (+%.1f)\n", mode_names[k], ms[k],
		       ms[k] / ms[NOTHING], ms[k] - ms[NOTHING], faults[k], faults[k] - faults[NOTHING]);
	}
	return 0;
}
