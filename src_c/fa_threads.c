/*
 * fa_threads.c -- the worker threads behind fastact.set_num_threads() / FASTACT_NUM_THREADS.
 *
 * One process-wide pool of POSIX threads.  The default is 1 thread (everything runs on
 * the caller, no thread is ever created); FASTACT_NUM_THREADS=n (1 <= n <= FA_THREADS_MAX,
 * decimal digits only) is read once, when fastact.kernels is imported: other values are
 * ignored (and reported by fastact.show_config()).  fa_set_num_threads() changes it at
 * any time.
 *
 * fa_parallel_for(count, grain, fn, ctx) cuts [0, count) into at most num_threads
 * contiguous parts whose edges are multiples of `grain`, runs part 0 on the calling
 * thread and the others on workers 1 .. parts-1, and returns when all are done.  The cut
 * depends only on (count, grain, parts), and the callers (fa_dispatch.c) give kernels
 * work that is independent per element or per slice, so no result depends on the thread
 * count.
 *
 * Workers are created on the first call that needs them and then sleep on a condition
 * variable between calls (no spinning).  One parallel region runs at a time: a caller
 * that finds the pool busy (another Python thread, another extension) runs its whole
 * range itself, so concurrent calls are safe and never wait for each other.  Workers
 * block every signal (the interpreter's main thread handles them).  After fork() the
 * child has no workers: the pool is reset and recreated on demand.  Without POSIX
 * threads everything runs on the caller and the thread count stays 1.
 * This file is compiled with baseline flags.
 */
#include <stdlib.h>
#include "fa_common.h"

#if defined(__unix__) || defined(__unix) || defined(__APPLE__)
#include <unistd.h>
#endif
#if defined(_POSIX_THREADS) && _POSIX_THREADS > 0 && !defined(FA_NO_THREADS)
#define FA_HAVE_THREADS 1
#include <pthread.h>
#include <signal.h>
#else
#define FA_HAVE_THREADS 0
#endif

static int fa_threads = 0;              /* 0 until fa_threads_init() */
static int fa_threads_env = -1;         /* FASTACT_NUM_THREADS: -1 unset, -2 ignored, else n */

int fa_threads_init(void)
{
    if (__atomic_load_n(&fa_threads, __ATOMIC_RELAXED))
        return fa_threads;
    int n = 1;
    const char *env = getenv("FASTACT_NUM_THREADS");
    if (env && *env) {
        long v = 0;
        const char *c = env;
        for (; *c >= '0' && *c <= '9' && v <= FA_THREADS_MAX; c++)
            v = 10 * v + (*c - '0');
        fa_threads_env = (*c == '\0' && v >= 1 && v <= FA_THREADS_MAX) ? (int)v : -2;
        if (fa_threads_env > 0)
            n = FA_HAVE_THREADS ? fa_threads_env : 1;
    }
    __atomic_store_n(&fa_threads, n, __ATOMIC_RELAXED);
    return n;
}

int fa_threads_requested(void) { return fa_threads_env; }

int fa_get_num_threads(void)
{
    const int n = __atomic_load_n(&fa_threads, __ATOMIC_RELAXED);
    return n ? n : fa_threads_init();
}

int fa_set_num_threads(int n)
{
    if (n < 1 || n > FA_THREADS_MAX)
        return -1;
    const int before = fa_get_num_threads();
    __atomic_store_n(&fa_threads, FA_HAVE_THREADS ? n : 1, __ATOMIC_RELAXED);
    return before;
}

/* bounds of part k of `parts`: whole grains, the first (units % parts) parts one grain longer */
static void fa_part_bounds(ptrdiff_t count, ptrdiff_t grain, int parts, int k, ptrdiff_t *begin,
                           ptrdiff_t *end)
{
    const ptrdiff_t units = (count + grain - 1) / grain, per = units / parts, extra = units % parts;
    const ptrdiff_t b = k * per + (k < extra ? k : extra);
    const ptrdiff_t e = b + per + (k < extra);
    *begin = b * grain;
    *end = e * grain < count ? e * grain : count;
}

#if FA_HAVE_THREADS
typedef struct fa_job {
    void (*fn)(void *ctx, ptrdiff_t begin, ptrdiff_t end);
    void *ctx;
    ptrdiff_t count, grain;
    int parts;
} fa_job;

