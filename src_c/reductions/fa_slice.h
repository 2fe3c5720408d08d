/*
 * reductions/fa_slice.h -- the statistics record of a slice, (M, T, C): running max M,
 * T = sum over x < M of w e^(x - M), C = sum over x == M of w; merging a chunk into it (one
 * exp per chunk, with the rounding of the maxima's difference), and finishing it into
 * l = log(C + T) (log1p(T) for a dominant entry) and a sign.
 */
#ifndef FA_SLICE_H
#define FA_SLICE_H

/* ---- the statistics of a slice: running max M, T = sum_{x<M} w e^(x-M), C = sum_{x==M} w ---- */
typedef struct fa_sm_stats {
    double M, t, C, te;    /* te: rounding error of the additions into t (t + te is the sum) */
    double rmin;           /* float64 direct-reduction rows: a lower bound of the entries */
} fa_sm_stats;


/* merge a chunk's (mk, tk, ck) into s (scalar; once per chunk) */
FA_INLINE void fa_sm_merge(fa_sm_stats *s, double mk, double tk, double ck)
{
    if (mk > s->M) {
        if (s->M == -INFINITY) {             /* the first chunk (or all -inf so far) */
            fa_two_sum_acc(&s->t, &s->te, tk);
        } else {
            s->t = (s->t + s->te + s->C) * fa_sm_exp_diff(s->M, mk) + tk;
            s->te = 0.0;
        }
        s->C = ck;
        s->M = mk;
    } else if (mk == s->M) {
        fa_two_sum_acc(&s->t, &s->te, tk);
        s->C += ck;
    } else {
        fa_two_sum_acc(&s->t, &s->te, (tk + ck) * fa_sm_exp_diff(mk, s->M));  /* mk = -inf: tk is 0 or NaN, kept */
    }
}

enum { FA_SM_OK = 0, FA_SM_SPECIAL = 1 };

/* l = log(C + T) and the sign of C + T; FA_SM_SPECIAL when M is not finite or T NaN. */
FA_INLINE int fa_sm_finish(const fa_sm_stats *s, double *l, double *sign)
{
    if (!(s->M > -INFINITY && s->M < INFINITY) || s->t != s->t)
        return FA_SM_SPECIAL;
    double C = s->C, T = s->t + s->te, S = C + T;
    if (!l) {                                /* softmax: only the sum is needed */
        *sign = 1.0;
        return FA_SM_OK;
    }
    if (C == 1.0 && T >= 0 && T < 0.5) {      /* a dominant entry: l = log1p(T) keeps l's relative accuracy */
        *l = log1p(T);
        *sign = 1.0;
    } else if (C > 0 && S > 0) {             /* S >= 1.5: log of S as a double-double, one libm call */
        double hi = 0.0, lo = 0.0;
        fa_two_sum_acc(&hi, &lo, C);
        fa_two_sum_acc(&hi, &lo, T);
        *l = log(hi) + lo / hi;
        *sign = 1.0;
    } else if (S > 0) {
        *l = log(S);
        *sign = 1.0;
    } else if (S < 0) {
        *l = (C < 0 && S < 0) ? (C == -1.0 ? 0.0 : log(-C)) + log1p(T / C) : log(-S);
        *sign = -1.0;
    } else if (S == 0) {
        *l = -INFINITY;
        *sign = 0.0;
    } else {
        *l = S;                              /* NaN: inf - inf among the weights */
        *sign = S;
    }
    return FA_SM_OK;
}

FA_INLINE void fa_sm_entry_params(const void *stats, double l, int is_f64, double *a1, double *a2)
{
    const fa_sm_stats *s = (const fa_sm_stats *)stats;
    if (!is_f64) {
        *a1 = l;
        *a2 = 0.0;
        return;
    }
    double hi = 0.0, lo = 0.0;       /* C + (t + te) as a double-double */
    fa_two_sum_acc(&hi, &lo, s->C);
    fa_two_sum_acc(&hi, &lo, s->t);
    fa_two_sum_acc(&hi, &lo, s->te);
    const double ih = 1.0 / hi;
    const double rem = fma(-hi, ih, 1.0) - lo * ih;     /* 1 - S * ih, S = hi + lo */
    *a1 = ih;
    *a2 = rem * ih;
}

#endif /* FA_SLICE_H */
