/*
 * fa_simd_scalar.h -- the portable one-lane "vector" (scalar ISA, also aarch64 until NEON lands).
 *
 * Every fa_simd_<isa>.h defines the same names, so a kernel is written once over
 * them and compiled once per ISA (XNNPACK's src/xnnpack/simd/ pattern):
 *
 *   types      fa_simd_f32 / fa_simd_f64 (vectors), fa_mask_f32 / fa_mask_f64 (lane masks)
 *   constants  FA_LANES_F32, FA_LANES_F64, FA_ISA_NAME, FA_HAVE_FMA
 *   memory     loadu, storeu, load_tail(p, n, fill), store_tail(p, v, n)   (0 < n < lanes;
 *              tails never touch memory past p[n-1]: NumPy arrays have no padding),
 *              load_mask_u8 / load_tail_mask_u8 (uint8 array -> lane mask, nonzero = true),
 *              loadu_f32_as_f64 / load_tail_f32_as_f64 / storeu_f64_as_f32 / store_tail_f64_as_f32
 *              (FA_LANES_F64 floats widened to double and back, for float32 kernels
 *              that compute in double); add_widened_f32_f64(acc, v) = acc + both halves of
 *              the float32 vector v widened (float32 sums accumulated in float64);
 *              widen_lo_f32(v) / widen_hi_f32(v) / narrow_pair_f64(lo, hi): a float32 vector's
 *              halves as double vectors and back, in registers (the SIMD variants only,
 *              where FA_LANES_F32 = 2 FA_LANES_F64; not defined here);
 *              mask_add_f32(m, a, b) = m ? a + b : a
 *   arithmetic set1, set1_bits, add, sub, mul, div, sqrt, min, max, abs, neg,
 *              fmadd(a,b,c) = a*b+c, fnmadd(a,b,c) = c-a*b, fmsub(a,b,c) = a*b-c
 *              (fused where FA_HAVE_FMA, else two roundings)
 *              rcp_approx_f64(x) ~ 1/x, relative error below 2^-11 for 2^-125 <= |x| <= 2^125
 *              (AVX-512: vrcp14pd, 2^-14; AVX2/SSE2: rcpps on x rounded to float32, 2^-11.4;
 *              here 1/x rounded): a seed, whose bits differ between ISAs.
 *              min/max follow x86: min(a,b) = a < b ? a : b, so a NaN in either gives b.
 *   bits       and, or, xor, andnot(a,b) = ~a & b; bits_shl/bits_srl/bits_add/bits_sub treat
 *              each lane as an integer of the same width (int32 for f32, int64 for f64);
 *              cvt_i32_f32 converts int32 lanes (in a float vector's bits) to float;
 *   masks      cmplt, cmple, cmpgt, cmpge, cmpeq (ordered), cmpneq (true if unordered),
 *              cmpunord (either is NaN), mask_and, mask_or, mask_andnot(a,b) = ~a & b, mask_not,
 *              mask_any, select(m, a, b) = m ? a : b, tail_mask(n) = first n lanes,
 *              mask_count_f64(m) = number of true lanes (popcount),
 *              mask_cmpnlt_f64(m, a, b) = m & !(a < b) (unordered: true), fmadd_maskz_f32/f64(m, a, b, c)
 *              = m ? a*b+c : 0 (a NaN or inf of a lane left out never reaches the result),
 *              bits_add_maskz_f64(m, a, b) = m ? bits_add(a, b) : 0 (zero-masked integer add),
 *              prefetch_f64(p) / prefetch_f32(p) / prefetchw_f64(p): a hint to bring p's cache line into L1, for
 *              reading / writing (never faults, any address)
 *   reduce     reduce_add (lanes summed in a fixed order), reduce_max
 *   tables     lut16_f64(t, idx): t[k] with k the low 4 bits of each lane's bits of idx
 *              (t: 16 doubles; a 16-entry table lookup, vpermt2pd on AVX-512); lut16_f32 the
 *              same over 16 floats (vpermps on AVX-512, two vpermps and a blend on AVX2)
 *   rows       hmax_rows_f32(v), hsum_rows_f64(v): for v[0 .. lanes - 1], lane g of the result
 *              is the max / the sum of v[g]'s lanes (a transpose-and-reduce tree: unpacks and
 *              block shuffles; the same order for every lane, so lane g reads v[g] alone);
 *              mask_count_f32(m) = number of true lanes, mask_bits_f32(m) / mask_bits_f64(m) = bit g set for lane g
 *
 * Here every lane op is the plain C operation on one element.
 */
