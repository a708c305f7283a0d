"""The single look-up, answered below the web framework.

``GET /api/v1/lookup`` is the request a node answers most, and routing, dependency
injection and response classes cost several times the look-up itself. This ASGI layer
answers it directly when everything is ordinary: a token already verified (cached), a
role that may look up, well-formed parameters, an identifier that parses. Anything else
goes on to the framework's route, which answers the same request with the same checks
and its problem+json errors; the service enforces roles and sharing rules either way.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from fraudx.node import Node
from fraudx.platform.errors import FraudXError
from fraudx.registry.lookups import LOOKERS
from fraudx.registry.presenter import lookup_json

PATH = "/api/v1/lookup"
_HEADERS = [(b"content-type", b"application/json")]


class LookupFastPath:
    def __init__(self, app: ASGIApp, node: Node) -> None:
        self.app = app
        self._node = node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == PATH
            and scope["method"] == "GET"
            and await self._answer(scope, send)
        ):
            return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, send: Send) -> bool:
        secret = _bearer(scope)
        if secret is None:
            return False
        client = scope.get("client")
        principal = self._node.platform.tokens.authenticate_cached(
            secret, client[0] if client else None
        )
        if principal is None or principal.role not in LOOKERS:
            return False
        params = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        kind, value = params.get("kind"), params.get("value")
        if not kind or not value or len(params) > 3:
            return False
        try:
            result = self._node.lookups.lookup(principal, kind, value, params.get("region"))
        except FraudXError:
            return False  # the route answers it, as problem+json
        body = orjson.dumps(lookup_json(result))
        headers: list[Any] = [*_HEADERS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, secret = value.decode("latin-1").partition(" ")
            secret = secret.strip()
            return secret if scheme.lower() == "bearer" and secret else None
    return None
