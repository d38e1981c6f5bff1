"""Monte Carlo evaluation of a profile of policies in the competition game.

``evaluate_competition(profile, game, n_episodes=..., seed=...)`` plays ``n_episodes``
games of :class:`mm_env.competition.CompetitionVectorEnv` with maker ``j`` choosing its
quotes by ``profile[j]`` (a list of ``N`` policies), or with one shared policy called on
every maker's observation (``profile`` a single policy: parameter sharing, one call per step
on the ``num_games * N`` rows). A policy is anything
:func:`train.evaluation.policy_adapter.as_policy` accepts (``act(obs)`` on per-maker
observations, a batch ``(n, obs_dim)``); a trained one that carries ``trained_market`` must
have been trained on this market.

Seeds, chunks and common random numbers, as :mod:`train.evaluation.harness`: games run in
chunks of at most ``chunk_size``, chunk ``i`` reset with
:func:`train.evaluation.harness.chunk_seeds`'s ``i``-th seed; the env draws the same numbers
every step whatever the actions, so two profiles evaluated with the same ``n_episodes``,
``seed`` and ``chunk_size`` face the same mids, order flow and tie draws.

Per episode and maker the harness records (:class:`CompetitionEpisodes`) the reward (the sum
of the env's per-step rewards), the PnL (final minus initial mark-to-market wealth,
``X + q S``), the bid and ask fills, and the sum and count of the quoted spreads: at each
step where the maker quotes both sides, ``bid depth + ask depth`` measured from the mid the
quotes were made at (after clipping and the tick). The summary
(:meth:`CompetitionEvaluation.summary`) gives, per maker and pooled over the makers, with
standard errors over the independent episodes:

- ``reward``, ``pnl``, ``fills``: episode means, SE ``std / sqrt(n)``;
- ``spread``: the mean quoted spread, ``sum spreads / sum quoting steps`` (a ratio of means;
  SE by the delta method); NaN for a maker that never quoted both sides;
- ``fill_share``: the maker's share of all the makers' fills, ``sum fills_j / sum fills``
  (ratio of means, delta-method SE); the pooled value is ``1 / N`` by construction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mm_env import MarketConfig
from mm_env.competition import CompetitionConfig, CompetitionVectorEnv, build_config
from train.evaluation.harness import chunk_seeds
from train.evaluation.policy_adapter import AdaptedPolicy, as_policy, policy_name
from train.evaluation.stats import Estimate
from train.evaluation.trained import check_policy_market

__all__ = [
    "COMPETITION_METRICS",
    "CompetitionEpisodes",
    "CompetitionEvaluation",
    "evaluate_competition",
    "ratio_estimate",
]

#: The metrics of :meth:`CompetitionEvaluation.summary`, in order.
COMPETITION_METRICS = ("reward", "pnl", "spread", "fill_share", "fills")


@dataclass(frozen=True)
class CompetitionEpisodes:
    """Per-episode, per-maker arrays ``(n_episodes, N)`` (float64)."""

    reward: np.ndarray
    pnl: np.ndarray
    bid_fills: np.ndarray
    ask_fills: np.ndarray
    spread_sum: np.ndarray
    quoting_steps: np.ndarray

    @property
    def fills(self) -> np.ndarray:
        return self.bid_fills + self.ask_fills


def mean_estimate(x: np.ndarray) -> Estimate:
    """The mean of iid values ``x`` and its standard error ``std(ddof=1) / sqrt(n)``."""
    n = x.shape[0]
    se = float(np.std(x, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return Estimate(float(np.mean(x)), se)


def ratio_estimate(num: np.ndarray, den: np.ndarray) -> Estimate:
    """``sum(num) / sum(den)`` over iid episodes and its delta-method standard error
    ``std(num - r den) / (sqrt(n) mean(den))``; NaN when ``sum(den) == 0``."""
    n = num.shape[0]
    total = float(np.sum(den))
    if total == 0.0:
        return Estimate(math.nan, math.nan)
    r = float(np.sum(num)) / total
    if n < 2:
        return Estimate(r, math.nan)
    influence = (num - r * den) / (total / n)
    return Estimate(r, float(np.std(influence, ddof=1) / math.sqrt(n)))


@dataclass(frozen=True)
class CompetitionEvaluation:
    """What :func:`evaluate_competition` returns: the episodes and their summary."""

    game: CompetitionConfig
    names: tuple[str, ...]
    """Display name of each maker's policy."""
    n_episodes: int
    seed: int
    chunk_size: int
    episodes: CompetitionEpisodes

    @property
    def n_makers(self) -> int:
        return self.game.n_makers

    def maker(self, metric: str, j: int) -> Estimate:
        """``metric`` (one of :data:`COMPETITION_METRICS`) of maker ``j``."""
        e = self.episodes
        if metric == "spread":
            return ratio_estimate(e.spread_sum[:, j], e.quoting_steps[:, j])
        if metric == "fill_share":
            return ratio_estimate(e.fills[:, j], e.fills.sum(axis=1))
        return mean_estimate(self._column(metric)[:, j])

    def pooled(self, metric: str) -> Estimate:
        """``metric`` over all makers: the mean per maker (reward, pnl, fills), the pooled
        ratio (spread), ``1 / N`` (fill_share, when anybody traded)."""
        e = self.episodes
        if metric == "spread":
            return ratio_estimate(e.spread_sum.sum(axis=1), e.quoting_steps.sum(axis=1))
        if metric == "fill_share":
            total = e.fills.sum(axis=1)
            return ratio_estimate(total / self.n_makers, total)
        return mean_estimate(self._column(metric).mean(axis=1))

    def summary(self) -> dict[str, dict[str, Any]]:
        """``{metric: {"makers": [Estimate per maker], "all": pooled Estimate}}``."""
        return {
            m: {"makers": [self.maker(m, j) for j in range(self.n_makers)], "all": self.pooled(m)}
            for m in COMPETITION_METRICS
        }

    def _column(self, metric: str) -> np.ndarray:
        if metric not in COMPETITION_METRICS:
            raise ValueError(f"metric must be one of {list(COMPETITION_METRICS)}, got {metric!r}")
        e = self.episodes
        column: np.ndarray = e.fills if metric == "fills" else getattr(e, metric)
        return column


