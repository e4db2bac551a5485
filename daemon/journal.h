/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lease journal: what a restarted daemon needs to know again about
 * every live lease (issue 10). One file, state_dir/leases, of text lines
 * appended as leases come and go:
 *
 *	pmemtierd-leases 1			header
 *	G id tier size dev ino uid gid pid start dflt_len label cgroup
 *	B id bytes				commit budget changed
 *	Z id					ended, file kept by a client
 *	E id					gone for good
 *
 * Strings are %-escaped (space, %, control bytes); the cgroup is last.
 * Each record is one write(2) to an O_APPEND descriptor, so a daemon
 * killed at any point leaves whole lines behind; no fsync, because
 * nothing it describes survives a reboot either. The file is rewritten
 * (compacted) from the lease table when ended records outnumber live
 * ones. The daemon holds an exclusive flock on it: a second daemon on the
 * same state_dir refuses to start.
 */
#ifndef PMEMTIERD_JOURNAL_H
#define PMEMTIERD_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "pmemtierd.h"

#define JOURNAL_FILE	"leases"

/* A live lease (or zombie) as the journal last described it. */
struct journal_rec {
	uint64_t		 id;
	char			 tier[PMTD_NAME_MAX];
	uint64_t		 size;
	uint64_t		 budget;	/* 0: the whole size */
	uint64_t		 dev;
	uint64_t		 ino;
	char			 label[PMTD_LABEL_MAX];
	int			 zombie;
	struct principal	 pr;	/* uid gid pid start dflt_len cgroup */
};

/*
 * Opens (creating) and locks state_dir/leases, and reads what it holds:
 * *recs (caller frees) gets the leases not ended, *bad the number of lines
 * that could not be read (logged). 0, or -1 with err set.
 */
int	journal_open(const char *state_dir, struct journal_rec **recs,
	    size_t *n, unsigned *bad, char *err, size_t errlen);
/* Records a grant. */
void	journal_grant(const struct lease *);
/* Records a lease's end (zombie: a client still has the file); written
 * with the next grant or flush. */
void	journal_end(uint64_t id, int zombie);
/* Records a new commit budget; written lazily like an end (a lost one
 * is made up for by the audit, which charges what the file holds). */
void	journal_budget(uint64_t id, uint64_t bytes);
/* Writes the ends not written yet (each second, and at stop). */
void	journal_flush(void);
/* Rewrites the journal from the lease table (after a restore, and when
 * it has grown); 0 or -1 (logged; the old file stays). */
int	journal_compact(void);
void	journal_close(void);

/* For the unit test of the parser: one line into rec. 'G', 'B', 'Z',
 * 'E' or 0 when it cannot be read (a B line's bytes go to rec->budget). */
int	journal_parse_line(char *line, struct journal_rec *rec);

#endif /* PMEMTIERD_JOURNAL_H */
