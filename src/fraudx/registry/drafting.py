"""Validating import rows, on every core: parsing identifiers is most of an import's work.

A phone number takes phonenumbers some 20 µs to read and check; a million-row import
spends more time there than in the database. Large imports therefore validate their rows
in worker processes, in order, a few batches ahead of the writer, while the importing
process writes what is ready. Small imports stay in process (a worker costs a second to
start).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import chain, islice
from typing import Any

from fraudx.identifiers import Identifier, IdentifierKind, parse
from fraudx.platform.errors import InvalidInput
from fraudx.registry.formats import BulkFormat, RawRow, TextBatch, read_batch, text_batches
from fraudx.registry.model import Categories, IndicatorDraft, Tlp, draft_indicator

BATCH = 2000
#: An import smaller than this is validated in process.
POOL_THRESHOLD = 3 * BATCH
_AHEAD = 4  # batches in flight per worker: enough to keep workers busy, memory bounded


@dataclass(frozen=True, slots=True)
class Drafted:
    """One row after validation: a draft, or the field and reason it was refused."""

    line: int
    draft: IndicatorDraft | None
    field: str = ""
    reason: str = ""


def _parse(kind: IdentifierKind, raw: str, region: str | None) -> Identifier:
    return parse(kind, raw, region=region)


def draft_rows(
    rows: Iterable[tuple[int, dict[str, Any] | None, str | None]],
    categories: Categories,
    now: datetime,
    region: str | None,
) -> list[Drafted]:
    outcomes = []
    for line, fields, error in rows:
        if fields is None:
            outcomes.append(Drafted(line, None, "row", error or "unreadable"))
            continue
        try:
            draft = draft_indicator(fields, categories, now, _parse, region)
        except InvalidInput as exc:
            outcomes.append(Drafted(line, None, exc.field, exc.reason))
            continue
        outcomes.append(Drafted(line, draft))
    return outcomes


@lru_cache(maxsize=8)
def _categories(spec: str) -> Categories:
    return Categories.from_setting(spec)


_Packed = tuple[Any, ...]


def _pack(outcome: Drafted) -> _Packed:
    # Plain tuples cross the process boundary ten times faster than frozen dataclasses.
    d = outcome.draft
    if d is None:
        return (outcome.line, None, outcome.field, outcome.reason)
    return (
        outcome.line,
        (
            d.identifier.kind.value,
            d.identifier.value,
            d.category,
            d.confidence,
            d.tlp.value,
            d.valid_from,
            d.valid_until,
            d.region,
            d.case_ref,
            d.description,
            d.tags,
        ),
    )


def _unpack(packed: _Packed) -> Drafted:
    if packed[1] is None:
        return Drafted(packed[0], None, packed[2], packed[3])
    kind, value, category, confidence, tlp, start, until, region, case, text, tags = packed[1]
    draft = IndicatorDraft(
        Identifier(IdentifierKind(kind), value),
        category,
        confidence,
        Tlp(tlp),
        start,
        until,
        region,
        case,
        text,
        tags,
    )
    return Drafted(packed[0], draft)


_Rows = list[tuple[int, dict[str, Any] | None, str | None]]
#: What a worker is handed: records still as text (CSV, JSON Lines), or rows already read.
_Unit = TextBatch | _Rows


def _rows_of(unit: _Unit) -> _Rows:
    if isinstance(unit, TextBatch):
        return [(r.line, r.fields, r.error) for r in read_batch(unit)]
    return unit


def _draft_unit(
    unit: _Unit, category_spec: str, now: datetime, region: str | None
) -> list[_Packed]:
    """What a worker process runs (module level, so that it pickles by name)."""
    drafted = draft_rows(_rows_of(unit), _categories(category_spec), now, region)
    return [_pack(o) for o in drafted]


def _watch_parent(parent: int) -> None:
    """Runs in each worker: leave when the node that started it is gone. A node killed
    hard (kill -9, out of memory) cannot shut its pool down, and its workers would
    otherwise wait on their queue for ever."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class Drafter:
    """Validates rows in order, in worker processes once an import is large."""

    def __init__(self, categories: Categories, category_spec: str, workers: int | None = None):
        self._categories = categories
        self._spec = category_spec
        self._workers = workers or max(1, min(4, os.cpu_count() or 1))
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: the node has threads (API, background tasks) that a fork
            # would copy mid-flight.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self._workers,
                mp_context=context,
                initializer=_watch_parent,
                initargs=(os.getpid(),),
            )
        return self._pool

    def drafts(
        self, rows: Iterable[RawRow], now: datetime, region: str | None
    ) -> Iterator[Drafted]:
        """Rows already read (JSON bodies, a simulator's records)."""
        source = ((r.line, r.fields, r.error) for r in rows)
        units: Iterator[_Unit] = iter(lambda: list(islice(source, BATCH)), [])
        return self._run(units, now, region)

    def drafts_from_text(
        self, lines: Iterable[str], fmt: BulkFormat, now: datetime, region: str | None
    ) -> Iterator[Drafted]:
        """Records still as text: workers also do the reading, not only the checking."""
        units: Iterator[_Unit] = (
            [(item.line, item.fields, item.error)] if isinstance(item, RawRow) else item
            for item in text_batches(lines, fmt, BATCH)
        )
        return self._run(units, now, region)

    def _run(self, units: Iterator[_Unit], now: datetime, region: str | None) -> Iterator[Drafted]:
        first = list(islice(units, POOL_THRESHOLD // BATCH))
        if len(first) * BATCH < POOL_THRESHOLD or self._workers < 2:
            for unit in chain(first, units):
                yield from draft_rows(_rows_of(unit), self._categories, now, region)
            return
        pool = self._get_pool()
        pending: deque[Future[list[_Packed]]] = deque(
            pool.submit(_draft_unit, unit, self._spec, now, region) for unit in first
        )
        del first
        exhausted = False
        while pending:
            while not exhausted and len(pending) < self._workers * _AHEAD:
                following = next(units, None)
                if following is None:
                    exhausted = True
                else:
                    pending.append(pool.submit(_draft_unit, following, self._spec, now, region))
            for packed in pending.popleft().result():
                yield _unpack(packed)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