def _needs_full_information(policy: object) -> bool:
    return bool(getattr(policy, "full_information", False) or getattr(policy, "needs_other", False))


def _game(
    game: CompetitionConfig | MarketConfig | str | None,
    n_makers: int | None,
    full_information: bool | None,
    overrides: dict[str, Any],
) -> CompetitionConfig:
    if isinstance(game, CompetitionConfig):
        if overrides or n_makers not in (None, game.n_makers):
            raise ValueError(
                "game is a CompetitionConfig: pass neither overrides nor another n_makers "
                f"(got n_makers={n_makers!r}, overrides {sorted(overrides)})"
            )
        if full_information is None or full_information == game.full_information:
            return game
        return build_config(game, full_information=full_information)
    if isinstance(game, str):
        return build_config(
            n_makers=n_makers, preset=game, full_information=full_information, overrides=overrides
        )
    return build_config(
        game, n_makers=n_makers, full_information=full_information, overrides=overrides
    )


def _profile(profile: Any, n_makers: int | None) -> tuple[list[Any], bool]:
    """(policies, shared)."""
    if isinstance(profile, (list, tuple)):
        if not profile:
            raise ValueError("profile must be a policy or a non-empty list of one per maker")
        if n_makers is not None and len(profile) != n_makers:
            raise ValueError(
                f"profile has {len(profile)} policies, but the game has n_makers={n_makers}; "
                "pass one policy per maker, or one shared policy"
            )
        return list(profile), False
    return [profile], True


