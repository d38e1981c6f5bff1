"""Tests of train.evaluation."""
