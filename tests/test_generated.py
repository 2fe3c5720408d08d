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


def test_aliases_are_the_same_functions_and_public_module():
    assert fastact.expit is fastact.sigmoid and fastact.swish_grad is fastact.silu_grad
    assert fastact.relu.__module__ == "fastact"


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
