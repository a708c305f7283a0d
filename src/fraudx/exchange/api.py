"""The TAXII 2.1 server of a node, under ``/taxii2/``. Thin: the exchange service decides.

Every response body is signed (``X-FraudX-Signature`` over the node id and the exact
bytes, ``X-FraudX-Node``); errors are TAXII error resources, not problem+json. Callers
authenticate with the same bearer tokens as the REST API; peers hold ``peer`` tokens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, NamedTuple

import anyio
import orjson
from fastapi import APIRouter, Request, Response

from fraudx.exchange import stix
from fraudx.exchange.model import (
    STIX_MEDIA_TYPE,
    TAXII_MEDIA_TYPE,
    ObjectsPage,
    PageText,
    taxii_error,
)
from fraudx.exchange.service import ExchangeService
from fraudx.exchange.signing import (
    ACCEPT_SIGNATURE_HEADER,
    BODY_DIGEST,
    FULL_BODY,
    NODE_HEADER,
    SIGNATURE_HEADER,
)
from fraudx.platform import errors
from fraudx.platform.agencies.model import Principal
from fraudx.platform.http import current_principal, status_of

router = APIRouter(prefix="/taxii2", tags=["taxii"], include_in_schema=True)
API_ROOT = "/taxii2/api/"
MAX_CONTENT_LENGTH = 100 * 1024 * 1024


def exchange_of(request: Request) -> ExchangeService:
    exchange: ExchangeService = request.app.state.node.exchange
    return exchange


def _signed(
    request: Request, body: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    exchange = exchange_of(request)
    accepted = request.headers.get(ACCEPT_SIGNATURE_HEADER, "")
    scheme = BODY_DIGEST if BODY_DIGEST in accepted.replace(" ", "").split(",") else FULL_BODY
    all_headers = {SIGNATURE_HEADER: exchange.sign(body, scheme), NODE_HEADER: exchange.node_id}
    all_headers.update(headers or {})
    return Response(body, status_code=status, media_type=TAXII_MEDIA_TYPE, headers=all_headers)


def _json(
    request: Request, data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return _signed(request, orjson.dumps(data), status, headers)


def _error(request: Request, status: int, title: str, description: str) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="fraudx"'} if status == 401 else None
    return _json(request, taxii_error(status, title, description), status, headers)


def _accepts_taxii(request: Request) -> bool:
    accept = request.headers.get("accept", "*/*").replace(" ", "")
    return any(
        part.startswith(("application/taxii+json", "*/*", "application/*"))
        and ("version=" not in part or "version=2.1" in part)
        for part in accept.split(",")
    )


async def _handle(request: Request, work: Callable[[Principal], Awaitable[Response]]) -> Response:
    """Authenticate, check media types, run ``work``; every failure as a TAXII error."""
    try:
        if not _accepts_taxii(request):
            return _error(request, 406, "Not acceptable", f"send Accept: {TAXII_MEDIA_TYPE}")
        principal = await current_principal(request)
        return await work(principal)
    except errors.FraudXError as exc:
        return _error(request, status_of(exc), exc.title, exc.detail)


def _timestamp(name: str, raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        return stix.parse_timestamp(raw)
    except ValueError:
        raise errors.InvalidInput(name, f"{raw!r} is not a timestamp") from None


def _limit(raw: str | None) -> int:
    if raw is None:
        return 1000
    if not raw.isdigit() or int(raw) < 1:
        raise errors.InvalidInput("limit", "must be a positive whole number")
    return min(int(raw), 10_000)


def _list(raw: str | None) -> tuple[str, ...] | None:
    return tuple(p.strip() for p in raw.split(",") if p.strip()) if raw else None


@router.get("/")
async def discovery(request: Request) -> Response:
    async def work(principal: Principal) -> Response:
        node = exchange_of(request).node_id
        return _json(
            request,
            {
                "title": f"FraudX node {node}",
                "description": "FraudX fraud intelligence exchange (STIX 2.1 over TAXII 2.1)",
                "default": API_ROOT,
                "api_roots": [API_ROOT],
            },
        )

    return await _handle(request, work)


@router.get("/api/")
async def api_root(request: Request) -> Response:
    async def work(principal: Principal) -> Response:
        return _json(
            request,
            {
                "title": f"FraudX {exchange_of(request).node_id}",
                "versions": [TAXII_MEDIA_TYPE],
                "max_content_length": MAX_CONTENT_LENGTH,
            },
        )

    return await _handle(request, work)


def _collection(id_: str, group: str) -> dict[str, Any]:
    return {
        "id": id_,
        "title": group,
        "description": f"Indicators shared with the sharing group {group}",
        "can_read": True,
        "can_write": True,
        "media_types": [STIX_MEDIA_TYPE],
    }


@router.get("/api/collections/")
async def collections(request: Request) -> Response:
    async def work(principal: Principal) -> Response:
        found = exchange_of(request).collections(principal)
        return _json(request, {"collections": [_collection(c.id, c.group) for c in found]})

    return await _handle(request, work)


@router.get("/api/collections/{collection}/")
async def collection(request: Request, collection: str) -> Response:
    async def work(principal: Principal) -> Response:
        grant = exchange_of(request).grant(principal, collection)
        return _json(request, _collection(collection, grant.group))

    return await _handle(request, work)


class _Filters(NamedTuple):
    """What a request's parameters ask of a collection's objects."""

    added_after: datetime | None
    ids: tuple[str, ...] | None
    versions: tuple[datetime, ...] | None  # None: every version (FraudX keeps the latest)
    limit: int
    none: bool  # the request asks for types or specs FraudX does not serve


def _filters(request: Request, object_id: str | None = None) -> _Filters:
    params = request.query_params
    after = _timestamp("added_after", params.get("added_after"))
    cursor = _timestamp("next", params.get("next"))
    if cursor is not None and (after is None or cursor > after):
        after = cursor
    ids = (object_id,) if object_id else _list(params.get("match[id]"))
    types = _list(params.get("match[type]"))
    specs = _list(params.get("match[spec_version]"))
    none = (types is not None and "indicator" not in types) or (
        specs is not None and "2.1" not in specs
    )
    wanted = _list(params.get("match[version]"))
    versions = None
    if wanted and not {"last", "first", "all"} & set(wanted):
        versions = tuple(v for v in (_timestamp("match[version]", w) for w in wanted) if v)
    return _Filters(after, ids, versions, _limit(params.get("limit")), none)


async def _read(
    request: Request,
    read: Callable[..., Any],
    principal: Principal,
    collection: str,
    object_id: str | None,
) -> Any | None:
    """``read`` (the service's ``objects`` or ``objects_text``) with the request's filters;
    None where they ask for types or specs FraudX does not serve (once the caller's access
    to the collection is checked)."""
    f = _filters(request, object_id)
    exchange = exchange_of(request)
    if f.none:
        await anyio.to_thread.run_sync(exchange.grant, principal, collection)
        return None
    return await anyio.to_thread.run_sync(
        lambda: read(
            principal,
            collection,
            added_after=f.added_after,
            ids=f.ids,
            versions=f.versions,
            limit=f.limit,
        )
    )


async def _page(
    request: Request, principal: Principal, collection: str, object_id: str | None = None
) -> ObjectsPage:
    page = await _read(request, exchange_of(request).objects, principal, collection, object_id)
    return ObjectsPage([], False) if page is None else page


async def _page_text(
    request: Request, principal: Principal, collection: str, object_id: str | None = None
) -> PageText:
    read = exchange_of(request).objects_text
    page = await _read(request, read, principal, collection, object_id)
    return PageText(b"", 0, None, None, False) if page is None else page


def _page_headers(page: ObjectsPage | PageText) -> dict[str, str]:
    if page.first is None or page.last is None:
        return {}
    return {
        "X-TAXII-Date-Added-First": stix.timestamp(page.first),
        "X-TAXII-Date-Added-Last": stix.timestamp(page.last),
    }


def _envelope(page: PageText) -> bytes:
    head = (
        b'{"more":true,"next":"%s",' % stix.timestamp(page.last).encode()
        if page.more and page.last
        else b'{"more":false,'
    )
    return b"".join((head, b'"objects":[', page.objects, b"]}"))


@router.get("/api/collections/{collection}/objects/")
async def get_objects(request: Request, collection: str) -> Response:
    async def work(principal: Principal) -> Response:
        page = await _page_text(request, principal, collection)
        return _signed(request, _envelope(page), headers=_page_headers(page))

    return await _handle(request, work)


async def _object_page(
    request: Request, principal: Principal, collection: str, object_id: str
) -> ObjectsPage:
    """One object's page; TAXII's not-found when the caller may see no such object."""
    page = await _page(request, principal, collection, object_id)
    if not page.records:
        raise errors.NotFound(f"no object {object_id} in this collection")
    return page


@router.get("/api/collections/{collection}/objects/{object_id}/")
async def get_object(request: Request, collection: str, object_id: str) -> Response:
    async def work(principal: Principal) -> Response:
        page = await _page_text(request, principal, collection, object_id)
        if not page.size:
            raise errors.NotFound(f"no object {object_id} in this collection")
        return _signed(request, _envelope(page), headers=_page_headers(page))

    return await _handle(request, work)


@router.get("/api/collections/{collection}/objects/{object_id}/versions/")
async def get_versions(request: Request, collection: str, object_id: str) -> Response:
    async def work(principal: Principal) -> Response:
        page = await _object_page(request, principal, collection, object_id)
        versions = [stix.timestamp(r[3]) for r in page.records]
        return _json(request, {"more": False, "versions": versions}, headers=_page_headers(page))

    return await _handle(request, work)


@router.get("/api/collections/{collection}/manifest/")
async def get_manifest(request: Request, collection: str) -> Response:
    async def work(principal: Principal) -> Response:
        page = await _page(request, principal, collection)
        objects = [
            {
                "id": r[0],
                "date_added": stix.timestamp(r[2]),
                "version": stix.timestamp(r[3]),
                "media_type": STIX_MEDIA_TYPE,
            }
            for r in page.records
        ]
        body: dict[str, Any] = {"more": page.more, "objects": objects}
        if page.more and page.last:
            body["next"] = stix.timestamp(page.last)
        return _json(request, body, headers=_page_headers(page))

    return await _handle(request, work)


@router.post("/api/collections/{collection}/objects/")
async def add_objects(request: Request, collection: str) -> Response:
    async def work(principal: Principal) -> Response:
        content_type = request.headers.get("content-type", "").replace(" ", "")
        if not content_type.startswith("application/taxii+json"):
            return _error(request, 415, "Unsupported media type", f"send {TAXII_MEDIA_TYPE}")
        body = await request.body()
        if len(body) > MAX_CONTENT_LENGTH:
            return _error(request, 413, "Too large", f"at most {MAX_CONTENT_LENGTH} bytes")
        exchange = exchange_of(request)
        node = request.headers.get(NODE_HEADER)
        signature = request.headers.get(SIGNATURE_HEADER)
        status = await anyio.to_thread.run_sync(
            lambda: exchange.receive(principal, collection, body, node, signature)
        )
        return _json(request, status, 202)

    return await _handle(request, work)


@router.get("/api/status/{status_id}/")
async def get_status(request: Request, status_id: str) -> Response:
    async def work(principal: Principal) -> Response:
        found = await anyio.to_thread.run_sync(exchange_of(request).status, principal, status_id)
        return _json(request, found)

    return await _handle(request, work)
