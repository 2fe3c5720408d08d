# The hand-written part of fastact.kernels (included by the generated kernels.pyx):
# the generic entry points for fastact._core, kernel-variant control, and init.

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
    ctypedef void (*fa_unary_f32_fn)(const float *, float *, ptrdiff_t, const fa_params *)
    ctypedef void (*fa_unary_f64_fn)(const double *, double *, ptrdiff_t, const fa_params *)
    ctypedef void (*fa_axis_f32_fn)(const float *, float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, const fa_axis_opts *)
    ctypedef void (*fa_axis_f64_fn)(const double *, double *, ptrdiff_t, ptrdiff_t, ptrdiff_t, const fa_axis_opts *)
    fa_unary_f32_fn fa_unary_f32_kernel(int op)
    fa_unary_f64_fn fa_unary_f64_kernel(int op)
    fa_axis_f32_fn fa_axis_f32_kernel(int op)
    fa_axis_f64_fn fa_axis_f64_kernel(int op)
    int fa_isa_best()
    int fa_isa_current()
    int fa_isa_set(int isa)
    int fa_isa_init()
    int fa_isa_requested()
    const char *fa_isa_name(int isa)
    enum: FA_ISA_COUNT


cdef void _fa_unary_f32(int op, const float *x, float *y, ptrdiff_t n, double a, double b) noexcept nogil:
    cdef fa_params p = fa_params(a, b, 0.0, 0.0)
    if n > 0:
        fa_unary_f32_kernel(op)(x, y, n, &p)


cdef void _fa_unary_f64(int op, const double *x, double *y, ptrdiff_t n, double a, double b) noexcept nogil:
    cdef fa_params p = fa_params(a, b, 0.0, 0.0)
    if n > 0:
        fa_unary_f64_kernel(op)(x, y, n, &p)


cdef void _fa_axis_f32(int op, const float *x, float *y, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner,
                       const unsigned char *mask, const void *b, void *sign) noexcept nogil:
    cdef fa_axis_opts o
    o.mask = mask
    o.b = b
    o.sign = sign
    if outer > 0 and inner > 0:
        fa_axis_f32_kernel(op)(x, y, outer, n, inner, &o)


cdef void _fa_axis_f64(int op, const double *x, double *y, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner,
                       const unsigned char *mask, const void *b, void *sign) noexcept nogil:
    cdef fa_axis_opts o
    o.mask = mask
    o.b = b
    o.sign = sign
    if outer > 0 and inner > 0:
        fa_axis_f64_kernel(op)(x, y, outer, n, inner, &o)


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
    """Switch every kernel to variant `name` ('scalar', 'sse2', 'avx2', 'avx512' or 'best').

    For tests and experiments: not thread-safe against calls running at the same time.
    """
    cdef int isa = fa_isa_best() if name == "best" else (ISA_NAMES.index(name) if name in ISA_NAMES else -1)
    if isa < 0:
        raise ValueError(f"unknown kernel variant {name!r}; expected one of {ISA_NAMES + ('best',)}")
    if fa_isa_set(isa) < 0:
        raise ValueError(f"kernel variant {name!r} is not supported on this machine "
                         f"(available: {ISA_NAMES[:fa_isa_best() + 1]})")
    return ISA_NAMES[isa]


fa_isa_init()
