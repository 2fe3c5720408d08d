/*
 * fa_threads.c -- the worker threads behind fastact.set_num_threads() / FASTACT_NUM_THREADS.
 *
 * One process-wide pool of POSIX threads.  The default is 1 thread (everything runs on
 * the caller, no thread is ever created); FASTACT_NUM_THREADS=n (1 <= n <= FA_THREADS_MAX,
 * decimal digits only) is read once, when fastact.kernels is imported: other values are
 * ignored (and reported by fastact.show_config()).  fa_set_num_threads() changes it at
 * any time.
 *
 * fa_parallel_for(count, grain, fn, ctx) cuts [0, count) into chunks whose edges are
 * multiples of `grain` (up to FA_CHUNKS_PER_THREAD per thread), and the calling thread
 * and up to num_threads-1 workers claim them one at a time (an atomic counter tagged
 * with the job's generation); it returns when every chunk is done.  A worker that wakes
 * late (waking a sleeping thread costs ~5-50 us, more on a virtual machine or when the
 * core is busy with another process) just takes fewer chunks, or none, so small calls
 * lose little.  The callers (fa_dispatch.c) give kernels work that is independent per
 * element or per slice, so no result depends on the cut or on which thread ran a chunk.
 *
 * Workers are created on the first call that needs them.  Between calls a worker spins
 * for ~0.1-1 ms (FA_IDLE_SPINS pause loops, reading only) and then sleeps on a condition
 * variable, so calls that come back to back find it awake (fa_idle_spin); the caller
 * spins briefly too, while chunks it waits for are being computed.  Lowering the count (set_num_threads(256) then 1)
 * retires the workers beyond it: each worker carries the epoch of its slot at its birth,
 * fa_set_num_threads() bumps the epochs of the slots it gives up and wakes them, and a
 * worker whose slot's epoch moved on exits (so no stale worker can take a job, even if
 * its slot is refilled before it wakes).  One parallel region runs at a time: a caller that
 * finds the pool busy (another Python thread, another extension) runs its whole range
 * itself, so concurrent calls are safe and never wait for each other.  Workers block
 * every signal (the interpreter's main thread handles them).  After fork() the child
 * has no workers: the pool is reset and recreated on demand.  Without POSIX threads
 * everything runs on the caller and the thread count stays 1.
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

/* A call is cut into up to FA_CHUNKS_PER_THREAD chunks per thread, claimed one at a time:
 * a thread that starts late (a worker woken from sleep, a core busy with another process)
 * takes fewer, and the caller does not wait for it. */
#define FA_CHUNKS_PER_THREAD 8
#define FA_WAIT_SPINS 20000              /* pause loops (~0.1-1 ms) before sleeping */
#define FA_IDLE_SPINS 20000              /* a worker's pause loops after a job, before it sleeps */

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

static void fa_retire_workers_beyond(int keep);

int fa_set_num_threads(int n)
{
    if (n < 1 || n > FA_THREADS_MAX)
        return -1;
    const int before = fa_get_num_threads();
    __atomic_store_n(&fa_threads, FA_HAVE_THREADS ? n : 1, __ATOMIC_RELAXED);
    fa_retire_workers_beyond(n - 1);
    return before;
}

/* Exported under a unique name (the kernels are hidden) for threadpoolctl's controller
 * (fastact/_threadpool.py), which finds this library by that symbol and calls it by ctypes. */
#if defined(_WIN32)
#define FA_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define FA_EXPORT __attribute__((visibility("default")))
#else
#define FA_EXPORT
#endif

FA_EXPORT int fastact_threadpool_get_num_threads(void)
{
    return fa_get_num_threads();
}

FA_EXPORT int fastact_threadpool_set_num_threads(int n)
{
    return fa_set_num_threads(n < 1 ? 1 : n > FA_THREADS_MAX ? FA_THREADS_MAX : n);
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
    int chunks;                          /* pieces of [0, count), claimed one at a time */
    int helpers;                         /* workers 1 .. helpers take part */
} fa_job;

