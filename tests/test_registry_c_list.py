"""The two lists of functions agree: src_c/fastact_functions.h (the C list, which the C
tables, the capsule and kernels.pxd expand) and fastact/_registry.py (which the Python
wrappers, tests and benchmarks read): same names in the same order, the same parameter
names and counts, every registry kernel in C with the kind its Python layer calls.
The C list is the hand-written one (C builds need no Python); this test is the check."""
import os
import sys

from fastact import kernels
from fastact._reductions import __all__ as REDUCTIONS
from fastact._registry import ACTIVATIONS, BCE_LOSSES, ENCODINGS, GRADIENTS, LOSSES, OUTPUT_GRADIENTS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import gen_cython_api  # noqa: E402


def c_list():
    return gen_cython_api.read_functions(os.path.join(ROOT, "src_c"))


def test_element_wise_functions_agree_in_order_and_parameters():
    c = [(name, params) for kind, name, cost, params in c_list() if kind == "UNARY"]
    py = [(e.kernel, [p.name for p in e.params]) for e in ACTIVATIONS]
    assert c == py


def test_gradients_agree_and_take_their_forward_parameters():
    c = [(name, params) for kind, name, cost, params in c_list() if kind == "BINARY"]
    forward = {e.kernel: e for e in ACTIVATIONS}
    py = [(g.kernel, [p.name for p in forward[g.forward].params]) for g in GRADIENTS]
    py += [(g.kernel, []) for g in OUTPUT_GRADIENTS]       # from the output: no parameters
    assert sorted(c) == sorted(py) and c[:len(GRADIENTS)] == py[:len(GRADIENTS)]


CE_KINDS = ("CE", "CE_GRAD", "NLL", "CE_PROB", "CE_PROB_GRAD")


def test_the_rest_of_the_c_list_is_the_reductions():
    rest = [name for kind, name, cost, params in c_list() if kind not in ("UNARY", "BINARY") + LOSS_KINDS]
    # logsumexp_grad is softmax's (or logsumexp's) kernel times grad_output: no kernel of its own
    assert sorted(rest) == sorted(set(REDUCTIONS) - {"logsumexp_grad"})


LOSS_KINDS = ("BCE", "BCE_GRAD", "ONE_HOT") + CE_KINDS


def test_the_loss_kernels_agree_with_their_registry_entries():
    c = [(kind, name) for kind, name, cost, params in c_list() if kind in LOSS_KINDS and kind not in CE_KINDS]
    py = [("BCE", e.kernel) for e in BCE_LOSSES] + [("BCE_GRAD", e.grad_kernel) for e in BCE_LOSSES] + [
        ("ONE_HOT", e.kernel) for e in ENCODINGS]
    assert sorted(c) == sorted(py)


def test_the_built_module_was_generated_from_this_list():
    assert list(kernels.OPS) == [name for _, name, _, _ in c_list()]
    assert list(kernels.PARAMS) == [tuple(p) for _, _, _, p in c_list()]


def test_every_element_wise_kernel_has_a_cost_class():
    for kind, name, cost, params in c_list():
        assert cost in (("COPY", "EXP", "HEAVY") if kind in ("UNARY", "BINARY") else ("AXIS",)), name


def test_the_row_loss_kernels_agree_with_their_registry_entries():
    c = sorted(name for kind, name, cost, params in c_list() if kind in CE_KINDS)
    assert c == sorted(k for e in LOSSES for k in e.kernels)
