"""Counting: the learnable parameters of a multi-layer perceptron, and the memory that training
it with plain gradient descent needs."""

from __future__ import annotations

import sympy as sp

from gradproof.derivations.model import (
    Assumption,
    Definition,
    Derivation,
    ExampleSpec,
    IdentityClaim,
    Input,
    Step,
)

# -- parameter count ----------------------------------------------------------------------------

K = sp.Symbol("K", integer=True, positive=True)  # layers, counting the input layer
l = sp.Symbol("l", integer=True, positive=True)  # noqa: E741 - the lectures' layer index
a, b = sp.symbols("a b", integer=True, positive=True)
width = sp.IndexedBase("n", integer=True, positive=True)
_prev = sp.Add(l, -1, evaluate=False)  # printed n_{l - 1}, not n_{-1 + l}
P = sp.Symbol("P", integer=True, positive=True)
N_WEIGHTS = sp.Symbol("N_W", integer=True, positive=True)
N_BIASES = sp.Symbol("N_b", integer=True, positive=True)
N_NEURONS = sp.Symbol("N_neurons", integer=True, positive=True)

# entries counted one by one: W_l is n_l × n_{l-1} (row a, column b), b_l has n_l entries
_weight_entries = sp.Sum(sp.Sum(1, (b, 1, width[_prev])), (a, 1, width[l]))
_bias_entries = sp.Sum(1, (a, 1, width[l]))
WEIGHTS = sp.Sum(width[_prev] * width[l], (l, 2, K))
BIASES = sp.Sum(width[l], (l, 2, K))


def parameter_count() -> Derivation:
    return Derivation(
        name="mlp-parameter-count",
        title="Parameters of a multi-layer perceptron",
        summary=r"A fully connected network with layer widths $n_1$ (inputs), $n_2, \ldots, n_K$ has "
        r"$\sum_l n_{l-1} n_l$ weights (one per edge between consecutive layers) and $\sum_l n_l$ biases "
        r"(one per neuron), $l = 2, \ldots, K$. For the lecture's 3-4-2 network that is $20 + 6 = 26$ learnable "
        "parameters; the count fixes the memory that parameters and gradients take in training.",
        statement=sp.Eq(P, sp.Add(WEIGHTS, BIASES, evaluate=False)),
        steps=(
            Step(N_NEURONS, BIASES, "every layer after the input has $n_l$ neurons"),
            Step(
                N_WEIGHTS,
                sp.Sum(_weight_entries, (l, 2, K)),
                "$W_l$ connects every neuron of layer $l - 1$ to every neuron of layer $l$: one weight per edge",
            ),
            Step(N_WEIGHTS, WEIGHTS, r"an $n_l \times n_{l-1}$ matrix has $n_{l-1} n_l$ entries"),
            Step(N_BIASES, sp.Sum(_bias_entries, (l, 2, K)), "one bias per neuron: $b_l$ has $n_l$ entries"),
            Step(N_BIASES, BIASES, "count the entries"),
            Step(
                P,
                sp.Add(N_WEIGHTS, N_BIASES, evaluate=False),
                "the learnable parameters are the weights and biases",
            ),
            Step(
                P, sp.Sum(width[_prev] * width[l] + width[l], (l, 2, K)), "collect the counts layer by layer"
            ),
            Step(P, sp.Add(WEIGHTS, BIASES, evaluate=False), "split the sum"),
        ),
        inputs=(Input(width, (K,), "count", "layer widths n_1 (inputs), …, n_K (outputs)"),),
        definitions=(
            Definition(N_WEIGHTS, (), sp.Sum(_weight_entries, (l, 2, K)), r"N_W = number of weights"),
            Definition(N_BIASES, (), sp.Sum(_bias_entries, (l, 2, K)), r"N_b = number of biases"),
            Definition(
                N_NEURONS,
                (),
                sp.Sum(_bias_entries, (l, 2, K)),
                r"N_{neurons} = neurons after the input layer",
            ),
            Definition(P, (), sp.Add(N_WEIGHTS, N_BIASES), r"P = N_W + N_b"),
        ),
        assumptions=(Assumption(r"fully connected layers: $W_l$ has shape $n_l \times n_{l-1}$, $b_l$ has $n_l$ "
                                "entries"),),
        sizes={K: 3},
        claims=(
            IdentityClaim(P, WEIGHTS + BIASES, label="P = Σ n_{l-1} n_l + Σ n_l"),
            IdentityClaim(N_WEIGHTS, WEIGHTS, label="weights = Σ n_{l-1} n_l"),
            IdentityClaim(N_BIASES, N_NEURONS, label="one bias per neuron"),
        ),
        result=(P, ()),
        example_specs=(
            ExampleSpec(
                "Lecture network 3-4-2 (3 inputs, 4 hidden neurons, 2 outputs)",
                {"n": [3, 4, 2]},
                (
                    ("neurons", N_NEURONS, ()),
                    ("weights", WEIGHTS, ()),
                    ("biases", BIASES, ()),
                    ("learnable parameters", P, ()),
                ),
            ),
            ExampleSpec(
                "MNIST-sized 784-100-10",
                {"n": [784, 100, 10]},
                (("weights", WEIGHTS, ()), ("biases", BIASES, ()), ("learnable parameters", P, ())),
            ),
        ),
        notes=(
            "Layer 1 is the input layer: it has no weights or biases of its own, "
            "so every sum starts at $l = 2$.",
        ),
        symbols=(
            (width, "layer widths n_1 (inputs) … n_K (outputs)"),
            (K, "number of layers, input included"),
            (P, "learnable parameters"),
            (N_WEIGHTS, "weights"),
            (N_BIASES, "biases"),
            (N_NEURONS, "neurons after the input layer"),
        ),
    )


