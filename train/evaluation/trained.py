"""What a saved trained policy (SB3 model directory, RLlib policy directory) must match.

Both libraries write a ``meta.json`` with the market config (``market``) and the observation
layout (``observation_names``) the policy was trained on. :func:`read_meta` reads and checks
it as a whole (every key's type, the lengths that must agree), :func:`check_compatible`
refuses a policy whose layout this version of mm_env no longer produces, or which is asked to
act in another market (the differing fields are named, :func:`market_diff`). Every refusal is
a :class:`train.values.UserError` naming the file and the key.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mm_env import MarketConfig, observation_names
from mm_env.spaces import action_space, observation_space
from train.features import check_features
from train.values import UserError


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v)


def _numbers(v: Any) -> bool:
    return isinstance(v, list) and all(_is_number(x) for x in v)


def _strings(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, str) for x in v)


#: key -> (required, check, what it must be) of every meta.json.
_KEYS: dict[str, tuple[bool, Callable[[Any], bool], str]] = {
    "format": (False, _is_int, "an integer"),
    "library": (False, lambda v: isinstance(v, str), "a string"),
    "algo": (True, lambda v: isinstance(v, str) and bool(v), "an algorithm name"),
    "market": (True, lambda v: isinstance(v, dict), "a table of MarketConfig fields"),
    "observation_names": (True, _strings, "a non-empty list of names"),
    "obs_features": (True, _strings, "a non-empty list of feature names"),
    "obs_offset": (False, _numbers, "a list of finite numbers"),
    "obs_scale": (False, _numbers, "a list of finite numbers"),
    "obs_norm": (False, lambda v: v is None or isinstance(v, dict), "null or a table"),
    "obs_scaling": (False, lambda v: isinstance(v, str), "a string"),
    "num_timesteps": (False, lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
}
_NORM_KEYS = {"mean": _numbers, "var": _numbers, "clip": _is_number, "epsilon": _is_number}


def read_meta(meta_path: Path) -> dict[str, Any]:
    """The ``meta.json`` at ``meta_path``, checked by :func:`check_meta`."""
    try:
        meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{str(meta_path)!r} is not readable JSON: {exc}") from None
    check_meta(meta, meta_path)
    return meta


def check_meta(meta: Any, where: Path | str) -> None:
    """UserError naming ``where`` and the key unless ``meta`` is a complete, consistent
    meta.json: each key of its type, features known, ``obs_offset``/``obs_scale`` and the
    normalisation statistics of one length per feature, the market a valid config."""
    def bad(key: str, what: str) -> UserError:
        shown = repr(meta.get(key)) if key in meta else "missing"
        return UserError(f"{str(where)!r}: key {key!r} must be {what}, got {shown[:80]}")

    if not isinstance(meta, dict):
        raise UserError(f"{str(where)!r} must hold a JSON object, got {type(meta).__name__}")
    for key, (required, ok, what) in _KEYS.items():
        if (key in meta and not ok(meta[key])) or (required and key not in meta):
            raise bad(key, what)
    try:
        n = len(check_features(tuple(meta["obs_features"])))
    except ValueError as exc:
        raise UserError(f"{str(where)!r}: key 'obs_features': {exc}") from None
    for key in ("obs_offset", "obs_scale"):
        if key in meta and len(meta[key]) != n:
            raise bad(key, f"{n} numbers, one per feature of obs_features")
    norm = meta.get("obs_norm")
    if norm is not None:
        for key, ok in _NORM_KEYS.items():
            if key not in norm or not ok(norm[key]) or (ok is _numbers and len(norm[key]) != n):
                raise bad("obs_norm", f"a table of mean and var ({n} numbers each), clip and "
                          f"epsilon; its {key!r} is missing or wrong")
    try:
        MarketConfig.from_dict(meta["market"])
    except (ValueError, TypeError) as exc:
        raise UserError(f"{str(where)!r}: key 'market' is not a valid market: {exc}") from None


def as_config(config: MarketConfig | str | None) -> MarketConfig | None:
    """``config`` as a MarketConfig (a preset name is looked up); UserError if unknown."""
    if config is None or isinstance(config, MarketConfig):
        return config
    if isinstance(config, str):
        try:
            return MarketConfig.preset(config)
        except ValueError as exc:
            raise UserError(f"config {config!r}: {exc}") from None
    raise UserError(
        f"config must be a MarketConfig, a preset name or None, got {type(config).__name__}"
    )


def market_diff(trained: MarketConfig, given: MarketConfig) -> str:
    """The fields where two markets differ, as ``name: trained X vs given Y, ...``."""
    mine, theirs = trained.to_dict(), given.to_dict()
    return ", ".join(
        f"{k}: trained {v!r} vs given {theirs.get(k)!r}"
        for k, v in mine.items() if theirs.get(k) != v
    )


def check_policy_market(
    policy: object, config: MarketConfig, label: str, *, override: str, allowed: bool = False
) -> None:
    """Refuse a trained ``policy`` for the market ``config`` when it was trained on another.

    A trained policy carries its training market (``policy.trained_market``: SB3 model
    directories, RLlib checkpoints) and must be evaluated on it, unless ``allowed`` (the
    user's ``override``, e.g. ``"--allow-market-mismatch"``, named in the message). A bare
    SB3 model (a ``model.zip`` with no meta.json) carries only its spaces, which must match
    the market's whatever the override (a model cannot act on observations of another
    shape). The package's agents are not checked: an agent built for one market and run on
    another (another reward, a misspecified volatility) is a deliberate experiment. Raises
    UserError naming the differing fields or shapes.
    """
    trained = getattr(policy, "trained_market", None)
    if isinstance(trained, MarketConfig):
        if trained != config and not allowed:
            raise UserError(
                f"policy {label!r} was trained on another market "
                f"({market_diff(trained, config)}); pass {override} to use it anyway"
            )
        return
    if isinstance(policy, type) or not callable(getattr(policy, "predict", None)):
        return  # only an SB3 model (predict) has spaces to check
    spaces = {
        "observation": (getattr(policy, "observation_space", None), observation_space(config)),
        "action": (getattr(policy, "action_space", None), action_space(config)),
    }
    for what, (theirs, ours) in spaces.items():
        shape = getattr(theirs, "shape", None)
        if shape is not None and tuple(shape) != ours.shape:
            raise UserError(
                f"policy {label!r} has an {what} space of shape {tuple(shape)}, but this "
                f"market's {what}s have shape {ours.shape} (a bare model.zip carries no "
                "market, only its spaces; save it as a model directory to have its market "
                "checked)"
            )


def check_compatible(
    meta: dict[str, Any], config: MarketConfig | str | None, command: str = "mm-env train"
) -> MarketConfig:
    """The model's market config; UserError if its layout or (given) config differ
    (``config``: a MarketConfig or a preset name; ``command``: what retrains such a model,
    for the message)."""
    names = meta.get("observation_names")
    trained = MarketConfig.from_dict(meta["market"])
    observed = list(observation_names(trained))
    if not names or names != observed[: len(names)]:  # features appended later are fine
        raise UserError(
            f"the model was trained on observations {names}, but this version of mm_env "
            f"observes {observed} in its market; retrain it with {command}"
        )
    given = as_config(config)
    if given is not None and given != trained:
        raise UserError(
            f"the model was trained on a different market config ({market_diff(trained, given)})"
            "; evaluate it on its own config or retrain it"
        )
    return trained


def mismatch_notes(policies: dict[str, Any], config: MarketConfig) -> list[str]:
    """One line per trained policy (one with a ``config`` attribute) whose market differs
    from ``config``: what a run allowed to use them anyway reports."""
    notes = []
    for name, policy in policies.items():
        trained = getattr(policy, "config", None)
        if isinstance(trained, MarketConfig) and trained != config:
            notes.append(f"market mismatch allowed for {name}: {market_diff(trained, config)}")
    return notes
