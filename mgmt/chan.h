/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sim control channel: framed messages between the launcher on the host
 * and the node agent inside an emulated node, carried by a virtio-serial port.
 *
 * A frame is a 12-byte header followed by `len` payload bytes:
 *
 *   u32 magic   'CVMC' (0x434d5643, little endian)
 *   u16 version CHAN_VERSION
 *   u16 type    enum chan_type
 *   u32 len     payload length, at most CHAN_MAX_PAYLOAD
 *
 * All integers are little endian. The byte stream is reliable and ordered, so
 * there is no checksum or sequence number; a bad header means the stream is
 * corrupt and the channel is closed. docs/sim.md describes each type.
 */
#ifndef CVMM_MGMT_CHAN_H
#define CVMM_MGMT_CHAN_H

#include <stddef.h>
#include <stdint.h>

#define CHAN_MAGIC 0x434d5643u
/* 2: STDIN and STDIN_EOF. Both ends come from one build (the sim packs its bin into every node). */
#define CHAN_VERSION	 2
#define CHAN_HDR_LEN	 12
#define CHAN_MAX_PAYLOAD (64 * 1024)

enum chan_type {
	CHAN_HELLO = 1,	    /* node -> host: "key=value ..." inventory text; node is ready */
	CHAN_EXEC = 2,	    /* host -> node: cwd, then argv, then env "K=V", NUL-separated groups */
	CHAN_STDOUT = 3,    /* node -> host: bytes the command wrote to stdout */
	CHAN_STDERR = 4,    /* node -> host: bytes the command wrote to stderr */
	CHAN_EXIT = 5,	    /* node -> host: u32 exit status (0-255; 128+N for signal N) */
	CHAN_POWEROFF = 6,  /* host -> node: flush and power the node off */
	CHAN_STDIN = 7,	    /* host -> node: bytes for the command's stdin (at least one) */
	CHAN_STDIN_EOF = 8, /* host -> node: no more stdin; the agent closes the pipe */
	CHAN_TYPE_MAX,
};

struct chan_hdr {
	uint16_t type;
	uint32_t len;
};

/* Encodes a header into buf[CHAN_HDR_LEN]. */
void chan_encode_hdr(uint8_t *buf, enum chan_type type, uint32_t len);

/*
 * Decodes a header. Returns 0, or -EPROTO for a bad magic, version or type or
 * a length its type never has (EXIT is 4 bytes, POWEROFF and STDIN_EOF none,
 * STDIN at least one), -EMSGSIZE for a payload above CHAN_MAX_PAYLOAD.
 * *what names the bad field.
 */
int chan_decode_hdr(const uint8_t *buf, struct chan_hdr *hdr, const char **what);

/*
 * Reassembly of frames from a byte stream that arrives in arbitrary pieces.
 * Feed bytes with chan_rx_feed(), then take whole frames with chan_rx_next().
 */
struct chan_rx {
	uint8_t buf[CHAN_HDR_LEN + CHAN_MAX_PAYLOAD];
	size_t fill;
	size_t consumed; /* bytes of buf handed out by the last chan_rx_next() */
};

void chan_rx_init(struct chan_rx *rx);
/* Room left in the buffer: feed at most this many bytes. */
size_t chan_rx_room(const struct chan_rx *rx);
/* Appends n bytes (n <= chan_rx_room()). */
void chan_rx_feed(struct chan_rx *rx, const void *data, size_t n);
/*
 * Returns 1 and a frame (payload points into rx, valid until the next call),
 * 0 when no whole frame is buffered, or a negative errno from
 * chan_decode_hdr() when the stream is corrupt.
 */
int chan_rx_next(struct chan_rx *rx, struct chan_hdr *hdr, const uint8_t **payload,
		 const char **what);

/* Writes one frame to fd. Returns 0 or -errno. */
int chan_send(int fd, enum chan_type type, const void *payload, size_t len);

/*
 * An EXEC request: working directory, argument vector and extra environment.
 * chan_exec_encode() packs it into buf; chan_exec_decode() unpacks a payload
 * into pointers into a private copy (argv/envp are NULL-terminated).
 */
struct chan_exec {
	const char *cwd;
	const char *const *argv;
	const char *const *envp;
};

/* Returns the encoded length, or -EMSGSIZE if it does not fit in len. */
int chan_exec_encode(const struct chan_exec *ex, uint8_t *buf, size_t len);
/*
 * Layout: u32 argc, u32 envc, then cwd, argv[0..argc-1], envp[0..envc-1],
 * each NUL-terminated. Returns 0 or -EPROTO (*what names the bad field).
 * On success the caller frees ex->argv (one allocation holds everything):
 * free((void *)ex->argv).
 */
int chan_exec_decode(const uint8_t *payload, size_t len, struct chan_exec *ex, const char **what);

#endif
