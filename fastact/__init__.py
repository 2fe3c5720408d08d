"""fastact: fast, accurate activations, softmax and log-sum-exp for NumPy, in SIMD C.

    import fastact as fa
    fa.sigmoid(x)                    # element-wise, any shape, float16/32/64
    fa.gelu(x, approximate="tanh")
    fa.softmax(x, axis=-1)           # axis=None (the default) means the whole array, as SciPy
    fa.logsumexp(x, axis=-1)

Each function is a drop-in for its scipy.special / torch.nn.functional namesake; see
README.md for the accuracy and speed measured, and `fa.show_config()` for the kernel
variant (scalar, SSE2, AVX2, AVX-512) this machine runs.
"""
from . import _source_tree

if _source_tree.unbuilt(__file__):
    # the source folder of a checkout with no compiled extension (`python -m fastact` typed in
    # the checkout): hand over to an installed fastact, or say how to build (ImportError)
    _source_tree.hand_over(__name__, __file__)
else:
    from ._api import *  # noqa: F401,F403
    from ._api import __all__, __version__  # noqa: F401
