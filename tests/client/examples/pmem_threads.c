/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A memkind program: threads sharing one pmem kind, each freeing what
 * another allocated.
 */
#include <memkind.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define THREADS	4
#define BLOCKS	10000

static struct memkind	*pmem;
static void		*slots[THREADS][BLOCKS];
static pthread_barrier_t barrier;
static int		 errors;

static void *
worker(void *arg)
{
	int	id = (int)(long)arg, next = (id + 1) % THREADS, i;

	for (i = 0; i < BLOCKS; i++) {
		slots[id][i] = memkind_malloc(pmem, 16 + (size_t)(i % 300));
		if (slots[id][i] == NULL)
			__sync_fetch_and_add(&errors, 1);
		else
			memset(slots[id][i], id, 16);
	}
	pthread_barrier_wait(&barrier);
	for (i = 0; i < BLOCKS; i++) {
		unsigned char *p = slots[next][i];

		if (p != NULL && p[15] != next)
			__sync_fetch_and_add(&errors, 1);
		memkind_free(NULL, p);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	const char	*dir = argc > 1 ? argv[1] : "/tmp";
	pthread_t	 t[THREADS];
	long		 i;

	if (memkind_create_pmem(dir, 0, &pmem) != MEMKIND_SUCCESS)
		return 1;
	pthread_barrier_init(&barrier, NULL, THREADS);
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	printf("%d threads, %d blocks each, %d errors\n", THREADS, BLOCKS,
	    errors);
	memkind_destroy_kind(pmem);
	return errors != 0;
}
