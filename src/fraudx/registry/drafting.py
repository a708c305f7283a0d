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
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from itertools import chain, islice
from typing import Any

from fraudx.identifiers import Identifier, IdentifierKind, parse
from fraudx.platform.errors import InvalidInput
from fraudx.registry.events import created_change
from fraudx.registry.formats import BulkFormat, RawRow, TextBatch, read_batch, text_batches
from fraudx.registry.model import Categories, IndicatorDraft, draft_indicator
from fraudx.registry.rows import new_row, row_times

BATCH = 2000
#: An import smaller than this is validated in process.
POOL_THRESHOLD = 3 * BATCH
#: Batches in flight per worker: with two workers 32,000 rows, so that they keep checking
#: through most of a write transaction (50,000 rows); memory stays bounded.
_AHEAD = 8


@dataclass(frozen=True, slots=True)
class Drafted:
    """One row after validation: a draft, or the field and reason it was refused."""

    line: int
    draft: IndicatorDraft | None
    field: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """Who imports, when, into which database: what turns a draft into its row."""

    agency: str
    country: str
    now: datetime
    sqlite: bool


#: One checked row as the writer receives it: ``(line, row, change)`` when good (the
#: ``rows.new_row`` tuple and ``events.created_change`` JSON), ``(line, None, field,
#: reason)`` when not. Plain tuples cross the process boundary ten times faster than
#: dataclasses.
Checked = tuple[Any, ...]


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


def check_rows(
    rows: list[tuple[int, dict[str, Any] | None, str | None]],
    categories: Categories,
    target: Target,
    ids: list[str],
) -> list[Checked]:
    """Validate rows and make each good one's row and change; ``ids`` has an id for
    every row (the importer makes them, so that they come from its factory)."""
    if len(ids) < len(rows):
        raise ValueError(f"{len(rows)} rows but {len(ids)} ids")
    when = row_times(target.sqlite)
    stamp = when(target.now)
    agency, country, now = target.agency, target.country, target.now
    checked: list[Checked] = []
    for o, id_ in zip(draft_rows(rows, categories, now, country), ids, strict=False):
        d = o.draft
        if d is None:
            checked.append((o.line, None, o.field, o.reason))
        else:
            row = new_row(id_, d, agency, country, stamp, when)
            checked.append((o.line, row, created_change(id_, d, agency, country, now)))
    return checked


_Rows = list[tuple[int, dict[str, Any] | None, str | None]]
#: What a worker is handed: records still as text (CSV, JSON Lines), or rows already read.
_Unit = TextBatch | _Rows


def _rows_of(unit: _Unit) -> _Rows:
    if isinstance(unit, TextBatch):
        return [(r.line, r.fields, r.error) for r in read_batch(unit)]
    return unit


def _check_unit(unit: _Unit, category_spec: str, target: Target, ids: list[str]) -> list[Checked]:
    """What a worker process runs (module level, so that it pickles by name)."""
    return check_rows(_rows_of(unit), _categories(category_spec), target, ids)


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

    def check(
        self, rows: Iterable[RawRow], target: Target, new_ids: Callable[[int], list[str]]
    ) -> Iterator[Checked]:
        """Rows already read (JSON bodies, a simulator's records)."""
        source = ((r.line, r.fields, r.error) for r in rows)
        units: Iterator[_Unit] = iter(lambda: list(islice(source, BATCH)), [])
        return self._run(units, target, new_ids)

    def check_text(
        self,
        lines: Iterable[str],
        fmt: BulkFormat,
        target: Target,
        new_ids: Callable[[int], list[str]],
    ) -> Iterator[Checked]:
        """Records still as text: workers also do the reading, not only the checking."""
        units: Iterator[_Unit] = (
            [(item.line, item.fields, item.error)] if isinstance(item, RawRow) else item
            for item in text_batches(lines, fmt, BATCH)
        )
        return self._run(units, target, new_ids)

    def _run(
        self, units: Iterator[_Unit], target: Target, new_ids: Callable[[int], list[str]]
    ) -> Iterator[Checked]:
        first = list(islice(units, POOL_THRESHOLD // BATCH))
        if len(first) * BATCH < POOL_THRESHOLD or self._workers < 2:
            for unit in chain(first, units):
                rows = _rows_of(unit)
                yield from check_rows(rows, self._categories, target, new_ids(len(rows)))
            return
        pool = self._get_pool()

        def submit(unit: _Unit) -> Future[list[Checked]]:
            # A text batch has at most one row per line.
            ids = new_ids(len(unit.lines) if isinstance(unit, TextBatch) else len(unit))
            return pool.submit(_check_unit, unit, self._spec, target, ids)

        pending: deque[Future[list[Checked]]] = deque(submit(unit) for unit in first)
        del first
        exhausted = False
        while pending:
            while not exhausted and len(pending) < self._workers * _AHEAD:
                following = next(units, None)
                if following is None:
                    exhausted = True
                else:
                    pending.append(submit(following))
            yield from pending.popleft().result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
