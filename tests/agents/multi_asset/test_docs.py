"""The Python snippets of docs/multi_asset_agents.md run as they are."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "multi_asset_agents.md"


def test_doc_snippets_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {})
    out = capsys.readouterr().out
    assert "joint discrete optimum" in out and "depths [bid_1" in out
