/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NUMA nodes as sysfs and /proc describe them, read without libnuma: what
 * memkind_get_capacity() of the ordinary-memory kinds adds up.
 */
#ifndef PMT_NODE_H
#define PMT_NODE_H

#include <sys/types.h>

enum pmt_node_set {
	PMT_NODES_ALLOWED,	/* the process's Mems_allowed (DEFAULT) */
	PMT_NODES_WITH_CPUS,	/* nodes that have CPUs (REGULAR) */
};

/* Sum of MemTotal of the set's nodes in bytes, or -1 if unreadable. */
ssize_t	pmt_node_capacity(enum pmt_node_set set);

#endif /* PMT_NODE_H */
