"""fastact/_generated.py is what tools/gen_wrappers.py makes of fastact/_registry.py today,
and its wrappers are real source (inspect.getsource, tracebacks)."""
import inspect
import os
import sys

import pytest

import fastact

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import gen_wrappers  # noqa: E402


def test_generated_module_is_not_stale():
    with open(os.path.join(ROOT, "fastact", "_generated.py")) as f:
        assert f.read() == gen_wrappers.generate_source(), "run python tools/gen_wrappers.py"


def test_check_flag_reports_stale(tmp_path, monkeypatch):
    assert gen_wrappers.main(["--check"]) == 0
    stale = tmp_path / "_generated.py"
    stale.write_text("# edited by hand\n")
    monkeypatch.setattr(gen_wrappers, "TARGET", str(stale))
    assert gen_wrappers.main(["--check"]) == 1


def test_getsource_and_traceback_point_at_the_generated_file():
    src = inspect.getsource(fastact.leaky_relu)
    assert src.startswith("def leaky_relu(x, negative_slope=0.01, out=None):")
    assert inspect.getsourcefile(fastact.gelu_grad).endswith(os.path.join("fastact", "_generated.py"))
    try:
        fastact.gelu([1.0], approximate="cubic")
    except ValueError as e:
        tb = e.__traceback__
        while tb.tb_next:
            tb = tb.tb_next
        assert tb.tb_frame.f_code.co_filename.endswith("_generated.py")
    else:
        raise AssertionError("gelu(approximate='cubic') did not raise")


ALIASES = {"expit": "sigmoid", "log_expit": "log_sigmoid", "swish": "silu",
           "expit_grad": "sigmoid_grad", "log_expit_grad": "log_sigmoid_grad", "swish_grad": "silu_grad"}


def test_aliases_are_the_registrys():
    from fastact import _registry
    forward = {a: e.name for e in _registry.ACTIVATIONS for a in e.aliases}
    assert {**forward, **{a + "_grad": n + "_grad" for a, n in forward.items()}} == ALIASES
    assert fastact.relu.__module__ == "fastact"


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_alias_computes_its_function_and_errors_name_the_alias(alias):
    """expit was `expit = sigmoid`: fa.expit(x, out=int_array) said 'Cannot cast fastact.sigmoid
    output', naming a function the user never called.  Each alias is its own def now."""
    import numpy as np
    f, target = getattr(fastact, alias), getattr(fastact, ALIASES[alias])
    assert f.__name__ == alias and f.__module__ == "fastact" and f is not target
    assert inspect.signature(f) == inspect.signature(target)
    assert f"fastact.{ALIASES[alias]}" in f.__doc__
    x = np.linspace(-30, 30, 61)
    for dtype in (np.float16, np.float32, np.float64):
        assert f(x.astype(dtype)).tobytes() == target(x.astype(dtype)).tobytes()
    out = np.empty(61)
    assert f(x, out=out) is out and out.tobytes() == target(x).tobytes()
    args = (np.ones(2),) if alias.endswith("_grad") else ()
    cases = [
        (TypeError, lambda: f(np.array(["a", "b"]), *args)),               # dtype (apply_*)
        (TypeError, lambda: f(np.ones(2), *args, out=np.ones(2, int))),    # out dtype (check_out)
    ]
    try:
        import dask.array as da
        cases.append((TypeError, lambda: f(da.ones(2), *args, out=np.ones(2))))   # out= with dask
    except ImportError:
        pass
    for exc, call in cases:
        with pytest.raises(exc) as info:
            call()
        message = str(info.value)
        assert f"fastact.{alias}" in message and f"fastact.{ALIASES[alias]}" not in message, message


def test_stubs_are_not_stale():
    with open(os.path.join(ROOT, "fastact", "__init__.pyi")) as f:
        assert f.read() == gen_wrappers.generate_stubs(), "run python tools/gen_wrappers.py"
    assert os.path.exists(os.path.join(ROOT, "fastact", "py.typed"))


