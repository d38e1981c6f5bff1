"""The competition law: one maker is the single-asset model; the best quote takes the side's
order with probability p(d*); ties are shared uniformly; a maker at its limit is skipped;
every maker's books add up on every step."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import mm_env
from mm_env.competition import CompetitionDynamics, CompetitionVectorEnv, best_quote, build_config
from tests.mm_env.conftest import EVERYTHING

WITHOUT_SIZE = {k: v for k, v in EVERYTHING.items() if k not in ("size_action", "max_order_size")}
#: (preset, overrides) covering every market component (the size action excepted)
MARKETS: list[tuple[str, dict[str, Any]]] = [
    ("as2008", {}),
    ("default", {"tick_size": 0.05, "maker_fee": 0.01, "fill_shape": "power"}),
    ("penalty", {"inventory_limit": 3.0}),
    ("course", {}),
    ("adverse", {}),
    ("alpha", {}),
    ("microstructure", {}),
    ("as2008", WITHOUT_SIZE),
    ("as2008", {"replay": 100 + np.cumsum(np.random.default_rng(0).normal(0, 0.1, 800))}),
]


def run(
    env: CompetitionVectorEnv, depths: np.ndarray, steps: int, seed: int = 0
) -> dict[str, np.ndarray]:
    """Step ``env`` with fixed ``depths`` ``(N, 2)``; every info key stacked over steps."""
    env.reset(seed=seed)
    actions = np.broadcast_to(depths, (env.num_games, *depths.shape))
    infos = []
    for _ in range(steps):
        infos.append(env.step(actions)[4])
    return {k: np.stack([i[k] for i in infos]) for k in infos[0]}


@pytest.mark.parametrize(("preset", "overrides"), MARKETS)
def test_one_maker_is_the_single_asset_vector_env(preset: str, overrides: dict[str, Any]) -> None:
    """Bit for bit, over several episodes (autoresets included), with random actions."""
    games = 8
    single = mm_env.MarketMakingVectorEnv(games, preset=preset, **overrides)
    game = CompetitionVectorEnv(games, 1, preset=preset, **overrides)
    n = single.config.n_steps
    obs1, info1 = single.reset(seed=11)
    obs2, info2 = game.reset(seed=11)
    np.testing.assert_array_equal(obs1, obs2[:, 0])
    rng = np.random.default_rng(5)
    for t in range(2 * n + 5):
        a = rng.uniform(-0.5, 2.5, (games, 2))
        obs1, r1, term1, trunc1, info1 = single.step(a)
        obs2, r2, term2, trunc2, info2 = game.step(a[:, None, :])
        np.testing.assert_array_equal(obs1, obs2[:, 0], err_msg=f"step {t}")
        np.testing.assert_array_equal(r1, r2[:, 0], err_msg=f"step {t}")
        np.testing.assert_array_equal(term1, term2)
        np.testing.assert_array_equal(trunc1, trunc2)
        for key, value in info2.items():
            np.testing.assert_array_equal(info1[key], value[:, 0], err_msg=f"{key} step {t}")
    assert set(info2) == {k for k in info1 if not k.startswith("_")}


def test_one_maker_matches_the_scalar_env_statistically() -> None:
    """Fill rates per side and the mean episode reward of a fixed policy, against
    MarketMakingEnv (its own random stream): equal within 5 standard errors."""
    episodes, preset, depths = 150, "penalty", (0.9, 1.1)
    scalar = mm_env.MarketMakingEnv(preset=preset)
    n = scalar.config.n_steps
    fills = np.zeros(2)
    totals = []
    scalar.reset(seed=1)
    for _ in range(episodes):
        scalar.reset()
        total = 0.0
        for _ in range(n):
            _, r, _, _, info = scalar.step(np.array(depths))
            fills += (info["bid_filled"], info["ask_filled"])
            total += r
        totals.append(total)
    game = CompetitionVectorEnv(episodes, 1, preset=preset)
    game.reset(seed=2)
    game_totals = np.zeros(episodes)
    game_fills = np.zeros(2)
    for _ in range(n):
        _, r, _, _, info = game.step(np.broadcast_to(depths, (episodes, 1, 2)))
        game_totals += r[:, 0]
        game_fills += (info["bid_filled"].sum(), info["ask_filled"].sum())
    count = episodes * n
    for side in range(2):
        p1, p2 = fills[side] / count, game_fills[side] / count
        se = math.sqrt(p1 * (1 - p1) / count + p2 * (1 - p2) / count)
        assert abs(p1 - p2) < 5 * se, (side, p1, p2, se)
        assert abs(p2 - game.dynamics.fill_probability(depths[side])) < 5 * se
    se = math.sqrt(np.var(totals, ddof=1) / episodes + np.var(game_totals, ddof=1) / episodes)
    assert abs(np.mean(totals) - np.mean(game_totals)) < 5 * se


def test_tied_makers_share_the_fills() -> None:
    """Two makers at one depth: each wins half of the side's trades; the side trades with
    probability p(d*), never more than once."""
    env = CompetitionVectorEnv(400, 2, preset="as2008")
    info = run(env, np.array([[0.5, 0.7], [0.5, 0.7]]), 100)
    p = {0: env.dynamics.fill_probability(0.5), 1: env.dynamics.fill_probability(0.7)}
    for side, key in enumerate(("bid_filled", "ask_filled")):
        filled = info[key]  # (steps, games, N)
        assert filled.sum(axis=2).max() == 1
        traded = filled.any(axis=2)
        rate_se = math.sqrt(p[side] * (1 - p[side]) / traded.size)
        assert abs(traded.mean() - p[side]) < 5 * rate_se
        share = filled[..., 0].sum() / traded.sum()
        assert abs(share - 0.5) < 5 * math.sqrt(0.25 / traded.sum()), (key, share)


def test_three_way_tie_after_clipping() -> None:
    """Depths equal after clipping into [min_depth, max_depth] tie: three makers below
    min_depth = -10 fill with probability 1 and share the fills a third each."""
    env = CompetitionVectorEnv(300, 3, preset="as2008")
    info = run(env, np.array([[-20.0, -10.0], [-15.0, -11.0], [-10.0, -30.0]]), 50)
    for key in ("bid_filled", "ask_filled"):
        filled = info[key]
        np.testing.assert_array_equal(filled.sum(axis=2), 1)  # p(-10) = 1: every step
        shares = filled.reshape(-1, 3).mean(axis=0)
        se = math.sqrt(2 / 9 / filled.shape[0] / filled.shape[1])
        np.testing.assert_array_less(np.abs(shares - 1 / 3), 5 * se)


def test_a_strictly_better_quote_takes_every_fill() -> None:
    env = CompetitionVectorEnv(400, 2, preset="as2008")
    info = run(env, np.array([[0.5, 0.8], [0.6, 0.7]]), 100)
    assert not info["bid_filled"][..., 1].any()  # maker 1 is behind on the bid
    assert not info["ask_filled"][..., 0].any()  # maker 0 is behind on the ask
    for key, maker, depth in (("bid_filled", 0, 0.5), ("ask_filled", 1, 0.7)):
        rate = info[key][..., maker].mean()
        p = env.dynamics.fill_probability(depth)
        assert abs(rate - p) < 5 * math.sqrt(p * (1 - p) / info[key][..., maker].size)


def test_a_maker_at_its_limit_is_skipped() -> None:
    """Maker 0 (limit 1) bids better; once long 1 it stops bidding and maker 1 (no limit)
    gets the bid fills, at its own depth's rate."""
    env = CompetitionVectorEnv(300, 2, preset="as2008", inventory_limit=(1.0, math.inf))
    info = run(env, np.array([[0.2, 10.0], [0.6, 10.0]]), 100)
    quoted0 = info["bid_quoted"][..., 0]
    q_before = np.concatenate([np.zeros((1, 300)), info["inventory"][:-1, :, 0]])
    np.testing.assert_array_equal(quoted0, q_before + 1.0 <= 1.0)
    assert info["inventory"][..., 0].max() == 1.0
    assert not (info["bid_filled"][..., 0] & ~quoted0).any()
    assert not (info["bid_filled"][..., 1] & quoted0).any()  # behind maker 0 while it quotes
    skipped = ~quoted0
    assert skipped.mean() > 0.9
    rate = info["bid_filled"][..., 1][skipped].mean()
    p = env.dynamics.fill_probability(0.6)
    assert abs(rate - p) < 5 * math.sqrt(p * (1 - p) / skipped.sum())


