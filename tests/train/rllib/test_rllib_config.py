"""The RLlib side that runs without Ray: the env creator :func:`train.rllib.env.make_env`
(wrapper chain, market, errors), :class:`train.rllib.config.RLlibConfig` (validation
messages, train batch, TOML round trip, env_config) and the ``mm-env rllib-train`` /
``mm-env rllib-tune`` commands (help, the install hint when Ray is missing, option
precedence with the training function replaced by a stub, ``--grid`` parsing).

Ray is made unavailable with ``sys.modules["ray"] = None`` where a test needs it missing, so
every test gives the same result in the plain venv and in the venv with Ray.
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from gymnasium.wrappers import NormalizeReward
from gymnasium.wrappers.vector import NormalizeReward as VectorNormalizeReward

import train.rllib.trainer
from mm_env import MarketConfig, MarketMakingEnv, MarketMakingVectorEnv
from tests.train.conftest import SMALL
from train.cli import rllib as cli_rllib
from train.cli.app import main
from train.cli.rllib import parse_grid
from train.features import compute_features
from train.rllib.config import RLlibConfig
from train.rllib.env import make_env, register, require_ray
from train.rllib.trainer import RLlibResult
from train.wrappers import (
    MartingaleReward,
    SelectFeatures,
    VectorMartingaleReward,
    VectorSelectFeatures,
)

FEATURES = ["time_remaining", "sqrt_time_remaining", "inventory"]
INSTALL_HINT = "pip install 'mm-env[ray]'"


@pytest.fixture
def no_ray(monkeypatch):
    """``import ray...`` raises ImportError, whether or not Ray is installed."""
    for name in ("ray", "ray.rllib", "ray.tune"):
        monkeypatch.setitem(sys.modules, name, None)


# ------------------------------------------------------------------ make_env
def test_make_env_with_an_empty_config_is_the_raw_default_market():
    env = make_env({})
    assert type(env) is MarketMakingEnv
    assert env.config == MarketConfig.preset("default")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3,)


def test_make_env_scalar_wrapper_chain_and_market():
    env_config = {
        "preset": "penalty",
        "overrides": dict(SMALL),
        "obs_features": FEATURES,
        "martingale_reward": True,
        "norm_reward": True,
        "gamma": 0.9,
    }
    env = make_env(env_config)
    assert isinstance(env, SelectFeatures)
    assert isinstance(env.env, NormalizeReward) and env.env.gamma == 0.9
    assert isinstance(env.env.env, MartingaleReward)
    assert type(env.env.env.env) is MarketMakingEnv
    assert env.unwrapped.config == MarketConfig.preset("penalty", **SMALL)
    assert env.observation_space.shape == (3,) and env.transform.features == tuple(FEATURES)
    # the reward is normalised after the martingale correction: undo the scaling and compare
    # with a twin that has only the martingale reward (same seed, same actions)
    twin = MartingaleReward(MarketMakingEnv(MarketConfig.preset("penalty", **SMALL)))
    obs, _ = env.reset(seed=6)
    twin.reset(seed=6)
    assert obs.shape == (3,) and obs.dtype == np.float32
    action = np.float32([0.2, 1.5])
    for _ in range(5):
        obs, reward, *_ = env.step(action)
        _, expected, *_ = twin.step(action)
        scale = math.sqrt(env.env.return_rms.var + env.env.epsilon)
        assert reward * scale == pytest.approx(expected, rel=1e-9, abs=1e-12)
        assert obs.shape == (3,)
    assert env.env.return_rms.count > 5  # the running statistics moved


def test_make_env_vector_wrapper_chain_and_market():
    env_config = {
        "preset": "as2008",
        "overrides": {"sigma": 1.5},
        "obs_features": FEATURES,
        "martingale_reward": True,
        "norm_reward": True,
        "num_envs": 5,
    }
    venv = make_env(env_config)
    assert isinstance(venv, VectorSelectFeatures)
    assert isinstance(venv.env, VectorNormalizeReward)
    assert isinstance(venv.env.env, VectorMartingaleReward)
    base = venv.env.env.env
    assert type(base) is MarketMakingVectorEnv and base.num_envs == venv.num_envs == 5
    assert base.config == MarketConfig.preset("as2008", sigma=1.5)
    assert venv.single_observation_space.shape == (3,)
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (5, 3) and obs.dtype == np.float32
    obs, reward, terminated, truncated, _ = venv.step(np.tile(np.float32([0.5, 0.5]), (5, 1)))
    assert obs.shape == (5, 3) and reward.shape == terminated.shape == truncated.shape == (5,)
    # without the optional wrappers: the bare vector env
    plain = make_env({"preset": "as2008", "num_envs": 3})
    assert type(plain) is MarketMakingVectorEnv and plain.num_envs == 3


def test_make_env_from_an_rllib_config_and_its_scaling():
    cfg = RLlibConfig(
        overrides=SMALL,
        martingale_reward=False,
        norm_reward=False,
        obs_scaling="none",
        obs_features=("inventory", "time_remaining"),
    )
    env = make_env(cfg.env_config())
    assert isinstance(env, SelectFeatures) and type(env.env) is MarketMakingEnv
    assert env.unwrapped.config == cfg.market()
    raw_env = MarketMakingEnv(cfg.market())
    obs, _ = env.reset(seed=2)
    raw, _ = raw_env.reset(seed=2)
    for _ in range(3):
        np.testing.assert_array_equal(
            obs, compute_features(raw, cfg.obs_features).astype(np.float32)
        )
        obs, *_ = env.step(np.float32([0.1, 0.1]))
        raw, *_ = raw_env.step(np.float32([0.1, 0.1]))

    # RLlib adds num_envs in vector_entry_point mode; an EnvContext is a dict with attributes
    class EnvContext(dict):
        worker_index = 1
        vector_index = 0

    venv = make_env(EnvContext(cfg.env_config(), num_envs=4))
    assert isinstance(venv, VectorSelectFeatures) and venv.num_envs == 4
    assert venv.unwrapped.config == cfg.market()


def test_make_env_errors():
    with pytest.raises(
        ValueError,
        match=r"unknown env_config key\(s\) \['foo'\]; valid keys "
        r"are \[.*'obs_features'.*'preset'.*\]",
    ):
        make_env({"preset": "penalty", "foo": 1})
    with pytest.raises(
        ValueError,
        match=r"env_config\['overrides'\] must be a dict, "
        r"got \['sigma', 1.0\]",
    ):
        make_env({"overrides": ["sigma", 1.0]})
    with pytest.raises(ValueError, match=r"preset must be one of .*got 'nope'"):
        make_env({"preset": "nope"})
    with pytest.raises(ValueError, match=r"sigma must be >= 0, got -1.0"):
        make_env({"overrides": {"sigma": -1.0}, "num_envs": 2})
    with pytest.raises(ValueError, match=r"obs_features \['signal'\] are not observed"):
        make_env({"preset": "penalty", "obs_features": ["signal"]})
    with pytest.raises(ValueError, match=r"'adverse_selection'\] move the mid predictably"):
        make_env({"preset": "adverse", "martingale_reward": True, "num_envs": 2})


def test_require_ray_and_register_give_the_install_hint(no_ray):
    with pytest.raises(
        ValueError,
        match=r"Ray RLlib is not installed .*"
        r"pip install 'mm-env\[ray\]'",
    ):
        require_ray()
    with pytest.raises(ValueError, match=r"pip install 'mm-env\[ray\]'"):
        register()


# ------------------------------------------------------------------ RLlibConfig
def test_defaults_are_valid():
    cfg = RLlibConfig()
    assert cfg.preset == "penalty" and cfg.overrides == {}
    assert cfg.market() == MarketConfig.preset("penalty")
    assert cfg.train_batch_size == 40 * 1000
    assert cfg.net_arch == (64, 64) and cfg.obs_features == tuple(FEATURES)
    assert cfg.martingale_reward and cfg.norm_reward and cfg.gamma == 1.0
    docs = RLlibConfig.field_docs()
    assert set(docs) == {f.name for f in dataclasses.fields(RLlibConfig)} and all(docs.values())


@pytest.mark.parametrize(
    ("n_steps", "envs", "runners", "expected"),
    [(40, 1000, 0, 40_000), (40, 1000, 1, 40_000), (10, 8, 3, 240), (7, 3, 5, 105)],
)
def test_train_batch_size(n_steps, envs, runners, expected):
    cfg = RLlibConfig(
        n_steps=n_steps,
        num_envs_per_env_runner=envs,
        num_env_runners=runners,
        minibatch_size=expected,
    )  # a minibatch of the whole batch is allowed
    assert cfg.train_batch_size == expected == n_steps * envs * max(1, runners)
    with pytest.raises(
        ValueError,
        match=rf"minibatch_size \({expected + 1}\) must be <= the "
        rf"train batch .* = {expected}$",
    ):
        cfg.replace(minibatch_size=expected + 1)


BAD_CONFIGS = [
    ({"checkpoint_freq": -1}, r"checkpoint_freq must be an integer >= 0, got -1"),
    ({"log_std_init": 25.0}, r"log_std_init must be in \[-20, 20\], got 25.0"),
    ({"log_std_init": True}, r"log_std_init must be in \[-20, 20\], got True"),
    *(
        ({name: 0}, rf"{name} must be an integer >= 1, got 0")
        for name in (
            "total_timesteps",
            "num_envs_per_env_runner",
            "n_steps",
            "minibatch_size",
            "num_epochs",
        )
    ),
    ({"eval_episodes": 0}, r"eval_episodes must be an integer >= 2, got 0"),
    ({"n_steps": 2.0}, r"n_steps must be an integer >= 1, got 2.0"),
    ({"num_epochs": True}, r"num_epochs must be an integer >= 1, got True"),
    *(
        ({name: -1}, rf"{name} must be an integer >= 0, got -1")
        for name in (
            "num_env_runners",
            "eval_freq",
            "seed",
            "eval_seed",
            "num_cpus",
            "torch_threads",
        )
    ),
    (
        {"martingale_reward": True, "preset": "adverse"},
        r"martingale reward .*\['adverse_selection'\] move the mid predictably",
    ),
    ({"seed": "1"}, r"seed must be an integer >= 0, got '1'"),
    ({"eval_episodes": 1}, r"eval_episodes must be an integer >= 2, got 1"),
    ({"gamma": 1.5}, r"gamma must be in \[0.0, 1.0\], got 1.5"),
    ({"gamma": True}, r"gamma must be in \[0.0, 1.0\], got True"),
    ({"gamma": math.nan}, r"gamma must be in \[0.0, 1.0\], got nan"),
    ({"gae_lambda": -0.1}, r"gae_lambda must be in \[0.0, 1.0\], got -0.1"),
    ({"gae_lambda": "0.9"}, r"gae_lambda must be in \[0.0, 1.0\], got '0.9'"),
    ({"learning_rate": 0.0}, r"learning_rate must be > 0, got 0.0"),
    ({"learning_rate": -1e-3}, r"learning_rate must be > 0, got -0.001"),
    ({"learning_rate": math.inf}, r"learning_rate must be > 0, got inf"),
    ({"learning_rate": math.nan}, r"learning_rate must be > 0, got nan"),
    ({"learning_rate": True}, r"learning_rate must be > 0, got True"),
    ({"learning_rate": "1e-3"}, r"learning_rate must be > 0, got '1e-3'"),
    (
        {"lr_schedule": "cosine"},
        r"lr_schedule must be one of \['constant', 'linear'\], got 'cosine'",
    ),
    ({"obs_scaling": "running"}, r"obs_scaling must be one of \['fixed', 'none'\], got 'running'"),
    ({"address": 1}, r"address must be a string, got 1"),
    ({"net_arch": ()}, r"net_arch must be positive layer sizes, got \(\)"),
    ({"net_arch": (64, 0)}, r"net_arch must be positive layer sizes, got \(64, 0\)"),
    ({"net_arch": (64, 1.5)}, r"net_arch must be positive layer sizes, got \(64, 1.5\)"),
    ({"net_arch": (True,)}, r"net_arch must be positive layer sizes, got \(True,\)"),
    ({"net_arch": 64}, r"net_arch must be positive layer sizes, got 64"),
    ({"obs_features": ()}, r"obs_features must be a non-empty list of .*got \[\]"),
    (
        {"obs_features": ("inventory", "spread")},
        r"obs_features must be a non-empty list of \['time_remaining', .*\], "
        r"got \['inventory', 'spread'\]",
    ),
    ({"obs_features": "inventory"}, r"obs_features must be a non-empty list of .*got 'inventory'"),
    (
        {"minibatch_size": 40_001},
        r"minibatch_size \(40001\) must be <= the train batch "
        r"n_steps \* num_envs_per_env_runner \* max\(1, "
        r"num_env_runners\) = 40000",
    ),
    (
        {"obs_features": ("inventory", "signal")},
        r"obs_features \['signal'\] are not observed in this market",
    ),
    ({"preset": "nope"}, r"preset must be one of .*'penalty'.*got 'nope'"),
    ({"overrides": {"sigma": -1.0}}, r"sigma must be >= 0, got -1.0"),
    ({"overrides": {"bogus": 1}}, r"unknown MarketConfig field\(s\) \['bogus'\]"),
    (
        {"overrides": [("sigma", 1.0)]},
        r"overrides must be a table of MarketConfig fields, got \[\('sigma', 1.0\)\]",
    ),
]


@pytest.mark.parametrize(("changes", "message"), BAD_CONFIGS)
def test_validation_messages(changes, message):
    with pytest.raises(ValueError, match=message):
        RLlibConfig(**changes)


def test_features_observed_by_the_market_are_accepted():
    cfg = RLlibConfig(preset="alpha", obs_features=("inventory", "signal"), martingale_reward=False)
    assert cfg.obs_features == ("inventory", "signal") and cfg.market().obs_extras == ("signal",)
    listed = RLlibConfig(net_arch=[8, 4], obs_features=["inventory"])  # type: ignore[arg-type]
    assert listed.net_arch == (8, 4) and listed.obs_features == ("inventory",)


def test_toml_round_trip(tmp_path):
    cfg = RLlibConfig(
        preset="as2008",
        overrides={
            "inventory_limit": math.inf,
            "fill_model": "poisson",
            "n_steps": 20,
            "sigma": 1.5,
            "mu": -0.25,
            "A": 20,
        },
        seed=3,
        total_timesteps=12_345,
        num_env_runners=2,
        num_envs_per_env_runner=8,
        n_steps=20,
        minibatch_size=64,
        num_epochs=2,
        gamma=0.999,
        gae_lambda=0.9,
        learning_rate=1.2345678901234567e-4,
        lr_schedule="constant",
        net_arch=(16, 8, 4),
        obs_features=("mid", "time_remaining"),
        obs_scaling="none",
        martingale_reward=False,
        norm_reward=False,
        eval_freq=0,
        eval_episodes=10,
        eval_seed=7,
        address="ray://head:10001",
        num_cpus=4,
        torch_threads=2,
    )
    text = cfg.to_toml()
    assert "inventory_limit = inf" in text and "net_arch = [16, 8, 4]" in text
    assert 'address = "ray://head:10001"' in text and "\n[overrides]\n" in text
    cfg.save(tmp_path / "cfg.toml")
    back = RLlibConfig.from_toml(tmp_path / "cfg.toml")
    assert back == cfg and back.to_toml() == text
    assert back.net_arch == (16, 8, 4) and isinstance(back.net_arch, tuple)
    assert back.obs_features == ("mid", "time_remaining") and isinstance(back.obs_features, tuple)
    assert back.overrides["inventory_limit"] == math.inf
    assert back.market() == cfg.market() and back.market().inventory_limit == math.inf
    assert RLlibConfig.from_dict(cfg.to_dict()) == cfg
    default = RLlibConfig()
    default.save(tmp_path / "default.toml")
    assert RLlibConfig.from_toml(tmp_path / "default.toml") == default
    assert not list(tmp_path.glob(".*"))  # the atomic write left no temporary file
    # TOML has no tuples: a tuple-valued override comes back as a list, the same market
    extras = RLlibConfig(
        preset="microstructure",
        overrides={"obs_extras": ("realized_vol",)},
        obs_features=("inventory", "realized_vol"),
    )
    extras.save(tmp_path / "extras.toml")
    again = RLlibConfig.from_toml(tmp_path / "extras.toml")
    assert again.overrides == {"obs_extras": ["realized_vol"]}
    assert again.market() == extras.market() and again.market().obs_extras == ("realized_vol",)


def test_config_file_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        RLlibConfig.from_toml(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("seed = [\n", "is not valid TOML"),
        ("seed = 1\nlearning_rte = 0.1\n", r"unknown RLlibConfig field\(s\) \['learning_rte'\]"),
        # wrong types in a hand-written file are ValueErrors too (the CLI prints them cleanly)
        ("net_arch = 64\n", "net_arch must be positive layer sizes, got 64"),
        ('obs_features = "inventory"\n', r"obs_features must be a non-empty list .*'inventory'"),
        ("overrides = 3\n", "overrides must be a table of MarketConfig fields"),
    ],
)
def test_bad_config_file_content(tmp_path, text, message):
    (tmp_path / "config.toml").write_text(text)
    with pytest.raises(ValueError, match=message):
        RLlibConfig.from_toml(tmp_path / "config.toml")


def test_replace_and_overrides_are_copies():
    overrides = {"n_steps": 20}
    cfg = RLlibConfig(overrides=overrides)
    overrides["n_steps"] = 30
    assert cfg.overrides == {"n_steps": 20}
    changed = cfg.replace(seed=3, net_arch=[32])
    assert changed.seed == 3 and changed.net_arch == (32,) and cfg.seed == 0
    with pytest.raises(
        ValueError,
        match=r"unknown RLlibConfig field\(s\) \['sed'\]; valid "
        r"fields are \[.*'seed'.*\]",
    ):
        cfg.replace(sed=3)
    with pytest.raises(ValueError, match=r"gamma must be in \[0.0, 1.0\], got 2"):
        cfg.replace(gamma=2)


def test_env_config_content():
    cfg = RLlibConfig(
        preset="as2008",
        overrides={"sigma": 1.5},
        obs_scaling="none",
        obs_features=("inventory",),
        martingale_reward=False,
        gamma=0.99,
    )
    env_config = cfg.env_config()
    assert env_config == {
        "preset": "as2008",
        "overrides": {"sigma": 1.5},
        "obs_features": ["inventory"],
        "obs_scaling": "none",
        "martingale_reward": False,
        "norm_reward": True,
        "gamma": 0.99,
    }
    env_config["overrides"]["sigma"] = 9.0  # a copy: the config does not change
    assert cfg.overrides == {"sigma": 1.5}


# ------------------------------------------------------------------ command line
@pytest.mark.parametrize("command", ["rllib-train", "rllib-tune"])
def test_help_lists_every_rllib_config_option(capsys, command):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    for f in dataclasses.fields(RLlibConfig):
        if f.name not in ("preset", "overrides"):  # given by --preset / --set
            assert "--" + f.name.replace("_", "-") in out, f.name
            assert " ".join(f.metadata["doc"].split()) in flat, f.name
    for option in ("--out", "--config", "--set", "--preset"):
        assert option in out
    if command == "rllib-tune":
        assert "--grid" in out and "--seeds" in out and "--cpus-per-trial" in out


@pytest.mark.parametrize(
    "argv",
    [["rllib-train"], ["rllib-tune", "--grid", "gamma=0.9,0.99"]],
)
def test_without_ray_the_commands_exit_2_with_the_install_hint(capsys, tmp_path, no_ray, argv):
    code = main([*argv, "--out", str(tmp_path / "r")])
    _, err = capsys.readouterr()
    assert code == 2
    assert "mm-env: error: Ray RLlib is not installed" in err and INSTALL_HINT in err
    assert "Traceback" not in err and not (tmp_path / "r").exists()


def test_rllib_train_option_precedence(capsys, tmp_path, monkeypatch):
    """defaults < --config FILE < options, with the training itself replaced by a stub."""
    calls = []

    def fake_train(cfg, out):
        calls.append((cfg, out))
        return RLlibResult(
            Path(out),
            480,
            2.6,
            evaluations=[
                {"timesteps": 240, "mean_reward": 1.5, "se_reward": 0.25},
                {
                    "timesteps": 480,
                    "mean_reward": 2.0,
                    "se_reward": 0.5,
                    "score": 0.75,
                    "se_score": 0.125,
                },
            ],
        )

    monkeypatch.setattr(cli_rllib, "require_ray", lambda: None)
    monkeypatch.setattr(train.rllib.trainer, "train_rllib", fake_train)
    base = RLlibConfig(
        seed=9,
        gamma=0.95,
        learning_rate=5e-4,
        overrides={"phi": 0.2},
        n_steps=20,
        num_envs_per_env_runner=8,
        minibatch_size=80,
    )
    base.save(tmp_path / "base.toml")
    out_dir = str(tmp_path / "run")
    code = main(
        [
            "rllib-train",
            "--out",
            out_dir,
            "--config",
            str(tmp_path / "base.toml"),
            "--learning-rate",
            "7e-4",
            "--set",
            "n_steps=20",
            "--net-arch",
            "16,16",
            "--no-norm-reward",
            "--obs-features",
            "inventory,time_remaining",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    [(cfg, out_arg)] = calls
    assert out_arg == out_dir
    assert cfg == base.replace(
        learning_rate=7e-4,
        overrides={"phi": 0.2, "n_steps": 20},
        net_arch=(16, 16),
        norm_reward=False,
        obs_features=("inventory", "time_remaining"),
    )
    assert f"trained 480 steps in 3 s -> {out_dir}" in out
    assert "240 steps: mean reward 1.500 ± 0.250\n" in out
    assert "480 steps: mean reward 2.000 ± 0.500, score 0.750 ± 0.125" in out
    # --preset beats the file's preset; a bad file is a clean error, not a traceback
    calls.clear()
    code = main(
        [
            "rllib-train",
            "--out",
            out_dir,
            "--config",
            str(tmp_path / "base.toml"),
            "--preset",
            "as2008",
        ]
    )
    _, err = capsys.readouterr()
    assert code == 0, err
    assert calls[0][0] == base.replace(preset="as2008")
    (tmp_path / "arch.toml").write_text("net_arch = 64\n")
    code = main(["rllib-train", "--out", out_dir, "--config", str(tmp_path / "arch.toml")])
    _, err = capsys.readouterr()
    assert code == 2 and "net_arch must be positive layer sizes, got 64" in err
    assert "Traceback" not in err and len(calls) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--grid", "gamma=2"], "gamma must be in [0.0, 1.0], got 2"),
        (["--grid", "foo=1"], "unknown sweep parameter 'foo'"),
        (["--grid", "gamma=0.9", "--grid", "gamma=0.99"], "--grid 'gamma' given twice"),
        (["--grid", "gamma=0.9,0.99", "--seeds", "0"], "--seeds must be >= 1, got 0"),
        (["--grid", "seed=1,2", "--seeds", "2"], "give either --seeds or --grid seed=..."),
    ],
)
def test_rllib_tune_argument_errors_exit_2(capsys, tmp_path, monkeypatch, extra, message):
    # Ray counts as installed; each error comes before anything would start Ray Tune
    monkeypatch.setattr(cli_rllib, "require_ray", lambda: None)
    code = main(["rllib-tune", "--out", str(tmp_path / "s"), *extra])
    _, err = capsys.readouterr()
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "s").exists()


def test_parse_grid_types_the_values():
    grid = parse_grid(
        [
            "overrides.phi=0.05,0.1",
            "net_arch=32x32,64x64",
            " gamma = 0.9 , 1 ",
            "obs_features=inventory+time_remaining,inventory",
            "martingale_reward=true,false",
            "seed=1,2,3",
            "preset=penalty,as2008",
        ],
        RLlibConfig(),
    )
    assert grid == {
        "overrides.phi": [0.05, 0.1],
        "net_arch": [(32, 32), (64, 64)],
        "gamma": [0.9, 1],
        "obs_features": [("inventory", "time_remaining"), ("inventory",)],
        "martingale_reward": [True, False],
        "seed": [1, 2, 3],
        "preset": ["penalty", "as2008"],
    }
    assert all(type(v) is float for v in grid["overrides.phi"])
    assert all(type(v) is int for v in grid["seed"])
    assert parse_grid([], RLlibConfig()) == {}


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["phi"], r"--grid takes KEY=V1,V2,..., got 'phi'"),
        (["x="], r"--grid takes KEY=V1,V2,..., got 'x='"),
        (["=1,2"], r"--grid takes KEY=V1,V2,..., got '=1,2'"),
        (["gamma=,"], r"--grid takes KEY=V1,V2,..., got 'gamma=,'"),
        (
            ["foo=1"],
            r"unknown sweep parameter 'foo': use an RLlibConfig field \[.*'gamma'.*\] "
            r"or 'overrides.NAME'",
        ),
        (["gamma=0.9", "gamma=0.99"], r"--grid 'gamma' given twice"),
        (["gamma=0.9,2"], r"gamma must be in \[0.0, 1.0\], got 2"),
        (["overrides.phi=abc"], r"phi must be a real number, got 'abc'"),
        (["overrides.bogus=1"], r"unknown MarketConfig field\(s\) \['bogus'\]"),
        (
            ["net_arch=32x32,32xa"],
            r"--grid net_arch values are layer sizes joined by 'x' "
            r"\(e.g. 64x64\), got '32xa'",
        ),
        (["net_arch=32x0"], r"net_arch must be positive layer sizes, got \(32, 0\)"),
        (["obs_features=inventory+spread"], r"obs_features must be a non-empty list .*'spread'"),
        (["minibatch_size=1000000"], r"minibatch_size \(1000000\) must be <= the train batch"),
    ],
)
def test_parse_grid_errors(items, message):
    with pytest.raises(ValueError, match=message):
        parse_grid(items, RLlibConfig())


def test_resume_errors_before_starting_ray(tmp_path):
    from train.rllib.trainer import resume_rllib

    with pytest.raises(ValueError, match="is not an RLlib run directory"):
        resume_rllib(tmp_path)
    RLlibConfig().save(tmp_path / "config.toml")
    with pytest.raises(ValueError, match="has no checkpoint to resume from"):
        resume_rllib(tmp_path)


def test_rllib_train_needs_out_or_resume(capsys, monkeypatch):
    import train.cli.rllib as cli_rllib

    monkeypatch.setattr(cli_rllib, "require_ray", lambda: None)
    assert main(["rllib-train"]) == 2
    assert "needs --out RUN_DIR" in capsys.readouterr().err


def test_a_finished_run_resumes_as_is_from_a_checkpoint_left_mid_replace(tmp_path):
    """A kill between the two renames of a checkpoint replacement leaves the complete previous
    checkpoint under .checkpoint.old-PID: resume finds it, moves it back and, the run being
    finished (policy saved at its last step), returns without starting Ray."""
    import json

    from train.rllib.trainer import STATE_FILE, resume_rllib

    cfg = RLlibConfig(
        total_timesteps=1000, num_envs_per_env_runner=10, n_steps=10, minibatch_size=50
    )
    cfg.save(tmp_path / "config.toml")
    old = tmp_path / ".checkpoint.old-4242"
    old.mkdir()
    rows = [{"timesteps": 1000, "mean_reward": 1.5}]
    (old / STATE_FILE).write_text(
        json.dumps(
            {
                "iteration": 10,
                "timesteps": 1000,
                "last_eval": 1000,
                "last_checkpoint": 1000,
                "wall_time": 3.0,
                "progress": [],
                "evaluations": rows,
            }
        )
    )
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "meta.json").write_text(json.dumps({"num_timesteps": 1000}))
    result = resume_rllib(tmp_path)
    assert (tmp_path / "checkpoint" / STATE_FILE).is_file() and not old.exists()
    assert result.num_timesteps == 1000 and result.evaluations == rows
    assert result.wall_time == 3.0


def test_a_trial_keeps_the_train_batch_and_samples_in_its_own_process():
    from train.rllib.tune import apply_params

    base = RLlibConfig(num_env_runners=4, num_envs_per_env_runner=250, n_steps=40)
    trial = apply_params(base, {"overrides.phi": 0.2, "gamma": 0.99})
    assert trial.num_env_runners == 0 and trial.num_envs_per_env_runner == 1000
    assert trial.train_batch_size == base.train_batch_size == 40_000
    assert trial.market().phi == 0.2 and trial.gamma == 0.99
    for key in ("num_env_runners", "address", "num_cpus", "phi"):
        with pytest.raises(ValueError, match=f"unknown sweep parameter '{key}'"):
            apply_params(base, {key: 1})


class _Deterministic:
    def __init__(self, mean):
        self.mean = mean

    def to_deterministic(self):
        return self

    def sample(self):
        return self.mean


class _FakeModule:
    """An RLModule stand-in whose deterministic action is fixed: checks the adapter's side."""

    def __init__(self, action):
        self.action = np.asarray(action, np.float32)

    def get_inference_action_dist_cls(self):
        class Dist:
            @staticmethod
            def from_logits(inputs):
                return _Deterministic(inputs)

        return Dist

    def forward_inference(self, batch):
        import torch

        n = batch["obs"].shape[0]
        return {"action_dist_inputs": torch.from_numpy(np.tile(self.action, (n, 1)))}


