"""How batch items read, remembered: the bounded cache behind fast batch look-ups.

A bank screens the same payees day after day, each sent as it was typed. Reading a
spelling (parsing it into its canonical identifier, writing the answer's JSON) costs
several times the look-up itself, and its outcome never changes: so the outcome is kept,
keyed by the item exactly as sent. Whether the identifier is listed is *not* kept: the
look-up asks the live index for every item, so a revocation or a new report shows in the
very next batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from fraudx.registry.index import filter_slot
from fraudx.registry.presenter import error_json, not_listed_json


@dataclass(slots=True)
class LookupError_:
    """An item of a batch that did not parse; the rest of the batch is answered."""

    kind: str
    value: str
    field: str
    reason: str


#: Networks that would contain an address: (key, its ``filter_slot``) each.
Networks = tuple[tuple[str, int], ...]


class Spelling(NamedTuple):
    """How one item reads: its canonical index key (``kind:value``) and the answer's
    JSON should the identifier not be listed; or, for an item that cannot be looked up,
    no key, and the error as answer."""

    key: str | None
    answer: bytes
    #: The key's place in the index's presence filter (``index.filter_slot``).
    slot: int = 0
    #: For an IP address: [(version of the index's network lengths, the networks that
    #: would contain it)], refreshed when the lengths in use change.
    networks: list[tuple[int, Networks]] | None = None
    error: LookupError_ | None = None

    @classmethod
    def of(cls, kind: str, value: str, ip: bool) -> Spelling:
        key = kind + ":" + value
        networks: list[tuple[int, Networks]] | None = [(-1, ())] if ip else None
        return cls(key, not_listed_json(kind, value), filter_slot(key), networks)

    @classmethod
    def failed(cls, kind: str, value: str, field: str, reason: str) -> Spelling:
        error = LookupError_(kind, value, field, reason)
        return cls(None, error_json(kind, value, field, reason), 0, None, error)


#: Spellings by region as sent (None: none sent), kind, then value: the ordinary item
#: (no region) costs two lookups in small dicts and one in a large one, and no tuple.
Table = dict[Any, dict[str, dict[str, Spelling]]]


class Spellings:
    """A table per home region (the region an item without one is read in), at most
    ``size`` spellings in all (about 50 MB at 50,000, with the parse cache behind them).
    Full, it starts over: cheaper than tracking use on the hot path, and the payees a
    bank screens come back within a few batches."""

    def __init__(self, size: int = 50_000) -> None:
        self._size = size
        self._count = 0
        self._tables: dict[str | None, Table] = {}

    def table(self, home: str | None) -> Table:
        table = self._tables.get(home)
        if table is None:
            table = self._tables.setdefault(home, {})
        return table

    def add(
        self, table: Table, region: str | None, kind: str, value: str, spelling: Spelling
    ) -> None:
        self._count += 1
        if self._count > self._size:  # racing threads may overshoot a little: harmless
            for each in list(self._tables.values()):
                each.clear()
            self._count = 1
        table.setdefault(region, {}).setdefault(kind, {})[value] = spelling

    def __len__(self) -> int:
        return sum(
            len(values) for t in self._tables.values() for k in t.values() for values in k.values()
        )
