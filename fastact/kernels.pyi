"""Type stubs for fastact.kernels, the compiled module of the C kernels (its C-level functions
are for `cimport`: fastact/kernels.pxd).  Its Python-level names are these."""
from typing import Any

OPS: tuple[str, ...]
UNARY_OPS: tuple[str, ...]
BINARY_OPS: tuple[str, ...]
AXIS_OPS: tuple[str, ...]
KINDS: tuple[str, ...]
PARAMS: tuple[tuple[str, ...], ...]
ISA_NAMES: tuple[str, ...]
C_API_VERSION: int
C_ABI_VERSION: int
THREADS_MAX: int
__pyx_capi__: dict[str, Any]
__test__: dict[str, Any]

def isa_info() -> dict[str, Any]: ...
def set_isa(name: str | None) -> str: ...
def threads_info() -> dict[str, Any]: ...
def set_num_threads(n: int) -> int: ...
def get_num_threads() -> int: ...
