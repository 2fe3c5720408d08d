/*
 * reductions/fa_route.h -- the kernels of the dispatch table: fa_k_softmax_T,
 * fa_k_log_softmax_T, fa_k_logsumexp_T (signature fa_axis_T_fn), routed to rows or columns,
 * with or without a mask and weights.
 */
#ifndef FA_ROUTE_H
#define FA_ROUTE_H

/* ---- the kernels in the dispatch table ---- */
/* columns without weights, a mask or NULL */
#define FA_SM_COLS_FAST_f32 fa_sm_cols_fast_f32   /* fa_columns.h */
/* log_softmax rows (inner == 1; a mask or NULL), each row's output inside the next row's
 * statistics */
#define FA_SM_LOG_ROWS_FAST_f32 fa_sm_log_rows_f32
/* softmax rows (inner == 1, no mask): float32 rows that stay in L2 scaled inside the next
 * row's statistics; 0 where not handled */
#define FA_SM_SOFTMAX_ROWS_FAST_f32 fa_sm_softmax_rows_f32
#define FA_SM_SOFTMAX_ROWS_FAST_f64 fa_sm64_softmax_rows
#define FA_SM_LOG_ROWS_FAST_f64 fa_sm64_log_softmax_rows
#define FA_SM_COLS_FAST_f64 fa_sm_cols_fast_f64   /* fa_columns_f64.h */
/* short rows without weights (a where= mask or not), a group at a time (fa_short_rows.h) */
#define FA_SM_SHORT_f32(n, mk, op) (FA_SHORT_ROWS_ON && (n) >= 2 && (n) <= FA_SHORT_ROWS_LIMIT(op))
#define FA_SM_SHORT_f64(n, mk, op) (FA_LANES_F64 >= 2 && (n) >= 2 && (n) <= FA_SHORT_ROWS_LIMIT64(op))
#define FA_SM_SHORT_GROUP_f32 fa_short_group_f32
#define FA_SM_SHORT_GROUP_f64 fa_short_group_f64
#define FA_SM_SHORT_G_f32 FA_SHORT_CLOSED_G /* rows per group */
#define FA_SM_SHORT_G_f64 FA_SM_BLOCK
/* what a group leaves for later groups (logsumexp rows queued for the double-double pass:
 * fa_short_closed.h), flushed at the end */
#define FA_SM_SHORT_STATE_f32 fa_short_deep
#define FA_SM_SHORT_STATE_f64 fa_short_deep
#define FA_SM_SHORT_FLUSH_f32(q, n) fa_short_deep_flush(q, n, 1)
#define FA_SM_SHORT_FLUSH_f64(q, n) fa_short_deep_flush(q, n, 0)
/* the dispatch-table kernels NAME_T and LOG_NAME_T (signature fa_axis_T_fn) of one
 * implementation IMPL_T(x, y, outer, n, inner, o, LOG): softmax and log_softmax, and their
 * gradients (reductions/fa_grad_rows.h) */
