"""NumPy's argument handling, once, for every fastact function.

Everything a wrapper needs before it calls a kernel: turning array-likes into arrays,
the dtype rules, `out=` checks (all raised before anything is written), axis
normalisation, and the flat contiguous views the Cython layer takes.

dtype rules (docs/SPEC.md section 2):
- float32 and float64 run in their own kernels;
- float16 is computed in float32 and returned as float16;
- bool and integers are converted to float64 *before* any arithmetic;
- longdouble is computed in float64 and returned as longdouble, as SciPy returns it
  (there is no long-double kernel: float64 precision, documented in README.md);
- complex, object, str, bytes, datetime, timedelta, void: TypeError naming the dtype.
"""
import operator

import numpy as np
from numpy.exceptions import AxisError  # noqa: F401  (re-exported for the wrappers)
from numpy.lib.array_utils import normalize_axis_index as _np_axis_index, normalize_axis_tuple as _np_axis_tuple

F16 = np.dtype(np.float16)
F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)

# input dtype -> (compute dtype, result dtype), for the native-byte-order dtypes;
# anything else goes through compute_dtypes().
_FAST_DTYPES = {F32: (F32, F32), F64: (F64, F64), F16: (F32, F16)}


def index_array(obj):
    """np.asarray of class indices (labels, class targets): an empty Python list or tuple, which
    NumPy makes float64, is taken as empty indices (int64), as NumPy's indexing takes `[]`."""
    arr = np.asarray(obj)
    if type(obj) in (list, tuple) and arr.size == 0 and arr.dtype == np.float64:
        arr = arr.astype(np.int64)
    return arr


def compute_dtypes(dtype, name):
    """(compute dtype, result dtype) for an input dtype, or TypeError naming it."""
    dt = _FAST_DTYPES.get(dtype)
    if dt is not None:
        return dt
    kind = dtype.kind
    if kind == "f":
        if dtype.itemsize > 8:  # longdouble: no kernel, computed in float64, returned as longdouble
            return F64, dtype.newbyteorder("=")
        native = dtype.newbyteorder("=")
        if native in _FAST_DTYPES:
            return _FAST_DTYPES[native]
    if kind in "biu":
        return F64, F64
    raise TypeError(f"fastact.{name} does not support input of dtype {dtype!r} "
                    f"(supported: float16, float32, float64, integer and bool)")


def as_array(x):
    return x if type(x) is np.ndarray else np.asarray(x)


def check_out(out, shape, result_dtype, name):
    """Validate `out` for a result of `shape` and `result_dtype` (NumPy's ufunc wording)."""
    if type(out) is tuple and len(out) == 1:
        out = out[0]
    if not isinstance(out, np.ndarray):
        raise TypeError("return arrays must be of ArrayType")
    if out.shape != shape:
        raise ValueError(f"non-broadcastable output operand with shape {out.shape} "
                         f"doesn't match the broadcast shape {shape}")
    if not out.flags.writeable:
        raise ValueError("output array is read-only")
    if out.dtype != result_dtype and not np.can_cast(result_dtype, out.dtype, casting="same_kind"):
        raise TypeError(f"Cannot cast fastact.{name} output from {result_dtype!r} to {out.dtype!r} "
                        f"with casting rule 'same_kind'")
    return out


def flat_pair(a, b):
    """1-D views of two same-shape aligned arrays with the same element order, or None.

    Works when both are C-contiguous, or both F-contiguous (ravel('K') walks memory order).
    An ndarray subclass (an np.matrix `out`) is seen through a plain ndarray view, so the
    caller still writes into, and returns, the object it was given.
    """
    a, b = base_view(a), base_view(b)
    if not (a.flags.aligned and b.flags.aligned):
        return None                  # C kernels read float*/double* (an unaligned one is UB)
    if a.flags.c_contiguous and b.flags.c_contiguous:
        return a.reshape(-1), b.reshape(-1)
    if a.flags.f_contiguous and b.flags.f_contiguous:
        return a.ravel("K"), b.ravel("K")
    return None


def base_view(a):
    """a itself, or a plain ndarray view of an ndarray subclass (np.matrix stays 2-D when
    reshaped; the view does not, and writes through to the same memory)."""
    return a if type(a) is np.ndarray else a.view(np.ndarray)


def same_memory(a, b):
    """a and b are the very same elements (so an in-place kernel call is fine)."""
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.strides == b.strides and a.dtype == b.dtype)