def test_limit_flags_follow_the_inventory_before_the_step() -> None:
    env = CompetitionVectorEnv(50, 2, preset="as2008", inventory_limit=(2.0, 3.0))
    env.reset(seed=4)
    q_before = np.zeros((50, 2))
    for _ in range(60):
        _, _, _, _, info = env.step(np.full((50, 2, 2), 0.1))
        np.testing.assert_array_equal(info["bid_quoted"], q_before + 1.0 <= [2.0, 3.0])
        np.testing.assert_array_equal(info["ask_quoted"], q_before - 1.0 >= [-2.0, -3.0])
        assert (np.abs(info["inventory"]) <= [2.0, 3.0]).all()
        q_before = info["inventory"]


@pytest.mark.parametrize(
    ("preset", "overrides"),
    [
        ("microstructure", {}),
        ("default", {"tick_size": 0.01, "maker_fee": 0.005}),
    ],
)
def test_accounting_identity_on_every_step(preset: str, overrides: dict[str, Any]) -> None:
    """Per maker: cash moves by the fills at its quotes minus fees (and the liquidation cost
    at the end), inventory by its fills, wealth = cash + q S, reward (pnl) = change of
    wealth; per side at most one fill."""
    env = CompetitionVectorEnv(64, 3, preset=preset, **overrides)
    size = env.config.market.order_size
    _, info = env.reset(seed=9)
    rng = np.random.default_rng(0)
    for _ in range(env.config.market.n_steps):
        before = info
        actions = rng.uniform(0.0, 1.5, (64, 3, 2))
        _, reward, _, _, info = env.step(actions)
        bid_f, ask_f = info["bid_filled"], info["ask_filled"]
        assert (bid_f.sum(axis=1) <= 1).all() and (ask_f.sum(axis=1) <= 1).all()
        assert not (bid_f & ~info["bid_quoted"]).any()
        expected = (
            before["cash"]
            - size * bid_f * info["bid"]
            + size * ask_f * info["ask"]
            - info.get("fees", 0.0)
            - info.get("liquidation_cost", 0.0)
        )
        np.testing.assert_allclose(info["cash"], expected, rtol=1e-12, atol=1e-9)
        np.testing.assert_array_equal(
            info["inventory"], before["inventory"] + size * (bid_f * 1.0 - ask_f)
        )
        np.testing.assert_allclose(
            info["wealth"], info["cash"] + info["inventory"] * info["mid"], rtol=1e-12, atol=1e-9
        )
        np.testing.assert_allclose(reward, info["wealth"] - before["wealth"], rtol=1e-12, atol=1e-9)
        # quoted prices sit on the right side of the mid they were quoted around
        mid_before = before["mid"]
        assert (info["bid"] <= mid_before + 1e-9).all() and (info["ask"] >= mid_before - 1e-9).all()


