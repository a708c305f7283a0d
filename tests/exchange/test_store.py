"""The exchange's store: ``date_added`` is strictly increasing across sharing groups."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from fraudx.exchange import store
from fraudx.node import Node
from tests.conftest import START


def _object(n: int, group: str) -> store.Published:
    return store.Published(
        f"indicator--{n:08d}-0000-4000-8000-000000000000",
        f"0193a0b0-0000-7000-8000-{n:012d}",
        group,
        "AMBER",
        "scam_call",
        False,
        START,
        "{}",
    )


def test_last_added_is_the_latest_of_every_group(node: Node) -> None:
    with node.platform.db.write() as session:
        assert store.last_added(session) is None
        store.publish(session, [_object(1, "all"), _object(2, "asean")], START)
        assert store.last_added(session) == START + store.TICK
        # Another group, published later, then the first group again with an earlier clock.
        later = START + timedelta(hours=1)
        store.publish(session, [_object(3, "cn-mm-th")], later)
        assert store.last_added(session) == later
        store.publish(session, [_object(4, "all"), _object(1, "all")], START)
        assert store.last_added(session) == later + 2 * store.TICK
        added = session.execute(
            select(store.exchange_objects.c.date_added).order_by(store.exchange_objects.c.stix_id)
        ).scalars()
        assert list(added) == [
            later + 2 * store.TICK,
            START + store.TICK,
            later,
            later + store.TICK,
        ]
