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
FA_PH_UNARY_f64(elu, v > 0 ? v : p->a * expm1(v))
FA_PH_UNARY_f64(selu, 1.0507009873554804934193349852946 * (v > 0 ? v : 1.6732632423543772848170429916717 * expm1(v)))
FA_PH_UNARY_f64(celu, (v > 0 ? v : 0) + (v < 0 ? p->a * expm1(v / p->a) : 0))
FA_PH_UNARY_f64(sigmoid, 1 / (1 + exp(-v)))
FA_PH_UNARY_f64(log_sigmoid, -log1p(exp(-v)))
FA_PH_UNARY_f64(logit, log(v / (1 - v)))
FA_PH_UNARY_f64(tanh, tanh(v))
FA_PH_UNARY_f64(softplus, log1p(exp(v)))
FA_PH_UNARY_f64(silu, v / (1 + exp(-v)))
FA_PH_UNARY_f64(gelu, 0.5 * v * erfc(-v / 1.4142135623730951))
FA_PH_UNARY_f64(gelu_tanh, 0.5 * v * (1 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))))
FA_PH_UNARY_f64(mish, v * tanh(log1p(exp(v))))
