/*
 * fa_common.h -- internal definitions shared by every fastact translation unit.
 *
 * Not installed: extensions use fastact.h.  This header defines the uniform
 * internal kernel signatures that the dispatch table holds, one per loop shape, and
 * for each kind of fastact_kinds.h the shape it runs on and its public entry:
 *
 *   unary   FA_UNARY   element-wise  y[i] = f(x[i]; a, b)         (contiguous runs)
 *   binary  FA_BINARY  element-wise  y[i] = f(x[i], g[i]; a, b)   (g NULL: ones)
 *   axis    FA_ROWWISE softmax-like  y[o, :, i] = f(x[o, :, i])   (along the middle axis)
 *           FA_REDUCE  lse-like      y[o, i]    = f(x[o, :, i])   (along the middle axis)
 *
 * A row-wise call sees the input as a C-contiguous (outer, n, inner) block and
 * works along the middle axis; inner == 1 is the last-axis case, inner > 1 is a
 * non-last axis handled in column blocks.
 */
#ifndef FASTACT_COMMON_H
#define FASTACT_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fastact_kinds.h"

#define FA_INLINE static inline __attribute__((always_inline))
#define FA_LIKELY(c) __builtin_expect(!!(c), 1)
#define FA_UNLIKELY(c) __builtin_expect(!!(c), 0)
/* a rare path kept out of the hot loop that calls it (its constants and registers too) */
#define FA_COLD static __attribute__((noinline, cold))
/* unroll the loop that follows n times (GCC and clang read this pragma): for loops over a
 * block's few vectors that GCC's own limits leave rolled, their sums kept in memory */
#define FA_PRAGMA(x) _Pragma(#x)
#define FA_UNROLL(n) FA_PRAGMA(GCC unroll n)

typedef float fa_scalar_f32;
typedef double fa_scalar_f64;
#define FA_LANES_f32 FA_LANES_F32
#define FA_LANES_f64 FA_LANES_F64

/* Parameters of an element-wise function: a, b are p1, p2 of its list line (unused ones 0);
 * c, d are not caller parameters (every caller sets them to 0): a kernel that derives
 * constants once per call passes them on in c, d (logit's float32 clamp bounds). */
typedef struct fa_params {
    double a, b, c, d;
} fa_params;

/*
 * Options of a row-wise / reducing call.  Every pointer may be NULL.
 *   mask  : uint8 array in the layout of x; 0 leaves the entry out (JAX `where=`)
 *   b     : weights in the layout of x (logsumexp only; SciPy's `b=`)
 *   sign  : output in the layout of y (logsumexp with `return_sign`); NULL = no sign
 *   cols  : inner > 1 only: the kernel computes columns [0, cols) of each (n, inner) slice
 *           (rows still `inner` apart); 0 = all.  Set by the thread split (fa_dispatch.c),
 *           which hands each thread a range of columns with x, y and the options offset.
 */
typedef struct fa_axis_opts {
    const unsigned char *mask;
    const void *b;
    void *sign;
    ptrdiff_t cols;
} fa_axis_opts;

/* The kernel signatures, one per loop shape (kernels/fa_map.h, reductions/, losses/). */
typedef void (*fa_unary_f32_fn)(const float *x, float *y, ptrdiff_t n, const fa_params *p);
typedef void (*fa_unary_f64_fn)(const double *x, double *y, ptrdiff_t n, const fa_params *p);
typedef void (*fa_binary_f32_fn)(const float *x, const float *g, float *y, ptrdiff_t n, const fa_params *p);
typedef void (*fa_binary_f64_fn)(const double *x, const double *g, double *y, ptrdiff_t n, const fa_params *p);
typedef void (*fa_axis_f32_fn)(const float *x, float *y, ptrdiff_t outer, ptrdiff_t n,
                               ptrdiff_t inner, const fa_axis_opts *opts);
typedef void (*fa_axis_f64_fn)(const double *x, double *y, ptrdiff_t outer, ptrdiff_t n,
                               ptrdiff_t inner, const fa_axis_opts *opts);

/*
 * An element-wise loss call (fa_bce.h): the operands of rows of n contiguous entries, each
 * NULL where absent (w, pw, g: ones), in the dtype of the call (f32 or f64).  The kernel
 * runs over the flat entries [begin, end): it writes out[i] (out != NULL), or sums the
 * values of each block of FA_LOSS_BLOCK entries (begin and the blocks start at multiples of
 * it) into sums[2b], sums[2b + 1] (a double-double, b the block's number counted from
 * begin's) -- fixed blocks, so a reduction gives the same bits however it is split.
 */
