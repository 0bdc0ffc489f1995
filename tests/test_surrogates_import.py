"""``import advshape`` stays NumPy-only; the surrogate tools load lazily."""

from __future__ import annotations

import subprocess
import sys


def test_import_advshape_does_not_load_heavy_libraries():
    code = (
        "import sys, advshape, numpy as np\n"
        "s = advshape.shaper('grpo_k:k=2')\n"
        "s.advantages(np.array([[1, 0, 0, 1]]))\n"
        "s.surrogate(np.array([0.5]))  # grpo_k needs SciPy: only now\n"
        "heavy = [m for m in ('sympy', 'matplotlib', 'torch') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    code = "import sys, advshape\nprint([m for m in ('scipy', 'sympy', 'matplotlib') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_names_resolve_and_unknown_names_raise():
    import advshape

    assert callable(advshape.reverse_engineer) and callable(advshape.from_surrogate)
    assert "reverse_engineer" in dir(advshape)
    try:
        advshape.no_such_thing  # noqa: B018
    except AttributeError as err:
        assert "no_such_thing" in str(err)
    else:
        raise AssertionError("expected AttributeError")


def test_missing_optional_dependency_names_the_extra():
    from advshape.surrogates import _optional

    try:
        _optional.require("no_such_module_for_advshape", "from_surrogate with a string")
    except ImportError as err:
        assert "advshape[surrogates]" in str(err) and "from_surrogate" in str(err)
    else:
        raise AssertionError("expected ImportError")
