/*
 * fa_simd_avx512.h -- AVX-512F (plus AVX2/FMA, which every AVX-512F CPU has): 16 x f32, 8 x f64.
 * Same names and contracts as fa_simd_scalar.h (see there).  Masks are k-registers
 * (__mmask16 / __mmask8).  Only AVX-512F instructions are used (no DQ/BW/VL), so
 * bitwise float operations go through the integer forms.  Tails use masked
 * loads/stores, which never touch the masked-off lanes.
 * Extra: FA_HAVE_SCALEF and fa_scalef_<t>(x, n) = x * 2^n (vscalefps / vscalefpd).
 */
#ifndef FA_SIMD_H
#define FA_SIMD_H
#include <immintrin.h>
#include <math.h>
#include "../fa_common.h"

#define FA_ISA_NAME "avx512"
#define FA_LANES_F32 16
#define FA_LANES_F64 8
#define FA_LUT16_ONE_OP 1   /* one vpermps */
#define FA_HAVE_FMA 1
#define FA_HAVE_SCALEF 1

typedef __m512 fa_simd_f32;
typedef __m512d fa_simd_f64;
typedef __mmask16 fa_mask_f32;
typedef __mmask8 fa_mask_f64;

#define FA__PS(x) _mm512_castsi512_ps(x)
#define FA__SI(x) _mm512_castps_si512(x)
#define FA__PD(x) _mm512_castsi512_pd(x)
#define FA__SID(x) _mm512_castpd_si512(x)

/* ---- f32 ---- */
/* The unaligned loads end in a register (FA_PIN): GCC otherwise folds one load into each
 * instruction that uses the value (a compare, an add, a masked move: three loads of g per
 * vector in relu_grad), and on NumPy's usual alignment (16 bytes past a 64-byte line) every
 * such load splits across two cache lines: float32 relu_grad at 2^20 took 248 us against
 * np.add's 151 (a C loop, caches evicted first; 157 us with one load; Zen 4, 2026-12-07).
 * fa_loadu_folded_f32 leaves the load to the compiler, for a loop that measured faster so
 * (float32 softmax's output pass: pinned, (1024, 1024) rows took 4-7% longer). */
#define FA_PIN(v) __asm__("" : "+v"(v))
FA_INLINE __m512 fa_loadu_f32(const float *p) { __m512 v = _mm512_loadu_ps(p); FA_PIN(v); return v; }
FA_INLINE __m512 fa_loadu_folded_f32(const float *p) { return _mm512_loadu_ps(p); }
FA_INLINE void fa_storeu_f32(float *p, __m512 v) { _mm512_storeu_ps(p, v); }
FA_INLINE __mmask16 fa_tail_mask_f32(ptrdiff_t n) { return (__mmask16)((1u << n) - 1u); }
FA_INLINE __m512 fa_load_tail_f32(const float *p, ptrdiff_t n, float fill) {
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), fa_tail_mask_f32(n), p);
}
FA_INLINE void fa_store_tail_f32(float *p, __m512 v, ptrdiff_t n) { _mm512_mask_storeu_ps(p, fa_tail_mask_f32(n), v); }
/* where= bytes as a k-mask: zero-extended to dwords (qwords) and tested, AVX-512F only.  Tried
 * 2026-12-06: one vptestmb on the 16 (8) bytes (AVX-512BW+VL; DQ as well) made masked rows 5-9%
 * faster on Zen 4 ((1024, 1024) float32 logsumexp 249 -> 228 us, float64 522 -> 475), but GCC
 * 12.2 at -O3 (and at -O2 with -fpeel-loops) then gave NaN for masked float64 logsumexp rows
 * that depend on stale stack bytes: a mask value read back with garbage upper bits (no C
 * variable is uninitialised: -ftrivial-auto-var-init changes nothing; the same symptom as
 * RenderKit/embree#574, a GCC AVX-512 mask truncation bug).  A movemask route through a
 * general register measured no faster.  Revisit with a newer compiler, with a test that fills
 * the stack with junk before the call (tests/test_reductions.py's masked-rows test caught it). */
