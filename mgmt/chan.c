// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cvmm/lib/fdio.h"
#include "cvmm/lib/le.h"
#include "mgmt/chan.h"

void chan_encode_hdr(uint8_t *buf, enum chan_type type, uint32_t len)
{
	put_le32(buf, CHAN_MAGIC);
	put_le16(buf + 4, CHAN_VERSION);
	put_le16(buf + 6, type);
	put_le32(buf + 8, len);
}

/*
 * The payload lengths each type may have, checked with the header so that no
 * handler sees a frame its type cannot have. A zero-length STDIN would be
 * ambiguous next to STDIN_EOF, so it is refused rather than guessed at.
 */
static const struct {
	uint32_t min, max;
} chan_len[CHAN_TYPE_MAX] = {
	[CHAN_HELLO] = { 0, CHAN_MAX_PAYLOAD },
	[CHAN_EXEC] = { 0, CHAN_MAX_PAYLOAD },
	[CHAN_STDOUT] = { 0, CHAN_MAX_PAYLOAD },
	[CHAN_STDERR] = { 0, CHAN_MAX_PAYLOAD },
	[CHAN_EXIT] = { 4, 4 },
	[CHAN_POWEROFF] = { 0, 0 },
	[CHAN_STDIN] = { 1, CHAN_MAX_PAYLOAD },
	[CHAN_STDIN_EOF] = { 0, 0 },
};

int chan_decode_hdr(const uint8_t *buf, struct chan_hdr *hdr, const char **what)
{
	if (get_le32(buf) != CHAN_MAGIC) {
		*what = "magic";
		return -EPROTO;
	}
	if (get_le16(buf + 4) != CHAN_VERSION) {
		*what = "version";
		return -EPROTO;
	}
	hdr->type = get_le16(buf + 6);
	if (hdr->type == 0 || hdr->type >= CHAN_TYPE_MAX) {
		*what = "type";
		return -EPROTO;
	}
	hdr->len = get_le32(buf + 8);
	if (hdr->len > CHAN_MAX_PAYLOAD) {
		*what = "length";
		return -EMSGSIZE;
	}
	if (hdr->len < chan_len[hdr->type].min || hdr->len > chan_len[hdr->type].max) {
		*what = "length for the type";
		return -EPROTO;
	}
	return 0;
}

void chan_rx_init(struct chan_rx *rx)
{
	rx->fill = 0;
	rx->consumed = 0;
}

/* Drops the frame handed out last, so that its bytes can be reused. */
static void chan_rx_compact(struct chan_rx *rx)
{
	if (!rx->consumed)
		return;
	memmove(rx->buf, rx->buf + rx->consumed, rx->fill - rx->consumed);
	rx->fill -= rx->consumed;
	rx->consumed = 0;
}

size_t chan_rx_room(const struct chan_rx *rx)
{
	return sizeof(rx->buf) - rx->fill + rx->consumed;
}

void chan_rx_feed(struct chan_rx *rx, const void *data, size_t n)
{
	chan_rx_compact(rx);
	memcpy(rx->buf + rx->fill, data, n);
	rx->fill += n;
}

int chan_rx_next(struct chan_rx *rx, struct chan_hdr *hdr, const uint8_t **payload,
		 const char **what)
{
	int ret;

	chan_rx_compact(rx);
	if (rx->fill < CHAN_HDR_LEN)
		return 0;
	ret = chan_decode_hdr(rx->buf, hdr, what);
	if (ret)
		return ret;
	if (rx->fill < CHAN_HDR_LEN + hdr->len)
		return 0;
	*payload = rx->buf + CHAN_HDR_LEN;
	rx->consumed = CHAN_HDR_LEN + hdr->len;
	return 1;
}

int chan_send(int fd, enum chan_type type, const void *payload, size_t len)
{
	/*
	 * One buffer, one write: a frame never interleaves partially with
	 * another writer's on the same port.
	 */
	uint8_t frame[CHAN_HDR_LEN + CHAN_MAX_PAYLOAD];

	if (len > CHAN_MAX_PAYLOAD)
		return -EMSGSIZE;
	chan_encode_hdr(frame, type, (uint32_t)len);
	if (len)
		memcpy(frame + CHAN_HDR_LEN, payload, len);
	return write_full(fd, frame, CHAN_HDR_LEN + len);
}

static int put_str(uint8_t *buf, size_t len, size_t *off, const char *s)
{
	size_t n = strlen(s) + 1;

	if (*off + n > len)
		return -EMSGSIZE;
	memcpy(buf + *off, s, n);
	*off += n;
	return 0;
}

static uint32_t count_strv(const char *const *v)
{
	uint32_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int chan_exec_encode(const struct chan_exec *ex, uint8_t *buf, size_t len)
{
	uint32_t argc = count_strv(ex->argv), envc = count_strv(ex->envp);
	size_t off = 8;
	int ret;

	if (len > CHAN_MAX_PAYLOAD)
		len = CHAN_MAX_PAYLOAD;
	if (len < off)
		return -EMSGSIZE;
	put_le32(buf, argc);
	put_le32(buf + 4, envc);
	ret = put_str(buf, len, &off, ex->cwd);
	for (uint32_t i = 0; !ret && i < argc; i++)
		ret = put_str(buf, len, &off, ex->argv[i]);
	for (uint32_t i = 0; !ret && i < envc; i++)
		ret = put_str(buf, len, &off, ex->envp[i]);
	return ret ? ret : (int)off;
}

int chan_exec_decode(const uint8_t *payload, size_t len, struct chan_exec *ex, const char **what)
{
	uint32_t argc, envc, nstr;
	char **vec, *strs, *p, *end;

	if (len < 8) {
		*what = "exec header";
		return -EPROTO;
	}
	argc = get_le32(payload);
	envc = get_le32(payload + 4);
	/* Every string takes at least one byte, which bounds the counts. */
	if (argc == 0 || argc > len || envc > len || 1 + argc + envc > len - 8) {
		*what = "exec argc/envc";
		return -EPROTO;
	}
	nstr = 1 + argc + envc;
	vec = malloc((argc + 1 + envc + 1) * sizeof(char *) + (len - 8));
	if (!vec)
		return -ENOMEM;
	strs = (char *)(vec + argc + 1 + envc + 1);
	memcpy(strs, payload + 8, len - 8);
	end = strs + (len - 8);
	p = strs;
	for (uint32_t i = 0; i < nstr; i++) {
		char *nul = memchr(p, '\0', (size_t)(end - p));

		if (!nul) {
			free(vec);
			*what = "exec strings (missing NUL)";
			return -EPROTO;
		}
		if (i == 0)
			ex->cwd = p;
		else if (i <= argc)
			vec[i - 1] = p;
		else
			vec[argc + 1 + (i - 1 - argc)] = p;
		p = nul + 1;
	}
	if (p != end) {
		free(vec);
		*what = "exec strings (trailing bytes)";
		return -EPROTO;
	}
	vec[argc] = NULL;
	vec[argc + 1 + envc] = NULL;
	ex->argv = (const char *const *)vec;
	ex->envp = (const char *const *)(vec + argc + 1);
	return 0;
}