# -- training memory ----------------------------------------------------------------------------

n_params = sp.Symbol("P", positive=True)
bytes_per_number = sp.Symbol("b", positive=True)
sample_bytes = sp.Symbol("S", positive=True)
batch = sp.Symbol("B", positive=True)
M_PARAMS, M_GRADS, M_ACTS, M_INPUT, M_TRAIN = sp.symbols(
    "M_params M_grads M_acts M_input M_train", positive=True
)

MEMORY = sp.Add(
    sp.Mul(batch + 2, n_params, bytes_per_number, evaluate=False), batch * sample_bytes, evaluate=False
)
GB = 10**9  # the lecture's GB: 1 parameter × 4 bytes × 300 billion = 1,200 GB means 10^9 bytes
PB_IN_GB = 1024**2  # the lecture's PB: 1,203,400 GB = 1.15 PB means 1024² GB


def _memory_example(title: str, samples: int, bytes_each: int, *, petabytes: bool) -> ExampleSpec:
    quantities = [
        ("parameters [GB]", M_PARAMS / GB, ()),
        ("gradients [GB]", M_GRADS / GB, ()),
        ("activations, at most [GB]", M_ACTS / GB, ()),
        ("input [GB]", M_INPUT / GB, ()),
        ("memory [GB]", MEMORY / GB, ()),
    ]
    if petabytes:
        quantities.append(("memory [PB = 1024² GB]", MEMORY / (GB * PB_IN_GB), ()))
    return ExampleSpec(
        title,
        {"P": 300e9, "b": float(bytes_each), "S": 1e9, "B": float(samples)},
        tuple(quantities),
        note="GB = $10^9$ bytes (decimal); PB = $1024^2$ GB (binary step, as in the lecture)"
        if petabytes
        else "GB = $10^9$ bytes (decimal)",
    )


