/* install_app.c — an application built by test-install.sh from the installed
 * files only, no test library and no internal header:
 *   cc install_app.c $(pkg-config --cflags --libs ordo)
 *       install_app SOCKET: attaches to the ordod at SOCKET (libordo);
 *   cc -DINPROC install_app.c $(pkg-config --cflags --libs ordo-inproc)
 *       install_app CONFIG: starts an engine in this process from CONFIG and
 *       attaches to it (libordo-inproc).
 * Then joins a group, waits for the join's view, publishes one AGREED and
 * one SAFE message, and exits 0 once both came back intact, in order. */
#include <stdio.h>
#include <string.h>

#ifdef INPROC
#include <ordo_inproc.h>
#else
#include <ordo.h>
#endif

static const char *const want[2] = {"agreed: installed", "safe: installed"};
static int got;
static int bad;
static int views;

static void on_message(void *ctx, const struct ordo_message *m)
{
	(void)ctx;
	if (got >= 2 || m->size != strlen(want[got]) || memcmp(m->data, want[got], m->size) != 0)
		bad = 1;
	else
		printf("# delivered '%.*s' at seq %llu\n", (int)m->size, (const char *)m->data,
		       (unsigned long long)m->position.seq);
	got++;
}

static void on_view(void *ctx, const struct ordo_view *v)
{
	(void)ctx;
	(void)v;
	views++;
}

static int exchange(struct ordo_client *c)
{
	int rc = ordo_join(c, "pc", 2);
	/* publish once the join took effect (its view): a publish right after
	 * ordo_join may be ordered before the join, and then not delivered
	 * here. A new in-process engine forms its ring first. */
	for (int i = 0; rc == ORDO_OK && i < 300 && views < 1; i++)
		if (ordo_wait(c, 16, 100) < 0)
			break;
	for (int k = 0; k < 2 && rc == ORDO_OK; k++) {
		int64_t s = ordo_publish(c, "pc", 2, want[k], strlen(want[k]), k ? ORDO_SAFE : ORDO_AGREED, 1);
		rc = s < 0 ? (int)s : ORDO_OK;
	}
	for (int i = 0; rc == ORDO_OK && i < 200 && got < 2 && !bad; i++)
		if (ordo_wait(c, 16, 100) < 0)
			break;
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: install_app SOCKET | CONFIG (built with -DINPROC)\n");
		return 2;
	}
	struct ordo_callbacks cb = {.message = on_message, .view = on_view};
	struct ordo_client_opts o = {.callbacks = &cb, .name = "install-app"};
	struct ordo_client *c;
#ifdef INPROC
	const char *what = "in-process engine (libordo-inproc)";
	struct ordo_engine *e;
	int rc = ordo_engine_start(argv[1], &e);
	if (rc == ORDO_OK) {
		rc = ordo_attach_engine(e, &o, &c);
		if (rc == ORDO_OK) {
			rc = exchange(c);
			ordo_detach(c);
		}
		ordo_engine_stop(e);
	}
#else
	const char *what = "client of ordod (libordo)";
	int rc = ordo_attach(argv[1], &o, &c);
	if (rc == ORDO_OK) {
		rc = exchange(c);
		ordo_detach(c);
	}
#endif
	if (rc != ORDO_OK)
		fprintf(stderr, "install_app: %s\n", ordo_strerror(rc));
	printf("# %s: %d of 2 messages back%s\n", what, got, bad ? ", one wrong" : "");
	return rc == ORDO_OK && got == 2 && !bad ? 0 : 1;
}
