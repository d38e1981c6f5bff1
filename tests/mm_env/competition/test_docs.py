"""docs/competition.md: every Python block runs, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[3] / "docs" / "competition.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_the_guide_has_examples() -> None:
    assert len(python_blocks()) >= 4


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_the_guide_runs(capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {}
    for block in python_blocks():
        exec(compile(block, str(DOC), "exec"), namespace)
    out = capsys.readouterr().out
    assert "(6,)" in out  # the full-information observation of two makers
    assert "(1000, 2, 3) (1000, 2) (1000,) (1000, 2)" in out
    assert "(2000, 3) (2000,) (3,)" in out
