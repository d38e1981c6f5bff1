"""The training pipeline: a short PPO run that learns, the run directory it leaves, the
TrainConfig and its TOML round trip, loading trained models (with their preprocessing and
compatibility checks), and the ``mm-env train`` command."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from agents.simple import RandomAgent
from mm_env import MarketConfig
from tests.train.conftest import SMALL
from train.cli.app import main
from train.evaluation.harness import evaluate
from train.evaluation.score import paired_gap
from train.sb3.algorithms import (
    ACTIVATIONS,
    LinearSchedule,
    algorithm_class,
    algorithm_kwargs,
    learning_rate,
)
from train.sb3.callbacks import EVAL_COLUMNS, CurrentPolicy
from train.sb3.checkpoint import (
    CHECKPOINTS,
    KEEP,
    LATEST,
    RESUME_FILE,
    latest_checkpoint,
)
from train.sb3.config import TrainConfig
from train.sb3.env_stack import make_env_stack
from train.sb3.model_dir import META_FILE, MODEL_FILE, VECNORM_FILE, TrainedPolicy, load_policy
from train.sb3.trainer import CONFIG_FILE, TrainResult, resume, train


def tiny_config(**changes) -> TrainConfig:
    """A run of a few rollouts (a fraction of a second)."""
    values = dict(
        preset="penalty", overrides=SMALL, n_envs=8, n_steps=20, batch_size=80, n_epochs=1,
        total_timesteps=480, net_arch=(8,), eval_freq=160, eval_episodes=20,
        checkpoint_freq=160, tensorboard=False, seed=1,
    )
    values.update(changes)
    return TrainConfig(**values)


def read_eval_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> tuple[TrainConfig, Path, TrainResult]:
    cfg = tiny_config()
    run = tmp_path_factory.mktemp("tiny") / "run"
    result = train(cfg, run)
    return cfg, run, result


# ------------------------------------------------------------------ learning
def test_short_ppo_run_learns_and_leaves_a_complete_run_dir(tmp_path):
    cfg = TrainConfig(
        preset="penalty", overrides=SMALL, n_envs=64, n_steps=20, batch_size=640, n_epochs=5,
        total_timesteps=60_000, learning_rate=1e-3, lr_schedule="constant", net_arch=(32, 32),
        log_std_schedule="learned",
        eval_freq=20_480, eval_episodes=1000, eval_seed=123, checkpoint_freq=20_480,
        tensorboard=False, seed=0,
    )
    market = cfg.market()
    # the untrained policy: the same seed builds the same initial network
    stack = make_env_stack(cfg)
    untrained = algorithm_class("PPO")("MlpPolicy", stack.vecnorm, **algorithm_kwargs(cfg))
    before = evaluate(CurrentPolicy(untrained, stack), market, 1000, cfg.eval_seed)
    rand = evaluate(RandomAgent(market, np.random.default_rng(0)), market, 1000, cfg.eval_seed)

    run = tmp_path / "run"
    result = train(cfg, run)
    assert result.num_timesteps == result.model.num_timesteps >= cfg.total_timesteps
    policy = load_policy(run / "final")
    after = evaluate(policy, market, 1000, cfg.eval_seed)
    r_after = after.episodes.total_reward
    # the last eval.csv row is this same evaluation
    assert result.evaluations[-1]["mean_reward"] == pytest.approx(r_after.mean(), rel=1e-12)

    vs_random = paired_gap(r_after, rand.episodes.total_reward)
    vs_untrained = paired_gap(r_after, before.episodes.total_reward)
    assert vs_random.value > 10 * vs_random.se and vs_random.value > 50, vs_random
    assert vs_untrained.value > 8 * vs_untrained.se and vs_untrained.value > 1, vs_untrained
    # and it is most of the way from the naive 1/k policy to the exact optimum
    final = result.evaluations[-1]
    assert final["score"] > 0.5, final
    assert final["score"] - 4 * final["se_score"] > 0, final

    # ---- the run directory
    assert TrainConfig.from_toml(run / CONFIG_FILE) == cfg
    columns, rows = read_eval_csv(run / "eval.csv")
    assert columns == list(EVAL_COLUMNS)
    steps = [int(r["timesteps"]) for r in rows]
    assert steps == [20_480, 40_960, result.num_timesteps]  # every eval_freq, then the end
    for row, mem in zip(rows, result.evaluations, strict=True):
        for key in EVAL_COLUMNS:
            assert row[key] != "" and float(row[key]) == pytest.approx(mem[key]), key
    assert float(rows[-1]["mean_reward"]) > float(rows[0]["mean_reward"])
    for name in ("best", "final"):
        assert {p.name for p in (run / name).iterdir()} == {MODEL_FILE, META_FILE, VECNORM_FILE}
    best_row = max(result.evaluations, key=lambda r: r["mean_reward"])
    best_meta = json.loads((run / "best" / META_FILE).read_text())
    assert best_meta["num_timesteps"] == best_row["timesteps"]
    assert json.loads((run / "final" / META_FILE).read_text())["num_timesteps"] == steps[-1]
    ckpt = latest_checkpoint(run)
    assert ckpt is not None and ckpt.name == f"step-{result.num_timesteps:012d}"
    assert (run / CHECKPOINTS / LATEST).read_text().strip() == ckpt.name
    assert {p.name for p in ckpt.iterdir()} == {
        MODEL_FILE, META_FILE, VECNORM_FILE, RESUME_FILE, CONFIG_FILE}
    entries = sorted(p.name for p in (run / CHECKPOINTS).iterdir())
    assert entries == [LATEST, "step-000000040960", ckpt.name]  # the KEEP newest, no temp dirs
    assert KEEP == 2
    assert not (run / "tb").exists()  # tensorboard=False
    assert not [p for p in run.rglob(".*")]  # no temporary files left anywhere


def test_tensorboard_logs_are_written(tmp_path):
    run = tmp_path / "run"
    train(tiny_config(tensorboard=True, total_timesteps=320), run)
    events = list((run / "tb").rglob("events.out.tfevents.*"))
    assert events, list((run / "tb").rglob("*"))


# ------------------------------------------------------------------ run dir errors
def test_train_into_an_existing_run_dir_raises(tiny_run):
    cfg, run, _ = tiny_run
    with pytest.raises(ValueError, match=r"already holds a run.*resume"):
        train(cfg, run)


def test_train_into_an_existing_empty_dir_is_fine(tmp_path):
    (tmp_path / "run").mkdir()
    result = train(tiny_config(total_timesteps=160, eval_freq=0, checkpoint_freq=0),
                   tmp_path / "run")
    assert result.num_timesteps == 160
    assert len(result.evaluations) == 1  # eval_freq=0: only the final evaluation
    assert not (tmp_path / "run" / CHECKPOINTS).exists()  # checkpoint_freq=0: none


def test_resume_needs_a_run_with_a_checkpoint(tmp_path):
    with pytest.raises(ValueError, match="not a run directory"):
        resume(tmp_path)
    tiny_config().save(tmp_path / CONFIG_FILE)
    with pytest.raises(ValueError, match="no checkpoint to resume from"):
        resume(tmp_path)
    (tmp_path / CHECKPOINTS).mkdir()
    (tmp_path / CHECKPOINTS / LATEST).write_text("step-000000000160\n")  # names nothing
    with pytest.raises(ValueError, match="no checkpoint to resume from"):
        resume(tmp_path)


def test_resume_of_a_finished_run_changes_nothing(tmp_path):
    cfg = tiny_config(total_timesteps=320)
    run = tmp_path / "run"
    first = train(cfg, run)
    again = resume(run)
    assert again.num_timesteps == first.num_timesteps == 320
    for p, q in zip(first.model.policy.parameters(), again.model.policy.parameters(),
                    strict=True):
        assert torch.equal(p, q)
    _, rows = read_eval_csv(run / "eval.csv")
    assert [int(r["timesteps"]) for r in rows] == [160, 320]  # no duplicate final row


# ------------------------------------------------------------------ TrainConfig
def test_config_toml_round_trip(tmp_path):
    cfg = TrainConfig(
        preset="as2008",
        overrides={"inventory_limit": math.inf, "fill_model": "poisson", "n_steps": 20,
                   "sigma": 1.5, "mu": -0.25, "A": 20},
        algo="A2C", seed=0, net_arch=(16, 8, 4), obs_features=("mid", "time_remaining"),
        obs_scaling="running", learning_rate=1.2345678901234567e-4, gamma=0.999,
        lr_schedule="constant", martingale_reward=False, norm_reward=False,
        eval_freq=0, checkpoint_freq=0, torch_threads=0, progress_bar=True, tensorboard=False,
    )
    text = cfg.to_toml()
    assert "inventory_limit = inf" in text and "net_arch = [16, 8, 4]" in text
    cfg.save(tmp_path / "cfg.toml")
    back = TrainConfig.from_toml(tmp_path / "cfg.toml")
    assert back == cfg and back.to_toml() == text
    assert back.net_arch == (16, 8, 4) and isinstance(back.net_arch, tuple)
    assert back.obs_features == ("mid", "time_remaining")
    assert back.overrides["inventory_limit"] == math.inf
    assert back.market() == cfg.market() and back.market().inventory_limit == math.inf
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    default = TrainConfig()
    default.save(tmp_path / "default.toml")
    assert TrainConfig.from_toml(tmp_path / "default.toml") == default
    assert not list(tmp_path.glob(".*"))  # the atomic write left no temporary file
    # lists are accepted where tuples are expected, and the result is hashable
    listed = TrainConfig(net_arch=[4, 4], obs_features=["inventory"])  # type: ignore[arg-type]
    assert listed.net_arch == (4, 4) and listed.obs_features == ("inventory",)
    assert dataclasses.replace(listed) == listed
    # field docs exist for every field (they become --help)
    docs = TrainConfig.field_docs()
    assert set(docs) == {f.name for f in dataclasses.fields(TrainConfig)} and all(docs.values())


def test_config_replace_and_overrides_are_copies():
    overrides = {"n_steps": 20}
    cfg = TrainConfig(overrides=overrides)
    overrides["n_steps"] = 30
    assert cfg.overrides == {"n_steps": 20}
    assert cfg.replace(seed=3).seed == 3 and cfg.seed == 0
    with pytest.raises(ValueError, match=r"unknown TrainConfig field\(s\) \['sed'\]"):
        cfg.replace(sed=3)


BAD_CONFIGS = [
    ({"algo": "DQN"}, r"algo must be one of \['PPO', 'A2C', 'SAC', 'TD3', 'DDPG'\], got 'DQN'"),
    ({"obs_scaling": "minmax"}, r"obs_scaling must be one of .*'fixed'.*got 'minmax'"),
    ({"lr_schedule": "cosine"}, r"lr_schedule must be one of .*'linear'.*got 'cosine'"),
    *(({name: 0}, rf"{name} must be an integer >= 1, got 0")
      for name in ("total_timesteps", "n_envs", "n_steps", "batch_size", "n_epochs",
                   "eval_episodes")),
    ({"n_envs": 2.0}, r"n_envs must be an integer >= 1, got 2.0"),
    ({"n_envs": True}, r"n_envs must be an integer >= 1, got True"),
    *(({name: -1}, rf"{name} must be an integer >= 0, got -1")
      for name in ("eval_freq", "checkpoint_freq", "torch_threads", "seed", "eval_seed")),
    ({"seed": "1"}, r"seed must be an integer >= 0, got '1'"),
    ({"gamma": 1.5}, r"gamma must be in \[0.0, 1.0\], got 1.5"),
    ({"gamma": True}, r"gamma must be in \[0.0, 1.0\], got True"),
    ({"gae_lambda": -0.1}, r"gae_lambda must be in \[0.0, 1.0\], got -0.1"),
    ({"gae_lambda": "0.9"}, r"gae_lambda must be in \[0.0, 1.0\], got '0.9'"),
    ({"learning_rate": 0.0}, r"learning_rate must be > 0, got 0.0"),
    ({"learning_rate": math.inf}, r"learning_rate must be > 0, got inf"),
    ({"learning_rate": math.nan}, r"learning_rate must be > 0, got nan"),
    ({"learning_rate": True}, r"learning_rate must be > 0, got True"),
    ({"net_arch": ()}, r"net_arch must be positive layer sizes, got \(\)"),
    ({"net_arch": (64, 0)}, r"net_arch must be positive layer sizes, got \(64, 0\)"),
    ({"net_arch": (64, 1.5)}, r"net_arch must be positive layer sizes"),
    ({"net_arch": (True,)}, r"net_arch must be positive layer sizes"),
    ({"net_arch": 64}, r"net_arch must be positive layer sizes, got 64"),
    ({"obs_features": "inventory"}, r"obs_features must be a non-empty .*got 'inventory'"),
    ({"overrides": 3}, r"overrides must be a table of MarketConfig fields, got 3"),
    ({"obs_features": ()}, r"obs_features must be a non-empty .*'time_remaining'.*got \[\]"),
    ({"obs_features": ("spread",)}, r"obs_features must be a non-empty .*got \['spread'\]"),
    ({"preset": "nope"}, r"preset must be one of .*got 'nope'"),
    ({"overrides": {"sigma": -1.0}}, r"sigma must be >= 0, got -1.0"),
    ({"overrides": {"bogus": 1}}, r"unknown MarketConfig field\(s\) \['bogus'\]"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_CONFIGS)
def test_config_validation_messages(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**changes)


def test_config_file_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        TrainConfig.from_toml(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("seed = [\n")
    with pytest.raises(ValueError, match="is not valid TOML"):
        TrainConfig.from_toml(tmp_path / "bad.toml")
    (tmp_path / "unknown.toml").write_text("seed = 1\nlearning_rte = 0.1\n")
    with pytest.raises(ValueError, match=r"unknown TrainConfig field\(s\) \['learning_rte'\]"):
        TrainConfig.from_toml(tmp_path / "unknown.toml")
    (tmp_path / "value.toml").write_text("n_envs = 0\n")
    with pytest.raises(ValueError, match="n_envs must be an integer >= 1, got 0"):
        TrainConfig.from_toml(tmp_path / "value.toml")
    (tmp_path / "market.toml").write_text("[overrides]\nk = -1.5\n")
    with pytest.raises(ValueError, match=r"k must be > 0, got -1\.5"):
        TrainConfig.from_toml(tmp_path / "market.toml")


def test_algorithm_kwargs_follow_the_config():
    cfg = tiny_config(learning_rate=2e-3, lr_schedule="linear", gamma=0.99, log_std_init=-0.5)
    kwargs = algorithm_kwargs(cfg)
    assert kwargs["n_steps"] == 20 and kwargs["batch_size"] == 80 and kwargs["n_epochs"] == 1
    assert kwargs["gamma"] == 0.99 and kwargs["seed"] == 1
    assert kwargs["policy_kwargs"] == {"net_arch": [8], "log_std_init": -0.5,
                                       "activation_fn": ACTIVATIONS[cfg.activation]}
    schedule = learning_rate(cfg)
    assert isinstance(schedule, LinearSchedule)
    assert schedule(1.0) == 2e-3 and schedule(0.25) == pytest.approx(5e-4)
    assert learning_rate(cfg.replace(lr_schedule="constant")) == 2e-3
    off = algorithm_kwargs(cfg.replace(algo="SAC"))
    assert "n_steps" not in off and off["buffer_size"] >= 100_000
    assert "log_std_init" not in off["policy_kwargs"]
    with pytest.raises(ValueError, match="algo must be one of"):
        algorithm_class("DQN")


# ------------------------------------------------------------------ load_policy
def _training_preprocessing(result: TrainResult) -> Callable[[np.ndarray], np.ndarray]:
    """The in-memory model's own input pipeline (VecNormalize over VecSelectObservation)."""
    vecnorm = result.model.get_env()
    select = vecnorm.venv

    def policy_input(obs: np.ndarray) -> np.ndarray:
        return np.asarray(vecnorm.normalize_obs(select.transform(obs)), dtype=np.float32)

    return policy_input


