/*
 * fa_simd_avx2.h -- AVX2 + FMA3: 8 x f32, 4 x f64, fused multiply-add.
 * Same names and contracts as fa_simd_scalar.h (see there).  Masks are all-ones lanes.
 * Tails use vmaskmov loads/stores, which never touch the masked-off lanes.
 */
#ifndef FA_SIMD_H
#define FA_SIMD_H
#include <immintrin.h>
#include <math.h>
#include "../fa_common.h"

#define FA_ISA_NAME "avx2"
#define FA_LANES_F32 8
#define FA_LANES_F64 4
#define FA_HAVE_SCALEF 0
#define FA_HAVE_FMA 1
#define FA_LUT16_ONE_OP 0   /* a 16-entry float32 lookup takes two vpermps and a blend */

typedef __m256 fa_simd_f32;
typedef __m256d fa_simd_f64;
typedef __m256 fa_mask_f32;
typedef __m256d fa_mask_f64;

FA_INLINE __m256i fa__tail_i32(ptrdiff_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
FA_INLINE __m256i fa__tail_i64(ptrdiff_t n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)n), _mm256_setr_epi64x(0, 1, 2, 3));
}

/* ---- f32 ---- */
/* The unaligned loads end in a register (FA_PIN): GCC otherwise folds one load into each
 * instruction that uses the value (a compare, an add, a masked move: three loads of g per
 * vector in relu_grad), and on NumPy's usual alignment (16 bytes past a 64-byte line) every
 * such load splits across two cache lines: float32 relu_grad at 2^20 took 248 us against
 * np.add's 151 (a C loop, caches evicted first; 157 us with one load; Zen 4, 2026-12-07).
 * fa_loadu_folded_f32 leaves the load to the compiler, for a loop that measured faster so
 * (float32 softmax's output pass: pinned, (1024, 1024) rows took 4-7% longer). */