def test_every_parameter_has_a_type():
    unknown = set()
    gen_wrappers.generate_stubs(unknown)
    assert not unknown, f"give these a type (Param.type in fastact/_registry.py, else PARAM_TYPES in tools/gen_wrappers.py): {sorted(unknown)}"


SNIPPET = '''
from typing import Any
import numpy as np
import numpy.typing as npt
import fastact as fa

x: npt.NDArray[np.float32] = np.zeros(4, np.float32)
y: npt.NDArray[np.float32] = np.zeros(4, np.float32)
r: npt.NDArray[np.float32] = fa.gelu(x, approximate="tanh", out=y)
g = fa.silu_grad(x, y)
v, s = fa.logsumexp(x, axis=0, return_sign=True)
z = fa.softmax([[1.0, 2.0]], axis=(0, 1)) + fa.logsumexp(x, axis=0)
n: int = fa.set_num_threads(1)
info: dict[str, object] = fa.simd_info()
logits = np.zeros((3, 4))
t = np.zeros(3, np.int64)
total: float = float(fa.logsumexp(x))            # a NumPy scalar (axis=None), not an ndarray
lse: np.inexact[Any] = fa.logsumexp(x)
mean: np.floating[Any] = fa.cross_entropy(logits, t)
loss, grad = fa.cross_entropy(logits, t, return_grad=True)
step: npt.NDArray[Any] = grad * float(loss)
p: np.floating[Any] = fa.sigmoid(0.5)
per_row = fa.cross_entropy(logits, t, reduction="none")
scores = fa.softmax(logits, dim="class") if False else None   # xarray's dims are names
fa.set_isa(None)
'''


