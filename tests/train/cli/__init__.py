"""Tests of train.cli."""
