# The C API for C extensions (included by the generated kernels.pyx): a capsule
# holding fastact.h's `fa_api` table of entry points, read by import_fastact().

from cpython.pycapsule cimport PyCapsule_New

cdef extern from "fastact.h":
    ctypedef struct fa_api:
        unsigned int abi_version
        unsigned int api_version
    const fa_api *fa_capi_table()

_C_API = PyCapsule_New(<void *>fa_capi_table(), "fastact.kernels._C_API", NULL)
# FASTACT_API_VERSION (number of kernels in the table) and FASTACT_ABI_VERSION of this build
C_API_VERSION = fa_capi_table().api_version
C_ABI_VERSION = fa_capi_table().abi_version
