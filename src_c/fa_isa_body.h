/*
 * fa_isa_body.h -- everything a per-ISA translation unit compiles.
 *
 * isa/fa_isa_<isa>.c includes its SIMD wrapper header, defines FA_FILL_TABLE and
 * includes this file; it is compiled with that ISA's flags (setup.py), so each
 * kernel below exists once per ISA, as static functions fa_k_<name>_<f32|f64>.
 * The filler at the end stores them in the dispatch table through the X-macro list.
 */
#include "kernels/fa_map.h"
#include "kernels/fa_relu_family.h"
#include "math/fa_compensated.h"
#include "math/fa_math_f32.h"
#include "math/fa_math_f64.h"
#include "kernels/fa_activations_f32.h"
#include "kernels/fa_activations_f64.h"
#include "reductions/fa_reductions.h"

void FA_FILL_TABLE(fa_table *t)
{
#define FA_UNARY(name, np, p1, p2) t->name##_f32 = fa_k_##name##_f32; t->name##_f64 = fa_k_##name##_f64;
#define FA_ROWWISE(name) t->name##_f32 = fa_k_##name##_f32; t->name##_f64 = fa_k_##name##_f64;
#define FA_REDUCE(name) t->name##_f32 = fa_k_##name##_f32; t->name##_f64 = fa_k_##name##_f64;
#include "fastact_functions.h"
#undef FA_UNARY
#undef FA_ROWWISE
#undef FA_REDUCE
}
