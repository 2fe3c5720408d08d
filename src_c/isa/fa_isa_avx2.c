/* The avx2 kernels: compiled with this ISA's flags only (setup.py ISA_FLAGS). */
#include "../simd/fa_simd_avx2.h"
#define FA_FILL_TABLE fa_fill_table__avx2
#include "../fa_isa_body.h"
