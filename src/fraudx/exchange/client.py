"""The client a node uses to talk to a peer's TAXII server: every response's signature is
checked against the peer's configured public key before a byte of it is used."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import httpx
import orjson

from fraudx.exchange import stix
from fraudx.exchange.model import TAXII_MEDIA_TYPE, Parsed, read_envelope
from fraudx.exchange.signing import (
    ACCEPT_SIGNATURE_HEADER,
    BODY_DIGEST,
    NODE_HEADER,
    SIGNATURE_HEADER,
    BadSignature,
    NodeKey,
    verify_body,
)
from fraudx.platform.errors import FraudXError, InvalidInput

PAGE = 5000


class PeerUnavailable(FraudXError):
    """The peer did not answer, or answered with an error."""

    title = "Peer unavailable"
    slug = "peer-unavailable"


@dataclass(frozen=True, slots=True)
class Page:
    """A page of a peer's collection, its objects read into reports."""

    parsed: Parsed
    received: int  # objects in the page
    more: bool
    last: datetime | None
    node: str


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """httpx's default verifying context, made once: loading the CA certificates takes
    tens of milliseconds, and a node makes a client for every pull and every nudge."""
    return httpx.create_ssl_context()


class PeerClient:
    def __init__(
        self,
        url: str,
        token: str,
        public_key: str,
        *,
        http: httpx.Client | None = None,
        timeout: float = 60.0,
    ) -> None:
        self._base = url.rstrip("/") + "/taxii2"
        self._public_key = public_key
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept": TAXII_MEDIA_TYPE,
            ACCEPT_SIGNATURE_HEADER: BODY_DIGEST,  # pages are megabytes: sign their digest
        }
        self._http = http or httpx.Client(timeout=timeout, verify=_tls_context())
        self._own = http is None

    def close(self) -> None:
        if self._own:
            self._http.close()

    def __enter__(self) -> PeerClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _verified(self, response: httpx.Response) -> str:
        """The signing node of a response whose signature holds and which is no error."""
        node: str = response.headers.get(NODE_HEADER, "")
        verify_body(
            self._public_key, node, response.content, response.headers.get(SIGNATURE_HEADER)
        )
        if response.status_code >= 400:
            try:
                data = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                data = None
            description = data.get("description") if isinstance(data, dict) else None
            raise PeerUnavailable(
                f"peer answered {response.status_code}: {description or response.text[:200]}"
            )
        return node

    def _checked(self, response: httpx.Response) -> tuple[Any, str]:
        node = self._verified(response)
        return orjson.loads(response.content), node

    def _get(self, path: str, params: dict[str, str] | None = None) -> tuple[httpx.Response, str]:
        """The verified response to a GET, and its signing node."""
        try:
            response = self._http.get(self._base + path, params=params, headers=self._headers)
        except httpx.HTTPError as exc:
            raise PeerUnavailable(f"{self._base}: {exc}") from None
        if response.status_code >= 400 and SIGNATURE_HEADER not in response.headers:
            raise PeerUnavailable(f"{self._base}{path}: HTTP {response.status_code}")
        return response, self._verified(response)

    def collections(self) -> tuple[list[dict[str, Any]], str]:
        response, node = self._get("/api/collections/")
        return list(orjson.loads(response.content).get("collections") or []), node

    def objects(self, collection: str, added_after: datetime | None, limit: int = PAGE) -> Page:
        """A page of the collection after ``added_after``, its reports read."""
        params = {"limit": str(limit)}
        if added_after is not None:
            params["added_after"] = stix.timestamp(added_after)
        response, node = self._get(f"/api/collections/{collection}/objects/", params)
        try:
            envelope = read_envelope(node, response.content)
        except InvalidInput as exc:
            raise PeerUnavailable(f"{self._base}: {exc.detail}") from None
        last_header = response.headers.get("X-TAXII-Date-Added-Last")
        last = stix.parse_timestamp(last_header) if last_header else None
        return Page(envelope.parsed, envelope.received, envelope.more, last, node)

    def push(
        self, collection: str, objects: list[dict[str, Any]], key: NodeKey, node: str
    ) -> dict[str, Any]:
        """POST an envelope to the peer, signed with this node's key."""
        body = orjson.dumps({"objects": objects})
        headers = self._headers | {
            "Content-Type": TAXII_MEDIA_TYPE,
            # The whole body: a peer of an earlier FraudX checks only that scheme.
            SIGNATURE_HEADER: key.sign_body(node, body),
            NODE_HEADER: node,
        }
        try:
            response = self._http.post(
                self._base + f"/api/collections/{collection}/objects/",
                content=body,
                headers=headers,
            )
        except httpx.HTTPError as exc:
            raise PeerUnavailable(f"{self._base}: {exc}") from None
        data, _ = self._checked(response)
        return dict(data)


__all__ = ["BadSignature", "Page", "PeerClient", "PeerUnavailable"]
