/*
 * fa_simd_sse2.h -- SSE2 (x86-64 baseline): 4 x f32, 2 x f64. No FMA: fmadd is mul + add.
 * Same names and contracts as fa_simd_scalar.h (see there).  Masks are all-ones lanes.
 * Tails go through a stack buffer: SSE2 has no masked load, and reading past the end
 * of a NumPy array is not allowed.
 */
#ifndef FA_SIMD_H
#define FA_SIMD_H
#include <emmintrin.h>
#include <math.h>
#include "../fa_common.h"

#define FA_ISA_NAME "sse2"
#define FA_LANES_F32 4
#define FA_LANES_F64 2
#define FA_LUT16_ONE_OP 0   /* scalar loads */
#define FA_HAVE_SCALEF 0
#define FA_HAVE_FMA 0

typedef __m128 fa_simd_f32;
typedef __m128d fa_simd_f64;
typedef __m128 fa_mask_f32;
typedef __m128d fa_mask_f64;

/* ---- f32 ---- */
FA_INLINE __m128 fa_loadu_f32(const float *p) { return _mm_loadu_ps(p); }
FA_INLINE void fa_storeu_f32(float *p, __m128 v) { _mm_storeu_ps(p, v); }
FA_INLINE __m128 fa_load_tail_f32(const float *p, ptrdiff_t n, float fill) {
    float b[4] = {fill, fill, fill, fill};
    memcpy(b, p, (size_t)n * sizeof(float));
    return _mm_loadu_ps(b);
}
FA_INLINE void fa_store_tail_f32(float *p, __m128 v, ptrdiff_t n) {
    float b[4];
    _mm_storeu_ps(b, v);
    memcpy(p, b, (size_t)n * sizeof(float));
}
FA_INLINE __m128 fa_load_tail_mask_u8_f32(const unsigned char *p, ptrdiff_t n) {
    uint32_t w = 0;
    memcpy(&w, p, (size_t)n);
    __m128i b = _mm_cvtsi32_si128((int)w), z = _mm_setzero_si128();
    __m128i i32 = _mm_unpacklo_epi16(_mm_unpacklo_epi8(b, z), z);
    return _mm_castsi128_ps(_mm_xor_si128(_mm_cmpeq_epi32(i32, z), _mm_set1_epi32(-1)));
}
FA_INLINE __m128 fa_load_mask_u8_f32(const unsigned char *p) { return fa_load_tail_mask_u8_f32(p, 4); }
FA_INLINE __m128 fa_set1_f32(float x) { return _mm_set1_ps(x); }
FA_INLINE __m128 fa_set1_bits_f32(uint32_t u) { return _mm_castsi128_ps(_mm_set1_epi32((int)u)); }
FA_INLINE __m128 fa_add_f32(__m128 a, __m128 b) { return _mm_add_ps(a, b); }
FA_INLINE __m128 fa_sub_f32(__m128 a, __m128 b) { return _mm_sub_ps(a, b); }
FA_INLINE __m128 fa_mul_f32(__m128 a, __m128 b) { return _mm_mul_ps(a, b); }
FA_INLINE __m128 fa_div_f32(__m128 a, __m128 b) { return _mm_div_ps(a, b); }
FA_INLINE __m128 fa_sqrt_f32(__m128 a) { return _mm_sqrt_ps(a); }
FA_INLINE __m128 fa_min_f32(__m128 a, __m128 b) { return _mm_min_ps(a, b); }
FA_INLINE __m128 fa_max_f32(__m128 a, __m128 b) { return _mm_max_ps(a, b); }
FA_INLINE __m128 fa_fmadd_f32(__m128 a, __m128 b, __m128 c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
FA_INLINE __m128 fa_fnmadd_f32(__m128 a, __m128 b, __m128 c) { return _mm_sub_ps(c, _mm_mul_ps(a, b)); }
FA_INLINE __m128 fa_fmsub_f32(__m128 a, __m128 b, __m128 c) { return _mm_sub_ps(_mm_mul_ps(a, b), c); }
FA_INLINE __m128 fa_and_f32(__m128 a, __m128 b) { return _mm_and_ps(a, b); }
FA_INLINE __m128 fa_or_f32(__m128 a, __m128 b) { return _mm_or_ps(a, b); }
FA_INLINE __m128 fa_xor_f32(__m128 a, __m128 b) { return _mm_xor_ps(a, b); }
FA_INLINE __m128 fa_andnot_f32(__m128 a, __m128 b) { return _mm_andnot_ps(a, b); }
FA_INLINE __m128 fa_abs_f32(__m128 a) { return _mm_andnot_ps(_mm_set1_ps(-0.0f), a); }
FA_INLINE __m128 fa_neg_f32(__m128 a) { return _mm_xor_ps(_mm_set1_ps(-0.0f), a); }
FA_INLINE __m128 fa_bits_shl_f32(__m128 a, int k) { return _mm_castsi128_ps(_mm_slli_epi32(_mm_castps_si128(a), k)); }
FA_INLINE __m128 fa_bits_srl_f32(__m128 a, int k) { return _mm_castsi128_ps(_mm_srli_epi32(_mm_castps_si128(a), k)); }
FA_INLINE __m128 fa_bits_add_f32(__m128 a, __m128 b) { return _mm_castsi128_ps(_mm_add_epi32(_mm_castps_si128(a), _mm_castps_si128(b))); }
FA_INLINE __m128 fa_bits_sub_f32(__m128 a, __m128 b) { return _mm_castsi128_ps(_mm_sub_epi32(_mm_castps_si128(a), _mm_castps_si128(b))); }
FA_INLINE __m128 fa_cvt_i32_f32(__m128 a) { return _mm_cvtepi32_ps(_mm_castps_si128(a)); }
FA_INLINE __m128 fa_cmplt_f32(__m128 a, __m128 b) { return _mm_cmplt_ps(a, b); }
FA_INLINE __m128 fa_cmple_f32(__m128 a, __m128 b) { return _mm_cmple_ps(a, b); }
FA_INLINE __m128 fa_cmpgt_f32(__m128 a, __m128 b) { return _mm_cmpgt_ps(a, b); }
FA_INLINE __m128 fa_cmpge_f32(__m128 a, __m128 b) { return _mm_cmpge_ps(a, b); }
FA_INLINE __m128 fa_cmpeq_f32(__m128 a, __m128 b) { return _mm_cmpeq_ps(a, b); }
FA_INLINE __m128 fa_cmpneq_f32(__m128 a, __m128 b) { return _mm_cmpneq_ps(a, b); }
FA_INLINE __m128 fa_cmpunord_f32(__m128 a, __m128 b) { return _mm_cmpunord_ps(a, b); }
FA_INLINE __m128 fa_mask_and_f32(__m128 a, __m128 b) { return _mm_and_ps(a, b); }
FA_INLINE __m128 fa_mask_or_f32(__m128 a, __m128 b) { return _mm_or_ps(a, b); }
FA_INLINE __m128 fa_mask_andnot_f32(__m128 a, __m128 b) { return _mm_andnot_ps(a, b); }
FA_INLINE __m128 fa_mask_not_f32(__m128 a) { return _mm_xor_ps(a, _mm_castsi128_ps(_mm_set1_epi32(-1))); }
FA_INLINE int fa_mask_any_f32(__m128 a) { return _mm_movemask_ps(a) != 0; }
FA_INLINE __m128 fa_tail_mask_f32(ptrdiff_t n) {
    return _mm_castsi128_ps(_mm_cmpgt_epi32(_mm_set1_epi32((int)n), _mm_setr_epi32(0, 1, 2, 3)));
}
FA_INLINE __m128 fa_select_f32(__m128 m, __m128 a, __m128 b) { return _mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b)); }
/* m ? a b + c : 0 */
FA_INLINE __m128 fa_fmadd_maskz_f32(__m128 m, __m128 a, __m128 b, __m128 c) { return _mm_and_ps(m, fa_fmadd_f32(a, b, c)); }
FA_INLINE float fa_reduce_add_f32(__m128 v) {
    __m128 s = _mm_add_ps(v, _mm_movehl_ps(v, v));             /* (0+2, 1+3) */
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
FA_INLINE float fa_reduce_max_f32(__m128 v) {
    __m128 s = _mm_max_ps(v, _mm_movehl_ps(v, v));
    s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

/* ---- f64 ---- */
FA_INLINE __m128d fa_loadu_f64(const double *p) { return _mm_loadu_pd(p); }
FA_INLINE void fa_storeu_f64(double *p, __m128d v) { _mm_storeu_pd(p, v); }
FA_INLINE __m128d fa_load_tail_f64(const double *p, ptrdiff_t n, double fill) { (void)n; return _mm_setr_pd(p[0], fill); }
FA_INLINE void fa_store_tail_f64(double *p, __m128d v, ptrdiff_t n) { (void)n; _mm_store_sd(p, v); }
FA_INLINE __m128d fa_load_tail_mask_u8_f64(const unsigned char *p, ptrdiff_t n) {
    return _mm_castsi128_pd(_mm_set_epi64x(n > 1 && p[1] ? -1 : 0, p[0] ? -1 : 0));
}
FA_INLINE __m128d fa_load_mask_u8_f64(const unsigned char *p) { return fa_load_tail_mask_u8_f64(p, 2); }
FA_INLINE __m128d fa_set1_f64(double x) { return _mm_set1_pd(x); }
FA_INLINE __m128d fa_set1_bits_f64(uint64_t u) { return _mm_castsi128_pd(_mm_set1_epi64x((long long)u)); }
FA_INLINE __m128d fa_add_f64(__m128d a, __m128d b) { return _mm_add_pd(a, b); }
FA_INLINE __m128d fa_sub_f64(__m128d a, __m128d b) { return _mm_sub_pd(a, b); }
FA_INLINE __m128d fa_mul_f64(__m128d a, __m128d b) { return _mm_mul_pd(a, b); }
FA_INLINE __m128d fa_div_f64(__m128d a, __m128d b) { return _mm_div_pd(a, b); }
FA_INLINE __m128d fa_rcp_approx_f64(__m128d a) { return _mm_cvtps_pd(_mm_rcp_ps(_mm_cvtpd_ps(a))); }
FA_INLINE __m128d fa_sqrt_f64(__m128d a) { return _mm_sqrt_pd(a); }
FA_INLINE __m128d fa_min_f64(__m128d a, __m128d b) { return _mm_min_pd(a, b); }
FA_INLINE __m128d fa_max_f64(__m128d a, __m128d b) { return _mm_max_pd(a, b); }
FA_INLINE __m128d fa_fmadd_f64(__m128d a, __m128d b, __m128d c) { return _mm_add_pd(_mm_mul_pd(a, b), c); }
FA_INLINE __m128d fa_fnmadd_f64(__m128d a, __m128d b, __m128d c) { return _mm_sub_pd(c, _mm_mul_pd(a, b)); }
FA_INLINE __m128d fa_fmsub_f64(__m128d a, __m128d b, __m128d c) { return _mm_sub_pd(_mm_mul_pd(a, b), c); }
FA_INLINE __m128d fa_and_f64(__m128d a, __m128d b) { return _mm_and_pd(a, b); }
FA_INLINE __m128d fa_or_f64(__m128d a, __m128d b) { return _mm_or_pd(a, b); }
FA_INLINE __m128d fa_xor_f64(__m128d a, __m128d b) { return _mm_xor_pd(a, b); }
FA_INLINE __m128d fa_andnot_f64(__m128d a, __m128d b) { return _mm_andnot_pd(a, b); }
FA_INLINE __m128d fa_abs_f64(__m128d a) { return _mm_andnot_pd(_mm_set1_pd(-0.0), a); }
FA_INLINE __m128d fa_neg_f64(__m128d a) { return _mm_xor_pd(_mm_set1_pd(-0.0), a); }
FA_INLINE __m128d fa_bits_shl_f64(__m128d a, int k) { return _mm_castsi128_pd(_mm_slli_epi64(_mm_castpd_si128(a), k)); }
FA_INLINE __m128d fa_bits_srl_f64(__m128d a, int k) { return _mm_castsi128_pd(_mm_srli_epi64(_mm_castpd_si128(a), k)); }
FA_INLINE __m128d fa_bits_add_f64(__m128d a, __m128d b) { return _mm_castsi128_pd(_mm_add_epi64(_mm_castpd_si128(a), _mm_castpd_si128(b))); }
FA_INLINE __m128d fa_bits_sub_f64(__m128d a, __m128d b) { return _mm_castsi128_pd(_mm_sub_epi64(_mm_castpd_si128(a), _mm_castpd_si128(b))); }
FA_INLINE __m128d fa_cmplt_f64(__m128d a, __m128d b) { return _mm_cmplt_pd(a, b); }
FA_INLINE __m128d fa_cmple_f64(__m128d a, __m128d b) { return _mm_cmple_pd(a, b); }
FA_INLINE __m128d fa_cmpgt_f64(__m128d a, __m128d b) { return _mm_cmpgt_pd(a, b); }
FA_INLINE __m128d fa_cmpge_f64(__m128d a, __m128d b) { return _mm_cmpge_pd(a, b); }
FA_INLINE __m128d fa_cmpeq_f64(__m128d a, __m128d b) { return _mm_cmpeq_pd(a, b); }
FA_INLINE __m128d fa_cmpneq_f64(__m128d a, __m128d b) { return _mm_cmpneq_pd(a, b); }
FA_INLINE __m128d fa_cmpunord_f64(__m128d a, __m128d b) { return _mm_cmpunord_pd(a, b); }
FA_INLINE __m128d fa_mask_and_f64(__m128d a, __m128d b) { return _mm_and_pd(a, b); }
FA_INLINE __m128d fa_mask_or_f64(__m128d a, __m128d b) { return _mm_or_pd(a, b); }
FA_INLINE __m128d fa_mask_andnot_f64(__m128d a, __m128d b) { return _mm_andnot_pd(a, b); }
FA_INLINE __m128d fa_mask_cmpnlt_f64(__m128d m, __m128d a, __m128d b) { return _mm_and_pd(m, _mm_cmpnlt_pd(a, b)); }
FA_INLINE __m128d fa_fmadd_maskz_f64(__m128d m, __m128d a, __m128d b, __m128d c) { return _mm_and_pd(m, fa_fmadd_f64(a, b, c)); }
FA_INLINE __m128d fa_mask_not_f64(__m128d a) { return _mm_xor_pd(a, _mm_castsi128_pd(_mm_set1_epi32(-1))); }
FA_INLINE int fa_mask_any_f64(__m128d a) { return _mm_movemask_pd(a) != 0; }
FA_INLINE unsigned fa_mask_bits_f64(__m128d a) { return (unsigned)_mm_movemask_pd(a); }
FA_INLINE int fa_mask_count_f64(__m128d a) { return __builtin_popcount((unsigned)_mm_movemask_pd(a)); }
FA_INLINE __m128d fa_bits_add_maskz_f64(__m128d m, __m128d a, __m128d b) { return _mm_and_pd(m, fa_bits_add_f64(a, b)); }
FA_INLINE void fa_prefetch_f64(const double *p) { __builtin_prefetch(p, 0, 3); }
FA_INLINE void fa_prefetch_f32(const float *p) { __builtin_prefetch(p, 0, 3); }
FA_INLINE void fa_prefetchw_f64(double *p) { __builtin_prefetch(p, 1, 3); }
FA_INLINE __m128d fa_tail_mask_f64(ptrdiff_t n) { return _mm_castsi128_pd(_mm_set_epi64x(n > 1 ? -1 : 0, n > 0 ? -1 : 0)); }
FA_INLINE __m128d fa_select_f64(__m128d m, __m128d a, __m128d b) { return _mm_or_pd(_mm_and_pd(m, a), _mm_andnot_pd(m, b)); }
FA_INLINE double fa_reduce_add_f64(__m128d v) { return _mm_cvtsd_f64(_mm_add_sd(v, _mm_unpackhi_pd(v, v))); }
FA_INLINE double fa_reduce_max_f64(__m128d v) { return _mm_cvtsd_f64(_mm_max_sd(v, _mm_unpackhi_pd(v, v))); }
FA_INLINE __m128d fa_lut16_f64(const double *t, __m128d idx) {
    __m128i i = _mm_castpd_si128(idx);
    return _mm_setr_pd(t[_mm_cvtsi128_si64(i) & 15], t[_mm_cvtsi128_si64(_mm_unpackhi_epi64(i, i)) & 15]);
}
FA_INLINE __m128 fa_lut16_f32(const float *t, __m128 idx) {
    __m128i i = _mm_castps_si128(idx);
    return _mm_setr_ps(t[_mm_cvtsi128_si32(i) & 15], t[_mm_cvtsi128_si32(_mm_shuffle_epi32(i, 1)) & 15],
                       t[_mm_cvtsi128_si32(_mm_shuffle_epi32(i, 2)) & 15], t[_mm_cvtsi128_si32(_mm_shuffle_epi32(i, 3)) & 15]);
}

/* ---- pairs: 2 L entries (a0 b0 a1 b1 ...) as a = (a0 a1 ...), b = (b0 b1 ...) and back ---- */
FA_INLINE void fa_deinterleave2_f32(__m128 v0, __m128 v1, __m128 *a, __m128 *b) {
    *a = _mm_shuffle_ps(v0, v1, _MM_SHUFFLE(2, 0, 2, 0));
    *b = _mm_shuffle_ps(v0, v1, _MM_SHUFFLE(3, 1, 3, 1));
}
FA_INLINE void fa_interleave2_f32(__m128 a, __m128 b, __m128 *v0, __m128 *v1) {
    *v0 = _mm_unpacklo_ps(a, b);
    *v1 = _mm_unpackhi_ps(a, b);
}
FA_INLINE void fa_deinterleave2_f64(__m128d v0, __m128d v1, __m128d *a, __m128d *b) {
    *a = _mm_unpacklo_pd(v0, v1);
    *b = _mm_unpackhi_pd(v0, v1);
}
FA_INLINE void fa_interleave2_f64(__m128d a, __m128d b, __m128d *v0, __m128d *v1) {
    *v0 = _mm_unpacklo_pd(a, b);
    *v1 = _mm_unpackhi_pd(a, b);
}

/* ---- f32 <-> f64, FA_LANES_F64 = 2 floats at a time ---- */
FA_INLINE __m128d fa_loadu_f32_as_f64(const float *p) { return _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)p))); }
FA_INLINE __m128d fa_load_tail_f32_as_f64(const float *p, ptrdiff_t n, double fill) { (void)n; return _mm_setr_pd((double)p[0], fill); }
FA_INLINE void fa_storeu_f64_as_f32(float *p, __m128d v) { _mm_storel_epi64((__m128i *)p, _mm_castps_si128(_mm_cvtpd_ps(v))); }
FA_INLINE void fa_store_tail_f64_as_f32(float *p, __m128d v, ptrdiff_t n) { (void)n; _mm_store_ss(p, _mm_cvtpd_ps(v)); }

