"""Load what police know (``known/*.csv``) into a node's indicator registry.

Each country's police agency is registered if missing, then its file is imported as
that agency's analyst. Everything else the simulator wrote stays hidden as ground truth.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from fraudx.node import Node
from fraudx.platform.agencies.model import AgencyKind, Principal, Role, operator
from fraudx.platform.errors import Conflict, InvalidInput
from fraudx.sim.known import HEADER, POLICE

#: (agency code, files done, files in all)
LoadProgress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class Rejection:
    agency: str
    line: int
    field: str
    reason: str


@dataclass
class LoadReport:
    agencies_added: list[str] = field(default_factory=list)
    accepted: dict[str, int] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def total_accepted(self) -> int:
        return sum(self.accepted.values())


def _country_of(code: str) -> str:
    for country, (police, _) in POLICE.items():
        if police == code:
            return country
    return code.split("-", 1)[0]


def _rows(path: Path) -> Iterable[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != HEADER:
            raise InvalidInput(
                str(path), "not a known/ file: its header is not " + ",".join(HEADER)
            )
        for row in reader:
            yield {k: v or "" for k, v in row.items()}


def load(node: Node, directory: Path, *, progress: LoadProgress | None = None) -> LoadReport:
    """Import ``directory/known/<AGENCY>.csv`` as each agency; returns what was accepted."""
    registry = node.registry
    files = sorted((directory / "known").glob("*.csv"))
    if not (directory / "manifest.json").is_file() or not files:
        raise InvalidInput("directory", f"{directory} holds no simulator output with known/")
    report = LoadReport()
    admin = operator("simulate")
    for i, path in enumerate(files):
        code = path.stem
        country = _country_of(code)
        if progress:
            progress(code, i, len(files))
        name = dict(POLICE.values()).get(code, f"National Police of {country}")
        with suppress(Conflict):  # registered by an earlier load or by hand
            node.platform.agencies.add(admin, code, name, country, AgencyKind.POLICE.value)
            report.agencies_added.append(code)
        principal = Principal(
            role=Role.ANALYST,
            agency_code=code,
            agency_kind=AgencyKind.POLICE,
            country=country,
            actor="simulate",
        )
        result = registry.import_records(principal, _rows(path), atomic=False)
        report.accepted[code] = result.accepted
        report.rejected.extend(
            Rejection(code, bad.line, bad.field, bad.reason) for bad in result.rejected
        )
    if progress:
        progress("done", len(files), len(files))
    return report
