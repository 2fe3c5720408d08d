"""The one list of fastact's element-wise functions.

Each entry names the C kernel, its cost class, the Python name and parameters (with their
stub types and domain checks), the accuracy bound, the input domain to sweep, a
high-precision reference (given the mpmath module, so mpmath stays a test-only dependency),
the NumPy formula a user would otherwise write (the peer in benchmarks and `python -m
fastact`), and what the tests hold it to beyond the reference: the special values, the
derivative's limits and kink values, monotonicity and range.

Adding an element-wise function is a row here (an Activation, and a Gradient for its
derivative) plus its vector functions in one src_c/activations/ family file; a build
(`python setup.py build_ext --inplace`) then writes the generated files from this list:
the element-wise lines of src_c/fastact_functions.h (the C list), the Python wrappers
fastact/_generated.py and the stubs fastact/__init__.pyi (tools/gen_wrappers.py).  The
tests and the benchmarks read the rows directly.
"""
import math

INF = math.inf
SELU_ALPHA = 1.6732632423543772848170429916717  # torch.nn.SELU, Klambauer et al. 2017
SELU_SCALE = 1.0507009873554804934193349852946
GELU_TANH_C = 0.044715                          # torch's approximate='tanh'


class Param:
    """A parameter of an element-wise function: its name, default, the C value for None and
    its type in the stubs (fastact/__init__.pyi; a default of None adds "| None")."""
    __slots__ = ("name", "default", "none_as", "type")

    def __init__(self, name, default, none_as=None, type="float"):
        self.name, self.default, self.none_as, self.type = name, default, none_as, type

    def __repr__(self):
        return f"Param({self.name!r}, {self.default!r})"


class Activation:
    """One element-wise kernel (plain class, not a dataclass: `import fastact` stays fast).

    kernel      C name: fa_<kernel>_<f32|f64>
    reference   (mp, x, *params) -> mpf, the exact maths (mpmath module passed in)
    numpy       (np, x, *params) -> ndarray, the formula users write
    public      Python name if it differs (gelu_tanh -> gelu); select: (parameter, value)
                choosing this kernel under that name
    params      Param tuple; aliases: other public names
    ulp         max error bound, float32 and float64 (0: exact)
    domain      the input interval to sweep (finite inputs outside are not swept)
    test_params parameter sets the tests and benchmarks use
    cost        the C kernel's cost class (src_c/fastact_functions.h): COPY (memory-bound),
                EXP (one exp and a division), HEAVY; fa_dispatch.c splits calls over threads by it
    limits      (*params) -> ((x, exact f(x)), ...) at +-inf, +-0 and other points of note
                (tests/test_elementwise.py test_special_values): a float is the exact value (or
                its float64 rounding, held to the ULP bound), NAN, ANY_ZERO (a zero of either
                sign), or a callable (mp) -> the exact value
    check       (*params) -> None, or the message of the ValueError those parameters raise
                (torch's rules; before any work)
    increasing  True, or (*params) -> bool: monotone non-decreasing (tests/test_elementwise_properties.py)
    output_range  None, or (*params) -> (lo, hi): every result lies in [lo, hi] (None: unbounded)
    torch/scipy peer names (torch.nn.functional / scipy.special), doc: one line
    jax         the JAX peer (benchmarks): a path under the jax module ("nn.elu"), called with
                the parameters its signature names (its defaults are test_params[0]'s)
    """
    __slots__ = ("kernel", "reference", "numpy", "public", "select", "params", "aliases", "ulp",
                 "domain", "test_params", "cost", "limits", "check", "increasing", "output_range",
                 "torch", "scipy", "jax", "doc")

    def __init__(self, kernel, reference, numpy, public=None, select=None, params=(), aliases=(),
                 ulp=4.0, domain=(-INF, INF), test_params=((),), cost=None, limits=None, check=None,
                 increasing=False, output_range=None, torch=None, scipy=None, jax=None, doc=""):
        self.kernel, self.reference, self.numpy, self.public, self.select = kernel, reference, numpy, public, select
        self.params, self.aliases, self.ulp, self.domain, self.test_params = params, aliases, ulp, domain, test_params
        self.cost, self.limits, self.check, self.increasing, self.output_range = cost, limits, check, increasing, output_range
        self.torch, self.scipy, self.jax, self.doc = torch, scipy, jax, doc

    def __repr__(self):
        return f"Activation({self.kernel!r})"

    @property
    def name(self):
        return self.public or self.kernel


def _softplus_ref(mp, x, beta=1.0, threshold=None):
    if threshold is not None and beta * x > threshold:
        return x
    return mp.log1p(mp.exp(beta * x)) / beta


def _logit_ref(mp, p, eps=None):
    if eps is not None:           # torch: the bounds eps and 1 - eps are floats (1 - eps rounded)
        p = min(max(p, eps), float(1 - eps))
    if p == 1:
        return mp.inf
    return mp.log(p / (1 - p))


def _gelu_ref(mp, x):
    z = -x / mp.sqrt(2)
    if z > 1e100:  # mpmath's erfc overflows near z = 1e160; asymptotic form, relative error < 1/(2z^2)
        return x / 2 * mp.exp(-z * z) / (z * mp.sqrt(mp.pi))
    return x / 2 * mp.erfc(z)


def _np_softplus(np, x, beta=1.0, threshold=None):
    y = np.logaddexp(0, beta * x) / beta
    return y if threshold is None else np.where(beta * x > threshold, x, y)


def _np_logit(np, p, eps=None):
    if eps is not None:
        p = np.clip(p, eps, 1 - eps)
    return np.log(p / (1 - p))


