/* test_inproc.c — include/ordo_inproc.h, in-process mode: ordo_engine_start (the
 * EAL, the port and the worker lcore inside this process),
 * ordo_attach_engine, groups and messages as in daemon mode, a socket
 * client of the same engine, the engine's lock on its state directory (an
 * ordod on it is refused), ordo_engine_stop with a client still attached.
 * One engine per process: this executable is its own.
 *
 *   test-api-inproc ORDOD        (the engine is linked in; ORDOD is run only
 *                                 as the second process on its state_dir)
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "api_node.h"

#define LCORES "0@(0-1),1@(0-1)"

static struct api_node cfg;     /* only its configuration and directory */
static struct ordo_engine *engine;
static struct api_rec stopped;  /* a client ordo_engine_stop detached */

static int teardown(void **state)
{
	(void)state;
	if (engine != NULL)
		ordo_engine_stop(engine);
	engine = NULL;
	api_node_cleanup(&cfg);
	return 0;
}

/* Regression (this suite found it; fixed): a failed ordo_engine_start (here: a
 * configuration file that does not exist) leaves the process's "engine
 * started" flag set, so every later ordo_engine_start says ORDO_EINVAL,
 * even with a good configuration. Run in a child process: an EAL may start
 * once per process. */
static void test_start_after_failed_start(void **state)
{
	(void)state;
	struct api_node c2;
	struct api_node_opts o = {.lcores = LCORES, .no_socket = 1};
	assert_int_equal(api_node_write_config(&c2, &o), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		api_child_init();
		struct ordo_engine *e = NULL;
		int bad = ordo_engine_start("/nonexistent/ordo.conf", &e);
		int good = ordo_engine_start(c2.conf, &e);
		printf("# in a child: start with a missing file: %s; then with a good one: %s\n", ordo_strerror(bad),
		       ordo_strerror(good));
		if (good == ORDO_OK)
			ordo_engine_stop(e);
		_exit(bad == ORDO_EINVAL && good == ORDO_OK ? 0 : bad != ORDO_EINVAL ? 2 : 3);
	}
	int st = 0;
	assert_int_equal(waitpid(child, &st, 0), child);
	api_node_cleanup(&c2);
	assert_true(WIFEXITED(st));
	assert_int_not_equal(WEXITSTATUS(st), 2); /* the missing file is refused */
	assert_int_equal(WEXITSTATUS(st), 0);     /* fails today: 3 */
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct api_node_opts o = {.lcores = LCORES};
	assert_int_equal(api_node_write_config(&cfg, &o), 0);
	uint64_t t0 = api_now_ns();
	assert_int_equal(ordo_engine_start(cfg.conf, &engine), ORDO_OK);
	assert_non_null(engine);
	double start_ms = api_ms_since(t0);
	/* one engine per process */
	struct ordo_engine *second = (struct ordo_engine *)&second;
	assert_int_equal(ordo_engine_start(cfg.conf, &second), ORDO_EINVAL);
	assert_null(second);
	assert_int_equal(ordo_attach_engine(NULL, NULL, &(struct ordo_client *){NULL}), ORDO_EDETACHED);

	struct api_rec a, b, s;
	assert_int_equal(api_rec_attach(&a, "a", NULL, engine, 256, 0, 0), ORDO_OK);
	assert_int_equal(api_rec_attach(&b, "b", NULL, engine, 256, 0, 65536), ORDO_OK);
	struct ordo_member sa = ordo_self(a.c), sb = ordo_self(b.c);
	assert_int_equal(sa.node, 1);
	assert_int_not_equal(sa.client, sb.client);
	printf("# in-process clients %u/%u and %u/%u; max message %zu\n", sa.node, sa.client, sb.node, sb.client,
	       ordo_max_message_size(a.c));
	assert_true(ordo_max_message_size(a.c) > 0);
	/* the ring forms in the background: until then, ORDO_ENOQUORUM */
	t0 = api_now_ns();
	assert_int_equal(ordo_join(a.c, "ip", 2), ORDO_OK);
	assert_int_equal(api_publish_first(&a, "ip", "first!!!", 8, 20000), 0);
	assert_true(api_wait_msgs(&a, 1, 20000));
	printf("# engine started in %.0f ms; the first message of its own came back %.0f ms later\n", start_ms,
	       api_ms_since(t0));
	assert_int_equal(a.view_count, 1);
	assert_int_equal(a.views[0].member_count, 1);
	printf("# it attached before the ring formed: %u configuration record(s)\n", a.configs);

	assert_int_equal(ordo_join(b.c, "ip", 2), ORDO_OK);
	assert_true(api_wait_views(&b, 1, 5000));
	/* a client of the same engine through its control socket */
	assert_int_equal(api_rec_attach(&s, "socket", cfg.sock, NULL, 256, 0, 0), ORDO_OK);
	assert_int_equal(ordo_join(s.c, "ip", 2), ORDO_OK);
	assert_true(api_wait_views(&s, 1, 5000));
	assert_int_equal(s.views[0].member_count, 3);

	enum { N = 200 };
	uint8_t buf[500];
	t0 = api_now_ns();
	for (uint64_t i = 1; i <= N; i++) {
		api_fill(buf, sizeof(buf), i);
		struct api_rec *pub = i % 2 ? &a : &s;
		assert_true(api_publish(pub->c, pub, "ip", buf, 8 + i, i % 3 ? ORDO_AGREED : ORDO_SAFE, 1, 5000) >= 0);
	}
	struct api_rec *all[3] = {&a, &b, &s};
	for (int i = 0; i < 10000 && (a.msgs < N + 1 || b.msgs < N || s.msgs < N); i++)
		api_pump(all, 3, NULL, NULL, 1);
	printf("# %d messages from an in-process and a socket client: delivered to all three in %.1f ms\n", N,
	       api_ms_since(t0));
	assert_int_equal(a.msgs, N + 1);
	assert_int_equal(b.msgs, N);
	assert_int_equal(s.msgs, N);
	/* one order at every member; FIFO per sender; every message once, intact */
	uint64_t last_a = 0, last_s = 0, seen = 0;
	for (uint64_t i = 0; i < N; i++) {
		const struct api_msg *m = &a.m[i + 1];
		assert_int_equal(m->tag, b.m[i].tag);
		assert_int_equal(m->tag, s.m[i].tag);
		assert_int_equal(m->pos.seq, s.m[i].pos.seq);
		assert_true(m->tag >= 1 && m->tag <= N);
		int from_a = m->tag % 2 == 1;
		assert_int_equal(m->sender.client, from_a ? sa.client : ordo_self(s.c).client);
		uint64_t *last = from_a ? &last_a : &last_s;
		assert_true(m->tag > *last);
		*last = m->tag;
		api_fill(buf, sizeof(buf), m->tag);
		assert_int_equal(b.m[i].sum, api_sum(buf, 8 + m->tag));
		seen++;
	}
	assert_int_equal(seen, N);
	/* detach: the others see LEAVE */
	api_rec_free(&b);
	struct ordo_member gone = sb;
	for (int i = 0; i < 5000 && api_find_change(&a, "ip", 1, gone, ORDO_REASON_LEAVE) == NULL; i++)
		api_pump(all, 1, NULL, NULL, 1);
	assert_non_null(api_find_change(&a, "ip", 1, gone, ORDO_REASON_LEAVE));
	api_rec_free_all((struct api_rec *[]){&s, &a}, 2);
}

