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

/* Overlapping the scaling of one long float32 softmax row with the next row's statistics
 * pass (reductions/fa_rows.h) pays where the statistics pass waits on L3 or memory and the
 * scaling runs from L2 meanwhile: on a 2-core Intel Xeon (Sapphire/Emerald Rapids, AVX-512,
 * 2026-12-07) (64, 50257) 1121 -> 1029 us, (256, 16384) 1683 -> 1600, (128, 65536) 4165 ->
 * 4014, (1024, 8192) 4060 -> 3894 (medians of 9 interleaved builds, N(0, 3) rows).  On AMD
 * Zen 4 the same order measured 6-20% slower for rows of 4096 to 50257 entries (an earlier
 * session's alternating builds, fa_rows.h: the row's own stored terms and the pending row's
 * stores compete), so there only rows up to 4 KB overlap. */
int fa_tune_softmax_overlap = 0;

/* vscalefps / vscalefpd with results below 2^-126 / 2^-1022 (subnormal, or rounded to 0): no
 * slower than normal results on AMD Zen 5 (2026-12-07, 2^16 float32 with 10% of the lanes
 * subnormal, zero or n = -inf: 3.1 us each, as all-normal) and Zen 4 (fa_math_f64.h's note of
 * 2026-12-05); Intel cores take a microcode assist per such instruction.  See fa_common.h. */
int fa_tune_scalef_tiny = 0;

/* the cpuid vendor string ("GenuineIntel", "AuthenticAMD") is `name` */
static int fa_cpu_vendor_is(const char *name)
{
#if FA_X86
    unsigned a, b, c, d;
    char vendor[13];
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return 0;
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = 0;
    return strcmp(vendor, name) == 0;
#else
    (void)name;
    return 0;
#endif
}

int fa_tune_set_scalef_tiny(int on)
{
    const int before = fa_tune_scalef_tiny;
    fa_tune_scalef_tiny = on != 0;
    return before;
}

int fa_tune_set_softmax_overlap(int on)
{
    const int before = fa_tune_softmax_overlap;
    fa_tune_softmax_overlap = on != 0;
    return before;
}

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
    fa_tune_softmax_overlap = fa_cpu_vendor_is("GenuineIntel");
    fa_tune_scalef_tiny = fa_cpu_vendor_is("AuthenticAMD");
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
 * Element-wise (one or two inputs): blocks of whole FA_PAR_GRAIN-element runs (the kernels
 * compute each element alone, the tail through the same vector function, so any cut gives
 * the same bits).  Row-wise and reducing: blocks of whole (n, inner) slices along `outer`,
 * with mask, weights and sign offset alike (the kernels carry nothing from one slice to the
 * next: the float64 log_softmax rows that write row r inside row r+1 finish their last
 * row before returning).  One contiguous slice (outer = inner = 1) of softmax, log_softmax,
 * logsumexp, softmax_grad or log_softmax_grad with >= 2^18 entries is cut into fixed blocks
 * (fa_slice_blocks.c), whatever the thread count.  Few slices of many columns (axis=0 of a 2-D array, inner >= 128) are cut
 * by columns instead (FA_COL_GRAIN below); any other call of one slice runs on the caller.
 *
 * Where splitting starts: per function, from its cost class in fastact_functions.h.  Waking
 * a worker and sharing the chunks costs ~5-50 us, so a call splits only when half of it
 * takes clearly longer than that, and (memory-bound kernels) only where two cores move more
 * bytes per second than one, i.e. outside the private caches.  Measured on the 2-core Zen 4
 * VM, 2 threads against 1, interleaved (python /tmp/arch/threads_all.py, see the report):
 *   COPY  (relu, hardtanh, softsign, ...: ~0.1-0.3 ns/element) 2^16 float32: 0.89x;
 *         splitting from 2^20 input elements (4 MB float32): >= 1.0x at every size;
 *   EXP   (sigmoid, tanh, elu, silu: ~0.5-1 ns/element): 2^16: 1.2x; since the float32
 *         gradients run in float32 lanes (~0.3 ns/element) their 2^16 calls (~20 us) measured
 *         0.91-1.46x on 2 threads (log_sigmoid_grad, elu_grad, celu_grad below 1), 2^18
 *         1.42-1.64x (PYTHONPATH=. python benchmarks/threads.py --all 7 2, idle machine,
 *         2026-12-04): EXP splits from 2^17;
 *   HEAVY (gelu, mish, logit, softplus: 1-3 ns/element): 2^15 already pays.
 * AXIS: the reductions keep the former 2^16 input elements (their split is reworked apart).
 * With the workers' idle spin (fa_threads.c) and the column split, 2 threads against 1
 * (python benchmarks/threads.py --all 7 2, idle machine, 2026-12-04): every element-wise
 * function at 2^20 float32 1.74-2.0x (COPY 1.48-1.57x before the spin); the reductions at
 * (1024, 1024) along -1, 0 and None and (64, 50257) 1.92-2.0x (axis 0: 1.00x before); the
 * two-input gradients at 2^22 float32 (48 MB, out of L3) 1.43-1.72x, DRAM-bound. */
