/*
 * TEMPORARY (skeleton only, to be replaced by the SIMD kernels): libm loops so the
 * package builds end to end while the real kernels are written.  Nothing may ship
 * with an entry left here.
 */
#define FA_PH_UNARY_f32(name, EXPR)                                                               \
static void fa_k_##name##_f32(const float *x, float *y, ptrdiff_t n, const fa_params *p) {      \
    for (ptrdiff_t i = 0; i < n; i++) { double v = x[i]; y[i] = (float)(EXPR); } (void)p; }
#define FA_PH_UNARY_f64(name, EXPR)                                                               \
static void fa_k_##name##_f64(const double *x, double *y, ptrdiff_t n, const fa_params *p) {    \
    for (ptrdiff_t i = 0; i < n; i++) { double v = x[i]; y[i] = (EXPR); } (void)p; }
FA_PH_UNARY_f32(elu, v > 0 ? v : p->a * expm1(v))
FA_PH_UNARY_f32(selu, 1.0507009873554804934193349852946 * (v > 0 ? v : 1.6732632423543772848170429916717 * expm1(v)))
FA_PH_UNARY_f32(celu, (v > 0 ? v : 0) + (v < 0 ? p->a * expm1(v / p->a) : 0))
FA_PH_UNARY_f32(sigmoid, 1 / (1 + exp(-v)))
FA_PH_UNARY_f32(log_sigmoid, -log1p(exp(-v)))
FA_PH_UNARY_f32(logit, log(v / (1 - v)))
FA_PH_UNARY_f32(tanh, tanh(v))
FA_PH_UNARY_f32(softplus, log1p(exp(v)))
FA_PH_UNARY_f32(silu, v / (1 + exp(-v)))
FA_PH_UNARY_f32(gelu, 0.5 * v * erfc(-v / 1.4142135623730951))
FA_PH_UNARY_f32(gelu_tanh, 0.5 * v * (1 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))))
FA_PH_UNARY_f32(mish, v * tanh(log1p(exp(v))))

#define FA_PH_ROWS(T, S)                                                                          \
static void fa_k_softmax_##T(const S *x, S *y, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner,   \
                             const fa_axis_opts *o) {                                            \
    (void)o;                                                                                     \
    for (ptrdiff_t a = 0; a < outer; a++) for (ptrdiff_t c = 0; c < inner; c++) {                \
        const S *r = x + a * n * inner + c; S *w = y + a * n * inner + c;                       \
        double m = -INFINITY, s = 0;                                                             \
        for (ptrdiff_t k = 0; k < n; k++) m = r[k * inner] > m ? r[k * inner] : m;             \
        for (ptrdiff_t k = 0; k < n; k++) s += exp(r[k * inner] - m);                          \
        for (ptrdiff_t k = 0; k < n; k++) w[k * inner] = (S)(exp(r[k * inner] - m) / s);        \
    }                                                                                            \
}                                                                                                \
static void fa_k_log_softmax_##T(const S *x, S *y, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner, \
                                 const fa_axis_opts *o) {                                        \
    (void)o;                                                                                     \
    for (ptrdiff_t a = 0; a < outer; a++) for (ptrdiff_t c = 0; c < inner; c++) {                \
        const S *r = x + a * n * inner + c; S *w = y + a * n * inner + c;                       \
        double m = -INFINITY, s = 0;                                                             \
        for (ptrdiff_t k = 0; k < n; k++) m = r[k * inner] > m ? r[k * inner] : m;             \
        for (ptrdiff_t k = 0; k < n; k++) s += exp(r[k * inner] - m);                          \
        for (ptrdiff_t k = 0; k < n; k++) w[k * inner] = (S)(r[k * inner] - m - log(s));        \
    }                                                                                            \
}                                                                                                \
static void fa_k_logsumexp_##T(const S *x, S *y, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner, \
                               const fa_axis_opts *o) {                                          \
    (void)o;                                                                                     \
    for (ptrdiff_t a = 0; a < outer; a++) for (ptrdiff_t c = 0; c < inner; c++) {                \
        const S *r = x + a * n * inner + c;                                                      \
        double m = -INFINITY, s = 0;                                                             \
        for (ptrdiff_t k = 0; k < n; k++) m = r[k * inner] > m ? r[k * inner] : m;             \
        for (ptrdiff_t k = 0; k < n; k++) s += exp(r[k * inner] - m);                          \
        y[a * inner + c] = (S)(m + log(s));                                                      \
    }                                                                                            \
}
FA_PH_ROWS(f32, float)
FA_PH_ROWS(f64, double)
