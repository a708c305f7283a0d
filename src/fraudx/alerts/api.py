"""HTTP: subscriptions, watchlists, the alert inbox and stream, redelivery. Thin."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import anyio
import orjson
from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from fraudx.alerts.model import Subscription
from fraudx.alerts.service import USERS, AlertService, read_watch_csv
from fraudx.alerts.store import AlertRow
from fraudx.alerts.tasks import set_soon
from fraudx.platform.errors import InvalidInput
from fraudx.platform.http import CurrentPrincipal, roles

router = APIRouter(prefix="/api/v1", tags=["alerts"], dependencies=[roles(*USERS)])


def alerts_of(request: Request) -> AlertService:
    service: AlertService = request.app.state.node.alerts
    return service


class FiltersIn(BaseModel):
    kinds: list[str] = Field(default_factory=list, examples=[["bank_account"]])
    categories: list[str] = Field(default_factory=list, examples=[["mule_account"]])
    countries: list[str] = Field(default_factory=list, examples=[["KH", "TH"]])
    tags: list[str] = Field(default_factory=list)
    bank_codes: list[str] = Field(default_factory=list, examples=[["TH:004"]])
    phone_prefixes: list[str] = Field(default_factory=list, examples=[["+6681"]])


class ChannelIn(BaseModel):
    type: str = Field(examples=["webhook"], description="inbox, sse, webhook or nats")
    url: str | None = Field(default=None, examples=["https://bank.example/fraudx-hook"])
    secret: str | None = Field(default=None, description="Webhook signing secret, 16+ chars.")
    subject: str | None = Field(default=None, examples=["fraudx.alerts.TH-KBANK"])


class SubscriptionCreate(BaseModel):
    filters: FiltersIn | None = None
    channel: ChannelIn = Field(default_factory=lambda: ChannelIn(type="inbox"))


class SubscriptionPublic(BaseModel):
    """A subscription as its agency sees it: the webhook secret is never returned."""

    id: str
    agency: str
    filters: dict[str, list[str]]
    channel: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, sub: Subscription) -> SubscriptionPublic:
        channel: dict[str, Any] = {"type": sub.channel.type.value}
        if sub.channel.url:
            channel["url"] = sub.channel.url
        if sub.channel.subject:
            channel["subject"] = sub.channel.subject
        return cls(
            id=sub.id,
            agency=sub.agency,
            filters=sub.filters.to_json(),
            channel=channel,
            created_at=sub.created_at,
        )


class SubscriptionsPublic(BaseModel):
    items: list[SubscriptionPublic]


class WatchItem(BaseModel):
    kind: str
    value: str = Field(max_length=2048)
    region: str | None = None


class WatchlistCreate(BaseModel):
    name: str = Field(examples=["payees"])
    items: list[WatchItem]


class AlertPublic(BaseModel):
    id: str
    seq: int = Field(description="Position in the agency's stream (the SSE event id).")
    rule: str
    identifier: dict[str, str]
    created: datetime
    acked_at: datetime | None
    alert: dict[str, Any] = Field(description="What happened, why it matched, links.")

    @classmethod
    def of(cls, row: AlertRow) -> AlertPublic:
        return cls(
            id=row.id,
            seq=row.seq,
            rule=row.rule,
            identifier={"kind": row.kind, "value": row.value},
            created=row.created_at,
            acked_at=row.acked_at,
            alert=row.body,
        )


class AlertsPublic(BaseModel):
    items: list[AlertPublic]
    next_after: int | None


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED, summary="Subscribe")
def create_subscription(
    body: SubscriptionCreate, principal: CurrentPrincipal, request: Request, response: Response
) -> SubscriptionPublic:
    filters = body.filters.model_dump() if body.filters else None
    sub = alerts_of(request).subscribe(principal, filters, body.channel.model_dump())
    response.headers["Location"] = f"/api/v1/subscriptions/{sub.id}"
    return SubscriptionPublic.of(sub)


@router.get("/subscriptions", summary="The agency's subscriptions")
def list_subscriptions(principal: CurrentPrincipal, request: Request) -> SubscriptionsPublic:
    subs = alerts_of(request).subscriptions(principal)
    return SubscriptionsPublic(items=[SubscriptionPublic.of(s) for s in subs])


@router.delete(
    "/subscriptions/{sub_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Unsubscribe"
)
def delete_subscription(sub_id: str, principal: CurrentPrincipal, request: Request) -> Response:
    alerts_of(request).unsubscribe(principal, sub_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/watchlists",
    status_code=status.HTTP_201_CREATED,
    summary="Create or replace a watchlist: JSON, or CSV (kind,value[,region]) with ?name=",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": WatchlistCreate.model_json_schema()},
                "text/csv": {"schema": {"type": "string"}},
            }
        }
    },
)
async def upload_watchlist(
    request: Request, principal: CurrentPrincipal, name: str | None = None
) -> dict[str, Any]:
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("text/csv"):
        items: list[dict[str, Any]] = read_watch_csv(raw.decode("utf-8-sig"))
        name = name or "default"
    else:
        try:
            body = WatchlistCreate.model_validate_json(raw)
        except ValueError as exc:
            raise InvalidInput("body", f"expected {{name, items}}: {exc}") from None
        items = [i.model_dump() for i in body.items]
        name = body.name
    service = alerts_of(request)
    return await anyio.to_thread.run_sync(service.upload_watchlist, principal, name, items)


@router.get("/watchlists", summary="The agency's watchlists")
def list_watchlists(principal: CurrentPrincipal, request: Request) -> dict[str, Any]:
    return {"items": alerts_of(request).watchlists(principal)}


@router.get("/alerts", summary="The agency's alerts, oldest first after ?after=")
def list_alerts(
    principal: CurrentPrincipal,
    request: Request,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    unacked: bool = False,
) -> AlertsPublic:
    rows = alerts_of(request).alerts(principal, after, limit, unacked)
    return AlertsPublic(
        items=[AlertPublic.of(r) for r in rows],
        next_after=rows[-1].seq if len(rows) == limit else None,
    )


@router.post("/alerts/{alert_id}/ack", summary="Acknowledge an alert")
def ack_alert(alert_id: str, principal: CurrentPrincipal, request: Request) -> AlertPublic:
    return AlertPublic.of(alerts_of(request).ack(principal, alert_id))


@router.get("/alerts/{alert_id}/deliveries", summary="An alert's deliveries and their state")
def alert_deliveries(alert_id: str, principal: CurrentPrincipal, request: Request) -> Any:
    rows = alerts_of(request).deliveries(principal, [alert_id])
    return {"items": [_delivery(r) for r in rows]}


def _delivery(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "alert_id", "subscription_id", "channel", "status", "attempts", "last_error")
    return {k: row[k] for k in keys} | {
        "next_attempt_at": row["next_attempt_at"],
        "delivered_at": row["delivered_at"],
    }


@router.post("/deliveries/{delivery_id}/redeliver", summary="Send a delivery again")
def redeliver(delivery_id: str, principal: CurrentPrincipal, request: Request) -> Any:
    return _delivery(alerts_of(request).redeliver(principal, delivery_id))


@router.get(
    "/alerts/stream",
    summary="Server-sent events: the agency's alerts as they are raised",
    description="Each event's id is the alert's seq; reconnect with Last-Event-ID (or "
    "?after=) and nothing is missed. A comment line every 15 s keeps proxies open.",
    response_class=StreamingResponse,
)
async def stream_alerts(
    request: Request,
    principal: CurrentPrincipal,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> StreamingResponse:
    service = alerts_of(request)
    start = after if after is not None else 0
    if last_event_id and last_event_id.strip().isdigit():
        start = int(last_event_id.strip())
    service.alerts(principal, 0, 1)  # refuse now (403), not inside the stream
    return StreamingResponse(
        _events(request, service, principal, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(
    request: Request, service: AlertService, principal: Any, after: int
) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    unsubscribe = service.engine_bell().subscribe(lambda: set_soon(loop, wake))
    idle = 0.0
    try:
        yield b"retry: 2000\n\n"
        while not await request.is_disconnected():
            wake.clear()
            rows = await anyio.to_thread.run_sync(service.alerts, principal, after, 200)
            for row in rows:
                data = orjson.dumps(AlertPublic.of(row).model_dump(mode="json"))
                yield b"id: %d\nevent: alert\ndata: %s\n\n" % (row.seq, data)
                after = row.seq
            if rows:
                idle = 0.0
                continue
            if idle >= 15.0:
                yield b": keep-alive\n\n"
                idle = 0.0
            try:
                await asyncio.wait_for(wake.wait(), 1.0)
            except TimeoutError:
                idle += 1.0
    finally:
        unsubscribe()
