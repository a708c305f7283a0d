"""Alerts' use cases: subscriptions, watchlists, the inbox, redelivery.

Everything belongs to the caller's agency: one agency never sees, changes or acknowledges
another's subscriptions, watchlists, alerts or deliveries (a stranger's id is "not found").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from fraudx.alerts import store
from fraudx.alerts.model import (
    DeliveryStatus,
    Subscription,
    clean_channel,
    clean_filters,
    shown_body,
)
from fraudx.alerts.rules import RuleEngine
from fraudx.alerts.sealing import Sealer
from fraudx.identifiers import parse
from fraudx.platform.agencies.model import Principal, Role
from fraudx.platform.db import Bell
from fraudx.platform.errors import (
    Conflict,
    InvalidIdentifier,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from fraudx.platform.runtime import Platform
from fraudx.registry.model import Viewer

#: Who may subscribe, watch and read alerts: everyone but observers.
USERS = (Role.ADMIN, Role.ANALYST, Role.LIAISON, Role.PARTNER)
MAX_WATCHLIST = 1_000_000


def _agency(principal: Principal) -> str:
    principal.require(*USERS)
    if principal.agency_code is None:
        raise NotPermitted("alerts belong to an agency; act as one (a token of the agency)")
    return principal.agency_code


def read_watch_csv(text: str) -> list[dict[str, str]]:
    """``kind,value[,region]`` rows, with or without that header line."""
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    if rows and [c.strip().lower() for c in rows[0][:2]] == ["kind", "value"]:
        rows = rows[1:]
    return [
        {"kind": r[0].strip(), "value": r[1].strip() if len(r) > 1 else "", "region": r[2].strip()}
        if len(r) > 2
        else {"kind": r[0].strip(), "value": r[1].strip() if len(r) > 1 else ""}
        for r in rows
    ]


def shown_to(row: store.AlertRow, principal: Principal) -> store.AlertRow:
    """The alert as this principal may read it (``model.shown_body``)."""
    shown = shown_body(row.body, Viewer.of(principal))
    return row if shown is row.body else replace(row, body=shown)


class AlertService:
    def __init__(self, platform: Platform, engine: RuleEngine, sealer: Sealer) -> None:
        self._platform = platform
        self._db = platform.db
        self._clock = platform.clock
        self._ids = platform.ids
        self.engine = engine
        self.sealer = sealer

    def engine_bell(self) -> Bell:
        """Rings when alerts are written in this process (SSE streams wake on it)."""
        return self.engine.bell

    # --- subscriptions -----------------------------------------------------------------

    def subscribe(
        self, principal: Principal, filters: Mapping[str, Any] | None, channel: Mapping[str, Any]
    ) -> Subscription:
        agency = _agency(principal)
        the_channel, secret = clean_channel(channel, agency)
        sub = Subscription(
            self._ids.new(), agency, clean_filters(filters), the_channel, self._clock.now()
        )
        with self._db.write() as session:
            sealed = self.sealer.seal(secret) if secret else None
            store.add_subscription(session, sub, sealed, principal.role.value)
            detail = {"channel": the_channel.type.value, "filters": sub.filters.to_json()}
            self._platform.audit.record(session, principal, "alerts.subscribe", sub.id, detail)
        self.engine.subscribed(sub)
        return sub

    def subscriptions(self, principal: Principal) -> list[Subscription]:
        agency = _agency(principal)
        with self._db.read() as session:
            return store.active_subscriptions(session, agency)

    def unsubscribe(self, principal: Principal, sub_id: str) -> None:
        agency = _agency(principal)
        with self._db.write() as session:
            row = store.subscription_row(session, sub_id)
            if row is None or row["agency_code"] != agency or row["deleted_at"] is not None:
                raise NotFound(f"no subscription {sub_id} of {agency}")
            store.delete_subscription(session, sub_id, self._clock.now())
            self._platform.audit.record(session, principal, "alerts.unsubscribe", sub_id)
        self.engine.unsubscribed(sub_id)

    # --- watchlists ----------------------------------------------------------------------

    def upload_watchlist(
        self, principal: Principal, name: str, items: Iterable[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Create or replace the agency's watchlist ``name``; every row must parse (the
        error names the first bad row), so a list is never half replaced."""
        agency = _agency(principal)
        name = " ".join((name or "").split())
        if not name or len(name) > 200:
            raise InvalidInput("name", "must be 1 to 200 characters")
        keys: set[str] = set()
        for i, item in enumerate(items):
            try:
                ident = parse(
                    str(item.get("kind", "")),
                    str(item.get("value", "")),
                    region=item.get("region") or principal.country,
                )
            except InvalidIdentifier as exc:
                raise InvalidInput(f"items[{i}]", exc.detail) from None
            keys.add(str(ident))
            if len(keys) > MAX_WATCHLIST:
                raise InvalidInput("items", f"at most {MAX_WATCHLIST} identifiers per list")
        now = self._clock.now()
        with self._db.write() as session:
            wl_id, old = store.replace_watchlist(
                session, self._ids.new(), agency, name, sorted(keys), now
            )
            detail = {"name": name, "items": len(keys)}
            self._platform.audit.record(session, principal, "alerts.watchlist", wl_id, detail)
        with self._db.read() as session:  # the agency may watch a key on another list too
            still = list(store.all_watched_keys(session, agency, old))
        self.engine.watchlist_replaced(wl_id, now, agency, old, keys, still)
        return {"id": wl_id, "name": name, "items": len(keys)}

    def watchlists(self, principal: Principal) -> list[dict[str, Any]]:
        agency = _agency(principal)
        with self._db.read() as session:
            return [
                {"id": i, "name": n, "items": c, "updated_at": u}
                for i, n, c, u in store.list_watchlists(session, agency)
            ]

    # --- the inbox ---------------------------------------------------------------------

    def alerts(
        self, principal: Principal, after: int = 0, limit: int = 100, unacked: bool = False
    ) -> list[store.AlertRow]:
        agency = _agency(principal)
        with self._db.read() as session:
            rows = store.alerts_after(session, agency, after, limit, unacked)
        return [shown_to(row, principal) for row in rows]

    def ack(self, principal: Principal, alert_id: str) -> store.AlertRow:
        agency = _agency(principal)
        with self._db.write() as session:
            row = store.get_alert(session, alert_id)
            if row is None or row.agency != agency:
                raise NotFound(f"no alert {alert_id} of {agency}")
            store.ack(session, alert_id, self._clock.now(), principal.actor)
            found = store.get_alert(session, alert_id)
        assert found is not None
        return shown_to(found, principal)

    def deliveries(self, principal: Principal, alert_ids: list[str]) -> list[dict[str, Any]]:
        agency = _agency(principal)
        with self._db.read() as session:
            return [
                d for d in store.deliveries_of(session, alert_ids) if d["agency_code"] == agency
            ]

    def redeliver(self, principal: Principal, delivery_id: str) -> dict[str, Any]:
        """Send a delivery again (a dead letter, or one the receiver lost): pending at once,
        attempts reset, with the same id so that a receiver that had it drops it."""
        agency = _agency(principal)
        now: datetime = self._clock.now()
        with self._db.write() as session:
            row = store.get_delivery(session, delivery_id)
            if row is None or row["agency_code"] != agency:
                raise NotFound(f"no delivery {delivery_id} of {agency}")
            sub = store.subscription_row(session, row["subscription_id"])
            if sub is None or sub["deleted_at"] is not None:
                raise Conflict(f"subscription {row['subscription_id']} was deleted")
            store.update_delivery(
                session,
                delivery_id,
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                delivered_at=None,
            )
            self._platform.audit.record(session, principal, "alerts.redeliver", delivery_id)
            found = store.get_delivery(session, delivery_id)
        assert found is not None
        self.engine.bell.ring()  # wake the delivery workers
        return found
