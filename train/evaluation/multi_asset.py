"""Monte Carlo evaluation of multi-asset policies on the native vector env (no RL framework).

``evaluate_multi_asset(policy, config, n_episodes, seed)`` runs ``n_episodes`` episodes of the
multi-asset market ``config`` (:class:`mm_env.multi_asset.MultiAssetConfig` or a preset name)
under ``policy`` (anything with ``act(obs)`` on a batch, e.g. the agents of
:mod:`agents.multi_asset` or a loaded trained policy; or a callable ``obs (m, 1 + 2n) ->
depths (m, 2n)``) and returns a :class:`MultiAssetEvaluation`: per episode the total env
reward, the PnL ``W_T - W_0`` and the terminal inventories ``(n_episodes, n)``.

Common random numbers. Episodes run in chunks of at most ``chunk_size`` in one
:class:`~mm_env.multi_asset.MultiAssetMarketMakingVectorEnv`; chunk ``i`` is reset with the
seed :func:`train.evaluation.harness.chunk_seeds` derives from ``seed``. The vector env draws
the same random numbers each step whatever the actions, so every deterministic policy run with
the same ``(n_episodes, seed, chunk_size)`` faces the same mids and the same fill uniforms:
differences between policies are paired per episode, and :func:`paired` / :func:`score`
(the delta method of :mod:`train.evaluation.score`) give their standard errors.

The score is ``(E[R_policy] - E[R_naive]) / (E[R_optimal] - E[R_naive])`` with ``naive``
quoting ``1/k_i`` on both sides of every asset (:class:`NaiveMultiAssetPolicy`) and
``optimal`` the exact optimum of the env
(:class:`agents.multi_asset.MultiAssetDiscreteOptimalAgent`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mm_env.multi_asset import MultiAssetConfig, MultiAssetMarketMakingVectorEnv
from train.evaluation.harness import chunk_seeds
from train.evaluation.score import Score, optimality_score, paired_gap
from train.values import UserError


class NaiveMultiAssetPolicy:
    """Quotes ``1/k_i`` on both sides of every asset, whatever the state (the score's floor)."""

    def __init__(self, config: MultiAssetConfig) -> None:
        self.config = config
        self.depths = np.repeat(1.0 / np.asarray(config.k, dtype=np.float64), 2)

    def act(self, obs: np.ndarray) -> np.ndarray:
        x = np.asarray(obs)
        return np.broadcast_to(self.depths, (*x.shape[:-1], self.depths.shape[0])).copy()

    def __repr__(self) -> str:
        return "NaiveMultiAssetPolicy(1/k)"


@dataclass(frozen=True, eq=False)
class MultiAssetEvaluation:
    """Per-episode outcomes of :func:`evaluate_multi_asset` and how they were produced."""

    policy: str
    config: MultiAssetConfig
    n_episodes: int
    seed: int
    chunk_size: int
    total_reward: np.ndarray
    """``(n_episodes,)`` sum of the env's rewards over each episode."""
    pnl: np.ndarray
    """``(n_episodes,)`` mark-to-market PnL ``W_T - W_0`` [price units]."""
    final_inventory: np.ndarray
    """``(n_episodes, n_assets)`` inventories at the horizon [shares]."""

    @property
    def mean_reward(self) -> Score:
        """Mean episode reward and its standard error."""
        x = self.total_reward
        return Score(float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.shape[0])))

    def summary(self) -> dict[str, Any]:
        """Mean and SE of the reward and the PnL, mean |terminal inventory| per asset."""
        r, p = self.mean_reward, self.pnl
        return {
            "n_episodes": self.n_episodes,
            "mean_reward": r.value,
            "se_reward": r.se,
            "mean_pnl": float(p.mean()),
            "se_pnl": float(p.std(ddof=1) / np.sqrt(p.shape[0])),
            "mean_abs_inventory": np.abs(self.final_inventory).mean(axis=0).tolist(),
        }