def _mypy(tmp_path, source):
    api = pytest.importorskip("mypy.api")
    path = tmp_path / "snippet.py"
    path.write_text(source)
    env_path = os.environ.get("MYPYPATH")
    os.environ["MYPYPATH"] = ROOT
    try:
        out, err, status = api.run(["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(path)])
    finally:
        if env_path is None:
            del os.environ["MYPYPATH"]
        else:
            os.environ["MYPYPATH"] = env_path
    return out + err, status


def test_mypy_strict_accepts_typed_usage_and_rejects_a_wrong_call(tmp_path):
    out, status = _mypy(tmp_path, SNIPPET)
    assert status == 0, out
    wrong = ['w = fa.gelu(x, approximate="cubic")', "fa.relu(x, alpha=2.0)",
             "lse_array: npt.NDArray[Any] = fa.logsumexp(x)",           # a NumPy scalar
             "loss_array: npt.NDArray[Any] = fa.nll_loss(logits, t)"]   # 'mean': a NumPy scalar
    out, status = _mypy(tmp_path, SNIPPET + "\n".join(wrong) + "\n")
    first = SNIPPET.count("\n") + 1
    lines = {int(line.split(":")[1]) for line in out.splitlines() if ": error:" in line}
    assert status == 1 and lines == set(range(first, first + len(wrong))), out


# calls whose declared return type (mypy's reveal_type) must describe what they return at run time
TYPED_CALLS = """
fa.logsumexp(x)
fa.logsumexp(x, return_sign=True)
fa.logsumexp(X, axis=1)
fa.logsumexp(x, axis=0)
fa.logsumexp(X, axis=1, return_sign=True)
fa.logsumexp(x + 1j)
fa.softmax(X, axis=-1)
fa.softmax(1.5)
fa.log_softmax(np.float32(1.5))
fa.sigmoid(0.5)
fa.expit(2)
fa.sigmoid(np.float32(0.5))
fa.sigmoid(x)
fa.sigmoid([0.5, 1.0])
fa.sigmoid(1.0, out=np.empty(()))
fa.gelu(1.0, approximate="tanh")
fa.gelu_grad(2.0, 3.0)
fa.gelu_grad(x, 3.0)
fa.sigmoid_grad_from_output(0.25)
fa.softmax_grad(1.0, 2.0)
fa.softmax_grad(X, X, axis=1)
fa.logsumexp_grad(x)
fa.logsumexp_grad(2.0)
fa.cross_entropy(X, t)
fa.cross_entropy(X, t, reduction="sum")
fa.cross_entropy(X, t, reduction="none")
fa.cross_entropy(X[0], t[0], reduction="none")
fa.cross_entropy(X, t, return_grad=True)
fa.cross_entropy(X, t, reduction="none", return_grad=True)
fa.cross_entropy_grad(X, t)
fa.nll_loss(X, t)
fa.nll_loss(X, t, reduction="none")
fa.binary_cross_entropy_with_logits(X, X)
fa.binary_cross_entropy_with_logits(X, X, reduction="none")
fa.binary_cross_entropy_with_logits(1.0, 0.0, reduction="none")
fa.binary_cross_entropy_with_logits_grad(X, X)
fa.binary_cross_entropy_with_logits_grad(1.0, 0.0)
fa.one_hot(t, 4)
""".strip().splitlines()


def _split_top(text):
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    return parts + [text[start:].strip()]


def _matches(value, declared):
    """value is of the (revealed) type `declared`."""
    import numpy as np
    if declared == "Any":
        return True
    if declared.startswith("tuple["):
        items = _split_top(declared[len("tuple["):-1])
        return type(value) is tuple and len(value) == len(items) and all(map(_matches, value, items))
    kinds = {"numpy.ndarray": np.ndarray, "numpy.floating": np.floating, "numpy.inexact": np.inexact}
    return isinstance(value, kinds[declared.split("[", 1)[0]])


def test_declared_return_types_are_what_the_calls_return(tmp_path):
    """The stubs said NDArray for every function, while a 0-d result is a NumPy scalar:
    logsumexp(x) with axis=None, a 'mean' / 'sum' loss, an element-wise call on a scalar.  For
    each call: mypy's revealed type, checked against the value the call returns."""
    import re
    import numpy as np
    head = ("import numpy as np\nimport fastact as fa\nx = np.linspace(-2, 2, 5)\n"
            "X = np.arange(12.0).reshape(3, 4)\nt = np.array([0, 3, 1])\n")
    out, _ = _mypy(tmp_path, head + "".join(f"reveal_type({c})\n" for c in TYPED_CALLS))
    first = head.count("\n") + 1
    revealed = {int(m.group(1)) - first: m.group(2)
                for m in re.finditer(r":(\d+): note: Revealed type is \"(.*)\"", out)}
    assert sorted(revealed) == list(range(len(TYPED_CALLS))), out
    env = {"np": np, "fa": fastact}
    exec(head, env)
    for i, call in enumerate(TYPED_CALLS):
        declared = re.sub(r"numpy\.ndarray\[.*\]$", "numpy.ndarray", revealed[i]) if "tuple" not in revealed[i] \
            else revealed[i]
        assert _matches(eval(call, env), declared), (call, revealed[i], type(eval(call, env)))
    declared = dict(zip(TYPED_CALLS, (revealed[i] for i in range(len(TYPED_CALLS)))))
    assert declared["fa.logsumexp(x)"].startswith("numpy.inexact")       # the cases of the report
    assert declared["fa.cross_entropy(X, t)"].startswith("numpy.floating")
    assert declared["fa.sigmoid(x)"].startswith("numpy.ndarray")


def test_kernels_submodule_has_stubs_matching_the_runtime():
    """fastact ships py.typed, but fastact.kernels (a public submodule: `import fastact.kernels`,
    the cimport target) had no stub: mypy said 'Module "fastact" has no attribute "kernels"' and
    stubtest 'fastact.kernels failed to find stubs' (fifth differential fuzz)."""
    import ast
    from fastact import kernels
    with open(os.path.join(ROOT, "fastact", "kernels.pyi")) as f:
        tree = ast.parse(f.read())
    names = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    names.update({n.target.id: n for n in tree.body if isinstance(n, ast.AnnAssign)})
    public = {n for n in dir(kernels) if not n.startswith("_") and n != "operator"} | {"__pyx_capi__", "__test__"}
    assert public == set(names)
    for name, node in names.items():
        if isinstance(node, ast.FunctionDef):
            runtime = [p.name for p in inspect.signature(getattr(kernels, name)).parameters.values()]
            assert [a.arg for a in node.args.args] == runtime, name
