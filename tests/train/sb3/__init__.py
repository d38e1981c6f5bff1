"""Tests of train.sb3."""
