"""Training with stable-baselines3: the ``VecEnv`` adapter over the native vector env
(:mod:`~train.sb3.vec_env`), its wrappers (:mod:`~train.sb3.wrappers`), the env stack, the
trainer with its callbacks and exact-resume checkpoints, and model directories
(:mod:`~train.sb3.model_dir`) loaded back as policies. Imports nothing from
:mod:`train.rllib`."""
