"""What a rule produces (a draft per alert) and the rows it becomes: one alert, and one
delivery per push subscription that should carry it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from fraudx.alerts.model import PUSHED, DeliveryStatus, Subscription


def to_rows(
    drafts: list[dict[str, Any]],
    new_ids: Callable[[int], list[str]],
    subscriptions_of: Callable[[str], Iterable[Subscription]],
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Alert rows and delivery rows. An alert from a subscription match goes to the matching
    subscriptions; any other alert (a sighting, a watchlist hit...) to all the agency's."""
    alert_ids = new_ids(len(drafts))
    alert_rows, delivery_rows = [], []
    for alert_id, d in zip(alert_ids, drafts, strict=True):
        body = {
            "id": alert_id,
            "rule": d["rule"].value,
            "identifier": {"kind": d["kind"], "value": d["value"]},
            "created": now.isoformat(),
            **d["body"],
        }
        alert_rows.append(
            {
                "id": alert_id,
                "agency_code": d["agency"],
                "rule": d["rule"].value,
                "kind": d["kind"],
                "value": d["value"],
                "indicator_id": d.get("indicator_id"),
                "body": body,
                "source_event": d["event"],
                "created_at": now,
            }
        )
        targets = d.get("subs") or subscriptions_of(d["agency"])
        pushed = [sub for sub in targets if sub.channel.type in PUSHED]
        for sub, delivery_id in zip(pushed, new_ids(len(pushed)), strict=True):
            delivery_rows.append(
                {
                    "id": delivery_id,
                    "alert_id": alert_id,
                    "subscription_id": sub.id,
                    "agency_code": sub.agency,
                    "channel": sub.channel.type.value,
                    "status": DeliveryStatus.PENDING.value,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
    return alert_rows, delivery_rows
