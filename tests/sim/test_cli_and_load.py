"""``fraudx simulate`` on the command line, and loading known/ into a node's registry."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fraudx.cli import run
from fraudx.node import Node
from fraudx.platform.agencies.model import AgencyKind, Principal, Role, operator
from fraudx.platform.errors import ConfigurationError
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


@dataclass
class Imported:
    accepted: int
    rejected: list[object] = field(default_factory=list)


@dataclass
class Rejected:
    line: int
    field: str
    reason: str


class FakeRegistry:
    """Records what loading hands the registry; rejects rows whose kind is imei."""

    def __init__(self) -> None:
        self.calls: list[tuple[Principal, list[dict[str, str]], bool]] = []

    def import_records(
        self, principal: Principal, rows: object, *, atomic: bool = True
    ) -> Imported:
        rows = list(rows)  # type: ignore[call-overload]
        self.calls.append((principal, rows, atomic))
        bad = [
            Rejected(i + 2, "kind", "not supported")
            for i, r in enumerate(rows)
            if r["kind"] == "imei"
        ]
        return Imported(len(rows) - len(bad), bad)


def test_load_registers_police_and_imports_each_agencys_file(region: Region, node: Node) -> None:
    registry = FakeRegistry()
    node = _with_registry(node, registry)
    progress: list[str] = []
    report = load(node, region.path, progress=lambda step, done, total: progress.append(step))
    files = sorted(p.stem for p in (region.path / "known").glob("*.csv"))
    assert [p.agency_code for p, _, _ in registry.calls] == files
    for principal, rows, atomic in registry.calls:
        assert principal.role is Role.ANALYST
        assert principal.agency_kind is AgencyKind.POLICE
        assert principal.actor == "simulate"
        assert not atomic
        assert principal.country == principal.agency_code.split("-")[0]  # type: ignore[union-attr]
        with (region.path / "known" / f"{principal.agency_code}.csv").open(newline="") as f:
            assert rows == list(csv.DictReader(f))
    assert sorted(report.agencies_added) == files
    assert report.total_accepted + len(report.rejected) == sum(len(r) for _, r, _ in registry.calls)
    agencies = {a.code: a for a in node.platform.agencies.list(operator("t"))}
    assert all(agencies[c].kind is AgencyKind.POLICE for c in files)
    assert progress[-1] == "done"
    again = load(node, region.path)  # agencies already there: nothing added, rows again
    assert again.agencies_added == []


def test_load_without_a_registry_fails_clearly(region: Region, node: Node) -> None:
    with pytest.raises(ConfigurationError, match="this node has no indicator registry"):
        load(node, region.path)


def test_load_command_without_a_registry_is_one_line(
    region: Region,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FRAUDX_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("FRAUDX_DATABASE_URL", raising=False)
    code = run(["simulate", "load", str(region.path)])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err == "error: this node has no indicator registry"


def _with_registry(node: Node, registry: FakeRegistry) -> Node:
    object.__setattr__(node, "registry", registry)
    return node
