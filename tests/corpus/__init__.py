"""A corpus of realistic hand-written NumPy layers with hand-written backward passes.

Each layer (see :mod:`tests.corpus.base`) comes at a library's unit-test size and about ten times
larger, computing in float64 or float32, correct or with a named injected bug; every correct
backward is validated against torch autograd of torch's own layer in ``tests/test_corpus.py``.
The calibration sweep (``benchmarks/bench_calibration.py``, ``tests/test_calibration.py``) runs
``check_gradient`` over it.

>>> from tests.corpus import build
>>> case = build("layernorm", "small", "float64", seed=0, bug="dropped-eps")
>>> sorted(case.params)
['beta', 'gamma', 'x']
"""

from tests.corpus import activations, attention, conv, dense, losses, norm, recurrent  # noqa: F401  (registration)
from tests.corpus.base import DTYPES, LAYERS, SIZES, Case, Layer, bug_size, build, float64_reference

__all__ = ["DTYPES", "LAYERS", "SIZES", "Case", "Layer", "bug_size", "build", "float64_reference"]
