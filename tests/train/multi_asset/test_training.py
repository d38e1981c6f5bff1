"""A tiny PPO run on the multi-asset market: the run directory, the model directory and its
loader round trip, the market check, and the run config's validation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from agents.multi_asset import evaluate_on_multi_lattice
from tests.train.multi_asset.conftest import SMALL_PAIR, small_pair
from train.evaluation.multi_asset import evaluate_multi_asset
from train.sb3.multi_asset import (
    MultiAssetTrainConfig,
    load_multi_asset_policy,
    train_multi_asset,
)
from train.values import UserError

TINY = dict(
    overrides=SMALL_PAIR,
    total_timesteps=1_280,
    n_envs=32,
    n_steps=20,
    batch_size=320,
    n_epochs=1,
    eval_freq=640,
    net_arch=(16, 16),
)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    cfg = MultiAssetTrainConfig(**TINY)
    return cfg, train_multi_asset(cfg, tmp_path_factory.mktemp("ma") / "run")


def test_run_directory_and_exact_periodic_evaluation(run):
    cfg, result = run
    assert result.num_timesteps == cfg.total_timesteps
    assert (result.run_dir / "config.json").is_file()
    assert (
        MultiAssetTrainConfig.from_dict(json.loads((result.run_dir / "config.json").read_text()))
        == cfg
    )
    rows = result.evaluations
    assert [r["steps"] for r in rows] == [640, 1280] and {r["method"] for r in rows} == {"exact"}
    lines = (result.run_dir / "eval.csv").read_text().splitlines()
    assert lines[0] == "steps,wall_s,mean_reward,se,method" and len(lines) == 3
    # the final row is the exact value of the final model
    final = load_multi_asset_policy(result.final_dir)
    assert rows[-1]["mean_reward"] == pytest.approx(
        evaluate_on_multi_lattice(final, cfg.market()).initial, rel=1e-12
    )
    best = load_multi_asset_policy(result.best_dir)
    assert evaluate_on_multi_lattice(best, cfg.market()).initial == pytest.approx(
        max(r["mean_reward"] for r in rows), rel=1e-12
    )
    with pytest.raises(UserError, match="already holds a run"):
        train_multi_asset(cfg, result.run_dir)


def test_loader_round_trip(run):
    cfg, result = run
    policy = load_multi_asset_policy(result.final_dir, cfg.market())
    meta = json.loads((result.final_dir / "meta.json").read_text())
    assert meta["kind"] == "multi_asset" and meta["features"] == list(cfg.features)
    assert meta["columns"] == [
        "time_remaining",
        "sqrt_time_remaining",
        "inverse_steps_remaining",
        "final_step",
        "inventory_1",
        "inventory_2",
        "inventory_inverse_steps_1",
        "inventory_inverse_steps_2",
        "inventory_final_step_1",
        "inventory_final_step_2",
    ]
    assert meta["obs_scale"] == [1.0] * 4 + [4.0] * 6
    assert policy.trained_market == cfg.market() == small_pair()
    rng = np.random.default_rng(0)
    tau = np.concatenate([rng.uniform(0.1, 1, 7), [0.05, 0.1]])  # dt = 0.05: the last two steps
    obs = np.column_stack([tau, rng.integers(-4, 5, (9, 2)), np.full((9, 2), 100.0)]).astype(
        np.float32
    )
    t = obs[:, :1].astype(np.float64)
    inv = 0.05 / np.maximum(t, 0.05)
    last = (t < 0.075).astype(np.float64)
    q = obs[:, 1:3] / 4.0
    x = np.column_stack([t, np.sqrt(t), inv, last, q, q * inv, q * last]).astype(np.float32)
    assert last[:, 0].tolist() == [0.0] * 7 + [1.0, 0.0]
    expected, _ = result.model.predict(x, deterministic=True)
    assert np.array_equal(policy.act(obs), np.asarray(expected, np.float64))
    assert policy.act(obs[0]).shape == (4,)
    np.testing.assert_allclose(policy.act(obs[0]), policy.act(obs)[0], atol=1e-6)  # BLAS order
    # the loaded policy runs in the harness on its own market
    assert evaluate_multi_asset(policy, cfg.market(), 20, 0).n_episodes == 20


def test_model_directory_market_check(run, tmp_path):
    _, result = run
    with pytest.raises(UserError, match="n_steps: trained 20 vs given 200"):
        load_multi_asset_policy(result.final_dir, "pair")
    policy = load_multi_asset_policy(result.final_dir)
    with pytest.raises(UserError, match="trained on another market"):
        evaluate_multi_asset(policy, "pair", 10, 0)
    with pytest.raises(UserError, match="not a multi-asset model directory"):
        load_multi_asset_policy(tmp_path)
    (tmp_path / "meta.json").write_text(json.dumps({"kind": "single"}))
    with pytest.raises(UserError, match="key 'kind'"):
        load_multi_asset_policy(tmp_path)
    meta = json.loads((result.final_dir / "meta.json").read_text())
    meta["market"]["rho"] = [[1.0, 2.0], [2.0, 1.0]]
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(UserError, match="key 'market' is not a valid market"):
        load_multi_asset_policy(tmp_path)


def test_config_validation():
    assert MultiAssetTrainConfig().market().n_assets == 2
    with pytest.raises(ValueError, match="total_timesteps must be an integer >= 1"):
        MultiAssetTrainConfig(total_timesteps=0)
    with pytest.raises(ValueError, match="gamma must be a number in"):
        MultiAssetTrainConfig(gamma=1.5)
    with pytest.raises(ValueError, match="distinct names"):
        MultiAssetTrainConfig(features=("inventory", "wealth"))
    with pytest.raises(ValueError, match="net_arch"):
        MultiAssetTrainConfig(net_arch=(0,))
    with pytest.raises(ValueError, match="unknown MultiAssetTrainConfig"):
        MultiAssetTrainConfig.from_dict({"nope": 1})
    with pytest.raises(ValueError, match="n_steps"):
        MultiAssetTrainConfig(overrides={"n_steps": 0})
