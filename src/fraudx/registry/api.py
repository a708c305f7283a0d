"""HTTP: indicators, bulk import and export, look-ups, sightings. Thin: services decide."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

import anyio
import anyio.from_thread
import orjson
from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from fraudx.node import Node
from fraudx.platform.agencies.model import Principal
from fraudx.platform.errors import InvalidInput
from fraudx.platform.http import CurrentPrincipal, roles
from fraudx.registry.formats import BulkFormat, export_record, render, text_lines
from fraudx.registry.lookups import LOOKERS, Sighting
from fraudx.registry.model import HistoryEntry, Indicator, Tlp, Viewer
from fraudx.registry.presenter import batch_json, lookup_json
from fraudx.registry.service import READERS, WRITERS

router = APIRouter(prefix="/api/v1", tags=["registry"])
#: Batches hold the interpreter lock for tens of milliseconds: two at once only take
#: turns every few milliseconds, each evicting the other's data from the CPU caches.
#: One after the other, each is answered sooner and the node answers more.
_ONE_BATCH_AT_A_TIME = anyio.CapacityLimiter(1)


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


class IdentifierPublic(BaseModel):
    kind: str = Field(examples=["phone"])
    value: str = Field(examples=["+66812345678"])


class IndicatorCreate(BaseModel):
    kind: str = Field(examples=["bank_account"])
    value: str = Field(examples=["TH:KBANK:123-4-56789-0"], max_length=2048)
    region: str | None = Field(default=None, examples=["TH"], description="Reads national forms.")
    category: str = Field(examples=["mule_account"])
    confidence: int | None = Field(default=None, ge=0, le=100, examples=[80])
    tlp: str | None = Field(default=None, examples=["AMBER"])
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    case_ref: str | None = Field(default=None, max_length=200, examples=["CCIB-2026-0042"])
    description: str | None = Field(default=None, max_length=2000)
    tags: list[str] = Field(default_factory=list, examples=[["myawaddy"]])


class HistoryPublic(BaseModel):
    at: datetime
    action: str
    agency: str | None
    actor: str
    detail: dict[str, Any]

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryPublic:
        return cls(
            at=entry.at,
            action=entry.action,
            agency=entry.agency_code,
            actor=entry.actor,
            detail=dict(entry.detail),
        )


class IndicatorPublic(BaseModel):
    id: str
    identifier: IdentifierPublic
    category: str
    confidence: int
    tlp: Tlp
    status: str
    agency: str
    country: str
    valid_from: datetime
    valid_until: datetime
    first_seen: datetime
    last_seen: datetime
    created_at: datetime
    updated_at: datetime
    region: str | None
    case_ref: str | None
    description: str | None
    tags: list[str]
    revoked_reason: str | None
    revoked_at: datetime | None
    history: list[HistoryPublic] | None = None

    @classmethod
    def of(cls, i: Indicator, history: list[HistoryEntry] | None = None) -> IndicatorPublic:
        return cls(
            id=i.id,
            identifier=IdentifierPublic(kind=i.identifier.kind.value, value=i.identifier.value),
            category=i.category,
            confidence=i.confidence,
            tlp=i.tlp,
            status=i.status.value,
            agency=i.agency_code,
            country=i.country,
            valid_from=i.valid_from,
            valid_until=i.valid_until,
            first_seen=i.first_seen,
            last_seen=i.last_seen,
            created_at=i.created_at,
            updated_at=i.updated_at,
            region=i.region,
            case_ref=i.case_ref,
            description=i.description,
            tags=list(i.tags),
            revoked_reason=i.revoked_reason.value if i.revoked_reason else None,
            revoked_at=i.revoked_at,
            history=[HistoryPublic.of(h) for h in history] if history is not None else None,
        )


class IndicatorsPublic(BaseModel):
    items: list[IndicatorPublic]
    next_cursor: str | None


class RowProblemPublic(BaseModel):
    line: int
    field: str
    reason: str


class ImportResult(BaseModel):
    accepted: int
    rejected: list[RowProblemPublic]
    created: int
    updated: int
    stored: bool = Field(description="False when an atomic import found bad rows.")


class RevokeRequest(BaseModel):
    reason: str = Field(examples=["false_positive"])
    note: str | None = Field(default=None, max_length=2000)


class LookupItem(BaseModel):
    kind: str
    value: str
    region: str | None = None


class LookupBatch(BaseModel):
    items: list[LookupItem] = Field(max_length=10_000)


class LookupResultPublic(BaseModel):
    identifier: IdentifierPublic
    listed: bool | None = None
    risk: int | None = None
    categories: list[str] | None = None
    countries: list[str] | None = None
    reports: int | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    indicators: list[dict[str, Any]] | None = Field(
        default=None, description="The visible reports; not shown to partners."
    )
    error: str | None = Field(default=None, description="Why this item did not parse.")
    field: str | None = None


class LookupResultsPublic(BaseModel):
    results: list[LookupResultPublic]


class SightingCreate(BaseModel):
    kind: str
    value: str
    region: str | None = None
    observed_at: datetime | None = None
    source: str = Field(default="other", examples=["blocked_transfer"])
    note: str | None = Field(default=None, max_length=2000)


class SightingPublic(BaseModel):
    id: str
    identifier: IdentifierPublic
    observed_at: datetime
    recorded_at: datetime
    agency: str | None
    role: str
    source: str
    note: str | None
    count: int = Field(default=1, description="Look-ups by one caller folded into this one.")
    last_observed_at: datetime | None = Field(default=None, description="The last of them.")

    @classmethod
    def of(cls, s: Sighting) -> SightingPublic:
        return cls(
            id=s.id,
            identifier=IdentifierPublic(kind=s.kind, value=s.value),
            observed_at=s.observed_at,
            recorded_at=s.recorded_at,
            agency=s.agency_code,
            role=s.role,
            source=s.source,
            note=s.note,
            count=s.count,
            last_observed_at=s.last_at,
        )


class SightingsPublic(BaseModel):
    items: list[SightingPublic]
    next_cursor: str | None


class StatsRow(BaseModel):
    country: str
    kind: str
    category: str
    status: str
    count: int


class StatsPublic(BaseModel):
    items: list[StatsRow]


# --- indicators -----------------------------------------------------------------------


@router.post(
    "/indicators",
    status_code=status.HTTP_201_CREATED,
    summary="Report one indicator (201 new; 200 when it updates the agency's own report)",
    dependencies=[roles(*WRITERS)],
)
def create_indicator(
    body: IndicatorCreate, principal: CurrentPrincipal, request: Request, response: Response
) -> IndicatorPublic:
    indicator, created = node_of(request).registry.submit(
        principal, body.model_dump(exclude_none=True)
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/api/v1/indicators/{indicator.id}"
    return IndicatorPublic.of(indicator)


@router.post(
    "/indicators/import",
    summary="Bulk import: CSV (text/csv) or JSON Lines (application/x-ndjson)",
    dependencies=[roles(*WRITERS)],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_indicators(
    request: Request,
    principal: CurrentPrincipal,
    atomic: Annotated[bool, Query(description="Store nothing if any row is bad.")] = False,
) -> ImportResult:
    fmt = BulkFormat.of_media_type(request.headers.get("content-type", ""))
    registry = node_of(request).registry
    stream = request.stream()

    def body_chunks() -> Iterator[bytes]:
        # The import runs in a worker thread and pulls the body from the event loop as it
        # goes: a million-row file is never held in memory whole.
        while True:
            try:
                yield anyio.from_thread.run(stream.__anext__)
            except StopAsyncIteration:
                return

    def run() -> Any:
        return registry.import_text(principal, text_lines(body_chunks()), fmt, atomic=atomic)

    report = await anyio.to_thread.run_sync(run)
    return ImportResult(
        accepted=report.accepted,
        rejected=[
            RowProblemPublic(line=p.line, field=p.field, reason=p.reason) for p in report.rejected
        ],
        created=report.created,
        updated=report.updated,
        stored=report.stored,
    )


class SearchParams(BaseModel):
    kind: str | None = None
    value: str | None = None
    region: str | None = None
    category: str | None = None
    country: str | None = None
    agency: str | None = None
    status: str | None = None
    tag: str | None = None
    since: datetime | None = Field(default=None, description="Reported at or after.")
    q: str | None = Field(default=None, description="Free text in the description.")


@router.get(
    "/indicators",
    summary="Search indicators (one item per report the caller may see)",
    dependencies=[roles(*READERS)],
)
def search_indicators(
    request: Request,
    principal: CurrentPrincipal,
    params: Annotated[SearchParams, Query()],
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> IndicatorsPublic:
    filters = _search_filter(request, params, principal)
    page = node_of(request).registry.search(principal, filters, cursor=cursor, limit=limit)
    return IndicatorsPublic(
        items=[IndicatorPublic.of(i) for i in page.items], next_cursor=page.next_cursor
    )


def _search_filter(request: Request, p: SearchParams, principal: Principal) -> Any:
    return node_of(request).registry.search_filter(
        default_region=principal.country,
        kind=p.kind,
        value=p.value,
        region=p.region,
        category=p.category,
        country=p.country,
        agency=p.agency,
        status=p.status,
        tag=p.tag,
        since=p.since,
        text=p.q,
    )


@router.get(
    "/indicators/export",
    summary="Export matching indicators as CSV or JSON Lines, filtered like search",
    dependencies=[roles(*READERS)],
    response_class=StreamingResponse,
)
def export_indicators(
    request: Request,
    principal: CurrentPrincipal,
    params: Annotated[SearchParams, Query()],
    format: Annotated[BulkFormat, Query(description="csv or jsonl")] = BulkFormat.JSONL,
) -> StreamingResponse:
    filters = _search_filter(request, params, principal)
    registry = node_of(request).registry
    with_sources = Viewer.of(principal).sees_sources
    records = (
        export_record(i, with_sources=with_sources) for i in registry.export(principal, filters)
    )
    return StreamingResponse(
        render(records, format),
        media_type=format.media_type,
        headers={"Content-Disposition": f'attachment; filename="indicators.{format.value}"'},
    )


@router.get("/indicators/stats", summary="Counts by country, kind, category and status")
def indicator_stats(request: Request, principal: CurrentPrincipal) -> StatsPublic:
    rows = node_of(request).registry.stats(principal)
    return StatsPublic(
        items=[
            StatsRow(country=r[0], kind=r[1], category=r[2], status=r[3], count=r[4]) for r in rows
        ]
    )


@router.get("/indicators/{indicator_id}", summary="One indicator, with its history")
def get_indicator(
    indicator_id: str, request: Request, principal: CurrentPrincipal
) -> IndicatorPublic:
    registry = node_of(request).registry
    indicator = registry.get(principal, indicator_id)
    return IndicatorPublic.of(indicator, registry.history(principal, indicator_id))


@router.post(
    "/indicators/{indicator_id}/revoke",
    summary="Revoke: false_positive (an appeal), account_closed, resolved, other",
    dependencies=[roles(*WRITERS)],
)
def revoke_indicator(
    indicator_id: str, body: RevokeRequest, request: Request, principal: CurrentPrincipal
) -> IndicatorPublic:
    registry = node_of(request).registry
    indicator = registry.revoke(principal, indicator_id, body.reason, body.note)
    return IndicatorPublic.of(indicator, registry.history(principal, indicator_id))


# --- look-ups -------------------------------------------------------------------------


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


@router.get(
    "/lookup",
    summary="Is this identifier listed? (not for observers)",
    response_model=LookupResultPublic,
    dependencies=[roles(*LOOKERS)],
)
async def lookup(
    request: Request,
    principal: CurrentPrincipal,
    kind: str,
    value: str,
    region: str | None = None,
) -> Response:
    result = node_of(request).lookups.lookup(principal, kind, value, region)
    return _json(lookup_json(result))


@router.post(
    "/lookup",
    summary="Look up to 10,000 identifiers; answers in the same order",
    response_model=LookupResultsPublic,
    dependencies=[roles(*LOOKERS)],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": LookupBatch.model_json_schema()}},
        }
    },
)
async def lookup_batch(request: Request, principal: CurrentPrincipal) -> Response:
    # Parsed by hand: validating 10,000 items through pydantic costs more than looking
    # them all up.
    raw = await request.body()
    lookups = node_of(request).lookups

    def answer() -> bytes:  # in a worker thread: the event loop keeps serving others
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput("body", f"not JSON: {exc}") from None
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise InvalidInput(
                "items", 'send {"items": [{"kind": ..., "value": ..., "region": ...}]}'
            )
        return batch_json(lookups.screen(principal, items))

    body_bytes = await anyio.to_thread.run_sync(answer, limiter=_ONE_BATCH_AT_A_TIME)
    return Response(body_bytes, media_type="application/json")


# --- sightings ------------------------------------------------------------------------


@router.post(
    "/sightings",
    status_code=status.HTTP_201_CREATED,
    summary="Report a sighting (a bank blocked a transfer, a telco saw the number calling)",
    dependencies=[roles(*LOOKERS)],
)
def report_sighting(
    body: SightingCreate, request: Request, principal: CurrentPrincipal
) -> IdentifierPublic:
    identifier = node_of(request).lookups.report_sighting(
        principal,
        body.kind,
        body.value,
        region=body.region,
        observed_at=body.observed_at,
        source=body.source,
        note=body.note,
    )
    return IdentifierPublic(kind=identifier.kind.value, value=identifier.value)


@router.get(
    "/sightings",
    summary="Sightings: your own, and those of identifiers your agency reported",
    dependencies=[roles(*LOOKERS)],
)
def list_sightings(
    request: Request,
    principal: CurrentPrincipal,
    kind: str | None = None,
    value: str | None = None,
    region: str | None = None,
    since: datetime | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> SightingsPublic:
    items, next_cursor = node_of(request).lookups.sightings(
        principal, kind=kind, value=value, region=region, since=since, cursor=cursor, limit=limit
    )
    return SightingsPublic(items=[SightingPublic.of(s) for s in items], next_cursor=next_cursor)