FA_INLINE __mmask16 fa_load_mask_u8_f32(const unsigned char *p) {
    __m512i v = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm512_test_epi32_mask(v, v);
}
FA_INLINE __mmask16 fa_load_tail_mask_u8_f32(const unsigned char *p, ptrdiff_t n) {
    unsigned char b[16] = {0};
    memcpy(b, p, (size_t)n);
    return fa_load_mask_u8_f32(b);
}
FA_INLINE __m512 fa_set1_f32(float x) { return _mm512_set1_ps(x); }
FA_INLINE __m512 fa_set1_bits_f32(uint32_t u) { return FA__PS(_mm512_set1_epi32((int)u)); }
FA_INLINE __m512 fa_add_f32(__m512 a, __m512 b) { return _mm512_add_ps(a, b); }
FA_INLINE __m512 fa_sub_f32(__m512 a, __m512 b) { return _mm512_sub_ps(a, b); }
FA_INLINE __m512 fa_mul_f32(__m512 a, __m512 b) { return _mm512_mul_ps(a, b); }
FA_INLINE __m512 fa_div_f32(__m512 a, __m512 b) { return _mm512_div_ps(a, b); }
FA_INLINE __m512 fa_sqrt_f32(__m512 a) { return _mm512_sqrt_ps(a); }
FA_INLINE __m512 fa_min_f32(__m512 a, __m512 b) { return _mm512_min_ps(a, b); }
FA_INLINE __m512 fa_max_f32(__m512 a, __m512 b) { return _mm512_max_ps(a, b); }
FA_INLINE __m512 fa_fmadd_f32(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }
FA_INLINE __m512 fa_fnmadd_f32(__m512 a, __m512 b, __m512 c) { return _mm512_fnmadd_ps(a, b, c); }
FA_INLINE __m512 fa_fmsub_f32(__m512 a, __m512 b, __m512 c) { return _mm512_fmsub_ps(a, b, c); }
FA_INLINE __m512 fa_and_f32(__m512 a, __m512 b) { return FA__PS(_mm512_and_si512(FA__SI(a), FA__SI(b))); }
FA_INLINE __m512 fa_or_f32(__m512 a, __m512 b) { return FA__PS(_mm512_or_si512(FA__SI(a), FA__SI(b))); }
FA_INLINE __m512 fa_xor_f32(__m512 a, __m512 b) { return FA__PS(_mm512_xor_si512(FA__SI(a), FA__SI(b))); }
FA_INLINE __m512 fa_andnot_f32(__m512 a, __m512 b) { return FA__PS(_mm512_andnot_si512(FA__SI(a), FA__SI(b))); }
FA_INLINE __m512 fa_abs_f32(__m512 a) { return _mm512_abs_ps(a); }
FA_INLINE __m512 fa_neg_f32(__m512 a) { return fa_xor_f32(a, _mm512_set1_ps(-0.0f)); }
FA_INLINE __m512 fa_bits_shl_f32(__m512 a, int k) { return FA__PS(_mm512_slli_epi32(FA__SI(a), (unsigned)k)); }
FA_INLINE __m512 fa_bits_srl_f32(__m512 a, int k) { return FA__PS(_mm512_srli_epi32(FA__SI(a), (unsigned)k)); }
FA_INLINE __m512 fa_bits_add_f32(__m512 a, __m512 b) { return FA__PS(_mm512_add_epi32(FA__SI(a), FA__SI(b))); }
FA_INLINE __m512 fa_bits_sub_f32(__m512 a, __m512 b) { return FA__PS(_mm512_sub_epi32(FA__SI(a), FA__SI(b))); }
FA_INLINE __m512 fa_cvt_i32_f32(__m512 a) { return _mm512_cvtepi32_ps(FA__SI(a)); }
FA_INLINE __m512 fa_scalef_f32(__m512 x, __m512 n) { return _mm512_scalef_ps(x, n); }
FA_INLINE __mmask16 fa_cmplt_f32(__m512 a, __m512 b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
FA_INLINE __mmask16 fa_cmple_f32(__m512 a, __m512 b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
FA_INLINE __mmask16 fa_cmpgt_f32(__m512 a, __m512 b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
FA_INLINE __mmask16 fa_cmpge_f32(__m512 a, __m512 b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
FA_INLINE __mmask16 fa_cmpeq_f32(__m512 a, __m512 b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
FA_INLINE __mmask16 fa_cmpneq_f32(__m512 a, __m512 b) { return _mm512_cmp_ps_mask(a, b, _CMP_NEQ_UQ); }
FA_INLINE __mmask16 fa_cmpunord_f32(__m512 a, __m512 b) { return _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q); }
FA_INLINE __mmask16 fa_mask_and_f32(__mmask16 a, __mmask16 b) { return (__mmask16)(a & b); }
FA_INLINE __mmask16 fa_mask_or_f32(__mmask16 a, __mmask16 b) { return (__mmask16)(a | b); }
FA_INLINE __mmask16 fa_mask_andnot_f32(__mmask16 a, __mmask16 b) { return (__mmask16)(~a & b); }
FA_INLINE __mmask16 fa_mask_not_f32(__mmask16 a) { return (__mmask16)~a; }
FA_INLINE int fa_mask_any_f32(__mmask16 a) { return a != 0; }
FA_INLINE __m512 fa_select_f32(__mmask16 m, __m512 a, __m512 b) { return _mm512_mask_blend_ps(m, b, a); }
/* m ? a b + c : 0 (one zero-masked FMA) */
FA_INLINE __m512 fa_fmadd_maskz_f32(__mmask16 m, __m512 a, __m512 b, __m512 c) { return _mm512_maskz_fmadd_ps(m, a, b, c); }
FA_INLINE float fa_reduce_add_f32(__m512 v) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}
FA_INLINE float fa_reduce_max_f32(__m512 v) {
    __m256 h = _mm256_max_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

/* ---- f64 ---- */
FA_INLINE __m512d fa_loadu_f64(const double *p) { __m512d v = _mm512_loadu_pd(p); FA_PIN(v); return v; }
FA_INLINE void fa_storeu_f64(double *p, __m512d v) { _mm512_storeu_pd(p, v); }
FA_INLINE __mmask8 fa_tail_mask_f64(ptrdiff_t n) { return (__mmask8)((1u << n) - 1u); }
FA_INLINE __m512d fa_load_tail_f64(const double *p, ptrdiff_t n, double fill) {
    return _mm512_mask_loadu_pd(_mm512_set1_pd(fill), fa_tail_mask_f64(n), p);
}
FA_INLINE void fa_store_tail_f64(double *p, __m512d v, ptrdiff_t n) { _mm512_mask_storeu_pd(p, fa_tail_mask_f64(n), v); }
FA_INLINE __mmask8 fa_load_mask_u8_f64(const unsigned char *p) {
    __m512i v = _mm512_cvtepu8_epi64(_mm_loadl_epi64((const __m128i *)p));
    return _mm512_test_epi64_mask(v, v);
}
FA_INLINE __mmask8 fa_load_tail_mask_u8_f64(const unsigned char *p, ptrdiff_t n) {
    unsigned char b[8] = {0};
    memcpy(b, p, (size_t)n);
    return fa_load_mask_u8_f64(b);
}
FA_INLINE __m512d fa_set1_f64(double x) { return _mm512_set1_pd(x); }
FA_INLINE __m512d fa_set1_bits_f64(uint64_t u) { return FA__PD(_mm512_set1_epi64((long long)u)); }
FA_INLINE __m512d fa_add_f64(__m512d a, __m512d b) { return _mm512_add_pd(a, b); }
FA_INLINE __m512d fa_sub_f64(__m512d a, __m512d b) { return _mm512_sub_pd(a, b); }
FA_INLINE __m512d fa_mul_f64(__m512d a, __m512d b) { return _mm512_mul_pd(a, b); }
FA_INLINE __m512d fa_div_f64(__m512d a, __m512d b) { return _mm512_div_pd(a, b); }
FA_INLINE __m512d fa_rcp_approx_f64(__m512d a) { return _mm512_rcp14_pd(a); }
FA_INLINE __m512d fa_sqrt_f64(__m512d a) { return _mm512_sqrt_pd(a); }
FA_INLINE __m512d fa_min_f64(__m512d a, __m512d b) { return _mm512_min_pd(a, b); }
FA_INLINE __m512d fa_max_f64(__m512d a, __m512d b) { return _mm512_max_pd(a, b); }
FA_INLINE __m512d fa_fmadd_f64(__m512d a, __m512d b, __m512d c) { return _mm512_fmadd_pd(a, b, c); }
FA_INLINE __m512d fa_fnmadd_f64(__m512d a, __m512d b, __m512d c) { return _mm512_fnmadd_pd(a, b, c); }
FA_INLINE __m512d fa_fmsub_f64(__m512d a, __m512d b, __m512d c) { return _mm512_fmsub_pd(a, b, c); }
FA_INLINE __m512d fa_and_f64(__m512d a, __m512d b) { return FA__PD(_mm512_and_si512(FA__SID(a), FA__SID(b))); }
FA_INLINE __m512d fa_or_f64(__m512d a, __m512d b) { return FA__PD(_mm512_or_si512(FA__SID(a), FA__SID(b))); }
FA_INLINE __m512d fa_xor_f64(__m512d a, __m512d b) { return FA__PD(_mm512_xor_si512(FA__SID(a), FA__SID(b))); }
FA_INLINE __m512d fa_andnot_f64(__m512d a, __m512d b) { return FA__PD(_mm512_andnot_si512(FA__SID(a), FA__SID(b))); }
FA_INLINE __m512d fa_abs_f64(__m512d a) { return _mm512_abs_pd(a); }
FA_INLINE __m512d fa_neg_f64(__m512d a) { return fa_xor_f64(a, _mm512_set1_pd(-0.0)); }
FA_INLINE __m512d fa_bits_shl_f64(__m512d a, int k) { return FA__PD(_mm512_slli_epi64(FA__SID(a), (unsigned)k)); }
FA_INLINE __m512d fa_bits_srl_f64(__m512d a, int k) { return FA__PD(_mm512_srli_epi64(FA__SID(a), (unsigned)k)); }
FA_INLINE __m512d fa_bits_add_f64(__m512d a, __m512d b) { return FA__PD(_mm512_add_epi64(FA__SID(a), FA__SID(b))); }
FA_INLINE __m512d fa_bits_sub_f64(__m512d a, __m512d b) { return FA__PD(_mm512_sub_epi64(FA__SID(a), FA__SID(b))); }
FA_INLINE __m512d fa_scalef_f64(__m512d x, __m512d n) { return _mm512_scalef_pd(x, n); }
FA_INLINE __mmask8 fa_cmplt_f64(__m512d a, __m512d b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
FA_INLINE __mmask8 fa_cmple_f64(__m512d a, __m512d b) { return _mm512_cmp_pd_mask(a, b, _CMP_LE_OQ); }
FA_INLINE __mmask8 fa_cmpgt_f64(__m512d a, __m512d b) { return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ); }
FA_INLINE __mmask8 fa_cmpge_f64(__m512d a, __m512d b) { return _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ); }
FA_INLINE __mmask8 fa_cmpeq_f64(__m512d a, __m512d b) { return _mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ); }
FA_INLINE __mmask8 fa_cmpneq_f64(__m512d a, __m512d b) { return _mm512_cmp_pd_mask(a, b, _CMP_NEQ_UQ); }
FA_INLINE __mmask8 fa_cmpunord_f64(__m512d a, __m512d b) { return _mm512_cmp_pd_mask(a, b, _CMP_UNORD_Q); }
FA_INLINE __mmask8 fa_mask_and_f64(__mmask8 a, __mmask8 b) { return (__mmask8)(a & b); }
FA_INLINE __mmask8 fa_mask_or_f64(__mmask8 a, __mmask8 b) { return (__mmask8)(a | b); }
FA_INLINE __mmask8 fa_mask_andnot_f64(__mmask8 a, __mmask8 b) { return (__mmask8)(~a & b); }
FA_INLINE __mmask8 fa_mask_cmpnlt_f64(__mmask8 m, __m512d a, __m512d b) { return _mm512_mask_cmp_pd_mask(m, a, b, _CMP_NLT_UQ); }
FA_INLINE __m512d fa_fmadd_maskz_f64(__mmask8 m, __m512d a, __m512d b, __m512d c) { return _mm512_maskz_fmadd_pd(m, a, b, c); }
FA_INLINE __mmask8 fa_mask_not_f64(__mmask8 a) { return (__mmask8)~a; }
FA_INLINE int fa_mask_any_f64(__mmask8 a) { return a != 0; }
FA_INLINE unsigned fa_mask_bits_f64(__mmask8 a) { return (unsigned)a; }
FA_INLINE int fa_mask_count_f64(__mmask8 a) { return __builtin_popcount((unsigned)a); }
FA_INLINE __m512d fa_bits_add_maskz_f64(__mmask8 m, __m512d a, __m512d b) { return FA__PD(_mm512_maskz_add_epi64(m, FA__SID(a), FA__SID(b))); }
FA_INLINE void fa_prefetch_f64(const double *p) { __builtin_prefetch(p, 0, 3); }
FA_INLINE void fa_prefetch_f32(const float *p) { __builtin_prefetch(p, 0, 3); }
FA_INLINE void fa_prefetchw_f64(double *p) { __builtin_prefetch(p, 1, 3); }
FA_INLINE __m512d fa_select_f64(__mmask8 m, __m512d a, __m512d b) { return _mm512_mask_blend_pd(m, b, a); }
FA_INLINE double fa_reduce_add_f64(__m512d v) {
    __m256d h = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
FA_INLINE double fa_reduce_max_f64(__m512d v) {
    __m256d h = _mm256_max_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
    __m128d s = _mm_max_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
    return _mm_cvtsd_f64(_mm_max_sd(s, _mm_unpackhi_pd(s, s)));
}
FA_INLINE __m512d fa_lut16_f64(const double *t, __m512d idx) {
    return _mm512_permutex2var_pd(_mm512_loadu_pd(t), FA__SID(idx), _mm512_loadu_pd(t + 8));
}
FA_INLINE __m512 fa_lut16_f32(const float *t, __m512 idx) {
    return _mm512_permutexvar_ps(FA__SI(idx), _mm512_loadu_ps(t));
}

/* ---- pairs: 2 L entries (a0 b0 a1 b1 ...) as a = (a0 a1 ...), b = (b0 b1 ...) and back ---- */
FA_INLINE void fa_deinterleave2_f32(__m512 v0, __m512 v1, __m512 *a, __m512 *b) {
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    *a = _mm512_permutex2var_ps(v0, ev, v1);
    *b = _mm512_permutex2var_ps(v0, _mm512_add_epi32(ev, _mm512_set1_epi32(1)), v1);
}
FA_INLINE void fa_interleave2_f32(__m512 a, __m512 b, __m512 *v0, __m512 *v1) {
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    *v0 = _mm512_permutex2var_ps(a, lo, b);
    *v1 = _mm512_permutex2var_ps(a, _mm512_add_epi32(lo, _mm512_set1_epi32(8)), b);
}
/* the same for float64 pairs (rows of 2 of float64 data) */
FA_INLINE void fa_deinterleave2_f64(__m512d v0, __m512d v1, __m512d *a, __m512d *b) {
    const __m512i ev = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    *a = _mm512_permutex2var_pd(v0, ev, v1);
    *b = _mm512_permutex2var_pd(v0, _mm512_add_epi64(ev, _mm512_set1_epi64(1)), v1);
}
FA_INLINE void fa_interleave2_f64(__m512d a, __m512d b, __m512d *v0, __m512d *v1) {
    const __m512i lo = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
    *v0 = _mm512_permutex2var_pd(a, lo, b);
    *v1 = _mm512_permutex2var_pd(a, _mm512_add_epi64(lo, _mm512_set1_epi64(4)), b);
}

/* ---- f32 <-> f64, FA_LANES_F64 = 8 floats at a time ---- */
FA_INLINE __m512d fa_loadu_f32_as_f64(const float *p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
FA_INLINE __m512d fa_load_tail_f32_as_f64(const float *p, ptrdiff_t n, double fill) {
    __m512 v = _mm512_maskz_loadu_ps(fa_tail_mask_f32(n), p);
    return _mm512_mask_blend_pd(fa_tail_mask_f64(n), _mm512_set1_pd(fill), _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
}
FA_INLINE void fa_storeu_f64_as_f32(float *p, __m512d v) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(v)); }
FA_INLINE void fa_store_tail_f64_as_f32(float *p, __m512d v, ptrdiff_t n) {
    _mm512_mask_storeu_ps(p, fa_tail_mask_f32(n), _mm512_castps256_ps512(_mm512_cvtpd_ps(v)));
}

/* the two halves of a float32 vector widened, and two double vectors narrowed into one */
FA_INLINE __m512d fa_widen_lo_f32(__m512 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
FA_INLINE __m512d fa_widen_hi_f32(__m512 v) {
    return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}
FA_INLINE __m512 fa_narrow_pair_f64(__m512d lo, __m512d hi) {
    __m512d l = _mm512_castpd256_pd512(_mm256_castps_pd(_mm512_cvtpd_ps(lo)));
    return _mm512_castpd_ps(_mm512_insertf64x4(l, _mm256_castps_pd(_mm512_cvtpd_ps(hi)), 1));
}

/* acc + the float32 lanes of v widened (lane i of acc gets v[i] and v[i + FA_LANES_F64]) */
FA_INLINE __m512d fa_add_widened_f32_f64(__m512d acc, __m512 v) {
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    return _mm512_add_pd(_mm512_add_pd(acc, _mm512_cvtps_pd(_mm512_castps512_ps256(v))), _mm512_cvtps_pd(hi));
}

/* m ? a + b : a (one masked add where the ISA has it) */
FA_INLINE __m512 fa_mask_add_f32(__mmask16 m, __m512 a, __m512 b) { return _mm512_mask_add_ps(a, m, a, b); }

/* transpose-and-reduce trees: lane g of the result is the max (sum) of v[g]'s lanes, for
 * v[0 .. lanes - 1]; every lane's result is formed in the same order, from v[g] alone */
FA_INLINE unsigned fa_mask_bits_f32(__mmask16 a) { return (unsigned)a; }
FA_INLINE int fa_mask_count_f32(__mmask16 a) { return __builtin_popcount((unsigned)a); }
FA_INLINE __m512 fa_hmax_rows_f32(const __m512 *v)
{
    __m512 u[8], z[4], y[2];
    for (int k = 0; k < 8; k++)          /* lanes of v[2k] (even) and v[2k + 1] (odd), 2 entries each */
        u[k] = _mm512_max_ps(_mm512_unpacklo_ps(v[2 * k], v[2 * k + 1]), _mm512_unpackhi_ps(v[2 * k], v[2 * k + 1]));
    for (int k = 0; k < 4; k++) {        /* rows 4k .. 4k + 3 in each 128-bit block, 4 entries each */
        __m512d a = _mm512_castps_pd(u[2 * k]), b = _mm512_castps_pd(u[2 * k + 1]);
        z[k] = _mm512_max_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)), _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
    }
    for (int k = 0; k < 2; k++)          /* blocks: rows 8k .. 8k + 3 twice, then 8k + 4 .. 8k + 7 twice */
        y[k] = _mm512_max_ps(_mm512_shuffle_f32x4(z[2 * k], z[2 * k + 1], 0x88),
                             _mm512_shuffle_f32x4(z[2 * k], z[2 * k + 1], 0xdd));
    return _mm512_max_ps(_mm512_shuffle_f32x4(y[0], y[1], 0x88), _mm512_shuffle_f32x4(y[0], y[1], 0xdd));
}
FA_INLINE __m512d fa_hsum_rows_f64(const __m512d *v)
{
    __m512d u[4], z[2];
    for (int k = 0; k < 4; k++)          /* rows 2k, 2k + 1 in each 128-bit block */
        u[k] = _mm512_add_pd(_mm512_unpacklo_pd(v[2 * k], v[2 * k + 1]), _mm512_unpackhi_pd(v[2 * k], v[2 * k + 1]));
    for (int k = 0; k < 2; k++)          /* blocks: rows 4k, 4k + 1 twice, then 4k + 2, 4k + 3 twice */
        z[k] = _mm512_add_pd(_mm512_shuffle_f64x2(u[2 * k], u[2 * k + 1], 0x88),
                             _mm512_shuffle_f64x2(u[2 * k], u[2 * k + 1], 0xdd));
    return _mm512_add_pd(_mm512_shuffle_f64x2(z[0], z[1], 0x88), _mm512_shuffle_f64x2(z[0], z[1], 0xdd));
}

#endif /* FA_SIMD_H */