def test_rllib_policy_clips_each_component_to_the_action_space():
    from mm_env import MarketConfig
    from train.rllib.policy import RLlibPolicy

    market = MarketConfig.preset("penalty", size_action=True, max_order_size=5.0)
    policy = RLlibPolicy(_FakeModule([-50.0, 0.7, 9.0]), market, ("time_remaining", "inventory"))
    obs = np.array([[1.0, 0.0, 100.0], [0.5, 2.0, 100.0]])
    # depths into [min_depth, max_depth] = [-10, 10], the size into [1, max_order_size]
    np.testing.assert_allclose(policy.act(obs), [[-10.0, 0.7, 5.0]] * 2, rtol=1e-6)  # float32
    np.testing.assert_allclose(policy.act(obs[0]), [-10.0, 0.7, 5.0], rtol=1e-6)


# ------------------------------------------------------------------ checkpoint fallback
def _write_checkpoint(path, cfg, steps):
    """A stand-in for a checkpoint of ``cfg`` at ``steps``: the run state and the config (what
    the selection reads; RLlib's own files are checked by loading them)."""
    import json

    from train.rllib.trainer import STATE_FILE

    path.mkdir(parents=True)
    row = {"timesteps": steps, "mean_reward": float(steps)}
    (path / STATE_FILE).write_text(
        json.dumps(
            {
                "iteration": steps // 100,
                "timesteps": steps,
                "last_eval": steps,
                "last_checkpoint": steps,
                "wall_time": 1.0,
                "progress": [],
                "evaluations": [row],
            }
        )
    )
    (path / "config.toml").write_text(cfg.to_toml())


