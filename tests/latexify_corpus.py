"""The latexify guard's corpus: code latexify-py 0.4.4 typesets wrongly (refused, each with the
words its refusal must contain) and code it typesets rightly (rendered, with the LaTeX expected).

Every entry records what latexify-py printed when it was added, so a reader can see the mistake.
Real-code entries are marked with where they come from.
"""

# ruff: noqa: E731
from __future__ import annotations

import functools
import math

import numpy as np
from numpy.linalg import inv


def _twice(f):
    @functools.wraps(f)
    def wrapper(*a):
        return 2 * f(*a)

    return wrapper


def _doubled(f):
    def wrapper(x):
        return 2 * f(x)

    return wrapper


# ---------------------------------------------------------------------------- refused
def positional_only(x, /, y):  # latexify: f(y) = x + y
    return x + y


@_twice
def decorated(x):  # latexify: decorated(x) = x + 1 (the doubling is lost)
    return x + 1


@_doubled
def doubled(x):  # latexify: wrapper(x) = 2 f(x), f being the undecorated function
    return x + 1


def sum_start(x):  # latexify: \sum(x, 1) (the start value as an operand)
    return sum(x, 1)


def sum_times(a, b):  # latexify: \sum a \cdot b (is b inside the sum?)
    return np.sum(a) * b


def neg_exp_times(a, b):  # latexify: -\exp a b (reads as exp(ab))
    return -np.exp(a) * b


def exp_sum_times(x):  # latexify: \exp \sum x \cdot 2
    return np.exp(np.sum(x)) * 2


def generator_sum_times(x, n):  # latexify: \sum_{i = 0}^{n - 1} (x_i) \cdot 2
    return sum(x[i] for i in range(n)) * 2


def last_entry(x):  # latexify: x_{-1}
    return x[-1]


def log_base(x):  # latexify: \log(x, 2)
    return math.log(x, 2)


def inv_times(A, b):  # latexify: A^{-1} \cdot b, exactly as inv(A) @ b
    return inv(A) * b


def mod_times(a, b):  # latexify: a % b \cdot 2 (reads as a mod 2b)
    return a % b * 2


def index_of_sum(x):  # latexify: x + 1_{0}
    return (x + 1)[0]


def index_of_call(x):  # latexify: \exp x_{0} (hides that exp applies first)
    return np.exp(x)[0]


def index_none(x):  # latexify: x_{None}
    return x[None]


def reassigned(x):  # latexify: y = x + 1 \\ y = y \cdot 2 (a false equation)
    y = x + 1
    y = y * 2
    return y


def augmented(x):  # latexify: y = x \\ y = y + 1
    y = x
    y += 1
    return y


def parameter_reassigned(x):  # latexify: x = x - 1 (false)
    x = x - 1
    return x**2


def entry_assigned(x):  # latexify: x_{0} = 1 \\ f(x) = x (the change is invisible)
    x[0] = 1
    return x


def complex_constant(x):  # latexify: 1j x
    return 1j * x


# from the existing corpus: keywords, receivers, axes, loops, strings
def softmax_axis(z):  # latexify: \frac{e}{\sum()} (keyword and receiver lost)
    e = np.exp(z - np.max(z))
    return e / e.sum(axis=-1, keepdims=True)


def transpose_attr(a, b):  # latexify: a b.T
    return a @ b.T


# real code (numpy-ml style, public neural-network layers)
def stable_sigmoid_real(z):  # a numerically stable sigmoid as written in public layers: renders
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def layer_norm_real(x, g, b, eps):  # keyword arguments (axis=, keepdims=) as written in the wild
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.var(x, axis=-1, keepdims=True)
    return g * (x - mu) / np.sqrt(var + eps) + b


def last_logit_real(logits):  # "logits[-1]" as in sequence models
    return np.exp(logits[-1]) / np.sum(np.exp(logits))


def clipped_ce_real(y_true, y_pred):  # the usual clip-then-log (public cross-entropy code)
    y_pred = np.clip(y_pred, 1e-7, 1 - 1e-7)  # latexify: y_pred = clip(y_pred, ...), a false equation
    return -np.sum(y_true * np.log(y_pred)) / len(y_true)


# ---------------------------------------------------------------------------- rendered
def ce_batch_real(targets, predictions, n):  # public cross-entropy code: 1e-5 repaired
    loss = -np.sum(np.sum(targets * np.log(predictions + 1e-5))) / n
    return loss


def logsumexp_real(z):  # nested prefix functions with nothing after them: unambiguous
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m)))


def bce(p, y):
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def softmax(z):
    return np.exp(z) / np.sum(np.exp(z))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def times_exp(a, b):  # the factor first: unambiguous
    return b * np.exp(a)


