"""The same seed gives the same bytes; another seed gives other data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fraudx.sim.generate import ensure_region, generate
from fraudx.sim.writer import sha256_of
from tests.sim.conftest import Region


def _digests(path: Path) -> dict[str, str]:
    return {
        p.relative_to(path).as_posix(): sha256_of(p) for p in sorted(path.rglob("*")) if p.is_file()
    }


def test_same_seed_same_bytes(region: Region, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(again, seed=7)
    first, second = _digests(region.path), _digests(again)
    assert len(first) > 20
    assert first == second


def test_manifest_lists_every_file_with_its_digest(region: Region) -> None:
    manifest = json.loads((region.path / "manifest.json").read_text())
    on_disk = _digests(region.path)
    del on_disk["manifest.json"]
    assert manifest["files"] == on_disk
    assert manifest["seed"] == 7
    assert manifest["scale"] == "small"
    assert manifest["parameters"]["fraud_transfer_share"] > 0


def test_other_seed_other_data(region: Region, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate(other, seed=8)
    first, second = _digests(region.path), _digests(other)
    for name in ("people.parquet", "transfers.parquet", "calls.parquet", "sims.parquet"):
        assert first[name] != second[name], name


def test_ensure_region_generates_once(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    assert ensure_region(target, seed=5) == target
    manifest = target / "manifest.json"
    before = manifest.stat().st_mtime_ns
    ensure_region(target, seed=5)
    assert manifest.stat().st_mtime_ns == before


def test_same_bytes_in_another_process_with_another_hash_seed(
    region: Region, tmp_path: Path
) -> None:
    """Nothing may depend on Python's per-process string hashing (set order and the like)."""
    out = tmp_path / "elsewhere"
    code = "from pathlib import Path; import sys; from fraudx.sim import generate; "
    code += "generate(Path(sys.argv[1]), seed=7)"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(out)], check=True, env=env)
    assert _digests(out) == _digests(region.path)
