/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wire.h"

int
pmt_wire_send_bytes(int sock, const void *buf, size_t len, int fd, int flags)
{
	union {
		struct cmsghdr	hdr;
		char		space[CMSG_SPACE(sizeof(int))];
	}		 ctl;
	struct iovec	 iov;
	struct msghdr	 msg;
	ssize_t		 n;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *cmsg;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.space;
		msg.msg_controllen = sizeof(ctl.space);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}

	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL | flags);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

int
pmt_wire_send(int sock, const Pmemtier__Envelope *env, int fd)
{
	uint8_t		 small[2048], *buf;
	size_t		 len;
	int		 err;

	len = pmemtier__envelope__get_packed_size(env);
	if (len > PMT_WIRE_MAX_PACKET)
		return -EMSGSIZE;
	/*
	 * Most packets are small; keep them on the stack so that threads with
	 * small stacks can still send, and take a 64 KiB status reply from the
	 * heap.
	 */
	buf = small;
	if (len > sizeof(small) && (buf = malloc(len)) == NULL)
		return -ENOMEM;
	pmemtier__envelope__pack(env, buf);
	err = pmt_wire_send_bytes(sock, buf, len, fd, 0);
	if (buf != small)
		free(buf);
	return err;
}

/* Takes every SCM_RIGHTS descriptor out of msg; keeps what fits. */
static void
wire_collect_fds(struct msghdr *msg, struct pmt_wire_packet *pkt)
{
	struct cmsghdr	*cmsg;

	for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(msg, cmsg)) {
		size_t	 i, n;
		int	 fd;

		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			if (pkt->nfds < PMT_WIRE_MAX_FDS)
				pkt->fds[pkt->nfds++] = fd;
			else {
				close(fd);
				pkt->flags |= PMT_WIRE_FDS_TRUNCATED;
			}
		}
	}
}

ssize_t
pmt_wire_recv(int sock, struct pmt_wire_packet *pkt, int flags)
{
	union {
		struct cmsghdr	hdr;
		char		space[CMSG_SPACE(sizeof(int) *
				    PMT_WIRE_MAX_FDS)];
	}		 ctl;
	struct iovec	 iov;
	struct msghdr	 msg;
	ssize_t		 n;

	pkt->len = 0;
	pkt->nfds = 0;
	pkt->flags = 0;

	memset(&msg, 0, sizeof(msg));
	iov.iov_base = pkt->buf;
	iov.iov_len = pkt->cap;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.space;
	msg.msg_controllen = sizeof(ctl.space);

	do {
		n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	wire_collect_fds(&msg, pkt);
	if (msg.msg_flags & MSG_TRUNC)
		pkt->flags |= PMT_WIRE_TRUNCATED;
	if (msg.msg_flags & MSG_CTRUNC)
		pkt->flags |= PMT_WIRE_FDS_TRUNCATED;
	pkt->len = (size_t)n;
	return n;
}

void
pmt_wire_close_fds(struct pmt_wire_packet *pkt)
{
	size_t	i;

	for (i = 0; i < pkt->nfds; i++)
		close(pkt->fds[i]);
	pkt->nfds = 0;
}

Pmemtier__Envelope *
pmt_wire_decode(const struct pmt_wire_packet *pkt, ProtobufCAllocator *a)
{
	if (pkt->len == 0 || (pkt->flags & PMT_WIRE_TRUNCATED))
		return NULL;
	return pmemtier__envelope__unpack(a, pkt->len, pkt->buf);
}

const char *
pmt_wire_body_name(const Pmemtier__Envelope *env)
{
	const ProtobufCFieldDescriptor *f;

	if (env->body_case == PMEMTIER__ENVELOPE__BODY__NOT_SET)
		return "(empty)";
	f = protobuf_c_message_descriptor_get_field(
	    &pmemtier__envelope__descriptor, (unsigned)env->body_case);
	return f != NULL ? f->name : "(unknown)";
}

const char *
pmt_wire_error_name(int code)
{
	const ProtobufCEnumValue *v;

	v = protobuf_c_enum_descriptor_get_value(
	    &pmemtier__error_code__descriptor, code);
	return v != NULL ? v->name : "ERROR_UNKNOWN";
}
