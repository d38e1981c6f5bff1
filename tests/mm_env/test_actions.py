"""Every action is either refused with a ValueError naming the expected shape (or the
non-finite depths), or stepped with finite observations, rewards and info and no
floating-point warning, in the scalar and in the vector env.

Hypothesis draws actions from wide strategies (nested lists, wrong shapes, complex numbers,
strings, None, bools, ints, huge/inf/nan floats, numpy arrays of many dtypes) for a few
presets; seeded and bounded so the file runs in a few seconds. The counts (drawn, refused,
stepped) are hypothesis events (``pytest --hypothesis-show-statistics``).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mm_env import MarketMakingEnv, MarketMakingVectorEnv

PRESETS = {
    "default": {},
    "penalty": {},
    "microstructure": {"size_action": True},
    "alpha": {},
}
FLOATS = st.one_of(
    st.floats(-5.0, 5.0),
    st.sampled_from((0.0, -0.0, 1e-300, 1e300, -1e300, 1.7e308, 3.5e38, math.inf, -math.inf,
                     math.nan)),
    st.floats(),
)
SCALARS = st.one_of(
    FLOATS,
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.complex_numbers(max_magnitude=10.0),
    st.text(max_size=3),
    st.none(),
    st.floats(width=32).map(np.float32),
)
DTYPES = ("float64", "float32", "float16", "int64", "uint8", "bool", "complex128", "<U3",
          "object")


def arrays(shape: tuple[int, ...]) -> st.SearchStrategy:
    def build(args: tuple[str, list[float]]) -> np.ndarray:
        dtype, values = args
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = np.array(values, dtype=np.float64).reshape(shape)
            if dtype == "<U3":
                return data.astype(str).astype("<U3")
            if np.dtype(dtype).kind in "iub":
                data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
            return data.astype(dtype)

    n = int(np.prod(shape)) if shape else 1
    return st.tuples(st.sampled_from(DTYPES),
                     st.lists(FLOATS, min_size=n, max_size=n)).map(build)


def actions(width: int, batch: int | None) -> st.SearchStrategy:
    """Right-shaped and wrong-shaped actions of every kind."""
    shape = (width,) if batch is None else (batch, width)
    near = [shape, (width + 1,), (width - 1,), (1, width), ()]
    if batch is not None:
        near += [(batch, width + 1), (batch + 1, width), (width,)]
    return st.one_of(
        arrays(shape),
        st.sampled_from(near).flatmap(arrays),
        st.lists(FLOATS, min_size=width, max_size=width),
        st.lists(SCALARS, min_size=width, max_size=width),
        st.lists(SCALARS, max_size=4),
        st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3), max_leaves=6),
        st.lists(st.lists(FLOATS, min_size=width, max_size=width), min_size=1, max_size=3),
        SCALARS,
        st.tuples(*(FLOATS for _ in range(width))),
    )


COUNTS: dict[str, int] = {"drawn": 0, "refused": 0, "stepped": 0}


def _finite(info: dict[str, Any]) -> bool:
    for key, value in info.items():
        if key.startswith("_") or key in ("final_obs", "final_info"):
            continue
        if not np.all(np.isfinite(np.asarray(value, dtype=np.float64))):
            # the quote size before any step is the only NaN allowed (size_action's reset)
            return key == "size"
    return True


def _try(env: Any, action: Any) -> str:
    COUNTS["drawn"] += 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            obs, reward, _, _, info = env.step(action)
        except ValueError as exc:
            msg = str(exc)
            assert "shape" in msg or "finite" in msg, msg
            COUNTS["refused"] += 1
            return "refused"
    assert np.isfinite(obs).all() and np.isfinite(reward).all()
    assert _finite(info), info
    COUNTS["stepped"] += 1
    return "stepped"


@pytest.mark.parametrize("preset", list(PRESETS))
def test_scalar_actions_are_refused_or_stepped(preset):
    env = MarketMakingEnv(preset=preset, **PRESETS[preset])
    width = env.action_space.shape[0]
    env.reset(seed=0)

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(actions(width, None))
    def check(action):
        if env.get_state()["last"] is not None and env.get_state()["last"].terminated:
            env.reset()
        event(f"scalar {preset}: {_try(env, action)}")

    check()


@pytest.mark.parametrize("preset", list(PRESETS))
def test_vector_actions_are_refused_or_stepped(preset):
    n = 2
    env = MarketMakingVectorEnv(n, preset=preset, **PRESETS[preset])
    width = env.single_action_space.shape[0]
    env.reset(seed=0)

    @settings(max_examples=100, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(actions(width, n))
    def check(action):
        event(f"vector {preset}: {_try(env, action)}")

    check()


def test_counts_cover_both_outcomes():
    """Runs last in the file (pytest keeps file order within one worker)."""
    if COUNTS["drawn"] == 0:
        pytest.skip("the fuzz tests ran in another worker")
    print(COUNTS)
    assert COUNTS["refused"] > 0 and COUNTS["stepped"] > 0
