"""``render_mode="rgb_array"``: the image's shape and content, its evolution over an episode,
the pure-numpy rasteriser, no effect on the dynamics, and Gymnasium's env checker."""

from __future__ import annotations

import itertools
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from mm_env import ENV_ID, MarketMakingEnv, available_presets
from mm_env.render import (
    ASK_COLOR,
    BID_COLOR,
    HEIGHT,
    INVENTORY_COLOR,
    MID_COLOR,
    WIDTH,
    EpisodeHistory,
    draw_polyline,
    render_episode,
)

# Checker warnings expected by design for raw-unit boxes (as in test_env_api.py).
EXPECTED_CHECKER_WARNINGS = (
    r".*symmetric and normalized.*",
    r".*observation space (minimum|maximum) value is (-)?infinity.*",
    r".*[Uu]nbounded.*",
)


def has_color(img: np.ndarray, color: tuple[int, int, int]) -> bool:
    return bool((img == np.array(color, dtype=np.uint8)).all(axis=-1).any())


def run_episode(env: MarketMakingEnv, seed: int = 0, depth: float = 0.5) -> list[np.ndarray]:
    """Frames after reset and after every step, quoting ``depth`` on both sides."""
    env.reset(seed=seed)
    frames = [env.render()]
    terminated = False
    while not terminated:
        _, _, terminated, _, _ = env.step(np.array([depth, depth], dtype=np.float32))
        frames.append(env.render())
    return frames


def test_rgb_array_is_declared_and_accepted():
    assert "rgb_array" in MarketMakingEnv.metadata["render_modes"]
    assert MarketMakingEnv(render_mode="rgb_array").render_mode == "rgb_array"


def test_frame_shape_dtype_and_content():
    env = MarketMakingEnv(render_mode="rgb_array", n_steps=30)
    frames = run_episode(env)
    for img in frames:
        assert isinstance(img, np.ndarray)
        assert img.shape == (HEIGHT, WIDTH, 3) and img.dtype == np.uint8
        assert not (img == 255).all()  # never a blank white image
    last = frames[-1]
    for color in (MID_COLOR, BID_COLOR, ASK_COLOR, INVENTORY_COLOR):
        assert has_color(last, color)
    # mostly white canvas with a few percent of drawn pixels
    drawn = (last != 255).any(axis=-1).mean()
    assert 0.01 < drawn < 0.5


def test_frames_change_as_the_episode_progresses():
    env = MarketMakingEnv(render_mode="rgb_array", n_steps=40)
    frames = run_episode(env)
    assert len(frames) == 41
    assert not has_color(frames[0], BID_COLOR)  # no quote yet at reset
    drawn = [int((f != 255).any(axis=-1).sum()) for f in frames]
    assert drawn[-1] > drawn[10] > drawn[1]
    for a, b in itertools.pairwise(frames):
        assert not np.array_equal(a, b)
    # the lines grow to the right: the rightmost mid pixel moves right
    cols = [np.nonzero((f == MID_COLOR).all(axis=-1).any(axis=0))[0].max() for f in frames]
    assert cols[-1] > cols[20] > cols[1]


def test_render_is_deterministic_and_resets_with_the_episode():
    env = MarketMakingEnv(render_mode="rgb_array", n_steps=15)
    first = run_episode(env, seed=3)
    again = run_episode(env, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    other = run_episode(env, seed=4)
    assert not np.array_equal(first[-1], other[-1])
    env.reset(seed=3)
    assert np.array_equal(env.render(), first[0])


def test_render_before_reset_is_the_empty_canvas():
    img = MarketMakingEnv(render_mode="rgb_array").render()
    assert isinstance(img, np.ndarray) and img.shape == (HEIGHT, WIDTH, 3)
    assert not (img == 255).all()  # the panel frames
    assert not has_color(img, MID_COLOR)


def test_rgb_array_does_not_change_the_dynamics_and_costs_nothing_otherwise():
    plain = MarketMakingEnv(n_steps=25)
    ansi = MarketMakingEnv(n_steps=25, render_mode="ansi")
    drawn = MarketMakingEnv(n_steps=25, render_mode="rgb_array")
    rng = np.random.default_rng(1)
    actions = rng.uniform(0.0, 2.0, size=(25, 2)).astype(np.float32)
    outs = []
    for env in (plain, ansi, drawn):
        obs, _ = env.reset(seed=9)
        trace = [obs]
        for a in actions:
            obs, reward, *_ = env.step(a)
            trace += [obs, reward]
        outs.append(trace)
    for a, b in zip(outs[0], outs[2], strict=True):
        assert np.array_equal(a, b)
    assert plain._history is None and ansi._history is None
    assert drawn._history is not None and drawn._history.steps == 25


def test_unquoted_side_leaves_a_gap_and_inventory_limit_scales_the_strip():
    env = MarketMakingEnv(render_mode="rgb_array", n_steps=60, inventory_limit=1.0,
                          min_depth=-5.0)
    env.reset(seed=0)
    for _ in range(60):  # quotes through the mid: fills nearly every step
        env.step(np.array([-5.0, 10.0], dtype=np.float32))
    history = env._history
    assert history is not None and np.isnan(history.bid).any()
    assert has_color(env.render(), INVENTORY_COLOR)


def test_draw_polyline():
    img = np.full((20, 30, 3), 255, np.uint8)
    draw_polyline(img, np.array([2.0, 12.0]), np.array([5.0, 5.0]), (0, 0, 0))
    row = (img[5] == 0).all(axis=-1)
    assert row[2:13].all() and not row[:2].any() and not row[13:].any()
    img[:] = 255
    draw_polyline(img, np.array([0.0, 5.0, np.nan, 20.0, 25.0]),
                  np.array([0.0, 5.0, 3.0, 10.0, 10.0]), (0, 0, 0))
    black = (img == 0).all(axis=-1)
    assert black[0, 0] and black[5, 5] and black[10, 20:26].all()
    assert not black[:, 6:20].any()  # the NaN breaks the line
    img[:] = 255
    draw_polyline(img, np.array([7.0]), np.array([4.0]), (1, 2, 3), thickness=2)
    assert (img[4, 7] == (1, 2, 3)).all() and (img[5, 7] == (1, 2, 3)).all()
    draw_polyline(img, np.array([-50.0, 100.0]), np.array([-5.0, 50.0]), (9, 9, 9))  # clipped


def test_render_episode_sizes_and_flat_history():
    history = EpisodeHistory(100.0, 0.0)
    for _ in range(5):
        history.record(99.5, 100.5, 100.0, 0.0)  # constant prices: no zero-width scale
    img = render_episode(history, 10, width=200, height=120)
    assert img.shape == (120, 200, 3) and has_color(img, MID_COLOR)
    with pytest.raises(ValueError, match="image too small"):
        render_episode(history, 10, width=10, height=10)


@pytest.mark.parametrize("preset", available_presets())
def test_gymnasium_check_env_with_rgb_array(preset):
    # made through the registry so check_env also tests every declared render mode
    env = gym.make(ENV_ID, preset=preset, render_mode="rgb_array", n_steps=20)
    assert env.render_mode == "rgb_array"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for pattern in EXPECTED_CHECKER_WARNINGS:
            warnings.filterwarnings("ignore", message=pattern)
        check_env(env.unwrapped)
    env.reset(seed=0)
    env.step(env.action_space.sample())
    frame = env.render()
    assert isinstance(frame, np.ndarray) and frame.shape == (HEIGHT, WIDTH, 3)
