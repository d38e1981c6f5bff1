"""Draw a selection of the figures of :mod:`train.plots` into one directory (``mm-env plot``).

:func:`write_plots` runs what each figure needs (formulas, one simulated session, Monte Carlo
runs on common random numbers), writes the PNG files and, with ``tables=True``, the CSV/JSON
tables of the Monte Carlo runs (:mod:`train.evaluation.report`) under ``tables/``. This module
imports matplotlib only when :func:`write_plots` runs, so the CLI starts fast.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.avellaneda_stoikov import DEFAULT_GAMMA
from mm_env import MarketConfig
from train.atomic import atomic_set, set_paths
from train.evaluation.compare import DEFAULT_GAMMAS, compare, sweep, sweep_steps
from train.evaluation.harness import EvalSettings, evaluate, evaluation_steps, fresh_seed
from train.evaluation.policy_specs import make_policy, policy_factory
from train.evaluation.report import save_comparison, save_evaluation, save_sweep
from train.values import UserError

#: Figure names (``mm-env plot --which``) and their file names, in drawing order.
FIGURES: dict[str, str] = {
    "mid": "mid_price_paths.png",
    "quotes": "as_quotes_vs_inventory.png",
    "spread": "spread_vs_time.png",
    "fills": "arrival_fill_probability.png",
    "optimal": "optimal_quotes.png",
    "session": "session.png",
    "mc": "mc_distributions.png",
    "gamma": "gamma_sensitivity.png",
    "comparison": "comparison.png",
}
#: Names standing for several figures.
GROUPS: dict[str, tuple[str, ...]] = {
    "all": tuple(FIGURES),
    "model": ("mid", "quotes", "spread", "fills", "optimal"),
    "montecarlo": ("mc", "gamma", "comparison"),
}
#: Policies of the comparison figure by default (CLI specs, the first is the reference).
DEFAULT_COMPARISON: tuple[str, ...] = ("as", "symmetric", "fixed", "optimal")

ProgressFn = Callable[[int], None]


def resolve_figures(which: str | Sequence[str] = "all") -> list[str]:
    """Figure names from names and groups, comma-separated or listed; order of :data:`FIGURES`.

    >>> resolve_figures("session,mc")
    ['session', 'mc']
    """
    items = [which] if isinstance(which, str) else list(which)
    chosen: set[str] = set()
    for item in items:
        for part in (p.strip() for p in str(item).split(",")):
            if not part:
                continue
            if part in GROUPS:
                chosen.update(GROUPS[part])
            elif part in FIGURES:
                chosen.add(part)
            else:
                raise UserError(
                    f"unknown figure {part!r}; choose from {', '.join(GROUPS)} or "
                    f"{', '.join(FIGURES)}"
                )
    if not chosen:
        raise UserError(f"no figure selected by {which!r}; choose from {', '.join(GROUPS)} or "
                         f"{', '.join(FIGURES)}")
    return [name for name in FIGURES if name in chosen]


def planned_steps(
    config: MarketConfig,
    which: str | Sequence[str],
    settings: EvalSettings,
    n_policies: int = len(DEFAULT_COMPARISON),
    gammas: Sequence[float] = DEFAULT_GAMMAS,
) -> int:
    """Vector-env steps :func:`write_plots` takes for ``which`` (for a progress bar)."""
    names = resolve_figures(which)
    per_run = evaluation_steps(config, settings)
    total = config.n_steps if "session" in names else 0
    total += per_run if "mc" in names else 0
    total += n_policies * per_run if "comparison" in names else 0
    if "gamma" in names:
        total += sweep_steps(config, "gamma", list(gammas), settings.n_episodes,
                             settings.chunk_size)
    return total


def write_plots(
    config: MarketConfig,
    out_dir: str | Path,
    which: str | Sequence[str] = "all",
    *,
    policy: object = "as",
    policies: Mapping[str, object] | Sequence[object] = DEFAULT_COMPARISON,
    sweep_policy: object = "as",
    gamma: float = DEFAULT_GAMMA,
    gammas: Sequence[float] = DEFAULT_GAMMAS,
    n_paths: int = 20,
    settings: EvalSettings | None = None,
    tables: bool = True,
    progress: ProgressFn | None = None,
    allow_market_mismatch: bool = False,
) -> list[Path]:
    """Draw the figures ``which`` for the market ``config`` into ``out_dir``; the paths written.

    Args:
        config: the market.
        out_dir: output directory (created if needed).
        which: figure names and groups (see :data:`FIGURES`, :data:`GROUPS`).
        policy: the policy of the ``session`` and ``mc`` figures: a CLI spec
            (``"as:gamma=0.5"``, see :mod:`train.evaluation.policy_specs`) or anything
            :func:`train.evaluation.harness.evaluate` accepts.
        policies: the policies of the ``comparison`` figure (specs or ``{name: policy}``);
            the first is the reference of the paired differences.
        sweep_policy: the policy family of the ``gamma`` figure: a spec or a factory
            ``f(config, gamma=...)`` such as ``AvellanedaStoikovAgent``.
        gamma: the AS risk aversion of the ``quotes`` figure.
        gammas: the risk aversions of the ``spread`` and ``gamma`` figures.
        n_paths: number of paths of the ``mid`` figure.
        settings: episodes, seed, CE risk aversion and chunk size of the Monte Carlo runs;
            the seed also drives the ``mid`` paths and the ``session`` episode (a seed of
            None draws one fresh seed for all of them).
        tables: also write the Monte Carlo runs' CSV/JSON tables under ``out_dir/tables``.
        progress: called with the number of vector-env steps done.
        allow_market_mismatch: draw trained policies (``sb3:``, ``rllib:`` specs) on a
            market other than their training one (refused otherwise).
    """
    from train.plots.mc import comparison, gamma_sensitivity, mc_distributions
    from train.plots.model import (
        arrival_rate_and_fill_probability,
        as_quotes_vs_inventory,
        mid_price_paths,
        optimal_quotes,
        session,
        spread_vs_time,
    )
    from train.plots.utils import save_figure

    names = resolve_figures(which)
    settings = EvalSettings() if settings is None else settings
    gamma = _check_gamma("gamma", gamma)
    gammas = [_check_gamma("each of gammas", g) for g in gammas]
    if not gammas:
        raise UserError("gammas must hold at least one risk aversion")
    if isinstance(n_paths, bool) or not isinstance(n_paths, int) or n_paths < 1:
        raise UserError(f"n_paths must be an integer >= 1, got {n_paths!r}")
    # Build every policy before drawing anything: a bad argument writes no file.
    allow = allow_market_mismatch
    main_policy = _policy(policy, config, allow) if {"session", "mc"} & set(names) else None
    factory = _factory(sweep_policy, config, gammas[0], allow) if "gamma" in names else None
    compared_policies = _policies(policies, config, allow) if "comparison" in names else None
    seed = fresh_seed() if settings.seed is None else settings.seed
    n = settings.n_episodes
    run: dict[str, Any] = {"ce_gamma": settings.ce_gamma, "chunk_size": settings.chunk_size,
                           "progress": progress, "allow_market_mismatch": allow}
    out = Path(out_dir)
    written: list[Path] = []
    # the figures and tables are one output set: staged, then swapped in (train.atomic)
    with atomic_set(out) as tmp:

        def save(name: str, fig: Any) -> None:
            written.append(save_figure(fig, tmp / FIGURES[name]))

        for name in names:
            if name == "mid":
                save(name, mid_price_paths(config, n_paths, np.random.default_rng(seed)))
            elif name == "quotes":
                save(name, as_quotes_vs_inventory(config, gamma))
            elif name == "spread":
                save(name, spread_vs_time(config, gammas))
            elif name == "fills":
                save(name, arrival_rate_and_fill_probability(config))
            elif name == "optimal":
                save(name, optimal_quotes(config))
            elif name == "session":
                save(name, session(config, main_policy, seed))
                if progress is not None:
                    progress(config.n_steps)
            elif name == "mc":
                result = evaluate(main_policy, config, n, seed, name=_label(policy), **run)
                save(name, mc_distributions(result))
                if tables:
                    written += save_evaluation(result, tmp / "tables" / "mc")
            elif name == "gamma":
                assert factory is not None
                swept = sweep(factory, config, "gamma", gammas, n, seed, **run)
                save(name, gamma_sensitivity(swept))
                if tables:
                    written += save_sweep(swept, tmp / "tables" / "gamma")
            elif name == "comparison":
                assert compared_policies is not None
                compared = compare(compared_policies, config, n, seed, **run)
                save(name, comparison(compared))
                if tables:
                    written += save_comparison(compared, tmp / "tables" / "comparison")
    return set_paths(written, tmp, out)


def _check_gamma(name: str, value: object) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    x = float(value) if ok else math.nan  # type: ignore[arg-type]
    if not (math.isfinite(x) and x >= 0):
        raise UserError(f"{name} must be a finite number >= 0, got {value!r}")
    return x


def _policy(policy: object, config: MarketConfig, allow: bool = False) -> object:
    return make_policy(policy, config, allow) if isinstance(policy, str) else policy


def _label(policy: object) -> str | None:
    return policy if isinstance(policy, str) else None


def _factory(
    policy: object, config: MarketConfig, gamma: float, allow: bool = False
) -> Callable[..., object]:
    """The sweep's policy factory, checked by building it once with ``gamma``."""
    factory = policy_factory(policy, allow) if isinstance(policy, str) else policy
    if not callable(factory):
        raise UserError(
            f"sweep_policy must be a spec or a factory f(config, gamma=...), got "
            f"{type(policy).__name__}"
        )
    try:
        factory(config, gamma=gamma)
    except (TypeError, ValueError) as exc:
        raise UserError(
            f"the gamma figure needs a policy family that takes gamma; sweep_policy "
            f"{policy!r} failed: {exc}"
        ) from exc
    return factory


def _policies(
    policies: Mapping[str, object] | Sequence[object], config: MarketConfig, allow: bool = False
) -> dict[str, object] | list[object]:
    if isinstance(policies, Mapping):
        return {str(k): _policy(v, config, allow) for k, v in policies.items()}
    if isinstance(policies, str):
        policies = [policies]
    specs = list(policies)
    if not specs:
        raise UserError("the comparison needs at least one policy")
    if all(isinstance(p, str) for p in specs):
        if len(set(specs)) != len(specs):
            raise UserError(f"comparison policies given twice with the same spec: {specs}")
        return {str(p): make_policy(str(p), config, allow) for p in specs}
    return [_policy(p, config, allow) for p in specs]


__all__ = [
    "DEFAULT_COMPARISON",
    "FIGURES",
    "GROUPS",
    "planned_steps",
    "resolve_figures",
    "write_plots",
]