def training_memory() -> Derivation:
    return Derivation(
        name="training-memory",
        title="Memory to train with gradient descent",
        summary="Training with plain gradient descent must hold the parameters, their gradients (same "
        "shape; one copy, since only the batch mean is needed), the activations of every sample in the "
        r"batch (each at most the parameters' size) and the input samples: at most $(B + 2) P b + B S$ "
        "bytes for $P$ parameters of $b$ bytes, batches of $B$ samples of $S$ bytes. For 300 billion "
        "parameters and 1 GB samples: 3,601 GB (single) / 7,201 GB (double) for one sample per step, and "
        r"1,203,400 GB $\approx$ 1.15 PB / 2,405,800 GB $\approx$ 2.29 PB for 1,000.",
        statement=sp.Eq(M_TRAIN, MEMORY),
        steps=(
            Step(
                M_PARAMS,
                n_params * bytes_per_number,
                "$P$ numbers of $b$ bytes each ($b = 4$ single, 8 double precision)",
            ),
            Step(
                M_GRADS,
                n_params * bytes_per_number,
                r"$\frac{\partial L}{\partial w}$ has the shape of $w$; the per-sample gradients are summed into one buffer, "
                "since only their mean is used",
            ),
            Step(
                M_ACTS,
                batch * n_params * bytes_per_number,
                "each sample's activations are kept for backpropagation; "
                "budget $P$ numbers per sample, their upper bound",
            ),
            Step(M_INPUT, batch * sample_bytes, "the $B$ input samples of the step"),
            Step(
                M_TRAIN,
                sp.Add(M_PARAMS, M_GRADS, M_ACTS, M_INPUT, evaluate=False),
                "everything that must be in memory during one step",
            ),
            Step(
                M_TRAIN,
                sp.Add(
                    n_params * bytes_per_number,
                    n_params * bytes_per_number,
                    sp.Mul(batch, n_params * bytes_per_number, evaluate=False),
                    batch * sample_bytes,
                    evaluate=False,
                ),
                "substitute the four parts",
            ),
            Step(M_TRAIN, MEMORY, "collect the terms in $P b$"),
        ),
        inputs=(
            Input(n_params, (), "count", "number of parameters P"),
            Input(bytes_per_number, (), "count", "bytes per number b: 4 (single) or 8 (double precision)"),
            Input(sample_bytes, (), "positive", "bytes per input sample S"),
            Input(batch, (), "count", "samples per step B"),
        ),
        definitions=(
            Definition(M_PARAMS, (), n_params * bytes_per_number, r"M_{params} = P b"),
            Definition(M_GRADS, (), n_params * bytes_per_number, r"M_{grads} = P b"),
            Definition(
                M_ACTS,
                (),
                batch * n_params * bytes_per_number,
                r"M_{acts} = B P b, the budget for activations (at most P numbers per sample)",
            ),
            Definition(M_INPUT, (), batch * sample_bytes, r"M_{input} = B S"),
            Definition(
                M_TRAIN,
                (),
                M_PARAMS + M_GRADS + M_ACTS + M_INPUT,
                r"M_{train} = M_{params} + M_{grads} + M_{acts} + M_{input}",
            ),
        ),
        assumptions=(
            Assumption("plain gradient descent: no optimizer state (no momentum or Adam moments)"),
            Assumption(
                "one sample's activations take at most as many numbers as there are parameters "
                "(the lecture's bound; in an MLP each neuron's output is matched by its own bias)"
            ),
            Assumption(r"activations are bounded above, so $M_{train}$ is the memory that is certainly enough"),
        ),
        claims=(IdentityClaim(M_TRAIN, MEMORY, label="M_train = (B + 2) P b + B S"),),
        result=(M_TRAIN, ()),
        example_specs=(
            _memory_example(
                "300 billion parameters, 1 GB samples, 1 sample per step, single precision",
                1,
                4,
                petabytes=False,
            ),
            _memory_example(
                "300 billion parameters, 1 GB samples, 1 sample per step, double precision",
                1,
                8,
                petabytes=False,
            ),
            _memory_example(
                "300 billion parameters, 1 GB samples, 1,000 samples per step, single precision",
                1000,
                4,
                petabytes=True,
            ),
            _memory_example(
                "300 billion parameters, 1 GB samples, 1,000 samples per step, double precision",
                1000,
                8,
                petabytes=True,
            ),
        ),
        notes=(
            r"Units: GB here is decimal, $10^9$ bytes (300 billion $\times$ 4 bytes $= 1.2 \cdot 10^{12}$ bytes "
            "= 1,200 GB), while the lecture's PB is $1024^2$ GB (binary step): 1,203,400 GB = 1.15 PB that way, "
            "1.20 PB with decimal PB ($10^6$ GB).",
            "With $B$ samples per step the gradient buffer stays one copy (gradients are accumulated), but "
            "every sample's activations must be kept until its backward pass: $B$ copies.",
        ),
        symbols=(
            (n_params, "number of parameters"),
            (bytes_per_number, "bytes per number"),
            (sample_bytes, "bytes per input sample"),
            (batch, "samples per step"),
            (M_TRAIN, "bytes needed for one training step"),
        ),
    )


def build() -> list[Derivation]:
    return [parameter_count(), training_memory()]
