"""The PettingZoo envs of the competition game: parallel, and AEC through PettingZoo's
converter."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec

from mm_env.competition.config import CompetitionConfig, build_config
from mm_env.competition.dynamics import CompetitionDynamics, CompetitionState, CompetitionStep
from mm_env.competition.observation import CompetitionObserver
from mm_env.competition.vector_env import INFO_KEYS, check_actions
from mm_env.render import check_render_mode
from mm_env.seeding import LazyGenerator, check_seed
from mm_env.snapshots import check_snapshot
from mm_env.spaces import as_action

__all__ = ["CompetitionParallelEnv", "env", "parallel_env"]


class CompetitionParallelEnv(LazyGenerator, ParallelEnv[str, np.ndarray, np.ndarray]):
    """Several market makers competing for one order flow (PettingZoo ``ParallelEnv``).

    ## Description

    ``N = n_makers`` market makers quote a bid and an ask around one mid-price ``S``, the
    single-asset market of :class:`mm_env.MarketConfig` (mid process, order flow, fill
    probability ``p(d)``, tick, fees, rewards: see :class:`mm_env.MarketMakingEnv`). Each step,
    on each side, the best quote among the makers that quote it wins the side's order flow:
    the side trades one order of ``order_size`` with it with probability ``p(d*)``, ``d*``
    the best depth; makers at exactly the best depth share it by a uniform draw (each wins
    with probability ``1/m``); makers behind the best quote do not trade. Each maker has its
    own cash, inventory and inventory limit; a maker at its limit does not quote the side
    that would breach it. The law is in :mod:`mm_env.competition.dynamics`; with ``N = 1``
    it is exactly the single-asset model.

    ## Agents

    ``"maker_0"``, ..., ``"maker_{N-1}"``, all acting at every step; ``agents`` is emptied
    when the episode ends.

    ## Action Space

    Per agent ``Box(min_depth, max_depth, (2,), float32)``: ``[bid_depth, ask_depth]`` in
    price units from the mid, as the single-asset env (clipped into the box; non-finite
    depths raise ``ValueError``; with a tick the quotes are snapped away from the mid).

    ## Observation Space

    Per agent ``Box(float32)`` in raw units:

    | Num | Observation           | Unit     | Min                      | Max              |
    |-----|-----------------------|----------|--------------------------|------------------|
    | 0   | time remaining        | sessions | 0                        | T                |
    | 1   | own inventory q_j     | shares   | -limit_j                 | limit_j          |
    | 2   | mid-price S           | price    | 0 (gbm) / -inf (abm)     | inf              |

    then the config's ``obs_extras`` (as the single-asset env), then with
    ``full_information=True``, for each other maker ``k`` in maker order (skipping the agent
    itself): ``q_k`` (in ``[-limit_k, limit_k]``), its last bid depth and its last ask depth
    (in ``[min_depth - tick_size, max_depth + 2 tick_size]``; ``max_depth`` at reset).
    :func:`~mm_env.competition.competition_observation_names` names the components.

    ## Rewards

    Per maker, the single-asset reward (``config.reward``, or one name per maker) on its own
    wealth ``W_j = X_j + q_j S`` and inventory: ``"pnl"`` ``dW_j``; ``"inventory_penalty"``
    ``dW_j - phi q_j^2 dt`` and ``- alpha q_j^2`` at the end.

    ## Starting State

    ``S = S0`` (or the market components' random start), every maker with cash 0 and
    inventory 0, time remaining ``T``.

    ## Episode End

    After ``n_steps`` steps every agent's termination is True (truncations always False) and
    ``agents`` becomes empty.

    ## Info

    Per agent, floats/bools: ``mid``, ``cash``, ``inventory``, ``wealth`` after the step;
    ``bid`` and ``ask``, its prices of the step (after clipping and the tick; a side not quoted
    reports its would-be price with ``bid_quoted``/``ask_quoted`` False; at reset both are the
    mid, flags False); ``bid_filled``, ``ask_filled``; ``step``; and the market components'
    keys (``fees`` per maker, ``arrivals_buy``, ...). No NaN.

    ## Arguments

    ```python
    import mm_env.competition as mc
    env = mc.parallel_env(n_makers=2, preset="as2008", full_information=True, sigma=1.0)
    # or CompetitionParallelEnv(n_makers=None, config=None, *, preset=None,
    #                           full_information=None, render_mode=None, **overrides)
    ```

    ``overrides``: any ``MarketConfig`` field; ``inventory_limit`` and ``reward`` may be a
    tuple of one value per maker. ``config``: a :class:`CompetitionConfig` or a
    ``MarketConfig``. ``render_mode``: None only. ``reset(seed=...)`` seeds the env's one
    generator (``self.np_random``); ``options`` are not used. :meth:`get_state` /
    :meth:`set_state`: a picklable snapshot, generator included.

    ## Version History

    - v0: initial version.
    """

    metadata: dict[str, Any] = {
        "name": "mm_competition_v0",
        "render_modes": [],
        "is_parallelizable": True,
    }

    def __init__(
        self,
        n_makers: int | None = None,
        config: CompetitionConfig | Any = None,
        *,
        preset: str | None = None,
        full_information: bool | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        check_render_mode(render_mode, (), "the competition env")
        self.render_mode = None
        self.config = build_config(
            config,
            n_makers=n_makers,
            preset=preset,
            full_information=full_information,
            overrides=overrides,
        )
        self.dynamics = CompetitionDynamics(self.config)
        self.observer = CompetitionObserver(self.dynamics)
        self.possible_agents = list(self.config.agents)
        self.agents: list[str] = []
        self.observation_spaces = dict(
            zip(self.possible_agents, self.observer.observation_spaces, strict=True)
        )
        self.action_spaces = {
            a: copy.deepcopy(self.observer.action_space) for a in self.possible_agents
        }
        self._index = {a: j for j, a in enumerate(self.possible_agents)}
        self._state: CompetitionState | None = None
        self._last: CompetitionStep | None = None

    def observation_space(self, agent: str) -> spaces.Space[np.ndarray]:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space[np.ndarray]:
        return self.action_spaces[agent]

    # ------------------------------------------------------------------ API
    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        self._reseed(check_seed(seed))
        self._state = self.dynamics.initial_state(1, self.np_random)
        self._last = None
        self.agents = list(self.possible_agents)
        return self._observations(), self._infos()

    def step(
        self, actions: dict[str, Any]
    ) -> tuple[
        dict[str, np.ndarray],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        if not self.agents:
            raise RuntimeError("the episode has ended (every agent terminated): call reset()")
        if not isinstance(actions, dict) or set(actions) != set(self.agents):
            got = sorted(actions) if isinstance(actions, dict) else type(actions).__name__
            raise ValueError(
                f"actions must be a dict with one action per agent {self.agents}, got {got}"
            )
        rows = [_agent_action(a, actions[a]) for a in self.possible_agents]
        acts = check_actions([rows], 1, self.config.n_makers)
        noise = self.dynamics.draw_noise(self.np_random, 1)
        result = self.dynamics.step(self._state, acts[:, :, 0], acts[:, :, 1], noise)
        rewards = self.dynamics.rewards(result)[0].tolist()
        self._state = result.state
        self._last = result
        done = bool(result.terminated[0])
        agents = self.possible_agents
        obs, infos = self._observations(), self._infos()
        if done:
            self.agents = []
        return (
            obs,
            dict(zip(agents, rewards, strict=True)),
            dict.fromkeys(agents, done),
            dict.fromkeys(agents, False),
            infos,
        )

    def render(self) -> None:
        return None

    def close(self) -> None:
        """Nothing to release."""

    def state(self) -> np.ndarray:
        """A global view (float32): time remaining, mid, then each maker's inventory."""
        s = self._require_state()
        return np.concatenate(
            [[self.dynamics.time_remaining(s.step[0]), s.mid[0]], s.inventory[0]]
        ).astype(np.float32)

    # ---------------------------------------------------------------- state
    def get_state(self) -> dict[str, Any]:
        """A snapshot of everything the next steps depend on (the game's state, the last
        step, the live agents, the generator's state): a picklable dict; :meth:`set_state`
        on an env of the same config continues exactly as this one would."""
        return copy.deepcopy(
            {
                "config": self.config,
                "market": self._state,
                "last": self._last,
                "agents": self.agents,
                "rng": self.np_random.bit_generator.state,
            }
        )

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`get_state` snapshot (ValueError if it is from another game)."""
        check_snapshot(state, self.config, "game")
        state = copy.deepcopy(state)
        self._state = state["market"]
        self._last = state["last"]
        self.agents = state["agents"]
        self.np_random.bit_generator.state = state["rng"]

    # -------------------------------------------------------------- helpers
    def _require_state(self) -> CompetitionState:
        if self._state is None:
            raise RuntimeError("call reset() first")
        return self._state

    def _observations(self) -> dict[str, np.ndarray]:
        obs = self.observer.observe(self._require_state())[0]
        return {a: obs[j] for j, a in enumerate(self.possible_agents)}

    def _infos(self) -> dict[str, dict[str, Any]]:
        s = self._require_state()
        last = self._last
        mid = s.mid[0]
        columns: dict[str, Any] = {
            "mid": np.full(self.config.n_makers, mid),
            "cash": s.cash[0],
            "inventory": s.inventory[0],
            "wealth": s.wealth[0],
        }
        if last is None:
            no = np.zeros(self.config.n_makers, dtype=bool)
            columns.update(
                bid=columns["mid"],
                ask=columns["mid"],
                bid_quoted=no,
                ask_quoted=no,
                bid_filled=no,
                ask_filled=no,
            )
        else:
            columns.update(
                bid=last.bid[0],
                ask=last.ask[0],
                bid_quoted=last.bid_quoted[0],
                ask_quoted=last.ask_quoted[0],
                bid_filled=last.bid_filled[0],
                ask_filled=last.ask_filled[0],
            )
        columns["step"] = np.full(self.config.n_makers, s.step[0])
        columns.update({k: v[0] for k, v in self.dynamics.info_extras(last, s).items()})
        values = {
            key: columns[key].tolist() for key in (*INFO_KEYS, *self.dynamics.market.info_keys)
        }
        return {
            a: {key: v[j] for key, v in values.items()} for j, a in enumerate(self.possible_agents)
        }


def _agent_action(agent: str, action: Any) -> list[float]:
    """One agent's action as ``[bid_depth, ask_depth]`` floats (ValueError naming the agent
    and the expected shape otherwise; finiteness is checked with the batch)."""
    try:
        return as_action(action, 2)
    except ValueError as exc:
        raise ValueError(f"{agent}: {exc}") from None


def parallel_env(**kwargs: Any) -> CompetitionParallelEnv:
    """``CompetitionParallelEnv(**kwargs)``: ``n_makers=...``, ``preset=...``,
    ``full_information=...``, ``config=...`` and :class:`~mm_env.MarketConfig` overrides."""
    return CompetitionParallelEnv(**kwargs)


def env(**kwargs: Any) -> AECEnv[str, np.ndarray, np.ndarray]:
    """The AEC version of :func:`parallel_env` (PettingZoo's ``parallel_to_aec``)."""
    return parallel_to_aec(parallel_env(**kwargs))
