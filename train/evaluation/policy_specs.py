"""Policies named by a short text spec, as the CLI takes them: ``NAME[:key=value,...]``.

``NAME`` is one of :data:`POLICIES` (``as``, ``symmetric``, ``optimal``, ``fixed``,
``random``, ``sb3``, ``rllib``) or the dotted import path of a class or object
(``mypkg.policies.MyAgent``). The ``key=value`` pairs are keyword arguments of the class
(``as:gamma=0.5``, ``fixed:bid_depth=0.5,ask_depth=0.8``); values are parsed as int, float,
``true``/``false``/``none``, else kept as text. Classes are built as ``cls(config, **kwargs)``;
an imported object that is not a class is used as the policy itself (no arguments allowed).

Special cases: ``random:seed=N`` seeds the agent's generator (``rng=default_rng(N)``);
``sb3:path=DIR`` loads a model directory written by ``mm-env train`` (with the observation
preprocessing it was trained with); ``sb3:path=model.zip[,algo=PPO]`` a bare SB3 model;
``rllib:path=DIR`` the policy of an ``mm-env rllib-train`` run (``RUN_DIR`` or
``RUN_DIR/policy``; needs the ``ray`` extra).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mm_env import MarketConfig
from train.evaluation.trained import check_policy_market
from train.values import UserError, parse_value


@dataclass(frozen=True)
class PolicyEntry:
    """A named policy of the CLI: where its class lives and a one-line description."""

    target: str
    """``module:attribute`` of the class, or the module a loader needs (to say whether it
    is installed)."""
    doc: str
    loader: str = ""
    """``module:function`` that builds a trained policy from the spec's arguments,
    ``f(kwargs, spec) -> policy``; imported only when the policy is asked for, so this
    module imports no RL framework."""


#: Policy names the CLI knows, in the order of its help text.
POLICIES: dict[str, PolicyEntry] = {
    "as": PolicyEntry("agents.avellaneda_stoikov:AvellanedaStoikovAgent",
                      "Avellaneda-Stoikov 2008 quotes; args: gamma (risk aversion)"),
    "symmetric": PolicyEntry("agents.avellaneda_stoikov:SymmetricAgent",
                             "AS spread centred on the mid (no inventory skew); args: gamma"),
    "optimal": PolicyEntry("agents.optimal:OptimalAgent",
                           "the exactly optimal policy of the model"),
    "fixed": PolicyEntry("agents.simple:FixedSpreadAgent",
                         "constant depths (default 1/k); args: bid_depth, ask_depth"),
    "random": PolicyEntry("agents.simple:RandomAgent",
                          "uniform random depths; args: low, high, seed"),
    "sb3": PolicyEntry("stable_baselines3",
                       "a trained agent: path=DIR (a model directory written by mm-env train, "
                       "with its preprocessing) or path=MODEL.zip (a bare SB3 model fed raw "
                       "observations), algo (PPO, for a bare zip)",
                       loader="train.sb3.model_dir:policy_from_spec"),
    "rllib": PolicyEntry("ray.rllib",
                         "a Ray RLlib agent: path=DIR (a run directory written by "
                         "mm-env rllib-train, or its policy/); needs mm-env[ray]",
                         loader="train.rllib.policy:policy_from_spec"),
}


def available(name: str) -> bool:
    """Whether the named policy's module can be imported here."""
    module = POLICIES[name].target.split(":")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``"as:gamma=0.5"`` -> ``("as", {"gamma": 0.5})``."""
    name, _, argstr = spec.strip().partition(":")
    if not name:
        raise UserError(f"policy spec must start with a name, got {spec!r}")
    kwargs: dict[str, Any] = {}
    for item in filter(None, (s.strip() for s in argstr.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise UserError(
                f"policy arguments must be key=value pairs separated by commas, got {item!r} "
                f"in {spec!r}"
            )
        kwargs[key.strip()] = parse_value(value.strip())
    return name, kwargs


def _import(target: str, spec: str) -> Any:
    if ":" in target:
        module_name, attr = target.split(":", 1)
    else:
        module_name, _, attr = target.rpartition(".")
    if not module_name:
        raise UserError(
            f"unknown policy {spec!r}: use one of {sorted(POLICIES)} or a dotted import path "
            "such as mypkg.policies.MyAgent"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UserError(f"cannot import {module_name!r} for policy {spec!r}: {exc}") from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise UserError(f"module {module_name!r} has no {attr!r} (policy {spec!r})") from None


def _load_trained(name: str, kwargs: dict[str, Any], spec: str) -> Any:
    loader = _import(POLICIES[name].loader, spec)
    return loader(kwargs, spec)


def policy_factory(spec: str, allow_market_mismatch: bool = False) -> Callable[..., object]:
    """A factory ``f(config, **more_kwargs) -> policy`` for ``spec`` (for sweeps).

    The spec's own arguments and ``more_kwargs`` are merged (``more_kwargs`` win). A trained
    policy (``sb3``, ``rllib``) is loaded once and refused (UserError naming the differing
    fields) for a market other than its training one, unless ``allow_market_mismatch``.
    """
    name, kwargs = parse_spec(spec)
    if name in POLICIES and POLICIES[name].loader:
        model = _load_trained(name, dict(kwargs), spec)

        def fixed_model(config: MarketConfig, **more: Any) -> object:
            if more:
                raise UserError(f"policy {spec!r} takes no arguments, got {sorted(more)}")
            check_policy_market(model, config, spec, override="--allow-market-mismatch",
                                allowed=allow_market_mismatch)
            return model

        fixed_model.__name__ = spec
        return fixed_model
    target = POLICIES[name].target if name in POLICIES else name
    obj = _import(target, spec)

    def factory(config: MarketConfig, **more: Any) -> object:
        args = {**kwargs, **more}
        if not isinstance(obj, type):
            if args:
                raise UserError(f"policy {spec!r} is not a class and takes no arguments")
            return obj
        if "seed" in args and "seed" not in _parameters(obj):
            seed = args.pop("seed")
            args["rng"] = np.random.default_rng(seed)
        try:
            return obj(config, **args)
        except UserError:
            raise
        except (TypeError, ValueError) as exc:  # the spec's arguments, checked by the class
            raise UserError(f"cannot build policy {spec!r}: {exc}") from exc

    factory.__name__ = spec
    return factory


def make_policy(spec: str, config: MarketConfig, allow_market_mismatch: bool = False) -> object:
    """The policy named by ``spec`` for the market ``config`` (see :func:`policy_factory`)."""
    return policy_factory(spec, allow_market_mismatch)(config)


def _parameters(cls: type) -> set[str]:
    import inspect

    try:
        return set(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        return set()


def describe_policies() -> str:
    """The help text listing :data:`POLICIES` (unavailable ones marked)."""
    lines = []
    for name, entry in POLICIES.items():
        mark = "" if available(name) else " [not installed]"
        lines.append(f"  {name:<10} {entry.doc}{mark}")
    return "\n".join(lines)
