"""Result objects of :func:`gradproof.check_gradient`, with reports a person can act on."""

from __future__ import annotations

from dataclasses import dataclass, field

from gradproof.verify.options import CheckOptions


def _index_str(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]" if index else ""


def _shape_str(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return "none"
    return "×".join(str(n) for n in shape) if shape else "scalar"


@dataclass(frozen=True)
class EntryMismatch:
    """One entry where the gradient disagrees with finite differences."""

    index: tuple[int, ...]
    expected: float  # finite differences
    got: float  # the user's gradient

    def describe(self, name: str) -> str:
        return f"{name}{_index_str(self.index)} expected {self.expected:.6g} got {self.got:.6g}"


@dataclass(frozen=True)
class JacobianEntry:
    """One entry ∂output[out_index]/∂input[index] where the user's derivative disagrees."""

    output: str  # e.g. "output0"
    out_index: tuple[int, ...]
    index: tuple[int, ...]  # entry of the checked tensor
    expected: float  # finite differences
    got: float  # the user's backward (or forward-mode derivative)

    def describe(self, name: str) -> str:
        return (
            f"∂{self.output}{_index_str(self.out_index)}/∂{name}{_index_str(self.index)} "
            f"expected {self.expected:.6g} got {self.got:.6g}"
        )


@dataclass(frozen=True)
class ParameterCheck:
    """The verdict for one parameter."""

    name: str
    shape: tuple[int, ...]
    ok: bool
    error: float = 0.0  # worst directional error, relative to ‖g‖·‖v‖
    tolerance: float = 0.0  # its tolerance, same units
    directions: int = 0
    disagree: int = 0  # directions beyond tolerance
    kinks: int = 0  # directions accepted by a one-sided derivative
    diagnosis: str | None = None
    worst: tuple[EntryMismatch, ...] = ()
    grad_shape: tuple[int, ...] | None = None
    problem: str | None = None  # shape mismatch, missing key, non-finite gradient, ...
    stray: bool = False  # an entry grad returned for a name that is not a parameter
    confirmed: bool = False  # a failure that the confirmation stage measured again and upheld
    remeasured: int = 0  # screen failures measured again (and, for a pass, not upheld)
    low_precision: bool = False  # the function computes in less than float64
    noise: float = 0.0  # its measured relative rounding noise
    resolution: float = 0.0  # relative error ‖Δg‖/‖g‖ below which a wrong gradient may pass unseen
    noun: str = "parameter"  # what the checked tensor is called: "parameter", "input", ...
    jacobian: tuple[JacobianEntry, ...] = ()  # worst Jacobian entries, for functions with outputs
    rounded_to: str = ""  # the dtype whose grid the loss's values lie on, when coarser than their type's
    silent: float = 0.0  # the loss did not change at all within this distance of the point (0.0: it did)

    @property
    def kink(self) -> bool:
        return self.kinks > 0

    def __str__(self) -> str:
        head = f"{self.noun} {self.name!r} (shape {_shape_str(self.shape)})"
        if self.problem is not None:
            text = f"gradient check FAILED for {head}: {self.problem}"
            if self.diagnosis:
                text += f". Likely cause: {self.diagnosis}"
            return text + "."
        if self.ok:
            text = (
                f"gradient check passed for {head}: directional error {self.error:.1e} ≤ tolerance "
                f"{self.tolerance:.1e} ({self.directions} directions)"
            )
            if self.kinks:
                text += (
                    f"; along {self.kinks} of {self.directions} directions the differences behave as at or near "
                    "a kink (non-differentiable point), and the gradient matches a one-sided derivative there"
                )
            if self.remeasured:
                text += (
                    f"; {self.remeasured} direction{'s' if self.remeasured != 1 else ''} beyond the first "
                    "screen's tolerance, measured again with a careful noise estimate, agree"
                )
            if self.silent:
                text += (
                    f"; the loss returned exactly the same value at every probe point (steps up to {self.silent:.1e} "
                    "along a random direction), so its rounding there could not be measured: float64's rounding of "
                    "values the size of the loss and of the input was assumed, and slopes too small to move the loss "
                    "past it over the steps taken could not be resolved"
                )
            if self.low_precision and self.resolution > 0:
                text += (
                    f"; errors below about {self.resolution:.0e} of the gradient's norm are not resolvable in this "
                    "code's precision"
                )
            return text + "."
        confirmed = ", confirmed by re-measurement" if self.confirmed else ""
        text = (
            f"gradient check FAILED for {head}: directional error {self.error:.1e} > tolerance "
            f"{self.tolerance:.1e}{confirmed} ({self.disagree}/{self.directions} directions disagree)."
        )
        if self.diagnosis:
            text += f" Likely cause: {self.diagnosis}."
        if self.worst:
            text += " Worst entries: " + "; ".join(w.describe(self.name) for w in self.worst) + "."
        if self.jacobian:
            text += " Worst Jacobian entries: " + "; ".join(j.describe(self.name) for j in self.jacobian) + "."
        return text


@dataclass(frozen=True)
class GradientCheck:
    """What :func:`gradproof.check_gradient` found: truthy when every parameter passed."""

    parameters: tuple[ParameterCheck, ...]
    options: CheckOptions = field(default_factory=CheckOptions)
    precision: str = ""  # how the loss was evaluated, in words
    evaluations: int = 0  # loss calls spent
    noun: str = "parameter"  # what the checked tensors are called in the report

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.parameters)

    @property
    def failures(self) -> tuple[ParameterCheck, ...]:
        return tuple(p for p in self.parameters if not p.ok)

    @property
    def kink(self) -> bool:
        return any(p.kink for p in self.parameters)

    def __bool__(self) -> bool:
        return self.ok

    def __getitem__(self, name: str) -> ParameterCheck:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    def __str__(self) -> str:
        params = [p for p in self.parameters if not p.stray]
        n = len(params)
        if self.ok:
            head = (
                f"gradient check passed: {n} {self.noun}{'s agree' if n != 1 else ' agrees'} with finite differences"
            )
        else:
            failed = [p for p in params if not p.ok]
            bad = ", ".join(repr(p.name) for p in failed)
            plural = "s" if n != 1 else ""
            head = f"gradient check FAILED for {len(failed)} of {n} {self.noun}{plural}: {bad}" if failed else (
                "gradient check FAILED"
            )
            stray = [p.name for p in self.parameters if p.stray]
            if stray:
                verb = "is" if len(stray) == 1 else "are"
                head += f"; grad also returned {', '.join(map(repr, stray))}, which {verb} not a {self.noun}"
        lines = [f"{head} (seed {self.options.seed}; {self.precision}; {self.evaluations} loss evaluations)"]
        # failures first: they are what a reader acts on
        for p in sorted(self.parameters, key=lambda p: p.ok):
            lines.append("  " + str(p))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self) if not self.ok else f"<GradientCheck passed: {len(self.parameters)} {self.noun}s>"

    # -- notebooks: the verdict first, then one row per parameter (failures first) ---------------

    _HEADERS = ("parameter", "shape", "verdict", "directional error", "tolerance", "directions disagreeing",
                "likely cause / details")

    def _rows(self) -> list[list[str]]:
        rows = []
        for p in sorted(self.parameters, key=lambda p: p.ok):
            if p.problem is not None:
                verdict, err, tol, dirs = "FAILED", "", "", ""
                details = p.problem + (f"; likely cause: {p.diagnosis}" if p.diagnosis else "")
            else:
                verdict = ("ok" + (" (at a kink)" if p.kinks else "")) if p.ok else "FAILED"
                err, tol = f"{p.error:.1e}", f"{p.tolerance:.1e}"
                dirs = f"{p.disagree}/{p.directions}"
                details = p.diagnosis or ""
                if p.worst:
                    details += ("; " if details else "") + "worst entries: " + "; ".join(
                        w.describe(p.name) for w in p.worst)
                if p.jacobian:
                    details += "; worst Jacobian entries: " + "; ".join(j.describe(p.name) for j in p.jacobian)
                if p.kinks and p.ok:
                    details = f"accepted along {p.kinks} direction(s) by a one-sided derivative"
            if p.stray:
                details = "returned by grad but not a parameter" + (f"; {details}" if details else "")
            rows.append([p.name, _shape_str(p.shape), verdict, err, tol, dirs, details])
        return rows

    def _repr_markdown_(self) -> str:
        from gradproof.display import markdown_table, md_escape

        head = str(self).splitlines()[0]
        verdict = f"**{md_escape(head)}**"
        return verdict + "\n\n" + markdown_table((self.noun, *self._HEADERS[1:]), self._rows()) + "\n"

    def _repr_html_(self) -> str:
        from gradproof.display import html_table

        head = str(self).splitlines()[0]
        return html_table((self.noun, *self._HEADERS[1:]), self._rows(), verdict=head, ok=self.ok, numeric=(3, 4, 5))
