/* The sse2 kernels: compiled with this ISA's flags only (setup.py ISA_FLAGS). */
#include "../simd/fa_simd_sse2.h"
#define FA_FILL_TABLE fa_fill_table__sse2
#include "../fa_isa_body.h"