def _np_gelu(np, x):
    import scipy.special as sc
    return 0.5 * x * (1 + sc.erf(x / np.sqrt(2)))


# ---- the special values (Activation.limits): the true limits, written out (docs/SPEC.md section 4)

NAN = math.nan


class _AnyZero:
    """A result that is a zero of either sign (where the maths does not fix the sign)."""
    __slots__ = ()

    def __repr__(self):
        return "ANY_ZERO"


ANY_ZERO = _AnyZero()
ODD_AT_ZERO = ((-0.0, -0.0), (0.0, 0.0))


def _minus_ln2(mp):
    return -mp.log(2)


def _logit_limits(eps):
    if eps is None:
        return ((-INF, NAN), (INF, NAN), (-0.0, -INF), (0.0, -INF), (1.0, INF), (0.5, 0.0), (-0.5, NAN), (1.5, NAN))
    at_eps = lambda mp: mp.log(eps / (1 - mp.mpf(eps)))                              # noqa: E731
    at_one_minus_eps = lambda mp: mp.log(float(1 - eps) / (1 - mp.mpf(float(1 - eps))))  # noqa: E731  (a float)
    return ((-INF, at_eps), (0.0, at_eps), (INF, at_one_minus_eps), (1.0, at_one_minus_eps), (0.5, 0.0))


def _softplus_limits(beta, threshold):
    at_zero = lambda mp: mp.log(2) / beta                                            # noqa: E731
    return ((-INF, 0.0 if beta > 0 else -INF), (INF, INF if beta > 0 else ANY_ZERO), (-0.0, at_zero), (0.0, at_zero))


def _nonzero(name, pname):
    return lambda v, *rest: f"{pname} must be nonzero for {name}" if v == 0 else None


def _celu_alpha(a):
    # CELU is defined for alpha > 0 (Barron 2017); alpha < 0 gave wrong values before
    # (celu(-1, alpha=-1) was -0.0, torch: -1.718), and torch's own values there come from
    # the same formula with e^(x/alpha) growing: rejected rather than half-supported.
    if a == 0:
        return "alpha must be nonzero for celu"
    return "alpha must be positive for celu" if a < 0 else None


def _hardtanh_bounds(lo, hi):
    if lo != lo or hi != hi:       # torch and np.clip give NaN everywhere; a NaN bound is a bug
        return "min_val and max_val must not be NaN"
    return "min_val cannot be greater than max_val" if lo > hi else None


