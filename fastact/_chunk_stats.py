"""Per-chunk statistics for softmax / log_softmax / logsumexp along an axis split in chunks:
the thin layer between the Dask graph code (fastact/_dask.py) and the C stages
(src_c/reductions/fa_chunk_stats.h through fastact._core's chunk_* functions).

Each chunk is seen as a C-contiguous (outer, n, inner) block x3 reduced along axis 1 (as the
in-memory kernels see their input); the C stages take rows, so a block with inner > 1 is
transposed to (outer, inner, n) first (one copy of the chunk; the reduced axis of a Dask
softmax is usually last, where nothing is copied).

  per chunk   chunk_statistics     one record per slice: M_c (exact max), kept count, +inf
                                   and negative-weight flags, S_c = sum w e^(x - M_c) as a
                                   double-double, and with exact=True (logsumexp) the exact
                                   shift-0 sum S0_c for the slices that may cancel to ~0.
  combine     combine              M = max M_c, S = sum S_c e^(M_c - M) (M_c - M exact into a
                                   double-double exp), S0 = sum S0_c: nothing is lost, unlike
                                   combining per-chunk log-sum-exps.
  results     logsumexp_from_stats M + log S (log S0 where that cancels), and its sign;
              softmax_from_stats   one more task per chunk given the slice's (M, S):
                                   y = e^(x - M) / S or (x - M) - log S, never exp(x - lse).

Statistics are records of STATS (the C struct fa_chunk_rec of src_c/fa_chunk.h).  Accuracy and
special values as in memory (docs/SPEC.md sections 4 and 6); tests/test_chunk_stats.py
checks every stage against mpmath and the former NumPy reference
(tests/chunk_stats_reference.py), tests/test_dask.py the whole path on a LocalCluster.
Conventions: x3 float32 or float64 (the compute dtype); mask3 None or bool/uint8 of x3's
shape (True = kept); b3 None or weights of x3's shape (b == 0 leaves the entry out).
"""
import numpy as np

from . import _core

# fa_chunk_rec (src_c/fa_chunk.h), natural alignment
STATS = np.dtype([("M", "f8"), ("count", "i8"), ("hi", "f8"), ("lo", "f8"), ("hi0", "f8"), ("lo0", "f8"),
                  ("infsign", "i1")], align=True)
if STATS.itemsize != _core.chunk_rec_size():      # pragma: no cover (a build out of step)
    raise ImportError(f"fastact: the chunk record is {_core.chunk_rec_size()} bytes in C, "
                      f"{STATS.itemsize} in fastact/_chunk_stats.py")


def _recs(rec):
    """Records as a C-contiguous aligned STATS array (one received from another worker may
    be unaligned)."""
    return np.require(rec, dtype=STATS, requirements=("C", "A"))


def _rows(a3, dtype=None):
    """An (outer, n, inner) block as C-contiguous rows (outer * inner, n)."""
    if a3 is None:
        return None
    outer, n, inner = a3.shape
    if inner != 1:
        a3 = a3.transpose(0, 2, 1)
    # C-contiguous, aligned and native (a block received from another worker may be none of them)
    a3 = np.require(a3, dtype=np.dtype(dtype or a3.dtype).newbyteorder("="), requirements=("C", "A"))
    return a3.reshape(outer * inner, n)


def _mask_rows(mask3):
    if mask3 is None:
        return None
    return _rows(mask3.view(np.uint8) if mask3.dtype == np.bool_ else mask3.astype(bool), np.uint8)


def chunk_statistics(x3, mask3=None, b3=None, exact=False):
    """The records of a chunk's slices, shape (outer, inner) of STATS."""
    outer, n, inner = x3.shape
    rec = np.zeros(outer * inner, STATS)       # zeros: the 7 padding bytes are never garbage
    if rec.size:
        _core.chunk_stats(_rows(x3), _mask_rows(mask3), _rows(b3, x3.dtype), rec, exact)
    return rec.reshape(outer, inner)


def combine(recs):
    """The records of slices from their chunks' records: recs (..., k) -> (...)."""
    recs = _recs(recs)
    out = np.zeros(recs.shape[:-1], STATS)      # (the C writes fields; padding stays 0)
    k = recs.shape[-1]
    if out.size:
        if k == 0:
            out["M"], out["count"], out["infsign"] = -np.inf, 0, 0
            out["hi"] = out["lo"] = out["hi0"] = out["lo0"] = 0.0
        else:
            _core.chunk_combine(recs.reshape(-1), out.size, k, out.reshape(-1))
    return out


def logsumexp_from_stats(rec, return_sign=False):
    """(v, sign) float64 arrays of rec's shape: the slices' logsumexp and sign; a negative
    total gives NaN unless return_sign."""
    rec = _recs(rec)
    v = np.empty(rec.shape)
    sign = np.empty(rec.shape)
    if rec.size:
        _core.chunk_logsumexp(rec.reshape(-1), v.reshape(-1), sign.reshape(-1), return_sign)
    return v, sign


def softmax_from_stats(x3, rec, mask3=None, log=False):
    """softmax (log: log_softmax) of a chunk x3 given its slices' combined records
    (outer, inner), in x3's dtype."""
    outer, n, inner = x3.shape
    rec = _recs(rec).reshape(outer * inner)
    xr = _rows(x3)
    y = np.empty(xr.shape, x3.dtype)
    if y.size:
        _core.chunk_output(xr, _mask_rows(mask3), rec, y, log)
    if inner == 1:
        return y.reshape(outer, n, 1)
    return np.ascontiguousarray(y.reshape(outer, inner, n).transpose(0, 2, 1))
