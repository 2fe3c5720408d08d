/* The avx512 kernels: compiled with this ISA's flags only (setup.py ISA_FLAGS). */
#include "../simd/fa_simd_avx512.h"
#define FA_FILL_TABLE fa_fill_table__avx512
#include "../fa_isa_body.h"
