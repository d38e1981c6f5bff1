"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def keep_torch_threads() -> Iterator[None]:
    """Restore torch's global thread count after a test that sets it (examples, snippets)."""
    try:
        import torch
    except ImportError:
        yield
        return
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _ray_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``ray`` need the ray extra: scripts/test.sh runs them in .venv-ray (and
    deselects them in .venv). A plain ``pytest`` without Ray reports them as skipped, saying
    how to run them, instead of failing on the import."""
    if _ray_installed():
        # one xdist worker runs all of them (scripts/test.sh passes --dist loadgroup): one
        # local Ray instance and one trained run instead of one per worker
        for item in items:
            if "ray" in item.keywords:
                item.add_marker(pytest.mark.xdist_group("ray"))
        return
    skip = pytest.mark.skip(
        reason="needs the ray extra: MM_ENV_STACK=ray bash scripts/setup.sh, then "
        ".venv-ray/bin/python -m pytest (scripts/test.sh does both)"
    )
    for item in items:
        if "ray" in item.keywords:
            item.add_marker(skip)
