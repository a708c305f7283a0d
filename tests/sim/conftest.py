"""One small simulated region per test session: generating it takes a couple of seconds."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fraudx.sim.generate import generate


class Region:
    def __init__(self, path: Path) -> None:
        self.path = path

    def table(self, name: str) -> pa.Table:
        return pq.read_table(self.path / f"{name}.parquet")


@pytest.fixture(scope="session")
def region(tmp_path_factory: pytest.TempPathFactory) -> Region:
    path = tmp_path_factory.mktemp("sim") / "seed7"
    generate(path, seed=7)
    return Region(path)
