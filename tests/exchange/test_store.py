"""The exchange's store: what publishing reads, and ``date_added`` strictly increasing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from fraudx.exchange import stix, store
from fraudx.exchange.demo import LEAD
from fraudx.node import Node
from tests.conftest import START
from tests.exchange.conftest import analyst, open_node


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


def test_reports_to_publish_on_sqlite_come_once_each_in_the_order_of_their_ids(
    sqlite_template: Path, tmp_path: Path
) -> None:
    # Publishing numbers objects (date_added) in this order.
    node = open_node(sqlite_template, tmp_path, "kh", "KH")
    try:
        ids = [
            node.registry.submit(
                analyst(node),
                {"kind": "phone", "value": f"+85512345{n:04d}", "category": "scam_call"},
            )[0].id
            for n in range(5)
        ]
        asked = [ids[3], ids[0], ids[4], ids[3], ids[1]]
        with node.platform.db.read() as session:
            rows = store.reports_to_publish(session, asked)
        assert [row[0] for row in rows] == sorted(set(asked))
        fields = dict(zip(stix.REPORT_FIELDS, rows[0], strict=True))
        assert (fields["value"], fields["agency_code"], fields["agency_kind"]) == (
            f"+85512345{ids.index(rows[0][0]):04d}",
            LEAD["KH"],
            "police",
        )
    finally:
        node.close()