def exp_of_sum_times(a, b, c):  # brackets around the argument: unambiguous
    return np.exp(a + c) * b


def sum_over(a, b):  # a fraction ends with a brace
    return np.sum(a) / b


def eps_constant(x):  # latexify prints 1e-08, which reads as 1·e − 8: repaired to 10^{-8}
    return x + 1e-08


def small_constant(x, y):
    return 2.5e-05 * x + y


def log2_of(x):
    return math.log2(x)


def inv_matmul(A, b):
    return inv(A) @ b


def previous_entry(x, i):
    return x[i - 1]


def two_steps(x):
    y = x + 1
    return y * 2


@functools.lru_cache
def cached_square(x):
    return x**2


#: function name -> ("refuse", words the message must contain) or ("render", LaTeX it must contain);
#: "def+k" stands for "line N" with N the line k below the function's ``def``
EXPECT = {
    "positional_only": ("refuse", ["positional-only parameter 'x'", "def+0"]),
    "decorated": ("refuse", ["decorator @_twice", "def-1"]),
    "doubled": ("refuse", ["wrapper uses 'f' from an enclosing function", "def+0"]),
    "sum_start": ("refuse", ["sum(x, 1)", "start value", "def+1"]),
    "sum_times": ("refuse", ["np.sum(a) * b", "np.sum(a) without brackets", "def+1"]),
    "neg_exp_times": ("refuse", ["-np.exp(a) * b", "np.exp(a) without brackets", "def+1"]),
    "exp_sum_times": ("refuse", ["np.sum(x) without brackets", "def+1"]),
    "generator_sum_times": ("refuse", ["without brackets", "def+1"]),
    "last_entry": ("refuse", ["negative index x[-1]", "def+1"]),
    "log_base": ("refuse", ["math.log(x, 2)", "the base", "math.log2", "def+1"]),
    "inv_times": ("refuse", ["matrix product", "inv(A) * b", "inv_times"]),
    "mod_times": ("refuse", ["a % b * 2", "def+1"]),
    "index_of_sum": ("refuse", ["index of a computed value (x + 1)[0]", "def+1"]),
    "index_of_call": ("refuse", ["index of a computed value np.exp(x)[0]", "def+1"]),
    "index_none": ("refuse", ["index None", "def+1"]),
    "reassigned": ("refuse", ["'y' assigned again", "def+2", "already assigned on def+1"]),
    "augmented": ("refuse", ["augmented assignment y += 1", "y = y + 1", "def+2"]),
    "parameter_reassigned": ("refuse", ["'x' assigned again", "a parameter", "def+1"]),
    "entry_assigned": ("refuse", ["assignment to x[0]", "def+1"]),
    "complex_constant": ("refuse", ["complex constant 1j", "def+1"]),
    "softmax_axis": ("refuse", ["axis=", "keepdims=", "method call e.sum", "def+2"]),
    "transpose_attr": ("refuse", ["attribute b.T", "def+1"]),
    "stable_sigmoid_real": ("render", r"\mathrm{np}.\mathrm{where}"),
    "layer_norm_real": ("refuse", ["axis=", "def+1", "def+2"]),
    "last_logit_real": ("refuse", ["negative index logits[-1]", "def+1"]),
    "clipped_ce_real": ("refuse", ["'y_pred' assigned again", "a parameter", "def+1"]),
    "ce_batch_real": ("render", r"\log \mathopen{}\left( \mathrm{predictions} + 10^{-5} \mathclose{}\right)"),
    "logsumexp_real": ("render", r"m + \log \sum \exp \mathopen{}\left( z - m \mathclose{}\right)"),
    "bce": ("render", r"-\mathopen{}\left( y \cdot \log p + \mathopen{}\left( 1 - y \mathclose{}\right) \log"),
    "softmax": ("render", r"\frac{\exp z}{\sum \exp z}"),
    "sigmoid": ("render", r"\frac{1}{1 + \exp \mathopen{}\left( -z \mathclose{}\right)}"),
    "times_exp": ("render", r"b \cdot \exp a"),
    "exp_of_sum_times": ("render", r"\exp \mathopen{}\left( a + c \mathclose{}\right) \cdot b"),
    "sum_over": ("render", r"\frac{\sum a}{b}"),
    "eps_constant": ("render", r"x + 10^{-8}"),
    "small_constant": ("render", r"2.5 \times 10^{-5} x + y"),
    "log2_of": ("render", r"\log_2 x"),
    "inv_matmul": ("render", r"\mathbf{A}^{-1} \cdot b"),
    "previous_entry": ("render", r"x_{i - 1}"),
    "two_steps": ("render", r"y = x + 1 \\ \mathrm{two\_steps}(x) = y \cdot 2"),
    "cached_square": ("render", r"\mathrm{cached\_square}(x) = x^{2}"),
}