def evaluate_multi_asset(
    policy: Any,
    config: MultiAssetConfig | str = "pair",
    n_episodes: int = 1000,
    seed: int = 0,
    *,
    chunk_size: int = 10_000,
    name: str | None = None,
    allow_market_mismatch: bool = False,
) -> MultiAssetEvaluation:
    """Run ``n_episodes`` episodes of ``policy`` on ``config`` (module doc: CRN, chunks).

    A trained policy (one with ``trained_market``) trained on another market is refused with
    the differing fields (UserError), unless ``allow_market_mismatch``.
    """
    cfg = _as_config(config)
    _check_int("n_episodes", n_episodes, 2)
    _check_int("seed", seed, 0)
    _check_int("chunk_size", chunk_size, 1)
    label = name or _policy_name(policy)
    check_trained_market(policy, cfg, label, allowed=allow_market_mismatch)
    act = _as_callable(policy)
    rewards, pnls, inventories = [], [], []
    for i, chunk_seed in enumerate(chunk_seeds(seed, -(-n_episodes // chunk_size))):
        size = min(chunk_size, n_episodes - i * chunk_size)
        r, p, q = _run_chunk(act, cfg, size, chunk_seed)
        rewards.append(r)
        pnls.append(p)
        inventories.append(q)
    return MultiAssetEvaluation(
        label,
        cfg,
        n_episodes,
        seed,
        chunk_size,
        np.concatenate(rewards),
        np.concatenate(pnls),
        np.concatenate(inventories),
    )


def paired(a: MultiAssetEvaluation, b: MultiAssetEvaluation) -> Score:
    """``mean(R_a - R_b)`` over the shared episodes and its standard error."""
    _check_paired(a, b)
    return paired_gap(a.total_reward, b.total_reward)


def score(
    policy: MultiAssetEvaluation, naive: MultiAssetEvaluation, optimal: MultiAssetEvaluation
) -> Score:
    """The optimality score of ``policy`` and its delta-method standard error (paired)."""
    _check_paired(policy, naive)
    _check_paired(policy, optimal)
    return optimality_score(policy.total_reward, naive.total_reward, optimal.total_reward)


def market_diff(trained: MultiAssetConfig, given: MultiAssetConfig) -> str:
    """The fields where two multi-asset markets differ: ``name: trained X vs given Y, ...``."""
    mine, theirs = trained.to_dict(), given.to_dict()
    return ", ".join(
        f"{k}: trained {v!r} vs given {theirs.get(k)!r}"
        for k, v in mine.items()
        if theirs.get(k) != v
    )


def check_trained_market(
    policy: Any, config: MultiAssetConfig, label: str, *, allowed: bool = False
) -> None:
    """UserError when ``policy.trained_market`` exists and differs from ``config``."""
    trained = getattr(policy, "trained_market", None)
    if trained is None or allowed:
        return
    if not isinstance(trained, MultiAssetConfig):
        raise UserError(
            f"policy {label!r} was trained on a {type(trained).__name__}, not on a multi-asset "
            "market; evaluate it with train.evaluation.evaluate"
        )
    if trained != config:
        raise UserError(
            f"policy {label!r} was trained on another market ({market_diff(trained, config)});"
            " pass allow_market_mismatch=True to use it anyway"
        )


def _run_chunk(
    act: Callable[[np.ndarray], np.ndarray], config: MultiAssetConfig, n: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    env = MultiAssetMarketMakingVectorEnv(n, config, autoreset_mode="Disabled")
    obs, info = env.reset(seed=seed)
    w0 = np.array(info["wealth"], dtype=np.float64)
    total = np.zeros(n)
    width = 2 * config.n_assets
    terminated = np.zeros(n, dtype=bool)
    for _ in range(config.n_steps):
        action = np.asarray(act(obs), dtype=np.float64)
        if action.shape != (n, width):
            raise ValueError(
                f"policy returned actions of shape {action.shape} for {n} observations; "
                f"expected ({n}, {width}) = [bid_1, ask_1, ..., bid_n, ask_n] per row"
            )
        obs, reward, terminated, _, info = env.step(action)
        total += reward
    if not terminated.all():  # pragma: no cover - the env terminates at n_steps
        raise RuntimeError("episodes did not terminate after n_steps steps")
    pnl = np.array(info["wealth"], dtype=np.float64) - w0
    return total, pnl, np.array(info["inventory"], dtype=np.float64)


def _as_callable(policy: Any) -> Callable[[np.ndarray], np.ndarray]:
    act = getattr(policy, "act", None)
    if callable(act):
        return act
    if callable(policy) and not isinstance(policy, type):
        return policy
    raise ValueError(
        f"policy must have an act(obs) method or be a callable obs -> depths, got "
        f"{type(policy).__name__}"
    )


def _policy_name(policy: Any) -> str:
    return str(getattr(policy, "name", None) or type(policy).__name__)


def _as_config(config: MultiAssetConfig | str) -> MultiAssetConfig:
    if isinstance(config, str):
        return MultiAssetConfig.preset(config)
    if not isinstance(config, MultiAssetConfig):
        raise ValueError(
            f"config must be a MultiAssetConfig or a preset name, got {type(config).__name__}"
        )
    return config


def _check_paired(a: MultiAssetEvaluation, b: MultiAssetEvaluation) -> None:
    key_a = (a.config, a.n_episodes, a.seed, a.chunk_size)
    key_b = (b.config, b.n_episodes, b.seed, b.chunk_size)
    if key_a != key_b:
        raise ValueError(
            f"paired differences need both evaluations on the same episodes (same config, "
            f"n_episodes, seed and chunk_size); got {a.policy!r}: {key_a[1:]} and "
            f"{b.policy!r}: {key_b[1:]}" + ("" if a.config == b.config else ", other configs")
        )


def _check_int(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
