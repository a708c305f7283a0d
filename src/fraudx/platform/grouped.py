"""Group commit: small writes from many threads committed in one transaction.

A report's transaction is short, but on PostgreSQL it takes the outbox's advisory lock
and the audit head's row lock and holds both through the commit's WAL flush, so reports
commit strictly one after another; on SQLite each waits its turn at the single writer.
Either way the node took ~150 reports/s however many arrived at once. Here a thread
whose write finds others queued takes theirs into its own transaction: one lock, one
flush, one commit for all of them. A lone write commits at once, as before.

Every write in a group commits or none does. If one fails, the group is rolled back and
each write runs again alone, so each caller gets its own result or its own error and
one bad write never fails its neighbours. A write must therefore only touch the
database through the session it is given (or hook ``after_commit`` on it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from fraudx.platform.db import Database

T = TypeVar("T")

#: Writes per transaction at most: a group must not hold the writer for long.
MAX_GROUP = 64


@dataclass(eq=False, slots=True)
class _Pending(Generic[T]):
    work: Callable[[Session], T]
    done: bool = False
    result: Any = None
    error: BaseException | None = None

    def settle(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error, self.done = result, error, True


class GroupCommit:
    """Runs writes of many threads in shared transactions on one ``Database``."""

    def __init__(self, db: Database, max_group: int = MAX_GROUP) -> None:
        self._db = db
        self._max = max_group
        self._queue: list[_Pending[Any]] = []
        self._guard = threading.Lock()
        self._leader = threading.Lock()  # one group in flight per process

    def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in a write transaction, perhaps shared with other
        threads' writes; returns its result once that transaction has committed."""
        mine: _Pending[T] = _Pending(work)
        with self._guard:
            self._queue.append(mine)
        while not mine.done:
            with self._leader:
                if mine.done:  # an earlier leader took it into its group
                    break
                with self._guard:
                    group, self._queue = self._queue[: self._max], self._queue[self._max :]
                try:
                    self._commit(group)
                finally:  # interrupted (KeyboardInterrupt...): no write may wait for ever
                    for pending in group:
                        if not pending.done:
                            pending.settle(error=RuntimeError("the group's commit was cut short"))
        if mine.error is not None:
            raise mine.error
        result: T = mine.result
        return result

    def _commit(self, group: list[_Pending[Any]]) -> None:
        try:
            with self._db.write() as session:
                results = [pending.work(session) for pending in group]
        except Exception as error:
            if len(group) == 1:
                group[0].settle(error=error)
                return
            self._one_by_one(group)
            return
        for pending, result in zip(group, results, strict=True):
            pending.settle(result)

    def _one_by_one(self, group: list[_Pending[Any]]) -> None:
        for pending in group:
            try:
                with self._db.write() as session:
                    result = pending.work(session)
            except Exception as error:
                pending.settle(error=error)
            else:
                pending.settle(result)
