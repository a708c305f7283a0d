"""Assembles the HTTP app of a node from each package's router."""

from __future__ import annotations

from fastapi import FastAPI

from fraudx import __version__
from fraudx.node import Node
from fraudx.platform.agencies.api import router as agencies_router
from fraudx.platform.audit.api import router as audit_router
from fraudx.platform.http import build_app
from fraudx.platform.settings import Settings

ROUTERS = [agencies_router, audit_router]


def create_app(settings: Settings | None = None, *, node: Node | None = None) -> FastAPI:
    """The HTTP app for one node. Give ``node`` to share one (tests, ``serve``)."""
    node = node or Node.open(settings or Settings())
    app = build_app(
        node.platform, ROUTERS, title=f"FraudX node {node.settings.node_id}", version=__version__
    )
    app.state.node = node
    return app
