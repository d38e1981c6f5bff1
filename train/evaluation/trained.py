"""What a saved trained policy (SB3 model directory, RLlib policy directory) must match.

Both libraries write a ``meta.json`` with the market config (``market``) and the observation
layout (``observation_names``) the policy was trained on; :func:`check_compatible` refuses a
policy whose layout this version of mm_env no longer produces, or which is asked to act in
another market.
"""

from __future__ import annotations

from typing import Any

from mm_env import MarketConfig, observation_names


def check_compatible(
    meta: dict[str, Any], config: MarketConfig | None, command: str = "mm-env train"
) -> MarketConfig:
    """The model's market config; ValueError if its layout or (given) config differ
    (``command``: what retrains such a model, for the message)."""
    names = meta.get("observation_names")
    trained = MarketConfig.from_dict(meta["market"])
    observed = list(observation_names(trained))
    if not names or names != observed[: len(names)]:  # features appended later are fine
        raise ValueError(
            f"the model was trained on observations {names}, but this version of mm_env "
            f"observes {observed} in its market; retrain it with {command}"
        )
    if config is not None and config != trained:
        diff = {
            k: (v, getattr(config, k))
            for k, v in trained.to_dict().items()
            if getattr(config, k) != v
        }
        details = ", ".join(f"{k}: trained {a!r} vs given {b!r}" for k, (a, b) in diff.items())
        raise ValueError(
            f"the model was trained on a different market config ({details}); evaluate it on "
            "its own config (config=None) or retrain it"
        )
    return trained
