"""Every snippet of docs/frameworks.md runs: the Python blocks as they are, the commands of
the CleanRL example with a tiny budget appended (in-process)."""

from __future__ import annotations

import importlib.util
import math
import re
import shlex
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "frameworks.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
EXAMPLE = "examples/cleanrl_ppo.py"
TINY = ["--n-steps", "20", "--num-envs", "8", "--num-steps", "32", "--total-timesteps", "256",
        "--update-epochs", "1", "--num-minibatches", "2", "--eval-episodes", "16"]


def blocks(language: str) -> list[tuple[str, str]]:
    """(section heading, code) of each fenced block of ``language``."""
    text = DOC.read_text(encoding="utf-8")
    out = []
    for match in BLOCK.finditer(text):
        if match.group(1) == language:
            headings = re.findall(r"^#+ (.+)$", text[:match.start()], re.MULTILINE)
            out.append((headings[-1] if headings else "top", match.group(2)))
    return out


PYTHON = blocks("python")
COMMANDS = [line for _, code in blocks("bash") for line in code.splitlines()
            if line.startswith(f".venv/bin/python {EXAMPLE}")]


# the example (and the SB3 snippet) set torch's thread count globally: restore it
pytestmark = pytest.mark.usefixtures("keep_torch_threads")


def test_the_page_has_snippets_and_its_paths_exist():
    assert len(PYTHON) >= 4 and len(COMMANDS) >= 2
    text = DOC.read_text(encoding="utf-8")
    for path in set(re.findall(r"\b((?:tests|examples|train)/[\w/]+\.py)\b", text)):
        assert (ROOT / path).is_file(), path


def _needs_ray(code: str) -> bool:
    return "import ray" in code or "from ray" in code or "train.rllib" in code


# the Ray RLlib snippets run where the ray extra is (.venv-ray in scripts/test.sh)
SNIPPETS = [pytest.param(section, code, id=f"{i}-{section}",
                         marks=[pytest.mark.ray] if _needs_ray(code) else [])
            for i, (section, code) in enumerate(PYTHON)]


def test_the_ray_section_has_snippets():
    assert sum(_needs_ray(code) for _, code in PYTHON) >= 2


@pytest.mark.parametrize(("section", "code"), SNIPPETS)
def test_python_snippet_runs(section, code, monkeypatch):
    if "torchrl" in code:
        pytest.importorskip("torchrl")
    monkeypatch.chdir(ROOT)
    exec(compile(code, f"{DOC.name}[{section}]", "exec"), {"__name__": "__snippet__"})


@pytest.fixture(scope="module")
def example() -> ModuleType:
    pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("cleanrl_ppo_docs", ROOT / EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("command", COMMANDS)
def test_cleanrl_command_runs(command, example, capsys):
    argv = shlex.split(command)[2:]
    if "--help" in argv:
        with pytest.raises(SystemExit) as exit_info:
            example.parse_args(argv)
        assert exit_info.value.code == 0
        assert "--total-timesteps" in capsys.readouterr().out
        return
    result = example.main(example.parse_args(argv + TINY))  # the last value of a flag wins
    assert result["global_step"] == 256
    assert all(math.isfinite(r) for _, r in result["history"])
    assert math.isfinite(result["eval_mean"])
