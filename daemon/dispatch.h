/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Requests: checks every packet (size, decoding, descriptors, version,
 * Hello first) and runs the handler for its body. Every request gets
 * exactly one reply carrying its request_id.
 */
#ifndef PMEMTIERD_DISPATCH_H
#define PMEMTIERD_DISPATCH_H

#include "pmemtierd.h"
#include "wire.h"

void	dispatch_packet(struct conn *, const struct pmt_wire_packet *);
/* Logs the summary of refusals not logged yet (at close). */
void	dispatch_refuse_flush(struct conn *);
/* Copies printable ASCII of src into dst (len bytes with the NUL). */
void	dispatch_sanitize(char *dst, size_t len, const char *src);

#endif /* PMEMTIERD_DISPATCH_H */
