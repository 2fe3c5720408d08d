/*
 * reductions/fa_reductions.h -- logsumexp, softmax, log_softmax along the middle axis of a
 * C-contiguous (outer, n, inner) block (included once per ISA by fa_isa_body.h).  The stages
 * are one file each, included below in dependency order (no file calls into one included
 * after it, except the forward-declared float64 row paths of fa_rows.h):
 *   fa_lanes.h       float64-lane exps (the math family's), loads/stores, scale, max/min
 *   fa_slice.h       the statistics record of a slice (M, T, C), merge, finish
 *   fa_lse_exact.h   the unshifted sums of logsumexp's cancelling slices (two tiers)
 *   fa_lse_value.h   logsumexp values: special, weighted and cancelling slices
 *   fa_stats_f32.h   the statistics pass of float32 rows (float32 lanes)
 *   fa_output_f32.h  the output pass of float32 rows
 *   fa_rows.h        row routing and the float64-lane rows (masks, weights, the rest)
 *   fa_rows_f64.h    float64 rows (with or without a mask): the direct reduction
 *   fa_columns.h     a non-last axis (inner > 1): the column kernels' shared layout, and
 *                    the generic columns in float64 lanes (masks, weights, specials)
 *   fa_col_stats_f32.h  the float32 column blocks' statistics pass (float32 lanes)
 *   fa_col_finish_f32.h their column constants (float64 lanes, once per block)
 *   fa_col_lse_f32.h    their logsumexp results, the cancelling columns summed unshifted
 *   fa_col_output_f32.h their softmax and log_softmax outputs
 *   fa_columns_f32.h float32 column blocks: the stages above per block, the walk over blocks
 *   fa_columns_f64.h float64 column blocks (the rows' direct reduction across lanes)
 *   fa_short_closed.h float32 rows of a few entries (float64: of 2) in closed form, float64 lanes
 *   fa_short_rows.h  rows of <= 64 entries, a vector lane per row
 *   fa_route.h       the kernels of the dispatch table
 *
 * Statistics of a slice (x read once from memory): the slice is cut into chunks that fit
 * in L1 (FA_SM_CHUNK_BYTES).  Per chunk: pass 1 the chunk max mk (and min), pass 2
 * (re-reading L1) t = sum over x < mk of w*e^(x - mk) and c = sum over x == mk of w
 * (w = b or 1); the chunk is merged into the running (M, T, C) with one exp.  x - mk is
 * computed exactly (two-sum, Fast2Sum, or in float64 for float32 data) and fed into the
 * exp's Cody-Waite reduction, and the terms equal to the max are kept apart, so that
 * l = log1p(T) keeps its relative accuracy when one entry dominates (SciPy PR #21597:
 * logsumexp([0, -40]) = 4.248e-18, log_softmax([0,-40])[0] = -4.248e-18); otherwise
 * l = log(C + T) with C + T as a double-double.  Sums are compensated (Kahan / two-sum)
 * or, for float32 terms, added in float64.
 *   logsumexp   M + l, one result per slice.
 *   log_softmax y = (x - M) - l: x <= M and l >= 0, so there is no cancellation and the
 *               rounding of x - M is below half an ULP of y.  Contiguous rows (with or
 *               without a mask, both dtypes) write row r's output inside row r+1's
 *               statistics pass, chunk by chunk, so the stores to memory overlap the exps
 *               (fa_sm_log_rows_f32, fa_sm64_log_softmax_rows; float32 (64, 50257): 1.6-1.8
 *               -> 1.2-1.5 ms).
 *   softmax     y = e^(x - M) * (1/S), S = C + T, x - M exact into the reduction, 1/S
 *               as a pair (float32: two floats; float64: a double-double), no division.
 *               Rows that stay in L1/L2 compute each exp once: stored into y while
 *               summing, then scaled in place per chunk (XNNPACK's "three passes with
 *               reloading"; y's lines go to memory once); float32 rows of <= 1024 entries
 *               are scaled inside the next row's statistics pass (fa_sm_softmax_rows_f32).
 *               Longer rows recompute the exp in a second pass over x (two reads of x, one
 *               write of y).  (Non-temporal stores for outputs >= 16 MB, from a scratch
 *               row, measured slower on Zen 4: (4096, 4096) 1.67x np.copyto against 1.51x;
 *               direct non-temporal stores in the float32 log_softmax output pass, issue 8
 *               session 7: (64, 50257) 5-10% and (4096, 4096) 9% faster into a preallocated
 *               out, but (1024, 1024) 14% and (2048, 1024) 49% slower, and fresh outputs
 *               slower: not adopted.)
 *   inner > 1   the same, vectorised across `inner`: blocks of FA_SM_COLS vectors of
 *               columns, one lane per column, each block's columns read whole (a max read,
 *               a sum read, an output read; fa_columns_f32.h, fa_columns_f64.h, with or
 *               without a mask); what they decline (specials, weights, float64 maxima beyond
 *               +-2^16) goes to fa_columns.h's generic blocks, walked in chunks of rows that
 *               fit in L1, per-lane (M, T, C) merged with one vector exp per chunk.
 * Stages (reductions/): float32 rows, with or without a mask, run in float32 lanes
 * (fa_stats_f32.h: per-chunk max, then e^(x - K ln2) with the shift folded into the exp's
 * magic constant, the max entries counted apart, one read per chunk, any row max in
 * (-260, 340); fa_output_f32.h: the outputs); the cancelling logsumexp slices are summed
 * again without a shift (fa_lse_exact.h: float32 data in double pairs where a proven bound
 * allows it, |v| >= ~2^-31, else and for float64 data in double-double).  float64 rows, with or
 * without a mask, take the direct reduction (fa_rows_f64.h): e^(x - K ln2) from x itself,
 * no x - m, scaled once per chunk.  Everything else (weights, float32 rows with +inf, the
 * column blocks declined above, float64 chunks with a huge or infinite max) runs in float64
 * lanes with x - m as a two-sum fed into the reduction.  Every exp is the math family's (math/fa_math_f32.h,
 * fa_math_f64.h), every compensated sum math/fa_compensated.h's.
 * Options (fa_axis_opts, each may be NULL): mask (0 = left out: max and sum skip it,
 * softmax 0, log_softmax -inf), b (logsumexp weights; b == 0 leaves the entry out even
 * where x is inf or NaN; a negative total gives NaN, or |total| and sign -1 with `sign`),
 * sign (logsumexp: +1, -1, or 0 for an empty or all -inf slice).
 * Special slices (docs/SPEC.md section 4): NaN anywhere -> NaN; +inf -> logsumexp +inf,
 * softmax/log_softmax NaN; all -inf -> logsumexp -inf (sign 0), softmax/log_softmax NaN;
 * fully masked -> logsumexp -inf, softmax 0, log_softmax -inf.
 * Measured max error against mpmath / long double (PYTHONPATH=.:tests python
 * tests/test_reductions.py; rows of 1 .. 10^6 entries uniform in +-50, last axis and
 * axis 0, every variant; 10^5 and 10^6 on AVX-512 only; 2026-12-07):
 *   float32  logsumexp 0.50  softmax 2.35  log_softmax 1.75 ULP
 *   float64  logsumexp 0.50  softmax 2.10  log_softmax 1.72 ULP
 * float32 rows shorter than a vector (fa_short_closed.h: float64 lanes, one rounding) reach
 * 0.50 / 0.50 / 0.51 over every row kind (test_float32_short_rows_in_closed_form).
 * (float32 log_softmax was 1.45 before its statistics took the 0.98 ULP exp on AVX-512,
 * FA_STATS_TERMS_SUMMED in fa_stats_f32.h; rows [0, c, ..., c], whose terms all carry the
 * same exp error, reach 2.09 there: tests/test_reductions.py::test_dominant_entry_over_equal_terms.)
 * logsumexp is M + l with l's absolute error ~1 ULP of l: where M + l cancels (M and l of
 * opposite signs, result near 0) the slice is summed again (fa_lse_exact.h: 2 ULP for
 * float32 results >= 2^-50 and float64 results >= 2^-25 in magnitude, ~2^-81 absolute below;
 * contiguous rows after a cancelling row are predicted to cancel and summed so directly,
 * accepted only where the statistics would choose that same sum: fa_rows.h, fa_sm_lse_rows).
 * Unweighted float64 slices that cancel only partly (|M + l| >= 2, e.g. N(0,3) - 20 rows)
 * are not summed again: l = log(S) is refined to a double-double from the same statistics
 * (fa_lse_value.h, fa_lse_value_dd_l: one exp_dd per slice), measured <= 0.70 ULP against
 * mpmath on every variant (tests/test_reductions.py::test_logsumexp_float64_shifted_rows_one_pass).
 * Row kinds of tests/test_reductions.py::test_ulp_row_kinds (shifted, peaked, normalised,
 * -inf, subnormal outputs, masked; 1 .. 4100 entries, every variant) stay within the bounds.
 */
#ifndef FA_REDUCTIONS_H
#define FA_REDUCTIONS_H

#define FA_SM_CHUNK_BYTES 16384
#define FA_SM_COLS 4           /* column vectors per block when inner > 1 */
#define FA_SM_STORE_CHUNKS 16  /* float32 softmax rows of up to this many chunks store their terms */

#include <math.h>
#include "fa_lanes.h"
#include "fa_slice.h"
#include "fa_lse_exact.h"
#include "fa_lse_value.h"
#include "fa_stats_f32.h"
#include "fa_output_f32.h"
#include "fa_rows.h"
#include "fa_rows_f64.h"
#include "fa_columns.h"
#include "fa_col_stats_f32.h"
#include "fa_col_finish_f32.h"
#include "fa_col_lse_f32.h"
#include "fa_col_output_f32.h"
#include "fa_columns_f32.h"
#include "fa_columns_f64.h"
#include "fa_short_closed.h"
#include "fa_short_rows.h"
#include "fa_route.h"

#endif /* FA_REDUCTIONS_H */
