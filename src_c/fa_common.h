/*
 * fa_common.h -- internal definitions shared by every fastact translation unit.
 *
 * Not installed: extensions use fastact.h.  This header defines the uniform
 * internal kernel signatures that the dispatch table holds, one per kind of
 * function in fastact_functions.h:
 *
 *   FA_UNARY   element-wise  y[i] = f(x[i]; a, b)            (contiguous runs)
 *   FA_ROWWISE softmax-like  y[o, :, i] = f(x[o, :, i])      (reduce along the middle axis)
 *   FA_REDUCE  lse-like      y[o, i]    = f(x[o, :, i])      (reduce along the middle axis)
 *
 * A row-wise call sees the input as a C-contiguous (outer, n, inner) block and
 * works along the middle axis; inner == 1 is the last-axis case, inner > 1 is a
 * non-last axis handled in column blocks.
 */
#ifndef FASTACT_COMMON_H
#define FASTACT_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FA_INLINE static inline __attribute__((always_inline))
#define FA_LIKELY(c) __builtin_expect(!!(c), 1)
#define FA_UNLIKELY(c) __builtin_expect(!!(c), 0)

typedef float fa_scalar_f32;
typedef double fa_scalar_f64;
#define FA_LANES_f32 FA_LANES_F32
#define FA_LANES_f64 FA_LANES_F64

/* Parameters of an element-wise function, in declaration order (unused ones are 0); c and d
 * are free for constants a kernel derives once per call (e.g. logit's float32 clamp bounds). */
typedef struct fa_params {
    double a, b, c, d;
} fa_params;

/*
 * Options of a row-wise / reducing call.  Every pointer may be NULL.
 *   mask  : uint8 array in the layout of x; 0 leaves the entry out (JAX `where=`)
 *   b     : weights in the layout of x (logsumexp only; SciPy's `b=`)
 *   sign  : output in the layout of y (logsumexp with `return_sign`); NULL = no sign
 */
typedef struct fa_axis_opts {
    const unsigned char *mask;
    const void *b;
    void *sign;
} fa_axis_opts;

typedef void (*fa_unary_f32_fn)(const float *x, float *y, ptrdiff_t n, const fa_params *p);
typedef void (*fa_unary_f64_fn)(const double *x, double *y, ptrdiff_t n, const fa_params *p);
typedef void (*fa_axis_f32_fn)(const float *x, float *y, ptrdiff_t outer, ptrdiff_t n,
                               ptrdiff_t inner, const fa_axis_opts *opts);
typedef void (*fa_axis_f64_fn)(const double *x, double *y, ptrdiff_t outer, ptrdiff_t n,
                               ptrdiff_t inner, const fa_axis_opts *opts);

/* Kernel variants, lowest first.  The order is the order of preference. */
enum fa_isa { FA_ISA_SCALAR = 0, FA_ISA_SSE2 = 1, FA_ISA_AVX2 = 2, FA_ISA_AVX512 = 3, FA_ISA_COUNT };

/* The dispatch table: one pointer per (function, dtype), filled once per ISA. */
typedef struct fa_table {
#define FA_UNARY(name, np, p1, p2) fa_unary_f32_fn name##_f32; fa_unary_f64_fn name##_f64;
#define FA_ROWWISE(name) fa_axis_f32_fn name##_f32; fa_axis_f64_fn name##_f64;
#define FA_REDUCE(name) fa_axis_f32_fn name##_f32; fa_axis_f64_fn name##_f64;
#include "fastact_functions.h"
#undef FA_UNARY
#undef FA_ROWWISE
#undef FA_REDUCE
} fa_table;

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
/* The kernel in use for the op-th FA_UNARY (or FA_ROWWISE/FA_REDUCE) line of the list. */
fa_unary_f32_fn fa_unary_f32_kernel(int op);
fa_unary_f64_fn fa_unary_f64_kernel(int op);
fa_axis_f32_fn fa_axis_f32_kernel(int op);
fa_axis_f64_fn fa_axis_f64_kernel(int op);

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
/* The kernel calls of fastact._core and of the public entry points: split over threads when
 * the call is large (fa_dispatch.c); op as in fa_*_kernel(op). */
void fa_run_unary_f32(int op, const float *x, float *y, ptrdiff_t n, const fa_params *p);
void fa_run_unary_f64(int op, const double *x, double *y, ptrdiff_t n, const fa_params *p);
void fa_run_axis_f32(int op, const float *x, float *y, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner,
                     const fa_axis_opts *opts);
void fa_run_axis_f64(int op, const double *x, double *y, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner,
                     const fa_axis_opts *opts);

#endif /* FASTACT_COMMON_H */
