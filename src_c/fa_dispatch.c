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

/* ---- the public entry points, one per (function, dtype), from the list ---- */
#define FA__PACK_0(p1, p2) const fa_params prm = {0.0, 0.0};
#define FA__PACK_1(p1, p2) const fa_params prm = {p1, 0.0};
#define FA__PACK_2(p1, p2) const fa_params prm = {p1, p2};

#define FA_UNARY(name, np, p1, p2)                                                         \
void fa_##name##_f32(const float *x, float *y, ptrdiff_t n FA__PARAMS_##np(p1, p2))        \
{                                                                                          \
    FA__PACK_##np(p1, p2)                                                                  \
    if (n > 0) fa_active.name##_f32(x, y, n, &prm);                                        \
}                                                                                          \
void fa_##name##_f64(const double *x, double *y, ptrdiff_t n FA__PARAMS_##np(p1, p2))      \
{                                                                                          \
    FA__PACK_##np(p1, p2)                                                                  \
    if (n > 0) fa_active.name##_f64(x, y, n, &prm);                                        \
}
#define FA_ROWWISE(name)                                                                   \
void fa_##name##_f32(const float *x, float *y, ptrdiff_t rows, ptrdiff_t n)                \
{ if (rows > 0 && n > 0) fa_active.name##_f32(x, y, rows, n, 1, NULL); }                   \
void fa_##name##_f64(const double *x, double *y, ptrdiff_t rows, ptrdiff_t n)              \
{ if (rows > 0 && n > 0) fa_active.name##_f64(x, y, rows, n, 1, NULL); }
#define FA_REDUCE(name)                                                                    \
void fa_##name##_f32(const float *x, float *out, ptrdiff_t rows, ptrdiff_t n)              \
{ if (rows > 0) fa_active.name##_f32(x, out, rows, n, 1, NULL); }                          \
void fa_##name##_f64(const double *x, double *out, ptrdiff_t rows, ptrdiff_t n)            \
{ if (rows > 0) fa_active.name##_f64(x, out, rows, n, 1, NULL); }
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
