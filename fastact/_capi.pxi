# The C API for C extensions (included by the generated kernels.pyx): a capsule
# holding fastact.h's `fa_api` table of entry points, read by import_fastact().

from cpython.pycapsule cimport PyCapsule_New

cdef extern from "fastact.h":
    ctypedef struct fa_api:
        pass
    const fa_api *fa_capi_table()

_C_API = PyCapsule_New(<void *>fa_capi_table(), "fastact.kernels._C_API", NULL)
