/* ordo-pub — publishes messages to a group through the local node.
 *
 *   ordo-pub [-s SOCKET] [-g GROUP] [-n COUNT] [-z SIZE] [-r RATE] [-S] [-p PRIO] [TEXT]
 *
 * TEXT (or SIZE bytes of a pattern, numbered) is published COUNT times, at
 * RATE messages per second (0: as fast as the submit ring takes them), with
 * AGREED or (-S) SAFE delivery. Prints how many went out and how fast.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app_attach.h"
#include "ordo.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

static const char usage_text[] =
	"usage: ordo-pub [-s SOCKET] [-g GROUP] [-n COUNT] [-z SIZE] [-r RATE] [-S] [-p PRIO] [TEXT]\n"
	"Publishes TEXT (or SIZE bytes of a numbered pattern) COUNT times to GROUP through a node.\n"
	"  -s SOCKET  the node's control socket ([node] socket; default /run/ordo/ordo-n1.sock)\n"
	"  -g GROUP   the group (default demo)\n"
	"  -n COUNT   messages to publish (default 1)\n"
	"  -z SIZE    bytes per message without TEXT (default 0)\n"
	"  -r RATE    messages per second (default 0: as fast as the node takes them)\n"
	"  -S         SAFE delivery (default AGREED)\n"
	"  -p PRIO    priority 0, 1 or 2 (default 1)\n"
	"  -h, --help this text\n";
static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};

int main(int argc, char **argv)
{
	const char *sock = "/run/ordo/ordo-n1.sock", *group = "demo";
	uint64_t count = 1, rate = 0;
	size_t size = 0;
	unsigned prio = 1;
	enum ordo_service svc = ORDO_AGREED;
	int opt;
	while ((opt = getopt_long(argc, argv, "s:g:n:z:r:Sp:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'g': group = optarg; break;
		case 'n': count = strtoull(optarg, NULL, 10); break;
		case 'z': size = strtoull(optarg, NULL, 10); break;
		case 'r': rate = strtoull(optarg, NULL, 10); break;
		case 'S': svc = ORDO_SAFE; break;
		case 'p': prio = (unsigned)atoi(optarg); break;
		default: /* -h, --help: to stdout, and fine */
			fputs(usage_text, opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 2;
		}
	}
	const char *text = optind < argc ? argv[optind] : NULL;
	if (text != NULL)
		size = strlen(text);
	uint8_t *buf = malloc(size ? size : 1);
	if (buf == NULL)
		return 1;
	if (text != NULL)
		memcpy(buf, text, size);
	else
		for (size_t i = 0; i < size; i++)
			buf[i] = (uint8_t)('a' + i % 26);
	signal(SIGINT, on_signal);
	struct ordo_client_opts o = {.name = "ordo-pub"};
	struct ordo_client *c = app_attach(sock, &o);
	if (c == NULL)
		return 1;
	uint64_t t0 = now_ns(), sent = 0, retries = 0;
	while (sent < count && !stop) {
		if (rate != 0) {
			uint64_t due = (now_ns() - t0) * rate / 1000000000u + 1u;
			if (sent >= due) {
				struct timespec ts = {0, 20000};
				nanosleep(&ts, NULL);
				continue;
			}
		}
		if (text == NULL && size >= 8)
			memcpy(buf, &sent, 8); /* numbered */
		int64_t r = ordo_publish(c, group, strlen(group), buf, size, svc, prio);
		if (r == ORDO_EAGAIN) {
			retries++;
			(void)ordo_poll(c, 64);
			continue;
		}
		if (r < 0) {
			fprintf(stderr, "ordo-pub: publish: %s\n", ordo_strerror((int)r));
			ordo_detach(c);
			return 1;
		}
		sent++;
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	printf("published %llu messages of %zu bytes to %s in %.3f s (%.0f msgs/s, %llu retries on a full ring)\n",
	       (unsigned long long)sent, size, group, secs, secs > 0 ? (double)sent / secs : 0.0,
	       (unsigned long long)retries);
	ordo_detach(c);
	free(buf);
	return 0;
}
