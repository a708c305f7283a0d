"""``fraudx simulate`` on the command line, and loading known/ into a node's registry."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from fraudx.cli import run
from fraudx.node import Node
from fraudx.platform.agencies.model import AgencyKind, Principal, Role, operator
from fraudx.sim.load import load
from tests.sim.conftest import Region


def test_generate_small_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "region"
    code = run(["simulate", "generate", "--scale", "small", "--seed", "3", "--out", str(out),
                "--countries", "TH,MM,KH", "--formats", "parquet"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert (out / "manifest.json").is_file()
    assert (out / "transfers.parquet").is_file()
    assert not (out / "transfers.csv").exists()
    assert "fraud trails" in captured.err
    assert sorted(p.stem for p in (out / "known").glob("*.csv")) <= ["KH-GCNP", "MM-MPF", "TH-CCIB"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--countries", "TH,ZZ"], "'ZZ' is not an ISO 3166"),
        (["--countries", "US"], "at least one country needs banks in FraudX's bank directory"),
        (["--formats", "xlsx"], "--formats: choose from parquet, csv"),
        (["--scale", "huge"], "huge"),
        (["--seed", "x"], "x"),
    ],
)
def test_bad_options_give_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code = run(["simulate", "generate", "--out", str(tmp_path / "o"), *args])
    err = capsys.readouterr().err.strip()
    assert code != 0
    assert message in err
    if "--scale" not in args and "--seed" not in args:  # Click's usage errors show usage too
        assert len(err.splitlines()) == 1, err


def test_refuses_to_overwrite_without_force(
    region: Region, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["simulate", "generate", "--out", str(region.path)])
    assert code == 1
    assert (
        capsys.readouterr().err.strip()
        == f"error: --out: {region.path} already holds simulator output; add --force"
    )


def test_load_registers_police_and_imports_each_agencys_file(region: Region, node: Node) -> None:
    progress: list[str] = []
    report = load(node, region.path, progress=lambda step, done, total: progress.append(step))
    files = sorted(p.stem for p in (region.path / "known").glob("*.csv"))
    assert sorted(report.agencies_added) == files
    assert report.rejected == []
    agencies = {a.code: a for a in node.platform.agencies.list(operator("t"))}
    assert all(agencies[c].kind is AgencyKind.POLICE for c in files)
    assert progress[-1] == "done"

    bank = Principal(Role.PARTNER, None, None, "TH", "bank screening")
    for code in files:
        with (region.path / "known" / f"{code}.csv").open(newline="") as f:
            rows = list(csv.DictReader(f))
        assert report.accepted[code] == len(rows)
        police = Principal(Role.ANALYST, code, AgencyKind.POLICE, code[:2], "t")
        stored = node.registry.search(police, node.registry.search_filter(agency=code), limit=1000)
        assert {(i.identifier.kind.value, i.identifier.value) for i in stored.items} == {
            (r["kind"], r["value"]) for r in rows
        }
        # What police know is listed for everyone the TLP allows.
        visible = [r for r in rows if r["tlp"] not in ("RED", "AMBER+STRICT")]
        for row in visible[:20]:
            assert node.lookups.lookup(bank, row["kind"], row["value"]).listed, row

    again = load(node, region.path)  # the same files again: reports updated, none doubled
    assert again.agencies_added == []
    assert again.total_accepted == report.total_accepted
    police = Principal(Role.ANALYST, files[0], AgencyKind.POLICE, files[0][:2], "t")
    count = node.registry.count(police, node.registry.search_filter(agency=files[0]))
    assert count == report.accepted[files[0]]
