/* The scalar kernels: compiled with this ISA's flags only (setup.py ISA_FLAGS). */
#include "../simd/fa_simd_scalar.h"
#define FA_FILL_TABLE fa_fill_table__scalar
#include "../fa_isa_body.h"
