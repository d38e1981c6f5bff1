"""Seeds and generators of the envs: one rule for the seeds every env accepts, and the one
generator of the envs that are not :class:`gymnasium.Env` (the competition envs).

Every env of the package (single-asset, multi-asset, competition; scalar, vector, PettingZoo)
takes ``reset(seed=...)`` with Gymnasium's rule: a non-negative integer (a Python int or a
numpy integer, converted to int) or None; bools are refused. A bad seed raises ValueError
with the env's rule (:data:`SEED_RULE`, or :data:`VECTOR_SEED_RULE` for the native Gymnasium
vector envs, where a list of seeds is a common mistake) followed by the seed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.utils import seeding

__all__ = ["SEED_RULE", "VECTOR_SEED_RULE", "LazyGenerator", "check_seed"]

#: The seed rule of the scalar envs and the competition envs, as their ValueError states it.
SEED_RULE = "seed must be a non-negative integer (int or numpy integer) or None"
#: The seed rule of the native vector envs (single- and multi-asset), as their ValueError
#: states it: one seed for the whole batch, not one per sub-env.
VECTOR_SEED_RULE = (
    "seed must be an int or None for the native vector env (one generator drives all "
    "sub-envs): a non-negative integer (int or numpy integer)"
)


def check_seed(seed: Any, rule: str = SEED_RULE) -> int | None:
    """``seed`` as a Python int (numpy integers converted), or ValueError (``rule``, then the
    seed) unless it is a non-negative integer or None (Gymnasium's rule, with the env's
    message; bools are refused)."""
    if seed is None or (type(seed) is int and seed >= 0):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)) and seed >= 0:
        return int(seed)
    raise ValueError(f"{rule}, got {seed!r}")


class LazyGenerator:
    """The one generator of an env that is not a :class:`gymnasium.Env`, made as
    ``gymnasium.Env.np_random`` is: seeded at random on first use unless
    :meth:`_reseed` was given a seed before.

    Mix it into the env class; ``reset(seed=...)`` checks the seed (:func:`check_seed`)
    and then calls :meth:`_reseed`, which replaces the generator when the seed is not None
    (None keeps the current generator and its stream, as Gymnasium does).
    """

    _np_random: np.random.Generator | None = None

    @property
    def np_random(self) -> np.random.Generator:
        """The env's generator (seeded at random if never seeded)."""
        if self._np_random is None:
            self._np_random, _ = seeding.np_random()
        return self._np_random

    def _reseed(self, seed: int | None) -> None:
        """A fresh generator from ``seed`` (an already checked seed); None: keep the current
        one."""
        if seed is not None:
            self._np_random, _ = seeding.np_random(seed)
