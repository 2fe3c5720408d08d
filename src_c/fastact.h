/*
 * fastact.h -- fastact's public C API.  Find it with `fastact.get_include()`.
 *
 * Every kernel works on raw, contiguous arrays with ptrdiff_t element counts, is
 * safe to call without the GIL and from several threads at once, and runs the
 * kernel variant (scalar, SSE2, AVX2, AVX-512) chosen once when fastact is imported
 * (the same one the Python API runs, also after fastact.set_isa()).
 * `y` may equal `x` (in place); other overlap between `x` and `y` is not allowed.
 *
 *   element-wise   void fa_<name>_<f32|f64>(const T *x, T *y, ptrdiff_t n [, double p1 [, double p2]]);
 *   row-wise       void fa_<name>_<f32|f64>(const T *x, T *y, ptrdiff_t rows, ptrdiff_t n);
 *                  (rows of n contiguous entries, y has the same shape)
 *   reducing       void fa_<name>_<f32|f64>(const T *x, T *out, ptrdiff_t rows, ptrdiff_t n);
 *                  (one result per row)
 *   two-input      void fa_<name>_<f32|f64>(const T *x, const T *g, T *y, ptrdiff_t n [, double p1 [, double p2]]);
 *                  (element-wise on x and g; g == NULL means all ones; y may equal x or g)
 *   row-wise grad  void fa_<name>_<f32|f64>(const T *y, const T *g, T *out, ptrdiff_t rows, ptrdiff_t n);
 *                  (softmax_grad, log_softmax_grad from the forward's output y; g == NULL: ones)
 *   losses         fa_cross_entropy[_grad], fa_cross_entropy_prob[_grad], fa_nll_loss,
 *                  fa_bce_with_logits[_grad], fa_one_hot: each kind's argument list and its
 *                  meaning are one comment each in fastact_kinds.h -- int64 class targets,
 *                  `reduction` one of FA_REDUCTION_NONE / _MEAN / _SUM, `scale` the gradient's
 *                  factor (grad_output times the reduction's), and `ptrdiff_t *bad`: set to the
 *                  row (position) of the first target (label) out of range, with nothing
 *                  written, else -1 (the Python functions raise IndexError from it).
 *
 * Python's None for a parameter is a value in C (fastact_functions.h, on the function's
 * line): logit's and logit_grad's eps < 0 means no clamping (eps=None), softplus's
 * threshold = +inf means the exact function (threshold=None).  Overlap: the Python
 * functions accept any overlap of input and out= (they copy where needed); the C kernels
 * accept only the exact aliases stated above.
 *
 * The full list, with the parameter names, is fastact_functions.h (the argument
 * lists of each kind: fastact_kinds.h); semantics,
 * special values and accuracy are those of the Python functions of the same name
 * (see README.md).  Examples:
 *   void fa_sigmoid_f32(const float *x, float *y, ptrdiff_t n);
 *   void fa_leaky_relu_f64(const double *x, double *y, ptrdiff_t n, double negative_slope);
 *   void fa_softmax_f32(const float *x, float *y, ptrdiff_t rows, ptrdiff_t n);
 *   void fa_logsumexp_f64(const double *x, double *out, ptrdiff_t rows, ptrdiff_t n);
 *
 * ---- Using it from a C extension module (no link step) ----
 *
 * The kernels live in the extension module fastact.kernels, which exports a table
 * of function pointers in the capsule `fastact.kernels._C_API` (NumPy's
 * import_array pattern).  In a consumer, the fa_<name>_<t> names above are static
 * inline functions that call through that table, so the code reads the same as a
 * direct call and nothing is linked:
 *
 *     #include "fastact.h"            // includes <Python.h>; include it before other headers
 *     // in the module's init (single-phase init: `return NULL;` instead of -1):
 *     if (import_fastact() < 0) return -1;   // ImportError set on failure
 *     // anywhere after that, with or without the GIL:
 *     fa_softmax_f32(x, y, rows, n);
 *
 * import_fastact() imports fastact.kernels, and fails with ImportError when the
 * installed fastact is older than this header (fewer kernels: FASTACT_API_VERSION)
 * or has an incompatible table layout (FASTACT_ABI_VERSION).  A newer fastact is fine.
 *
 * One table per module.  A module made of a single C file needs nothing more (the
 * table pointer is `static`).  A module made of several C files shares one table,
 * as NumPy's PY_ARRAY_UNIQUE_SYMBOL / NO_IMPORT_ARRAY:
 *     every file:        #define FASTACT_API_UNIQUE_SYMBOL mymodule_fastact_api
 *     the file whose init calls import_fastact(): nothing else
 *     every other file:  #define FASTACT_NO_IMPORT      (before #include "fastact.h")
 *
 * fastact's own build defines FASTACT_BUILDING_LIBRARY and sees the plain
 * declarations of the entry points instead.
 */
#ifndef FASTACT_H
#define FASTACT_H

#ifndef FASTACT_BUILDING_LIBRARY
#include <Python.h>
#endif
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "fastact_kinds.h"   /* the kinds: FA_ARGS_<KIND>, FA_PASS_<KIND> */

/*
 * Layout version of the table: bumped only by an incompatible change (an entry
 * removed, moved or given another signature).  A consumer needs exactly this one.
 */
#define FASTACT_ABI_VERSION 1

