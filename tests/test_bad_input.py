"""Bad and edge-case input gets a clear ValueError (or TypeError for pickling) or the right number."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

import advshape

# --- Pickling --------------------------------------------------------------------------------


def test_text_surrogate_pickles_exactly_with_its_name():
    s = advshape.from_surrogate(
        "2*asin(sqrt(rho))", name="mine", regularizer="rho*(1-rho)", lam=0.123456789
    )
    t = pickle.loads(pickle.dumps(s))
    assert t.name == "mine"
    assert t.params["lam"] == 0.123456789
    assert t.spec == s.spec and "lam=0.123456789" in t.spec
    n_pos = np.arange(13)
    for a, b in zip(t.scores(n_pos, 12), s.scores(n_pos, 12)):
        np.testing.assert_array_equal(a, b)


def test_sympy_surrogate_pickles():
    sympy = pytest.importorskip("sympy")
    x = sympy.Symbol("x")
    s = advshape.from_surrogate(2 * sympy.asin(sympy.sqrt(x)))
    t = pickle.loads(pickle.dumps(s))
    np.testing.assert_array_equal(t.scores(np.arange(9), 8)[0], s.scores(np.arange(9), 8)[0])


def test_callable_surrogate_is_refused_at_dumps():
    s = advshape.from_surrogate(lambda r: 2 * np.arcsin(np.sqrt(r)))
    with pytest.raises(TypeError, match="cannot be pickled.*give from_surrogate a string"):
        pickle.dumps(s)
    text_f = advshape.from_surrogate("rho", regularizer=lambda r: r * (1 - r), lam=0.5)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(text_f)


def test_count_shaper_with_a_registry_info_is_not_pickled_as_the_registry_shaper():
    grpo = advshape.shaper("grpo")
    mine = advshape.count_shaper("grpo", lambda m, n: grpo.scores(m, n), info=grpo.info)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(mine)
    # a registry shaper with a replaced score function is not the registry shaper either
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(grpo._replace(scores=advshape.shaper("rloo").scores))
    assert pickle.loads(pickle.dumps(grpo)).spec == "grpo"


def test_core_imports_nothing_above_it():
    """The core (advshape._src) never imports the surrogates layer, also when unpickling."""
    code = (
        "import pathlib, re, sys\n"
        "import advshape, pickle\n"
        "s = pickle.loads(pickle.dumps(advshape.shaper('grpo_k:k=2')))\n"
        "print([m for m in sys.modules if m.startswith('advshape.surrogates')])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    import advshape._src as core

    for path in __import__("pathlib").Path(core.__file__).parent.glob("*.py"):
        text = path.read_text()
        for layer in ("surrogates", "bandit", "lm", "cli", "plots", "integrations"):
            assert f"advshape.{layer}" not in text, (path.name, layer)
