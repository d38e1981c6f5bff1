"""Training with Ray RLlib (the ``ray`` extra): the env creator (:mod:`~train.rllib.env`), the
run config (:mod:`~train.rllib.config`), PPO training and resume (:mod:`~train.rllib.trainer`),
trained policies (:mod:`~train.rllib.policy`) and Tune sweeps (:mod:`~train.rllib.tune`).
Imports nothing from :mod:`train.sb3`."""
