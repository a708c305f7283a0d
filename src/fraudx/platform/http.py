"""The HTTP shell every router plugs into: problem+json errors, authentication, health, docs.

Errors reach clients as RFC 9457 ``application/problem+json``; a validation error lists
each wrong field and why. Docs are served from assets shipped with the install: agency
networks are often offline, so nothing is fetched from a CDN.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Lifespan

from fraudx.platform import errors, schema
from fraudx.platform.agencies.model import Principal, Role
from fraudx.platform.runtime import Platform

log = logging.getLogger("fraudx.http")

PROBLEM_JSON = "application/problem+json"

_STATUS: list[tuple[type[errors.FraudXError], int]] = [
    (errors.InvalidInput, 422),
    (errors.NotAuthenticated, 401),
    (errors.NotPermitted, 403),
    (errors.NotFound, 404),
    (errors.StaleWrite, 412),
    (errors.Conflict, 409),
    (errors.ConfigurationError, 500),
]


def status_of(exc: errors.FraudXError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str,
    instance: str | None = None,
    errors_: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:fraudx:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors_:
        body["errors"] = list(errors_)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _fraudx_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.FraudXError)
    status = status_of(exc)
    extra: list[dict[str, Any]] | None = None
    if isinstance(exc, errors.InvalidInput):
        extra = [{"field": exc.field, "reason": exc.reason}]
    headers = {"WWW-Authenticate": 'Bearer realm="fraudx"'} if status == 401 else None
    if status >= 500:
        log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc.detail)
    return problem(
        status,
        exc.title,
        exc.detail,
        slug=exc.slug,
        instance=request.url.path,
        errors_=extra,
        headers=headers,
    )


def _field_of(loc: Sequence[Any]) -> tuple[str, str]:
    """('body', 'items', 0, 'kind') -> ('items[0].kind', 'body')."""
    where = str(loc[0]) if loc else "body"
    parts: list[str] = []
    for part in loc[1:]:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return ("".join(parts) or where), where


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        field, where = _field_of(error.get("loc", ()))
        problems.append({"field": field, "in": where, "reason": error.get("msg", "invalid")})
    detail = "; ".join(f"{p['field']}: {p['reason']}" for p in problems)
    return problem(
        422,
        "Invalid input",
        detail,
        slug="invalid-input",
        instance=request.url.path,
        errors_=problems,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed"}
    title = titles.get(exc.status_code, "HTTP error")
    return problem(
        exc.status_code,
        title,
        str(exc.detail),
        slug=title.lower().replace(" ", "-"),
        instance=request.url.path,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(
        500,
        "Internal error",
        "the node failed to handle this request; the error is in its log",
        slug="internal-error",
        instance=request.url.path,
    )


def platform_of(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


async def current_principal(request: Request) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``; 401 otherwise."""
    header = request.headers.get("authorization")
    if not header:
        raise errors.NotAuthenticated("send Authorization: Bearer <token>")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise errors.NotAuthenticated("the Authorization header must be: Bearer <token>")
    tokens = platform_of(request).tokens
    address = request.client.host if request.client else None
    cached = tokens.authenticate_cached(secret.strip(), address)
    if cached is not None:
        return cached
    return await anyio.to_thread.run_sync(tokens.authenticate, secret.strip(), address)


PlatformDep = Annotated[Platform, Depends(platform_of)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def roles(*allowed: Role) -> Any:
    """A route dependency that refuses other roles before the body is even read, so that a
    caller without the right learns 403, not what a valid request would look like. The
    services check again: this is a courtesy at the edge, not the enforcement."""

    async def check(principal: CurrentPrincipal) -> None:
        principal.require(*allowed)

    return Depends(check)


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz(request: Request) -> dict[str, str]:
        return {"status": "ok", "node": platform_of(request).settings.node_id}

    @router.get("/readyz", summary="Readiness: the database answers and its schema is current")
    def readyz(platform: PlatformDep) -> JSONResponse:
        try:
            with platform.db.read() as session:
                session.execute(text("SELECT 1"))
            state = schema.state(platform.db)
        except Exception as exc:  # any failure here means "not ready", said plainly
            return problem(503, "Not ready", f"database unreachable: {exc}", slug="not-ready")
        if not state.up_to_date:
            return problem(
                503,
                "Not ready",
                f"schema at {state.current}, needs {state.head}: run fraudx db upgrade",
                slug="not-ready",
            )
        return JSONResponse({"status": "ready", "schema": state.current})

    return router


def _docs(app: FastAPI) -> None:
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs/static", StaticFiles(directory=swagger_ui_path), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon-32x32.png",
        )


def build_app(
    platform: Platform,
    routers: Sequence[APIRouter],
    *,
    title: str,
    version: str,
    lifespan: Lifespan[FastAPI] | None = None,
) -> FastAPI:
    """The HTTP app for one node: its routers behind the common error and auth handling."""
    app = FastAPI(
        title=title,
        version=version,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        description="FraudX node API. Every /api call needs `Authorization: Bearer <token>`.",
    )
    app.state.platform = platform
    app.add_exception_handler(errors.FraudXError, _fraudx_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    app.include_router(_health_router())
    for router in routers:
        app.include_router(router)
    _docs(app)
    return app