/* C API version = the number of kernels in the table; each line of the list adds 2. */
enum {
    FASTACT_API_VERSION = 0
#define FA_FN(kind, name, cost, np, p1, p2) + 2
#include "fastact_functions.h"
#undef FA_FN
};

/*
 * The table in the capsule fastact.kernels._C_API.  The first four members never
 * move; then one pointer per kernel, f32 then f64, in the order of
 * fastact_functions.h (so a new line of the list extends the table at its end).
 * Each pointer is the public entry point, i.e. the dispatched kernel.
 */
typedef struct fa_api {
    unsigned int abi_version;             /* FASTACT_ABI_VERSION of the installed fastact */
    unsigned int api_version;             /* its FASTACT_API_VERSION (number of kernels) */
    size_t size;                          /* its sizeof(fa_api) */
    const char *(*isa_in_use)(void);      /* see fa_isa_in_use() */
#define FA_FN(kind, name, cost, np, p1, p2)                   \
    void (*name##_f32) FA_ARGS_##kind(float, np, p1, p2);     \
    void (*name##_f64) FA_ARGS_##kind(double, np, p1, p2);
#include "fastact_functions.h"
#undef FA_FN
} fa_api;

#ifdef FASTACT_BUILDING_LIBRARY
/* ---- inside fastact: the entry points themselves (fa_dispatch.c) ---- */
#define FA_FN(kind, name, cost, np, p1, p2)                   \
    void fa_##name##_f32 FA_ARGS_##kind(float, np, p1, p2);   \
    void fa_##name##_f64 FA_ARGS_##kind(double, np, p1, p2);
#include "fastact_functions.h"
#undef FA_FN

/* The kernel variant in use: "scalar", "sse2", "avx2" or "avx512". */
const char *fa_isa_in_use(void);

/* The filled table that fastact.kernels puts in its capsule (fa_capi.c). */
const fa_api *fa_capi_table(void);

#else
/* ---- in a consumer: the table pointer, import_fastact(), and calls through the table ---- */
#define FASTACT_CAPSULE_NAME "fastact.kernels._C_API"

#ifdef FASTACT_API_UNIQUE_SYMBOL
#define FastAct_API FASTACT_API_UNIQUE_SYMBOL
#endif
#if defined(FASTACT_NO_IMPORT)
#ifndef FASTACT_API_UNIQUE_SYMBOL
#error "FASTACT_NO_IMPORT needs FASTACT_API_UNIQUE_SYMBOL (the same name in every file of the module)"
#endif
extern const fa_api *FastAct_API;
#elif defined(FASTACT_API_UNIQUE_SYMBOL)
const fa_api *FastAct_API = NULL;
#else
static const fa_api *FastAct_API = NULL;
#endif

#ifndef FASTACT_NO_IMPORT
/*
 * Import fastact.kernels and check its table: 0 on success, -1 with ImportError
 * set (or the error of `import fastact.kernels`) on failure.  Call it with the GIL,
 * once, in the module's init, before any fa_* call.
 */
static inline int import_fastact(void)
{
    const fa_api *api = (const fa_api *)PyCapsule_Import(FASTACT_CAPSULE_NAME, 0);
    if (api == NULL) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_ImportError,
                         "the installed fastact has no C API capsule (%s): it is older than the "
                         "fastact.h this module was compiled with (C API version %d); upgrade fastact",
                         FASTACT_CAPSULE_NAME, (int)FASTACT_API_VERSION);
        }
        return -1;
    }
    if (api->abi_version != FASTACT_ABI_VERSION || api->api_version < FASTACT_API_VERSION
            || api->size < sizeof(fa_api)) {
        PyObject *mod = PyImport_ImportModule("fastact");
        PyObject *ver = mod ? PyObject_GetAttrString(mod, "__version__") : NULL;
        PyErr_Clear();
        PyErr_Format(PyExc_ImportError,
                     "fastact C API mismatch: this module was compiled against fastact.h with C API "
                     "version %d (ABI %d), but the installed fastact %S has C API version %u (ABI %u); %s",
                     (int)FASTACT_API_VERSION, FASTACT_ABI_VERSION,
                     ver ? ver : Py_None, api->api_version, api->abi_version,
                     api->abi_version != FASTACT_ABI_VERSION
                         ? "rebuild this module against the installed fastact"
                         : "upgrade fastact (or rebuild this module against the installed one)");
        Py_XDECREF(ver);
        Py_XDECREF(mod);
        return -1;
    }
    FastAct_API = api;
    return 0;
}
#endif /* FASTACT_NO_IMPORT */

#define FA_FN(kind, name, cost, np, p1, p2)                                       \
    static inline void fa_##name##_f32 FA_ARGS_##kind(float, np, p1, p2)          \
    { FastAct_API->name##_f32 FA_PASS_##kind(np, p1, p2); }                       \
    static inline void fa_##name##_f64 FA_ARGS_##kind(double, np, p1, p2)         \
    { FastAct_API->name##_f64 FA_PASS_##kind(np, p1, p2); }
#include "fastact_functions.h"
#undef FA_FN

/* The kernel variant in use: "scalar", "sse2", "avx2" or "avx512". */
static inline const char *fa_isa_in_use(void) { return FastAct_API->isa_in_use(); }
#endif /* FASTACT_BUILDING_LIBRARY */

#ifdef __cplusplus
}
#endif
#endif /* FASTACT_H */
