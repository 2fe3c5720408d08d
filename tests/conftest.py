"""Shared fixtures: every available kernel variant in turn, restored afterwards."""
import pytest

import fastact as fa

ISAS = fa.simd_info()["available"]


@pytest.fixture(params=ISAS)
def isa(request):
    """Run the test on each kernel variant this machine supports."""
    before = fa.simd_info()["current"]
    fa.set_isa(request.param)
    yield request.param
    fa.set_isa(before)
