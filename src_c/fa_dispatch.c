/*
 * fa_dispatch.c -- choose the kernel variant once, and the public C entry points.
 *
 * The best variant is found from cpuid *and* the OS's saved-state mask (XCR0): a CPU
 * with AVX-512 under an OS that does not save ZMM registers must not run AVX-512
 * code (NumPy's npy_cpu_features.c does the same).  FASTACT_ISA=scalar|sse2|avx2|avx512
 * forces a lower variant; a higher one than the machine has is ignored (and
 * reported by fastact.show_config()).  This file is compiled with baseline flags.
 */
#include <stdlib.h>
#include <string.h>
#include "fa_common.h"
#include "fastact.h"

fa_table fa_active;
static int fa_current = -1;
static int fa_requested = -1;

static const char *const fa_isa_names[FA_ISA_COUNT] = {"scalar", "sse2", "avx2", "avx512"};

const char *fa_isa_name(int isa) { return (isa >= 0 && isa < FA_ISA_COUNT) ? fa_isa_names[isa] : "unknown"; }

#if FA_X86
#include <cpuid.h>
static uint64_t fa_xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int fa_detect(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return FA_ISA_SCALAR;
    const int sse2 = (d >> 26) & 1, fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    const int f16c = (c >> 29) & 1;   /* the avx2/avx512 units are built with -mf16c */
    const uint64_t xcr0 = osxsave ? fa_xgetbv0() : 0;
    const int ymm_saved = (xcr0 & 0x6) == 0x6;      /* XMM and YMM state */
    const int zmm_saved = (xcr0 & 0xe6) == 0xe6;    /* + opmask, ZMM_Hi256, Hi16_ZMM */
    int avx2 = 0, avx512f = 0;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        avx2 = (b >> 5) & 1;
        avx512f = (b >> 16) & 1;
    }
    const int avx2_set = avx && fma && avx2 && f16c && ymm_saved;
    if (avx2_set && avx512f && zmm_saved)
        return FA_ISA_AVX512;
    if (avx2_set)
        return FA_ISA_AVX2;
    return sse2 ? FA_ISA_SSE2 : FA_ISA_SCALAR;
}
#else
static int fa_detect(void) { return FA_ISA_SCALAR; }
#endif

int fa_isa_best(void)
{
    static int best = -1;
    if (best < 0)
        best = fa_detect();
    return best;
}

int fa_isa_current(void) { return fa_current; }
int fa_isa_requested(void) { return fa_requested; }

int fa_isa_set(int isa)
{
    if (isa < 0 || isa > fa_isa_best())
        return -1;
    fa_table t;
    switch (isa) {
#if FA_X86
    case FA_ISA_AVX512: fa_fill_table__avx512(&t); break;
    case FA_ISA_AVX2: fa_fill_table__avx2(&t); break;
    case FA_ISA_SSE2: fa_fill_table__sse2(&t); break;
#endif
    default: fa_fill_table__scalar(&t); break;
    }
    fa_active = t;
    fa_current = isa;
    return isa;
}

int fa_isa_init(void)
{
    if (fa_current >= 0)
        return fa_current;
    int isa = fa_isa_best();
    const char *env = getenv("FASTACT_ISA");
    if (env && *env) {
        fa_requested = -2;
        for (int i = 0; i < FA_ISA_COUNT; i++)
            if (strcmp(env, fa_isa_names[i]) == 0)
                fa_requested = i;
        if (fa_requested >= 0 && fa_requested < isa)
            isa = fa_requested;
    }
    return fa_isa_set(isa);
}

const char *fa_isa_in_use(void) { return fa_isa_name(fa_current); }

/* ---- large calls split over threads (fa_threads.c) ----
 * Element-wise: blocks of whole FA_PAR_GRAIN-element runs (the kernels compute each
 * element alone, the tail through the same vector function, so any cut gives the same
 * bits).  Row-wise and reducing: blocks of whole (n, inner) slices along `outer`, with
 * mask, weights and sign offset alike (the kernels carry nothing from one slice to the
 * next: the float64 log_softmax rows that write row r inside row r+1 finish their last
 * row before returning).  A call of fewer than FA_PAR_MIN_ELEMENTS input elements, or of
 * one slice, runs on the caller.  At 2^16 float32 elements on 2 threads (Zen 4 VM, second
 * core free; python benchmarks/threads.py): sigmoid 1.2x, relu 0.9x, gelu 1.5x; with the
 * other core busy ~1.0x (the worker joins late and takes no chunk). */
#define FA_PAR_MIN_ELEMENTS ((ptrdiff_t)1 << 16)
#define FA_PAR_GRAIN 64

