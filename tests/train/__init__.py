"""Tests of the train package, one folder per sub-package."""
