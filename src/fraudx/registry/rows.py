"""New reports as the rows the database driver inserts, made where the rows are checked.

A bulk import validates its rows in worker processes (``drafting``); the same workers
turn each draft into its insert tuple and its outbox change (``events``), so that the
importing process, the only one that may write, spends its time writing. Light on
purpose: no SQLAlchemy, so that workers start quickly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from fraudx.identifiers import Identifier, IdentifierKind
from fraudx.platform.clock import sqlite_time_text
from fraudx.platform.memo import memo
from fraudx.registry.model import IndicatorDraft, Tlp

#: Columns of a new report's row, in the order of ``new_row``'s tuple.
INSERT_COLUMNS = (
    "id",
    "kind",
    "value",
    "agency_code",
    "country",
    "category",
    "confidence",
    "tlp",
    "status",
    "valid_from",
    "valid_until",
    "first_seen",
    "last_seen",
    "created_at",
    "updated_at",
    "region",
    "case_ref",
    "description",
    "tags",
)
Row = tuple[Any, ...]


def tags_column(tags: Sequence[str]) -> str:
    return f";{';'.join(tags)};" if tags else ""


def _tags(text_: str) -> tuple[str, ...]:
    return tuple(t for t in text_.split(";") if t)


def time_texts(sqlite: bool) -> Callable[[datetime | None], datetime | str | None]:
    """How a time is bound through the driver: as SQLAlchemy's text on SQLite (memoised:
    a batch holds a few instants over and over), as itself on PostgreSQL."""
    if not sqlite:
        return lambda value: value
    text_of = row_times(sqlite=True)
    return lambda value: None if value is None else text_of(value)


def row_times(sqlite: bool) -> Callable[[datetime], str]:
    """Times of new rows as text on both backends, memoised: SQLAlchemy's text on SQLite,
    ISO 8601 with its offset for PostgreSQL's COPY (text crosses between processes faster
    than datetimes, and COPY reads it as it is)."""
    return memo(sqlite_time_text if sqlite else datetime.isoformat)


def new_row(
    id_: str,
    d: IndicatorDraft,
    agency_code: str,
    country: str,
    stamp: str,
    when: Callable[[datetime], str],
) -> Row:
    """The row of a report created from ``d``; ``stamp`` is the creation time's text."""
    return (
        id_,
        d.identifier.kind.value,
        d.identifier.value,
        agency_code,
        country,
        d.category,
        d.confidence,
        d.tlp.value,
        "active",
        when(d.valid_from),
        when(d.valid_until),
        stamp,
        stamp,
        stamp,
        stamp,
        d.region,
        d.case_ref,
        d.description,
        tags_column(d.tags),
    )


def key_of(row: Row) -> tuple[str, str, str]:
    """Kind, value, category: one active report per agency and key."""
    return row[1], row[2], row[5]


def time_of(text_: str) -> datetime:
    """A time as ``row_times`` wrote it."""
    value = datetime.fromisoformat(text_)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def draft_of_row(row: Row) -> IndicatorDraft:
    """The draft ``new_row`` was made from (for the rare rows met twice)."""
    return IndicatorDraft(
        identifier=Identifier(IdentifierKind(row[1]), row[2]),
        category=row[5],
        confidence=row[6],
        tlp=Tlp(row[7]),
        valid_from=time_of(row[9]),
        valid_until=time_of(row[10]),
        region=row[15],
        case_ref=row[16],
        description=row[17],
        tags=_tags(row[18]),
    )
