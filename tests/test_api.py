"""The public surface: lazy imports, the registry, error tiers."""

import subprocess
import sys

import pytest

import gradproof
from gradproof.errors import GradproofError, InputError, UnknownDerivationError


def _imported_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True,
    ).stdout
    return set(out.split())


def test_import_gradproof_loads_neither_torch_nor_sympy():
    mods = _imported_after("import gradproof")
    assert "torch" not in mods
    assert "sympy" not in mods


def test_gradproof_list_does_not_import_torch():
    mods = _imported_after("from gradproof.cli import main\nmain(['list'])")
    assert "torch" not in mods


def test_public_names_resolve():
    for name in gradproof.__all__:
        assert getattr(gradproof, name) is not None


def test_verify_is_callable_even_after_submodule_import():
    import gradproof.verify.finite_diff  # noqa: F401  (rebinds gradproof.verify to the package)

    assert callable(gradproof.verify)
    assert gradproof.verify("sigmoid-as-two-class-softmax", device="cpu").ok


def test_unknown_slug_names_the_closest():
    with pytest.raises(UnknownDerivationError) as err:
        gradproof.derivation("softmax-jacobain")
    assert "softmax-jacobian" in str(err.value)
    assert isinstance(err.value, InputError) and isinstance(err.value, ValueError)
    assert isinstance(err.value, GradproofError)


def test_catalog_slugs_unique_and_titles_present():
    names = [d.name for d in gradproof.catalog()]
    assert len(names) == len(set(names))
    for d in gradproof.catalog():
        assert d.title and d.summary and d.steps
        assert gradproof.derivation(d.name) is d


FIRST_FAMILY = [
    "softmax-normalization",
    "softmax-shift-invariance",
    "softmax-jacobian",
    "log-softmax-gradient",
    "cross-entropy-softmax-gradient",
    "cross-entropy-logsumexp",
    "cross-entropy-kl",
    "sigmoid-as-two-class-softmax",
]


@pytest.mark.parametrize("name", FIRST_FAMILY)
def test_first_family_registered(name):
    assert gradproof.derivation(name).name == name
