/*
 * losses/fa_ce_run.h -- the calls of the row-wise loss kinds (fa_common.h: fa_run_ce),
 * compiled once with baseline flags as part of fa_dispatch.c.
 *
 * Class targets are checked first: a target outside [0, n) that is not ignore_index sets *bad
 * to its row and nothing is written.  Then the rows run in turn, or are split over threads
 * (whole rows, each computed alone: the same bits for any thread count) when the call is large.
 */

/* From 2^17 logits: derived, not measured.  The element-wise loss splits from 2^16 entries at
 * ~1 ns per entry (measured, losses/fa_loss_run.h); a cross-entropy row costs ~0.35 ns per
 * float32 logit (statistics pass; ~0.2 ns for class targets without smoothing, whose equal work
 * would be ~2^18 logits: kept at 2^17, where tests/test_threads.py reaches), so the same work per
 * thread is ~2^17.5 logits.  On the
 * shared 2-core machine of this change (load average 8) 2 threads never beat 1 at any size
 * (benchmarks: 1t/2t 0.4x-1.0x), so the threshold could not be measured there. */
#define FA_CE_SPLIT_MIN ((ptrdiff_t)1 << 17)

typedef struct fa_ce_split {
    fa_ce_f64_fn kernel;         /* the f32 and f64 kernels have the same type */
    const fa_ce_job *job;
} fa_ce_split;

static void fa_ce_part(void *ctx, ptrdiff_t r0, ptrdiff_t r1)
{
    const fa_ce_split *c = (const fa_ce_split *)ctx;
    c->kernel(c->job, r0, r1);
}

void fa_run_ce(int op, int dt, const fa_ce_job *j, ptrdiff_t rows, ptrdiff_t *bad)
{
    (void)dt;
    if (bad)
        *bad = -1;
    if (rows <= 0)
        return;
    if (j->target) {
        const uint64_t n = (uint64_t)(j->n > 0 ? j->n : 0);
        for (ptrdiff_t r = 0; r < rows; r++) {
            const int64_t t = j->target[r];
            if (t != j->ignore_index && (uint64_t)t >= n) {
                if (bad)
                    *bad = r;
                return;
            }
        }
    }
    fa_ce_split ctx = {(fa_ce_f64_fn)fa_active.k[op][dt], j};
    if (rows >= 2 && rows * j->n >= FA_CE_SPLIT_MIN && fa_get_num_threads() > 1)
        fa_parallel_for(rows, 1, fa_ce_part, &ctx);
    else
        ctx.kernel(j, 0, rows);
}
