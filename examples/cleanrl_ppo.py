"""PPO on mm_env's native vector env, in the single-file style of CleanRL.

Follows CleanRL's ``ppo_continuous_action.py`` (https://docs.cleanrl.dev/rl-algorithms/ppo/)
with Gymnasium 1.x's vector API and no dependency beyond torch, tyro and the project: the
arguments are the fields of ``Args``, read by ``tyro.cli`` (their docstrings are the
``--help`` text), then the agent, then ``main`` from top to bottom: env setup, rollout,
GAE, PPO update, and a final evaluation of the deterministic policy next to the exactly
optimal one (``agents``) on the same episodes. 1.5M steps (about 110 s on 2 CPU cores)
reach 65.6 against the optimum's 66.7 on the default ``penalty`` task (docs/frameworks.md
quotes the output).

    .venv/bin/python examples/cleanrl_ppo.py --help
    .venv/bin/python examples/cleanrl_ppo.py --total-timesteps 1500000

Autoreset. ``gym.make_vec(..., vectorization_mode="vector_entry_point")`` builds the native
numpy vector env in Gymnasium's default ``NextStep`` autoreset mode: the ``step`` after a
sub-env's episode ended does not act, it resets that sub-env and returns the first
observation of its next episode with reward 0. Such an *autoreset step* is no transition of
the MDP, so the rollout marks it (``valid = 0``) and drops it from the PPO batch; the GAE
recursion stops at the episode end before it. A bonus of ``NextStep``: the observation
returned at an episode end is the real final observation, stored as ``obs[t + 1]``, so
``V(obs[t + 1])`` bootstraps a truncation (e.g. from a ``TimeLimit``) correctly, while a
termination (the env's horizon) gets no bootstrap. (The alternative, ``autoreset_mode=
"SameStep"``, returns the reset observation at once and hides the final one in
``info["final_obs"]``; see https://farama.org/Vector-Autoreset-Mode.)
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
import tyro
from gymnasium.vector import AutoresetMode
from torch.distributions.normal import Normal

import mm_env  # registers "mm_env/MarketMaking-v0"
from train.wrappers import VectorMartingaleReward, VectorSelectFeatures


@dataclass
class Args:
    exp_name: str = "cleanrl_ppo"
    """the name of this experiment"""
    seed: int = 1
    """seed of the experiment (python, numpy, torch and the env)"""
    torch_deterministic: bool = True
    """if toggled, `torch.backends.cudnn.deterministic=True`"""
    cuda: bool = False
    """use CUDA when available (this small MLP is usually fastest on the CPU)"""
    torch_threads: int = 1
    """torch CPU threads (0: torch's default)"""
    log_dir: str = ""
    """if set, write TensorBoard scalars and the trained agent to LOG_DIR/<run name>"""

    # Environment
    preset: str = "penalty"
    """the mm_env preset (mm_env.MarketConfig.preset): 'penalty' is the training task"""
    n_steps: int = 0
    """steps per episode, overriding the preset's (0: keep it); dt = T / n_steps"""
    obs_features: str = ""
    """network input through the project's training wrapper (train.wrappers.VectorSelectFeatures,
    as mm-env train and RLlib use it): comma-separated train.features names, e.g.
    time_remaining,sqrt_time_remaining,inventory, with their fixed scaling ('': the raw obs)"""
    martingale_reward: bool = False
    """train on the reward minus its zero-mean price noise (train.wrappers.VectorMartingaleReward,
    the SB3 and RLlib pipelines' training reward); the evaluation uses the env's own reward"""

    # Algorithm specific arguments
    total_timesteps: int = 3_000_000
    """total timesteps of the experiments (all sub-envs together)"""
    learning_rate: float = 3e-4
    """the learning rate of the optimizer"""
    num_envs: int = 128
    """the number of parallel game environments (one numpy batch)"""
    num_steps: int = 128
    """the number of steps to run in each environment per policy rollout"""
    anneal_lr: bool = True
    """Toggle learning rate annealing for policy and value networks"""
    gamma: float = 1.0
    """the discount factor gamma (1: the env's undiscounted finite-horizon objective)"""
    gae_lambda: float = 0.95
    """the lambda for the general advantage estimation"""
    num_minibatches: int = 32
    """the number of mini-batches"""
    update_epochs: int = 10
    """the K epochs to update the policy"""
    norm_adv: bool = True
    """Toggles advantages normalization"""
    clip_coef: float = 0.2
    """the surrogate clipping coefficient"""
    clip_vloss: bool = True
    """Toggles whether or not to use a clipped loss for the value function, as per the paper."""
    ent_coef: float = 0.0
    """coefficient of the entropy"""
    vf_coef: float = 0.5
    """coefficient of the value function"""
    max_grad_norm: float = 0.5
    """the maximum norm for the gradient clipping"""
    target_kl: float = 0.0
    """the target KL divergence threshold (0: no early stopping)"""

    # Evaluation
    eval_episodes: int = 2000
    """episodes of the final deterministic evaluation (0: skip it)"""


def parse_args(argv: list[str] | None = None) -> Args:
    """``Args`` from the command line with tyro, as CleanRL does: ``--field-name VALUE``,
    ``--flag/--no-flag``; the field docstrings are the ``--help``."""
    return tyro.cli(Args, args=argv, description=(__doc__ or "").split("\n\n")[0])


def layer_init(layer: nn.Linear, std: float = np.sqrt(2), bias_const: float = 0.0) -> nn.Linear:
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(self, obs_dim: int, act_dim: int) -> None:
        super().__init__()
        self.critic = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 64)),
            nn.Tanh(),
            layer_init(nn.Linear(64, 64)),
            nn.Tanh(),
            layer_init(nn.Linear(64, 1), std=1.0),
        )
        self.actor_mean = nn.Sequential(
            layer_init(nn.Linear(obs_dim, 64)),
            nn.Tanh(),
            layer_init(nn.Linear(64, 64)),
            nn.Tanh(),
            layer_init(nn.Linear(64, act_dim), std=0.01),
        )
        self.actor_logstd = nn.Parameter(torch.zeros(1, act_dim))

    def get_value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x)

    def get_action_and_value(
        self, x: torch.Tensor, action: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        action_mean = self.actor_mean(x)
        action_logstd = self.actor_logstd.expand_as(action_mean)
        probs = Normal(action_mean, torch.exp(action_logstd))
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action).sum(1), probs.entropy().sum(1), self.critic(x)


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_value: torch.Tensor,
    terminations: torch.Tensor,
    dones: torch.Tensor,
    valid: torch.Tensor,
    gamma: float,
    gae_lambda: float,
) -> torch.Tensor:
    """GAE over a NextStep rollout, all arrays ``(num_steps, num_envs)``.

    ``values[t] = V(obs[t])``; ``next_value = V(obs after the last step)``; ``dones`` is
    terminated or truncated; ``valid[t] = 0`` marks an autoreset step (the step after an
    episode end), which gets advantage 0.
    """
    next_values = torch.cat([values[1:], next_value.reshape(1, -1)])  # V(obs[t + 1])
    advantages = torch.zeros_like(rewards)
    lastgaelam = torch.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        # a termination ends the return; a truncation bootstraps from the final obs[t + 1]
        delta = rewards[t] + gamma * next_values[t] * (1.0 - terminations[t]) - values[t]
        # any episode end stops the recursion: the step after it is an autoreset step
        lastgaelam = delta + gamma * gae_lambda * (1.0 - dones[t]) * lastgaelam
        advantages[t] = lastgaelam
    return advantages * valid