#ifndef FA_SIMD_H
#define FA_SIMD_H
#include <math.h>
#include "../fa_common.h"

#define FA_ISA_NAME "scalar"
#define FA_LANES_F32 1
#define FA_LANES_F64 1
#define FA_LUT16_ONE_OP 1   /* an index */
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
#define FA_HAVE_SCALEF 0
#define FA_HAVE_FMA 1
#else
#define FA_HAVE_FMA 0
#endif

typedef float fa_simd_f32;
typedef double fa_simd_f64;
typedef int fa_mask_f32;
typedef int fa_mask_f64;

FA_INLINE uint32_t fa__bits_f32(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
FA_INLINE float fa__from_bits_f32(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }
FA_INLINE uint64_t fa__bits_f64(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
FA_INLINE double fa__from_bits_f64(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }

#define FA__SCALAR_COMMON(T, S, U, BITS, FROMBITS)                                                \
FA_INLINE fa_simd_##T fa_loadu_##T(const S *p) { return *p; }                                     \
FA_INLINE void fa_storeu_##T(S *p, fa_simd_##T v) { *p = v; }                                     \
FA_INLINE fa_simd_##T fa_load_tail_##T(const S *p, ptrdiff_t n, S fill) { (void)p; (void)n; return fill; } \
FA_INLINE void fa_store_tail_##T(S *p, fa_simd_##T v, ptrdiff_t n) { (void)p; (void)v; (void)n; } \
FA_INLINE fa_mask_##T fa_load_mask_u8_##T(const unsigned char *p) { return *p != 0; }             \
FA_INLINE fa_mask_##T fa_load_tail_mask_u8_##T(const unsigned char *p, ptrdiff_t n) { (void)p; (void)n; return 0; } \
FA_INLINE fa_simd_##T fa_set1_##T(S x) { return x; }                                              \
FA_INLINE fa_simd_##T fa_set1_bits_##T(U u) { return FROMBITS(u); }                               \
FA_INLINE fa_simd_##T fa_add_##T(fa_simd_##T a, fa_simd_##T b) { return a + b; }                  \
FA_INLINE fa_simd_##T fa_sub_##T(fa_simd_##T a, fa_simd_##T b) { return a - b; }                  \
FA_INLINE fa_simd_##T fa_mul_##T(fa_simd_##T a, fa_simd_##T b) { return a * b; }                  \
FA_INLINE fa_simd_##T fa_div_##T(fa_simd_##T a, fa_simd_##T b) { return a / b; }                  \
FA_INLINE fa_simd_##T fa_min_##T(fa_simd_##T a, fa_simd_##T b) { return a < b ? a : b; }         \
FA_INLINE fa_simd_##T fa_max_##T(fa_simd_##T a, fa_simd_##T b) { return a > b ? a : b; }         \
FA_INLINE fa_simd_##T fa_and_##T(fa_simd_##T a, fa_simd_##T b) { return FROMBITS(BITS(a) & BITS(b)); } \
FA_INLINE fa_simd_##T fa_or_##T(fa_simd_##T a, fa_simd_##T b) { return FROMBITS(BITS(a) | BITS(b)); }  \
FA_INLINE fa_simd_##T fa_xor_##T(fa_simd_##T a, fa_simd_##T b) { return FROMBITS(BITS(a) ^ BITS(b)); } \
FA_INLINE fa_simd_##T fa_andnot_##T(fa_simd_##T a, fa_simd_##T b) { return FROMBITS(~BITS(a) & BITS(b)); } \
FA_INLINE fa_simd_##T fa_bits_shl_##T(fa_simd_##T a, int k) { return FROMBITS(BITS(a) << k); }   \
FA_INLINE fa_simd_##T fa_bits_srl_##T(fa_simd_##T a, int k) { return FROMBITS(BITS(a) >> k); }   \
FA_INLINE fa_simd_##T fa_bits_add_##T(fa_simd_##T a, fa_simd_##T b) { return FROMBITS(BITS(a) + BITS(b)); } \
FA_INLINE fa_simd_##T fa_bits_sub_##T(fa_simd_##T a, fa_simd_##T b) { return FROMBITS(BITS(a) - BITS(b)); } \
FA_INLINE fa_mask_##T fa_cmplt_##T(fa_simd_##T a, fa_simd_##T b) { return a < b; }               \
FA_INLINE fa_mask_##T fa_cmple_##T(fa_simd_##T a, fa_simd_##T b) { return a <= b; }              \
FA_INLINE fa_mask_##T fa_cmpgt_##T(fa_simd_##T a, fa_simd_##T b) { return a > b; }               \
FA_INLINE fa_mask_##T fa_cmpge_##T(fa_simd_##T a, fa_simd_##T b) { return a >= b; }              \
FA_INLINE fa_mask_##T fa_cmpeq_##T(fa_simd_##T a, fa_simd_##T b) { return a == b; }              \
FA_INLINE fa_mask_##T fa_cmpneq_##T(fa_simd_##T a, fa_simd_##T b) { return a != b; }             \
FA_INLINE fa_mask_##T fa_cmpunord_##T(fa_simd_##T a, fa_simd_##T b) { return a != a || b != b; } \
FA_INLINE fa_mask_##T fa_mask_and_##T(fa_mask_##T a, fa_mask_##T b) { return a & b; }            \
FA_INLINE fa_mask_##T fa_mask_or_##T(fa_mask_##T a, fa_mask_##T b) { return a | b; }             \
FA_INLINE fa_mask_##T fa_mask_andnot_##T(fa_mask_##T a, fa_mask_##T b) { return (!a) & b; }        \
FA_INLINE fa_mask_##T fa_mask_not_##T(fa_mask_##T a) { return !a; }                              \
FA_INLINE int fa_mask_any_##T(fa_mask_##T a) { return a; }                                        \
FA_INLINE fa_mask_##T fa_tail_mask_##T(ptrdiff_t n) { return n > 0; }                             \
FA_INLINE fa_simd_##T fa_select_##T(fa_mask_##T m, fa_simd_##T a, fa_simd_##T b) { return m ? a : b; } \
FA_INLINE S fa_reduce_add_##T(fa_simd_##T v) { return v; }                                       \
FA_INLINE S fa_reduce_max_##T(fa_simd_##T v) { return v; }

FA__SCALAR_COMMON(f32, float, uint32_t, fa__bits_f32, fa__from_bits_f32)
FA__SCALAR_COMMON(f64, double, uint64_t, fa__bits_f64, fa__from_bits_f64)
FA_INLINE unsigned fa_mask_bits_f64(int a) { return a != 0; }
FA_INLINE int fa_mask_count_f64(int a) { return a != 0; }
FA_INLINE double fa_bits_add_maskz_f64(int m, double a, double b) { return m ? fa_bits_add_f64(a, b) : 0.0; }
FA_INLINE void fa_prefetch_f64(const double *p) { __builtin_prefetch(p, 0, 3); }
FA_INLINE void fa_prefetch_f32(const float *p) { __builtin_prefetch(p, 0, 3); }
FA_INLINE void fa_prefetchw_f64(double *p) { __builtin_prefetch(p, 1, 3); }

#if FA_HAVE_FMA
FA_INLINE float fa_fmadd_f32(float a, float b, float c) { return fmaf(a, b, c); }
FA_INLINE float fa_fnmadd_f32(float a, float b, float c) { return fmaf(-a, b, c); }
FA_INLINE float fa_fmsub_f32(float a, float b, float c) { return fmaf(a, b, -c); }
FA_INLINE double fa_fmadd_f64(double a, double b, double c) { return fma(a, b, c); }
FA_INLINE double fa_fnmadd_f64(double a, double b, double c) { return fma(-a, b, c); }
FA_INLINE double fa_fmsub_f64(double a, double b, double c) { return fma(a, b, -c); }
#else
FA_INLINE float fa_fmadd_f32(float a, float b, float c) { return a * b + c; }
FA_INLINE float fa_fnmadd_f32(float a, float b, float c) { return c - a * b; }
FA_INLINE float fa_fmsub_f32(float a, float b, float c) { return a * b - c; }
FA_INLINE double fa_fmadd_f64(double a, double b, double c) { return a * b + c; }
FA_INLINE double fa_fnmadd_f64(double a, double b, double c) { return c - a * b; }
FA_INLINE double fa_fmsub_f64(double a, double b, double c) { return a * b - c; }
#endif
/* m ? a b + c : 0 */
FA_INLINE float fa_fmadd_maskz_f32(int m, float a, float b, float c) { return m ? fa_fmadd_f32(a, b, c) : 0.0f; }
FA_INLINE double fa_fmadd_maskz_f64(int m, double a, double b, double c) { return m ? fa_fmadd_f64(a, b, c) : 0.0; }
/* m && !(a < b): true where a >= b or either is NaN (one masked compare on AVX-512) */
FA_INLINE int fa_mask_cmpnlt_f64(int m, double a, double b) { return m && !(a < b); }

FA_INLINE float fa_sqrt_f32(float a) { return sqrtf(a); }
FA_INLINE double fa_sqrt_f64(double a) { return sqrt(a); }
FA_INLINE double fa_rcp_approx_f64(double a) { return 1.0 / a; }
FA_INLINE float fa_abs_f32(float a) { return fa__from_bits_f32(fa__bits_f32(a) & 0x7fffffffu); }
FA_INLINE double fa_abs_f64(double a) { return fa__from_bits_f64(fa__bits_f64(a) & 0x7fffffffffffffffull); }
FA_INLINE float fa_neg_f32(float a) { return fa__from_bits_f32(fa__bits_f32(a) ^ 0x80000000u); }
FA_INLINE double fa_neg_f64(double a) { return fa__from_bits_f64(fa__bits_f64(a) ^ 0x8000000000000000ull); }
FA_INLINE float fa_cvt_i32_f32(float a) { return (float)(int32_t)fa__bits_f32(a); }
FA_INLINE double fa_lut16_f64(const double *t, double idx) { return t[fa__bits_f64(idx) & 15]; }
FA_INLINE float fa_lut16_f32(const float *t, float idx) { return t[fa__bits_f32(idx) & 15]; }
/* pairs: one lane, (a0, b0) as a = a0, b = b0 and back */
FA_INLINE void fa_deinterleave2_f32(float v0, float v1, float *a, float *b) { *a = v0; *b = v1; }
FA_INLINE void fa_interleave2_f32(float a, float b, float *v0, float *v1) { *v0 = a; *v1 = b; }
FA_INLINE void fa_deinterleave2_f64(double v0, double v1, double *a, double *b) { *a = v0; *b = v1; }
FA_INLINE void fa_interleave2_f64(double a, double b, double *v0, double *v1) { *v0 = a; *v1 = b; }

FA_INLINE double fa_loadu_f32_as_f64(const float *p) { return (double)*p; }
FA_INLINE double fa_load_tail_f32_as_f64(const float *p, ptrdiff_t n, double fill) { (void)p; (void)n; return fill; }
FA_INLINE void fa_storeu_f64_as_f32(float *p, double v) { *p = (float)v; }
FA_INLINE void fa_store_tail_f64_as_f32(float *p, double v, ptrdiff_t n) { (void)p; (void)v; (void)n; }

/* acc + the float32 lanes of v widened (lane i of acc gets v[i] and v[i + FA_LANES_F64]) */
FA_INLINE double fa_add_widened_f32_f64(double acc, float v) { return acc + (double)v; }

/* m ? a + b : a (one masked add where the ISA has it) */
FA_INLINE float fa_mask_add_f32(int m, float a, float b) { return m ? a + b : a; }




/* transpose-and-reduce trees (one lane: v[0] itself) */
FA_INLINE unsigned fa_mask_bits_f32(int a) { return a != 0; }
FA_INLINE int fa_mask_count_f32(int a) { return a != 0; }
FA_INLINE float fa_hmax_rows_f32(const float *v) { return v[0]; }
FA_INLINE double fa_hsum_rows_f64(const double *v) { return v[0]; }

/* no folding to avoid here (SSE folds only aligned loads): the plain load */
#define fa_loadu_folded_f32 fa_loadu_f32

#endif /* FA_SIMD_H */
