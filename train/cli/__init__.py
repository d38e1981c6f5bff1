"""The ``mm-env`` command (``train.cli:main``): :mod:`train.cli.app` builds the parser and runs
the evaluation subcommands, :mod:`train.cli.sb3` and :mod:`train.cli.rllib` the training ones;
:mod:`train.cli.options` generates every option from the dataclasses of the Python API."""

from __future__ import annotations

from train.cli.app import main

__all__ = ["main"]
