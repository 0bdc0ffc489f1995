"""SkyRL's PPO entry point with advshape's estimators and their config fields.

    pip install 'advshape[skyrl]' 'skyrl[fsdp]'        # Python >= 3.12, GPUs
    bash examples/skyrl_gsm8k.sh [more overrides]      # runs: python -m examples.skyrl_main ...

The same as SkyRL's own main_base entry point, with two changes: importing
advshape.integrations.skyrl registers every advshape_<name> estimator in SkyRL's registry
(SkyRL's initialize_ray then syncs them to its Ray actor) and wraps SkyRL's trainer; and the
config class is AdvshapeConfig, which accepts trainer.algorithm.advshape_<param>=<value>.
"""

import sys

import ray
from skyrl.train.entrypoints.main_base import BasePPOExp
from skyrl.train.utils import initialize_ray, validate_cfg

from advshape.integrations.skyrl import AdvshapeConfig


@ray.remote(num_cpus=1)
def skyrl_entrypoint(cfg: AdvshapeConfig) -> None:
    # cfg's class lives in advshape.integrations.skyrl, so unpickling it here imports that
    # module in this Ray worker too: the estimators and the trainer's wrappers are in place.
    BasePPOExp(cfg).run()


def main() -> None:
    cfg = AdvshapeConfig.from_cli_overrides(sys.argv[1:])
    validate_cfg(cfg)
    initialize_ray(cfg)
    ray.get(skyrl_entrypoint.remote(cfg))


if __name__ == "__main__":
    main()