def _observations(market: MarketConfig, n: int = 64) -> np.ndarray:
    """Observations from a few random episodes (various times, inventories and mids)."""
    from mm_env import MarketMakingVectorEnv

    venv = MarketMakingVectorEnv(n, market)
    obs, _ = venv.reset(seed=5)
    rng = np.random.default_rng(5)
    out = [obs]
    for _ in range(market.n_steps - 1):
        obs, *_ = venv.step(rng.uniform(-0.5, 2.0, size=(n, 2)))
        out.append(obs)
    return np.concatenate(out)


@pytest.mark.parametrize("scaling", ["fixed", "running", "none"])
def test_load_policy_round_trip(tmp_path, scaling):
    features = ("time_remaining", "inventory", "mid")
    cfg = tiny_config(obs_scaling=scaling, obs_features=features, seed=4)
    run = tmp_path / "run"
    result = train(cfg, run)
    policy_input = _training_preprocessing(result)
    obs = _observations(cfg.market())
    expected, _ = result.model.predict(policy_input(obs), deterministic=True)
    for name in ("final", "best", f"{CHECKPOINTS}/step-{result.num_timesteps:012d}"):
        policy = load_policy(run / name, config=cfg.market())
        assert isinstance(policy, TrainedPolicy) and policy.config == cfg.market()
        if name == "final":
            np.testing.assert_array_equal(policy.preprocess(obs), policy_input(obs))
            np.testing.assert_array_equal(policy.act(obs), expected)
            one, _ = result.model.predict(policy_input(obs[7]), deterministic=True)
            np.testing.assert_array_equal(policy.act(obs[7]), one)  # one observation
            assert policy.meta["obs_features"] == list(features)
            assert (policy.meta["obs_norm"] is not None) == (scaling == "running")
            assert "PPO" in repr(policy)
    # the loaded policy evaluates exactly like the in-memory model did at the end
    final = load_policy(run / "final")
    again = evaluate(final, cfg.market(), cfg.eval_episodes, cfg.eval_seed)
    assert again.episodes.total_reward.mean() == result.evaluations[-1]["mean_reward"]


