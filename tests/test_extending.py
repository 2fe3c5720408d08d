"""Downstream extensions built during the test run against the installed fastact.

Like SciPy's test_extending.py: the two consumers of examples/embedding/ (a Cython
module using `from fastact.kernels cimport ...`, a two-file C module using
fastact.h + import_fastact()) are compiled with setuptools in a temporary folder,
with only what an installed fastact provides (fastact.get_include(), the .pxd on
the import path), then called row by row without the GIL and compared with the
Python API bit for bit.  Each extension is built once per session (module fixtures);
the C module is built twice more against edited copies of the headers, to check
that import_fastact() refuses an installed fastact that is too old or incompatible.
"""
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

import fastact
from fastact import kernels

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # setuptools' own

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "embedding"
# the folder holding the fastact package under test, so that the builds see the same one
FASTACT_PARENT = str(Path(fastact.__file__).resolve().parents[1])
DTYPES = [np.float32, np.float64]
UINT_OF = {np.float32: np.uint32, np.float64: np.uint64}


def build(example, workdir, edit_setup=None):
    """Copy examples/embedding/<example> to workdir, build it in place, import it."""
    shutil.copytree(EXAMPLES / example, workdir,
                    ignore=shutil.ignore_patterns("build", "*.so", "fastact_rows_cy.c"))
    if edit_setup is not None:
        setup_py = workdir / "setup.py"
        setup_py.write_text(edit_setup(setup_py.read_text()))
    env = dict(os.environ)
    env["PYTHONPATH"] = FASTACT_PARENT + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    run = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=workdir,
                         env=env, capture_output=True, text=True)
    if run.returncode != 0:
        pytest.fail(f"building {example} failed:\n{run.stdout}\n{run.stderr}")
    name = {"c": "fastact_rows_c", "cython": "fastact_rows_cy"}[example]
    return workdir / (name + sysconfig.get_config_var("EXT_SUFFIX"))


def load(path):
    """Import an extension module from its file (a fresh module object each time)."""
    name = path.name.split(".")[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def c_ext_path(tmp_path_factory):
    return build("c", tmp_path_factory.mktemp("ext") / "c")


@pytest.fixture(scope="module")
def cython_ext_path(tmp_path_factory):
    return build("cython", tmp_path_factory.mktemp("ext") / "cython")


@pytest.fixture(params=["c", "cython"])
def consumer(request):
    return load(request.getfixturevalue(f"{request.param}_ext_path"))


def rows_input(dtype):
    """Rows of awkward lengths (vector tails) with normal values, extremes and specials."""
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((13, 37)) * 8).astype(dtype)
    info = np.finfo(dtype)
    x[1, :6] = [np.inf, -np.inf, np.nan, info.max, -info.max, info.tiny]
    x[2] = -np.inf
    x[3, 5] = np.inf
    x[4] = 0.0
    return x


def whole_array(name, x):
    """The Python API's result for a row-wise function along the last axis of x."""
    return getattr(fastact, name)(x, axis=-1)


def assert_same_bits(actual, expected):
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    udtype = UINT_OF[actual.dtype.type]
    np.testing.assert_array_equal(actual.view(udtype), expected.view(udtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_elementwise_rows_match_python_api(consumer, dtype, isa):
    x = rows_input(dtype)
    out = np.full_like(x, 7)
    consumer.sigmoid_rows(x, out)
    assert_same_bits(out, fastact.sigmoid(x))
    consumer.leaky_relu_rows(x, out, 0.125)
    assert_same_bits(out, fastact.leaky_relu(x, negative_slope=0.125))


@pytest.mark.parametrize("name", ["softmax", "logsumexp"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_rowwise_per_row_calls_match_whole_array(consumer, name, dtype, isa):
    x = rows_input(dtype)
    out = np.full(x.shape if name == "softmax" else x.shape[:1], 7, dtype)
    getattr(consumer, f"{name}_rows")(x, out)
    assert_same_bits(out, whole_array(name, x))


def test_in_place(consumer):
    x = rows_input(np.float64)
    expected = fastact.sigmoid(x)
    consumer.sigmoid_rows(x, x)
    assert_same_bits(x, expected)


def test_c_consumer_runs_the_variant_the_python_api_runs(c_ext_path, isa):
    assert load(c_ext_path).isa_in_use() == fastact.simd_info()["current"] == isa


def test_missing_capsule_is_an_import_error(c_ext_path, monkeypatch):
    """An installed fastact from before the C API: ImportError, not AttributeError."""
    monkeypatch.delattr(kernels, "_C_API")
    with pytest.raises(ImportError, match=r"no C API capsule \(fastact\.kernels\._C_API\).*"
                                          rf"C API version {kernels.C_API_VERSION}\)"):
        load(c_ext_path)


@pytest.fixture(scope="module")
def include_copy(tmp_path_factory):
    """An editable copy of fastact.get_include() and a setup.py edit pointing at it."""
    def make(edit_header, edit_list):
        inc = tmp_path_factory.mktemp("include")
        for header, edit in (("fastact.h", edit_header), ("fastact_functions.h", edit_list)):
            text = (Path(fastact.get_include()) / header).read_text()
            new = edit(text)
            assert new != text or edit is str
            (inc / header).write_text(new)
        for other in Path(fastact.get_include()).glob("*.h"):    # the rest (fastact_kinds.h) as is
            if not (inc / other.name).exists():
                shutil.copyfile(other, inc / other.name)
        return lambda setup: setup.replace("fastact.get_include()", repr(str(inc)))
    return make


def test_header_newer_than_installed_fastact_is_refused(include_copy, tmp_path):
    """Compiled against a fastact.h with one more list line than the installed fastact."""
    setup_edit = include_copy(str, lambda text: text + "FA_UNARY(from_a_newer_fastact, COPY, 0, _, _)\n")
    path = build("c", tmp_path / "c", setup_edit)
    old, new = kernels.C_API_VERSION, kernels.C_API_VERSION + 2
    abi = kernels.C_ABI_VERSION
    with pytest.raises(ImportError, match=(
            rf"compiled against fastact.h with C API version {new} \(ABI {abi}\), but the "
            rf"installed fastact {fastact.__version__} has C API version {old} \(ABI {abi}\); "
            r"upgrade fastact")):
        load(path)


def test_other_abi_is_refused(include_copy, tmp_path):
    abi = kernels.C_ABI_VERSION
    setup_edit = include_copy(
        lambda text: text.replace(f"#define FASTACT_ABI_VERSION {abi}\n",
                                  f"#define FASTACT_ABI_VERSION {abi + 1}\n"), str)
    path = build("c", tmp_path / "c", setup_edit)
    with pytest.raises(ImportError, match=rf"\(ABI {abi + 1}\).*\(ABI {abi}\); rebuild this module"):
        load(path)
