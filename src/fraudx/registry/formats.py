"""The bulk formats: CSV and JSON Lines, read as a stream of rows and written back.

Rows are read lazily from any iterable of text lines, so that an import of a million rows
from a file or an HTTP body never sits in memory whole. Each row keeps the line it
started on, so that a bad row is reported where the sender can find it.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fraudx.platform.errors import InvalidInput
from fraudx.registry.model import IMPORT_FIELDS, Indicator


class BulkFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"

    @classmethod
    def of_media_type(cls, media_type: str) -> BulkFormat:
        base = media_type.split(";")[0].strip().lower()
        if base in ("text/csv", "application/csv"):
            return cls.CSV
        if base in ("application/x-ndjson", "application/jsonl", "application/json-lines"):
            return cls.JSONL
        raise InvalidInput(
            "Content-Type", f"{base or 'none'}: send text/csv or application/x-ndjson"
        )

    @classmethod
    def of_path(cls, name: str) -> BulkFormat:
        lower = name.lower()
        if lower.endswith(".csv"):
            return cls.CSV
        if lower.endswith((".jsonl", ".ndjson")):
            return cls.JSONL
        raise InvalidInput("file", f"{name}: name it .csv, .jsonl or .ndjson, or give --format")

    @property
    def media_type(self) -> str:
        return "text/csv" if self is BulkFormat.CSV else "application/x-ndjson"


@dataclass(frozen=True, slots=True)
class RawRow:
    """One row as sent: its fields, or why it could not even be read as a row."""

    line: int
    fields: dict[str, Any] | None
    error: str | None = None


def text_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """UTF-8 lines (ends kept) from byte chunks split anywhere, even inside a character."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    pending = ""
    for chunk in chunks:
        pending += decoder.decode(chunk)
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


@dataclass(frozen=True, slots=True)
class TextBatch:
    """Whole records as text, cut from a stream so that a worker process can read them:
    the CSV header travels with each batch, and line numbers stay those of the file."""

    fmt: BulkFormat
    header: tuple[str, ...] | None
    first_line: int
    lines: list[str]


def read_rows(lines: Iterable[str], fmt: BulkFormat) -> Iterator[RawRow]:
    for item in text_batches(lines, fmt):
        if isinstance(item, RawRow):
            yield item
        else:
            yield from read_batch(item)


def text_batches(
    lines: Iterable[str], fmt: BulkFormat, size: int = 2000
) -> Iterator[TextBatch | RawRow]:
    """Batches of about ``size`` records; a bad CSV header comes out as a RawRow error."""
    source = iter(lines)
    header: tuple[str, ...] | None = None
    number = 1
    if fmt is BulkFormat.CSV:
        first = _csv_record(source)
        if not first:
            return
        parsed = _csv_header(first)
        if isinstance(parsed, RawRow):
            yield parsed
            return
        header = parsed
        number += len(first)
    batch: list[str] = []
    start = number
    records = 0
    while True:
        record = _csv_record(source) if fmt is BulkFormat.CSV else _one_line(source)
        if not record:
            break
        batch.extend(record)
        number += len(record)
        records += 1
        if records >= size:
            yield TextBatch(fmt, header, start, batch)
            batch, start, records = [], number, 0
    if batch:
        yield TextBatch(fmt, header, start, batch)


def _one_line(source: Iterator[str]) -> list[str]:
    line = next(source, None)
    return [] if line is None else [line]


def _csv_record(source: Iterator[str]) -> list[str]:
    """The physical lines of one CSV record: a quoted field may hold line breaks, and
    a record is complete when its quotes are balanced ("" inside a field counts twice)."""
    record: list[str] = []
    quoted = False
    for line in source:
        record.append(line)
        if line.count('"') % 2:
            quoted = not quoted
        if not quoted:
            break
    return record


def _csv_header(lines: list[str]) -> tuple[str, ...] | RawRow:
    try:
        header = tuple(h.strip().lower() for h in next(csv.reader(lines)))
    except (csv.Error, StopIteration) as exc:
        return RawRow(1, None, f"header: {exc}")
    unknown = [h for h in header if h not in _ACCEPTED]
    missing = [h for h in ("kind", "value", "category") if h not in header]
    if not unknown and not missing:
        return header
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)}")
    return RawRow(1, None, "header: " + "; ".join(problems) + f"; use {','.join(IMPORT_FIELDS)}")


def read_batch(batch: TextBatch) -> Iterator[RawRow]:
    if batch.fmt is BulkFormat.JSONL:
        yield from _read_jsonl(batch.lines, batch.first_line)
        return
    assert batch.header is not None
    header = batch.header
    reader = csv.reader(batch.lines)
    offset = batch.first_line - 1
    line = batch.first_line
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RawRow(line, None, f"not a CSV row: {exc}")
            line = offset + reader.line_num + 1
            continue
        if cells and any(c.strip() for c in cells):  # blank lines are not rows
            if len(cells) != len(header):
                yield RawRow(line, None, f"has {len(cells)} cells, the header has {len(header)}")
            else:
                yield RawRow(line, {k: v for k, v in zip(header, cells, strict=True) if k in _READ})
        line = offset + reader.line_num + 1


def _read_jsonl(lines: Iterable[str], first_line: int = 1) -> Iterator[RawRow]:
    for number, line in enumerate(lines, start=first_line):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as exc:
            yield RawRow(number, None, f"not JSON: {exc}")
            continue
        if not isinstance(data, dict):
            yield RawRow(number, None, "each line must be a JSON object")
            continue
        unknown = [k for k in data if k not in _ACCEPTED]
        if unknown:
            yield RawRow(number, None, f"unknown field(s) {', '.join(map(str, unknown))}")
            continue
        yield RawRow(number, {k: v for k, v in data.items() if k in _READ})


# --- export ---------------------------------------------------------------------------

EXPORT_FIELDS = (
    "id",
    *IMPORT_FIELDS,
    "status",
    "agency",
    "country",
    "first_seen",
    "last_seen",
    "revoked_reason",
)


#: What import reads, and what it accepts and ignores so that an export reads back in.
_READ = frozenset((*IMPORT_FIELDS, "valid_from"))
_ACCEPTED = _READ | frozenset(EXPORT_FIELDS)


def export_record(indicator: Indicator, *, with_sources: bool) -> dict[str, Any]:
    """One exported report. Without sources (partners) agency and case stay out."""
    return {
        "id": indicator.id,
        "kind": indicator.identifier.kind.value,
        "value": indicator.identifier.value,
        "category": indicator.category,
        "confidence": indicator.confidence,
        "tlp": indicator.tlp.value,
        "valid_until": indicator.valid_until.isoformat(),
        "region": indicator.region,
        "case_ref": indicator.case_ref if with_sources else None,
        "description": indicator.description if with_sources else None,
        "tags": list(indicator.tags),
        "status": indicator.status.value,
        "agency": indicator.agency_code if with_sources else None,
        "country": indicator.country,
        "first_seen": indicator.first_seen.isoformat(),
        "last_seen": indicator.last_seen.isoformat(),
        "revoked_reason": indicator.revoked_reason.value if indicator.revoked_reason else None,
    }


def render(records: Iterable[dict[str, Any]], fmt: BulkFormat) -> Iterator[str]:
    """Export text in pieces. The CSV reads back through import (tags joined by ';')."""
    if fmt is BulkFormat.JSONL:
        for record in records:
            yield json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    for record in records:
        writer.writerow(
            [
                ";".join(record[f]) if f == "tags" else ("" if record[f] is None else record[f])
                for f in EXPORT_FIELDS
            ]
        )
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