ACTIVATIONS = (
    Activation("relu", lambda mp, x: max(x, 0), lambda np, x: np.maximum(x, 0), ulp=0, cost="COPY",
               limits=lambda: ((-INF, 0.0), (INF, INF), (-1.0, 0.0)) + ODD_AT_ZERO,   # relu(-0.0) = -0.0, as torch
               increasing=True, output_range=lambda: (0, None), torch="relu", jax="nn.relu",
               doc="max(x, 0); relu(-0.0) = -0.0"),
    Activation("relu6", lambda mp, x: min(max(x, 0), 6), lambda np, x: np.clip(x, 0, 6), ulp=0, cost="COPY",
               limits=lambda: ((-INF, 0.0), (INF, 6.0), (7.0, 6.0)) + ODD_AT_ZERO,
               increasing=True, output_range=lambda: (0, 6), torch="relu6", jax="nn.relu6", doc="min(max(x, 0), 6)"),
    Activation("leaky_relu", lambda mp, x, s: x if x > 0 else s * x,
               lambda np, x, s: np.where(x > 0, x, s * x),
               params=(Param("negative_slope", 0.01),), ulp=1.0, test_params=((0.01,), (0.2,)), cost="COPY",
               limits=lambda s: ((-INF, -INF), (INF, INF)) + ODD_AT_ZERO, increasing=True,
               torch="leaky_relu", jax="nn.leaky_relu", doc="x if x > 0 else negative_slope*x"),
    Activation("hardtanh", lambda mp, x, lo, hi: min(max(x, lo), hi), lambda np, x, lo, hi: np.clip(x, lo, hi),
               params=(Param("min_val", -1.0), Param("max_val", 1.0)), ulp=0,
               test_params=((-1.0, 1.0), (-2.5, 0.5)), cost="COPY",
               limits=lambda lo, hi: ((-INF, lo), (INF, hi)) + ODD_AT_ZERO,
               check=_hardtanh_bounds,
               increasing=True, output_range=lambda lo, hi: (lo, hi), torch="hardtanh", jax="nn.hard_tanh",
               doc="clamp(x, min_val, max_val)"),
    Activation("elu", lambda mp, x, a: x if x > 0 else a * mp.expm1(x),
               lambda np, x, a: np.where(x > 0, x, a * np.expm1(np.minimum(x, 0))),
               params=(Param("alpha", 1.0),), test_params=((1.0,), (0.5,)), cost="EXP",
               limits=lambda a: ((-INF, -a), (INF, INF)) + ODD_AT_ZERO, increasing=True,
               output_range=lambda a: (-a, None), torch="elu", jax="nn.elu", doc="x if x > 0 else alpha*expm1(x)"),
    Activation("selu", lambda mp, x: SELU_SCALE * (x if x > 0 else SELU_ALPHA * mp.expm1(x)),
               lambda np, x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))), cost="EXP",
               limits=lambda: ((-INF, lambda mp: -mp.mpf(SELU_SCALE) * SELU_ALPHA), (INF, INF)) + ODD_AT_ZERO,
               increasing=True, output_range=lambda: (-SELU_SCALE * SELU_ALPHA * (1 + 2 ** -20), None),  # the limit, rounded either way
               torch="selu", jax="nn.selu", doc="scale*elu(x, alpha) with torch's constants"),
    Activation("celu", lambda mp, x, a: max(x, 0) + min(0, a * mp.expm1(x / a)),
               lambda np, x, a: np.maximum(x, 0) + np.minimum(0, a * np.expm1(np.minimum(x, 0) / a)),
               params=(Param("alpha", 1.0),), test_params=((1.0,), (0.5,), (0.25,), (300.0,)), cost="EXP",
               limits=lambda a: ((-INF, -a), (INF, INF)) + ODD_AT_ZERO, check=_celu_alpha,
               increasing=True, output_range=lambda a: (-a, None), torch="celu", jax="nn.celu",
               doc="max(0,x) + min(0, alpha*expm1(x/alpha))"),
    Activation("sigmoid", lambda mp, x: 1 / (1 + mp.exp(-x)), lambda np, x: 1 / (1 + np.exp(-x)), cost="EXP",
               limits=lambda: ((-INF, 0.0), (INF, 1.0), (-0.0, 0.5), (0.0, 0.5)), increasing=True,
               output_range=lambda: (0, 1), aliases=("expit",), torch="sigmoid", jax="nn.sigmoid",
               scipy="expit", doc="1/(1+exp(-x))"),
    Activation("log_sigmoid", lambda mp, x: -mp.log1p(mp.exp(-x)), lambda np, x: -np.logaddexp(0, -x), cost="EXP",
               limits=lambda: ((-INF, -INF), (INF, -0.0), (-0.0, _minus_ln2), (0.0, _minus_ln2)), increasing=True,
               output_range=lambda: (None, 0), aliases=("log_expit",), torch="logsigmoid", jax="nn.log_sigmoid",
               scipy="log_expit",
               doc="-softplus(-x)"),
    Activation("logit", _logit_ref, _np_logit, params=(Param("eps", None, none_as=-1.0),),
               domain=(0.0, 1.0), test_params=((None,), (1e-6,)), cost="HEAVY", limits=_logit_limits,
               check=lambda eps: "eps must be None or in [0, 0.5)" if eps is not None and not 0 <= eps < 0.5 else None,
               increasing=True, torch="logit", jax="scipy.special.logit", scipy="logit",
               doc="log(p/(1-p)); eps clamps p to [eps, 1-eps] (torch; 1-eps rounded to float64)"),
    Activation("tanh", lambda mp, x: mp.tanh(x), lambda np, x: np.tanh(x), cost="EXP",
               limits=lambda: ((-INF, -1.0), (INF, 1.0)) + ODD_AT_ZERO, increasing=True,
               output_range=lambda: (-1, 1), torch="tanh", jax="numpy.tanh", doc="tanh(x)"),
    Activation("softplus", _softplus_ref, _np_softplus,
               params=(Param("beta", 1.0), Param("threshold", None, none_as=INF)),
               test_params=((1.0, None), (2.0, None), (1.0, 20.0), (-1.5, None)), cost="HEAVY",
               limits=_softplus_limits, check=_nonzero("softplus", "beta"),
               # torch's linear cut-off jumps down by log1p(e^-threshold)/beta at beta*x = threshold (pytorch#31110)
               increasing=lambda beta, threshold: threshold is None,
               output_range=lambda beta, threshold: (0, None) if beta > 0 else (None, 0),   # beta < 0: <= 0
               torch="softplus", jax="nn.softplus",
               doc="log1p(exp(beta*x))/beta; a number for threshold gives torch's linear cut-off"),
    Activation("softsign", lambda mp, x: x / (1 + abs(x)), lambda np, x: x / (1 + np.abs(x)), cost="COPY",
               limits=lambda: ((-INF, -1.0), (INF, 1.0)) + ODD_AT_ZERO, increasing=True,
               output_range=lambda: (-1, 1), torch="softsign", jax="nn.soft_sign", doc="x/(1+|x|)"),
    Activation("silu", lambda mp, x: x / (1 + mp.exp(-x)), lambda np, x: x / (1 + np.exp(-x)), cost="EXP",
               limits=lambda: ((-INF, -0.0), (INF, INF)) + ODD_AT_ZERO,
               aliases=("swish",), torch="silu", jax="nn.silu", doc="x*sigmoid(x)"),
    Activation("gelu", _gelu_ref, lambda np, x: _np_gelu(np, x), cost="HEAVY",
               limits=lambda: ((-INF, -0.0), (INF, INF)) + ODD_AT_ZERO,
               select=("approximate", "none"), torch="gelu", jax="nn.gelu", doc="x/2*erfc(-x/sqrt(2))"),
    Activation("gelu_tanh",
               lambda mp, x: x / (1 + mp.exp(-2 * mp.sqrt(2 / mp.pi) * (x + GELU_TANH_C * x ** 3))),
               lambda np, x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + GELU_TANH_C * x ** 3))),
               public="gelu", select=("approximate", "tanh"), ulp=8.0, cost="HEAVY",
               limits=lambda: ((-INF, -0.0), (INF, INF)) + ODD_AT_ZERO, torch="gelu", jax="nn.gelu",
               doc="x/2*(1+tanh(sqrt(2/pi)*(x+0.044715x^3))), computed as x*sigmoid(2u)"),
    Activation("mish", lambda mp, x: x * mp.tanh(mp.log1p(mp.exp(x))),
               lambda np, x: x * np.tanh(np.logaddexp(0, x)), ulp=8.0, cost="HEAVY",
               limits=lambda: ((-INF, -0.0), (INF, INF)) + ODD_AT_ZERO, torch="mish", jax="nn.mish",
               doc="x*tanh(softplus(x))"),
    Activation("hardsigmoid", lambda mp, x: min(max(x + 3, 0), 6) / 6,
               lambda np, x: np.clip(x + 3, 0, 6) / 6, cost="COPY",
               limits=lambda: ((-INF, 0.0), (INF, 1.0), (-0.0, 0.5), (0.0, 0.5), (-3.0, 0.0), (3.0, 1.0)),
               increasing=True, output_range=lambda: (0, 1), torch="hardsigmoid", jax="nn.hard_sigmoid",
               doc="relu6(x+3)/6"),
    Activation("hardswish", lambda mp, x: x * min(max(x + 3, 0), 6) / 6,
               lambda np, x: x * np.clip(x + 3, 0, 6) / 6, cost="COPY",
               limits=lambda: ((-INF, ANY_ZERO), (INF, INF), (-3.0, ANY_ZERO), (3.0, 3.0)) + ODD_AT_ZERO,
               torch="hardswish", jax="nn.hard_swish", doc="x*relu6(x+3)/6"),
)

