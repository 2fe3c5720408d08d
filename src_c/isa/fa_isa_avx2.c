/* The avx2 kernels: compiled with this ISA's flags only (setup.py ISA_FLAGS). */
#include "../simd/fa_simd_avx2.h"
#define FA_FILL_TABLE fa_fill_table__avx2
#define FA_CHUNK_RUN fa_chunk_run__avx2      /* the Dask chunk stages (reductions/fa_chunk_stats.h) */
#include "../fa_isa_body.h"
