/* ordo_client_internal.h — struct ordo_client, shared by libordo's daemon
 * attach (ordo_client.c) and in-process attach (ordo_inproc.c). Not
 * installed.
 */
#ifndef ORDO_CLIENT_INTERNAL_H
#define ORDO_CLIENT_INTERNAL_H

#include <stdint.h>

#include "attach_proto.h"
#include "ordo.h"

/* A message from one sender at one priority, arriving in pieces. The
 * buffer is kept between messages (grown, never shrunk) until the next
 * regular configuration or the detach: a stream of large messages then
 * costs one allocation and one round of page faults, not one per message
 * (under load, a fresh 64 MiB malloc and its first touch took seconds,
 * long enough for the node to evict a receiver that was draining). */
struct ordo_reassembly {
	uint8_t active;
	uint8_t held;               /* ORDO_RECEIVE_PIECES: the pieces stay in the delivery ring */
	uint8_t *buf;
	uint32_t size, got;
	uint32_t cap; /* bytes allocated at buf */
	/* held: where the pieces lie, and the ring position of the first one's
	 * record (nothing from there on is released until the message is
	 * delivered or assembled); the array is kept like buf */
	struct ordo_piece *pieces;
	uint32_t piece_count, piece_cap;
	uint64_t hold_pos;
};

struct ordo_group_name {
	uint8_t len;
	uint8_t name[ORDO_GROUP_NAME_MAX];
};

/* A message larger than one submit record, some of its pieces written:
 * ordo_publish resumes it when called again with the same arguments. */
struct ordo_stream {
	int active;
	const void *data;
	size_t size;
	uint32_t off;                           /* the bytes written so far */
	uint8_t service, priority, glen;
	uint8_t group[ORDO_GROUP_NAME_MAX];
};

struct ordo_client {
	int sock_fd, mem_fd, event_fd;
	int doorbell_fd;                        /* wakes an engine that blocks when idle */
	int engine_blocks;                      /* ATT_ENGINE_BLOCKS: ring it after commits */
	int room_wake;                          /* ATT_ENGINE_ROOM: it wakes us when it frees room */
	int room_wanted;                        /* the last publish or join found no room */
	uint64_t room_tail;                     /* the submit ring's tail when it found none */
	int poll_fd;                            /* epoll: the eventfd, and the socket's hang-up */
	int sock_dead;                          /* the node closed the control socket */
	int sleep_armed;                        /* our last prepare_sleep left `sleeping` = 1 */
	int engine_takes;                       /* ATT_ENGINE_TAKES: wakes_unread is exact */
	uint32_t wakes_unread;                  /* the engine took `sleeping` this often since the
						 * eventfd was last read: its writes to read */
	uint32_t sock_check_skips;              /* full-ring returns since the socket was looked at */
	uint8_t *region;
	uint64_t region_size;
	struct att_region_hdr *hdr;
	struct shm_ring_prod submit;
	struct shm_ring_cons deliver;
	struct ordo_callbacks cb;
	void *ctx;
	struct ordo_member self;
	uint32_t max_message, max_record;
	uint32_t budget;                        /* submit bytes not yet taken at most (0: the ring) */
	uint64_t pub_seq;
	struct ordo_stream stream;
	uint8_t *resv;                          /* ordo_publish_reserve's data, until the commit */
	uint32_t resv_length;                   /* its record's length */
	int detached;
	uint64_t garbage;                       /* delivery records that failed their checks */
	struct ordo_reassembly rs[64][ORDO_PRIORITIES];
	int receive_pieces;                     /* ORDO_RECEIVE_PIECES */
	uint64_t held[ORDO_PRIORITIES];         /* bit n-1: rs[n-1][p] holds pieces in the ring */
	struct ordo_group_name *groups;         /* joined (for the leaves at detach) */
	uint32_t group_count, group_cap;
	void (*detach_hook)(struct ordo_client *c); /* in-process: tell the engine */
	struct ordo_engine *engine;
};

struct ordo_client *ordo_client_new(const struct ordo_client_opts *o);
void ordo_client_free(struct ordo_client *c);
int ordo_client_map(struct ordo_client *c, int mem_fd, int event_fd, int doorbell_fd, uint64_t region_size);
void ordo_hello_fill(struct att_hello *h, const struct ordo_client_opts *o);

#endif
