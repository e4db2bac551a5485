/* SPDX-License-Identifier: BSD-3-Clause */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tutil.h"

int
tu_mkdtemp(char *buf, size_t size, const char *tag)
{
	const char	*tmp = getenv("TMPDIR");

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if ((size_t)snprintf(buf, size, "%s/pmt-%s.XXXXXX", tmp, tag) >= size)
		return -1;
	return mkdtemp(buf) != NULL ? 0 : -1;
}

static int
tu_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path) == 0 ? 0 : 0;
}

void
tu_rmdir(const char *dir)
{
	(void)nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

long long
tu_file_blocks(const char *prefix)
{
	struct dirent	*de;
	DIR		*d;
	long long	 total = 0;
	size_t		 plen = strlen(prefix);

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char		link[300], target[4096];
		struct stat	st;
		ssize_t		n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		if ((n = readlink(link, target, sizeof(target) - 1)) <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, prefix, plen) != 0)
			continue;
		if (stat(link, &st) == 0 && S_ISREG(st.st_mode))
			total += (long long)st.st_blocks * 512;
	}
	closedir(d);
	return total;
}

int
tu_count_fds(void)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own descriptor */
}

int
tu_settled_fds(int want)
{
	int	n = tu_count_fds(), i;

	/*
	 * The library's background thread holds the daemon connection for
	 * the length of a usage report: a kind destroyed meanwhile closes it
	 * when the report ends, not at once. Give it 2 s.
	 */
	for (i = 0; i < 200 && n != want; i++) {
		usleep(10000);
		n = tu_count_fds();
	}
	return n;
}

ssize_t
tu_stderr_bytes(void (*fn)(void *), void *arg, int *status)
{
	char	buf[4096];
	ssize_t	n, total = 0;
	pid_t	pid;
	int	pfd[2];

	if (pipe(pfd) != 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], STDERR_FILENO);
		fn(arg);
		_exit(0);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
		total += n;
	close(pfd[0]);
	if (waitpid(pid, status, 0) != pid)
		return -1;
	return total;
}

void
tu_fill(void *p, size_t n, unsigned seed)
{
	unsigned char	*c = p;
	size_t		 i;

	for (i = 0; i < n; i++)
		c[i] = (unsigned char)(seed * 31 + i * 7);
}

int
tu_check(const void *p, size_t n, unsigned seed)
{
	const unsigned char	*c = p;
	size_t			 i;

	for (i = 0; i < n; i++)
		if (c[i] != (unsigned char)(seed * 31 + i * 7))
			return -1;
	return 0;
}

int
tu_thread_allocated(uint64_t *bytes)
{
	static int	(*ctl)(const char *, void *, size_t *, void *, size_t);
	size_t		sz = sizeof(*bytes);
	void		*sym;

	if (ctl == NULL) {
		if ((sym = dlsym(RTLD_DEFAULT, "mallctl")) == NULL)
			return -1;
		memcpy(&ctl, &sym, sizeof(sym));
	}
	return ctl("thread.allocated", bytes, &sz, NULL, 0) == 0 ? 0 : -1;
}
