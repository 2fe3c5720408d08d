"""The one list of fastact's element-wise functions.

Each entry names the C kernel (a line of src_c/fastact_functions.h), the Python name
and parameters, the accuracy bound, the input domain to sweep, a high-precision
reference (given the mpmath module, so mpmath stays a test-only dependency) and the
NumPy formula a user would otherwise write (the peer in benchmarks and
`python -m fastact`).  The Python wrappers (fastact/_elementwise.py), the tests and the
benchmarks are all generated from this list.
"""
import math

INF = math.inf
SELU_ALPHA = 1.6732632423543772848170429916717  # torch.nn.SELU, Klambauer et al. 2017
SELU_SCALE = 1.0507009873554804934193349852946
GELU_TANH_C = 0.044715                          # torch's approximate='tanh'


class Param:
    """A parameter of an element-wise function: its name, default and the C value for None."""
    __slots__ = ("name", "default", "none_as")

    def __init__(self, name, default, none_as=None):
        self.name, self.default, self.none_as = name, default, none_as

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
    torch/scipy peer names (torch.nn.functional / scipy.special), doc: one line
    """
    __slots__ = ("kernel", "reference", "numpy", "public", "select", "params", "aliases", "ulp",
                 "domain", "test_params", "torch", "scipy", "doc")

    def __init__(self, kernel, reference, numpy, public=None, select=None, params=(), aliases=(),
                 ulp=4.0, domain=(-INF, INF), test_params=((),), torch=None, scipy=None, doc=""):
        self.kernel, self.reference, self.numpy, self.public, self.select = kernel, reference, numpy, public, select
        self.params, self.aliases, self.ulp, self.domain, self.test_params = params, aliases, ulp, domain, test_params
        self.torch, self.scipy, self.doc = torch, scipy, doc

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


ACTIVATIONS = (
    Activation("relu", lambda mp, x: max(x, 0), lambda np, x: np.maximum(x, 0), ulp=0,
               torch="relu", doc="max(x, 0); relu(-0.0) = -0.0"),
    Activation("relu6", lambda mp, x: min(max(x, 0), 6), lambda np, x: np.clip(x, 0, 6), ulp=0,
               torch="relu6", doc="min(max(x, 0), 6)"),
    Activation("leaky_relu", lambda mp, x, s: x if x > 0 else s * x,
               lambda np, x, s: np.where(x > 0, x, s * x),
               params=(Param("negative_slope", 0.01),), ulp=1.0,
               test_params=((0.01,), (0.2,)), torch="leaky_relu", doc="x if x > 0 else negative_slope*x"),
    Activation("hardtanh", lambda mp, x, lo, hi: min(max(x, lo), hi), lambda np, x, lo, hi: np.clip(x, lo, hi),
               params=(Param("min_val", -1.0), Param("max_val", 1.0)), ulp=0,
               test_params=((-1.0, 1.0), (-2.5, 0.5)), torch="hardtanh", doc="clamp(x, min_val, max_val)"),
    Activation("elu", lambda mp, x, a: x if x > 0 else a * mp.expm1(x),
               lambda np, x, a: np.where(x > 0, x, a * np.expm1(np.minimum(x, 0))),
               params=(Param("alpha", 1.0),), test_params=((1.0,), (0.5,)), torch="elu",
               doc="x if x > 0 else alpha*expm1(x)"),
    Activation("selu", lambda mp, x: SELU_SCALE * (x if x > 0 else SELU_ALPHA * mp.expm1(x)),
               lambda np, x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
               torch="selu", doc="scale*elu(x, alpha) with torch's constants"),
    Activation("celu", lambda mp, x, a: max(x, 0) + min(0, a * mp.expm1(x / a)),
               lambda np, x, a: np.maximum(x, 0) + np.minimum(0, a * np.expm1(np.minimum(x, 0) / a)),
               params=(Param("alpha", 1.0),), test_params=((1.0,), (0.5,)), torch="celu",
               doc="max(0,x) + min(0, alpha*expm1(x/alpha))"),
    Activation("sigmoid", lambda mp, x: 1 / (1 + mp.exp(-x)), lambda np, x: 1 / (1 + np.exp(-x)),
               aliases=("expit",), torch="sigmoid", scipy="expit", doc="1/(1+exp(-x))"),
    Activation("log_sigmoid", lambda mp, x: -mp.log1p(mp.exp(-x)), lambda np, x: -np.logaddexp(0, -x),
               aliases=("log_expit",), torch="logsigmoid", scipy="log_expit", doc="-softplus(-x)"),
    Activation("logit", _logit_ref, _np_logit, params=(Param("eps", None, none_as=-1.0),),
               domain=(0.0, 1.0), test_params=((None,), (1e-6,)), torch="logit", scipy="logit",
               doc="log(p/(1-p)); eps clamps p to [eps, 1-eps] (torch; 1-eps rounded to float64)"),
    Activation("tanh", lambda mp, x: mp.tanh(x), lambda np, x: np.tanh(x), torch="tanh", doc="tanh(x)"),
    Activation("softplus", _softplus_ref, _np_softplus,
               params=(Param("beta", 1.0), Param("threshold", None, none_as=INF)),
               test_params=((1.0, None), (2.0, None), (1.0, 20.0), (-1.5, None)), torch="softplus",
               doc="log1p(exp(beta*x))/beta; a number for threshold gives torch's linear cut-off"),
    Activation("softsign", lambda mp, x: x / (1 + abs(x)), lambda np, x: x / (1 + np.abs(x)),
               torch="softsign", doc="x/(1+|x|)"),
    Activation("silu", lambda mp, x: x / (1 + mp.exp(-x)), lambda np, x: x / (1 + np.exp(-x)),
               aliases=("swish",), torch="silu", doc="x*sigmoid(x)"),
    Activation("gelu", _gelu_ref, lambda np, x: _np_gelu(np, x),
               select=("approximate", "none"), torch="gelu", doc="x/2*erfc(-x/sqrt(2))"),
    Activation("gelu_tanh",
               lambda mp, x: x / (1 + mp.exp(-2 * mp.sqrt(2 / mp.pi) * (x + GELU_TANH_C * x ** 3))),
               lambda np, x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + GELU_TANH_C * x ** 3))),
               public="gelu", select=("approximate", "tanh"), ulp=8.0, torch="gelu",
               doc="x/2*(1+tanh(sqrt(2/pi)*(x+0.044715x^3))), computed as x*sigmoid(2u)"),
    Activation("mish", lambda mp, x: x * mp.tanh(mp.log1p(mp.exp(x))),
               lambda np, x: x * np.tanh(np.logaddexp(0, x)), ulp=8.0, torch="mish",
               doc="x*tanh(softplus(x))"),
    Activation("hardsigmoid", lambda mp, x: min(max(x + 3, 0), 6) / 6,
               lambda np, x: np.clip(x + 3, 0, 6) / 6, torch="hardsigmoid", doc="relu6(x+3)/6"),
    Activation("hardswish", lambda mp, x: x * min(max(x + 3, 0), 6) / 6,
               lambda np, x: x * np.clip(x + 3, 0, 6) / 6, torch="hardswish", doc="x*relu6(x+3)/6"),
)

BY_KERNEL = {a.kernel: a for a in ACTIVATIONS}


class Gradient:
    """The derivative of an element-wise function times grad_output (an FA_BINARY kernel:
    y = f'(x) g), next to its forward.  Adding one = one row here + its vector function
    beside the forward's in its src_c/activations/ family file (+ its FA_BINARY line).

    kernel      C name fa_<kernel>_<f32|f64>, and the Python name
    forward     the Activation (kernel name) it differentiates; its params, test_params
                and domain apply
    reference   (mp, x, *params) -> mpf, the exact f'(x)
    numpy       (np, x, *params) -> ndarray, f'(x) as a user would write it
    ulp         max error bound of y = f'(x) g against the exact f'(x) times g
    torch       the torch.ops.aten backward a test compares with (None: none), doc: one line
    """
    __slots__ = ("kernel", "forward", "reference", "numpy", "ulp", "torch", "doc")

    def __init__(self, kernel, forward, reference, numpy, ulp=4.0, torch=None, doc=""):
        self.kernel, self.forward, self.reference, self.numpy = kernel, forward, reference, numpy
        self.ulp, self.torch, self.doc = ulp, torch, doc

    def __repr__(self):
        return f"Gradient({self.kernel!r})"

    @property
    def name(self):
        return self.kernel


def _sigmoid_grad_ref(mp, x):
    e = mp.exp(-abs(x))
    return e / (1 + e) ** 2


GRADIENTS = (
    Gradient("sigmoid_grad", "sigmoid", _sigmoid_grad_ref, lambda np, x: np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))) ** 2,
             ulp=3.0, torch="sigmoid_backward", doc="sigmoid'(x) grad_output = sigmoid(x) (1 - sigmoid(x)) grad_output"),
)

GRAD_BY_KERNEL = {g.kernel: g for g in GRADIENTS}