def test_load_policy_with_another_config_names_the_field(tiny_run):
    cfg, run, _ = tiny_run
    market = cfg.market()
    assert load_policy(run / "final", config=market).config == market
    with pytest.raises(ValueError, match=r"different market config \(phi: trained 0.1 vs given "
                                         r"0.2\).*on its own config"):
        load_policy(run / "final", config=market.replace(phi=0.2))
    with pytest.raises(ValueError, match=r"n_steps: trained 20 vs given 200"):  # a preset name
        load_policy(run / "final", config="penalty")
    with pytest.raises(ValueError, match=r"config 'no_such_preset'"):
        load_policy(run / "final", config="no_such_preset")
    with pytest.raises(ValueError, match=r"n_steps: trained 20 vs given 200"):
        load_policy(run / "final", config=MarketConfig.preset("penalty"))
    with pytest.raises(ValueError, match=r"mid_model: trained 'abm' vs given 'gbm'.*sigma"):
        load_policy(run / "final", config=MarketConfig.preset("default", **SMALL))


def _copy_model_dir(run: Path, tmp_path: Path, **meta_changes) -> Path:
    dst = tmp_path / "model"
    shutil.copytree(run / "final", dst)
    meta = json.loads((dst / META_FILE).read_text())
    meta.update(meta_changes)
    (dst / META_FILE).write_text(json.dumps(meta))
    return dst