#define FA_LOSS_BLOCK ((ptrdiff_t)2048)
typedef struct fa_loss_job {
    const void *x, *y, *w, *pw, *g;
    void *out;
    double *sums;
    ptrdiff_t n;             /* row length: pw[n] applies to each row */
    double scale;            /* gradients: the factor of every entry */
} fa_loss_job;
typedef void (*fa_loss_f32_fn)(const fa_loss_job *j, ptrdiff_t begin, ptrdiff_t end);
typedef void (*fa_loss_f64_fn)(const fa_loss_job *j, ptrdiff_t begin, ptrdiff_t end);
/* one_hot: count slices of (num_classes, inner) entries of out, their labels[count * inner] */
typedef void (*fa_one_hot_f32_fn)(const int64_t *labels, float *out, ptrdiff_t count, ptrdiff_t inner,
                                  ptrdiff_t num_classes);
typedef void (*fa_one_hot_f64_fn)(const int64_t *labels, double *out, ptrdiff_t count, ptrdiff_t inner,
                                  ptrdiff_t num_classes);

/*
 * A row-wise loss call (losses/fa_cross_entropy.h): rows of n contiguous logits x, class
 * targets (int64, one per row) or probability targets p (x's shape), each NULL where absent
 * (w: n class weights, ones; g: one grad_output per row, ones; loss, grad: not written).  The
 * kernel runs over the rows [r0, r1); rows are independent, so any split gives the same bits.
 */
typedef struct fa_ce_job {
    const void *x, *p, *w, *g;
    const int64_t *target;
    void *loss, *grad;
    ptrdiff_t n;
    int64_t ignore_index;
    double smoothing, scale;
} fa_ce_job;
typedef void (*fa_ce_f32_fn)(const fa_ce_job *j, ptrdiff_t r0, ptrdiff_t r1);
typedef void (*fa_ce_f64_fn)(const fa_ce_job *j, ptrdiff_t r0, ptrdiff_t r1);

/* Per kind (fastact_kinds.h): its id, its kernel type, and the body of its public entry
 * point fa_<name>_<T> (fa_dispatch.c; the public arguments in scope, prm the parameters). */
enum fa_kind { FA_KIND_UNARY, FA_KIND_BINARY, FA_KIND_ROWWISE, FA_KIND_REDUCE, FA_KIND_ROWWISE_GRAD,
               FA_KIND_BCE, FA_KIND_BCE_GRAD, FA_KIND_ONE_HOT, FA_KIND_CE, FA_KIND_CE_GRAD, FA_KIND_NLL,
               FA_KIND_CE_PROB, FA_KIND_CE_PROB_GRAD };
