/*
 * fa_capi.c -- the function table other C extensions reach through the capsule
 * fastact.kernels._C_API (created in fastact/_capi.pxi; consumers: fastact.h).
 *
 * Every pointer is a public entry point of fa_dispatch.c, so a consumer runs the
 * kernel variant the Python API runs, including after fastact.set_isa().
 */
#include "fastact.h"

static const fa_api fa_capi = {
    .abi_version = FASTACT_ABI_VERSION,
    .api_version = FASTACT_API_VERSION,
    .size = sizeof(fa_api),
    .isa_in_use = fa_isa_in_use,
#define FA_FN(kind, name, cost, np, p1, p2) .name##_f32 = fa_##name##_f32, .name##_f64 = fa_##name##_f64,
#include "fastact_functions.h"
#undef FA_FN
};

const fa_api *fa_capi_table(void) { return &fa_capi; }
