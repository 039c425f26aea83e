/* sim_payload.c — the bytes of every published message, made and checked by
 * memcpy and memcmp.
 *
 * Owns: the payload of message `index` of `size` bytes: a 16-byte header
 * (index, 8 bytes little-endian; size, 4; 0xA5 x 4), then bytes of a fixed
 * pseudo-random pattern table starting at a rotation chosen per message.
 * Every byte of every fragment is still compared with what was published:
 * a byte from another message, another offset or another run differs (two
 * messages share a rotation only if their indexes collide in a 64-bit mix
 * modulo 2^20, and their headers still differ).
 * Never: depends on anything but (index, size, offset); the table is a
 * function of a constant seed, so runs stay replayable.
 */
#include "sim_internal.h"

#include <string.h>

#define SIM_PATTERN_SIZE (1u << 20)

static uint8_t pattern[SIM_PATTERN_SIZE];
static bool pattern_ready;

static const uint8_t *pattern_table(void)
{
	if (!pattern_ready) {
		for (uint32_t i = 0; i < SIM_PATTERN_SIZE; i += 8) {
			uint64_t v = sim_mix64(0x5EED0000ull + i);
			memcpy(&pattern[i], &v, 8);
		}
		pattern_ready = true;
	}
	return pattern;
}

static uint32_t rotation(uint64_t index)
{
	return (uint32_t)(sim_mix64(index + 1u) % SIM_PATTERN_SIZE);
}

static uint8_t header_byte(uint64_t index, uint32_t size, uint32_t off)
{
	if (off < 8)
		return (uint8_t)(index >> (8 * off));
	if (off < 12)
		return (uint8_t)(size >> (8 * (off - 8)));
	return 0xA5;
}

/* Calls fn on each run of [off, off + len) past the header that is one
 * contiguous piece of the pattern table; stops early if fn returns false. */
static bool pattern_pieces(uint64_t index, uint32_t off, uint32_t len,
			   bool (*fn)(void *arg, uint32_t at, const uint8_t *pat, uint32_t n), void *arg)
{
	const uint8_t *p = pattern_table();
	uint32_t rot = rotation(index);
	uint32_t at = off < SIM_PAYLOAD_HDR ? SIM_PAYLOAD_HDR : off, end = off + len;
	while (at < end) {
		uint32_t pos = (uint32_t)(((uint64_t)rot + at) % SIM_PATTERN_SIZE);
		uint32_t n = SIM_PATTERN_SIZE - pos;
		if (n > end - at)
			n = end - at;
		if (!fn(arg, at - off, p + pos, n))
			return false;
		at += n;
	}
	return true;
}

static bool fill_piece(void *arg, uint32_t at, const uint8_t *pat, uint32_t n)
{
	memcpy((uint8_t *)arg + at, pat, n);
	return true;
}

void sim_payload_fill(uint64_t index, uint32_t size, uint8_t *dst)
{
	for (uint32_t i = 0; i < size && i < SIM_PAYLOAD_HDR; i++)
		dst[i] = header_byte(index, size, i);
	pattern_pieces(index, 0, size, fill_piece, dst);
}

struct check_arg {
	const uint8_t *data;
	uint32_t bad; /* first differing byte, relative to data */
};

static bool check_piece(void *arg, uint32_t at, const uint8_t *pat, uint32_t n)
{
	struct check_arg *c = arg;
	if (memcmp(c->data + at, pat, n) == 0)
		return true;
	uint32_t i = 0;
	while (c->data[at + i] == pat[i])
		i++;
	c->bad = at + i;
	return false;
}

uint32_t sim_payload_check(uint64_t index, uint32_t size, uint32_t off, const uint8_t *data,
			   uint32_t len)
{
	for (uint32_t i = off; i < off + len && i < SIM_PAYLOAD_HDR; i++)
		if (data[i - off] != header_byte(index, size, i))
			return i;
	struct check_arg c = {.data = data, .bad = 0};
	if (pattern_pieces(index, off, len, check_piece, &c))
		return UINT32_MAX;
	return off + c.bad;
}
