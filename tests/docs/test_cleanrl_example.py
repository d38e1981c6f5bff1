"""The CleanRL-style PPO example (examples/cleanrl_ppo.py): its command line, its NextStep
autoreset handling and a short training run, in-process and as a script."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import itertools
import math
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "cleanrl_ppo.py"
# 8 envs x 64 steps x 2 iterations of 20-step episodes: 6 episode ends (and 6 autoreset steps)
# per env, tiny evaluation
SMALL = ["--n-steps", "20", "--num-envs", "8", "--num-steps", "64",
         "--total-timesteps", "1024", "--update-epochs", "2", "--num-minibatches", "4",
         "--eval-episodes", "64"]
NUMBER = r"(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|nan|-?inf)"


# the example (and the SB3 snippet) set torch's thread count globally: restore it
pytestmark = pytest.mark.usefixtures("keep_torch_threads")


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cleanrl_ppo_example", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    return module


def field_docs(cls: type) -> dict[str, str]:
    """The docstring under each field of dataclass ``cls`` (what tyro turns into --help)."""
    tree = ast.parse(SCRIPT.read_text())
    body = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls.__name__)
    docs = {}
    for node, after in itertools.pairwise(body.body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[node.target.id] = after.value.value
    return docs


def test_help_shows_every_field_with_its_docstring(example, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # tyro's help box: one line per option
    with pytest.raises(SystemExit) as exit_info:
        example.parse_args(["--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    docs = field_docs(example.Args)
    for field in dataclasses.fields(example.Args):
        assert "--" + field.name.replace("_", "-") in text
        assert " ".join(docs[field.name].split()) in text, field.name


def test_parse_args_types_defaults_and_flags(example):
    defaults = example.parse_args([])
    assert defaults == example.Args()
    args = example.parse_args(["--num-envs", "3", "--learning-rate", "1e-3", "--no-anneal-lr",
                               "--preset", "as2008", "--cuda"])
    assert args.num_envs == 3 and args.learning_rate == 1e-3
    assert args.anneal_lr is False and args.cuda is True and args.preset == "as2008"
    with pytest.raises(SystemExit):
        example.parse_args(["--num-envs", "many"])


def test_gae_stops_at_episode_ends_and_skips_autoreset_steps(example):
    """Two sub-envs over 4 steps; env 0 terminates at t=1 (t=2 is its autoreset step),
    env 1 is truncated at t=2 (bootstrapped from the final observation, obs[3])."""
    gamma, lam = 0.9, 0.5
    rewards = torch.tensor([[1.0, 1.0], [2.0, 1.0], [0.0, 1.0], [3.0, 0.0]])
    values = torch.tensor([[0.5, 0.1], [0.4, 0.2], [9.0, 0.3], [0.7, 5.0]])
    next_value = torch.tensor([0.6, 0.8])
    terminations = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    dones = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    valid = torch.tensor([[1.0, 1.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    adv = example.compute_gae(rewards, values, next_value, terminations, dones, valid,
                              gamma, lam)

    def gae(r, v, v_next, term, done):  # plain recursion over one env's valid steps
        out, last = [], 0.0
        for t in reversed(range(len(r))):
            delta = r[t] + gamma * v_next[t] * (1 - term[t]) - v[t]
            last = delta + gamma * lam * (1 - done[t]) * last
            out.append(last)
        return out[::-1]

    # env 0: episode [t0, t1] terminates (no bootstrap); t2 autoreset; new episode at t3
    a0 = gae([1.0, 2.0], [0.5, 0.4], [0.4, 9.0], [0, 1], [0, 1])
    a3 = gae([3.0], [0.7], [0.6], [0], [0])
    torch.testing.assert_close(adv[:, 0], torch.tensor([a0[0], a0[1], 0.0, a3[0]]))
    # env 1: episode [t0, t2] truncated: bootstrapped from V(obs[3]) = 5.0; t3 autoreset
    a1 = gae([1.0, 1.0, 1.0], [0.1, 0.2, 0.3], [0.2, 0.3, 5.0], [0, 0, 0], [0, 0, 1])
    torch.testing.assert_close(adv[:, 1], torch.tensor([*a1, 0.0]))


def test_main_trains_with_the_projects_training_wrappers(example, capsys):
    """--obs-features and --martingale-reward put the project's Gymnasium wrappers (those of
    the SB3 and RLlib pipelines) under the CleanRL loop; the evaluation maps raw
    observations through the same feature transform."""
    args = example.parse_args([*SMALL, "--obs-features", "time_remaining,inventory",
                               "--martingale-reward"])
    assert args.martingale_reward and args.obs_features == "time_remaining,inventory"
    result = example.main(args)
    capsys.readouterr()
    assert result["global_step"] == 1024
    assert all(math.isfinite(reward) for _, reward in result["history"])
    assert math.isfinite(result["eval_mean"])


def test_main_trains_and_returns_finite_numbers(example, capsys):
    result = example.main(example.parse_args(SMALL))
    out = capsys.readouterr().out
    assert result["global_step"] == 1024
    # NextStep: the 6 autoreset steps per sub-env are dropped from the batch
    assert result["transitions"] == 8 * (128 - 6)
    assert len(result["history"]) == 2
    for step, reward in result["history"]:
        assert step > 0 and math.isfinite(reward)
        assert f"mean_episode_reward={reward:.4f}" in out
    assert math.isfinite(result["eval_mean"]) and math.isfinite(result["eval_se"])
    assert result["eval_se"] > 0
    assert f"eval: mean_episode_reward={result['eval_mean']:.4f}" in out
    # the "penalty" task: the optimal policy on the same episodes, and the paired gap
    assert math.isfinite(result["optimal_mean"]) and math.isfinite(result["gap_se"])
    assert result["gap_mean"] == pytest.approx(result["eval_mean"] - result["optimal_mean"])
    assert f"PPO - optimal = {result['gap_mean']:.4f}" in out


def test_script_runs_from_the_command_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *SMALL, "--log-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    rewards = re.findall(r"mean_episode_reward=" + NUMBER, proc.stdout)
    assert len(rewards) == 3  # two training iterations and the evaluation
    assert all(math.isfinite(float(r)) for r in rewards), proc.stdout
    (run_dir,) = tmp_path.iterdir()  # TensorBoard events and the trained agent
    assert (run_dir / "agent.pt").is_file()
    assert any(p.name.startswith("events.out.tfevents") for p in run_dir.iterdir())
