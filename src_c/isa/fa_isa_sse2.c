/* The sse2 kernels: compiled with this ISA's flags only (setup.py ISA_FLAGS). */
#include "../simd/fa_simd_sse2.h"
#define FA_FILL_TABLE fa_fill_table__sse2
#define FA_CHUNK_RUN fa_chunk_run__sse2      /* the Dask chunk stages (reductions/fa_chunk_stats.h) */
#include "../fa_isa_body.h"
