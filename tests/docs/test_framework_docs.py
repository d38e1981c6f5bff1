"""Every snippet of docs/frameworks.md and of the README runs: the Python blocks as they are,
the commands of the CleanRL example with a tiny budget appended (in-process)."""

from __future__ import annotations

import importlib.util
import math
import re
import shlex
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "frameworks.md"
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
EXAMPLE = "examples/cleanrl_ppo.py"
TINY = ["--n-steps", "20", "--num-envs", "8", "--num-steps", "32", "--total-timesteps", "256",
        "--update-epochs", "1", "--num-minibatches", "2", "--eval-episodes", "16"]


README = ROOT / "README.md"


def blocks(language: str, docs: tuple[Path, ...] = (DOC, README)) -> list[tuple[str, str]]:
    """(file: section heading, code) of each fenced block of ``language`` in ``docs``."""
    out = []
    for doc in docs:
        text = doc.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            if match.group(1) == language:
                headings = re.findall(r"^#+ (.+)$", text[:match.start()], re.MULTILINE)
                section = headings[-1] if headings else "top"
                out.append((f"{doc.name}: {section}", match.group(2)))
    return out


PYTHON = blocks("python")
COMMANDS = [line for _, code in blocks("bash") for line in code.splitlines()
            if line.startswith(f".venv/bin/python {EXAMPLE}")]


# the example (and the SB3 snippet) set torch's thread count globally: restore it
pytestmark = pytest.mark.usefixtures("keep_torch_threads")


def test_the_pages_have_snippets_and_their_paths_exist():
    assert len(blocks("python", (DOC,))) >= 6 and len(COMMANDS) >= 3
    readme_frameworks = [s for s, _ in blocks("python", (README,))
                         if s.split(": ")[1] in FRAMEWORKS]
    assert len(readme_frameworks) == len(FRAMEWORKS) - 1  # CleanRL's is a command
    for doc in (DOC, README):
        text = doc.read_text(encoding="utf-8")
        for path in set(re.findall(r"\b((?:tests|examples|train)/[\w/]+\.py)\b", text)):
            assert (ROOT / path).is_file(), path


#: the README's section of each framework (each has a snippet, executed below)
FRAMEWORKS = ("Gymnasium wrappers", "Stable-Baselines3", "CleanRL", "TorchRL",
              "Ray RLlib and Ray Tune")


def test_the_guide_covers_tianshou_and_skrl():
    sections = {s.split(": ")[1] for s, _ in blocks("python", (DOC,))}
    assert {"Tianshou", "skrl"} <= sections, sections
    skrl_code = next(code for s, code in blocks("python", (DOC,)) if s.endswith(": skrl"))
    assert 'autoreset_mode="SameStep"' in skrl_code


def test_the_readme_has_a_section_per_framework():
    headings = re.findall(r"^### (.+)$", README.read_text(encoding="utf-8"), re.MULTILINE)
    assert all(name in headings for name in FRAMEWORKS), headings


def _needs_ray(code: str) -> bool:
    return "import ray" in code or "from ray" in code or "train.rllib" in code


# the Ray RLlib snippets run where the ray extra is (.venv-ray in scripts/test.sh)
SNIPPETS = [pytest.param(section, code, id=f"{i}-{section.replace(': ', '-').replace(' ', '_')}",
                         marks=[pytest.mark.ray] if _needs_ray(code) else [])
            for i, (section, code) in enumerate(PYTHON)]


def test_the_ray_section_has_snippets():
    assert sum(_needs_ray(code) for _, code in PYTHON) >= 4  # 3 in docs, 1 in the README


@pytest.mark.parametrize(("section", "code"), SNIPPETS)
def test_python_snippet_runs(section, code, monkeypatch):
    if "torchrl" in code:
        pytest.importorskip("torchrl")
    monkeypatch.chdir(ROOT)
    try:
        exec(compile(code, f"<{section}>", "exec"), {"__name__": "__snippet__"})
    finally:
        if _needs_ray(code):  # a snippet starts its local Ray instance: stop it
            import ray

            ray.shutdown()


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