#define FA_KERNEL_TYPE_UNARY(T) fa_unary_##T##_fn
#define FA_ENTRY_UNARY(T, op) fa_run_unary_##T(op, x, y, n, &prm);
#define FA_KERNEL_TYPE_BINARY(T) fa_binary_##T##_fn
#define FA_ENTRY_BINARY(T, op) fa_run_binary_##T(op, x, g, y, n, &prm);
#define FA_KERNEL_TYPE_ROWWISE(T) fa_axis_##T##_fn
#define FA_ENTRY_ROWWISE(T, op) if (n > 0) fa_run_axis_##T(op, x, y, rows, n, 1, NULL);
#define FA_KERNEL_TYPE_REDUCE(T) fa_axis_##T##_fn
#define FA_ENTRY_REDUCE(T, op) fa_run_axis_##T(op, x, out, rows, n, 1, NULL);
#define FA_KERNEL_TYPE_ROWWISE_GRAD(T) fa_axis_##T##_fn
#define FA_ENTRY_ROWWISE_GRAD(T, op) \
    if (n > 0) { fa_axis_opts o = {NULL, g, NULL, 0}; fa_run_axis_##T(op, y, out, rows, n, 1, &o); }
/* the element-wise losses (src_c/losses/fa_bce.h; their runner: losses/fa_loss_run.h) */
#define FA_KERNEL_TYPE_BCE(T) fa_loss_##T##_fn
#define FA_ENTRY_BCE(T, op)                                                                 \
    { fa_loss_job j = {x, target, weight, pos_weight, NULL, NULL, NULL, n, 1.0};            \
      fa_run_loss(op, FA_DT_##T, &j, rows, n, reduction, out); }
#define FA_KERNEL_TYPE_BCE_GRAD(T) fa_loss_##T##_fn
#define FA_ENTRY_BCE_GRAD(T, op)                                                            \
    { fa_loss_job j = {x, target, weight, pos_weight, grad_output, NULL, NULL, n, scale};   \
      fa_run_loss(op, FA_DT_##T, &j, rows, n, FA_REDUCTION_NONE, out); }
#define FA_KERNEL_TYPE_ONE_HOT(T) fa_one_hot_##T##_fn
#define FA_ENTRY_ONE_HOT(T, op) fa_run_one_hot(op, FA_DT_##T, labels, out, outer, inner, num_classes, bad);
/* the row-wise losses (src_c/losses/fa_cross_entropy.h; their runner: losses/fa_ce_run.h) */
#define FA_KERNEL_TYPE_CE(T) fa_ce_##T##_fn
#define FA_ENTRY_CE(T, op)                                                                  \
    { fa_ce_job j = {x, NULL, weight, NULL, target, loss, NULL, n, ignore_index, label_smoothing, 1.0}; \
      fa_run_ce(op, FA_DT_##T, &j, rows, bad); }
#define FA_KERNEL_TYPE_CE_GRAD(T) fa_ce_##T##_fn
#define FA_ENTRY_CE_GRAD(T, op)                                                             \
    { fa_ce_job j = {x, NULL, weight, grad_output, target, loss, grad, n, ignore_index, label_smoothing, scale}; \
      fa_run_ce(op, FA_DT_##T, &j, rows, bad); }
#define FA_KERNEL_TYPE_NLL(T) fa_ce_##T##_fn
#define FA_ENTRY_NLL(T, op)                                                                 \
    { fa_ce_job j = {x, NULL, weight, NULL, target, loss, NULL, n, ignore_index, 0.0, 1.0}; \
      fa_run_ce(op, FA_DT_##T, &j, rows, bad); }
#define FA_KERNEL_TYPE_CE_PROB(T) fa_ce_##T##_fn
#define FA_ENTRY_CE_PROB(T, op)                                                             \
    { fa_ce_job j = {x, target, weight, NULL, NULL, loss, NULL, n, 0, label_smoothing, 1.0}; \
      fa_run_ce(op, FA_DT_##T, &j, rows, NULL); }
#define FA_KERNEL_TYPE_CE_PROB_GRAD(T) fa_ce_##T##_fn
#define FA_ENTRY_CE_PROB_GRAD(T, op)                                                        \
    { fa_ce_job j = {x, target, weight, grad_output, NULL, loss, grad, n, 0, label_smoothing, scale}; \
      fa_run_ce(op, FA_DT_##T, &j, rows, NULL); }

/* The functions of fastact_functions.h, numbered in its order: FA_OP_<name>. */
enum fa_op {
#define FA_FN(kind, name, cost, np, p1, p2) FA_OP_##name,
#include "fastact_functions.h"
#undef FA_FN
    FA_OP_COUNT
};
enum fa_dtype { FA_DT_f32 = 0, FA_DT_f64 = 1 };

/* Kernel variants, lowest first.  The order is the order of preference. */
enum fa_isa { FA_ISA_SCALAR = 0, FA_ISA_SSE2 = 1, FA_ISA_AVX2 = 2, FA_ISA_AVX512 = 3, FA_ISA_COUNT };

/* The dispatch table: one kernel per (function, dtype), filled once per ISA, stored as a
 * generic pointer and read back as its kernel type by FA_KERNEL (the fillers in
 * fa_isa_body.h check each kernel against its kind's type). */
typedef void (*fa_kernel_fn)(void);
typedef struct fa_table {
    fa_kernel_fn k[FA_OP_COUNT][2];    /* [FA_OP_<name>][FA_DT_<T>] */
} fa_table;
#define FA_KERNEL(shape, T, op) ((fa_##shape##_##T##_fn)fa_active.k[op][FA_DT_##T])

/* Filled by each per-ISA translation unit (isa/fa_isa_*.c). */
void fa_fill_table__scalar(fa_table *t);
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64)
#define FA_X86 1
void fa_fill_table__sse2(fa_table *t);
void fa_fill_table__avx2(fa_table *t);
void fa_fill_table__avx512(fa_table *t);
#endif

/* The table in use and its management (fa_dispatch.c). */
extern fa_table fa_active;
int fa_isa_best(void);               /* best variant this CPU and OS support */
int fa_isa_current(void);            /* variant in the table now */
int fa_isa_set(int isa);             /* fill the table with `isa`; -1 if unsupported */
int fa_isa_init(void);               /* once at import: best, or FASTACT_ISA if lower; returns it */
int fa_isa_requested(void);          /* what FASTACT_ISA asked for (-1: unset, -2: unknown name) */
const char *fa_isa_name(int isa);    /* "scalar", "sse2", "avx2", "avx512" */
/* Tuning per CPU, chosen at import by fa_isa_init (fa_dispatch.c); it never changes a bit of
 * any result, only the order of the work.  fa_tune_softmax_overlap: float32 softmax rows
 * longer than 4 KB (up to the stored path's 256 KB) are scaled inside the next row's
 * statistics pass (reductions/fa_rows.h, fa_sm_softmax_rows_f32), and float64 rows of up
 * to 16 KB inside the next row's stored terms (reductions/fa_rows_f64.h,
 * fa_sm64_softmax_rows): 1 on Intel cores, 0 elsewhere.  fa_tune_set_softmax_overlap (tests,
 * experiments) returns the previous value. */
extern int fa_tune_softmax_overlap;
int fa_tune_set_softmax_overlap(int on);
/* fa_tune_scalef_tiny: 1 where vscalefps / vscalefpd form subnormal and zero results at full
 * speed (AMD cores: Zen 4 seen 2026-12-05, Zen 5 measured 2026-12-07), so that the AVX-512
 * variant's scalings (fa_ldexp_neg_f32, fa_ldexp_exp_f32, fa_scale_exp_f64) take every lane
 * through them, the same correctly rounded bits as the integer-side rounding they otherwise
 * branch to for a vector with a lane far below 2^-126 / 2^-1022 (Intel cores take a
 * microcode assist per underflowing instruction there: 0 on them, and on other variants it
 * has no effect).  fa_tune_set_scalef_tiny returns the previous value. */
extern int fa_tune_scalef_tiny;
int fa_tune_set_scalef_tiny(int on);
/* Threads (fa_threads.c).  The count is process-wide, 1 by default (FASTACT_NUM_THREADS,
 * read once by fa_threads_init() at import); fa_set_num_threads returns the previous
 * count, or -1 for n outside [1, FA_THREADS_MAX].  Without POSIX threads it stays 1. */
#define FA_THREADS_MAX 256
int fa_threads_init(void);
int fa_threads_requested(void);      /* FASTACT_NUM_THREADS: -1 unset, -2 ignored, else its value */
int fa_get_num_threads(void);
int fa_set_num_threads(int n);
/* fn(ctx, begin, end) over contiguous chunks of [0, count) whose edges are multiples of
 * grain, run by the caller and up to fa_get_num_threads()-1 workers; returns when every
 * chunk is done.  fn must give the same result however [0, count) is cut. */
void fa_parallel_for(ptrdiff_t count, ptrdiff_t grain, void (*fn)(void *ctx, ptrdiff_t begin, ptrdiff_t end),
                     void *ctx);
/* one long softmax / log_softmax / logsumexp slice in fixed blocks (fa_slice_blocks.c): 1 if done */
int fa_slice_in_blocks(int op, int dt, const void *x, void *y, ptrdiff_t n, const fa_axis_opts *opts);
/* The kernel calls of fastact._core and of the public entry points: split over threads when
 * the call is large (fa_dispatch.c); op = FA_OP_<name>, of a function of that shape. */
void fa_run_unary_f32(int op, const float *x, float *y, ptrdiff_t n, const fa_params *p);
void fa_run_unary_f64(int op, const double *x, double *y, ptrdiff_t n, const fa_params *p);
void fa_run_binary_f32(int op, const float *x, const float *g, float *y, ptrdiff_t n, const fa_params *p);
void fa_run_binary_f64(int op, const double *x, const double *g, double *y, ptrdiff_t n, const fa_params *p);
void fa_run_axis_f32(int op, const float *x, float *y, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner,
                     const fa_axis_opts *opts);
void fa_run_axis_f64(int op, const double *x, double *y, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner,
                     const fa_axis_opts *opts);
/* The loss calls (losses/fa_loss_run.h, compiled into fa_dispatch.c): split over threads in
 * fixed blocks; dt = FA_DT_<T>; out as the public functions of fastact_kinds.h. */
void fa_run_loss(int op, int dt, fa_loss_job *j, ptrdiff_t rows, ptrdiff_t n, int reduction, void *out);
void fa_run_one_hot(int op, int dt, const int64_t *labels, void *out, ptrdiff_t outer, ptrdiff_t inner,
                    ptrdiff_t num_classes, ptrdiff_t *bad);
/* The row-wise losses (losses/fa_ce_run.h, compiled into fa_dispatch.c): class targets checked
 * first (*bad: the first bad row, or -1; nothing written then), rows split over threads. */
void fa_run_ce(int op, int dt, const fa_ce_job *j, ptrdiff_t rows, ptrdiff_t *bad);

#endif /* FASTACT_COMMON_H */
