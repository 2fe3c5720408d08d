/*
 * fa_slice_blocks.c -- one long slice of softmax / log_softmax / logsumexp or of their
 * gradients softmax_grad / log_softmax_grad (axis=None, or a
 * call whose only slice is a contiguous run of n >= FA_SLICE_BLOCKS_MIN entries) cut into
 * fixed blocks of FA_SLICE_BLOCK entries, so that threads can share it.
 *
 * The stages are the Dask path's (fa_chunk.h, reductions/fa_chunk_stats.h), each block a
 * "chunk" of the slice:
 *   1. the statistics record of every block (max, sum of w e^(x - max) as a double-double,
 *      and for logsumexp the exact shift-0 sum where the slice may cancel), blocks shared
 *      by the threads;
 *   2. the records combined in block order on the caller (the sums rescaled in
 *      double-double, fa_chunk_combine);
 *   3. logsumexp: one value from the combined record; softmax / log_softmax: every block's
 *      outputs from it, blocks shared by the threads (the in-memory output pass).
 * The cut depends on n alone, never on the thread count, and every stage computes a block
 * or the combination alone, so the thread count changes no result bit (tests/test_threads.py).
 * Accuracy: the Dask path's, the in-memory bounds (docs/SPEC.md section 6; measured in
 * reductions/fa_chunk_stats.h and by tests/test_reductions.py's long single slices).
 * Speed: one thread is within a few percent of the in-memory kernel (the slice exceeds L2, so
 * that kernel also reads x twice); 2 threads against 1 (/tmp probe, softmax / log_softmax /
 * logsumexp, load 1.0): 2^20 float32 1.56 / 1.64 / 1.72x, 2^22 1.67 / 1.65 / 1.81x; float64
 * 2^20 1.78 / 1.84 / 1.80x, 2^22 1.81 / 1.57 / 1.96x.
 * softmax_grad / log_softmax_grad (since 2026-12-06): the blocks' sums s_k (sum g y or sum g,
 * fa_grad_rows.h's slice sum), their total in block order as a double-double on the caller,
 * then every block's outputs from it.  One thread within the noise of the row kernel; 2 threads
 * against 1 (/tmp/w/sgthr.py, a fuzz run on the other core at nice 19): 2^20 float32 1.39 /
 * 1.58x, float64 1.89 / 1.59x; 2^22 float32 1.60 / 1.57x, float64 1.22 / 1.17x (DRAM-bound,
 * three 32 MB arrays); 2^18 float32 (1 MB: not shared) 1.0x.
 * Returns 0 (the caller runs the in-memory kernel) for other functions, shorter slices, or
 * where the block records cannot be allocated.
 */
#include <stdlib.h>

#include "fa_common.h"
#include "fa_chunk.h"
#include "math/fa_compensated_scalar.h"

#define FA_SLICE_BLOCK ((ptrdiff_t)1 << 16)         /* entries per block: 256 KB float32 */
#define FA_SLICE_BLOCKS_MIN ((ptrdiff_t)1 << 18)    /* a slice from 4 blocks on (1 MB float32: past L2) */
#define FA_SLICE_STACK_RECS 64
/* threads share the blocks from 2 MB of input on (2^19 float32, 2^18 float64 entries):
 * below, waking a worker cost more than it saved (float32 softmax of 2^18 entries: 0.90x on
 * 2 threads; float64 2^18: 1.26-1.45x).  The blocks are the same either way. */
#define FA_SLICE_THREADS_MIN_BYTES ((size_t)1 << 21)

typedef struct fa_slice_job {
    int stage, dt;
    size_t size;                   /* bytes per entry */
    const char *x;
    char *y;
    const fa_axis_opts *opts;
    ptrdiff_t n;
    fa_chunk_rec *recs;            /* stage STATS: one per block */
    const fa_chunk_rec *total;     /* output stages: the slice's record */
    int exact;
} fa_slice_job;

static void fa_slice_blocks_part(void *ctx, ptrdiff_t begin, ptrdiff_t end)
{
    const fa_slice_job *s = (const fa_slice_job *)ctx;
    for (ptrdiff_t k = begin; k < end; k++) {
        const ptrdiff_t at = k * FA_SLICE_BLOCK;
        const ptrdiff_t len = s->n - at < FA_SLICE_BLOCK ? s->n - at : FA_SLICE_BLOCK;
        fa_chunk_job j = {0};
        j.x = s->x + at * s->size;
        j.y = s->y ? s->y + at * s->size : NULL;
        j.mask = s->opts && s->opts->mask ? s->opts->mask + at : NULL;
        j.b = s->opts && s->opts->b ? (const char *)s->opts->b + at * s->size : NULL;
        j.rows = 1;
        j.n = len;
        j.rec = s->stage == FA_CHUNK_STATS || s->stage == FA_CHUNK_GRAD_SUM || s->stage == FA_CHUNK_LOG_GRAD_SUM
                    ? &s->recs[k] : (fa_chunk_rec *)s->total;
        j.exact = s->exact;
        fa_chunk_run(s->stage, s->dt, &j);
    }
}

