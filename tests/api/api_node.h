/* api_node.h — what the public-API tests (tests/api/) share: one ordod node
 * on DPDK's null PMD, started as a child process from a configuration
 * written into a temporary directory, and a recorder that collects what a
 * client's callbacks deliver.
 *
 * A one-node ring is a real ring: it orders and delivers its own messages.
 * Every test executable takes the ordod path as argv[1] (api_ordod).
 *
 * Thread context: the test's main thread, except api_rec_* on a recorder,
 * which follows the client's receive side (one thread at a time).
 */
#ifndef API_NODE_H
#define API_NODE_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#include "ordo_inproc.h"

extern const char *api_ordod;

/* The common start of every test executable's main: takes the ordod path
 * from argv[1] (usage and -1 without it), line-buffers stdout, and applies
 * API_TEST_FILTER (e.g. API_TEST_FILTER='test_large*') to cmocka. */
int api_main_init(int argc, char **argv);

struct api_node_opts {
	uint32_t max_message_size; /* [ring] max_message_size; 0: the default (1 MiB) */
	uint32_t client_evict_ms;  /* 0: 500 */
	const char *lcores;        /* [eal] lcores; NULL: the default */
	int no_socket;             /* 1: `socket =` (none; in-process mode) */
	const char *idle;          /* [node] idle; NULL: $API_IDLE if set, else the default */
	uint32_t max_clients;      /* [node] max_clients; 0: the default (256) */
	uint32_t assembly_timeout_ms; /* [node] assembly_timeout_ms; 0: the default (10 s) */
	uint32_t max_groups;       /* [node] max_groups; 0: the default */
	uint32_t max_group_members; /* [node] max_group_members; 0: the default */
	const char *preload;       /* LD_PRELOAD for ordod (tests/api/alloc_check.c); NULL: none */
	uint32_t submit_queue;     /* [ring] submit_queue; 0: the default */
	uint32_t max_messages;     /* [ring] max_messages (frames per token visit); 0: the default */
	const char *ring_nodes;    /* [ring] nodes; NULL: "1" (a ring of one, with quorum) */
	int quorum_publish_no;     /* 1: [ring] quorum_publish = no */
	int no_probe;              /* 1: api_node_start waits for the socket only (a node
				    * without quorum delivers nothing) */
};

struct api_node {
	pid_t pid;                 /* 0: not running */
	char dir[64];              /* the temporary directory (config, state, socket, log) */
	char conf[96], sock[96], log[96];
	char prefix[64];           /* [eal] file_prefix */
	char preload[256];         /* api_node_opts.preload */
	double start_ms;           /* from fork to a first message delivered */
};

/* Writes the configuration into a new temporary directory. 0 or -1. */
int api_node_write_config(struct api_node *n, const struct api_node_opts *o);
/* Writes the configuration, starts ordod, waits until its socket accepts
 * and (unless no_probe) a probe client has had a message of its own
 * delivered (the ring is operational). 0 or -1 (the daemon's log is
 * printed). */
int api_node_start(struct api_node *n, const struct api_node_opts *o);
/* SIGTERM (clean stop: clients see ORDO_EDETACHED), wait; SIGKILL after 5 s.
 * Returns the exit status, or -1. */
int api_node_stop(struct api_node *n);
/* The numbers on the daemon's log line `name N` (after a stop), or -1. */
long long api_node_log_number(const struct api_node *n, const char *name);
/* SIGKILL and reap. */
void api_node_kill(struct api_node *n);
/* Removes the temporary directory and the node's DPDK runtime directory
 * (after stop or kill). Prints the daemon's eviction lines first. */
void api_node_cleanup(struct api_node *n);


/* In a forked child of a test: default signal dispositions (cmocka
 * catches SIGSEGV and would go on running the suite in the child). */
void api_child_init(void);

/* ---- time ---- */

