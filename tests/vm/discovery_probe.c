/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * discovery_probe: drives daemon/discovery from the VM scenarios.
 *
 *   discovery_probe                      one "dev ..." line per device
 *   discovery_probe online DAXDEV [normal]  discovery_online_kmem()
 *   discovery_probe dax DIR              discovery_probe_dax()
 *   discovery_probe touch MIB            touch MIB of anonymous memory and
 *                                        print on which nodes it landed
 *   discovery_probe cxl [MEMDEV=MODE...] the CXL scan, decided (a memdev
 *                                        given wants MODE: pmem, ram),
 *                                        one "memdev/decoder/region ..."
 *                                        line each
 *
 * Exit status: 0 success (for "dax": DAX in effect), 1 refused or not DAX
 * (the message is printed), 2 usage. Failures print the errno name so the
 * scenario can assert which refusal it got.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "discovery.h"
#include "discovery_cxl.h"

static const char *
errname(int e)
{
	switch (e) {
	case ENODEV:
		return "ENODEV";
	case EBUSY:
		return "EBUSY";
	case ENOENT:
		return "ENOENT";
	case EINVAL:
		return "EINVAL";
	case ENXIO:
		return "ENXIO";
	default:
		return strerror(e);
	}
}

static int
probe_scan(void)
{
	struct discovery	*d;
	char			 msg[512], line[1024];
	size_t			 i;
	int			 rc;

	if ((rc = discovery_scan(&d, msg, sizeof(msg))) < 0) {
		printf("scan: error %s: %s\n", errname(-rc), msg);
		return 1;
	}
	for (i = 0; i < d->ndev; i++) {
		discovery_dev_describe(&d->dev[i], line, sizeof(line));
		discovery_tier_name(&d->dev[i], msg, sizeof(msg));
		printf("dev %s tier=%s\n", line, msg);
	}
	printf("scan: %zu devices%s%s\n", d->ndev, d->note[0] ? "; " : "",
	    d->note);
	discovery_free(d);
	return 0;
}

static int
probe_cxl(int argc, char *argv[])
{
	struct discovery_cxl	*c;
	char			 msg[512], line[1024], name[64];
	const char		*eq;
	size_t			 i;
	int			 rc, a;

	if ((rc = discovery_cxl_scan(&c, msg, sizeof(msg))) < 0) {
		printf("cxl: error %s: %s\n", errname(-rc), msg);
		return 1;
	}
	for (a = 0; a < argc; a++) {
		if ((eq = strchr(argv[a], '=')) == NULL)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(eq - argv[a]),
		    argv[a]);
		for (i = 0; i < c->nmemdev; i++)
			if (strcmp(c->memdev[i].name, name) == 0)
				(void)discovery_cxl_mode_parse(eq + 1,
				    &c->memdev[i].want);
	}
	discovery_cxl_decide(c);
	for (i = 0; i < c->nmemdev; i++) {
		discovery_cxl_memdev_describe(&c->memdev[i], line, sizeof(line));
		printf("memdev %s\n", line);
	}
	for (i = 0; i < c->ndecoder; i++) {
		discovery_cxl_decoder_describe(&c->decoder[i], line,
		    sizeof(line));
		printf("decoder %s\n", line);
	}
	for (i = 0; i < c->nregion; i++) {
		discovery_cxl_region_describe(&c->region[i], line, sizeof(line));
		printf("region %s\n", line);
	}
	printf("cxl: %zu memdevs, %zu root decoders, %zu regions%s%s\n",
	    c->nmemdev, c->ndecoder, c->nregion, c->note[0] ? "; " : "",
	    c->note);
	discovery_cxl_free(c);
	return 0;
}

static int
probe_online(const char *dev, int movable)
{
	struct discovery_online_opts	o = { .movable = movable };
	char				msg[512] = "";
	int				rc;

	rc = discovery_online_kmem(dev, &o, msg, sizeof(msg));
	if (rc < 0) {
		printf("online: %s: %s\n", errname(-rc), msg);
		return 1;
	}
	printf("online: node=%d: %s\n", rc, msg);
	return 0;
}

static int
probe_dax(const char *dir)
{
	char	msg[512] = "";
	int	rc;

	rc = discovery_probe_dax(dir, msg, sizeof(msg));
	if (rc < 0) {
		printf("dax: %s: %s: %s\n", dir, errname(-rc), msg);
		return 1;
	}
	printf("dax: %s: %s%s%s\n", dir, rc ? "yes" : "no", msg[0] ? ": " : "",
	    msg);
	return rc ? 0 : 1;
}

/* Where the kernel put each page, asked with move_pages(2) without moving
 * anything (nodes == NULL), so the policy the process runs under (numactl
 * --membind) is what is measured. */
static int
probe_touch(const char *mib)
{
	size_t	 len = strtoul(mib, NULL, 10) << 20, pg = 4096, n, i;
	int	 count[8] = { 0 }, *status;
	void	**pages;
	char	*p;

	n = len / pg;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	pages = calloc(n, sizeof(*pages));
	status = calloc(n, sizeof(*status));
	if (p == MAP_FAILED || pages == NULL || status == NULL || n == 0) {
		printf("touch: cannot map %s MiB\n", mib);
		return 1;
	}
	for (i = 0; i < n; i++) {
		p[i * pg] = 1;
		pages[i] = p + i * pg;
	}
	if (syscall(SYS_move_pages, 0, n, pages, NULL, status, 0) != 0) {
		printf("touch: move_pages: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++)
		if (status[i] >= 0 && status[i] < 8)
			count[status[i]]++;
	printf("touch: pages=%zu node0=%d node1=%d\n", n, count[0], count[1]);
	free(status);
	free(pages);
	munmap(p, len);
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc == 1)
		return probe_scan();
	if (argc >= 3 && strcmp(argv[1], "online") == 0)
		return probe_online(argv[2],
		    !(argc > 3 && strcmp(argv[3], "normal") == 0));
	if (argc == 3 && strcmp(argv[1], "dax") == 0)
		return probe_dax(argv[2]);
	if (argc == 3 && strcmp(argv[1], "touch") == 0)
		return probe_touch(argv[2]);
	if (argc >= 2 && strcmp(argv[1], "cxl") == 0)
		return probe_cxl(argc - 2, argv + 2);
	fprintf(stderr, "usage: discovery_probe [online DAXDEV [normal] | "
	    "dax DIR | touch MIB | cxl [MEMDEV=MODE...]]\n");
	return 2;
}