/* softmax_grad / log_softmax_grad of one long slice: the blocks' sums s_k (threads), their
 * total in block order as a double-double (here), the blocks' outputs from it (threads).  The
 * slice's sum is then within ~1 ULP of the exact one, as the in-memory kernel's (a NaN or
 * inf in a block makes it NaN, as there). */
static void fa_slice_grad_blocks(int op, fa_slice_job *s, ptrdiff_t blocks, int share, void *y)
{
    const int LOG = op == FA_OP_log_softmax_grad;
    fa_chunk_rec total = {0};
    s->stage = LOG ? FA_CHUNK_LOG_GRAD_SUM : FA_CHUNK_GRAD_SUM;
    s->exact = 0;
    if (share) fa_parallel_for(blocks, 1, fa_slice_blocks_part, s);
    else fa_slice_blocks_part(s, 0, blocks);
    double hi = 0.0, lo = 0.0;
    for (ptrdiff_t k = 0; k < blocks; k++) {
        fa_two_sum_acc(&hi, &lo, s->recs[k].hi);
        lo += s->recs[k].lo;
    }
    total.hi = hi + lo;
    if (LOG && s->dt == FA_DT_f64 && !(fabs(total.hi) < FA_GR_LOG_BIG)) {
        /* float64 log_softmax_grad whose sum of g reaches 2^1000 (reductions/fa_grad_rows.h's
         * rescue): the blocks' A (hi, lo) and B (hi0), then the plain formula from A 2^64 + B
         * where that is below 2^1000, else the scaled one from A + B 2^-64 (exact = 1) */
        s->exact = 1;
        if (share) fa_parallel_for(blocks, 1, fa_slice_blocks_part, s);
        else fa_slice_blocks_part(s, 0, blocks);
        double b = 0.0;
        hi = lo = 0.0;
        for (ptrdiff_t k = 0; k < blocks; k++) {
            fa_two_sum_acc(&hi, &lo, s->recs[k].hi);
            lo += s->recs[k].lo;
            b += s->recs[k].hi0;
        }
        s->exact = fa_gr_rescue_pick_scalar(hi + lo, b, &total.hi);
    }
    s->stage = LOG ? FA_CHUNK_LOG_GRAD_OUT : FA_CHUNK_GRAD_OUT;
    s->y = (char *)y;
    s->total = &total;
    if (share) fa_parallel_for(blocks, 1, fa_slice_blocks_part, s);
    else fa_slice_blocks_part(s, 0, blocks);
}

int fa_slice_in_blocks(int op, int dt, const void *x, void *y, ptrdiff_t n, const fa_axis_opts *opts)
{
    const int lse = op == FA_OP_logsumexp, grad = op == FA_OP_softmax_grad || op == FA_OP_log_softmax_grad;
    if (n < FA_SLICE_BLOCKS_MIN || !(lse || grad || op == FA_OP_softmax || op == FA_OP_log_softmax))
        return 0;
    const ptrdiff_t blocks = (n + FA_SLICE_BLOCK - 1) / FA_SLICE_BLOCK;
    fa_chunk_rec stack[FA_SLICE_STACK_RECS], total;
    fa_chunk_rec *recs = blocks <= FA_SLICE_STACK_RECS ? stack
                                                      : (fa_chunk_rec *)malloc((size_t)blocks * sizeof(fa_chunk_rec));
    if (!recs)
        return 0;
    fa_slice_job s = {FA_CHUNK_STATS, dt, dt == FA_DT_f32 ? sizeof(float) : sizeof(double),
                      (const char *)x, NULL, opts, n, recs, NULL, lse};
    const int share = (size_t)n * s.size >= FA_SLICE_THREADS_MIN_BYTES;
    if (grad) {
        fa_slice_grad_blocks(op, &s, blocks, share, y);
        if (recs != stack)
            free(recs);
        return 1;
    }
    if (share) fa_parallel_for(blocks, 1, fa_slice_blocks_part, &s);
    else fa_slice_blocks_part(&s, 0, blocks);

    fa_chunk_job c = {0};
    c.rows = 1;
    c.n = blocks;
    c.in = recs;
    c.rec = &total;
    fa_chunk_run(FA_CHUNK_COMBINE, dt, &c);
    if (recs != stack)
        free(recs);

    if (lse) {
        double v, sign;
        fa_chunk_job l = {0};
        l.rows = 1;
        l.rec = &total;
        l.v = &v;
        l.sign = &sign;
        l.return_sign = opts && opts->sign;
        fa_chunk_run(FA_CHUNK_LSE, dt, &l);
        if (dt == FA_DT_f32) {
            *(float *)y = (float)v;
            if (l.return_sign) *(float *)opts->sign = (float)sign;
        } else {
            *(double *)y = v;
            if (l.return_sign) *(double *)opts->sign = sign;
        }
        return 1;
    }
    s.stage = op == FA_OP_softmax ? FA_CHUNK_SOFTMAX : FA_CHUNK_LOG_SOFTMAX;
    s.y = (char *)y;
    s.total = &total;
    if (share) fa_parallel_for(blocks, 1, fa_slice_blocks_part, &s);
    else fa_slice_blocks_part(&s, 0, blocks);
    return 1;
}