FALLBACK_CFG = RLlibConfig(
    total_timesteps=1000, num_envs_per_env_runner=10, n_steps=10, minibatch_size=50
)


def _damage_state(ckpt):
    (ckpt / "mm_env_state.json").write_text('{"iteration": 3, "timeste')


def _damage_state_types(ckpt):
    (ckpt / "mm_env_state.json").write_text('{"timesteps": "300", "progress": []}')


def _damage_config(ckpt):
    (ckpt / "config.toml").write_bytes(b"total_timesteps = [\xff")


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (_damage_state, r"mm_env_state.json is corrupt: JSONDecodeError"),
        (
            _damage_state_types,
            r"mm_env_state.json is corrupt: TypeError: timesteps must be an "
            r"integer >= 0, got '300'",
        ),
        (_damage_config, r"config.toml does not read back"),
        (None, r"RLlib cannot load it: RuntimeError: garbage"),
    ],
)
def test_a_corrupt_newest_checkpoint_falls_back_to_the_previous_one(tmp_path, damage, problem):
    """The selection of :func:`train.rllib.trainer.resume_rllib` without Ray: the newest
    checkpoint's state file, config or RLlib files (``load`` raising) are damaged; it warns,
    naming both directories, loads the previous one and moves the corrupt one aside."""
    from train.rllib.trainer import _select_checkpoint

    newest, previous = tmp_path / "checkpoint", tmp_path / "checkpoint.previous"
    _write_checkpoint(previous, FALLBACK_CFG, 300)
    _write_checkpoint(newest, FALLBACK_CFG, 600)
    if damage is not None:
        damage(newest)

    def load(path):
        if path == newest and damage is None:
            raise RuntimeError("garbage\nin the module state")
        return ("algo", path)

    message = (
        rf"checkpoint '{re.escape(str(newest))}' is corrupt \({problem}.*\); falling back to "
        rf"the previous checkpoint '{re.escape(str(previous))}'"
    )
    with pytest.warns(UserWarning, match=message):
        ckpt, state, algo = _select_checkpoint(tmp_path, FALLBACK_CFG, load)
    assert ckpt == previous and algo == ("algo", previous)
    assert state.timesteps == 300 and state.evaluations == [
        {"timesteps": 300, "mean_reward": 300.0}
    ]
    assert not newest.exists() and (tmp_path / "checkpoint.corrupt").is_dir()
    # the intact newest checkpoint is used as it is, without a warning
    _write_checkpoint(newest, FALLBACK_CFG, 900)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ckpt, state, algo = _select_checkpoint(tmp_path, FALLBACK_CFG, lambda p: ("algo", p))
    assert ckpt == newest and state.timesteps == 900 and algo == ("algo", newest)


