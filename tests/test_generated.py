"""fastact/_generated.py is what tools/gen_wrappers.py makes of fastact/_registry.py today,
and its wrappers are real source (inspect.getsource, tracebacks)."""
import inspect
import os
import sys

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