def contiguous(x, dtype):
    """x as a contiguous array of `dtype` (keeping its memory order when it is contiguous)."""
    flags = x.flags
    if x.dtype == dtype and flags.aligned and (flags.c_contiguous or flags.f_contiguous):
        return x
    y = np.array(x, dtype=dtype, order="K", copy=True)
    if not (y.flags.c_contiguous or y.flags.f_contiguous):
        # order="K" keeps a permuted axis order (x.transpose(0, 2, 1)): neither C nor F, and
        # the flat kernels need one of the two
        y = np.ascontiguousarray(y)
    return y


# ---------------------------------------------------------------------------------------
# NumPy's rules for the other arguments, to the letter (checked against NumPy itself in
# tests/test_hardening.py); every check runs before anything is written.

def _c_int_error(axis):
    """np.sum's error for an axis beyond a C int: ValueError "integer won't fit into a C int"
    where it fits a C long (NumPy's normalize_axis_* raise OverflowError there), else the
    OverflowError itself ("... to convert to C long"), as np.sum."""
    items = axis if type(axis) is tuple else (axis,)
    if all(-2 ** 63 <= operator.index(a) < 2 ** 63 for a in items):
        return ValueError("integer won't fit into a C int")
    return None


def normalize_axis_index(axis, ndim):
    """NumPy's normalize_axis_index with np.sum's errors (_c_int_error)."""
    try:
        return _np_axis_index(axis, ndim)
    except OverflowError:
        e = _c_int_error(axis)
        if e is None:
            raise
        raise e from None


def normalize_axis_tuple(axis, ndim, allow_duplicate=False):
    """NumPy's normalize_axis_tuple with np.sum's errors (_c_int_error)."""
    try:
        return _np_axis_tuple(axis, ndim, allow_duplicate=allow_duplicate)
    except OverflowError:
        e = _c_int_error(axis)
        if e is None:
            raise
        raise e from None


def axis_index(axis, ndim):
    """One integer axis (the losses' class axis, one_hot's new axis) with np.sum's errors:
    TypeError for a bool, a float, a tuple or a string, AxisError out of range."""
    if isinstance(axis, (bool, np.bool_)):
        raise TypeError("an integer is required")
    return normalize_axis_index(operator.index(axis), ndim)


def reduction_axes(axis, ndim):
    """The reduced axes as a sorted tuple, with np.sum's errors: AxisError out of range,
    ValueError for a duplicate, TypeError for a float, a list or a bool (True is not 1)."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if type(axis) is tuple else (axis,)
    for item in items:
        if isinstance(item, (bool, np.bool_)):
            raise TypeError("an integer is required")
        operator.index(item)             # np.sum's TypeError for a float, a list, a string
    if type(axis) is tuple:
        axes = normalize_axis_tuple(axis, ndim, allow_duplicate=True)
        if len(set(axes)) != len(axes):
            raise ValueError("duplicate value in 'axis'")
        return tuple(sorted(axes))
    return (normalize_axis_index(axis, ndim),)


def flag(value):
    """A yes/no argument (keepdims, return_sign) as np.sum takes keepdims: a bool or an
    integer (operator.index); a string, float, None or list is NumPy's TypeError.  One
    deliberate difference: np.bool_ is taken (np.sum refuses it, SciPy's logsumexp takes it)."""
    if value is True or value is False:
        return value
    if isinstance(value, np.bool_):        # np.sum refuses it; SciPy takes it, and it is no coercion
        return bool(value)
    return bool(_index(value))


def _index(value):
    if isinstance(value, float):         # np.float64 too: NumPy's wording for both
        raise TypeError("integer argument expected, got float")
    return operator.index(value)


def where_mask(where, shape):
    """`where=` as a boolean array of `shape`.  As NumPy's ufuncs: an ndarray must already be
    boolean (an int or float array is a TypeError: NumPy refuses the 'safe' cast), while
    Python scalars and lists are converted by truth value."""
    if isinstance(where, np.ndarray) and where.dtype != np.bool_:
        what = "scalar" if where.ndim == 0 else "array data"
        raise TypeError(f"Cannot cast {what} from {where.dtype!r} to dtype('bool') according to the rule 'safe'")
    return np.broadcast_to(np.asarray(where, dtype=bool), shape)


def real_param(value, name, func):
    """A numeric parameter (negative_slope, alpha, beta, ...) as a float: a real number
    (bool, int, float, NumPy scalar or 0-d array), else TypeError; a string is not a number."""
    if isinstance(value, (int, float, np.integer, np.floating)) or (
            isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf"):
        return float(value)
    raise TypeError(f"fastact.{func}() argument '{name}' must be a real number, not {type(value).__name__!r}")


def thread_count(n):
    """set_num_threads' argument: an integer (operator.index), not a bool or a float."""
    if isinstance(n, (bool, np.bool_)):
        raise TypeError(f"set_num_threads() takes an integer, not {type(n).__name__!r}")
    return _index(n)
