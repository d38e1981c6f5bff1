"""``mm-env evaluate`` and ``mm-env compare`` on a multi-asset preset (``--preset pair``).

A multi-asset preset (:func:`mm_env.multi_asset.available_presets`) selects the market of
:class:`mm_env.multi_asset.MultiAssetConfig` (``--set`` overrides its fields, a scalar
applying to every asset) and the policies of :data:`POLICIES`:

- ``fixed`` (or ``naive``): depth ``1/k_i`` on both sides of every asset;
- ``as[:gamma=G]``: multi-asset Avellaneda-Stoikov;
- ``quadratic[:horizon=stationary]``: the closed-form quadratic approximation;
- ``optimal``: the exact continuous-time optimum on the joint inventory grid;
- ``discrete_optimal``: the exact optimum of the discrete-time env;
- ``independent``: each asset's single-asset optimum, correlations ignored;
- ``sb3:path=DIR``: a model directory of :func:`train.sb3.multi_asset.train_multi_asset`
  (refused on another market unless ``--allow-market-mismatch``).

Episodes use common random numbers (:mod:`train.evaluation.multi_asset`): every policy of a
comparison faces the same mids and fill draws, and the differences are paired.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from agents.multi_asset import (
    IndependentAgent,
    MultiAssetASAgent,
    MultiAssetDiscreteOptimalAgent,
    MultiAssetOptimalAgent,
    QuadraticApproximationAgent,
)
from mm_env.multi_asset import MultiAssetConfig, available_presets
from train.evaluation.multi_asset import (
    MultiAssetEvaluation,
    NaiveMultiAssetPolicy,
    evaluate_multi_asset,
    paired,
)
from train.evaluation.policy_specs import parse_spec
from train.values import UserError

Builder = Callable[[MultiAssetConfig, dict[str, Any]], object]


def _sb3(config: MultiAssetConfig, kwargs: dict[str, Any]) -> object:
    from train.sb3.multi_asset import load_multi_asset_policy

    if set(kwargs) != {"path"}:
        raise UserError(f"sb3 takes exactly path=DIR (a model directory), got {sorted(kwargs)}")
    return load_multi_asset_policy(str(kwargs["path"]))


def _plain(cls: type) -> Builder:
    return lambda config, kwargs: cls(config, **kwargs)


#: multi-asset policy name -> builder(config, spec arguments)
POLICIES: dict[str, Builder] = {
    "fixed": lambda config, kwargs: NaiveMultiAssetPolicy(config, **kwargs),
    "naive": lambda config, kwargs: NaiveMultiAssetPolicy(config, **kwargs),
    "as": _plain(MultiAssetASAgent),
    "quadratic": _plain(QuadraticApproximationAgent),
    "optimal": _plain(MultiAssetOptimalAgent),
    "discrete_optimal": _plain(MultiAssetDiscreteOptimalAgent),
    "independent": _plain(IndependentAgent),
    "sb3": _sb3,
}


def is_multi_asset(preset: str | None) -> bool:
    """Whether ``preset`` names a multi-asset preset."""
    return preset in available_presets()


def market(preset: str, overrides: dict[str, Any]) -> MultiAssetConfig:
    """The multi-asset market of ``--preset`` and ``--set`` (UserError naming the field)."""
    try:
        return MultiAssetConfig.preset(preset, **overrides)
    except (TypeError, ValueError) as exc:
        raise UserError(f"market: {exc}") from None


def make_policy(spec: str, config: MultiAssetConfig) -> object:
    """The policy of ``spec`` for ``config`` (UserError for an unknown name or argument)."""
    name, kwargs = parse_spec(spec)
    if name not in POLICIES:
        raise UserError(
            f"unknown multi-asset policy {spec!r}: use one of {sorted(POLICIES)} (a multi-asset "
            "preset takes only these)"
        )
    try:
        return POLICIES[name](config, dict(kwargs))
    except UserError:
        raise
    except (TypeError, ValueError) as exc:
        raise UserError(f"cannot build policy {spec!r}: {exc}") from None


def _row(result: MultiAssetEvaluation, ref: MultiAssetEvaluation | None) -> str:
    r, s = result.mean_reward, result.summary()
    cells = f"{result.policy:<28}{r.value:>12.3f}{r.se:>8.3f}"
    if ref is not None:
        gap = paired(ref, result)
        cells += f"{gap.value:>12.3f}{gap.se:>8.3f}"
    q = " ".join(f"{v:.2f}" for v in s["mean_abs_inventory"])
    return f"{cells}{s['mean_pnl']:>11.3f}   {q}"


def run(args: argparse.Namespace, overrides: dict[str, Any], specs: list[str],
        reference: str | None, n_episodes: int, seed: int, chunk_size: int) -> None:
    """Evaluate ``specs`` on the multi-asset market and print the table (with paired
    differences to ``reference`` when comparing)."""
    config = market(args.preset, overrides)
    allow = bool(getattr(args, "allow_market_mismatch", False))
    policies = {spec: make_policy(spec, config) for spec in specs}
    results = {
        spec: evaluate_multi_asset(policy, config, n_episodes, seed, chunk_size=chunk_size,
                                   name=spec, allow_market_mismatch=allow)
        for spec, policy in policies.items()
    }
    ref = None if reference is None else results[reference]
    head = f"{'policy':<28}{'mean reward':>12}{'± SE':>8}"
    if ref is not None:
        head += f"{'ref - it':>12}{'± SE':>8}"
    lines = [
        f"market: multi-asset preset {args.preset!r} ({config.n_assets} assets)",
        f"{n_episodes} episodes, seed {seed}, common random numbers"
        + ("" if reference is None else f"; ref = {reference}"),
        "",
        f"{head}{'mean PnL':>11}   mean |q_T| per asset",
    ]
    lines += [_row(result, ref) for result in results.values()]
    sys.stdout.write("\n".join(lines) + "\n")


def sweep(args: argparse.Namespace, overrides: dict[str, Any], values: list[Any],
          n_episodes: int, seed: int, chunk_size: int) -> None:
    """One policy (``args.policy``) for each value of ``args.param``: a MultiAssetConfig field
    (a new market per value, the policy built for it) or a keyword of the policy; the same
    seed for every value. Prints one row per value."""
    base = market(args.preset, overrides)
    name, kwargs = parse_spec(args.policy)
    field = args.param in MultiAssetConfig.field_docs()
    lines = [
        f"market: multi-asset preset {args.preset!r}; {args.policy} over {args.param} "
        f"({'market field' if field else 'policy argument'})",
        f"{n_episodes} episodes per value, seed {seed}, common random numbers",
        "",
        f"{args.param:>12}{'mean reward':>14}{'± SE':>8}{'mean PnL':>11}   mean |q_T| per asset",
    ]
    for value in values:
        config = market(args.preset, {**overrides, args.param: value}) if field else base
        args_of = dict(kwargs) if field else {**kwargs, args.param: value}
        label = f"{name}[{args.param}={value}]"
        try:
            policy = POLICIES[name](config, args_of) if name in POLICIES else None
        except (TypeError, ValueError) as exc:
            raise UserError(f"cannot build {label}: {exc}") from None
        if policy is None:
            raise UserError(f"unknown multi-asset policy {args.policy!r}: use one of "
                            f"{sorted(POLICIES)}")
        result = evaluate_multi_asset(policy, config, n_episodes, seed, chunk_size=chunk_size,
                                      name=label)
        r, s = result.mean_reward, result.summary()
        q = " ".join(f"{v:.2f}" for v in s["mean_abs_inventory"])
        lines.append(f"{value!s:>12}{r.value:>14.3f}{r.se:>8.3f}{s['mean_pnl']:>11.3f}   {q}")
    sys.stdout.write("\n".join(lines) + "\n")


def plot(args: argparse.Namespace, overrides: dict[str, Any], n_episodes: int, seed: int,
         chunk_size: int) -> list[Any]:
    """The multi-asset figures (:func:`train.plots.multi_asset.write_multi_asset_figures`)
    of ``args.policy`` next to the exact optimum of the env, into ``args.out``."""
    from train.plots.multi_asset import write_multi_asset_figures

    config = market(args.preset, overrides)
    if config.n_assets < 2:
        raise UserError("the multi-asset figures need at least two assets")
    policies = {
        "exact optimum": make_policy("discrete_optimal", config),
        args.policy: make_policy(args.policy, config),
    }
    evaluations = {
        label: evaluate_multi_asset(policy, config, n_episodes, seed, chunk_size=chunk_size,
                                    name=label)
        for label, policy in policies.items()
    }
    return write_multi_asset_figures(args.out, config, policies, evaluations)
