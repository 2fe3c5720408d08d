/*
 * fa_isa_body.h -- everything a per-ISA translation unit compiles.
 *
 * isa/fa_isa_<isa>.c includes its SIMD wrapper header, defines FA_FILL_TABLE and
 * includes this file; it is compiled with that ISA's flags (setup.py), so each
 * kernel below exists once per ISA, as static functions fa_k_<name>_<f32|f64>.
 * The filler at the end stores them in the dispatch table through the X-macro list.
 */
#include "kernels/fa_map.h"
#include "math/fa_compensated.h"
#include "math/fa_math_f32.h"
#include "math/fa_math_f64.h"
/* the activation families (forwards and gradients, both dtypes), by shared math */
#include "activations/fa_algebraic.h"
#include "activations/fa_elu.h"
#include "activations/fa_sigmoid.h"
#include "activations/fa_softplus.h"
#include "activations/fa_logit.h"
#include "activations/fa_gelu.h"
#include "reductions/fa_reductions.h"
#include "reductions/fa_grad_rows.h"
#include "reductions/fa_chunk_stats.h"
#include "losses/fa_bce.h"
#include "losses/fa_one_hot.h"
#include "losses/fa_cross_entropy.h"

void FA_FILL_TABLE(fa_table *t)
{
    /* each kernel checked against its kind's type, then stored generically */
#define FA_FN(kind, name, cost, np, p1, p2)                                    \
    {                                                                          \
        FA_KERNEL_TYPE_##kind(f32) k32 = fa_k_##name##_f32;                    \
        FA_KERNEL_TYPE_##kind(f64) k64 = fa_k_##name##_f64;                    \
        t->k[FA_OP_##name][FA_DT_f32] = (fa_kernel_fn)k32;                     \
        t->k[FA_OP_##name][FA_DT_f64] = (fa_kernel_fn)k64;                     \
    }
#include "fastact_functions.h"
#undef FA_FN
}
