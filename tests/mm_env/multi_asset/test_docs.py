"""docs/multi_asset.md: its example runs, its configuration table is the declaration's."""

from __future__ import annotations

import re
from pathlib import Path

from mm_env.multi_asset.config import multi_asset_config_markdown

PAGE = Path(__file__).resolve().parents[3] / "docs" / "multi_asset.md"
MARKER = "<!-- generated: multi_asset_config_markdown(level=3) in mm_env/multi_asset/config.py -->"


def test_the_python_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(PAGE), "exec"), {"__name__": "docs_example"})
    assert re.match(r"episode reward -?\d+\.\d\d, inventory \[", capsys.readouterr().out)


def test_the_configuration_table_is_generated_from_the_declaration():
    text = PAGE.read_text()
    assert MARKER in text, "docs/multi_asset.md lost the marker of its generated section"
    generated = text.split(MARKER, 1)[1].lstrip("\n")
    assert generated == multi_asset_config_markdown(level=3), (
        "docs/multi_asset.md is out of date: replace everything after the marker with "
        "multi_asset_config_markdown(level=3)"
    )


def test_the_throughput_figures_come_from_the_benchmark_script():
    text = PAGE.read_text()
    assert "$ .venv/bin/python benchmarks/multi_asset_throughput.py" in text
    ratios = [float(x) for x in re.findall(r"ratio .*?(\d+\.\d\d)\s+\(target >= 0\.5\)", text)]
    assert len(ratios) == 2 and min(ratios) >= 0.5
