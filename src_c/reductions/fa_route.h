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
#define FA_SM_SOFTMAX_ROWS_FAST_f64(x, y, rows, n) 0
#define FA_SM_LOG_ROWS_FAST_f64 fa_sm64_log_softmax_rows
#define FA_SM_COLS_FAST_f64 fa_sm_cols_fast_f64   /* fa_columns_f64.h */
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
/* softmax (LOG = 0) and log_softmax (LOG = 1) */                                              \
static void fa_sm_rowwise_##T(const fa_scalar_##T *x, fa_scalar_##T *y, ptrdiff_t outer,         \
                              ptrdiff_t n, ptrdiff_t inner, const fa_axis_opts *o, int LOG)       \
{                                                                                                 \
    const unsigned char *mk = o ? o->mask : NULL;                                                 \
    const ptrdiff_t cols = o && o->cols ? o->cols : inner;                                        \
    if (n <= 0 || outer <= 0 || inner <= 0) return;                                              \
    if (inner > 1) FA_SM_COLS_FAST_##T(x, y, NULL, outer, n, inner, cols, mk, LOG);              \
    else if (LOG && FA_SM_LOG_ROWS_FAST_##T(x, mk, y, outer, n)) { /* done */ }                   \
    else if (!LOG && !mk && FA_SM_SOFTMAX_ROWS_FAST_##T(x, y, outer, n)) { /* done */ }           \
    else if (mk) fa_sm_rows_##T(x, y, outer, n, mk, LOG, 1);                                      \
    else fa_sm_rows_##T(x, y, outer, n, NULL, LOG, 0);                                            \
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
    else if (!mk && !b) fa_sm_lse_rows_##T(x, y, outer, n, NULL, NULL, sg, 0, 0);                 \
    else if (!b) fa_sm_lse_rows_##T(x, y, outer, n, mk, NULL, sg, 1, 0);                          \
    else if (!mk) fa_sm_lse_rows_##T(x, y, outer, n, NULL, b, sg, 0, 1);                          \
    else fa_sm_lse_rows_##T(x, y, outer, n, mk, b, sg, 1, 1);                                     \
}

FA_SM_DEFINE_KERNELS(f32)
FA_SM_DEFINE_KERNELS(f64)

#endif /* FA_ROUTE_H */
