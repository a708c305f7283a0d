"""Alerts' tables and queries: subscriptions, watchlists, alerts, deliveries."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from fraudx.alerts.model import (
    Channel,
    ChannelType,
    DeliveryStatus,
    Subscription,
    clean_filters,
)
from fraudx.platform.db import JSONDoc, UTCDateTime, metadata
from fraudx.platform.outbox import outbox
from fraudx.registry.events import SIGHTING_TOPIC

_SEQ = BigInteger().with_variant(Integer(), "sqlite")

subscriptions = Table(
    "alert_subscriptions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_code", String(40), nullable=False, index=True),
    Column("filters", JSONDoc, nullable=False),
    Column("channel", String(10), nullable=False),
    Column("url", String(2000)),
    Column("subject", String(200)),
    Column("secret_sealed", LargeBinary()),  # AES-GCM under the node key, never in clear
    Column("created_at", UTCDateTime(), nullable=False),
    Column("deleted_at", UTCDateTime()),
    # The subscribing token's role: pushed alerts follow the sharing rules for it, as
    # read ones do for the reader. Filled in from the audit log for subscriptions older
    # than migration 0005 (0007); any still empty are pushed as to a partner.
    Column("role", String(20)),
)

watchlists = Table(
    "watchlists",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_code", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("agency_code", "name"),
)

watch_items = Table(
    "watchlist_items",
    metadata,
    Column("watchlist_id", String(36), primary_key=True),
    Column("key", String(2100), primary_key=True),  # "kind:canonical value"
    Index("ix_watchlist_items_key", "key"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),  # SSE event ids
    Column("id", String(36), nullable=False, unique=True),
    Column("agency_code", String(40), nullable=False),
    Column("rule", String(30), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("value", String(2100), nullable=False),
    Column("indicator_id", String(36)),
    Column("body", JSONDoc, nullable=False),
    Column("source_event", String(36), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("acked_at", UTCDateTime()),
    Column("acked_by", String(200)),
    Index("ix_alerts_agency_code_seq", "agency_code", "seq"),
    Index("ix_alerts_indicator_id", "indicator_id"),
)

deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=True),  # order per subscription
    Column("id", String(36), nullable=False, unique=True),  # the receivers' idempotency key
    Column("alert_id", String(36), nullable=False),
    Column("subscription_id", String(36), nullable=False),
    Column("agency_code", String(40), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("last_error", Text()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("delivered_at", UTCDateTime()),
    Index("ix_alert_deliveries_status_subscription_id_seq", "status", "subscription_id", "seq"),
)


# --- subscriptions and watchlists ------------------------------------------------------


def _subscription(m: Any) -> Subscription:
    channel = Channel(ChannelType(m["channel"]), url=m["url"], subject=m["subject"])
    return Subscription(
        m["id"], m["agency_code"], clean_filters(m["filters"]), channel, m["created_at"]
    )


def add_subscription(
    session: Session, sub: Subscription, sealed: bytes | None, role: str | None = None
) -> None:
    session.execute(
        insert(subscriptions).values(
            id=sub.id,
            agency_code=sub.agency,
            filters=sub.filters.to_json(),
            channel=sub.channel.type.value,
            url=sub.channel.url,
            subject=sub.channel.subject,
            secret_sealed=sealed,
            created_at=sub.created_at,
            role=role,
        )
    )


def active_subscriptions(session: Session, agency: str | None = None) -> list[Subscription]:
    query = select(subscriptions).where(subscriptions.c.deleted_at.is_(None))
    if agency is not None:
        query = query.where(subscriptions.c.agency_code == agency)
    return [_subscription(r._mapping) for r in session.execute(query.order_by(subscriptions.c.id))]


def subscription_row(session: Session, sub_id: str) -> dict[str, Any] | None:
    row = session.execute(select(subscriptions).where(subscriptions.c.id == sub_id)).first()
    return dict(row._mapping) if row else None


def delete_subscription(session: Session, sub_id: str, when: datetime) -> None:
    """Mark it deleted; what was still waiting for it is dead-lettered."""
    session.execute(
        update(subscriptions).where(subscriptions.c.id == sub_id).values(deleted_at=when)
    )
    session.execute(
        update(deliveries)
        .where(
            deliveries.c.subscription_id == sub_id,
            deliveries.c.status == DeliveryStatus.PENDING.value,
        )
        .values(status=DeliveryStatus.DEAD.value, last_error="unsubscribed")
    )


def replace_watchlist(
    session: Session, wl_id: str, agency: str, name: str, keys: Sequence[str], when: datetime
) -> tuple[str, list[str]]:
    """Create or replace an agency's watchlist ``name``; returns its id and the old keys."""
    row = session.execute(
        select(watchlists.c.id).where(watchlists.c.agency_code == agency, watchlists.c.name == name)
    ).first()
    old: list[str] = []
    if row is None:
        session.execute(
            insert(watchlists).values(
                id=wl_id, agency_code=agency, name=name, created_at=when, updated_at=when
            )
        )
    else:
        wl_id = row.id
        old = list(
            session.execute(select(watch_items.c.key).where(watch_items.c.watchlist_id == wl_id))
            .scalars()
            .all()
        )
        session.execute(delete(watch_items).where(watch_items.c.watchlist_id == wl_id))
        session.execute(update(watchlists).where(watchlists.c.id == wl_id).values(updated_at=when))
    if keys:
        session.execute(insert(watch_items), [{"watchlist_id": wl_id, "key": k} for k in keys])
    return wl_id, old