static pthread_mutex_t fa_region = PTHREAD_MUTEX_INITIALIZER;  /* held by the running region */
static pthread_mutex_t fa_lock = PTHREAD_MUTEX_INITIALIZER;    /* guards the job and the pool */
static pthread_cond_t fa_wake = PTHREAD_COND_INITIALIZER;      /* a new job (fa_generation) */
static pthread_cond_t fa_all_done = PTHREAD_COND_INITIALIZER;  /* fa_done reached job.chunks */
static fa_job fa_current_job;
static unsigned long fa_generation;
static int fa_nworkers;                  /* workers 1 .. fa_nworkers exist */
static unsigned long fa_born_at[FA_THREADS_MAX];   /* fa_generation when worker k was created */
static unsigned long fa_epoch[FA_THREADS_MAX];     /* bumped when slot k is given up (a retired worker exits) */
/* lock-free during a job: (generation << 32) | next chunk to claim, and chunks finished */
static uint64_t fa_claim;
static int fa_done;

/* Run chunks of generation `gen` until none is left to claim.  A worker that wakes after
 * its job is over finds another generation in fa_claim and claims nothing, so the caller
 * never waits for a late worker, only for chunks being computed. */
static void fa_run_chunks(const fa_job *job, unsigned long gen)
{
    const uint64_t tag = (uint64_t)(uint32_t)gen << 32;
    uint64_t c = __atomic_load_n(&fa_claim, __ATOMIC_ACQUIRE);
    for (;;) {
        if ((c & ~(uint64_t)0xffffffff) != tag || (int)(uint32_t)c >= job->chunks)
            return;
        if (!__atomic_compare_exchange_n(&fa_claim, &c, c + 1, 1, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue;
        ptrdiff_t begin, end;
        fa_part_bounds(job->count, job->grain, job->chunks, (int)(uint32_t)c, &begin, &end);
        job->fn(job->ctx, begin, end);
        c = __atomic_load_n(&fa_claim, __ATOMIC_ACQUIRE);
        if (__atomic_add_fetch(&fa_done, 1, __ATOMIC_ACQ_REL) == job->chunks) {
            pthread_mutex_lock(&fa_lock);          /* the caller may be asleep */
            pthread_cond_signal(&fa_all_done);
            pthread_mutex_unlock(&fa_lock);
        }
    }
}

/* A worker that finished its chunks waits for the next job spinning a little before it sleeps
 * (as libgomp's and OpenMP runtimes' workers do): a sleeping worker takes ~5-50 us to wake, on
 * this VM up to hundreds (the idle vCPU halts), which a call of ~100 us cannot hide, while
 * calls come back to back in a model's forward/backward.  The spin only reads (the lock is not
 * taken); the lock is taken when the generation or the slot's epoch moves. */
static void fa_idle_spin(unsigned long seen, int index, unsigned long epoch)
{
    for (int spin = 0; spin < FA_IDLE_SPINS; spin++) {
        if (__atomic_load_n(&fa_generation, __ATOMIC_RELAXED) != seen
            || __atomic_load_n(&fa_epoch[index], __ATOMIC_RELAXED) != epoch)
            return;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

/* arg: slot index + FA_THREADS_MAX * (the slot's epoch at creation) */
static void *fa_worker(void *arg)
{
    const int index = (int)((uintptr_t)arg % FA_THREADS_MAX);
    const unsigned long epoch = (unsigned long)((uintptr_t)arg / FA_THREADS_MAX);
    pthread_mutex_lock(&fa_lock);
    unsigned long seen = fa_born_at[index];
    for (;;) {
        pthread_mutex_unlock(&fa_lock);
        fa_idle_spin(seen, index, epoch);
        pthread_mutex_lock(&fa_lock);
        while (fa_generation == seen && fa_epoch[index] == epoch)
            pthread_cond_wait(&fa_wake, &fa_lock);
        if (fa_epoch[index] != epoch)
            break;                       /* retired by fa_set_num_threads() */
        seen = fa_generation;
        const fa_job job = fa_current_job;
        if (index > job.helpers)
            continue;                    /* not needed this time: back to sleep */
        pthread_mutex_unlock(&fa_lock);
        fa_run_chunks(&job, seen);
        pthread_mutex_lock(&fa_lock);
    }
    pthread_mutex_unlock(&fa_lock);
    return NULL;
}

static void fa_retire_workers_beyond(int keep)
{
    pthread_mutex_lock(&fa_region);      /* no job is running (nor can start) meanwhile */
    pthread_mutex_lock(&fa_lock);
    if (fa_nworkers > keep) {
        for (int k = keep + 1; k <= fa_nworkers; k++)
            __atomic_store_n(&fa_epoch[k], fa_epoch[k] + 1, __ATOMIC_RELAXED);
        fa_nworkers = keep;
        pthread_cond_broadcast(&fa_wake);
    }
    pthread_mutex_unlock(&fa_lock);
    pthread_mutex_unlock(&fa_region);
}

/* fork(): no region may be running across it; the child starts with no workers */
static void fa_fork_prepare(void) { pthread_mutex_lock(&fa_region); pthread_mutex_lock(&fa_lock); }
static void fa_fork_parent(void) { pthread_mutex_unlock(&fa_lock); pthread_mutex_unlock(&fa_region); }
static void fa_fork_child(void)
{
    fa_nworkers = 0;
    pthread_cond_init(&fa_wake, NULL);  /* the parent's sleeping workers do not exist here */
    pthread_cond_init(&fa_all_done, NULL);
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
    if (fa_nworkers >= want)
        return fa_nworkers;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);   /* inherited by the new threads */
    pthread_mutex_lock(&fa_lock);
    while (fa_nworkers < want) {
        pthread_t t;
        const int index = fa_nworkers + 1;
        fa_born_at[index] = fa_generation;
        const uintptr_t arg = (uintptr_t)index + (uintptr_t)FA_THREADS_MAX * fa_epoch[index];
        if (pthread_create(&t, NULL, fa_worker, (void *)arg) != 0)
            break;
        pthread_detach(t);
        fa_nworkers = index;
    }
    const int have = fa_nworkers;
    pthread_mutex_unlock(&fa_lock);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return have;
}

/* Wait for the chunks other threads are computing: spin a little (they are running, and
 * waking a sleeping thread costs tens of microseconds on a virtual machine), then sleep. */
static void fa_wait_done(int chunks)
{
    for (int spin = 0; spin < FA_WAIT_SPINS; spin++) {
        if (__atomic_load_n(&fa_done, __ATOMIC_ACQUIRE) == chunks)
            return;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    pthread_mutex_lock(&fa_lock);
    while (__atomic_load_n(&fa_done, __ATOMIC_ACQUIRE) != chunks)
        pthread_cond_wait(&fa_all_done, &fa_lock);
    pthread_mutex_unlock(&fa_lock);
}

void fa_parallel_for(ptrdiff_t count, ptrdiff_t grain, void (*fn)(void *ctx, ptrdiff_t begin, ptrdiff_t end),
                     void *ctx)
{
    if (count <= 0)
        return;
    if (grain < 1)
        grain = 1;
    const ptrdiff_t units = (count + grain - 1) / grain;
    int threads = fa_get_num_threads();
    if (units < threads)
        threads = (int)units;
    if (threads <= 1 || pthread_mutex_trylock(&fa_region) != 0) {
        fn(ctx, 0, count);
        return;
    }
    const int workers = fa_grow_pool(threads - 1);
    if (workers == 0) {
        pthread_mutex_unlock(&fa_region);
        fn(ctx, 0, count);
        return;
    }
    const ptrdiff_t chunks = units < (ptrdiff_t)FA_CHUNKS_PER_THREAD * threads ? units
                                                                                : (ptrdiff_t)FA_CHUNKS_PER_THREAD * threads;
    const fa_job job = {fn, ctx, count, grain, (int)chunks, workers < threads - 1 ? workers : threads - 1};
    pthread_mutex_lock(&fa_lock);
    const unsigned long gen = fa_generation + 1;
    __atomic_store_n(&fa_generation, gen, __ATOMIC_RELAXED);   /* read unlocked by fa_idle_spin */
    fa_current_job = job;
    __atomic_store_n(&fa_done, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&fa_claim, (uint64_t)(uint32_t)gen << 32, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&fa_wake);
    pthread_mutex_unlock(&fa_lock);
    fa_run_chunks(&job, gen);
    fa_wait_done(job.chunks);
    pthread_mutex_unlock(&fa_region);
}

#else  /* no POSIX threads: the caller does everything */

static void fa_retire_workers_beyond(int keep) { (void)keep; }

void fa_parallel_for(ptrdiff_t count, ptrdiff_t grain, void (*fn)(void *ctx, ptrdiff_t begin, ptrdiff_t end),
                     void *ctx)
{
    (void)grain;
    if (count > 0)
        fn(ctx, 0, count);
}

#endif
