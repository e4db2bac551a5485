/* SPDX-License-Identifier: BSD-3-Clause */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "lease.h"
#include "log.h"

#define JOURNAL_HEADER	"pmemtierd-leases 1\n"
/* A record: fixed fields, then a label and a cgroup escaped (3x). */
#define JOURNAL_LINE_MAX	(512 + 3 * (PMTD_LABEL_MAX + PMTD_CGROUP_MAX))
/* Compact when this many records are ended ones beyond the live. */
#define JOURNAL_SLACK	1024

/*
 * Ends are written lazily: a lost E record (the daemon killed before it
 * went out) only makes the next start look for a lease that is gone, or
 * take over one a process still holds, which is charging too much, never
 * too little. So E records wait here and go out with the next grant's
 * record (one write), each second (journal_flush), or when this fills.
 * A grant's record is written before the grant is answered.
 */
#define JOURNAL_PEND	8192

static struct {
	int		 fd;
	char		 path[PATH_MAX];
	unsigned	 records;	/* lines since the last compaction */
	unsigned	 failed;	/* writes that failed since */
	char		 pend[JOURNAL_PEND];
	size_t		 npend;
} journal = { .fd = -1 };

/* %-escapes src into dst: no space, no control byte; "" is "%00". */
static void
journal_escape(char *dst, size_t len, const char *src)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i = 0;
	unsigned char		ch;

	if (*src == '\0') {
		snprintf(dst, len, "%%00");
		return;
	}
	for (; *src != '\0' && i + 4 < len; src++) {
		ch = (unsigned char)*src;
		if (ch <= 0x20 || ch == 0x7f || ch == '%') {
			dst[i++] = '%';
			dst[i++] = hex[ch >> 4];
			dst[i++] = hex[ch & 15];
		} else
			dst[i++] = (char)ch;
	}
	dst[i] = '\0';
}

static int
journal_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Undoes journal_escape into dst (len bytes); -1 when malformed or long. */
static int
journal_unescape(char *dst, size_t len, const char *src)
{
	size_t	i = 0;
	int	h, l;

	for (; *src != '\0'; src++) {
		if (i + 1 >= len)
			return -1;
		if (*src != '%') {
			dst[i++] = *src;
			continue;
		}
		if ((h = journal_hexval(src[1])) < 0 ||
		    (l = journal_hexval(src[2])) < 0)
			return -1;
		if (h == 0 && l == 0) {		/* the empty string */
			if (i != 0 || src[3] != '\0')
				return -1;
			break;
		}
		dst[i++] = (char)(h << 4 | l);
		src += 2;
	}
	dst[i] = '\0';
	return 0;
}