def list_watchlists(session: Session, agency: str) -> list[tuple[str, str, int, datetime]]:
    query = (
        select(
            watchlists.c.id,
            watchlists.c.name,
            func.count(watch_items.c.key),
            watchlists.c.updated_at,
        )
        .outerjoin(watch_items, watch_items.c.watchlist_id == watchlists.c.id)
        .where(watchlists.c.agency_code == agency)
        .group_by(watchlists.c.id, watchlists.c.name, watchlists.c.updated_at)
        .order_by(watchlists.c.name)
    )
    return [(r[0], r[1], int(r[2]), r[3]) for r in session.execute(query)]


def sighting_payloads(session: Session, upto: int, since: datetime) -> Iterator[dict[str, Any]]:
    """Sighting events up to outbox position ``upto`` written since ``since``."""
    query = (
        select(outbox.c.payload)
        .where(outbox.c.topic == SIGHTING_TOPIC, outbox.c.seq <= upto, outbox.c.created_at >= since)
        .order_by(outbox.c.seq)
    )
    yield from session.execute(query).scalars()


def watchlist_versions(session: Session) -> dict[str, datetime]:
    return {r[0]: r[1] for r in session.execute(select(watchlists.c.id, watchlists.c.updated_at))}


def all_watched(session: Session) -> Iterator[tuple[str, str]]:
    """Every (identifier key, agency) watched, streamed: there may be millions."""
    query = select(watch_items.c.key, watchlists.c.agency_code).join(
        watchlists, watchlists.c.id == watch_items.c.watchlist_id
    )
    for row in session.execute(query.execution_options(yield_per=20000)):
        yield row[0], row[1]


def all_watched_keys(
    session: Session, agency: str, keys: Sequence[str]
) -> Iterator[tuple[str, str]]:
    """Which of ``keys`` the agency still watches on any of its lists."""
    for i in range(0, len(keys), 500):
        query = (
            select(watch_items.c.key, watchlists.c.agency_code)
            .join(watchlists, watchlists.c.id == watch_items.c.watchlist_id)
            .where(watchlists.c.agency_code == agency, watch_items.c.key.in_(keys[i : i + 500]))
        )
        for row in session.execute(query):
            yield row[0], row[1]


# --- alerts and deliveries -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertRow:
    seq: int
    id: str
    agency: str
    rule: str
    kind: str
    value: str
    indicator_id: str | None
    body: dict[str, Any]
    created_at: datetime
    acked_at: datetime | None

    @classmethod
    def of(cls, m: Any) -> AlertRow:
        return cls(
            int(m["seq"]),
            m["id"],
            m["agency_code"],
            m["rule"],
            m["kind"],
            m["value"],
            m["indicator_id"],
            m["body"],
            m["created_at"],
            m["acked_at"],
        )


def insert_alerts(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(alerts), rows)


def update_alert_bodies(session: Session, bodies: dict[str, dict[str, Any]]) -> None:
    """New bodies for alerts already written (sightings counted into an open alert).
    Through the driver: a bank screening at full speed has thousands counted a second."""
    if not bodies:
        return
    connection = session.connection()
    sql = (
        "UPDATE alerts SET body = ? WHERE id = ?"
        if connection.dialect.name == "sqlite"
        else "UPDATE alerts SET body = CAST(%s AS jsonb) WHERE id = %s"
    )
    dumps = orjson.dumps
    connection.exec_driver_sql(
        sql, [(dumps(b, default=str).decode(), k) for k, b in bodies.items()]
    )