BY_KERNEL = {a.kernel: a for a in ACTIVATIONS}


def jax_peer(entry, jax, params=None):
    """The JAX peer of an activation (benchmarks, tests): entry.jax resolved under the `jax`
    module passed in (never imported here), as a function of x with the parameters its
    signature names (default: entry.test_params[0], JAX's own defaults) and gelu's
    `approximate` as JAX's bool; None if entry has no peer.  ValueError for a parameter JAX's
    function lacks (hardtanh's bounds, softplus's beta, logit's eps) set off its default."""
    if not entry.jax:
        return None
    import importlib
    import inspect
    *mod, name = entry.jax.split(".")
    f = getattr(importlib.import_module(".".join([jax.__name__] + mod)), name)
    names = inspect.signature(f).parameters
    values = entry.test_params[0] if params is None else params
    for p, v, default in zip(entry.params, values, entry.test_params[0]):
        if p.name not in names and v != default:
            raise ValueError(f"JAX's {entry.jax} has no {p.name}: only {p.name}={default!r} compares")
    kw = {p.name: v for p, v in zip(entry.params, values) if p.name in names}
    if entry.select and entry.select[0] in names:
        kw[entry.select[0]] = entry.select[1] == "tanh"
    return lambda x: f(x, **kw)


class Gradient:
    """The derivative of an element-wise function times grad_output (an FA_BINARY kernel:
    y = f'(x) g), next to its forward.  Adding one = one row here + its vector function
    beside the forward's in its src_c/activations/ family file (its FA_BINARY line in
    src_c/fastact_functions.h is written from this row by tools/gen_wrappers.py).
    The public name is the forward's public name + "_grad" (gelu_grad(..., approximate=)
    picks gelu_grad or gelu_tanh_grad as gelu does), with the forward's aliases + "_grad".

    kernel      C name fa_<kernel>_<f32|f64>
    forward     the Activation (kernel name) it differentiates; its params, test_params
                and domain apply
    reference   (mp, x, *params) -> mpf, the exact f'(x) (at a kink: torch's side)
    numpy       (np, x, *params) -> ndarray, f'(x) as a user would write it
    ulp         max error bound of y = f'(x) g against the exact f'(x) times g, float32 and
                float64, on the forward's domain outside `ill`
    ill         intervals (lo, hi) around the roots of f' where f'(x) is ill-conditioned
                (relative error unbounded as f' -> 0): not part of the bound
    kinks       (*params) -> tuple of x where f' jumps (the value there is torch's choice);
                finite differences skip their neighbourhood
    cost        the C kernel's cost class (as Activation.cost)
    limits      (f'(-inf), f'(+inf)) at the default parameters: the true limits, never NaN
                (None only for a forward whose domain is bounded: logit)
    kink_values {x: f'(x)} at the kinks, default parameters: torch's choice (torch.autograd of
                the forward, torch 2.x)
    doc         one line
    """
    __slots__ = ("kernel", "forward", "reference", "numpy", "ulp", "ill", "kinks", "cost", "limits",
                 "kink_values", "doc")

    def __init__(self, kernel, forward, reference, numpy, ulp=4.0, ill=(), kinks=None, cost=None, limits=None,
                 kink_values=None, doc=""):
        self.kernel, self.forward, self.reference, self.numpy = kernel, forward, reference, numpy
        self.ulp, self.ill, self.kinks, self.doc = ulp, ill, kinks or (lambda *p: ()), doc
        self.cost, self.limits, self.kink_values = cost, limits, kink_values or {}

    def __repr__(self):
        return f"Gradient({self.kernel!r})"

    @property
    def name(self):
        """The public Python name (gelu_tanh_grad's is gelu_grad, approximate='tanh')."""
        return BY_KERNEL[self.forward].name + "_grad"


def _sigmoid_grad_ref(mp, x):
    e = mp.exp(-abs(x))
    return e / (1 + e) ** 2


def _step(cond):
    return 1 if cond else 0


def _logit_grad_ref(mp, p, eps=None):
    if eps is not None and not eps <= p <= float(1 - eps):
        return 0
    if p == 0 or p == 1:
        return mp.inf
    return 1 / (p * (1 - p))


def _softplus_grad_ref(mp, x, beta=1.0, threshold=None):
    if threshold is not None and beta * x > threshold:
        return 1
    return 1 / (1 + mp.exp(-beta * x))


def _silu_grad_ref(mp, x):
    s = 1 / (1 + mp.exp(-x))
    return s * (1 + x * (1 - s))


def _gelu_grad_ref(mp, x):
    if abs(x) > 1e100:              # e^(-x^2/2) is far below any float there
        return _step(x > 0)
    return mp.ncdf(x) + x * mp.npdf(x)