#define FA_PIN(v) __asm__("" : "+x"(v))
FA_INLINE __m256 fa_loadu_f32(const float *p) { __m256 v = _mm256_loadu_ps(p); FA_PIN(v); return v; }
FA_INLINE __m256 fa_loadu_folded_f32(const float *p) { return _mm256_loadu_ps(p); }
FA_INLINE void fa_storeu_f32(float *p, __m256 v) { _mm256_storeu_ps(p, v); }
FA_INLINE __m256 fa_load_tail_f32(const float *p, ptrdiff_t n, float fill) {
    __m256i m = fa__tail_i32(n);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
}
FA_INLINE void fa_store_tail_f32(float *p, __m256 v, ptrdiff_t n) { _mm256_maskstore_ps(p, fa__tail_i32(n), v); }
FA_INLINE __m256 fa_load_mask_u8_f32(const unsigned char *p) {
    __m256i i32 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_xor_si256(_mm256_cmpeq_epi32(i32, _mm256_setzero_si256()), _mm256_set1_epi32(-1)));
}
FA_INLINE __m256 fa_load_tail_mask_u8_f32(const unsigned char *p, ptrdiff_t n) {
    unsigned char b[8] = {0};
    memcpy(b, p, (size_t)n);
    return fa_load_mask_u8_f32(b);
}
FA_INLINE __m256 fa_set1_f32(float x) { return _mm256_set1_ps(x); }
FA_INLINE __m256 fa_set1_bits_f32(uint32_t u) { return _mm256_castsi256_ps(_mm256_set1_epi32((int)u)); }
FA_INLINE __m256 fa_add_f32(__m256 a, __m256 b) { return _mm256_add_ps(a, b); }
FA_INLINE __m256 fa_sub_f32(__m256 a, __m256 b) { return _mm256_sub_ps(a, b); }
FA_INLINE __m256 fa_mul_f32(__m256 a, __m256 b) { return _mm256_mul_ps(a, b); }
FA_INLINE __m256 fa_div_f32(__m256 a, __m256 b) { return _mm256_div_ps(a, b); }
FA_INLINE __m256 fa_sqrt_f32(__m256 a) { return _mm256_sqrt_ps(a); }
FA_INLINE __m256 fa_min_f32(__m256 a, __m256 b) { return _mm256_min_ps(a, b); }
FA_INLINE __m256 fa_max_f32(__m256 a, __m256 b) { return _mm256_max_ps(a, b); }
FA_INLINE __m256 fa_fmadd_f32(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }
FA_INLINE __m256 fa_fnmadd_f32(__m256 a, __m256 b, __m256 c) { return _mm256_fnmadd_ps(a, b, c); }
FA_INLINE __m256 fa_fmsub_f32(__m256 a, __m256 b, __m256 c) { return _mm256_fmsub_ps(a, b, c); }
FA_INLINE __m256 fa_and_f32(__m256 a, __m256 b) { return _mm256_and_ps(a, b); }
FA_INLINE __m256 fa_or_f32(__m256 a, __m256 b) { return _mm256_or_ps(a, b); }
FA_INLINE __m256 fa_xor_f32(__m256 a, __m256 b) { return _mm256_xor_ps(a, b); }
FA_INLINE __m256 fa_andnot_f32(__m256 a, __m256 b) { return _mm256_andnot_ps(a, b); }
FA_INLINE __m256 fa_abs_f32(__m256 a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
FA_INLINE __m256 fa_neg_f32(__m256 a) { return _mm256_xor_ps(_mm256_set1_ps(-0.0f), a); }
FA_INLINE __m256 fa_bits_shl_f32(__m256 a, int k) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(a), k)); }
FA_INLINE __m256 fa_bits_srl_f32(__m256 a, int k) { return _mm256_castsi256_ps(_mm256_srli_epi32(_mm256_castps_si256(a), k)); }
FA_INLINE __m256 fa_bits_add_f32(__m256 a, __m256 b) { return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(a), _mm256_castps_si256(b))); }
FA_INLINE __m256 fa_bits_sub_f32(__m256 a, __m256 b) { return _mm256_castsi256_ps(_mm256_sub_epi32(_mm256_castps_si256(a), _mm256_castps_si256(b))); }
FA_INLINE __m256 fa_cvt_i32_f32(__m256 a) { return _mm256_cvtepi32_ps(_mm256_castps_si256(a)); }
FA_INLINE __m256 fa_cmplt_f32(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
FA_INLINE __m256 fa_cmple_f32(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
FA_INLINE __m256 fa_cmpgt_f32(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
FA_INLINE __m256 fa_cmpge_f32(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
FA_INLINE __m256 fa_cmpeq_f32(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
FA_INLINE __m256 fa_cmpneq_f32(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_NEQ_UQ); }
FA_INLINE __m256 fa_cmpunord_f32(__m256 a, __m256 b) { return _mm256_cmp_ps(a, b, _CMP_UNORD_Q); }
FA_INLINE __m256 fa_mask_and_f32(__m256 a, __m256 b) { return _mm256_and_ps(a, b); }
FA_INLINE __m256 fa_mask_or_f32(__m256 a, __m256 b) { return _mm256_or_ps(a, b); }
FA_INLINE __m256 fa_mask_andnot_f32(__m256 a, __m256 b) { return _mm256_andnot_ps(a, b); }
FA_INLINE __m256 fa_mask_not_f32(__m256 a) { return _mm256_xor_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(-1))); }
FA_INLINE int fa_mask_any_f32(__m256 a) { return _mm256_movemask_ps(a) != 0; }
FA_INLINE __m256 fa_tail_mask_f32(ptrdiff_t n) { return _mm256_castsi256_ps(fa__tail_i32(n)); }
FA_INLINE __m256 fa_select_f32(__m256 m, __m256 a, __m256 b) { return _mm256_blendv_ps(b, a, m); }
/* m ? a b + c : 0 */
FA_INLINE __m256 fa_fmadd_maskz_f32(__m256 m, __m256 a, __m256 b, __m256 c) { return _mm256_and_ps(m, fa_fmadd_f32(a, b, c)); }
FA_INLINE float fa_reduce_add_f32(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
FA_INLINE float fa_reduce_max_f32(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

/* ---- f64 ---- */
FA_INLINE __m256d fa_loadu_f64(const double *p) { __m256d v = _mm256_loadu_pd(p); FA_PIN(v); return v; }
FA_INLINE void fa_storeu_f64(double *p, __m256d v) { _mm256_storeu_pd(p, v); }
FA_INLINE __m256d fa_load_tail_f64(const double *p, ptrdiff_t n, double fill) {
    __m256i m = fa__tail_i64(n);
    return _mm256_blendv_pd(_mm256_set1_pd(fill), _mm256_maskload_pd(p, m), _mm256_castsi256_pd(m));
}
FA_INLINE void fa_store_tail_f64(double *p, __m256d v, ptrdiff_t n) { _mm256_maskstore_pd(p, fa__tail_i64(n), v); }
FA_INLINE __m256d fa_load_mask_u8_f64(const unsigned char *p) {
    int32_t w;
    memcpy(&w, p, 4);
    __m256i i64 = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(w));
    return _mm256_castsi256_pd(_mm256_xor_si256(_mm256_cmpeq_epi64(i64, _mm256_setzero_si256()), _mm256_set1_epi32(-1)));
}
FA_INLINE __m256d fa_load_tail_mask_u8_f64(const unsigned char *p, ptrdiff_t n) {
    unsigned char b[4] = {0};
    memcpy(b, p, (size_t)n);
    return fa_load_mask_u8_f64(b);
}
FA_INLINE __m256d fa_set1_f64(double x) { return _mm256_set1_pd(x); }
FA_INLINE __m256d fa_set1_bits_f64(uint64_t u) { return _mm256_castsi256_pd(_mm256_set1_epi64x((long long)u)); }
FA_INLINE __m256d fa_add_f64(__m256d a, __m256d b) { return _mm256_add_pd(a, b); }
FA_INLINE __m256d fa_sub_f64(__m256d a, __m256d b) { return _mm256_sub_pd(a, b); }
FA_INLINE __m256d fa_mul_f64(__m256d a, __m256d b) { return _mm256_mul_pd(a, b); }
FA_INLINE __m256d fa_div_f64(__m256d a, __m256d b) { return _mm256_div_pd(a, b); }
FA_INLINE __m256d fa_rcp_approx_f64(__m256d a) { return _mm256_cvtps_pd(_mm_rcp_ps(_mm256_cvtpd_ps(a))); }
FA_INLINE __m256d fa_sqrt_f64(__m256d a) { return _mm256_sqrt_pd(a); }
FA_INLINE __m256d fa_min_f64(__m256d a, __m256d b) { return _mm256_min_pd(a, b); }
FA_INLINE __m256d fa_max_f64(__m256d a, __m256d b) { return _mm256_max_pd(a, b); }
FA_INLINE __m256d fa_fmadd_f64(__m256d a, __m256d b, __m256d c) { return _mm256_fmadd_pd(a, b, c); }
FA_INLINE __m256d fa_fnmadd_f64(__m256d a, __m256d b, __m256d c) { return _mm256_fnmadd_pd(a, b, c); }
FA_INLINE __m256d fa_fmsub_f64(__m256d a, __m256d b, __m256d c) { return _mm256_fmsub_pd(a, b, c); }
FA_INLINE __m256d fa_and_f64(__m256d a, __m256d b) { return _mm256_and_pd(a, b); }
FA_INLINE __m256d fa_or_f64(__m256d a, __m256d b) { return _mm256_or_pd(a, b); }
FA_INLINE __m256d fa_xor_f64(__m256d a, __m256d b) { return _mm256_xor_pd(a, b); }
FA_INLINE __m256d fa_andnot_f64(__m256d a, __m256d b) { return _mm256_andnot_pd(a, b); }
FA_INLINE __m256d fa_abs_f64(__m256d a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
FA_INLINE __m256d fa_neg_f64(__m256d a) { return _mm256_xor_pd(_mm256_set1_pd(-0.0), a); }
FA_INLINE __m256d fa_bits_shl_f64(__m256d a, int k) { return _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(a), k)); }
FA_INLINE __m256d fa_bits_srl_f64(__m256d a, int k) { return _mm256_castsi256_pd(_mm256_srli_epi64(_mm256_castpd_si256(a), k)); }
FA_INLINE __m256d fa_bits_add_f64(__m256d a, __m256d b) { return _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(a), _mm256_castpd_si256(b))); }
FA_INLINE __m256d fa_bits_sub_f64(__m256d a, __m256d b) { return _mm256_castsi256_pd(_mm256_sub_epi64(_mm256_castpd_si256(a), _mm256_castpd_si256(b))); }
FA_INLINE __m256d fa_cmplt_f64(__m256d a, __m256d b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
FA_INLINE __m256d fa_cmple_f64(__m256d a, __m256d b) { return _mm256_cmp_pd(a, b, _CMP_LE_OQ); }
FA_INLINE __m256d fa_cmpgt_f64(__m256d a, __m256d b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
FA_INLINE __m256d fa_cmpge_f64(__m256d a, __m256d b) { return _mm256_cmp_pd(a, b, _CMP_GE_OQ); }
FA_INLINE __m256d fa_cmpeq_f64(__m256d a, __m256d b) { return _mm256_cmp_pd(a, b, _CMP_EQ_OQ); }
FA_INLINE __m256d fa_cmpneq_f64(__m256d a, __m256d b) { return _mm256_cmp_pd(a, b, _CMP_NEQ_UQ); }
FA_INLINE __m256d fa_cmpunord_f64(__m256d a, __m256d b) { return _mm256_cmp_pd(a, b, _CMP_UNORD_Q); }
FA_INLINE __m256d fa_mask_and_f64(__m256d a, __m256d b) { return _mm256_and_pd(a, b); }
FA_INLINE __m256d fa_mask_or_f64(__m256d a, __m256d b) { return _mm256_or_pd(a, b); }
FA_INLINE __m256d fa_mask_andnot_f64(__m256d a, __m256d b) { return _mm256_andnot_pd(a, b); }
FA_INLINE __m256d fa_mask_cmpnlt_f64(__m256d m, __m256d a, __m256d b) { return _mm256_and_pd(m, _mm256_cmp_pd(a, b, _CMP_NLT_UQ)); }
FA_INLINE __m256d fa_fmadd_maskz_f64(__m256d m, __m256d a, __m256d b, __m256d c) { return _mm256_and_pd(m, fa_fmadd_f64(a, b, c)); }
FA_INLINE __m256d fa_mask_not_f64(__m256d a) { return _mm256_xor_pd(a, _mm256_castsi256_pd(_mm256_set1_epi32(-1))); }
FA_INLINE int fa_mask_any_f64(__m256d a) { return _mm256_movemask_pd(a) != 0; }
FA_INLINE unsigned fa_mask_bits_f64(__m256d a) { return (unsigned)_mm256_movemask_pd(a); }
FA_INLINE int fa_mask_count_f64(__m256d a) { return __builtin_popcount((unsigned)_mm256_movemask_pd(a)); }
FA_INLINE __m256d fa_bits_add_maskz_f64(__m256d m, __m256d a, __m256d b) { return _mm256_and_pd(m, fa_bits_add_f64(a, b)); }
FA_INLINE void fa_prefetch_f64(const double *p) { __builtin_prefetch(p, 0, 3); }
FA_INLINE void fa_prefetch_f32(const float *p) { __builtin_prefetch(p, 0, 3); }
FA_INLINE void fa_prefetchw_f64(double *p) { __builtin_prefetch(p, 1, 3); }
FA_INLINE __m256d fa_tail_mask_f64(ptrdiff_t n) { return _mm256_castsi256_pd(fa__tail_i64(n)); }
FA_INLINE __m256d fa_select_f64(__m256d m, __m256d a, __m256d b) { return _mm256_blendv_pd(b, a, m); }
FA_INLINE double fa_reduce_add_f64(__m256d v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
FA_INLINE double fa_reduce_max_f64(__m256d v) {
    __m128d s = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_max_sd(s, _mm_unpackhi_pd(s, s)));
}
FA_INLINE __m256d fa_lut16_f64(const double *t, __m256d idx) {
    __m256i i = _mm256_and_si256(_mm256_castpd_si256(idx), _mm256_set1_epi64x(15));
    __m128i lo = _mm256_castsi256_si128(i), hi = _mm256_extracti128_si256(i, 1);
    __m128d a = _mm_loadh_pd(_mm_load_sd(t + _mm_cvtsi128_si64(lo)), t + _mm_extract_epi64(lo, 1));
    __m128d b = _mm_loadh_pd(_mm_load_sd(t + _mm_cvtsi128_si64(hi)), t + _mm_extract_epi64(hi, 1));
    return _mm256_insertf128_pd(_mm256_castpd128_pd256(a), b, 1);
}
FA_INLINE __m256 fa_lut8_f32(const float *t, __m256 idx) {     /* one vpermps: idx's low 3 bits */
    return _mm256_permutevar8x32_ps(_mm256_loadu_ps(t), _mm256_castps_si256(idx));
}
FA_INLINE __m256 fa_lut16_f32(const float *t, __m256 idx) {    /* two vpermps, bit 3 picks */
    __m256i i = _mm256_castps_si256(idx);
    __m256 a = _mm256_permutevar8x32_ps(_mm256_loadu_ps(t), i), b = _mm256_permutevar8x32_ps(_mm256_loadu_ps(t + 8), i);
    return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(_mm256_slli_epi32(i, 28)));
}

/* ---- pairs: 2 L entries (a0 b0 a1 b1 ...) as a = (a0 a1 ...), b = (b0 b1 ...) and back ---- */
FA_INLINE void fa_deinterleave2_f32(__m256 v0, __m256 v1, __m256 *a, __m256 *b) {
    /* per 128-bit half: (a0 a1 a4 a5 | a2 a3 a6 a7), then the 64-bit quarters reordered */
    *a = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(v0, v1, _MM_SHUFFLE(2, 0, 2, 0))),
                                                _MM_SHUFFLE(3, 1, 2, 0)));
    *b = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(v0, v1, _MM_SHUFFLE(3, 1, 3, 1))),
                                                _MM_SHUFFLE(3, 1, 2, 0)));
}
FA_INLINE void fa_interleave2_f32(__m256 a, __m256 b, __m256 *v0, __m256 *v1) {
    const __m256 lo = _mm256_unpacklo_ps(a, b), hi = _mm256_unpackhi_ps(a, b);   /* (a0 b0 a1 b1 | a4 b4 a5 b5) */
    *v0 = _mm256_permute2f128_ps(lo, hi, 0x20);
    *v1 = _mm256_permute2f128_ps(lo, hi, 0x31);
}
/* the same for float64 pairs: (a0 a2 | a1 a3), then the quarters reordered */
FA_INLINE void fa_deinterleave2_f64(__m256d v0, __m256d v1, __m256d *a, __m256d *b) {
    *a = _mm256_permute4x64_pd(_mm256_unpacklo_pd(v0, v1), _MM_SHUFFLE(3, 1, 2, 0));
    *b = _mm256_permute4x64_pd(_mm256_unpackhi_pd(v0, v1), _MM_SHUFFLE(3, 1, 2, 0));
}
FA_INLINE void fa_interleave2_f64(__m256d a, __m256d b, __m256d *v0, __m256d *v1) {
    const __m256d lo = _mm256_unpacklo_pd(a, b), hi = _mm256_unpackhi_pd(a, b);   /* (a0 b0 | a2 b2) */
    *v0 = _mm256_permute2f128_pd(lo, hi, 0x20);
    *v1 = _mm256_permute2f128_pd(lo, hi, 0x31);
}

