"""The base model's trajectories are pinned: same seed, same numbers, for every preset that
existed before the optional market components (adverse selection, signals, jumps, ...) were
added.

The numbers below were produced by the code *before* that change (commit db5915f). Every new
feature is off by default and must not move a single draw or a single floating-point
operation of the base model. Fill sequences are compared exactly; prices and cash to 1e-12
relative (they pass through ``exp``, whose last bit may differ between CPUs/libms, but within
one machine they are identical).
"""

from __future__ import annotations

import numpy as np
import pytest

from mm_env import MarketMakingEnv, MarketMakingVectorEnv

REL = 1e-12

# preset: (mid, cash, inventory, sum of rewards, fill code per step) of the scalar env
SCALAR = {
    "default": (100.14117745100182, -370.44387801284523, 4.0, 30.12083179116206,
                "33110231110020313311000333312112212120231101110333"),
    "as2008": (100.16107788933307, -569.0103417789146, 6.0, 31.95612555708385,
               "33111231111121313311000331312112012101331101111131"),
    "course": (100.09357678043001, -370.22992256696864, 4.0, 30.14438455475141,
               "33110231110020313311000333312112212120231101110333"),
    "penalty": (100.16107788933307, -569.0103417789146, 6.0, 26.202125557083846,
                "33111231111121313311000331312112012101331101111131"),
}

# preset: (mids, cashes, reward sums, fill counts) of the vector env (4 envs, autoreset)
VECTOR = {
    "default": (
        [100.41934182096482, 99.13446170128302, 101.2145760721757, 99.71788161689109],
        [308.3833450354182, 8.680522879616547, 211.29159716856407, 2.752287003788439],
        [23.919563537453513, 20.681163861310324, 23.895615550990385, 27.78925288871592],
        [262, 251, 271, 263],
    ),
    "as2008": (
        [100.42746503345391, 99.13969416314006, 101.21625928273656, 99.72648291292599],
        [109.53892284248717, 11.13717495922836, 11.34496621574759, 7.744735107424873],
        [33.02774469561305, 25.701141668885185, 31.173831276420458, 32.7980109905657],
        [296, 284, 297, 295],
    ),
    "course": (
        [100.26605954345614, 99.45597205548601, 100.76551510161369, 99.82428356438663],
        [308.25604938266974, 8.920771777172575, 210.40365805312032, 2.908054181761898],
        [25.614483149745, 21.749842840638195, 25.2038456606752, 29.011360277283615],
        [262, 251, 271, 263],
    ),
    "penalty": (
        [100.42746503345391, 99.13969416314006, 101.21625928273656, 99.72648291292599],
        [109.53892284248717, 11.13717495922836, 11.34496621574759, 7.744735107424873],
        [32.98274469561306, 25.041141668885185, 31.098831276420462, 32.25801099056571],
        [296, 284, 297, 295],
    ),
}


@pytest.mark.parametrize("preset", sorted(SCALAR))
def test_scalar_trajectory_is_pinned(preset):
    env = MarketMakingEnv(preset=preset, n_steps=50)
    env.reset(seed=2024)
    rng = np.random.default_rng(1)
    total, codes = 0.0, []
    for _ in range(50):
        _, reward, _, _, info = env.step(rng.uniform(-0.5, 2.0, size=2))
        total += reward
        codes.append(str(int(info["bid_filled"]) - 2 * int(info["ask_filled"]) + 2))
    mid, cash, inventory, reward_sum, fills = SCALAR[preset]
    assert "".join(codes) == fills
    assert info["inventory"] == inventory
    assert info["mid"] == pytest.approx(mid, rel=REL)
    assert info["cash"] == pytest.approx(cash, rel=REL)
    assert total == pytest.approx(reward_sum, rel=REL)


@pytest.mark.parametrize("preset", sorted(VECTOR))
def test_vector_trajectory_is_pinned(preset):
    env = MarketMakingVectorEnv(4, preset=preset, n_steps=20)
    env.reset(seed=77)
    rng = np.random.default_rng(2)
    total = np.zeros(4)
    fills = np.zeros(4, dtype=int)
    for _ in range(30):  # crosses one autoreset (NextStep)
        _, reward, _, _, info = env.step(rng.uniform(-0.5, 2.0, size=(4, 2)))
        total += reward
        fills += info["bid_filled"].astype(int) + 10 * info["ask_filled"].astype(int)
    mids, cashes, reward_sums, counts = VECTOR[preset]
    assert fills.tolist() == counts
    np.testing.assert_allclose(info["mid"], mids, rtol=REL, atol=0)
    np.testing.assert_allclose(info["cash"], cashes, rtol=REL, atol=0)
    np.testing.assert_allclose(total, reward_sums, rtol=REL, atol=0)
