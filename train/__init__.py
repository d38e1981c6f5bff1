"""Experiments on the market-making env: evaluation, comparison, training, plots, CLI."""
