/*
 * fa_chunk.c -- fa_chunk_run: the per-chunk stages of the Dask path (fa_chunk.h), run by the
 * kernel variant in the dispatch table now (fa_isa_current(), as every other kernel).
 */
#include "fa_common.h"
#include "fa_chunk.h"

void fa_chunk_run(int stage, int dt, const fa_chunk_job *job)
{
    switch (fa_isa_current()) {
#if FA_X86
    case FA_ISA_AVX512: fa_chunk_run__avx512(stage, dt, job); return;
    case FA_ISA_AVX2: fa_chunk_run__avx2(stage, dt, job); return;
    case FA_ISA_SSE2: fa_chunk_run__sse2(stage, dt, job); return;
#endif
    default: fa_chunk_run__scalar(stage, dt, job); return;
    }
}
