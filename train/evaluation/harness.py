"""Monte Carlo evaluation of one policy on the native vector env.

``evaluate(policy, config, n_episodes, seed)`` runs ``n_episodes`` episodes of the market
``config`` under ``policy`` (anything :func:`train.evaluation.policy_adapter.as_policy` accepts) and
returns an :class:`EvaluationResult`: the per-episode arrays and, from them, a summary
(definitions in :mod:`train.evaluation.stats`).

Seeds and chunks. Episodes run in parallel in :class:`mm_env.MarketMakingVectorEnv`, in
chunks of at most ``chunk_size`` episodes (memory stays bounded for any ``n_episodes``).
Chunk ``i`` is reset with the integer seed :func:`chunk_seeds` derives from
``numpy.random.SeedSequence(seed).spawn(...)[i]``. The vector env draws the same random
numbers each step whatever the actions, so for a deterministic policy the outcome is a
function of ``(policy, config, n_episodes, seed, chunk_size)``, and two policies evaluated
with the same ``n_episodes``, ``seed`` and ``chunk_size`` face the same market noise
(common random numbers). Because one generator drives a whole chunk, results *do* depend on
``chunk_size``; a run of ``k * chunk_size`` episodes is the first ``k`` chunks of any longer
run with the same seed. ``seed=None`` draws fresh entropy and records it in the result, so
every run can be repeated.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from mm_env import MarketConfig, MarketMakingVectorEnv
from train.evaluation import stats
from train.evaluation.policy_adapter import as_policy, policy_name
from train.evaluation.stats import EpisodeArrays, Estimate
from train.evaluation.trained import check_policy_market

ProgressFn = Callable[[int], None]
"""Called with the number of vector-env steps just done (1 per step of every chunk)."""

#: Per-episode columns of the episodes table, in order (stable names).
EPISODE_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(EpisodeArrays))


@dataclass(frozen=True)
class EvalSettings:
    """How a Monte Carlo evaluation is run (the CLI's options are generated from these fields)."""

    n_episodes: int = field(
        default=1000, metadata={"doc": "number of Monte Carlo episodes, >= 2", "flag": "episodes"}
    )
    seed: int | None = field(
        default=0,
        metadata={"doc": "master seed of the market noise (same seed = same market for every "
                         "policy); none draws fresh entropy"},
    )
    ce_gamma: float = field(
        default=0.1,
        metadata={"doc": "CARA risk aversion of the certainty equivalent [1/price unit], >= 0"},
    )
    chunk_size: int = field(
        default=10_000,
        metadata={"doc": "episodes stepped together in one vector env (results depend on it)"},
    )

    def __post_init__(self) -> None:
        _check_int("n_episodes", self.n_episodes, 2)
        _check_int("chunk_size", self.chunk_size, 1)
        if self.seed is not None:
            _check_int("seed", self.seed, 0)
        if isinstance(self.ce_gamma, bool) or not isinstance(self.ce_gamma, (int, float)):
            raise ValueError(f"ce_gamma must be a number >= 0, got {self.ce_gamma!r}")
        if not (math.isfinite(self.ce_gamma) and self.ce_gamma >= 0):
            raise ValueError(f"ce_gamma must be a finite number >= 0, got {self.ce_gamma!r}")
        object.__setattr__(self, "ce_gamma", float(self.ce_gamma))

    @property
    def n_chunks(self) -> int:
        return -(-self.n_episodes // self.chunk_size)

    @classmethod
    def field_docs(cls) -> dict[str, str]:
        return {f.name: f.metadata.get("doc", "") for f in fields(cls)}


def _check_int(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


def chunk_seeds(seed: int, n_chunks: int) -> list[int]:
    """The integer seed of each chunk: 128 bits of ``SeedSequence(seed).spawn(n_chunks)[i]``.

    Chunk ``i``'s seed depends only on ``seed`` and ``i``, never on ``n_chunks``.
    """
    children = np.random.SeedSequence(seed).spawn(n_chunks)
    return [int.from_bytes(c.generate_state(4, np.uint32).tobytes(), "little") for c in children]


def fresh_seed() -> int:
    """A new master seed from the operating system's entropy (what ``seed=None`` uses)."""
    entropy = np.random.SeedSequence().entropy
    assert isinstance(entropy, int)
    return entropy


def evaluation_steps(config: MarketConfig, settings: EvalSettings) -> int:
    """Vector-env steps one evaluation takes (the total a progress bar counts to)."""
    return settings.n_chunks * config.n_steps


@dataclass(frozen=True, eq=False)
class EvaluationResult:
    """Outcome of :func:`evaluate`: the per-episode arrays and how they were produced."""

    policy: str
    """Display name of the policy."""
    config: MarketConfig
    settings: EvalSettings
    """The settings used; ``settings.seed`` is the seed actually used (never None)."""
    episodes: EpisodeArrays

    @property
    def n_episodes(self) -> int:
        return self.episodes.n

    @property
    def pnl(self) -> np.ndarray:
        """Terminal PnL of each episode."""
        return self.episodes.pnl

    def summary(self, gamma: float | None = None) -> dict[str, float]:
        """Every metric of :data:`train.evaluation.stats.METRICS` plus ``n_episodes`` and
        ``se_pnl``.

        ``gamma``: risk aversion of the certainty equivalent (default ``settings.ce_gamma``).
        """
        return stats.summarise(self.episodes, self._gamma(gamma))

    def estimates(
        self, reference: EvaluationResult | None = None, gamma: float | None = None
    ) -> dict[str, Estimate]:
        """Each metric with its SE and, given ``reference``, the paired difference and its SE."""
        ref = None
        if reference is not None:
            _check_paired(self, reference)
            ref = reference.episodes
        return stats.estimates(self.episodes, self._gamma(gamma), ref)

    def episode_rows(self) -> list[dict[str, float]]:
        """The per-episode table, one dict per episode (columns :data:`EPISODE_COLUMNS`)."""
        cols = {name: getattr(self.episodes, name).tolist() for name in EPISODE_COLUMNS}
        return [
            {"episode": i, **{name: cols[name][i] for name in EPISODE_COLUMNS}}
            for i in range(self.n_episodes)
        ]

    def metadata(self) -> dict[str, Any]:
        """Policy, settings and config as plain values (the JSON header of a report)."""
        return {
            "policy": self.policy,
            "settings": {f.name: getattr(self.settings, f.name) for f in fields(EvalSettings)},
            "config": self.config.to_dict(),
        }

    def _gamma(self, gamma: float | None) -> float:
        return self.settings.ce_gamma if gamma is None else float(gamma)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EvaluationResult):
            return NotImplemented
        return (
            self.policy == other.policy
            and self.config == other.config
            and self.settings == other.settings
            and all(
                np.array_equal(getattr(self.episodes, c), getattr(other.episodes, c),
                               equal_nan=True)
                for c in EPISODE_COLUMNS
            )
        )


def _check_paired(a: EvaluationResult, b: EvaluationResult) -> None:
    sa, sb = a.settings, b.settings
    if (sa.n_episodes, sa.seed, sa.chunk_size) != (sb.n_episodes, sb.seed, sb.chunk_size):
        raise ValueError(
            "paired differences need both results run on the same episodes (same n_episodes, "
            f"seed and chunk_size); got {a.policy!r}: {sa} and {b.policy!r}: {sb}"
        )


def evaluate(
    policy: object,
    config: MarketConfig | str | None = None,
    n_episodes: int = EvalSettings.n_episodes,
    seed: int | None = EvalSettings.seed,
    *,
    ce_gamma: float = EvalSettings.ce_gamma,
    chunk_size: int = EvalSettings.chunk_size,
    batched: bool = True,
    name: str | None = None,
    progress: ProgressFn | None = None,
    allow_market_mismatch: bool = False,
) -> EvaluationResult:
    """Run ``n_episodes`` episodes of ``policy`` and collect the per-episode outcomes.

    A trained policy (an SB3 model directory, an RLlib checkpoint) trained on another market
    than ``config`` is refused with the differing fields, unless ``allow_market_mismatch``; a
    bare SB3 model whose spaces differ from the market's is always refused (see
    :func:`train.evaluation.trained.check_policy_market`).

    Args:
        policy: an agent (``act``), an SB3 model (``predict``), an agent class (built as
            ``cls(config)``) or a callable ``obs (n, 3) -> depths (n, 2)``; see
            :func:`train.evaluation.policy_adapter.as_policy`.
        config: a :class:`MarketConfig` or a preset name (default ``"default"``).
        n_episodes: number of episodes (>= 2).
        seed: master seed (see the module doc on seeds and chunks); None for fresh entropy.
        ce_gamma: risk aversion of the summary's certainty equivalent.
        chunk_size: at most this many episodes are stepped together.
        batched: False if ``policy`` takes one observation at a time.
        name: display name of the policy in reports.
        progress: called with the number of steps done, after each vector-env step.
        allow_market_mismatch: evaluate a trained policy on another market anyway.
    """
    cfg = _as_config(config)
    check_policy_market(policy, cfg, name or policy_name(policy),
                        override="allow_market_mismatch=True", allowed=allow_market_mismatch)
    if seed is None:
        seed = fresh_seed()
    settings = EvalSettings(n_episodes, seed, ce_gamma, chunk_size)
    fn = as_policy(policy, cfg, batched=batched, name=name)
    seeds = chunk_seeds(seed, settings.n_chunks)
    parts: list[EpisodeArrays] = []
    for i, chunk_seed in enumerate(seeds):
        size = min(chunk_size, n_episodes - i * chunk_size)
        parts.append(_run_chunk(fn, cfg, size, chunk_seed, progress))
    episodes = EpisodeArrays(
        *(np.concatenate([getattr(p, c) for p in parts]) for c in EPISODE_COLUMNS)
    )
    return EvaluationResult(fn.name, cfg, settings, episodes)


def _as_config(config: MarketConfig | str | None) -> MarketConfig:
    if config is None or isinstance(config, str):
        return MarketConfig.preset(config or "default")
    if not isinstance(config, MarketConfig):
        raise ValueError(
            f"config must be a MarketConfig or a preset name, got {type(config).__name__}"
        )
    return config


def _run_chunk(
    policy: Callable[[np.ndarray], np.ndarray],
    config: MarketConfig,
    n: int,
    seed: int,
    progress: ProgressFn | None,
) -> EpisodeArrays:
    """Step ``n`` episodes to the horizon, tracking the per-episode statistics online."""
    env = MarketMakingVectorEnv(n, config, autoreset_mode="Disabled")
    obs, info = env.reset(seed=seed)
    w0 = np.array(info["wealth"], dtype=np.float64)
    w_prev = w0.copy()
    peak = w0.copy()
    drawdown = np.zeros(n)
    bid_fills = np.zeros(n)
    ask_fills = np.zeros(n)
    total_reward = np.zeros(n)
    dw_mean = np.zeros(n)  # Welford's running mean and M2 of the per-step PnL
    dw_m2 = np.zeros(n)
    terminated = np.zeros(n, dtype=bool)
    for t in range(1, config.n_steps + 1):
        obs, reward, terminated, _, info = env.step(policy(obs))
        w = info["wealth"]
        dw = w - w_prev
        w_prev = w
        delta = dw - dw_mean
        dw_mean += delta / t
        dw_m2 += delta * (dw - dw_mean)
        np.maximum(peak, w, out=peak)
        np.maximum(drawdown, peak - w, out=drawdown)
        bid_fills += info["bid_filled"]
        ask_fills += info["ask_filled"]
        total_reward += reward
        if progress is not None:
            progress(1)
    if not terminated.all():  # pragma: no cover - the env terminates at n_steps
        raise RuntimeError("episodes did not terminate after n_steps steps")
    factor = stats.annualisation_factor(config.n_steps, config.T)
    return EpisodeArrays(
        pnl=w_prev - w0,
        final_inventory=np.array(info["inventory"], dtype=np.float64),
        bid_fills=bid_fills,
        ask_fills=ask_fills,
        max_drawdown=drawdown,
        total_reward=total_reward,
        sharpe_annualised=stats.per_step_sharpe(dw_mean, dw_m2, config.n_steps, factor),
    )
