# The hand-written part of fastact.kernels (included by the generated kernels.pyx):
# the generic entry points for fastact._core, kernel-variant and thread control, and init.

import operator

cdef extern from "fa_common.h" nogil:
    ctypedef struct fa_params:
        double a
        double b
        double c
        double d
    ctypedef struct fa_axis_opts:
        const unsigned char *mask
        const void *b
        void *sign
        ptrdiff_t cols
    void fa_run_unary_f32(int op, const float *x, float *y, ptrdiff_t n, const fa_params *p)
    void fa_run_unary_f64(int op, const double *x, double *y, ptrdiff_t n, const fa_params *p)
    void fa_run_binary_f32(int op, const float *x, const float *g, float *y, ptrdiff_t n, const fa_params *p)
    void fa_run_binary_f64(int op, const double *x, const double *g, double *y, ptrdiff_t n, const fa_params *p)
    void fa_run_axis_f32(int op, const float *x, float *y, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner,
                         const fa_axis_opts *opts)
    void fa_run_axis_f64(int op, const double *x, double *y, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner,
                         const fa_axis_opts *opts)
    int fa_threads_init()
    int fa_threads_requested()
    int fa_get_num_threads()
    int fa_set_num_threads(int n)
    enum: FA_THREADS_MAX
    int fa_isa_best()
    int fa_isa_current()
    int fa_isa_set(int isa)
    int fa_isa_init()
    int fa_isa_requested()
    const char *fa_isa_name(int isa)
    enum: FA_ISA_COUNT
    int fa_tune_softmax_overlap
    int fa_tune_set_softmax_overlap(int on)
    int fa_tune_scalef_tiny
    int fa_tune_set_scalef_tiny(int on)


# op: the position in UNARY_OPS / BINARY_OPS / AXIS_OPS, turned into FA_OP_<name> by the
# generated _<shape>_ids.  fa_params: a, b are the function's parameters; c, d are never
# caller parameters (a kernel may derive constants into them) and are passed as 0.

cdef void _fa_unary_f32(int op, const float *x, float *y, ptrdiff_t n, double a, double b) noexcept nogil:
    cdef fa_params p = fa_params(a, b, 0.0, 0.0)
    fa_run_unary_f32(_unary_ids[op], x, y, n, &p)


cdef void _fa_unary_f64(int op, const double *x, double *y, ptrdiff_t n, double a, double b) noexcept nogil:
    cdef fa_params p = fa_params(a, b, 0.0, 0.0)
    fa_run_unary_f64(_unary_ids[op], x, y, n, &p)


cdef void _fa_binary_f32(int op, const float *x, const float *g, float *y, ptrdiff_t n, double a,
                         double b) noexcept nogil:
    cdef fa_params p = fa_params(a, b, 0.0, 0.0)
    fa_run_binary_f32(_binary_ids[op], x, g, y, n, &p)


cdef void _fa_binary_f64(int op, const double *x, const double *g, double *y, ptrdiff_t n, double a,
                         double b) noexcept nogil:
    cdef fa_params p = fa_params(a, b, 0.0, 0.0)
    fa_run_binary_f64(_binary_ids[op], x, g, y, n, &p)


cdef void _fa_axis_f32(int op, const float *x, float *y, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner,
                       const unsigned char *mask, const void *b, void *sign) noexcept nogil:
    cdef fa_axis_opts o
    o.mask = mask
    o.b = b
    o.sign = sign
    o.cols = 0
    fa_run_axis_f32(_axis_ids[op], x, y, outer, n, inner, &o)


cdef void _fa_axis_f64(int op, const double *x, double *y, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner,
                       const unsigned char *mask, const void *b, void *sign) noexcept nogil:
    cdef fa_axis_opts o
    o.mask = mask
    o.b = b
    o.sign = sign
    o.cols = 0
    fa_run_axis_f64(_axis_ids[op], x, y, outer, n, inner, &o)