uint64_t api_now_ns(void);
double api_ms_since(uint64_t t0_ns);
void api_sleep_ms(unsigned ms);

/* ---- a recorder: the callbacks of one client ---- */

#define API_VIEWS_MAX 64u
#define API_CHANGES_MAX 8u

struct api_msg {
	uint64_t tag;              /* the first 8 data bytes (0 if fewer) */
	uint64_t sum;              /* api_sum of the data */
	uint32_t size;
	uint8_t service, priority;
	uint8_t zero_copy;         /* data lay inside the client's mapped region (check_region, or
				    * always for a message in pieces: every piece) */
	uint32_t pieces;           /* its piece_count */
	uint8_t held;              /* in pieces: the ring was not released past them in the callback */
	uint8_t bad;               /* in pieces: they did not add up to its size */
	struct ordo_member sender;
	struct ordo_position pos;
	char group[ORDO_GROUP_NAME_MAX + 1];
};

struct api_view {
	char group[ORDO_GROUP_NAME_MAX + 1];
	uint32_t member_count, joined_count, left_count;
	struct ordo_member members[API_CHANGES_MAX];
	struct ordo_view_change joined[API_CHANGES_MAX], left[API_CHANGES_MAX];
};

struct api_rec {
	struct ordo_client *c;
	const char *name;
	uint64_t msgs, bytes;      /* every message */
	struct api_msg *m;         /* the first m_cap messages */
	uint32_t m_cap;
	struct api_view views[API_VIEWS_MAX];
	uint32_t view_count;       /* may exceed API_VIEWS_MAX: only the first are kept */
	uint32_t configs;
	int detached, detached_why;
	uint32_t pub_failed;       /* publish_failed callbacks; the last one's: */
	uint64_t pub_failed_seq;
	int pub_failed_err;
	uint32_t join_refused;     /* join_refused callbacks; the last one's: */
	int join_refused_err;
	char join_refused_group[ORDO_GROUP_NAME_MAX + 1];
	int check_region;          /* 1: note whether each message is zero copy */
};

/* Attaches (to socket, or to an in-process engine if e != NULL: only in a
 * program built with API_INPROC, linked with libordo-inproc) with a
 * recorder keeping the first m_cap messages. Returns ORDO_OK or the error. */
int api_rec_attach(struct api_rec *r, const char *name, const char *socket, struct ordo_engine *e,
		   uint32_t m_cap, uint32_t submit_size, uint32_t delivery_size);
void api_rec_detach(struct api_rec *r);
void api_rec_free(struct api_rec *r);
/* api_rec_free of each of the n recorders, in order: a test's end. */
void api_rec_free_all(struct api_rec *const *recs, int n);
struct ordo_client_opts api_rec_opts(struct api_rec *r, const char *name, uint32_t submit_size,
				     uint32_t delivery_size);

/* Polls every recorder (at least once) until done(arg) is true or
 * timeout_ms passes, sleeping 1 ms whenever nothing was polled. Returns 1
 * if done. */
int api_pump(struct api_rec *const *recs, int n, int (*done)(void *arg), void *arg, unsigned timeout_ms);
/* Polls until r has at least count messages. */
int api_wait_msgs(struct api_rec *r, uint64_t count, unsigned timeout_ms);
/* Polls until r has at least count views. */
int api_wait_views(struct api_rec *r, uint32_t count, unsigned timeout_ms);
/* Polls until r's poll returns ORDO_EDETACHED. Returns 1 if it did. */
int api_wait_detached(struct api_rec *r, unsigned timeout_ms);

/* The last view r has kept for group (NULL if none). */
const struct api_view *api_last_view(const struct api_rec *r, const char *group);
/* Finds a view with a left (or joined) change for member m, with reason. */
const struct api_view *api_find_change(const struct api_rec *r, const char *group, int left,
				       struct ordo_member m, enum ordo_reason reason);