def _gelu_tanh_grad_ref(mp, x):
    c1 = 2 * mp.sqrt(2 / mp.pi)
    w = c1 * (x + GELU_TANH_C * x ** 3)
    s = 1 / (1 + mp.exp(-w))
    return s + x * s * (1 - s) * c1 * (1 + 3 * GELU_TANH_C * x ** 2)


def _mish_grad_ref(mp, x):
    t = mp.tanh(mp.log1p(mp.exp(x)))
    return t + x * (1 - t * t) / (1 + mp.exp(-x))


def _np_sigmoid(np, x):
    return 1 / (1 + np.exp(-x))


def _np_gelu_grad(np, x):
    import scipy.special as sc
    return 0.5 * (1 + sc.erf(x / np.sqrt(2))) + x * np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


def _np_gelu_tanh_grad(np, x):
    c1 = np.sqrt(2 / np.pi)
    t = np.tanh(c1 * (x + GELU_TANH_C * x ** 3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c1 * (1 + 3 * GELU_TANH_C * x * x)


def _np_mish_grad(np, x):
    t = np.tanh(np.logaddexp(0, x))
    return t + x * (1 - t * t) * _np_sigmoid(np, x)


_AT_ZERO = lambda *p: (0.0,)          # noqa: E731


GRADIENTS = (
    # 2.36 ULP at g = 1, 3.30 times a grad_output (x = -13.832909, g = 1.1481943e-07: f' g just
    # below a power of two, where an ULP is half as wide relative to the value), every variant
    Gradient("sigmoid_grad", "sigmoid", _sigmoid_grad_ref, lambda np, x: np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))) ** 2,
             ulp=4.0, cost="EXP", limits=(0, 0),
             doc="sigmoid'(x) grad_output = sigmoid(x) (1 - sigmoid(x)) grad_output"),
    Gradient("relu_grad", "relu", lambda mp, x: _step(x > 0), lambda np, x: (x > 0).astype(x.dtype), ulp=0,
             kinks=_AT_ZERO, cost="COPY", limits=(0, 1), kink_values={0.0: 0.0},
             doc="grad_output where x > 0, else 0 (0 at x = 0, as torch)"),
    Gradient("relu6_grad", "relu6", lambda mp, x: _step(0 < x < 6),
             lambda np, x: ((x > 0) & (x < 6)).astype(x.dtype), ulp=0, kinks=lambda: (0.0, 6.0),
             cost="COPY", limits=(0, 0), kink_values={0.0: 0.0, 6.0: 0.0},
             doc="grad_output where 0 < x < 6, else 0 (as torch)"),
    Gradient("leaky_relu_grad", "leaky_relu", lambda mp, x, s: 1 if x > 0 else s,
             lambda np, x, s: np.where(x > 0, 1.0, s).astype(x.dtype), ulp=1.5, kinks=lambda s: (0.0,),
             cost="COPY", limits=(0.01, 1), kink_values={0.0: 0.01},
             doc="grad_output where x > 0, else negative_slope*grad_output (slope at x = 0, as torch)"),
    Gradient("hardtanh_grad", "hardtanh", lambda mp, x, lo, hi: _step(lo < x < hi),
             lambda np, x, lo, hi: ((x > lo) & (x < hi)).astype(x.dtype), ulp=0, kinks=lambda lo, hi: (lo, hi),
             cost="COPY", limits=(0, 0), kink_values={-1.0: 0.0, 1.0: 0.0},
             doc="grad_output where min_val < x < max_val, else 0 (as torch)"),
    Gradient("elu_grad", "elu", lambda mp, x, a: 1 if x > 0 else a * mp.exp(x),
             lambda np, x, a: np.where(x > 0, 1.0, a * np.exp(np.minimum(x, 0))), kinks=lambda a: (0.0,),
             cost="EXP", limits=(0, 1), kink_values={0.0: 1.0},
             doc="1 for x > 0, else alpha*exp(x) (alpha at x = 0, as torch)"),
    Gradient("selu_grad", "selu", lambda mp, x: SELU_SCALE * (1 if x > 0 else SELU_ALPHA * mp.exp(x)),
             lambda np, x: SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0))),
             kinks=_AT_ZERO, cost="EXP", limits=(0, 1.0507009873554805), kink_values={0.0: 1.0507009873554805 * 1.6732632423543772},
             doc="scale for x > 0, else scale*alpha*exp(x) (as torch at x = 0)"),
    Gradient("celu_grad", "celu", lambda mp, x, a: 1 if x > 0 else mp.exp(x / a),
             lambda np, x, a: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0) / a)), kinks=lambda a: (0.0,),
             cost="EXP", limits=(0, 1), kink_values={0.0: 1.0},
             doc="1 for x > 0, else exp(x/alpha)"),
    Gradient("log_sigmoid_grad", "log_sigmoid", lambda mp, x: 1 / (1 + mp.exp(x)),
             lambda np, x: _np_sigmoid(np, -x), cost="EXP", limits=(1, 0),
             doc="sigmoid(-x) grad_output"),
    Gradient("logit_grad", "logit", _logit_grad_ref,
             lambda np, p, eps=None: 1 / (p * (1 - p)) if eps is None else
             np.where((p >= eps) & (p <= 1 - eps), 1 / (p * (1 - p)), 0.0),
             kinks=lambda eps: () if eps is None else (eps, 1 - eps),
             cost="COPY",
             doc="grad_output/(p(1-p)); with eps, 0 outside [eps, 1-eps] (as torch)"),
    Gradient("tanh_grad", "tanh", lambda mp, x: mp.sech(x) ** 2, lambda np, x: 1 - np.tanh(x) ** 2,
             cost="EXP", limits=(0, 0),
             doc="(1 - tanh(x)^2) grad_output, as 4e/(1+e)^2 with e = exp(-2|x|)"),
    Gradient("softplus_grad", "softplus", _softplus_grad_ref,
             lambda np, x, beta=1.0, threshold=None: _np_sigmoid(np, beta * x) if threshold is None else
             np.where(beta * x > threshold, 1.0, _np_sigmoid(np, beta * x)),
             kinks=lambda beta, threshold: () if threshold is None else (threshold / beta,),
             cost="HEAVY", limits=(0, 1),
             doc="sigmoid(beta*x) grad_output (grad_output where beta*x > threshold)"),
    Gradient("softsign_grad", "softsign", lambda mp, x: 1 / (1 + abs(x)) ** 2, lambda np, x: 1 / (1 + np.abs(x)) ** 2,
             kinks=_AT_ZERO, cost="COPY", limits=(0, 0),
             doc="grad_output/(1 + |x|)^2"),
    Gradient("silu_grad", "silu", _silu_grad_ref,
             lambda np, x: _np_sigmoid(np, x) * (1 + x * (1 - _np_sigmoid(np, x))), ill=((-1.30, -1.26),),
             cost="EXP", limits=(0, 1),
             doc="s(1 + x(1 - s)) grad_output, s = sigmoid(x)"),
    Gradient("gelu_grad", "gelu", _gelu_grad_ref, _np_gelu_grad, ill=((-0.76, -0.745),),
             cost="HEAVY", limits=(0, 1),
             doc="(Phi(x) + x phi(x)) grad_output"),
    Gradient("gelu_tanh_grad", "gelu_tanh", _gelu_tanh_grad_ref, _np_gelu_tanh_grad, ill=((-0.76, -0.745),),
             cost="HEAVY", limits=(0, 1),
             doc="the derivative of the tanh form times grad_output"),
    Gradient("mish_grad", "mish", _mish_grad_ref, _np_mish_grad, ulp=8.0, ill=((-1.20, -1.185),),
             cost="HEAVY", limits=(0, 1),
             doc="(tanh(sp) + x sech(sp)^2 sigmoid(x)) grad_output, sp = softplus(x)"),
    Gradient("hardsigmoid_grad", "hardsigmoid", lambda mp, x: mp.mpf(1) / 6 if -3 < x < 3 else 0,
             lambda np, x: np.where((x > -3) & (x < 3), 1 / 6, 0.0), ulp=1.0, kinks=lambda: (-3.0, 3.0),
             cost="COPY", limits=(0, 0), kink_values={-3.0: 0.0, 3.0: 0.0},
             doc="grad_output/6 where -3 < x < 3, else 0 (as torch)"),
    Gradient("hardswish_grad", "hardswish", lambda mp, x: 0 if x <= -3 else ((2 * x + 3) / 6 if x < 3 else 1),
             lambda np, x: np.where(x <= -3, 0.0, np.where(x < 3, (2 * x + 3) / 6, 1.0)), ulp=2.0,
             ill=((-1.5 - 1e-6, -1.5 + 1e-6),), kinks=lambda: (-3.0, 3.0),
             cost="COPY", limits=(0, 1), kink_values={-3.0: 0.0, 3.0: 1.0},
             doc="(2x+3)/6 grad_output on (-3, 3), 0 at and below -3, grad_output from 3 on (as torch)"),
)

