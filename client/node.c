/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

#define NODE_MAX	4096
#define NODE_SYSFS	"/sys/devices/system/node"

/* Marks the nodes of a kernel list ("0-3,8") in set; -1 if malformed. */
static int
node_parse_list(const char *s, bool *set)
{
	char	*end;
	long	 lo, hi;

	while (*s != '\0' && *s != '\n') {
		lo = strtol(s, &end, 10);
		if (end == s || lo < 0 || lo >= NODE_MAX)
			return -1;
		hi = lo;
		if (*end == '-') {
			s = end + 1;
			hi = strtol(s, &end, 10);
			if (end == s || hi < lo || hi >= NODE_MAX)
				return -1;
		}
		for (; lo <= hi; lo++)
			set[lo] = true;
		s = end;
		if (*s == ',')
			s++;
	}
	return 0;
}

/* The value after "key" on a line of path, as a string in buf. */
static int
node_read_field(const char *path, const char *key, char *buf, size_t len)
{
	char	 line[512], *v;
	FILE	*f;
	int	 rc = -1;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if ((v = strstr(line, key)) == NULL)
			continue;
		v += strlen(key);
		v += strspn(v, " \t");
		snprintf(buf, len, "%s", v);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

/* "Node 0 MemTotal:  10708728 kB" */
static ssize_t
node_mem_total(int node)
{
	char	path[64], val[64];

	snprintf(path, sizeof(path), NODE_SYSFS "/node%d/meminfo", node);
	if (node_read_field(path, "MemTotal:", val, sizeof(val)) != 0)
		return -1;
	return (ssize_t)strtoll(val, NULL, 10) * 1024;
}

ssize_t
pmt_node_capacity(enum pmt_node_set which)
{
	bool		set[NODE_MAX];
	char		list[1024];
	ssize_t		sum = 0, m;
	int		rc, i;

	memset(set, 0, sizeof(set));
	if (which == PMT_NODES_ALLOWED)
		rc = node_read_field("/proc/self/status", "Mems_allowed_list:",
		    list, sizeof(list));
	else
		rc = node_read_field(NODE_SYSFS "/has_cpu", "", list,
		    sizeof(list));
	if (rc != 0 || node_parse_list(list, set) != 0)
		return -1;
	for (i = 0; i < NODE_MAX; i++) {
		if (!set[i])
			continue;
		/* An allowed node may be memoryless or offline: no sysfs. */
		if ((m = node_mem_total(i)) < 0)
			continue;
		sum += m;
	}
	return sum;
}