def evaluate_competition(
    profile: Any,
    game: CompetitionConfig | MarketConfig | str | None = None,
    *,
    n_makers: int | None = None,
    n_episodes: int = 1000,
    seed: int = 0,
    chunk_size: int = 10_000,
    full_information: bool | None = None,
    names: Sequence[str] | None = None,
    allow_market_mismatch: bool = False,
    **overrides: Any,
) -> CompetitionEvaluation:
    """Monte Carlo of ``profile`` in the game (module doc).

    Args:
        profile: one policy per maker (a list) or one shared policy.
        game: a :class:`CompetitionConfig`, a :class:`MarketConfig` or a preset name (with
            ``n_makers`` and keyword ``overrides``, as :func:`mm_env.competition.build_config`).
        n_makers: the number of makers (default: the list's length, else the game's).
        n_episodes: games to play, >= 2.
        seed: master seed (the same for every profile: common random numbers).
        chunk_size: games stepped together (results depend on it).
        full_information: observation layout; default: the game's, or True when a policy
            says it needs the other makers' columns (``full_information`` or ``needs_other``).
        names: display names of the makers' policies.
        allow_market_mismatch: play a trained policy (one with ``trained_market``) on another
            market than it was trained on (refused by default).
    """
    for name, value, low in (
        ("n_episodes", n_episodes, 2),
        ("chunk_size", chunk_size, 1),
        ("seed", seed, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    policies, shared = _profile(profile, n_makers)
    if not shared and n_makers is None:
        n_makers = len(policies)
    if full_information is None and any(_needs_full_information(p) for p in policies):
        full_information = True
    cfg = _game(game, n_makers, full_information, dict(overrides))
    if not shared and len(policies) != cfg.n_makers:
        raise ValueError(
            f"profile has {len(policies)} policies, but the game has n_makers={cfg.n_makers}"
        )
    labels = _names(names, policies, shared, cfg.n_makers)
    adapted = []
    for policy, label in zip(policies, labels, strict=False):
        check_policy_market(
            policy,
            cfg.market,
            label,
            override="allow_market_mismatch=True",
            allowed=allow_market_mismatch,
        )
        adapted.append(as_policy(policy, cfg.market, name=label))
    chunks: list[CompetitionEpisodes] = []
    n_chunks = -(-int(n_episodes) // int(chunk_size))
    for i, chunk_seed in enumerate(chunk_seeds(int(seed), n_chunks)):
        games = min(int(chunk_size), int(n_episodes) - i * int(chunk_size))
        chunks.append(_run_chunk(adapted, shared, cfg, games, chunk_seed))
    episodes = CompetitionEpisodes(
        *(
            np.concatenate([getattr(c, f) for c in chunks])
            for f in CompetitionEpisodes.__annotations__
        )
    )
    return CompetitionEvaluation(cfg, labels, int(n_episodes), int(seed), int(chunk_size), episodes)


def _names(
    names: Sequence[str] | None, policies: list[Any], shared: bool, n: int
) -> tuple[str, ...]:
    if names is not None:
        out = tuple(str(x) for x in names)
        if len(out) != n:
            raise ValueError(f"names must have n_makers = {n} entries, got {len(out)}")
        return out
    labels = [getattr(p, "name", None) or policy_name(p) for p in policies]
    return tuple(labels * n) if shared else tuple(labels)


def _run_chunk(
    policies: list[AdaptedPolicy],
    shared: bool,
    cfg: CompetitionConfig,
    games: int,
    seed: int,
) -> CompetitionEpisodes:
    env = CompetitionVectorEnv(games, config=cfg, autoreset_mode="Disabled")
    n = cfg.n_makers
    obs, info = env.reset(seed=seed)
    wealth0 = np.array(info["wealth"], dtype=np.float64)
    mid = np.array(info["mid"], dtype=np.float64)
    reward = np.zeros((games, n))
    bid_fills = np.zeros((games, n))
    ask_fills = np.zeros((games, n))
    spread_sum = np.zeros((games, n))
    quoting = np.zeros((games, n))
    actions = np.empty((games, n, 2))
    for _ in range(cfg.market.n_steps):
        if shared:
            actions = env.unflat(policies[0](env.flat(obs)))
        else:
            for j, policy in enumerate(policies):
                actions[:, j] = policy(obs[:, j])
        obs, rewards, terminated, _, info = env.step(actions)
        reward += rewards
        bid_fills += info["bid_filled"]
        ask_fills += info["ask_filled"]
        both = info["bid_quoted"] & info["ask_quoted"]
        spread = (mid - info["bid"]) + (info["ask"] - mid)
        spread_sum += np.where(both, spread, 0.0)
        quoting += both
        mid = np.array(info["mid"], dtype=np.float64)
    if not terminated.all():  # pragma: no cover - the horizon is n_steps
        raise RuntimeError("the games did not end after n_steps steps")
    pnl = np.asarray(info["wealth"], dtype=np.float64) - wealth0
    return CompetitionEpisodes(reward, pnl, bid_fills, ask_fills, spread_sum, quoting)
