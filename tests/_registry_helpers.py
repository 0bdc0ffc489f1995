"""Build every registry shaper with example values for its required parameters."""

import advshape


def example_shaper(name: str, k: int = 3, lam: float = 0.5) -> advshape.Shaper:
    """``advshape.shaper(name)`` with ``k`` (and ``lam``) filled in where the entry requires them."""
    entry = advshape.registry()[name]
    params = {
        p.name: (k if p.name == "k" else lam)
        for p in entry.params
        if p.default is advshape.REQUIRED
    }
    return advshape.shaper(name, **params)