cdef extern from "fa_chunk.h" nogil:
    ctypedef struct fa_chunk_rec:
        pass
    ctypedef struct fa_chunk_job:
        pass
    void fa_chunk_run(int stage, int dt, const fa_chunk_job *job)


cdef void _fa_chunk(int stage, int dt, const void *job) noexcept nogil:
    """A per-chunk stage of the Dask path (src_c/fa_chunk.h), the active kernel variant's."""
    fa_chunk_run(stage, dt, <const fa_chunk_job *>job)


cdef size_t _fa_chunk_rec_size() noexcept nogil:
    return sizeof(fa_chunk_rec)


ISA_NAMES = tuple(fa_isa_name(i).decode() for i in range(FA_ISA_COUNT))


def isa_info():
    """{'best': ..., 'current': ..., 'requested': ..., 'available': (...)} (kernel variants)."""
    cdef int req = fa_isa_requested()
    return {
        "best": ISA_NAMES[fa_isa_best()],
        "current": ISA_NAMES[fa_isa_current()],
        "requested": None if req == -1 else (ISA_NAMES[req] if req >= 0 else "unknown"),
        "available": ISA_NAMES[:fa_isa_best() + 1],
    }


def set_isa(name):
    """Switch every kernel to variant `name` ('scalar', 'sse2', 'avx2', 'avx512' or 'best');
    None: the variant chosen at import (FASTACT_ISA's when it names a supported one, else
    'best'), as fastact.set_isa(None).

    For tests and experiments: not thread-safe against calls running at the same time.
    """
    if name is None:
        info = isa_info()
        name = info["requested"] if info["requested"] in info["available"] else "best"
    cdef int isa = fa_isa_best() if name == "best" else (ISA_NAMES.index(name) if name in ISA_NAMES else -1)
    if isa < 0:
        raise ValueError(f"unknown kernel variant {name!r}; expected one of {ISA_NAMES + ('best',)}")
    if fa_isa_set(isa) < 0:
        raise ValueError(f"kernel variant {name!r} is not supported on this machine "
                         f"(available: {ISA_NAMES[:fa_isa_best() + 1]})")
    return ISA_NAMES[isa]


def _set_softmax_overlap(on):
    """Per-CPU tuning that never changes a result's bits (src_c/fa_dispatch.c): softmax
    rows scaled inside the next row's pass, float32 rows longer than 4 KB and float64 rows of
    up to 16 KB (True on Intel cores).  None: leave it; returns the value before.  For tests
    and experiments."""
    if on is None:
        return bool(fa_tune_softmax_overlap)
    return bool(fa_tune_set_softmax_overlap(1 if on else 0))


def _set_scalef_tiny(on):
    """Per-CPU tuning that never changes a result's bits (src_c/fa_common.h): the AVX-512
    variant's exp scalings send lanes whose result is subnormal or 0 through vscalefps /
    vscalefpd, with no branch (True on AMD cores, where those instructions take no microcode
    assist).  None: leave it; returns the value before.  For tests and experiments."""
    if on is None:
        return bool(fa_tune_scalef_tiny)
    return bool(fa_tune_set_scalef_tiny(1 if on else 0))


THREADS_MAX = FA_THREADS_MAX


def threads_info():
    """{'num_threads': ..., 'requested': FASTACT_NUM_THREADS's value, None, or 'invalid'}."""
    cdef int req = fa_threads_requested()
    return {"num_threads": fa_get_num_threads(),
            "requested": None if req == -1 else (req if req > 0 else "invalid")}


def get_num_threads():
    """The number of threads a large call is split over (1: the calling thread only)."""
    return fa_get_num_threads()


def set_num_threads(n):
    """Split large calls over `n` threads (1 .. THREADS_MAX); returns the previous count."""
    n = operator.index(n)
    if n < 1 or n > FA_THREADS_MAX:
        raise ValueError(f"number of threads must be between 1 and {FA_THREADS_MAX}, got {n}")
    return fa_set_num_threads(n)


fa_isa_init()
fa_threads_init()