static pthread_mutex_t fa_region = PTHREAD_MUTEX_INITIALIZER;  /* held by the running region */
static pthread_mutex_t fa_lock = PTHREAD_MUTEX_INITIALIZER;    /* guards everything below */
static pthread_cond_t fa_wake = PTHREAD_COND_INITIALIZER;      /* a new job (fa_generation) */
static pthread_cond_t fa_done = PTHREAD_COND_INITIALIZER;      /* fa_pending reached 0 */
static fa_job fa_current_job;
static unsigned long fa_generation;
static int fa_pending;                   /* parts of the current job not finished by workers */
static int fa_nworkers;                  /* workers 1 .. fa_nworkers exist */
static unsigned long fa_born_at[FA_THREADS_MAX];   /* fa_generation when worker k was created */

static void *fa_worker(void *arg)
{
    const int part = (int)(intptr_t)arg;
    pthread_mutex_lock(&fa_lock);
    unsigned long seen = fa_born_at[part];
    for (;;) {
        while (fa_generation == seen)
            pthread_cond_wait(&fa_wake, &fa_lock);
        seen = fa_generation;
        const fa_job job = fa_current_job;
        if (part >= job.parts)
            continue;                    /* not needed this time: back to sleep */
        pthread_mutex_unlock(&fa_lock);
        ptrdiff_t begin, end;
        fa_part_bounds(job.count, job.grain, job.parts, part, &begin, &end);
        job.fn(job.ctx, begin, end);
        pthread_mutex_lock(&fa_lock);
        if (--fa_pending == 0)
            pthread_cond_signal(&fa_done);
    }
    return NULL;
}

/* fork(): no region may be running across it; the child starts with no workers */
static void fa_fork_prepare(void) { pthread_mutex_lock(&fa_region); pthread_mutex_lock(&fa_lock); }
static void fa_fork_parent(void) { pthread_mutex_unlock(&fa_lock); pthread_mutex_unlock(&fa_region); }
static void fa_fork_child(void)
{
    fa_nworkers = 0;
    fa_pending = 0;
    pthread_cond_init(&fa_wake, NULL);  /* the parent's sleeping workers do not exist here */
    pthread_cond_init(&fa_done, NULL);
    fa_fork_parent();
}

/* workers up to number `want` (called holding fa_region); returns how many exist */
static int fa_grow_pool(int want)
{
    static int fork_handlers;
    if (!fork_handlers)
        fork_handlers = pthread_atfork(fa_fork_prepare, fa_fork_parent, fa_fork_child) == 0 ? 1 : -1;
    if (fork_handlers < 0)
        return 0;                        /* without them a forked child could wait forever */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);   /* inherited by the new threads */
    pthread_mutex_lock(&fa_lock);
    while (fa_nworkers < want) {
        pthread_t t;
        const int part = fa_nworkers + 1;
        fa_born_at[part] = fa_generation;
        if (pthread_create(&t, NULL, fa_worker, (void *)(intptr_t)part) != 0)
            break;
        pthread_detach(t);
        fa_nworkers = part;
    }
    const int have = fa_nworkers;
    pthread_mutex_unlock(&fa_lock);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return have;
}

void fa_parallel_for(ptrdiff_t count, ptrdiff_t grain, void (*fn)(void *ctx, ptrdiff_t begin, ptrdiff_t end),
                     void *ctx)
{
    if (count <= 0)
        return;
    if (grain < 1)
        grain = 1;
    const ptrdiff_t units = (count + grain - 1) / grain;
    int parts = fa_get_num_threads();
    if (units < parts)
        parts = (int)units;
    if (parts <= 1 || pthread_mutex_trylock(&fa_region) != 0) {
        fn(ctx, 0, count);
        return;
    }
    const int workers = fa_grow_pool(parts - 1);
    if (workers < parts - 1)
        parts = workers + 1;
    if (parts > 1) {
        pthread_mutex_lock(&fa_lock);
        fa_current_job = (fa_job){fn, ctx, count, grain, parts};
        fa_pending = parts - 1;
        fa_generation++;
        pthread_cond_broadcast(&fa_wake);
        pthread_mutex_unlock(&fa_lock);
    }
    ptrdiff_t begin, end;
    fa_part_bounds(count, grain, parts, 0, &begin, &end);
    fn(ctx, begin, end);
    if (parts > 1) {
        pthread_mutex_lock(&fa_lock);
        while (fa_pending > 0)
            pthread_cond_wait(&fa_done, &fa_lock);
        pthread_mutex_unlock(&fa_lock);
    }
    pthread_mutex_unlock(&fa_region);
}

#else  /* no POSIX threads: the caller does everything */

void fa_parallel_for(ptrdiff_t count, ptrdiff_t grain, void (*fn)(void *ctx, ptrdiff_t begin, ptrdiff_t end),
                     void *ctx)
{
    (void)grain;
    if (count > 0)
        fn(ctx, 0, count);
}

#endif
