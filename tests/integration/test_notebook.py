"""notebooks/analytics_walkthrough.ipynb runs top to bottom on a small demo city (nbclient, a real kernel)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from tests import demodb
from tests.scratch import scratch_database

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "analytics_walkthrough.ipynb"


@pytest.fixture(scope="module")
def demo_url(cluster) -> Iterator[str]:
    with scratch_database(cluster, "peta112_notebook", seed=demodb.seed) as url:
        yield url


def test_stored_notebook_is_executed_and_small():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs for c in code), "store the notebook executed"
    assert not any(o.output_type == "error" for c in code for o in c.outputs)
    assert NOTEBOOK.stat().st_size < 400_000  # figures at low dpi, no huge embedded images


def test_notebook_runs_against_a_scratch_demo_city(demo_url: str, monkeypatch: pytest.MonkeyPatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("PETA112_NOTEBOOK_DATABASE_URL", demo_url)
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    texts = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "kelurahan," in texts and "incidents, EPSG:4326" in texts
    assert "'units':" in texts and "'clusters':" in texts  # hotspots and clusters summaries printed
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4