def test_resume_without_an_intact_checkpoint_is_a_one_line_error(tmp_path):
    from train.rllib.trainer import resume_rllib

    FALLBACK_CFG.save(tmp_path / "config.toml")
    newest, previous = tmp_path / "checkpoint", tmp_path / "checkpoint.previous"
    _write_checkpoint(previous, FALLBACK_CFG, 300)
    _write_checkpoint(newest, FALLBACK_CFG, 600)
    _damage_state(newest)
    _damage_config(previous)
    with (
        pytest.warns(UserWarning, match="falling back to the previous"),
        pytest.raises(ValueError) as info,
    ):
        resume_rllib(tmp_path)
    text = str(info.value)
    assert "\n" not in text and "has no intact checkpoint to resume from" in text
    assert f"'{newest}': mm_env_state.json is corrupt" in text
    assert f"'{previous}': config.toml does not read back" in text
    assert newest.is_dir() and not (tmp_path / "checkpoint.corrupt").exists()  # left alone


def test_the_config_check_applies_to_the_checkpoint_used(tmp_path):
    from train.rllib.trainer import _select_checkpoint

    newest, previous = tmp_path / "checkpoint", tmp_path / "checkpoint.previous"
    _write_checkpoint(previous, FALLBACK_CFG.replace(net_arch=(8,)), 300)
    _write_checkpoint(newest, FALLBACK_CFG.replace(seed=5), 600)
    # the intact newest one was written with another seed: refused, no fallback
    with pytest.raises(
        ValueError,
        match=r"differs from the config its checkpoint was written "
        r"with \(seed: 5 -> 0\)",
    ):
        _select_checkpoint(tmp_path, FALLBACK_CFG, lambda path: path)
    # the newest one is corrupt, the previous one has another net_arch: refused too
    _damage_state(newest)
    with (
        pytest.warns(UserWarning, match="falling back"),
        pytest.raises(ValueError, match=r"\(net_arch: \[8\] -> \[64, 64\]\)"),
    ):
        _select_checkpoint(tmp_path, FALLBACK_CFG, lambda path: path)
    assert newest.is_dir()


