"""Several policies on common random numbers, and sweeps over one parameter.

:func:`compare` evaluates every policy with the same ``n_episodes``, ``seed`` and
``chunk_size``, hence on the same market noise (see :mod:`train.evaluation.harness`), and reports
each metric with its paired difference to a reference policy and the difference's standard
error (:mod:`train.evaluation.stats`). Sharing the noise is what makes small differences measurable:
the paired SE is typically far below the SE of either policy's own metric.

:func:`sweep` re-runs one policy family over the values of one parameter: a
:class:`MarketConfig` field (``sigma``, ``A``, ``phi``, ...; the market changes and the
policy is rebuilt for it) or a keyword of the policy's constructor (``gamma`` of
Avellaneda-Stoikov). Called with ``param="gamma"`` and no values it is the course
notebook's risk-aversion sensitivity analysis over :data:`DEFAULT_GAMMAS`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mm_env import MarketConfig
from train.evaluation.harness import (
    EvalSettings,
    EvaluationResult,
    ProgressFn,
    _as_config,
    evaluate,
    evaluation_steps,
    fresh_seed,
)
from train.evaluation.policy_adapter import policy_name
from train.evaluation.stats import METRICS, Estimate

#: The course notebook's risk aversions for the gamma sensitivity analysis.
DEFAULT_GAMMAS: tuple[float, ...] = (0.01, 0.05, 0.1, 0.2, 0.5, 1.0)
#: Columns of the long comparison table, in order (stable names).
COMPARISON_COLUMNS: tuple[str, ...] = ("policy", "metric", "value", "se", "diff", "diff_se")
#: Summary columns a sweep table prints by default (the notebook's sensitivity table).
SWEEP_PRINT_COLUMNS: tuple[str, ...] = (
    "mean_pnl", "std_pnl", "sharpe", "mean_fills", "mean_abs_inventory", "certainty_equivalent",
)

_CONFIG_FIELDS = frozenset(f.name for f in dataclasses.fields(MarketConfig))


@dataclass(frozen=True, eq=False)
class ComparisonResult:
    """Results of :func:`compare`, keyed by policy name in the order given."""

    results: dict[str, EvaluationResult]
    reference: str
    """Name of the policy the differences are taken to."""

    @property
    def policies(self) -> list[str]:
        return list(self.results)

    def estimates(self) -> dict[str, dict[str, Estimate]]:
        """``{policy: {metric: Estimate(value, se, diff, diff_se)}}``, diffs to the reference."""
        ref = self.results[self.reference]
        return {name: r.estimates(ref) for name, r in self.results.items()}

    def rows(self) -> list[dict[str, Any]]:
        """The long table: one row per policy and metric (columns :data:`COMPARISON_COLUMNS`)."""
        rows: list[dict[str, Any]] = []
        for name, ests in self.estimates().items():
            for metric, e in ests.items():
                rows.append({"policy": name, "metric": metric, "value": e.value, "se": e.se,
                             "diff": e.diff, "diff_se": e.diff_se})
        return rows

    def summary_rows(self) -> list[dict[str, Any]]:
        """One row per policy: ``policy`` and its :meth:`EvaluationResult.summary`."""
        return [{"policy": name, **r.summary()} for name, r in self.results.items()]


def compare(
    policies: Mapping[str, object] | Sequence[object],
    config: MarketConfig | str | None = None,
    n_episodes: int = EvalSettings.n_episodes,
    seed: int | None = EvalSettings.seed,
    *,
    reference: str | int = 0,
    ce_gamma: float = EvalSettings.ce_gamma,
    chunk_size: int = EvalSettings.chunk_size,
    progress: ProgressFn | None = None,
    allow_market_mismatch: bool = False,
) -> ComparisonResult:
    """Evaluate ``policies`` on the same episodes and difference them against ``reference``.

    Args:
        policies: ``{name: policy}``, or a sequence of policies (named by
            :func:`train.evaluation.policy_adapter.policy_name`, made unique with ``#2``,
            ``#3``...). Each is anything :func:`train.evaluation.harness.evaluate` accepts.
        config: a :class:`MarketConfig` or a preset name.
        n_episodes, seed, ce_gamma, chunk_size: as in :func:`train.evaluation.harness.evaluate`; one
            seed for all (common random numbers). ``seed=None`` draws one fresh seed.
        reference: name or position of the reference policy (default: the first).
        progress, allow_market_mismatch: see :func:`train.evaluation.harness.evaluate`.
    """
    named = _named(policies)
    if not named:
        raise ValueError("policies must hold at least one policy")
    names = list(named)
    if isinstance(reference, int) and not isinstance(reference, bool):
        if not -len(names) <= reference < len(names):
            raise ValueError(f"reference index must be in [0, {len(names)}), got {reference}")
        ref_name = names[reference]
    elif reference in named:
        ref_name = str(reference)
    else:
        raise ValueError(f"reference must be one of {names} or an index, got {reference!r}")
    cfg = _as_config(config)
    if seed is None:
        seed = fresh_seed()
    results = {
        name: evaluate(policy, cfg, n_episodes, seed, ce_gamma=ce_gamma, chunk_size=chunk_size,
                       name=name, progress=progress, allow_market_mismatch=allow_market_mismatch)
        for name, policy in named.items()
    }
    return ComparisonResult(results, ref_name)


def _named(policies: Mapping[str, object] | Sequence[object]) -> dict[str, object]:
    if isinstance(policies, Mapping):
        return {str(k): v for k, v in policies.items()}
    if isinstance(policies, (str, bytes)) or not isinstance(policies, Sequence):
        raise ValueError(
            f"policies must be a mapping name -> policy or a sequence of policies, got "
            f"{type(policies).__name__}"
        )
    out: dict[str, object] = {}
    for p in policies:
        base = policy_name(p)
        name, k = base, 1
        while name in out:
            k += 1
            name = f"{base}#{k}"
        out[name] = p
    return out


@dataclass(frozen=True, eq=False)
class SweepResult:
    """Results of :func:`sweep`, one per value of ``param``."""

    param: str
    target: str
    """``"config"`` (a MarketConfig field) or ``"policy"`` (a constructor keyword)."""
    values: tuple[Any, ...]
    results: tuple[EvaluationResult, ...]

    def rows(self) -> list[dict[str, Any]]:
        """One row per value: ``param``, ``value``, ``policy`` and the summary's metrics."""
        return [
            {"param": self.param, "value": v, "policy": r.policy, **r.summary()}
            for v, r in zip(self.values, self.results, strict=True)
        ]


def sweep_target(param: str) -> str:
    """``"config"`` if ``param`` is a :class:`MarketConfig` field, else ``"policy"``."""
    return "config" if param in _CONFIG_FIELDS else "policy"


def sweep_configs(
    config: MarketConfig, param: str, values: Sequence[Any]
) -> list[MarketConfig]:
    """The market of each sweep value (``config`` itself when ``param`` is a policy keyword)."""
    if sweep_target(param) == "config":
        return [config.replace(**{param: v}) for v in values]
    return [config for _ in values]


def sweep_steps(config: MarketConfig, param: str, values: Sequence[Any], n_episodes: int,
                chunk_size: int = EvalSettings.chunk_size) -> int:
    """Vector-env steps a sweep takes (for progress bars)."""
    settings = EvalSettings(n_episodes, 0, chunk_size=chunk_size)
    return sum(evaluation_steps(c, settings) for c in sweep_configs(config, param, values))


def sweep(
    make_policy: Callable[..., object],
    config: MarketConfig | str | None,
    param: str,
    values: Sequence[Any] | None = None,
    n_episodes: int = EvalSettings.n_episodes,
    seed: int | None = EvalSettings.seed,
    *,
    ce_gamma: float = EvalSettings.ce_gamma,
    chunk_size: int = EvalSettings.chunk_size,
    progress: ProgressFn | None = None,
    allow_market_mismatch: bool = False,
) -> SweepResult:
    """Evaluate a policy family over the values of one parameter, with the same seed for each.

    Args:
        make_policy: a class or factory ``make_policy(config, **kwargs) -> policy``, e.g.
            ``AvellanedaStoikovAgent``. For a fixed policy use ``lambda config: policy``.
        config: the base market (a :class:`MarketConfig` or a preset name).
        param: a :class:`MarketConfig` field (each value gives a new market, and the policy is
            built as ``make_policy(new_config)``) or a keyword of ``make_policy`` (the policy
            is ``make_policy(config, **{param: value})``).
        values: the values; default :data:`DEFAULT_GAMMAS` for ``param="gamma"``.
        n_episodes, seed, ce_gamma, chunk_size, progress, allow_market_mismatch: as in
            :func:`evaluate`.
    """
    if not callable(make_policy):
        raise ValueError(
            f"make_policy must be a class or a factory make_policy(config, **kwargs), got "
            f"{type(make_policy).__name__}"
        )
    if values is None:
        if param != "gamma":
            raise ValueError(f"values are required for a sweep over {param!r}")
        values = DEFAULT_GAMMAS
    values = tuple(values)
    if not values:
        raise ValueError("values must hold at least one value")
    cfg = _as_config(config)
    target = sweep_target(param)
    if seed is None:
        seed = fresh_seed()
    base = policy_name(make_policy)
    results = []
    for value, value_cfg in zip(values, sweep_configs(cfg, param, values), strict=True):
        try:
            if target == "config":
                policy = make_policy(value_cfg)
            else:
                policy = make_policy(cfg, **{param: value})
        except TypeError as exc:
            raise ValueError(
                f"cannot build {base} for {param}={value!r}: {exc} ({param!r} is neither a "
                "MarketConfig field nor a keyword of the policy)"
            ) from exc
        label = f"{value:g}" if isinstance(value, (int, float)) else str(value)
        results.append(
            evaluate(policy, value_cfg, n_episodes, seed, ce_gamma=ce_gamma,
                     chunk_size=chunk_size, name=f"{base}[{param}={label}]", progress=progress,
                     allow_market_mismatch=allow_market_mismatch)
        )
    return SweepResult(param, target, values, tuple(results))


__all__ = [
    "COMPARISON_COLUMNS",
    "DEFAULT_GAMMAS",
    "METRICS",
    "ComparisonResult",
    "SweepResult",
    "compare",
    "sweep",
    "sweep_steps",
    "sweep_target",
]
