/* The avx512 kernels: compiled with this ISA's flags only (setup.py ISA_FLAGS). */
#include "../simd/fa_simd_avx512.h"
#define FA_FILL_TABLE fa_fill_table__avx512
#define FA_CHUNK_RUN fa_chunk_run__avx512      /* the Dask chunk stages (reductions/fa_chunk_stats.h) */
#include "../fa_isa_body.h"