#define FA_SPLIT_MIN_COPY ((ptrdiff_t)1 << 20)
#define FA_SPLIT_MIN_EXP ((ptrdiff_t)1 << 17)
#define FA_SPLIT_MIN_HEAVY ((ptrdiff_t)1 << 15)
#define FA_SPLIT_MIN_AXIS ((ptrdiff_t)1 << 16)
#define FA_PAR_GRAIN 64
/* Few slices (outer < 4 threads) of many columns (inner >= 2 FA_COL_GRAIN): each thread
 * takes whole FA_COL_GRAIN-column ranges of every slice instead (fa_axis_opts.cols).  64
 * columns is a multiple of every column kernel's block (FA_SM_BLOCK32 <= 64 float32 columns,
 * FA_SM_BLOCK, the gradients' 2 FA_LANES_F64), so the blocks, and the bits, are those of
 * the unsplit call. */
#define FA_COL_GRAIN 64
static ptrdiff_t fa_col_grain(ptrdiff_t inner, int threads)
{
    const ptrdiff_t g = inner / (2 * threads) / FA_COL_GRAIN * FA_COL_GRAIN;
    return g > FA_COL_GRAIN ? g : FA_COL_GRAIN;
}

/* per function (FA_OP_<name>): its kind, and the input size from which it splits */
static const unsigned char fa_op_kind[FA_OP_COUNT] = {
#define FA_FN(kind, name, cost, np, p1, p2) FA_KIND_##kind,
#include "fastact_functions.h"
#undef FA_FN
};
static const ptrdiff_t fa_op_split_min[FA_OP_COUNT] = {
#define FA_FN(kind, name, cost, np, p1, p2) FA_SPLIT_MIN_##cost,
#include "fastact_functions.h"
#undef FA_FN
};

