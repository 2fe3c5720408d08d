/*
 * fa_chunk.h -- the per-chunk stages of softmax / log_softmax / logsumexp along an axis split
 * over chunks (the Dask path, fastact/_dask.py through fastact/_chunk_stats.py).  Internal:
 * not in the public list (fastact_functions.h) nor in the capsule table, so the public ABI
 * and FASTACT_API_VERSION stay as they are; fastact._core reaches it through the one
 * internal entry _fa_chunk of fastact.kernels (fastact/_kernels_impl.pxi).
 *
 * Why internal: the stages exchange a statistics record per slice (fa_chunk_rec), a layout
 * private to fastact (mirrored by fastact/_chunk_stats.py's STATS dtype, checked at import),
 * not an array-in / array-out kernel another extension would call.
 *
 * A chunk is seen as `rows` contiguous rows of n entries (fastact/_chunk_stats.py transposes
 * a block whose reduced axis is not last).  Stages (fa_chunk_run(stage, dtype, job)):
 *   FA_CHUNK_STATS      per row: the record (M, count, infsign, S = hi + lo relative to M);
 *                       with job->exact (logsumexp) also S0 = hi0 + lo0, the exact shift-0
 *                       sum, for the rows whose logsumexp may cancel to ~0 (else NaN): every
 *                       weighted row with M <= 709 (another chunk's weights can take the
 *                       slice's total near 0), S e^M where that is below e^-60 (w > 0).
 *   FA_CHUNK_SOFTMAX,   per row: y from the slice's combined record (M, count, S).
 *   FA_CHUNK_LOG_SOFTMAX
 *   FA_CHUNK_COMBINE    rows slices x n chunk records (in, slice-major) -> rows records.
 *   FA_CHUNK_LSE        rows records -> logsumexp v and sign (float64).
 *   FA_CHUNK_GRAD_SUM,  softmax_grad / log_softmax_grad of one long slice in blocks
 *   FA_CHUNK_LOG_GRAD_SUM   (fa_slice_blocks.c): per row of x = the forward's output and
 *                       b = grad_output, the sum s (sum g y / sum g) into rec->hi + rec->lo;
 *   FA_CHUNK_GRAD_OUT,  per row, the gradient into y from the slice's s = rec->hi (the same
 *   FA_CHUNK_LOG_GRAD_OUT   record for every row).  The kernels are fa_grad_rows.h's.
 * The arithmetic is the in-memory reductions' (src_c/reductions/fa_chunk_stats.h).
 */
#ifndef FA_CHUNK_H
#define FA_CHUNK_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* float64 log_softmax_grad's rescue (reductions/fa_grad_rows.h) for a slice whose sum of g
 * reaches FA_GR_LOG_BIG, from its sums A (of g 2^-64) and B (of the tiny g): 1 with *s = A +
 * B 2^-64 (the scaled formula), or 0 with *s = A 2^64 + B (the plain one).  Here because the
 * slice kernels and the long-slice block path (fa_slice_blocks.c) both make this choice. */
#define FA_GR_LOG_BIG 0x1p1000
#define FA_GR_LOG_DOWN 0x1p-64
#define FA_GR_LOG_UP 0x1p64
static inline int fa_gr_rescue_pick_scalar(double A, double B, double *s)
{
    const double again = A * FA_GR_LOG_UP + B;
    if (fabs(again) < FA_GR_LOG_BIG) {
        *s = again;
        return 0;
    }
    *s = A + B * FA_GR_LOG_DOWN;
    return 1;
}

/* the statistics of a slice (or of a chunk of it); natural alignment, 56 bytes */
typedef struct fa_chunk_rec {
    double M;          /* max of the kept entries; NaN: NaN among them; -inf: none or all -inf */
    int64_t count;     /* kept entries */
    double hi, lo;     /* S = sum over kept entries of w e^(x - M), a double-double */
    double hi0, lo0;   /* S0 = sum of w e^x (exact), NaN where not computed; 0 when M = -inf */
    int8_t infsign;    /* bit 0: +inf with w > 0 kept; bit 1: +inf with w < 0; bit 2: a w < 0 kept */
} fa_chunk_rec;

enum fa_chunk_stage { FA_CHUNK_STATS = 0, FA_CHUNK_SOFTMAX = 1, FA_CHUNK_LOG_SOFTMAX = 2,
                      FA_CHUNK_COMBINE = 3, FA_CHUNK_LSE = 4,
                      FA_CHUNK_GRAD_SUM = 5, FA_CHUNK_LOG_GRAD_SUM = 6,
                      FA_CHUNK_GRAD_OUT = 7, FA_CHUNK_LOG_GRAD_OUT = 8, FA_CHUNK_STAGES };

typedef struct fa_chunk_job {
    const void *x;                 /* rows x n, float32 or float64 (dt) */
    void *y;                       /* softmax stages: rows x n, x's dtype */
    const unsigned char *mask;     /* NULL or rows x n (0 = left out) */
    const void *b;                 /* NULL or rows x n weights, x's dtype */
    ptrdiff_t rows, n;             /* combine: rows slices of n chunk records each */
    fa_chunk_rec *rec;             /* STATS, COMBINE: written; softmax, LSE: read */
    const fa_chunk_rec *in;        /* COMBINE: rows * n records */
    double *v, *sign;              /* LSE: rows values and signs */
    int exact;                     /* STATS: also S0 where needed; LOG_GRAD stages (float64,
                                      the slice's sum at 2^1000): the rescue's sums A, B into
                                      hi, lo, hi0 (SUM), the scaled formula from rec->hi (OUT) */
    int return_sign;               /* LSE: keep a negative total (else NaN) */
} fa_chunk_job;

/* dt = FA_DT_f32 (0) or FA_DT_f64 (1); runs the active kernel variant's stage */
void fa_chunk_run(int stage, int dt, const fa_chunk_job *job);

/* one per kernel variant (reductions/fa_chunk_stats.h, compiled once per ISA) */
void fa_chunk_run__scalar(int stage, int dt, const fa_chunk_job *job);
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
void fa_chunk_run__sse2(int stage, int dt, const fa_chunk_job *job);
void fa_chunk_run__avx2(int stage, int dt, const fa_chunk_job *job);
void fa_chunk_run__avx512(int stage, int dt, const fa_chunk_job *job);
#endif

#endif /* FA_CHUNK_H */
