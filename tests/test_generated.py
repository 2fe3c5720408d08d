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
    out, status = _mypy(tmp_path, SNIPPET + 'w = fa.gelu(x, approximate="cubic")\nfa.relu(x, alpha=2.0)\n')
    assert status == 1 and out.count("error:") == 2, out


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
