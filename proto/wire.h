/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Framing of pmemtier packets on an AF_UNIX SOCK_SEQPACKET socket.
 *
 * One packet is one protobuf-encoded Pmemtier__Envelope of at most
 * PMT_WIRE_MAX_PACKET bytes, with zero or one descriptor attached as
 * SCM_RIGHTS. The daemon, the client library and tierctl all frame through
 * these functions so that the size cap and the descriptor rules live in one
 * place.
 */
#ifndef PMEMTIER_WIRE_H
#define PMEMTIER_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pmemtier.pb-c.h"

#define PMT_WIRE_VERSION	1
#define PMT_WIRE_MAX_PACKET	65536
/* Descriptors accepted on one packet; more are closed and flagged. */
#define PMT_WIRE_MAX_FDS	4

/* Flags set by pmt_wire_recv() in struct pmt_wire_packet.flags. */
#define PMT_WIRE_TRUNCATED	0x1	/* packet exceeded the buffer */
#define PMT_WIRE_FDS_TRUNCATED	0x2	/* descriptors were dropped */

struct pmt_wire_packet {
	uint8_t	*buf;		/* caller's buffer */
	size_t	 cap;		/* its size */
	size_t	 len;		/* bytes received */
	int	 fds[PMT_WIRE_MAX_FDS];
	size_t	 nfds;
	int	 flags;
};

/*
 * Encodes env and sends it as one packet, with fd attached when fd >= 0.
 * MSG_NOSIGNAL is used: a vanished peer gives -EPIPE, never SIGPIPE.
 * Returns 0, -EMSGSIZE when the encoding exceeds PMT_WIRE_MAX_PACKET, or
 * another negative errno from sendmsg().
 */
int	pmt_wire_send(int sock, const Pmemtier__Envelope *env, int fd);

/*
 * Sends len bytes, already encoded, as one packet, with fd attached when
 * fd >= 0. flags are or-ed with MSG_NOSIGNAL (e.g. MSG_DONTWAIT). For a
 * sender that encodes into its own buffer, and for tests that must send
 * bytes that are not an Envelope. Returns 0 or a negative errno.
 */
int	pmt_wire_send_bytes(int sock, const void *buf, size_t len, int fd,
	    int flags);

/*
 * Receives one packet into pkt->buf (pkt->cap bytes). Descriptors that came
 * with it are stored close-on-exec in pkt->fds; the caller owns them.
 * Returns the packet length (> 0), 0 on orderly shutdown by the peer, or a
 * negative errno (-EAGAIN on a non-blocking socket with nothing to read).
 */
ssize_t	pmt_wire_recv(int sock, struct pmt_wire_packet *pkt, int flags);

/* Closes every descriptor held in pkt and forgets them. */
void	pmt_wire_close_fds(struct pmt_wire_packet *pkt);

/*
 * Decodes a received packet with allocator a (NULL: malloc). Returns NULL
 * when the bytes are not a valid Envelope (or do not fit a); free the
 * result with pmemtier__envelope__free_unpacked(env, a).
 */
Pmemtier__Envelope *pmt_wire_decode(const struct pmt_wire_packet *pkt,
		    ProtobufCAllocator *a);

/* A short name for an envelope's body, for log lines ("lease_request"). */
const char *pmt_wire_body_name(const Pmemtier__Envelope *env);

/* A short name for an error code ("quota"). */
const char *pmt_wire_error_name(int code);

#endif /* PMEMTIER_WIRE_H */
