"""advshape's ``verl.plugins`` entry point: loads :mod:`advshape.integrations.verl`, loudly.

verl imports every ``verl.plugins`` entry point at ``import verl`` and swallows a failing one
(it logs the error at debug level), so a broken install would surface only later, and wrongly,
as verl's "Unknown advantage estimator: advshape_grpo_k". This module catches the failure,
prints it on stderr with the fix, and registers each ``advshape_<name>`` estimator as a stub
that raises that same message, so a run that selects one stops at its first advantage step
with the cause instead of the wrong diagnosis.
"""

from __future__ import annotations

import sys
from typing import Any


def _refusal(message: str) -> Any:
    def advshape_estimator_unavailable(*args: Any, **kwargs: Any) -> Any:
        raise ValueError(message)

    return advshape_estimator_unavailable


def _load() -> None:
    try:
        import advshape.integrations.verl  # registers the estimators
    except Exception as err:  # any failure: verl would hide it
        message = (
            f"advshape: the verl plugin failed to load ({type(err).__name__}: {err}); the "
            "advshape_* advantage estimators are unavailable. Fix: pip install "
            "'advshape[verl]' (it installs the verl and transformers versions advshape is "
            "tested with); `python -c 'import advshape.integrations.verl'` shows the traceback."
        )
        print(message, file=sys.stderr, flush=True)
        try:
            from verl.trainer.ppo import core_algos

            import advshape

            for name in advshape.names():
                estimator = f"advshape_{name}"
                if estimator not in core_algos.ADV_ESTIMATOR_REGISTRY:
                    core_algos.register_adv_est(estimator)(_refusal(message))
        except Exception:  # verl itself is broken: the stderr line is all that can be done
            pass


_load()