def test_inventory_penalty_is_per_maker() -> None:
    env = CompetitionVectorEnv(32, 2, preset="penalty", reward=("pnl", "inventory_penalty"))
    _, info = env.reset(seed=3)
    c = env.config.market
    for _ in range(c.n_steps):
        before = info
        _, reward, term, _, info = env.step(np.full((32, 2, 2), 0.3))
        dw = info["wealth"] - before["wealth"]
        np.testing.assert_allclose(reward[:, 0], dw[:, 0], atol=1e-9)
        q2 = info["inventory"][:, 1] ** 2
        np.testing.assert_allclose(
            reward[:, 1], dw[:, 1] - c.phi * c.dt * q2 - c.alpha * q2 * term, atol=1e-9
        )
    assert term.all()


def test_common_random_numbers() -> None:
    """Two policies from one seed face the same mids (no fill-driven component)."""
    mids = []
    for depths in (np.array([[0.2, 0.3], [1.0, 0.1]]), np.array([[5.0, 0.0], [0.4, 9.0]])):
        env = CompetitionVectorEnv(16, 2, preset="as2008")
        mids.append(run(env, depths, 250, seed=21)["mid"])
    np.testing.assert_array_equal(mids[0], mids[1])


def test_best_quote() -> None:
    depth = np.array([[1.0, 0.5, 0.5], [0.2, 0.2, 0.2], [0.3, 0.1, 0.4], [0.1, 0.1, 0.1]])
    quoted = np.array(
        [[True, True, True], [True, False, True], [True, False, True], [False, False, False]]
    )
    tie = np.array([0.6, 0.49, 0.99, 0.5])
    best, anyone, winner = best_quote(depth, quoted, tie)
    np.testing.assert_array_equal(best, [0.5, 0.2, 0.3, np.inf])
    np.testing.assert_array_equal(anyone, [True, True, True, False])
    # row 0: makers 1 and 2 tie, floor(0.6 * 2) = 1 -> maker 2; row 1: makers 0 and 2,
    # floor(0.49 * 2) = 0 -> maker 0; row 2: maker 0 alone; row 3: nobody quotes
    np.testing.assert_array_equal(
        winner,
        [[False, False, True], [True, False, False], [True, False, False], [False, False, False]],
    )


def test_the_dynamics_accept_c_ordered_arrays_of_one_game() -> None:
    dynamics = CompetitionDynamics(build_config(n_makers=2, preset="as2008"))
    rng = np.random.default_rng(0)
    state = dynamics.initial_state(1, rng)
    result = dynamics.step(
        state, np.array([[0.5, 0.5]]), np.array([[-10.0, 0.5]]), dynamics.draw_noise(rng, 1)
    )
    assert result.state.cash.shape == (1, 2)
    assert result.ask_filled[0].tolist() == [True, False]  # p(-10) = 1, maker 0 best
    assert dynamics.rewards(result).shape == (1, 2)