GRAD_BY_KERNEL = {g.kernel: g for g in GRADIENTS}


class OutputGradient:
    """The derivative of an element-wise function computed from its OUTPUT y = f(x) (an
    FA_BINARY kernel on (y, grad_output), no transcendental: torch's sigmoid_backward /
    tanh_backward).  Public name: the forward's public name + "_grad_from_output".

    kernel      C name fa_<kernel>_<f32|f64>
    forward     the Activation (kernel name) whose output it takes
    reference   (mp, y) -> mpf, the exact f'(x) as a function of y
    numpy       (np, y) -> ndarray, the same as a user writes it
    ulp         bound against the exact function of the given y, float32 and float64
    domain      the range of y the forward produces (swept by the tests; any y is accepted)
    cost        the C kernel's cost class (as Activation.cost)
    """
    __slots__ = ("kernel", "forward", "reference", "numpy", "ulp", "domain", "cost", "doc")

    def __init__(self, kernel, forward, reference, numpy, ulp, domain, doc, cost):
        self.kernel, self.forward, self.reference, self.numpy = kernel, forward, reference, numpy
        self.ulp, self.domain, self.doc, self.cost = ulp, domain, doc, cost

    def __repr__(self):
        return f"OutputGradient({self.kernel!r})"

    @property
    def name(self):
        return BY_KERNEL[self.forward].name + "_grad_from_output"


OUTPUT_GRADIENTS = (
    OutputGradient("sigmoid_grad_from_output", "sigmoid", lambda mp, y: y * (1 - y), lambda np, y: y * (1 - y),
                   cost="COPY", ulp=2.0, domain=(0.0, 1.0),
                   doc="y (1 - y) grad_output, y = sigmoid(x): sigmoid's derivative from its output"),
    OutputGradient("tanh_grad_from_output", "tanh", lambda mp, y: (1 - y) * (1 + y), lambda np, y: 1 - y * y,
                   cost="COPY", ulp=3.0, domain=(-1.0, 1.0),
                   doc="(1 - y)(1 + y) grad_output, y = tanh(x): tanh's derivative from its output"),
)