/* A thread that receives for r (ordo_wait, sleeping on the descriptor)
 * until r has until_msgs messages, r is detached, stop is set, or
 * timeout_ms passes. The recorder belongs to the thread until joined. */
struct api_rx {
	pthread_t thread;
	struct api_rec *r;
	uint64_t until_msgs;
	unsigned timeout_ms;
	_Atomic int stop;
	int last_rc;             /* what ordo_wait returned last */
	uint64_t wakeups;        /* ordo_wait calls */
	double longest_call_ms;  /* the longest ordo_wait call (callbacks included) */
};
int api_rx_start(struct api_rx *t, struct api_rec *r, uint64_t until_msgs, unsigned timeout_ms);
void api_rx_join(struct api_rx *t);

/* ---- payloads ---- */

uint64_t api_sum(const void *data, size_t size);
/* Fills buf with a pattern determined by seed; the first 8 bytes (if room)
 * are seed itself. */
void api_fill(void *buf, size_t size, uint64_t seed);
/* Publishes, retrying (with polls of r, if given) on ORDO_EAGAIN for up to
 * timeout_ms. Returns what the last ordo_publish returned. */
/* A node refuses publishes (ORDO_ENOQUORUM, quorum_publish = yes, the
 * default) until it has installed its first primary configuration: the
 * first publish of a test retries until then, pumping r, at most
 * timeout_ms; returns what ordo_publish returned last. */
int64_t api_publish_first(struct api_rec *r, const char *group, const void *data, size_t size,
			  unsigned timeout_ms);
int64_t api_publish(struct ordo_client *c, struct api_rec *r, const char *group, const void *data,
		    size_t size, enum ordo_service svc, unsigned prio, unsigned timeout_ms);

/* ---- what the test files share ---- */

/* The nodes a test file runs against: api_setup starts api_node_count of
 * them (1 unless the file's API_MAIN says otherwise) with api_nodes_opts,
 * api_teardown stops them. */
extern struct api_node api_nodes[2];
extern struct api_node_opts api_nodes_opts[2];
extern int api_node_count;
int api_setup(void **state);
int api_teardown(void **state);

/* Attaches r to api_nodes[0] (the test fails if it cannot). */
void api_attach(struct api_rec *r, const char *name, uint32_t m_cap, uint32_t submit, uint32_t delivery);
/* Joins group and waits (5 s at most) for the view that shows this join
 * (not any view: one of another group may come first). */
void api_join_wait(struct api_rec *r, const char *group);
/* The setup of most tests: clients a and b (names na, nb; m_cap messages
 * of room each, the node's ring sizes) attached to api_nodes[0], then a
 * and b in turn joined to group (api_join_wait). */
void api_attach_pair(struct api_rec *a, const char *na, struct api_rec *b, const char *nb, uint32_t m_cap,
		     const char *group);
/* A child process the test will kill, reporting to it through a pipe:
 * fork()s; returns 0 in the child (default signal dispositions, *fd the
 * pipe's writing end), the child's pid in the parent (*fd the reading end). */
pid_t api_fork_reporter(int *fd);
/* In the parent: size bytes of the child's report on fd, read within 10 s
 * (the test fails otherwise); closes fd. */
void api_child_report(int fd, void *buf, size_t size);
/* SIGKILL to the child, reaped. */
void api_child_kill(pid_t child);
int api_same_member(struct ordo_member a, struct ordo_member b);

/* A test file's main(): api_main_init, then init (a statement: node
 * options), then the tests between api_setup and api_teardown. */
#define API_MAIN(init, ...)                                                          \
	int main(int argc, char **argv)                                              \
	{                                                                            \
		if (api_main_init(argc, argv) != 0)                                  \
			return 2;                                                    \
		init;                                                                \
		const struct CMUnitTest tests[] = {__VA_ARGS__};                     \
		return cmocka_run_group_tests(tests, api_setup, api_teardown);       \
	}

#endif
