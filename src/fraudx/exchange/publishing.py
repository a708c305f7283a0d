"""Publishing: the node's registry changes turned into STIX objects for its peers.

One consumer of the outbox (``PUBLISHER``), keeping its position in the transaction that
writes the objects. Only the node's own reports are published: imported reports are never
passed on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import text

from fraudx.exchange import stix, store
from fraudx.exchange.policy import Policy
from fraudx.platform import outbox
from fraudx.platform.clock import Clock
from fraudx.platform.db import Database
from fraudx.platform.memo import memo
from fraudx.platform.memory import collector_paused
from fraudx.registry.events import TOPIC

PUBLISHER = "exchange.publisher"
_PUBLISHER_LOCK = 0x46585055  # names the PostgreSQL lock that serialises publishers


class Publishing:
    def __init__(self, db: Database, clock: Clock, node_id: str, policy: Policy) -> None:
        self._db = db
        self._clock = clock
        self.node_id = node_id
        self.policy = policy
        self._publish_batch = 1  # events per publishing pass; adapts to their size

    def publish_pending(self, max_events: int | None = None) -> int:
        """Turn registry changes since the last run into STIX objects; returns how many.
        Runs as one consumer of the outbox, keeping its position in the same transaction.
        Without ``max_events``, as many events as keeps a pass to a few thousand changes
        (a bulk import's events carry thousands each, a submit's one)."""
        # Most passes find nothing new: ask without taking a turn at SQLite's writer.
        with self._db.read() as session:
            position = outbox.position(session, PUBLISHER)
            if not outbox.has_after(session, position, topics=[TOPIC]):
                return 0
        with self._db.write() as session, collector_paused():
            # One publisher at a time (two ``fraudx serve`` processes may share a database):
            # each pass continues from the position the last one saved. SQLite's write
            # transactions are serial already.
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PUBLISHER_LOCK})
            position = outbox.position(session, PUBLISHER)
            events = outbox.arrays_after(
                session, position, TOPIC, "own_ids", max_events or self._publish_batch
            )
            if not events:
                return 0
            ids: list[str] = []
            for seq, own in events:
                ids += self._own_ids(session, seq) if own is None else own
            self._publish_batch = (
                min(50, self._publish_batch * 2)
                if len(ids) <= 2000
                else max(1, self._publish_batch // 4)
            )
            # Reports are read afresh: a report changed twice is published once, as it is.
            published = self._objects_of(session, list(dict.fromkeys(ids)))
            store.publish(session, published, self._clock.now())
            outbox.save_position(session, PUBLISHER, events[-1][0], self._clock.now())
        return len(published)

    @staticmethod
    def _own_ids(session: Any, seq: int) -> list[str]:
        """The node's own reports among an event's changes, for an event written before
        events listed them (``own_ids``): imported reports are never passed on."""
        changes, _ = outbox.item_fields_after(
            session, seq - 1, TOPIC, "changes", ("id", "origin"), 1
        )
        return [id_ for id_, origin in changes if not origin]

    def publish_all(self) -> int:
        """Publish every registry change not published yet; returns how many objects.
        Done when no registry event follows the publisher's position: the outbox's last
        events may be of other topics (a look-up's sightings, say), which it never reads."""
        total = 0
        while True:
            total += self.publish_pending()
            with self._db.read() as session:
                position = outbox.position(session, PUBLISHER)
                if not outbox.has_after(session, position, topics=[TOPIC]):
                    return total

    def _objects_of(self, session: Any, ids: Sequence[str]) -> list[store.Published]:
        objects = []
        approved = store.approved_ids(session, ids) if self.policy.two_person_rule else set()
        sqlite = session.get_bind().dialect.name == "sqlite"
        # A batch shares a few instants, and a few sets of tags: each is worked out once.
        stamp = memo(stix.timestamp_of_sqlite if sqlite else stix.timestamp)
        modified_of = memo(stix.parse_timestamp)
        group_of = memo(self._group_of_tags)
        node_id = self.node_id
        published = store.Published._make
        for start in range(0, len(ids), 5000):
            for row in store.reports_to_publish(session, ids[start : start + 5000]):
                if row[_ORIGIN_NODE] is not None:
                    # Imported: never passed on. Tested here, not in SQL, where SQLite
                    # would walk every local report through the origin index instead.
                    continue
                id_ = row[_ID]
                obj = stix.indicator_of_row(node_id, row, stamp)
                # Positional: this runs for each of 100,000 reports a bulk publish.
                objects.append(
                    published(
                        (
                            obj["id"],
                            id_,
                            group_of(row[_TAGS]),
                            row[_TLP],
                            row[_CATEGORY],
                            id_ in approved,
                            modified_of(obj["modified"]) if sqlite else row[_UPDATED_AT],
                            orjson.dumps(obj).decode("utf-8"),
                        )
                    )
                )
        return objects

    def _group_of_tags(self, tags: str | None) -> str:
        return self.policy.group_of((tags or "").split(";"))


# Where ``_objects_of`` finds what it reads in a row of ``stix.REPORT_FIELDS``.
_ID, _TAGS, _TLP, _CATEGORY, _UPDATED_AT, _ORIGIN_NODE = (
    stix.REPORT_FIELDS.index(name)
    for name in ("id", "tags", "tlp", "category", "updated_at", "origin_node")
)
