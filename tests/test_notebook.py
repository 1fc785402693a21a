"""Jupyter: a real notebook executed headless on a real kernel (nbclient + ipykernel), one
execution for every case; the outputs' MIME types and content are what a student sees."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat (with nbclient) is in the [test] extra")
nbclient = pytest.importorskip("nbclient", reason="nbclient is in the [test] extra")
pytest.importorskip("ipykernel", reason="ipykernel is in the [test] extra")

ROOT = Path(__file__).resolve().parents[1]

CELLS = [
    # the kernel imports this checkout's gradproof, not an installed one
    f"import sys; sys.path.insert(0, {str(ROOT)!r})\nimport numpy as np, gradproof\ngradproof.__file__",
    'gradproof.derivation("softmax-jacobian")',
    """rng = np.random.default_rng(0)
X, y = rng.normal(size=(32, 5)), rng.normal(size=32)
def loss(p):
    return 0.5 * np.mean((X @ p["w"] + p["b"] - y) ** 2)
def grad(p):
    r = X @ p["w"] + p["b"] - y
    return {"w": X.T @ r, "b": r.mean()}  # a sum where the loss takes a mean
gradproof.check_gradient(loss, grad, {"w": np.ones(5), "b": np.array(0.5)})""",
    """def good(p):
    r = X @ p["w"] + p["b"] - y
    return {"w": X.T @ r / len(y), "b": r.mean()}
gradproof.check_gradient(loss, good, {"w": np.ones(5), "b": np.array(0.5)})""",
    'gradproof.bias_variance_experiment(n_datasets=200, device="cpu")',
]


@pytest.fixture(scope="module")
def outputs():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    out = []
    for cell in nb.cells:
        results = [o for o in cell.outputs if o.output_type == "execute_result"]
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, "\n".join("\n".join(e.traceback) for e in errors)
        assert len(results) == 1
        out.append(results[0].data)
    return out


def test_kernel_uses_this_checkout(outputs):
    assert str(ROOT) in outputs[0]["text/plain"]


def test_derivation_displays_as_markdown_and_latex(outputs):
    data = outputs[1]
    assert {"text/markdown", "text/latex", "text/plain"} <= set(data)
    md = data["text/markdown"]
    assert md.startswith("### Jacobian of the softmax")
    assert "$$\n\\begin{aligned}" in md and "\\end{aligned}\n$$" in md
    assert "\\delta_{ij}" in md and "\\text{(definition of } s_i" in md
    assert "| quantity | value |" in md and "| → $s$ | $(0.6732, 0.2427, 0.0841)$ |" in md
    latex = data["text/latex"]
    assert latex.startswith("$$") and "\\begin{aligned}" in latex and "\\ensuremath" not in latex


def test_failed_check_displays_verdict_first_then_table(outputs):
    data = outputs[2]
    assert {"text/markdown", "text/html"} <= set(data)
    md = data["text/markdown"]
    assert md.startswith("**gradient check FAILED for 1 of 2 parameters: 'w'")
    assert "| w | 5 | FAILED |" in md and "batch size 32" in md
    assert md.index("| w |") < md.index("| b |")  # failures first
    html = data["text/html"]
    assert html.startswith("<p") and "FAILED" in html.split("<table>")[0] and "<table>" in html
    assert "#cf222e" in html  # red


def test_passing_check_says_so(outputs):
    md = outputs[3]["text/markdown"]
    assert md.startswith("**gradient check passed: 2 parameters agree")
    assert "FAILED" not in md and "#1a7f37" in outputs[3]["text/html"]


def test_bias_variance_table(outputs):
    data = outputs[4]
    md, html = data["text/markdown"], data["text/html"]
    assert md.startswith("**bias² + variance + σ² = measured error holds within 4 standard errors")
    assert "| degree | bias² | variance | σ² | sum | measured |" in md
    assert [line.split("|")[1].strip() for line in md.splitlines() if line.startswith("| ") and
            line.split("|")[1].strip().isdigit()] == ["1", "4", "20"]
    assert html.startswith("<p") and html.count("<tr>") == 4