def test_load_policy_rejects_another_observation_layout(tiny_run, tmp_path):
    _, run, _ = tiny_run
    layout = ["inventory", "time_remaining", "mid"]
    path = _copy_model_dir(run, tmp_path, observation_names=layout)
    with pytest.raises(ValueError, match=r"trained on observations \['inventory', "
                                         r"'time_remaining', 'mid'\].*retrain"):
        load_policy(path)


def test_load_policy_accepts_a_prefix_of_the_layout(tiny_run, tmp_path):
    """Features appended to the observation later do not break older models."""
    _, run, _ = tiny_run
    path = _copy_model_dir(run, tmp_path, observation_names=["time_remaining", "inventory"])
    assert load_policy(path).act(np.array([1.0, 0.0, 100.0])).shape == (2,)


def test_load_policy_rejects_a_meta_that_does_not_match_the_network(tiny_run, tmp_path):
    _, run, _ = tiny_run
    n = len(TrainConfig().obs_features)  # the network's input size in tiny_run
    features = ["time_remaining", "inventory", "mid", "sqrt_time_remaining"][: n + 1]
    path = _copy_model_dir(run, tmp_path, obs_features=features,
                           obs_offset=[0.0] * (n + 1), obs_scale=[1.0] * (n + 1))
    pattern = rf"observation space has shape \({n},\).*{n + 1} features"
    with pytest.raises(ValueError, match=pattern):
        load_policy(path)


