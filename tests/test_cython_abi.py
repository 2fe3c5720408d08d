"""The C-level functions other Cython extensions cimport are an ABI: pin their signatures.

`from fastact.kernels cimport fa_sigmoid_f32` makes the downstream module look up
fastact.kernels.__pyx_capi__["fa_sigmoid_f32"] at import and check the capsule's
name, the C signature string, against the one it was compiled with.  Changing that
string breaks every extension built against an earlier fastact, so (as SciPy's
test_cython_abi.py) this fails when a pinned name disappears or its signature
changes; new names are allowed.  Pin new names with
`PYTHONPATH=. python tests/test_cython_abi.py --pin-new` (existing entries are never
rewritten).  The internal `_fa_*` entry points of fastact._core are not pinned.
"""
import ctypes
import json
import re
import sys
from pathlib import Path

import pytest

from fastact import kernels

PINNED = Path(__file__).parent / "data" / "cython_abi_signatures.json"
MODULE = "fastact.kernels"

_capsule_name = ctypes.pythonapi.PyCapsule_GetName
_capsule_name.restype = ctypes.c_char_p
_capsule_name.argtypes = [ctypes.py_object]


def exported():
    """{name: C signature string} of the public fa_* functions in __pyx_capi__."""
    return {name: _capsule_name(capsule).decode()
            for name, capsule in kernels.__pyx_capi__.items() if name.startswith("fa_")}


def pinned():
    return json.loads(PINNED.read_text())[MODULE]


@pytest.mark.parametrize("name", sorted(pinned()))
def test_pinned_signature_unchanged(name):
    now = exported()
    assert name in now, f"{MODULE}.{name} disappeared: this breaks extensions that cimport it"
    assert now[name] == pinned()[name], f"{MODULE}.{name} changed signature"


# docs/SPEC.md section 7, written out in the form Cython gives capsule signatures
SPEC_EXAMPLES = {
    "fa_sigmoid_f32": "void (float const *, float *, ptrdiff_t)",
    "fa_leaky_relu_f64": "void (double const *, double *, ptrdiff_t, double)",
    "fa_softmax_f32": "void (float const *, float *, ptrdiff_t, ptrdiff_t)",
    "fa_logsumexp_f64": "void (double const *, double *, ptrdiff_t, ptrdiff_t)",
}


@pytest.mark.parametrize("name", sorted(SPEC_EXAMPLES))
def test_spec_examples(name):
    assert exported()[name] == SPEC_EXAMPLES[name]


# the loss kinds (docs/SPEC.md section 9), T the element type
LOSS_SIGNATURES = {
    "bce": "void ({T} const *, {T} const *, {T} const *, {T} const *, {T} *, ptrdiff_t, ptrdiff_t, int)",
    "bce_grad": "void ({T} const *, {T} const *, {T} const *, {T} const *, {T} const *, {T} *, ptrdiff_t, "
                "ptrdiff_t, double)",
    "one_hot": "void (int64_t const *, {T} *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t *)",
    "ce": "void ({T} const *, int64_t const *, {T} const *, {T} *, ptrdiff_t, ptrdiff_t, int64_t, double, "
          "ptrdiff_t *)",
    "ce_grad": "void ({T} const *, int64_t const *, {T} const *, {T} const *, {T} *, {T} *, ptrdiff_t, "
               "ptrdiff_t, int64_t, double, double, ptrdiff_t *)",
    "nll": "void ({T} const *, int64_t const *, {T} const *, {T} *, ptrdiff_t, ptrdiff_t, int64_t, ptrdiff_t *)",
    "ce_prob": "void ({T} const *, {T} const *, {T} const *, {T} *, ptrdiff_t, ptrdiff_t, double)",
    "ce_prob_grad": "void ({T} const *, {T} const *, {T} const *, {T} const *, {T} *, {T} *, ptrdiff_t, "
                    "ptrdiff_t, double, double)",
}


def test_every_function_has_both_dtypes_and_the_spec_shape():
    """fa_<name>_<f32|f64> for every function of the list, with docs/SPEC.md section 7's argument shapes."""
    sigs = exported()
    expected_names = {f"fa_{op}_{t}" for op in kernels.OPS for t in ("f32", "f64")}
    losses = {op for op, kind in zip(kernels.OPS, kernels.KINDS) if kind in LOSS_SIGNATURES}
    assert set(kernels.OPS) - losses == set(kernels.UNARY_OPS + kernels.BINARY_OPS + kernels.AXIS_OPS)
    assert set(sigs) == expected_names
    assert len(sigs) == kernels.C_API_VERSION  # the C capsule table has the same kernels
    for name, sig in sigs.items():
        ctype = {"f32": "float", "f64": "double"}[name[-3:]]
        kind = kernels.KINDS[kernels.OPS.index(name[3:-4])]
        if kind in LOSS_SIGNATURES:                      # fastact_kinds.h: FA_ARGS_<KIND>
            assert sig == LOSS_SIGNATURES[kind].format(T=ctype), (name, sig)
            continue
        head = rf"{ctype} const \*, {ctype} \*"
        if name[3:-4] in kernels.AXIS_OPS:
            tail = r", ptrdiff_t, ptrdiff_t"
        else:
            tail = r", ptrdiff_t(, double){0,2}"
        if kind in ("binary", "rowwise_grad"):          # x (or y), g, y (or out)
            head = rf"{ctype} const \*, {ctype} const \*, {ctype} \*"
        assert re.fullmatch(rf"void \({head}{tail}\)", sig), (name, sig)


def pin_new():
    data = json.loads(PINNED.read_text()) if PINNED.exists() else {MODULE: {}}
    added = {k: v for k, v in exported().items() if k not in data[MODULE]}
    data[MODULE].update(added)
    data[MODULE] = dict(sorted(data[MODULE].items()))
    PINNED.write_text(json.dumps(data, indent=1) + "\n")
    print(f"pinned {len(added)} new name(s): {', '.join(sorted(added)) or '-'}")


if __name__ == "__main__":
    if sys.argv[1:] != ["--pin-new"]:
        sys.exit(__doc__)
    pin_new()