class Reduction:
    """A function along an axis: an FA_ROWWISE or FA_REDUCE kernel fa_<kernel>_<f32|f64> on
    rows of the last axis (fastact/_reductions.py moves any axis there).

    kernel      C name and public Python name (SciPy's signature: scipy.special.<scipy>)
    reference   (mp, row) -> list of mpf: the exact results of one row of mpf values
                (logsumexp: one value; softmax, log_softmax: one per entry)
    numpy       (np, x, axis) -> ndarray: the stable formula users write
    ulp         max error bound, float32 and float64 (docs/SPEC.md section 6)
    torch/scipy peer names (torch.<torch> / scipy.special.<scipy>), doc: one line
    """
    __slots__ = ("kernel", "reference", "numpy", "ulp", "torch", "scipy", "doc")

    def __init__(self, kernel, reference, numpy, ulp, torch=None, scipy=None, doc=""):
        self.kernel, self.reference, self.numpy, self.ulp = kernel, reference, numpy, ulp
        self.torch, self.scipy, self.doc = torch, scipy, doc

    def __repr__(self):
        return f"Reduction({self.kernel!r})"

    @property
    def name(self):
        return self.kernel


def _lse_ref(mp, row):
    return mp.log(mp.fsum(mp.exp(v) for v in row))


def _each(mp, row, f):
    lse = _lse_ref(mp, row)
    return [f(v, lse) for v in row]


def _np_shifted(np, x, axis):
    return x - np.max(x, axis=axis, keepdims=True)


def _np_softmax(np, x, axis):
    e = np.exp(_np_shifted(np, x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def _np_log_softmax(np, x, axis):
    s = _np_shifted(np, x, axis)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


def _np_logsumexp(np, x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)), axis=axis)


REDUCTIONS = (
    Reduction("softmax", lambda mp, row: _each(mp, row, lambda v, lse: mp.exp(v - lse)), _np_softmax,
              ulp=4.0, torch="softmax", scipy="softmax", doc="exp(x - logsumexp(x)) along axis"),
    Reduction("log_softmax", lambda mp, row: _each(mp, row, lambda v, lse: v - lse), _np_log_softmax,
              ulp=4.0, torch="log_softmax", scipy="log_softmax", doc="x - logsumexp(x) along axis"),
    Reduction("logsumexp", lambda mp, row: [_lse_ref(mp, row)], _np_logsumexp,
              ulp=2.0, torch="logsumexp", scipy="logsumexp", doc="log(sum(exp(x))) along axis"),
)

REDUCTION_BY_KERNEL = {r.kernel: r for r in REDUCTIONS}


# ---- binary cross-entropy with logits and one_hot (src_c/losses/, fastact/_bce.py) ----------

class BceLoss:
    """An element-wise loss of logits x and targets y of x's shape, with an optional weight
    (x's shape) and pos_weight (one per column, the last axis): an FA_BCE kernel, its FA_BCE_GRAD
    gradient kernel, and the per-entry maths the tests and benchmarks read.

    name           Python name (the gradient: name + "_grad")
    kernel         C names fa_<kernel>_<f32|f64>, fa_<grad_kernel>_<f32|f64>
    reference      (mp, x, y, pw) -> mpf, one entry's exact loss (x = +-inf: the limit)
    grad_reference (mp, x, y, pw) -> mpf, its exact derivative in x
    numpy          (np, x, y, pw) -> ndarray, the formula a NumPy user writes (pw: array or 1)
    ulp            bound per entry, float32 and float64, for y in [0, 1] and pw >= 0 (the
                   reductions 'sum' and 'mean': the same bound against the exact sum or mean of
                   the exact entries, the entries being all >= 0)
    grad_ulp       bound of the gradient, in ULPs of its larger term ((1 - y) and c s, or c s and
                   pw y: it cancels where sigmoid(x) is near pw y / c)
    torch          torch.nn.functional name, doc: one line
    """
    __slots__ = ("name", "kernel", "grad_kernel", "reference", "grad_reference", "numpy", "ulp", "grad_ulp",
                 "torch", "doc")

    def __init__(self, name, kernel, grad_kernel, reference, grad_reference, numpy, ulp, grad_ulp, torch, doc):
        self.name, self.kernel, self.grad_kernel = name, kernel, grad_kernel
        self.reference, self.grad_reference, self.numpy = reference, grad_reference, numpy
        self.ulp, self.grad_ulp, self.torch, self.doc = ulp, grad_ulp, torch, doc

    def __repr__(self):
        return f"BceLoss({self.name!r})"


def _bce_ref(mp, x, y, pw=1):
    """-(pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))) = pw y softplus(-x) + (1 - y) softplus(x)
    (the textbook form: both terms >= 0 for y in [0, 1]); at x = +-inf the limit (0 where the
    infinite term's factor is 0)."""
    if mp.isinf(x):
        k = (1 - y) if x > 0 else pw * y
        return mp.mpf(0) if k == 0 else k * mp.inf
    return pw * y * mp.log1p(mp.exp(-x)) + (1 - y) * mp.log1p(mp.exp(x))


def _bce_grad_ref(mp, x, y, pw=1):
    """(1 - y) sigmoid(x) - pw y sigmoid(-x); at x = +-inf: 1 - y, -pw y."""
    if mp.isinf(x):
        return (1 - y) if x > 0 else -pw * y
    return (1 - y) / (1 + mp.exp(-x)) - pw * y / (1 + mp.exp(x))


def _np_bce(np, x, y, pw=1):
    """torch's own formula (binary_cross_entropy_with_logits in ATen's Loss.cpp), in NumPy."""
    log_weight = (pw - 1) * y + 1
    return (1 - y) * x + log_weight * (np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0))