/* ---- f32 <-> f64, FA_LANES_F64 = 4 floats at a time ---- */
FA_INLINE __m256d fa_loadu_f32_as_f64(const float *p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
FA_INLINE __m256d fa_load_tail_f32_as_f64(const float *p, ptrdiff_t n, double fill) {
    __m128i m = _mm_cmpgt_epi32(_mm_set1_epi32((int)n), _mm_setr_epi32(0, 1, 2, 3));
    __m256d v = _mm256_cvtps_pd(_mm_maskload_ps(p, m));
    return _mm256_blendv_pd(_mm256_set1_pd(fill), v, _mm256_castsi256_pd(fa__tail_i64(n)));
}
FA_INLINE void fa_storeu_f64_as_f32(float *p, __m256d v) { _mm_storeu_ps(p, _mm256_cvtpd_ps(v)); }
FA_INLINE void fa_store_tail_f64_as_f32(float *p, __m256d v, ptrdiff_t n) {
    _mm_maskstore_ps(p, _mm_cmpgt_epi32(_mm_set1_epi32((int)n), _mm_setr_epi32(0, 1, 2, 3)), _mm256_cvtpd_ps(v));
}

/* acc + the float32 lanes of v widened (lane i of acc gets v[i] and v[i + FA_LANES_F64]) */
FA_INLINE __m256d fa_widen_lo_f32(__m256 v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
FA_INLINE __m256d fa_widen_hi_f32(__m256 v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }
FA_INLINE __m256 fa_narrow_pair_f64(__m256d lo, __m256d hi) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(lo)), _mm256_cvtpd_ps(hi), 1);
}
FA_INLINE __m256d fa_add_widened_f32_f64(__m256d acc, __m256 v) {
    return _mm256_add_pd(_mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_castps256_ps128(v))), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

