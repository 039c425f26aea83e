/* fuzz_client.c — libFuzzer target for libordo's reading of its delivery
 * ring (client/ordo_client.c, client/shm_ring.h): whatever bytes an engine
 * (or a corrupted region) puts there, ordo_poll must deliver only records
 * that pass their checks, never read outside the ring, and never crash.
 * The input is laid into a delivery ring as its data (head = input length,
 * rounded to 8); records that fail are counted or end the client.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "attach_proto.h"
#include "ordo.h"
#include "ordo_client_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RING (64u << 10)

static uint64_t sink;

static void on_message(void *ctx, const struct ordo_message *m)
{
	(void)ctx;
	for (uint32_t k = 0; k < m->piece_count; k++) {
		const uint8_t *d = m->pieces[k].data;
		for (size_t i = 0; i < m->pieces[k].size; i += 997)
			sink += d[i];
	}
	uint8_t last;
	if (m->size != 0 && ordo_message_copy(m, m->size - 1u, &last, 1) == 1)
		sink += last;
	sink += m->group[m->group_len - 1u];
}

static void on_view(void *ctx, const struct ordo_view *v)
{
	(void)ctx;
	for (uint32_t i = 0; i < v->member_count; i++)
		sink += v->members[i].client;
	for (uint32_t i = 0; i < v->left_count; i++)
		sink += v->left[i].reason;
}

static void on_config(void *ctx, const struct ordo_configuration *c)
{
	(void)ctx;
	for (uint32_t i = 0; i < c->node_count; i++)
		sink += c->nodes[i];
}

/* One client over a region whose delivery ring holds the input, reading
 * it in one receive mode. */
static void one_run(const uint8_t *data, size_t size, enum ordo_receive_mode mode)
{
	uint64_t region_size = ATT_REGION_HDR_SIZE + 2u * SHM_RING_CTL_SIZE + 2u * RING;
	int fd = memfd_create("fuzz-client", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)region_size) != 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	uint8_t *r = mmap(NULL, region_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r == MAP_FAILED) {
		close(fd);
		return;
	}
	struct att_region_hdr *h = (struct att_region_hdr *)r;
	h->magic = ATT_MAGIC;
	h->version = ATT_VERSION;
	h->client_id = 1;
	h->node_id = 1;
	h->submit_off = ATT_REGION_HDR_SIZE;
	h->submit_size = RING;
	h->delivery_off = ATT_REGION_HDR_SIZE + SHM_RING_CTL_SIZE + RING;
	h->delivery_size = RING;
	h->max_message_size = 1u << 20;
	atomic_store(&h->state, ATT_STATE_ATTACHED);
	struct shm_ring_ctl *dctl = (struct shm_ring_ctl *)(r + h->delivery_off);
	memcpy((uint8_t *)(dctl + 1), data, size);
	atomic_store(&dctl->head, (uint64_t)(size & ~(size_t)7));
	munmap(r, region_size);

	struct ordo_callbacks cb = {.message = on_message, .view = on_view, .configuration = on_config};
	struct ordo_client_opts o = {.callbacks = &cb};
	struct ordo_client *c = ordo_client_new(&o);
	/* an eventfd, as the node hands over: ordo_client_map adds it to an
	 * epoll instance, which refuses a memfd (with a dup of the memfd here,
	 * the map failed and nothing was ever polled) */
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c == NULL || efd < 0 || ordo_client_map(c, fd, efd, -1, region_size) != ORDO_OK) {
		if (c != NULL)
			ordo_client_free(c);
		else
			close(fd);
		return;
	}
	(void)ordo_set_receive_mode(c, mode);
	for (int i = 0; i < 64 && ordo_poll(c, 64) > 0; i++)
		;
	ordo_client_free(c);
}

/* Both receive modes: messages in pieces assembled by a copy, and held in
 * the ring (ORDO_RECEIVE_PIECES: whatever the pieces claim, the ring is
 * released only in order, and a callback reads only inside the ring). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > RING)
		return 0;
	one_run(data, size, ORDO_RECEIVE_WHOLE);
	one_run(data, size, ORDO_RECEIVE_PIECES);
	return 0;
}