/* acc + the float32 lanes of v widened (lane i of acc gets v[i] and v[i + FA_LANES_F64]) */
FA_INLINE __m128d fa_widen_lo_f32(__m128 v) { return _mm_cvtps_pd(v); }
FA_INLINE __m128d fa_widen_hi_f32(__m128 v) { return _mm_cvtps_pd(_mm_movehl_ps(v, v)); }
FA_INLINE __m128 fa_narrow_pair_f64(__m128d lo, __m128d hi) { return _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi)); }
FA_INLINE __m128d fa_add_widened_f32_f64(__m128d acc, __m128 v) {
    return _mm_add_pd(_mm_add_pd(acc, _mm_cvtps_pd(v)), _mm_cvtps_pd(_mm_movehl_ps(v, v)));
}

/* m ? a + b : a (one masked add where the ISA has it) */
FA_INLINE __m128 fa_mask_add_f32(__m128 m, __m128 a, __m128 b) { return _mm_add_ps(a, _mm_and_ps(m, b)); }

/* transpose-and-reduce trees: lane g of the result is the max (sum) of v[g]'s lanes, for
 * v[0 .. lanes - 1]; every lane's result is formed in the same order, from v[g] alone */
FA_INLINE unsigned fa_mask_bits_f32(__m128 a) { return (unsigned)_mm_movemask_ps(a); }
FA_INLINE int fa_mask_count_f32(__m128 a) { return __builtin_popcount((unsigned)_mm_movemask_ps(a)); }
FA_INLINE __m128 fa_hmax_rows_f32(const __m128 *v)
{
    __m128 u0 = _mm_max_ps(_mm_unpacklo_ps(v[0], v[1]), _mm_unpackhi_ps(v[0], v[1]));
    __m128 u1 = _mm_max_ps(_mm_unpacklo_ps(v[2], v[3]), _mm_unpackhi_ps(v[2], v[3]));
    return _mm_max_ps(_mm_movelh_ps(u0, u1), _mm_movehl_ps(u1, u0));
}
FA_INLINE __m128d fa_hsum_rows_f64(const __m128d *v)
{
    return _mm_add_pd(_mm_unpacklo_pd(v[0], v[1]), _mm_unpackhi_pd(v[0], v[1]));
}

/* no folding to avoid here (SSE folds only aligned loads): the plain load */
#define fa_loadu_folded_f32 fa_loadu_f32

#endif /* FA_SIMD_H */