/* m ? a + b : a (one masked add where the ISA has it) */
FA_INLINE __m256 fa_mask_add_f32(__m256 m, __m256 a, __m256 b) { return _mm256_add_ps(a, _mm256_and_ps(m, b)); }

/* transpose-and-reduce trees: lane g of the result is the max (sum) of v[g]'s lanes, for
 * v[0 .. lanes - 1]; every lane's result is formed in the same order, from v[g] alone */
FA_INLINE unsigned fa_mask_bits_f32(__m256 a) { return (unsigned)_mm256_movemask_ps(a); }
FA_INLINE int fa_mask_count_f32(__m256 a) { return __builtin_popcount((unsigned)_mm256_movemask_ps(a)); }
FA_INLINE __m256 fa_hmax_rows_f32(const __m256 *v)
{
    __m256 u[4], z[2];
    for (int k = 0; k < 4; k++)          /* lanes of v[2k] (even) and v[2k + 1] (odd), 2 entries each */
        u[k] = _mm256_max_ps(_mm256_unpacklo_ps(v[2 * k], v[2 * k + 1]), _mm256_unpackhi_ps(v[2 * k], v[2 * k + 1]));
    for (int k = 0; k < 2; k++) {        /* rows 4k .. 4k + 3 in each 128-bit half, 4 entries each */
        __m256d a = _mm256_castps_pd(u[2 * k]), b = _mm256_castps_pd(u[2 * k + 1]);
        z[k] = _mm256_max_ps(_mm256_castpd_ps(_mm256_unpacklo_pd(a, b)), _mm256_castpd_ps(_mm256_unpackhi_pd(a, b)));
    }
    return _mm256_max_ps(_mm256_permute2f128_ps(z[0], z[1], 0x20), _mm256_permute2f128_ps(z[0], z[1], 0x31));
}
FA_INLINE __m256d fa_hsum_rows_f64(const __m256d *v)
{
    __m256d u0 = _mm256_add_pd(_mm256_unpacklo_pd(v[0], v[1]), _mm256_unpackhi_pd(v[0], v[1]));
    __m256d u1 = _mm256_add_pd(_mm256_unpacklo_pd(v[2], v[3]), _mm256_unpackhi_pd(v[2], v[3]));
    return _mm256_add_pd(_mm256_permute2f128_pd(u0, u1, 0x20), _mm256_permute2f128_pd(u0, u1, 0x31));
}

#endif /* FA_SIMD_H */
