/* SPDX-License-Identifier: BSD-3-Clause */
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lease.h"
#include "log.h"
#include "quota.h"
#include "tier.h"

#define LEASE_HASH_SIZE	4096

LIST_HEAD(lease_chain, lease);

static struct lease_chain	lease_hash[LEASE_HASH_SIZE];
static struct leases		lease_list = TAILQ_HEAD_INITIALIZER(lease_list);
static unsigned			lease_n;
static uint64_t			lease_next_id;

void
lease_table_init(uint64_t seed)
{
	size_t	i;

	for (i = 0; i < LEASE_HASH_SIZE; i++)
		LIST_INIT(&lease_hash[i]);
	TAILQ_INIT(&lease_list);
	lease_n = 0;
	lease_next_id = seed != 0 ? seed : 1;
}

void
lease_table_fini(struct tiers *tiers)
{
	struct lease	*l;

	while ((l = TAILQ_FIRST(&lease_list)) != NULL)
		lease_destroy(l, tiers);
}

static struct lease_chain *
lease_chain(uint64_t id)
{
	return &lease_hash[(id ^ (id >> 17)) % LEASE_HASH_SIZE];
}

struct lease *
lease_create(struct tier *t, struct conn *c, const struct principal *pr,
    uint64_t size, int fd, const char *label)
{
	struct lease	*l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->id = lease_next_id++;
	l->tier = t;
	l->conn = c;
	l->pr = pr;
	l->size = size;
	l->fd = fd;
	if (label != NULL) {
		size_t	n = strnlen(label, sizeof(l->label) - 1);

		memcpy(l->label, label, n);	/* calloc'd: stays terminated */
	}
	LIST_INSERT_HEAD(lease_chain(l->id), l, hash_entry);
	TAILQ_INSERT_TAIL(&lease_list, l, all_entry);
	lease_n++;
	if (c != NULL) {
		TAILQ_INSERT_TAIL(&c->leases, l, conn_entry);
		c->nleases++;
		c->bytes += size;
	}
	tier_charge(t, size);
	quota_charge(pr, t->name, size);
	return l;
}

struct lease *
lease_find(uint64_t id)
{
	struct lease	*l;

	LIST_FOREACH(l, lease_chain(id), hash_entry)
		if (l->id == id)
			return l;
	return NULL;
}

void
lease_destroy(struct lease *l, struct tiers *tiers)
{
	LIST_REMOVE(l, hash_entry);
	TAILQ_REMOVE(&lease_list, l, all_entry);
	lease_n--;
	if (l->conn != NULL) {
		TAILQ_REMOVE(&l->conn->leases, l, conn_entry);
		l->conn->nleases--;
		l->conn->bytes -= l->size;
	}
	quota_uncharge(l->pr, l->tier->name, l->size);
	if (l->fd >= 0)
		close(l->fd);
	tier_uncharge(tiers, l->tier, l->size);
	free(l);
}

struct leases *
lease_all(void)
{
	return &lease_list;
}

unsigned
lease_count(void)
{
	return lease_n;
}

void
lease_audit(struct lease *l)
{
	struct stat	st;
	uint64_t	blocks;
	int		over;

	if (l->fd < 0 || fstat(l->fd, &st) != 0)
		return;
	blocks = (uint64_t)st.st_blocks * 512;
	l->physical = blocks;
	/*
	 * A client holds a writable fd to a file lease and could ftruncate
	 * or write past its end: space the grant never accounted for.
	 */
	over = (uint64_t)st.st_size > l->size || blocks > l->size;
	if (over && !l->overgrown)
		log_warnx("lease %llu: grown past its grant by pid %d "
		    "(%s): %llu bytes granted, size %llu, %llu bytes "
		    "allocated", (unsigned long long)l->id,
		    (int)l->pr->pid, l->pr->cgroup,
		    (unsigned long long)l->size,
		    (unsigned long long)st.st_size,
		    (unsigned long long)blocks);
	l->overgrown = over;
}

void
lease_audit_all(void)
{
	struct lease	*l;

	TAILQ_FOREACH(l, &lease_list, all_entry)
		lease_audit(l);
}