#define FA__DEFINE_SPLIT(T)                                                                \
typedef struct fa_unary_job_##T {                                                          \
    fa_unary_##T##_fn kernel;                                                              \
    const fa_scalar_##T *x;                                                                \
    fa_scalar_##T *y;                                                                      \
    const fa_params *p;                                                                    \
} fa_unary_job_##T;                                                                        \
static void fa_unary_part_##T(void *ctx, ptrdiff_t begin, ptrdiff_t end)                   \
{                                                                                          \
    const fa_unary_job_##T *j = (const fa_unary_job_##T *)ctx;                             \
    j->kernel(j->x + begin, j->y + begin, end - begin, j->p);                              \
}                                                                                          \
static void fa_unary_split_##T(fa_unary_##T##_fn kernel, const fa_scalar_##T *x,          \
                               fa_scalar_##T *y, ptrdiff_t n, const fa_params *p)          \
{                                                                                          \
    if (n < FA_PAR_MIN_ELEMENTS || fa_get_num_threads() == 1) {                            \
        if (n > 0) kernel(x, y, n, p);                                                     \
        return;                                                                            \
    }                                                                                      \
    fa_unary_job_##T job = {kernel, x, y, p};                                              \
    fa_parallel_for(n, FA_PAR_GRAIN, fa_unary_part_##T, &job);                             \
}                                                                                          \
typedef struct fa_axis_job_##T {                                                           \
    fa_axis_##T##_fn kernel;                                                               \
    const fa_scalar_##T *x;                                                                \
    fa_scalar_##T *y;                                                                      \
    ptrdiff_t n, inner, y_slice;     /* y_slice: outputs per slice (n*inner or inner) */   \
    const fa_axis_opts *opts;                                                              \
} fa_axis_job_##T;                                                                         \
static void fa_axis_part_##T(void *ctx, ptrdiff_t begin, ptrdiff_t end)                    \
{                                                                                          \
    const fa_axis_job_##T *j = (const fa_axis_job_##T *)ctx;                               \
    const ptrdiff_t xo = begin * j->n * j->inner, yo = begin * j->y_slice;                 \
    fa_axis_opts o, *po = NULL;                                                            \
    if (j->opts) {                                                                         \
        o.mask = j->opts->mask ? j->opts->mask + xo : NULL;                                \
        o.b = j->opts->b ? (const fa_scalar_##T *)j->opts->b + xo : NULL;                  \
        o.sign = j->opts->sign ? (fa_scalar_##T *)j->opts->sign + yo : NULL;               \
        po = &o;                                                                           \
    }                                                                                      \
    j->kernel(j->x + xo, j->y + yo, end - begin, j->n, j->inner, po);                      \
}                                                                                          \
static void fa_axis_split_##T(fa_axis_##T##_fn kernel, const fa_scalar_##T *x,            \
                              fa_scalar_##T *y, ptrdiff_t outer, ptrdiff_t n,              \
                              ptrdiff_t inner, const fa_axis_opts *opts, int reduces)      \
{                                                                                          \
    if (outer <= 0 || inner <= 0)                                                          \
        return;                                                                            \
    if (outer < 2 || n <= 0 || outer * n * inner < FA_PAR_MIN_ELEMENTS                     \
        || fa_get_num_threads() == 1) {                                                    \
        kernel(x, y, outer, n, inner, opts);                                               \
        return;                                                                            \
    }                                                                                      \
    fa_axis_job_##T job = {kernel, x, y, n, inner, reduces ? inner : n * inner, opts};     \
    fa_parallel_for(outer, 1, fa_axis_part_##T, &job);                                     \
}
FA__DEFINE_SPLIT(f32)
FA__DEFINE_SPLIT(f64)

/* ---- the public entry points, one per (function, dtype), from the list ---- */
#define FA__PACK_0(p1, p2) const fa_params prm = {0.0, 0.0};
#define FA__PACK_1(p1, p2) const fa_params prm = {p1, 0.0};
#define FA__PACK_2(p1, p2) const fa_params prm = {p1, p2};

#define FA_UNARY(name, np, p1, p2)                                                         \
void fa_##name##_f32(const float *x, float *y, ptrdiff_t n FA__PARAMS_##np(p1, p2))        \
{                                                                                          \
    FA__PACK_##np(p1, p2)                                                                  \
    fa_unary_split_f32(fa_active.name##_f32, x, y, n, &prm);                               \
}                                                                                          \
void fa_##name##_f64(const double *x, double *y, ptrdiff_t n FA__PARAMS_##np(p1, p2))      \
{                                                                                          \
    FA__PACK_##np(p1, p2)                                                                  \
    fa_unary_split_f64(fa_active.name##_f64, x, y, n, &prm);                               \
}
#define FA_ROWWISE(name)                                                                   \
void fa_##name##_f32(const float *x, float *y, ptrdiff_t rows, ptrdiff_t n)                \
{ if (n > 0) fa_axis_split_f32(fa_active.name##_f32, x, y, rows, n, 1, NULL, 0); }         \
void fa_##name##_f64(const double *x, double *y, ptrdiff_t rows, ptrdiff_t n)              \
{ if (n > 0) fa_axis_split_f64(fa_active.name##_f64, x, y, rows, n, 1, NULL, 0); }
#define FA_REDUCE(name)                                                                    \
void fa_##name##_f32(const float *x, float *out, ptrdiff_t rows, ptrdiff_t n)              \
{ fa_axis_split_f32(fa_active.name##_f32, x, out, rows, n, 1, NULL, 1); }                  \
void fa_##name##_f64(const double *x, double *out, ptrdiff_t rows, ptrdiff_t n)            \
{ fa_axis_split_f64(fa_active.name##_f64, x, out, rows, n, 1, NULL, 1); }
#include "fastact_functions.h"
#undef FA_UNARY
#undef FA_ROWWISE
#undef FA_REDUCE

/* ---- generic access by index, for fastact._core (the order of fastact_functions.h) ---- */
#define FA_ROWWISE(name)
#define FA_REDUCE(name)
#define FA_UNARY(name, np, p1, p2) offsetof(fa_table, name##_f32),
static const size_t fa_unary_f32_at[] = {
#include "fastact_functions.h"
};
#undef FA_UNARY
#define FA_UNARY(name, np, p1, p2) offsetof(fa_table, name##_f64),
static const size_t fa_unary_f64_at[] = {
#include "fastact_functions.h"
};
#undef FA_UNARY
#undef FA_ROWWISE
#undef FA_REDUCE
#define FA_UNARY(name, np, p1, p2)
#define FA_ROWWISE(name) offsetof(fa_table, name##_f32),
#define FA_REDUCE(name) offsetof(fa_table, name##_f32),
static const size_t fa_axis_f32_at[] = {
#include "fastact_functions.h"
};
#undef FA_ROWWISE
#undef FA_REDUCE
#define FA_ROWWISE(name) offsetof(fa_table, name##_f64),
#define FA_REDUCE(name) offsetof(fa_table, name##_f64),
static const size_t fa_axis_f64_at[] = {
#include "fastact_functions.h"
};
#undef FA_UNARY
#undef FA_ROWWISE
#undef FA_REDUCE

#define FA__AT(type, at, op) (*(const type *)((const char *)&fa_active + at[op]))
fa_unary_f32_fn fa_unary_f32_kernel(int op) { return FA__AT(fa_unary_f32_fn, fa_unary_f32_at, op); }
fa_unary_f64_fn fa_unary_f64_kernel(int op) { return FA__AT(fa_unary_f64_fn, fa_unary_f64_at, op); }
fa_axis_f32_fn fa_axis_f32_kernel(int op) { return FA__AT(fa_axis_f32_fn, fa_axis_f32_at, op); }
fa_axis_f64_fn fa_axis_f64_kernel(int op) { return FA__AT(fa_axis_f64_fn, fa_axis_f64_at, op); }

/* whether the op-th FA_ROWWISE/FA_REDUCE line reduces (one output per slice) */
#define FA_UNARY(name, np, p1, p2)
#define FA_ROWWISE(name) 0,
#define FA_REDUCE(name) 1,
static const unsigned char fa_axis_reduces[] = {
#include "fastact_functions.h"
};
#undef FA_UNARY
#undef FA_ROWWISE
#undef FA_REDUCE

void fa_run_unary_f32(int op, const float *x, float *y, ptrdiff_t n, const fa_params *p)
{ fa_unary_split_f32(fa_unary_f32_kernel(op), x, y, n, p); }
void fa_run_unary_f64(int op, const double *x, double *y, ptrdiff_t n, const fa_params *p)
{ fa_unary_split_f64(fa_unary_f64_kernel(op), x, y, n, p); }
void fa_run_axis_f32(int op, const float *x, float *y, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner,
                     const fa_axis_opts *opts)
{ fa_axis_split_f32(fa_axis_f32_kernel(op), x, y, outer, n, inner, opts, fa_axis_reduces[op]); }
void fa_run_axis_f64(int op, const double *x, double *y, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner,
                     const fa_axis_opts *opts)
{ fa_axis_split_f64(fa_axis_f64_kernel(op), x, y, outer, n, inner, opts, fa_axis_reduces[op]); }
