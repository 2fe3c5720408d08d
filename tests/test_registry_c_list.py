"""The two lists of functions agree: src_c/fastact_functions.h (the C list, which the C
tables, the capsule and kernels.pxd expand) and fastact/_registry.py (which the Python
wrappers, tests and benchmarks read).  The element-wise lines of the C list (FA_UNARY,
FA_BINARY) are written from the registry by tools/gen_wrappers.py (setup.py runs it before
compiling; the list stays checked in, so C builds need no Python): same names, parameter
names and counts, cost classes; existing lines keep their place (the ABI order) and new
kernels are appended.  The other kinds are hand-written: checked here against the registry."""
import copy
import os
import sys
import types

import pytest

from fastact import kernels
from fastact._reductions import __all__ as REDUCTIONS
from fastact import _registry
from fastact._registry import ACTIVATIONS, BCE_LOSSES, ENCODINGS, GRADIENTS, LOSSES, OUTPUT_GRADIENTS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import gen_cython_api  # noqa: E402
import gen_wrappers  # noqa: E402


def c_list():
    return gen_cython_api.read_functions(os.path.join(ROOT, "src_c"))


def c_text():
    with open(gen_wrappers.C_LIST) as f:
        return f.read()


def test_the_c_list_is_what_the_registry_writes():
    assert gen_wrappers.generate_c_list(c_text()) == c_text(), "run python tools/gen_wrappers.py"


def test_element_wise_functions_agree_in_parameters_and_cost():
    c = sorted((name, cost, params) for kind, name, cost, params in c_list() if kind == "UNARY")
    py = sorted((e.kernel, e.cost, [p.name for p in e.params]) for e in ACTIVATIONS)
    assert c == py


def test_gradients_agree_and_take_their_forward_parameters():
    c = [(name, cost, params) for kind, name, cost, params in c_list() if kind == "BINARY"]
    forward = {e.kernel: e for e in ACTIVATIONS}
    py = [(g.kernel, g.cost, [p.name for p in forward[g.forward].params]) for g in GRADIENTS]
    py += [(g.kernel, g.cost, []) for g in OUTPUT_GRADIENTS]       # from the output: no parameters
    assert sorted(c) == sorted(py)


def _registry_with(activations=None, gradients=None):
    reg = types.SimpleNamespace(**{k: getattr(_registry, k) for k in ("ACTIVATIONS", "GRADIENTS", "OUTPUT_GRADIENTS")})
    if activations is not None:
        reg.ACTIVATIONS = activations
    if gradients is not None:
        reg.GRADIENTS = gradients
    return reg


def test_a_new_registry_row_is_appended_and_existing_lines_keep_their_place():
    """A row inserted in the middle of the registry goes to the end of the C list (the capsule
    table's order is the ABI); every existing line stays as it was."""
    new = copy.copy(_registry.BY_KERNEL["hardtanh"])
    new.kernel, new.cost = "clamp_like", "COPY"
    grad = copy.copy(_registry.GRAD_BY_KERNEL["hardtanh_grad"])
    grad.kernel, grad.forward = "clamp_like_grad", "clamp_like"
    reg = _registry_with(activations=ACTIVATIONS[:4] + (new,) + ACTIVATIONS[4:],
                         gradients=GRADIENTS[:2] + (grad,) + GRADIENTS[2:])
    text = c_text()
    out = gen_wrappers.generate_c_list(text, reg)
    assert out.startswith(text)
    assert out[len(text):].split() == ["FA_UNARY(clamp_like,", "COPY,", "2,", "min_val,", "max_val)",
                                       "FA_BINARY(clamp_like_grad,", "COPY,", "2,", "min_val,", "max_val)"]


def test_a_changed_row_rewrites_its_line_in_place():
    changed = copy.copy(_registry.BY_KERNEL["logit"])
    changed.cost = "EXP"
    reg = _registry_with(activations=tuple(changed if e.kernel == "logit" else e for e in ACTIVATIONS))
    before, after = c_text().split("\n"), gen_wrappers.generate_c_list(c_text(), reg).split("\n")
    differ = [(b, a) for b, a in zip(before, after) if b != a]
    assert len(before) == len(after) and len(differ) == 1
    b, a = differ[0]
    assert b.startswith("FA_UNARY(logit,") and "HEAVY" in b
    assert a.split("/*")[0].split() == ["FA_UNARY(logit,", "EXP,", "1,", "eps,", "_)"]
    assert a.endswith(b[b.index("/*"):])                        # its comment kept


def test_a_kernel_gone_from_the_registry_is_an_error():
    reg = _registry_with(activations=tuple(e for e in ACTIVATIONS if e.kernel != "mish"),
                         gradients=tuple(g for g in GRADIENTS if g.forward != "mish"))
    with pytest.raises(ValueError, match="mish.*ABI"):
        gen_wrappers.generate_c_list(c_text(), reg)


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
