"""Assembles the HTTP app of a node from each package's router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from fraudx import __version__
from fraudx.alerts.api import router as alerts_router
from fraudx.exchange.api import router as taxii_router
from fraudx.node import Node
from fraudx.platform.agencies.api import router as agencies_router
from fraudx.platform.audit.api import router as audit_router
from fraudx.platform.http import build_app
from fraudx.platform.settings import Settings
from fraudx.platform.tasks import running
from fraudx.registry.api import router as registry_router
from fraudx.registry.fastpath import LookupFastPath

ROUTERS = [agencies_router, audit_router, registry_router, alerts_router, taxii_router]


def create_app(settings: Settings | None = None, *, node: Node | None = None) -> FastAPI:
    """The HTTP app for one node. Give ``node`` to share one (tests, ``serve``)."""
    node = node or Node.open(settings or Settings())
    the_node = node

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with running(the_node.background_tasks()):
            yield

    app = build_app(
        node.platform,
        ROUTERS,
        title=f"FraudX node {node.settings.node_id}",
        version=__version__,
        lifespan=lifespan,
    )
    app.state.node = node
    app.add_middleware(LookupFastPath, node=node)
    return app
