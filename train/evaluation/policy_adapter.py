"""One adapter from anything that chooses quotes to the harness's batched policy function.

The evaluation harness steps ``n`` episodes at once and needs ``f(obs) -> actions`` for a
batch of observations ``(n, 3)`` returning depths ``(n, 2)``. :func:`as_policy` builds it
from, in this order of precedence:

1. an :class:`AdaptedPolicy` (returned unchanged);
2. a class, e.g. ``AvellanedaStoikovAgent``: instantiated as ``cls(config)``;
3. an object with ``act(obs)``: the package's agents (:class:`agents.base.Agent`);
4. an object with ``predict(obs, deterministic=True) -> (action, state)``: a trained
   stable-baselines3 model (its recurrent state, if any, is ignored);
5. a plain callable ``obs -> action``.

By default the policy is called once per step on the whole batch. A callable that takes
one observation ``(3,)`` at a time needs ``batched=False`` (one Python call per episode and
step: slow, but correct).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mm_env import MarketConfig

PolicyFn = Callable[[np.ndarray], Any]


class AdaptedPolicy:
    """A batched policy ``(n, 3) -> (n, 2)`` with a display name; call it on observations."""

    def __init__(self, fn: PolicyFn, name: str, source: object = None) -> None:
        self._fn = fn
        self.name = name
        self.source = source
        """The object the policy was built from (the agent, the SB3 model, the callable)."""

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        n = obs.shape[0]
        try:
            actions = np.asarray(self._fn(obs), dtype=np.float64)
        except (TypeError, IndexError) as exc:
            raise ValueError(
                f"policy {self.name!r} failed on a batch of observations of shape "
                f"{obs.shape} ({type(exc).__name__}: {exc}); if it takes one observation "
                "at a time, use as_policy(..., batched=False)"
            ) from exc
        if actions.shape == (2,) and n == 1:
            actions = actions.reshape(1, 2)
        if actions.shape != (n, 2):
            raise ValueError(
                f"policy {self.name!r} returned actions of shape {actions.shape} for {n} "
                f"observations; expected ({n}, 2) = [bid_depth, ask_depth] per row (a "
                "policy that takes one observation at a time needs batched=False)"
            )
        return actions

    def __repr__(self) -> str:
        return f"AdaptedPolicy({self.name!r})"


def policy_name(obj: object) -> str:
    """A short display name: a class's or function's name, else the object's class name."""
    if isinstance(obj, AdaptedPolicy):
        return obj.name
    if isinstance(obj, type):
        return obj.__name__
    name = getattr(obj, "__name__", None)
    if isinstance(name, str) and name != "<lambda>":
        return name
    if callable(obj) and getattr(obj, "__name__", None) == "<lambda>":
        return "lambda"
    return type(obj).__name__


def as_policy(
    obj: object,
    config: MarketConfig | None = None,
    *,
    batched: bool = True,
    name: str | None = None,
) -> AdaptedPolicy:
    """Adapt a package agent, an SB3 model, an agent class or a callable (see module doc).

    Args:
        obj: the policy.
        config: the market, needed only to instantiate a class (``obj(config)``).
        batched: whether ``obj`` takes a batch ``(n, 3)``; ``False`` calls it once per row.
        name: display name (default: :func:`policy_name`).
    """
    if isinstance(obj, AdaptedPolicy):
        if name is not None and name != obj.name:
            return AdaptedPolicy(obj._fn, name, obj.source)
        return obj
    label = name if name is not None else policy_name(obj)
    if isinstance(obj, type):
        if config is None:
            raise ValueError(
                f"policy {label!r} is a class: pass config= to instantiate it, or pass an "
                "instance"
            )
        obj = obj(config)
    fn: PolicyFn
    act = getattr(obj, "act", None)
    predict = getattr(obj, "predict", None)
    if callable(act):
        fn = act
    elif callable(predict):
        model_predict = predict

        def fn(obs: np.ndarray) -> Any:
            return model_predict(obs, deterministic=True)[0]

    elif callable(obj):
        fn = obj
    else:
        raise ValueError(
            f"policy must have act(obs), predict(obs, deterministic=True) or be callable "
            f"obs -> action; got {type(obj).__name__}"
        )
    if not batched:
        fn = _row_by_row(fn)
    return AdaptedPolicy(fn, label, obj)


def _row_by_row(fn: PolicyFn) -> PolicyFn:
    def batched_fn(obs: np.ndarray) -> np.ndarray:
        out = np.empty((obs.shape[0], 2))
        for i in range(obs.shape[0]):
            out[i] = np.asarray(fn(obs[i]), dtype=np.float64).reshape(2)
        return out

    return batched_fn