BCE_LOSSES = (
    BceLoss("binary_cross_entropy_with_logits", "bce_with_logits", "bce_with_logits_grad", _bce_ref,
            _bce_grad_ref, _np_bce, ulp=4.0, grad_ulp=8.0, torch="binary_cross_entropy_with_logits",
            doc="(1 - y) x + (1 + (pos_weight - 1) y) softplus(-x), times weight; exact limits at x = +-inf"),
)


class Encoding:
    """An exact kernel on integer labels (an FA_ONE_HOT kernel): name, C kernel, parameters,
    torch peer, doc."""
    __slots__ = ("name", "kernel", "params", "torch", "doc")

    def __init__(self, name, kernel, params, torch, doc):
        self.name, self.kernel, self.params, self.torch, self.doc = name, kernel, params, torch, doc

    def __repr__(self):
        return f"Encoding({self.name!r})"


ENCODINGS = (
    Encoding("one_hot", "one_hot", (Param("num_classes", None), Param("dtype", "float64"), Param("axis", -1),
                                   Param("dim", "class", type="str")),
             torch="one_hot", doc="1 where the class is the label, 0 elsewhere, along a new axis"),
)


# ---- cross-entropy and nll_loss along a class axis (src_c/losses/fa_cross_entropy.h, fastact/_losses.py) ----

class Loss:
    """A row-wise loss of a row of class scores (logits or log-probabilities) and a class target
    (int) or probability targets (the row's shape): its FA_CE-family kernels and the maths the
    tests and benchmarks read.

    name             Python name (the gradient, where there is one: name + "_grad")
    kernel           C name fa_<kernel>_<f32|f64> of the class-target loss (per-row values)
    grad_kernel      its gradient kernel (or None), which can also write the per-row losses
    prob_kernel      the probability-target loss kernel and its gradient (or None)
    prob_grad_kernel
    reference        (mp, row, target, weight, smoothing) -> mpf, one row's exact loss (target:
                     an int, or a list of probabilities; weight: a list or None)
    numpy            (np, x, target) -> per-row losses, the formula a NumPy user writes (last axis)
    ulp              bound per row, float32 and float64, against the reference
    torch, doc       torch.nn.functional name, one line
    """
    __slots__ = ("name", "kernel", "grad_kernel", "prob_kernel", "prob_grad_kernel", "reference", "numpy", "ulp",
                 "torch", "doc")

    def __init__(self, name, kernel, reference, numpy, ulp, torch, doc, grad_kernel=None, prob_kernel=None,
                 prob_grad_kernel=None):
        self.name, self.kernel, self.grad_kernel = name, kernel, grad_kernel
        self.prob_kernel, self.prob_grad_kernel = prob_kernel, prob_grad_kernel
        self.reference, self.numpy, self.ulp, self.torch, self.doc = reference, numpy, ulp, torch, doc

    def __repr__(self):
        return f"Loss({self.name!r})"

    @property
    def kernels(self):
        return tuple(k for k in (self.kernel, self.grad_kernel, self.prob_kernel, self.prob_grad_kernel) if k)


def _ce_ref(mp, row, target, weight=None, smoothing=0.0):
    """(1 - eps) w_t (lse - x_t) + eps / C' sum_{x_j > -inf} w_j (lse - x_j) for a class target;
    sum_j w_j p'_j (lse - x_j), p' = (1 - eps) p + eps / C' on the unmasked classes, 0 * inf = 0,
    for probability targets (C' = the number of logits > -inf)."""
    n = len(row)
    w = [mp.mpf(1)] * n if weight is None else [mp.mpf(v) for v in weight]
    unmasked = [j for j in range(n) if row[j] != -mp.inf]
    lse = mp.log(mp.fsum(mp.exp(mp.mpf(row[j])) for j in unmasked)) if unmasked else -mp.inf
    eps = mp.mpf(smoothing)
    if isinstance(target, (list, tuple)):
        p = [(1 - eps) * mp.mpf(v) for v in target]
        for j in unmasked:
            p[j] += eps / len(unmasked)
        return mp.fsum(w[j] * p[j] * (lse - row[j]) for j in range(n) if w[j] * p[j] != 0)
    k = (1 - eps) * w[target]
    loss = k * (lse - row[target]) if k != 0 else mp.mpf(0)
    if eps and unmasked:
        loss += eps / len(unmasked) * mp.fsum(w[j] * (lse - row[j]) for j in unmasked)
    return loss


def _np_cross_entropy(np, x, target):
    """log_softmax by the max-shifted logsumexp, then the target's entry, negated."""
    m = x.max(axis=-1, keepdims=True)
    lse = m[..., 0] + np.log(np.exp(x - m).sum(axis=-1))
    return lse - np.take_along_axis(x, target[..., None], axis=-1)[..., 0]


def _nll_ref(mp, row, target, weight=None, smoothing=0.0):
    w = 1 if weight is None else mp.mpf(weight[target])
    return mp.mpf(0) if w == 0 else -w * mp.mpf(row[target])


def _np_nll(np, x, target):
    return -np.take_along_axis(x, target[..., None], axis=-1)[..., 0]


LOSSES = (
    Loss("cross_entropy", "cross_entropy", _ce_ref, _np_cross_entropy, ulp=4.0, torch="cross_entropy",
         grad_kernel="cross_entropy_grad", prob_kernel="cross_entropy_prob", prob_grad_kernel="cross_entropy_prob_grad",
         doc="lse(x) - x[target] (class targets) or -sum p log_softmax(x) (probabilities), weights and "
             "label smoothing as torch, fused in one pass"),
    Loss("nll_loss", "nll_loss", _nll_ref, _np_nll, ulp=0.5, torch="nll_loss",
         doc="-weight[target] log_probs[target]"),
)
LOSS_BY_NAME = {e.name: e for e in LOSSES}
