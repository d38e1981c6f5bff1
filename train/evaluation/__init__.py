"""Monte Carlo evaluation of market-making policies, framework-neutral (no RL framework, no
plotting is imported here; import-linter checks it).

- :mod:`~train.evaluation.harness`: ``evaluate(policy, config, n_episodes, seed)``, batched
  episodes on the native vector env;
- :mod:`~train.evaluation.stats`: the per-episode metrics and their standard errors;
- :mod:`~train.evaluation.compare`: policies on common random numbers, parameter sweeps;
- :mod:`~train.evaluation.report`: printed tables and result files
  (:mod:`~train.evaluation.files`: the CSV/JSON writer and reader);
- :mod:`~train.evaluation.score`: paired gaps and the optimality score;
- :mod:`~train.evaluation.held_out`: the held-out evaluation rows of a training run;
- :mod:`~train.evaluation.policy_adapter`, :mod:`~train.evaluation.policy_specs`,
  :mod:`~train.evaluation.trained`: anything that quotes as a policy, policies named by text,
  the checks a saved trained policy must pass.
"""