#define FA_SM_DEFINE_PAIR(T, NAME, LOG_NAME, IMPL)                                                \
static void fa_k_##NAME##_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer,          \
                              ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *o)                \
{ IMPL##_##T(x, y, outer, n, inner, o, 0); }                                                      \
static void fa_k_##LOG_NAME##_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer,      \
                                  ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *o)            \
{ IMPL##_##T(x, y, outer, n, inner, o, 1); }

#define FA_SM_DEFINE_KERNELS(T)                                                                   \
/* softmax (LOG = 0) and log_softmax (LOG = 1) of rows, one row at a time */                     \
static void fa_sm_rows_any_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer,        \
                               ptrdiff_t n, const unsigned char *mk, int LOG)                     \
{                                                                                                 \
    if (LOG && FA_SM_LOG_ROWS_FAST_##T(x, mk, y, outer, n)) { /* done */ }                        \
    else if (!LOG && !mk && FA_SM_SOFTMAX_ROWS_FAST_##T(x, y, outer, n)) { /* done */ }           \
    else if (mk) fa_sm_rows_##T(x, y, outer, n, mk, LOG, 1);                                      \
    else fa_sm_rows_##T(x, y, outer, n, NULL, LOG, 0);                                            \
}                                                                                                 \
/* short rows a group at a time, the rows a group leaves one at a time (op: FA_SM_OP_*; y the  \
 * rows' outputs, or the logsumexp results with sg; mk the rows' mask or NULL) */                 \
static void fa_sm_short_rows_##T(const fa_scalar_##T *x, const unsigned char *mk, fa_scalar_##T *y, \
                                 fa_scalar_##T *sg, ptrdiff_t outer, ptrdiff_t n, int op)         \
{                                                                                                 \
    const ptrdiff_t G = FA_SM_SHORT_G_##T;                                                        \
    FA_SM_SHORT_STATE_##T state;                                                                  \
    state.c = 0;                                                                                  \
    for (ptrdiff_t r0 = 0; r0 < outer; r0 += G) {                                                 \
        const ptrdiff_t rows = outer - r0 < G ? outer - r0 : G;                                   \
        const fa_scalar_##T *xg = x + r0 * n;                                                     \
        fa_scalar_##T *out = op == FA_SM_OP_LSE ? y + r0 : y + r0 * n;                            \
        const unsigned char *mg = mk ? mk + r0 * n : NULL;                                        \
        unsigned left = FA_SM_SHORT_GROUP_##T(xg, mg, out, sg ? sg + r0 : NULL, rows, n, op, &state); \
        for (ptrdiff_t g = 0; left; g++, left >>= 1) {                                            \
            const unsigned char *m1 = mg ? mg + g * n : NULL;                                     \
            if (!(left & 1u))                                                                     \
                continue;                                                                         \
            if (op == FA_SM_OP_LSE)                                                               \
                fa_sm_lse_rows_##T(xg + g * n, out + g, 1, n, m1, NULL, sg ? sg + r0 + g : NULL, m1 != NULL, 0); \
            else                                                                                  \
                fa_sm_rows_any_##T(xg + g * n, out + g * n, 1, n, m1, op);                        \
        }                                                                                         \
    }                                                                                             \
    FA_SM_SHORT_FLUSH_##T(&state, n);                                                             \
}                                                                                                 \
/* softmax (LOG = 0) and log_softmax (LOG = 1) */                                              \
static void fa_sm_rowwise_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer,         \
                              ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *o, int LOG)       \
{                                                                                                 \
    const unsigned char *mk = o ? o->mask : NULL;                                                 \
    const ptrdiff_t cols = o && o->cols ? o->cols : inner;                                        \
    if (n <= 0 || outer <= 0 || inner <= 0) return;                                              \
    if (inner > 1) FA_SM_COLS_FAST_##T(x, y, NULL, outer, n, inner, cols, mk, LOG);              \
    else if (FA_SM_SHORT_##T(n, mk, LOG)) fa_sm_short_rows_##T(x, mk, y, NULL, outer, n, LOG);    \
    else fa_sm_rows_any_##T(x, y, outer, n, mk, LOG);                                             \
}                                                                                                 \
FA_SM_DEFINE_PAIR(T, softmax, log_softmax, fa_sm_rowwise)                                        \
static void fa_k_logsumexp_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer,        \
                               ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *o)               \
{                                                                                                 \
    const unsigned char *mk = o ? o->mask : NULL;                                                 \
    const fa_scalar_##T *b = o ? (const fa_scalar_##T *)o->b : NULL;                              \
    fa_scalar_##T *sg = o ? (fa_scalar_##T *)o->sign : NULL;                                      \
    const ptrdiff_t cols = o && o->cols ? o->cols : inner;                                        \
    if (outer <= 0 || inner <= 0) return;                                                         \
    if (n <= 0) {                                                                                 \
        for (ptrdiff_t i = 0; i < outer * inner; i++) {                                           \
            y[i] = -INFINITY;                                                                     \
            if (sg) sg[i] = 0;                                                                    \
        }                                                                                         \
        return;                                                                                   \
    }                                                                                             \
    if (inner > 1 && !b) FA_SM_COLS_FAST_##T(x, y, sg, outer, n, inner, cols, mk, FA_SM_OP_LSE); \
    else if (inner > 1) fa_sm_lse_cols_##T(x, y, outer, n, inner, cols, mk, b, sg);               \
    else if (!b && FA_SM_SHORT_##T(n, mk, FA_SM_OP_LSE)) fa_sm_short_rows_##T(x, mk, y, sg, outer, n, FA_SM_OP_LSE); \
    else if (!mk && !b) fa_sm_lse_rows_##T(x, y, outer, n, NULL, NULL, sg, 0, 0);                 \
    else if (!b) fa_sm_lse_rows_##T(x, y, outer, n, mk, NULL, sg, 1, 0);                          \
    else if (!mk) fa_sm_lse_rows_##T(x, y, outer, n, NULL, b, sg, 0, 1);                          \
    else fa_sm_lse_rows_##T(x, y, outer, n, mk, b, sg, 1, 1);                                     \
}

FA_SM_DEFINE_KERNELS(f32)
FA_SM_DEFINE_KERNELS(f64)

#endif /* FA_ROUTE_H */