static int
journal_u64(const char *s, uint64_t *v)
{
	char	*end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

int
journal_parse_line(char *line, struct journal_rec *rec)
{
	char		*f[14], *save = NULL, *p;
	uint64_t	 v[8];
	size_t		 n = 0, i;

	memset(rec, 0, sizeof(*rec));
	line[strcspn(line, "\n")] = '\0';
	for (p = strtok_r(line, " ", &save); p != NULL && n < 14;
	    p = strtok_r(NULL, " ", &save))
		f[n++] = p;
	if (p != NULL || n < 2 || f[0][1] != '\0')
		return 0;
	if (f[0][0] == 'Z' || f[0][0] == 'E')
		return n == 2 && journal_u64(f[1], &rec->id) == 0 &&
		    rec->id != 0 ? f[0][0] : 0;
	if (f[0][0] == 'B')
		return n == 3 && journal_u64(f[1], &rec->id) == 0 &&
		    rec->id != 0 && journal_u64(f[2], &rec->budget) == 0 &&
		    rec->budget != 0 && rec->budget <= INT64_MAX ? 'B' : 0;
	if (f[0][0] != 'G' || n != 13)
		return 0;
	/* G id tier size dev ino uid gid pid start dflt_len label cgroup */
	if (journal_u64(f[1], &rec->id) != 0 || rec->id == 0 ||
	    journal_unescape(rec->tier, sizeof(rec->tier), f[2]) != 0 ||
	    rec->tier[0] == '\0' ||
	    journal_unescape(rec->label, sizeof(rec->label), f[11]) != 0 ||
	    journal_unescape(rec->pr.cgroup, sizeof(rec->pr.cgroup),
	    f[12]) != 0 || rec->pr.cgroup[0] != '/')
		return 0;
	for (i = 0; i < 8; i++)
		if (journal_u64(f[3 + i], &v[i]) != 0)
			return 0;
	if (v[0] == 0 || v[0] > INT64_MAX || v[3] > UINT32_MAX ||
	    v[4] > UINT32_MAX || v[5] == 0 || v[5] > INT32_MAX ||
	    v[7] > strlen(rec->pr.cgroup))
		return 0;
	rec->size = v[0];
	rec->dev = v[1];
	rec->ino = v[2];
	rec->pr.uid = (uid_t)v[3];
	rec->pr.gid = (gid_t)v[4];
	rec->pr.pid = (pid_t)v[5];
	rec->pr.start = v[6];
	rec->pr.dflt_len = (size_t)v[7];
	rec->pr.pidfd = -1;
	return 'G';
}

/* Formats a G record into buf; its length. */
static size_t
journal_format(char *buf, size_t len, uint64_t id, const char *tier,
    uint64_t size, uint64_t dev, uint64_t ino, const struct principal *pr,
    uint64_t start, const char *label)
{
	char	t[3 * PMTD_NAME_MAX + 4], lb[3 * PMTD_LABEL_MAX + 4];
	char	cg[3 * PMTD_CGROUP_MAX + 4];
	int	n;

	journal_escape(t, sizeof(t), tier);
	journal_escape(lb, sizeof(lb), label);
	journal_escape(cg, sizeof(cg), pr->cgroup);
	n = snprintf(buf, len, "G %" PRIu64 " %s %" PRIu64 " %" PRIu64 " %"
	    PRIu64 " %u %u %d %" PRIu64 " %zu %s %s\n", id, t, size, dev, ino,
	    (unsigned)pr->uid, (unsigned)pr->gid, (int)pr->pid, start,
	    pr->dflt_len, lb, cg[0] != '\0' ? cg : "/");
	return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

/* Writes the pending ends and then buf (may be empty) in one call. */
static void
journal_write(const char *buf, size_t len)
{
	struct iovec	iov[2] = {
		{ journal.pend, journal.npend },
		{ (void *)buf, len },
	};

	if (journal.fd < 0 || journal.npend + len == 0)
		return;
	if (writev(journal.fd, iov, 2) != (ssize_t)(journal.npend + len)) {
		if (journal.failed++ == 0)
			log_warn("journal: %s: write (a restart would not know "
			    "every lease; retrying with a rewrite)",
			    journal.path);
	} else
		journal.records++;
	journal.npend = 0;
}

/* A failed write is repaired by a rewrite, tried once a flush (1 s). */
void
journal_flush(void)
{
	journal_write("", 0);
	if (journal.failed > 0)
		(void)journal_compact();
}

/* Compacts when ended records pile up. */
static void
journal_maybe_compact(void)
{
	unsigned	live = lease_count() + lease_zombie_count();

	if (journal.records > 2 * live + JOURNAL_SLACK)
		(void)journal_compact();
}

void
journal_grant(const struct lease *l)
{
	static char	buf[JOURNAL_LINE_MAX + 64];
	size_t		n;

	if (journal.fd < 0)
		return;
	n = journal_format(buf, JOURNAL_LINE_MAX, l->id, l->tier->name,
	    l->size, l->dev, l->ino, l->pr, l->pr->start, l->label);
	/* A budget below the size goes in the same write. */
	if (l->budget != l->size)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "B %" PRIu64
		    " %" PRIu64 "\n", l->id, l->budget);
	journal_write(buf, n);
	journal_maybe_compact();
}

static void
journal_pend(const char *buf, int n)
{
	if (journal.npend + (size_t)n > sizeof(journal.pend))
		journal_flush();
	memcpy(journal.pend + journal.npend, buf, (size_t)n);
	journal.npend += (size_t)n;
	journal.records++;
	journal_maybe_compact();
}

void
journal_end(uint64_t id, int zombie)
{
	char	buf[32];

	if (journal.fd >= 0)
		journal_pend(buf, snprintf(buf, sizeof(buf), "%c %" PRIu64
		    "\n", zombie ? 'Z' : 'E', id));
}

void
journal_budget(uint64_t id, uint64_t bytes)
{
	char	buf[64];

	if (journal.fd >= 0)
		journal_pend(buf, snprintf(buf, sizeof(buf), "B %" PRIu64 " %"
		    PRIu64 "\n", id, bytes));
}

/* Writes every live lease and zombie to fd; 0 or -errno. */
static int
journal_dump(FILE *f)
{
	static char		 buf[JOURNAL_LINE_MAX];
	struct principal	 zp;
	struct lease		*l;
	const struct zombie	*z;
	unsigned		 n = 1;

	if (fputs(JOURNAL_HEADER, f) == EOF)
		return -1;
	TAILQ_FOREACH(l, lease_all(), all_entry) {
		journal_format(buf, sizeof(buf), l->id, l->tier->name,
		    l->size, l->dev, l->ino, l->pr, l->pr->start, l->label);
		if (fputs(buf, f) == EOF)
			return -1;
		n++;
		if (l->budget != l->size) {
			if (fprintf(f, "B %" PRIu64 " %" PRIu64 "\n", l->id,
			    l->budget) < 0)
				return -1;
			n++;
		}
	}
	TAILQ_FOREACH(z, lease_zombie_list(), entry) {
		memset(&zp, 0, sizeof(zp));
		zp.uid = z->uid;
		zp.pid = z->pid;
		zp.cgroup[0] = '/';
		journal_format(buf, sizeof(buf), z->id, z->tier->name, 1,
		    z->dev, z->ino, &zp, z->start, "");
		if (fputs(buf, f) == EOF ||
		    fprintf(f, "Z %" PRIu64 "\n", z->id) < 0)
			return -1;
		n += 2;
	}
	journal.records = n;
	return 0;
}

int
journal_compact(void)
{
	char	tmp[PATH_MAX + 8];
	FILE	*f;
	int	fd, ok;

	if (journal.fd < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.new", journal.path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		log_warn("journal: %s", tmp);
		return -1;
	}
	ok = journal_dump(f) == 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, journal.path) != 0) {
		journal_flush();
		log_warn("journal: rewriting %s", journal.path);
		unlink(tmp);
		return -1;
	}
	/*
	 * The lock goes with the old file: take it on the new one first
	 * (nobody else can, while the old one is locked by this process).
	 */
	if ((fd = open(journal.path, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0 ||
	    flock(fd, LOCK_EX | LOCK_NB) != 0) {
		log_warn("journal: reopening %s", journal.path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(journal.fd);
	journal.fd = fd;
	journal.failed = 0;
	/* The table the new file was written from has no pending end. */
	journal.npend = 0;
	return 0;
}

static int
journal_id_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Appends v to a growing array of n elements of size sz; -1 on ENOMEM. */
static int
journal_push(void *arrp, size_t *n, size_t *cap, size_t sz, const void *v)
{
	void	**arr = arrp, *p;

	if (*n == *cap) {
		*cap = *cap != 0 ? *cap * 2 : 256;
		if ((p = reallocarray(*arr, *cap, sz)) == NULL)
			return -1;
		*arr = p;
	}
	memcpy((char *)*arr + *n * sz, v, sz);
	(*n)++;
	return 0;
}

/* A B record: budgets change over time, the last one counts. */
struct journal_b {
	uint64_t	id;
	uint64_t	seq;
	uint64_t	budget;
};

static int
journal_b_cmp(const void *a, const void *b)
{
	const struct journal_b	*x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The last budget recorded for id, or 0. */
static uint64_t
journal_last_budget(const struct journal_b *b, size_t n, uint64_t id)
{
	size_t	lo = 0, hi = n;

	/* The first entry past id's: the one before it is id's last. */
	while (lo < hi) {
		size_t	mid = (lo + hi) / 2;

		if (b[mid].id <= id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && b[lo - 1].id == id ? b[lo - 1].budget : 0;
}

static int
journal_has(const uint64_t *ids, size_t n, uint64_t id)
{
	return n > 0 && bsearch(&id, ids, n, sizeof(*ids), journal_id_cmp);
}

/*
 * Reads every line, then keeps the grants no E record ended (a Z record
 * makes one a zombie). Ids are never reused, so the order of lines does
 * not matter; sorting keeps 10000 leases well under a second.
 */
static int
journal_read(FILE *f, struct journal_rec **recs, size_t *n, unsigned *bad)
{
	static char		 line[JOURNAL_LINE_MAX];
	struct journal_rec	 r, *g = NULL;
	struct journal_b	 jb, *b = NULL;
	uint64_t		*z = NULL, *e = NULL;
	size_t			 ng = 0, cg = 0, nz = 0, cz = 0, ne = 0, ce = 0;
	size_t			 nb = 0, cb = 0;
	size_t			 i, k;
	unsigned		 lineno = 0;
	int			 kind, ch, rc = -1;

	*bad = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			/* Longer than any record: skip the rest of it. */
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
			kind = 0;
		} else if (lineno == 1 && strcmp(line, JOURNAL_HEADER) == 0)
			continue;
		else
			kind = journal_parse_line(line, &r);
		jb.id = r.id;
		jb.seq = lineno;
		jb.budget = r.budget;
		if ((kind == 'G' && journal_push(&g, &ng, &cg, sizeof(r),
		    &r) != 0) || (kind == 'B' && journal_push(&b, &nb, &cb,
		    sizeof(jb), &jb) != 0) || (kind == 'Z' && journal_push(&z, &nz, &cz,
		    sizeof(r.id), &r.id) != 0) || (kind == 'E' &&
		    journal_push(&e, &ne, &ce, sizeof(r.id), &r.id) != 0))
			goto out;
		if (kind == 0 && (*bad)++ < 5)
			log_warnx("journal: %s: line %u cannot be read; "
			    "skipped", journal.path, lineno);
	}
	if (ferror(f))
		goto out;
	if (ne > 0)
		qsort(e, ne, sizeof(*e), journal_id_cmp);
	if (nz > 0)
		qsort(z, nz, sizeof(*z), journal_id_cmp);
	if (nb > 0)
		qsort(b, nb, sizeof(*b), journal_b_cmp);
	for (i = k = 0; i < ng; i++) {
		if (journal_has(e, ne, g[i].id))
			continue;
		g[i].zombie = journal_has(z, nz, g[i].id);
		g[i].budget = journal_last_budget(b, nb, g[i].id);
		g[k++] = g[i];
	}
	*recs = g;
	*n = k;
	g = NULL;
	rc = 0;
out:
	free(g);
	free(b);
	free(z);
	free(e);
	return rc;
}

int
journal_open(const char *state_dir, struct journal_rec **recs, size_t *n,
    unsigned *bad, char *err, size_t errlen)
{
	FILE	*f;
	int	 fd;

	*recs = NULL;
	*n = 0;
	*bad = 0;
	if (mkdir(state_dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "state_dir %s: %s", state_dir,
		    strerror(errno));
		return -1;
	}
	if (snprintf(journal.path, sizeof(journal.path), "%s/%s", state_dir,
	    JOURNAL_FILE) >= (int)sizeof(journal.path)) {
		snprintf(err, errlen, "state_dir %s: path too long", state_dir);
		return -1;
	}
	fd = open(journal.path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", journal.path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			snprintf(err, errlen, "another pmemtierd is running "
			    "with state_dir %s (it holds the lock on %s)",
			    state_dir, journal.path);
		else
			snprintf(err, errlen, "%s: %s", journal.path,
			    strerror(errno));
		close(fd);
		return -1;
	}
	if ((f = fdopen(dup(fd), "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", journal.path, strerror(errno));
		close(fd);
		return -1;
	}
	rewind(f);
	if (journal_read(f, recs, n, bad) != 0) {
		snprintf(err, errlen, "%s: read error", journal.path);
		fclose(f);
		free(*recs);
		*recs = NULL;
		close(fd);
		return -1;
	}
	fclose(f);
	journal.fd = fd;
	journal.records = 0;
	journal.failed = 0;
	if (*bad > 5)
		log_warnx("journal: %s: %u lines in all skipped", journal.path,
		    *bad);
	return 0;
}

void
journal_close(void)
{
	journal_flush();
	if (journal.fd >= 0)
		close(journal.fd);
	journal.fd = -1;
}