/* Writes cfg's configuration with its own [eal] file_prefix and no socket
 * into path: the same node and state_dir, nothing else shared. */
static void write_second_conf(const char *path)
{
	char line[512];
	FILE *in = fopen(cfg.conf, "r"), *out = fopen(path, "w");
	assert_non_null(in);
	assert_non_null(out);
	while (fgets(line, sizeof(line), in) != NULL) {
		if (strncmp(line, "socket = ", 9) == 0)
			fputs("socket =\n", out);
		else if (strncmp(line, "file_prefix = ", 14) == 0)
			fprintf(out, "file_prefix = %s-2\n", cfg.prefix);
		else
			fputs(line, out);
	}
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

/* The in-process engine holds its state directory's lock (docs/ordod.md
 * state_dir): an ordod on the same state_dir exits 2 naming the directory
 * and this process; the engine goes on. Before: that ordod started with
 * the engine's stored incarnation, counter reservation and ring ids (it is
 * killed after 10 s here). */
static void test_state_dir_held(void **state)
{
	(void)state;
	assert_non_null(engine);
	char conf2[160], errf[160], text[1024] = "", want[256];
	snprintf(conf2, sizeof(conf2), "%s/second.conf", cfg.dir);
	snprintf(errf, sizeof(errf), "%s/second.err", cfg.dir);
	write_second_conf(conf2);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		api_child_init();
		int fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		execl(api_ordod, "ordod", "-c", conf2, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	pid_t w = 0;
	for (int i = 0; i < 1000 && (w = waitpid(child, &st, WNOHANG)) == 0; i++)
		api_sleep_ms(10);
	if (w == 0) {
		kill(child, SIGKILL);
		assert_int_equal(waitpid(child, &st, 0), child);
	}
	FILE *f = fopen(errf, "r");
	assert_non_null(f);
	text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
	fclose(f);
	printf("# an ordod on this engine's state_dir: %s %d; it said:\n%s", w == 0 ? "killed after 10 s, was" : "exit",
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1, text);
	assert_int_not_equal(w, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 2);
	snprintf(want, sizeof(want), "state_dir %s/state is in use by process %ld", cfg.dir, (long)getpid());
	assert_non_null(strstr(text, want));
	/* the engine goes on: a message of its own comes back */
	struct api_rec a;
	assert_int_equal(api_rec_attach(&a, "after", NULL, engine, 256, 0, 0), ORDO_OK);
	assert_int_equal(ordo_join(a.c, "after", 5), ORDO_OK);
	assert_int_equal(api_publish_first(&a, "after", "still!!!", 8, 20000), 0);
	assert_true(api_wait_msgs(&a, 1, 20000));
	api_rec_free_all((struct api_rec *[]){&a}, 1);
}

/* ordo_engine_stop with a client attached: it is detached (ORDO_EDETACHED). */
static void test_stop_with_client(void **state)
{
	(void)state;
	assert_non_null(engine);
	struct api_rec a;
	assert_int_equal(api_rec_attach(&a, "a", NULL, engine, 8, 0, 0), ORDO_OK);
	assert_int_equal(ordo_join(a.c, "ip2", 3), ORDO_OK);
	assert_true(api_wait_views(&a, 1, 5000));
	uint64_t t0 = api_now_ns();
	ordo_engine_stop(engine);
	engine = NULL;
	double ms = api_ms_since(t0);
	int rc = ordo_poll(a.c, 8);
	printf("# ordo_engine_stop took %.1f ms; the attached client's poll then says %s\n", ms, ordo_strerror(rc));
	assert_int_equal(rc, ORDO_EDETACHED);
	assert_int_equal(a.detached, 1);
	assert_int_equal(ordo_publish(a.c, "ip2", 3, "x", 1, ORDO_AGREED, 1), ORDO_EDETACHED);
	assert_int_equal(ordo_attach_engine(NULL, NULL, &(struct ordo_client *){NULL}), ORDO_EDETACHED);
	/* the handle is freed by test_detach_after_stop (in a child) */
	stopped = a;
}

/* Regression (this suite found it; fixed): ordo_detach of an in-process client after
 * ordo_engine_stop — the only way to free the handle of a client the stop
 * detached — calls the detach hook on the freed engine (use after free:
 * SIGSEGV here). Run in a child process so the crash is contained. */
static void test_detach_after_stop(void **state)
{
	(void)state;
	struct api_rec *a = &stopped;
	assert_non_null(a->c);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		api_child_init();
		ordo_detach(a->c);
		_exit(0);
	}
	int st = 0;
	assert_int_equal(waitpid(child, &st, 0), child);
	printf("# ordo_detach after ordo_engine_stop (in a child): %s %d\n",
	       WIFSIGNALED(st) ? "killed by signal" : "exited with", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	free(a->m);
	a->m = NULL;
	a->c = NULL; /* leaked here on purpose: the parent must not crash */
	assert_true(WIFEXITED(st));            /* fails today: SIGSEGV */
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s ORDOD\n", argv[0]);
		return 2;
	}
	api_ordod = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("API_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("API_TEST_FILTER"));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_after_failed_start),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_state_dir_held),
		cmocka_unit_test(test_stop_with_client),
		cmocka_unit_test(test_detach_after_stop),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
