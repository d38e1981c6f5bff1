"""Tests of train.rllib."""