class _FakeAlgo:
    def __init__(self, steps):
        self.steps = steps

    def save_to_path(self, path):
        Path(path, "algorithm_state.txt").write_text(str(self.steps))


@pytest.mark.parametrize("killed_at", [1, 2, 3])
def test_a_checkpoint_write_killed_between_its_renames_leaves_a_complete_checkpoint(
    tmp_path, monkeypatch, killed_at
):
    """The third checkpoint's write is cut short at each of its three renames (previous aside,
    newest to previous, new into place): the newest complete checkpoint (the second) is still
    found; the next write puts the layout right (new and previous, no leftovers)."""
    import os

    from train.rllib import trainer as rt

    path = tmp_path / "checkpoint"

    def save(steps):
        rt._save_checkpoint(_FakeAlgo(steps), path, rt._RunState(timesteps=steps), FALLBACK_CFG)

    def steps_in(ckpt):
        return int((ckpt / "algorithm_state.txt").read_text())

    save(100)
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint"]
    save(200)
    assert steps_in(path) == 200 and steps_in(tmp_path / "checkpoint.previous") == 100
    (tmp_path / ".checkpoint.tmp-killed").mkdir()  # a killed writer's temporary
    replace, calls = os.replace, []

    def killed(src, dst):
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == killed_at:
            raise KeyboardInterrupt  # the process dies here
        replace(src, dst)

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        save(300)
    monkeypatch.undo()
    assert [dst for _, dst in calls][:killed_at] == [
        f".checkpoint.previous.old-{os.getpid()}",
        "checkpoint.previous",
        "checkpoint",
    ][:killed_at]
    ckpt, state, _ = rt._select_checkpoint(tmp_path, FALLBACK_CFG, lambda p: p)
    assert state.timesteps == 200 == steps_in(ckpt)
    save(300)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint", "checkpoint.previous"]
    assert steps_in(path) == 300 and steps_in(tmp_path / "checkpoint.previous") == 200