#define FA__DEFINE_SPLIT(T)                                                                \
typedef struct fa_map_job_##T {                                                            \
    fa_unary_##T##_fn unary;          /* one of the two */                                 \
    fa_binary_##T##_fn binary;                                                             \
    const fa_scalar_##T *x, *g;                                                            \
    fa_scalar_##T *y;                                                                      \
    const fa_params *p;                                                                    \
} fa_map_job_##T;                                                                          \
static void fa_map_part_##T(void *ctx, ptrdiff_t begin, ptrdiff_t end)                     \
{                                                                                          \
    const fa_map_job_##T *j = (const fa_map_job_##T *)ctx;                                 \
    if (j->unary)                                                                          \
        j->unary(j->x + begin, j->y + begin, end - begin, j->p);                           \
    else                                                                                   \
        j->binary(j->x + begin, j->g ? j->g + begin : NULL, j->y + begin, end - begin, j->p); \
}                                                                                          \
void fa_run_unary_##T(int op, const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t n,      \
                      const fa_params *p)                                                  \
{                                                                                          \
    fa_unary_##T##_fn kernel = FA_KERNEL(unary, T, op);                                    \
    if (n < fa_op_split_min[op] || fa_get_num_threads() == 1) {                            \
        if (n > 0) kernel(x, y, n, p);                                                     \
        return;                                                                            \
    }                                                                                      \
    fa_map_job_##T job = {kernel, NULL, x, NULL, y, p};                                    \
    fa_parallel_for(n, FA_PAR_GRAIN, fa_map_part_##T, &job);                               \
}                                                                                          \
void fa_run_binary_##T(int op, const fa_scalar_##T *x, const fa_scalar_##T *g,            \
                       fa_scalar_##T *y, ptrdiff_t n, const fa_params *p)                  \
{                                                                                          \
    fa_binary_##T##_fn kernel = FA_KERNEL(binary, T, op);                                  \
    if (n < fa_op_split_min[op] || fa_get_num_threads() == 1) {                            \
        if (n > 0) kernel(x, g, y, n, p);                                                  \
        return;                                                                            \
    }                                                                                      \
    fa_map_job_##T job = {NULL, kernel, x, g, y, p};                                       \
    fa_parallel_for(n, FA_PAR_GRAIN, fa_map_part_##T, &job);                               \
}                                                                                          \
typedef struct fa_axis_job_##T {                                                           \
    fa_axis_##T##_fn kernel;                                                               \
    const fa_scalar_##T *x;                                                                \
    fa_scalar_##T *y;                                                                      \
    ptrdiff_t outer, n, inner, y_slice; /* y_slice: outputs per slice (n*inner or inner) */ \
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
        o.cols = j->opts->cols;                                                            \
        po = &o;                                                                           \
    }                                                                                      \
    j->kernel(j->x + xo, j->y + yo, end - begin, j->n, j->inner, po);                      \
}                                                                                          \
/* columns [begin, end) of every slice: x, y and the options offset by begin, o.cols set */ \
static void fa_axis_cols_part_##T(void *ctx, ptrdiff_t begin, ptrdiff_t end)               \
{                                                                                          \
    const fa_axis_job_##T *j = (const fa_axis_job_##T *)ctx;                               \
    const fa_axis_opts *jo = j->opts;                                                      \
    fa_axis_opts o = {NULL, NULL, NULL, end - begin};                                      \
    if (jo) {                                                                              \
        o.mask = jo->mask ? jo->mask + begin : NULL;                                       \
        o.b = jo->b ? (const fa_scalar_##T *)jo->b + begin : NULL;                         \
        o.sign = jo->sign ? (fa_scalar_##T *)jo->sign + begin : NULL;                      \
    }                                                                                      \
    j->kernel(j->x + begin, j->y + begin, j->outer, j->n, j->inner, &o);                   \
}                                                                                          \
void fa_run_axis_##T(int op, const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer,   \
                     ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *opts)               \
{                                                                                          \
    fa_axis_##T##_fn kernel = FA_KERNEL(axis, T, op);                                      \
    if (outer <= 0 || inner <= 0)                                                          \
        return;                                                                            \
    if (outer == 1 && inner == 1 && fa_slice_in_blocks(op, FA_DT_##T, x, y, n, opts))      \
        return;                  /* one long slice: fixed blocks (fa_slice_blocks.c) */    \
    const int threads = fa_get_num_threads();                                              \
    const int by_cols = inner >= 2 * FA_COL_GRAIN && outer < 4 * threads;                  \
    if ((outer < 2 && !by_cols) || n <= 0 || outer * n * inner < fa_op_split_min[op]       \
        || threads == 1) {                                                                 \
        kernel(x, y, outer, n, inner, opts);                                               \
        return;                                                                            \
    }                                                                                      \
    const int reduces = fa_op_kind[op] == FA_KIND_REDUCE;                                  \
    fa_axis_job_##T job = {kernel, x, y, outer, n, inner, reduces ? inner : n * inner, opts}; \
    if (by_cols)                                                                           \
        fa_parallel_for(inner, fa_col_grain(inner, threads), fa_axis_cols_part_##T, &job); \
    else                                                                                   \
        fa_parallel_for(outer, 1, fa_axis_part_##T, &job);                                 \
}
FA__DEFINE_SPLIT(f32)
FA__DEFINE_SPLIT(f64)

/* ---- the public entry points, one per (function, dtype), from the list ---- */
#define FA__PACK_0(p1, p2) const fa_params prm = {0.0, 0.0, 0.0, 0.0};
#define FA__PACK_1(p1, p2) const fa_params prm = {p1, 0.0, 0.0, 0.0};
#define FA__PACK_2(p1, p2) const fa_params prm = {p1, p2, 0.0, 0.0};

#define FA_FN(kind, name, cost, np, p1, p2)                                                \
void fa_##name##_f32 FA_ARGS_##kind(float, np, p1, p2)                                     \
{                                                                                          \
    FA__PACK_##np(p1, p2) (void)prm;                                                       \
    FA_ENTRY_##kind(f32, FA_OP_##name)                                                     \
}                                                                                          \
void fa_##name##_f64 FA_ARGS_##kind(double, np, p1, p2)                                    \
{                                                                                          \
    FA__PACK_##np(p1, p2) (void)prm;                                                       \
    FA_ENTRY_##kind(f64, FA_OP_##name)                                                     \
}
#include "fastact_functions.h"
#undef FA_FN

/* ---- the loss kinds' calls (thread split, the reductions' final sum) ---- */
#include "losses/fa_loss_run.h"
#include "losses/fa_ce_run.h"