def episode_rewards(
    policy: Callable[[np.ndarray], np.ndarray], env_kwargs: dict[str, Any], episodes: int,
    seed: int,
) -> np.ndarray:
    """The episode reward of ``policy`` (batch of raw observations -> batch of actions) on
    ``episodes`` fresh episodes of the native vector env, one per sub-env."""
    env = gym.make_vec(mm_env.ENV_ID, num_envs=episodes, vectorization_mode="vector_entry_point",
                       **env_kwargs)
    obs, _ = env.reset(seed=seed)
    total = np.zeros(episodes)
    ended = np.zeros(episodes, dtype=bool)
    while not ended.all():  # every sub-env ends at the horizon, at the same step
        obs, reward, terminated, truncated, _ = env.step(policy(obs))
        total += np.where(ended, 0.0, reward)
        ended |= terminated | truncated
    env.close()
    return total


def standard_error(x: np.ndarray) -> float:
    return float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")


def main(args: Args) -> dict[str, Any]:
    """Train, print progress, evaluate; returns the numbers printed."""
    batch_size = args.num_envs * args.num_steps  # including the autoreset steps
    num_iterations = max(1, args.total_timesteps // batch_size)
    run_name = f"{args.exp_name}__{args.seed}__{int(time.time())}"
    writer = None
    if args.log_dir:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(Path(args.log_dir) / run_name))
        writer.add_text("hyperparameters", "|param|value|\n|-|-|\n" + "\n".join(
            f"|{key}|{value}|" for key, value in vars(args).items()))

    # TRY NOT TO MODIFY: seeding
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = args.torch_deterministic
    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)
    device = torch.device("cuda" if torch.cuda.is_available() and args.cuda else "cpu")

    # env setup: the native vector env (one numpy batch), then Gymnasium's vector wrappers
    env_kwargs: dict[str, Any] = {"preset": args.preset}
    if args.n_steps:
        env_kwargs["n_steps"] = args.n_steps
    native = gym.make_vec(mm_env.ENV_ID, num_envs=args.num_envs,
                          vectorization_mode="vector_entry_point", **env_kwargs)
    assert isinstance(native, mm_env.MarketMakingVectorEnv)
    assert native.autoreset_mode is AutoresetMode.NEXT_STEP  # see the module docstring
    market = native.config  # the mm_env.MarketConfig of the task
    # RecordEpisodeStatistics first: it records the raw rewards, before NormalizeReward; then
    # the project's training wrappers (the ones SB3 and RLlib train with), when asked for
    envs: gym.vector.VectorEnv = gym.wrappers.vector.RecordEpisodeStatistics(native)
    features: Callable[[np.ndarray], np.ndarray] = lambda raw: raw  # noqa: E731
    if args.martingale_reward:
        envs = VectorMartingaleReward(envs)
    if args.obs_features:
        envs = select = VectorSelectFeatures(envs, args.obs_features.split(","))
        features = select.transform
    envs = gym.wrappers.vector.ClipAction(envs)
    envs = obs_norm = gym.wrappers.vector.NormalizeObservation(envs)
    envs = gym.wrappers.vector.TransformObservation(envs, lambda obs: np.clip(obs, -10, 10))
    envs = gym.wrappers.vector.NormalizeReward(envs, gamma=args.gamma)
    envs = gym.wrappers.vector.TransformReward(envs, lambda reward: np.clip(reward, -10, 10))
    obs_shape = envs.single_observation_space.shape
    act_shape = envs.single_action_space.shape
    assert obs_shape is not None and act_shape is not None

    agent = Agent(int(np.prod(obs_shape)), int(np.prod(act_shape))).to(device)
    optimizer = optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)

    # ALGO Logic: Storage setup
    obs = torch.zeros((args.num_steps, args.num_envs, *obs_shape)).to(device)
    actions = torch.zeros((args.num_steps, args.num_envs, *act_shape)).to(device)
    logprobs = torch.zeros((args.num_steps, args.num_envs)).to(device)
    rewards = torch.zeros((args.num_steps, args.num_envs)).to(device)
    terminations = torch.zeros((args.num_steps, args.num_envs)).to(device)
    dones = torch.zeros((args.num_steps, args.num_envs)).to(device)  # terminated or truncated
    values = torch.zeros((args.num_steps, args.num_envs)).to(device)
    valid = torch.zeros((args.num_steps, args.num_envs)).to(device)  # 0: an autoreset step

    # TRY NOT TO MODIFY: start the game
    global_step = 0
    start_time = time.time()
    next_obs_np, _ = envs.reset(seed=args.seed)
    next_obs = torch.as_tensor(next_obs_np, dtype=torch.float32, device=device)
    next_done = torch.zeros(args.num_envs, device=device)  # did the last step end an episode?
    history: list[tuple[int, float]] = []  # (global_step, mean episode reward)
    transitions = 0  # trained on: the steps less the autoreset steps

    for iteration in range(1, num_iterations + 1):
        # Annealing the rate if instructed to do so.
        if args.anneal_lr:
            frac = 1.0 - (iteration - 1.0) / num_iterations
            optimizer.param_groups[0]["lr"] = frac * args.learning_rate

        finished: list[float] = []  # raw rewards of the episodes that ended this iteration
        for step in range(args.num_steps):
            global_step += args.num_envs
            obs[step] = next_obs
            # NextStep autoreset: a sub-env whose episode ended last step only resets now
            valid[step] = 1.0 - next_done

            # ALGO LOGIC: action logic
            with torch.no_grad():
                action, logprob, _, value = agent.get_action_and_value(next_obs)
                values[step] = value.flatten()
            actions[step] = action
            logprobs[step] = logprob

            # TRY NOT TO MODIFY: execute the game and log data.
            next_obs_np, reward, terminated, truncated, infos = envs.step(action.cpu().numpy())
            rewards[step] = torch.as_tensor(reward, dtype=torch.float32, device=device)
            terminations[step] = torch.as_tensor(terminated, dtype=torch.float32, device=device)
            dones[step] = torch.as_tensor(terminated | truncated, dtype=torch.float32,
                                          device=device)
            next_obs = torch.as_tensor(next_obs_np, dtype=torch.float32, device=device)
            next_done = dones[step]
            if "episode" in infos:  # RecordEpisodeStatistics, at the steps that end episodes
                finished.extend(infos["episode"]["r"][infos["_episode"]].tolist())

        if finished:
            mean_reward = float(np.mean(finished))
            history.append((global_step, mean_reward))
            print(f"iteration={iteration}/{num_iterations} global_step={global_step} "
                  f"mean_episode_reward={mean_reward:.4f} episodes={len(finished)}", flush=True)
            if writer is not None:
                writer.add_scalar("charts/episodic_return", mean_reward, global_step)

        # bootstrap value if not done
        with torch.no_grad():
            next_value = agent.get_value(next_obs).reshape(1, -1)
            advantages = compute_gae(rewards, values, next_value, terminations, dones, valid,
                                     args.gamma, args.gae_lambda)
            returns = advantages + values

        # flatten the batch, keeping only the real transitions
        keep = valid.reshape(-1).bool()
        b_obs = obs.reshape((-1, *obs_shape))[keep]
        b_logprobs = logprobs.reshape(-1)[keep]
        b_actions = actions.reshape((-1, *act_shape))[keep]
        b_advantages = advantages.reshape(-1)[keep]
        b_returns = returns.reshape(-1)[keep]
        b_values = values.reshape(-1)[keep]
        n = b_obs.shape[0]
        transitions += n
        minibatch_size = max(1, -(-n // args.num_minibatches))

        # Optimizing the policy and value network
        b_inds = np.arange(n)
        clipfracs = []
        for _epoch in range(args.update_epochs):
            np.random.shuffle(b_inds)
            for start in range(0, n, minibatch_size):
                mb_inds = b_inds[start:start + minibatch_size]

                _, newlogprob, entropy, newvalue = agent.get_action_and_value(
                    b_obs[mb_inds], b_actions[mb_inds]
                )
                logratio = newlogprob - b_logprobs[mb_inds]
                ratio = logratio.exp()

                with torch.no_grad():
                    # calculate approx_kl http://joschu.net/blog/kl-approx.html
                    old_approx_kl = (-logratio).mean()
                    approx_kl = ((ratio - 1) - logratio).mean()
                    clipfracs += [((ratio - 1.0).abs() > args.clip_coef).float().mean().item()]

                mb_advantages = b_advantages[mb_inds]
                if args.norm_adv and len(mb_inds) > 1:
                    mb_advantages = (mb_advantages - mb_advantages.mean()) / (
                        mb_advantages.std() + 1e-8
                    )

                # Policy loss
                pg_loss1 = -mb_advantages * ratio
                pg_loss2 = -mb_advantages * torch.clamp(
                    ratio, 1 - args.clip_coef, 1 + args.clip_coef
                )
                pg_loss = torch.max(pg_loss1, pg_loss2).mean()

                # Value loss
                newvalue = newvalue.view(-1)
                if args.clip_vloss:
                    v_loss_unclipped = (newvalue - b_returns[mb_inds]) ** 2
                    v_clipped = b_values[mb_inds] + torch.clamp(
                        newvalue - b_values[mb_inds], -args.clip_coef, args.clip_coef
                    )
                    v_loss_clipped = (v_clipped - b_returns[mb_inds]) ** 2
                    v_loss = 0.5 * torch.max(v_loss_unclipped, v_loss_clipped).mean()
                else:
                    v_loss = 0.5 * ((newvalue - b_returns[mb_inds]) ** 2).mean()

                entropy_loss = entropy.mean()
                loss = pg_loss - args.ent_coef * entropy_loss + v_loss * args.vf_coef

                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()

            if args.target_kl and approx_kl > args.target_kl:
                break

        y_pred, y_true = b_values.cpu().numpy(), b_returns.cpu().numpy()
        var_y = np.var(y_true)
        explained_var = np.nan if var_y == 0 else 1 - np.var(y_true - y_pred) / var_y
        sps = int(global_step / (time.time() - start_time))
        if writer is not None:
            # TRY NOT TO MODIFY: record rewards for plotting purposes
            writer.add_scalar("charts/learning_rate", optimizer.param_groups[0]["lr"],
                              global_step)
            writer.add_scalar("losses/value_loss", v_loss.item(), global_step)
            writer.add_scalar("losses/policy_loss", pg_loss.item(), global_step)
            writer.add_scalar("losses/entropy", entropy_loss.item(), global_step)
            writer.add_scalar("losses/old_approx_kl", old_approx_kl.item(), global_step)
            writer.add_scalar("losses/approx_kl", approx_kl.item(), global_step)
            writer.add_scalar("losses/clipfrac", np.mean(clipfracs), global_step)
            writer.add_scalar("losses/explained_variance", explained_var, global_step)
            writer.add_scalar("charts/SPS", sps, global_step)
    print(f"trained {global_step} steps in {time.time() - start_time:.1f}s "
          f"({int(global_step / (time.time() - start_time))} steps/s)", flush=True)
    envs.close()

    # Evaluation: the deterministic policy (the Gaussian's mean) on fresh episodes, the
    # observations scaled by the training statistics (frozen), the env's own reward; next to
    # the exactly optimal policy on the same episodes when the task is its reward.
    result: dict[str, Any] = {"history": history, "global_step": global_step,
                              "transitions": transitions}
    if args.eval_episodes > 0:
        rms = obs_norm.obs_rms

        def ppo_policy(raw_obs: np.ndarray) -> np.ndarray:
            x = features(raw_obs)
            scaled = np.clip((x - rms.mean) / np.sqrt(rms.var + obs_norm.epsilon), -10, 10)
            with torch.no_grad():
                mean = agent.actor_mean(torch.as_tensor(scaled, dtype=torch.float32,
                                                        device=device))
            return mean.cpu().numpy()

        seed = args.seed + 10_000
        ppo = episode_rewards(ppo_policy, env_kwargs, args.eval_episodes, seed)
        result.update(eval_mean=float(ppo.mean()), eval_se=standard_error(ppo))
        print(f"eval: mean_episode_reward={ppo.mean():.4f} +- {standard_error(ppo):.4f} "
              f"({args.eval_episodes} episodes, deterministic policy)", flush=True)
        if market.reward == "inventory_penalty":
            from agents import OptimalAgent  # the model's exact optimum (this repo's agents/)

            optimal = episode_rewards(OptimalAgent(market).act, env_kwargs, args.eval_episodes,
                                      seed)  # same seed: the same market (common random numbers)
            gap = ppo - optimal
            result.update(optimal_mean=float(optimal.mean()), gap_mean=float(gap.mean()),
                          gap_se=standard_error(gap))
            print(f"eval: optimal policy {optimal.mean():.4f}; PPO - optimal = "
                  f"{gap.mean():.4f} +- {standard_error(gap):.4f} (same episodes)", flush=True)
        if writer is not None:
            writer.add_scalar("eval/mean_episode_reward", ppo.mean(), global_step)

    if writer is not None:
        torch.save({"agent": agent.state_dict(), "obs_mean": obs_norm.obs_rms.mean,
                    "obs_var": obs_norm.obs_rms.var, "args": vars(args)},
                   Path(args.log_dir) / run_name / "agent.pt")
        writer.close()
    return result


if __name__ == "__main__":
    main(parse_args())