def insert_deliveries(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(deliveries), rows)


def alerts_after(
    session: Session, agency: str, after: int, limit: int, unacked: bool = False
) -> list[AlertRow]:
    query = (
        select(alerts)
        .where(alerts.c.agency_code == agency, alerts.c.seq > after)
        .order_by(alerts.c.seq)
        .limit(limit)
    )
    if unacked:
        query = query.where(alerts.c.acked_at.is_(None))
    return [AlertRow.of(r._mapping) for r in session.execute(query)]


def get_alert(session: Session, alert_id: str) -> AlertRow | None:
    row = session.execute(select(alerts).where(alerts.c.id == alert_id)).first()
    return AlertRow.of(row._mapping) if row else None


def ack(session: Session, alert_id: str, when: datetime, actor: str) -> None:
    session.execute(
        update(alerts)
        .where(alerts.c.id == alert_id, alerts.c.acked_at.is_(None))
        .values(acked_at=when, acked_by=actor)
    )


def agencies_alerted_on(session: Session, indicator_ids: Sequence[str]) -> dict[str, set[str]]:
    """Indicator id -> agencies that had an alert about it (the revocation rule)."""
    found: dict[str, set[str]] = {}
    if not indicator_ids:
        return found
    query = (
        select(alerts.c.indicator_id, alerts.c.agency_code)
        .where(alerts.c.indicator_id.in_(list(indicator_ids)), alerts.c.rule != "revocation")
        .distinct()
    )
    for indicator_id, agency in session.execute(query):
        found.setdefault(indicator_id, set()).add(agency)
    return found


# The delivery workers' statements run several times a second: built once (see outbox).
_HEADS = (
    select(deliveries.c.subscription_id, func.min(deliveries.c.seq).label("seq"))
    .where(deliveries.c.status == DeliveryStatus.PENDING.value)
    .where(deliveries.c.channel.in_(bindparam("channels", expanding=True)))
    .group_by(deliveries.c.subscription_id)
    .subquery()
)
_DUE = (
    select(_HEADS.c.subscription_id)
    .join(deliveries, deliveries.c.seq == _HEADS.c.seq)
    .where(deliveries.c.next_attempt_at <= bindparam("now"))
)
_PENDING = (
    select(deliveries, alerts.c.body)
    .join(alerts, alerts.c.id == deliveries.c.alert_id)
    .where(
        deliveries.c.subscription_id == bindparam("sub_id"),
        deliveries.c.status == DeliveryStatus.PENDING.value,
    )
    .order_by(deliveries.c.seq)
    .limit(bindparam("limit"))
)
_DELIVERED = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("delivery_id"))
    .values(
        status=DeliveryStatus.DELIVERED.value,
        attempts=bindparam("tries"),
        delivered_at=bindparam("when"),
        last_error=None,
    )
)


def due_subscriptions(session: Session, channels: Sequence[str], now: datetime) -> list[str]:
    """Subscriptions whose oldest pending delivery is due (order per subscription holds:
    a later delivery never overtakes one waiting for its retry)."""
    return list(session.execute(_DUE, {"channels": list(channels), "now": now}).scalars())


def pending(session: Session, sub_id: str, limit: int) -> list[dict[str, Any]]:
    """A subscription's next pending deliveries in order, with their alerts' bodies."""
    rows = session.execute(_PENDING, {"sub_id": sub_id, "limit": limit})
    return [dict(r._mapping) for r in rows]


def mark_delivered(session: Session, done: Sequence[tuple[str, int]], when: datetime) -> None:
    if not done:
        return
    session.execute(_DELIVERED, [{"delivery_id": d, "tries": a, "when": when} for d, a in done])


def update_delivery(session: Session, delivery_id: str, **values: Any) -> None:
    session.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(**values))


def get_delivery(session: Session, delivery_id: str) -> dict[str, Any] | None:
    row = session.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()
    return dict(row._mapping) if row else None


def deliveries_of(session: Session, alert_ids: Sequence[str]) -> list[dict[str, Any]]:
    query = select(deliveries).where(deliveries.c.alert_id.in_(list(alert_ids)))
    return [dict(r._mapping) for r in session.execute(query.order_by(deliveries.c.seq))]