def test_load_policy_needs_a_model_dir(tiny_run, tmp_path):
    _, run, _ = tiny_run
    with pytest.raises(ValueError, match=r"is not a model directory.*RUN_DIR/best"):
        load_policy(tmp_path)
    with pytest.raises(ValueError, match="is not a model directory"):
        load_policy(run / "final" / MODEL_FILE)


# ------------------------------------------------------------------ mm-env train
FAST_CLI = ["--n-envs", "8", "--n-steps", "20", "--batch-size", "80", "--n-epochs", "1",
            "--total-timesteps", "320", "--net-arch", "8", "--eval-freq", "160",
            "--eval-episodes", "20", "--checkpoint-freq", "160", "--no-tensorboard"]


def test_cli_train_and_precedence(tmp_path, capsys):
    base = tiny_config(seed=9, gamma=0.95, learning_rate=5e-4)
    base.save(tmp_path / "base.toml")
    code = main(["train", "--out", str(tmp_path / "run"), "--config", str(tmp_path / "base.toml"),
                 *FAST_CLI, "--learning-rate", "7e-4", "--set", "n_steps=20", "--set", "A=20",
                 "--set", "fill_model=poisson", "--obs-features", "inventory,time_remaining"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "trained 320 steps" in out and "mean reward" in out and "score" in out
    written = TrainConfig.from_toml(tmp_path / "run" / CONFIG_FILE)
    expected = base.replace(learning_rate=7e-4, obs_features=("inventory", "time_remaining"),
                            overrides={**SMALL, "A": 20.0}, total_timesteps=320)
    assert written == expected  # defaults < --config < command line
    assert written.seed == 9 and written.gamma == 0.95
    # --resume continues it (nothing left to do) and must not be mixed with a new config
    code = main(["train", "--resume", str(tmp_path / "run")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "trained 320 steps" in out
    for extra in (["--out", str(tmp_path / "x")], ["--config", str(tmp_path / "base.toml")],
                  ["--set", "phi=0.2"], ["--total-timesteps", "640"], ["--preset", "as2008"]):
        code = main(["train", "--resume", str(tmp_path / "run"), *extra])
        out, err = capsys.readouterr()
        assert code == 2 and "--resume continues a run with its own config.toml" in err, extra
        if extra[0] in ("--total-timesteps", "--preset"):
            assert f"(got {extra[0]})" in err


def test_cli_train_errors(tmp_path, capsys):
    code = main(["train", *FAST_CLI])
    _, err = capsys.readouterr()
    assert code == 2 and "needs --out RUN_DIR" in err
    code = main(["train", "--out", str(tmp_path / "r"), *FAST_CLI, "--gamma", "2"])
    _, err = capsys.readouterr()
    assert code == 2 and "gamma must be in [0.0, 1.0], got 2.0" in err
    code = main(["train", "--resume", str(tmp_path)])
    _, err = capsys.readouterr()
    assert code == 2 and "not a run directory" in err
    with pytest.raises(SystemExit):
        main(["train", "--out", str(tmp_path / "r"), "--net-arch", "a,b"])
    _, err = capsys.readouterr()
    assert "net_arch must be an integer, got 'a'" in err


def test_cli_train_help_lists_every_field(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out, _ = capsys.readouterr()
    for f in dataclasses.fields(TrainConfig):
        if f.name not in ("preset", "overrides"):
            assert "--" + f.name.replace("_", "-") in out, f.name
    assert "--resume" in out and "--config" in out and "--set" in out


def test_cli_sb3_spec_loads_a_model_directory_with_its_preprocessing(tiny_run, tmp_path):
    """`mm-env evaluate --policy sb3:path=RUN/final` uses load_policy (feature selection and
    scaling), so it reproduces evaluate() of the loaded policy exactly."""
    from train.cli.app import main as cli_main
    from train.evaluation.harness import evaluate

    cfg, run, _ = tiny_run
    market = cfg.market()
    expected = evaluate(load_policy(run / "final"), market, 50, 3).summary()["mean_pnl"]
    out = tmp_path / "out"
    overrides = [x for k, v in cfg.overrides.items() for x in ("--set", f"{k}={v}")]
    rc = cli_main(["evaluate", "--policy", f"sb3:path={run / 'final'}", "--preset", cfg.preset,
                   *overrides, "--episodes", "50", "--seed", "3", "--out", str(out)])
    assert rc == 0
    doc = json.loads((out / "summary.json").read_text())
    assert doc["summary"]["mean_pnl"] == pytest.approx(expected, rel=1e-12)
