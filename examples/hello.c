#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <ordo.h>

static void on_message(void *ctx, const struct ordo_message *m)
{
	(void)ctx;
	printf("%.*s from %u/%u\n", (int)m->size, (const char *)m->data,
	    m->sender.node, m->sender.client);
}

int main(int argc, char **argv)
{
	const char *sock = argc > 1 ? argv[1] : "/run/ordo/ordo-n1.sock";
	struct ordo_callbacks cb = { .message = on_message };
	struct ordo_client_opts o = { .callbacks = &cb };
	struct ordo_client *c;
	setvbuf(stdout, NULL, _IOLBF, 0);
	int rc = ordo_attach(sock, &o, &c);
	if (rc != ORDO_OK) {
		/* ORDO_ECONNECT: errno says why (no socket, nobody listening) */
		fprintf(stderr, "attach %s: %s%s%s\n", sock, ordo_strerror(rc),
		    rc == ORDO_ECONNECT ? ": " : "",
		    rc == ORDO_ECONNECT ? strerror(errno) : "");
		return 1;
	}
	ordo_join(c, "demo", 4);
	ordo_publish(c, "demo", 4, "hello", 5, ORDO_AGREED, 1);
	for (;;)
		if (ordo_wait(c, 64, -1) < 0)
			break;
	ordo_detach(c);
	return 0;
}
