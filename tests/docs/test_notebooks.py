"""The notebooks in ``notebooks/`` run end to end on the installed package.

Each notebook is stored without outputs and has a first code cell tagged ``parameters``. The
test reads it with nbformat, inserts a cell right after the parameters cell that sets small
values (``N_EPISODES = 200``, ``FAST = True``, and for notebook 03 a tiny training run in a
temporary directory), appends a cell of checks that run in the same kernel, and executes
the whole notebook with nbclient in a temporary working directory. The kernel is this
interpreter (``sys.executable``): a kernelspec written to a temporary ``JUPYTER_PATH`` entry
takes precedence over any ``python3`` kernel installed elsewhere on the machine.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = (
    "01_market_making_basics.ipynb",
    "02_beyond_as.ipynb",
    "03_train_ppo.ipynb",
    "04_multi_asset.ipynb",
    "05_competition.ipynb",
)
FAST = "N_EPISODES = 200\nFAST = True\n"

# Small parameters per notebook (``{tmp}`` is the test's temporary directory).
PARAMETERS = {
    "01_market_making_basics.ipynb": FAST,
    "02_beyond_as.ipynb": FAST,
    "03_train_ppo.ipynb": FAST + (
        "TRAIN = True\nTOTAL_TIMESTEPS = 20_000\n"
        f"REPO_ROOT = {str(ROOT)!r}\nRUN_DIR = {{run_dir!r}}\n"
    ),
    "04_multi_asset.ipynb": FAST,
    "05_competition.ipynb": FAST,
}

# Checks run in the notebook's kernel after its last cell (they see its variables).
CHECKS = {
    "01_market_making_basics.ipynb": """
s_as = mc.results["AS"].summary()
s_sym = mc.results["symmetric"].summary()
assert s_as["mean_abs_inventory"] < s_sym["mean_abs_inventory"], (s_as, s_sym)
assert s_as["mean_fills"] > 50, s_as  # consistent units: the market maker trades
assert evaluate(AvellanedaStoikovAgent(original), original, 50, 0).summary()["mean_fills"] < 5
assert len(gs.results) == len(DEFAULT_GAMMAS)
""",
    "02_beyond_as.ipynb": """
best = max(values_pen.values())
assert values_pen["discrete optimal"] == best, values_pen
assert values_pen["optimal"] > values_pen["AS 0.1"] > values_pen["naive"], values_pen
assert rows_alpha[-1][5] > rows_alpha[0][5]  # AS falls behind as alpha grows
""",
    "03_train_ppo.ipynb": """
assert "PPO (this run)" in values and "PPO (this run)" in mc.results
assert values["discrete optimal"] >= values["optimal"] > values["AS (gamma=0.1)"]
assert curves["PPO (this run)"], "eval.csv of the run has rows"
""",
    "04_multi_asset.ipynb": """
assert abs(corr - 0.9) < 0.05, corr
assert exact["joint optimum"] == max(exact.values()), exact
assert (exact["joint optimum"] > exact["independent optima"]
        > exact[f"AS gamma={best_gamma:g}"] > exact["naive 1/k"]), exact
""",
    "05_competition.ipynb": """
assert results["AS + optimum"].maker("fill_share", 1).value > 0.6
assert eq.exploitability < 1e-3 and eq.tables[0][0, a, b].sum() < monopolist.table[0, a, b].sum()
assert all(abs(sum(v) - 1) < 1e-9 for v in shares.values())
""",
}

# Text every executed notebook must show, and the fewest figures it must draw.
EXPECTED = {
    "01_market_making_basics.ipynb": (
        ["AS quote skew", "reservation r", "Fills per side", "both unit conventions",
         "2 policies on the same 200 episodes", "sweep of gamma", "std of log(S_T/S_0)"],
        9,
    ),
    "02_beyond_as.ipynb": (
        ["exact E[reward]", "terminal penalty alpha", "running penalty phi", "inventory limit",
         "GBM, 200 episodes per sigma", "exact expected episode reward vs step length",
         "presets:"],
        4,
    ),
    "03_train_ppo.ipynb": (
        ["PPO (this run)", "held-out episodes", "exact E[reward]", "score"],
        4,
    ),
    "04_multi_asset.ipynb": (
        ["correlation of the mid moves", "episodes per policy, the same for all",
         "exact E[reward]", "score of independent optima"],
        3,
    ),
    "05_competition.ipynb": (
        ["fill share", "equilibrium spread", "exploitability of", "N = 2, 200 games per profile"],
        2,
    ),
}


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory: pytest.TempPathFactory):
    """A ``python3`` kernelspec running this interpreter, first on ``JUPYTER_PATH``; the
    kernel's connection files and IPython profile in the temporary directory too."""
    base = tmp_path_factory.mktemp("jupyter")
    spec_dir = base / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (mm_env tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    saved = {k: os.environ.get(k) for k in ("JUPYTER_PATH", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR")}
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [str(base), *([saved["JUPYTER_PATH"]] if saved["JUPYTER_PATH"] else [])]
    )
    os.environ["JUPYTER_RUNTIME_DIR"] = str(base / "runtime")  # connection files
    os.environ["IPYTHONDIR"] = str(base / "ipython")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def parameters_index(nb) -> int:
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell must be tagged 'parameters'"
    return tagged[0]


def outputs(nb) -> tuple[str, int]:
    """All text the notebook printed or displayed, and the number of PNG images."""
    texts, images = [], 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                texts.append(out.text)
            elif out.output_type in ("display_data", "execute_result"):
                images += "image/png" in out.data
                texts.append(out.data.get("text/plain", ""))
    return "\n".join(texts), images


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_stored_clean(name: str) -> None:
    """Stored without outputs, with the parameters cell first among the code cells."""
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), (
        f"{name} must be stored without outputs"
    )
    assert nb.cells[parameters_index(nb)] is code[0]
    assert "N_EPISODES" in code[0].source and "FAST" in code[0].source
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name: str, tmp_path: Path, kernel_env: None) -> None:
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    params = PARAMETERS[name].format(run_dir=str(tmp_path / "run"))
    injected = nbformat.v4.new_code_cell("# injected by tests/docs/test_notebooks.py\n" + params)
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(parameters_index(nb) + 1, injected)
    nb.cells.append(nbformat.v4.new_code_cell(CHECKS[name]))
    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError (with the traceback) if a cell fails

    text, images = outputs(nb)
    phrases, min_images = EXPECTED[name]
    missing = [p for p in phrases if p not in text]
    assert not missing, f"{name}: outputs lack {missing}"
    assert images >= min_images, f"{name}: {images} figures drawn, expected >= {min_images}"
