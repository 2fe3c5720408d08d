/*
 * losses/fa_loss_run.h -- the calls of the loss kinds (fa_common.h: fa_run_loss,
 * fa_run_one_hot), compiled once with baseline flags as part of fa_dispatch.c.
 *
 * Element-wise losses: the rows*n entries are cut into blocks of FA_LOSS_BLOCK (fixed, from
 * entry 0); a large call hands whole blocks to the threads (fa_parallel_for).  A reduction
 * gets one double-double per block from the kernel, summed here in block order, so its bits
 * do not depend on the thread count; MEAN divides that sum by rows*n (0/0 = NaN for an empty
 * call, as torch).  One thread: the blocks run in turn, with no allocation.
 * one_hot: every label checked first (nothing is written when one is out of range), then
 * slices of `outer` split over threads when the output is large.
 */
#include <stdlib.h>
#include "math/fa_compensated_scalar.h"

/* Where splitting pays (2 threads against 1, float32, interleaved medians; benchmarks/bench_bce.py
 * --threads, 2-core Zen 4 VM): the loss (~1 ns/entry in double) 2^15: 1.02x, 2^16: 1.38x,
 * 2^20: 1.74x; the float32 gradient (~0.3 ns/entry) 2^16: 0.72x, 2^20: 1.33x. */
#define FA_LOSS_SPLIT_MIN ((ptrdiff_t)1 << 16)
#define FA_LOSS_GRAD_SPLIT_MIN ((ptrdiff_t)1 << 18)
/* one_hot is memory-bound (a memset): from 2^20 output entries (2^14 labels x 100 float32
 * classes: 1.83x) */
#define FA_ONE_HOT_SPLIT_MIN ((ptrdiff_t)1 << 20)

typedef struct fa_loss_split {
    fa_loss_f64_fn kernel;       /* the f32 and f64 loss kernels have the same type */
    const fa_loss_job *job;
    ptrdiff_t total;
} fa_loss_split;

static void fa_loss_part(void *ctx, ptrdiff_t b0, ptrdiff_t b1)
{
    const fa_loss_split *c = (const fa_loss_split *)ctx;
    fa_loss_job j = *c->job;
    ptrdiff_t end = b1 * FA_LOSS_BLOCK < c->total ? b1 * FA_LOSS_BLOCK : c->total;
    if (j.sums)
        j.sums += 2 * b0;
    c->kernel(&j, b0 * FA_LOSS_BLOCK, end);
}


void fa_run_loss(int op, int dt, fa_loss_job *j, ptrdiff_t rows, ptrdiff_t n, int reduction, void *out)
{
    fa_loss_f64_fn kernel = (fa_loss_f64_fn)fa_active.k[op][dt];
    const ptrdiff_t total = rows > 0 && n > 0 ? rows * n : 0;
    const ptrdiff_t blocks = (total + FA_LOSS_BLOCK - 1) / FA_LOSS_BLOCK;
    const ptrdiff_t split_min = fa_op_kind[op] == FA_KIND_BCE_GRAD ? FA_LOSS_GRAD_SPLIT_MIN : FA_LOSS_SPLIT_MIN;
    const int split = total >= split_min && blocks >= 2 && fa_get_num_threads() > 1;
    fa_loss_split ctx = {kernel, j, total};
    if (reduction == FA_REDUCTION_NONE) {
        j->out = out;
        j->sums = NULL;
        if (split)
            fa_parallel_for(blocks, 1, fa_loss_part, &ctx);
        else if (total > 0)
            kernel(j, 0, total);
        return;
    }
    double s = 0.0, err = 0.0, *sums = split ? (double *)malloc((size_t)blocks * 2 * sizeof(double)) : NULL;
    j->out = NULL;
    if (sums) {
        j->sums = sums;
        fa_parallel_for(blocks, 1, fa_loss_part, &ctx);
        for (ptrdiff_t b = 0; b < blocks; b++) {
            fa_two_sum_acc(&s, &err, sums[2 * b]);
            err += sums[2 * b + 1];
        }
        free(sums);
    } else {                     /* one thread (or no memory for the partial sums): in turn */
        double part[2];
        j->sums = part;
        for (ptrdiff_t b = 0; b < blocks; b++) {
            ptrdiff_t end = (b + 1) * FA_LOSS_BLOCK < total ? (b + 1) * FA_LOSS_BLOCK : total;
            kernel(j, b * FA_LOSS_BLOCK, end);
            fa_two_sum_acc(&s, &err, part[0]);
            err += part[1];
        }
    }
    double v = fa_dd_value(s, err);   /* +inf where an entry (or the sum) is, not NaN */
    if (reduction == FA_REDUCTION_MEAN)
        v /= (double)total;
    if (dt == FA_DT_f32)
        *(float *)out = (float)v;
    else
        *(double *)out = v;
}

typedef struct fa_one_hot_split {
    fa_kernel_fn kernel;
    int dt;
    const int64_t *labels;
    void *out;
    ptrdiff_t inner, num_classes;
} fa_one_hot_split;

static void fa_one_hot_part(void *ctx, ptrdiff_t o0, ptrdiff_t o1)
{
    const fa_one_hot_split *c = (const fa_one_hot_split *)ctx;
    const ptrdiff_t at = o0 * c->num_classes * c->inner;
    if (c->dt == FA_DT_f32)
        ((fa_one_hot_f32_fn)c->kernel)(c->labels + o0 * c->inner, (float *)c->out + at, o1 - o0, c->inner,
                                       c->num_classes);
    else
        ((fa_one_hot_f64_fn)c->kernel)(c->labels + o0 * c->inner, (double *)c->out + at, o1 - o0, c->inner,
                                       c->num_classes);
}

void fa_run_one_hot(int op, int dt, const int64_t *labels, void *out, ptrdiff_t outer, ptrdiff_t inner,
                    ptrdiff_t num_classes, ptrdiff_t *bad)
{
    const ptrdiff_t count = outer > 0 && inner > 0 ? outer * inner : 0;
    for (ptrdiff_t i = 0; i < count; i++)
        if ((uint64_t)labels[i] >= (uint64_t)(num_classes > 0 ? num_classes : 0)) {
            if (bad)
                *bad = i;
            return;
        }
    if (bad)
        *bad = -1;
    if (count == 0 || num_classes <= 0)
        return;
    fa_one_hot_split ctx = {fa_active.k[op][dt], dt, labels, out, inner, num_classes};
    if (outer >= 2 && count * num_classes >= FA_ONE_HOT_SPLIT_MIN && fa_get_num_threads() > 1)
        fa_parallel_for(outer, 1, fa_one_hot_part, &ctx);
    else
        fa_one_hot_part(&ctx, 0, outer);
}
