"""Tests of train.plots."""
