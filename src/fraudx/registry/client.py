"""Where registry commands act: on the local database as an agency, or on a running node
through its API with a token. Both answer in the API's JSON shapes, so the command line
prints one way whichever it talks to."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing
from pathlib import Path
from typing import Any, Protocol

import httpx
import orjson

from fraudx.node import Node
from fraudx.platform.agencies.model import AgencyKind, Principal, Role
from fraudx.platform.errors import ConfigurationError, FraudXError, InvalidInput
from fraudx.platform.settings import Settings
from fraudx.registry.api import IndicatorPublic
from fraudx.registry.formats import BulkFormat, export_record, render, text_lines
from fraudx.registry.presenter import lookup_json


class RemoteError(FraudXError):
    """A node answered with a problem document; its detail is the message."""


class RegistryClient(Protocol):
    def add(self, fields: dict[str, Any]) -> dict[str, Any]: ...
    def import_file(
        self, path: Path, fmt: BulkFormat, atomic: bool, progress: Callable[[int], None]
    ) -> dict[str, Any]: ...
    def export(self, filters: dict[str, Any], fmt: BulkFormat) -> Iterator[str]: ...
    def revoke(self, indicator_id: str, reason: str, note: str | None) -> dict[str, Any]: ...
    def search(self, filters: dict[str, Any], limit: int) -> dict[str, Any]: ...
    def lookup(self, kind: str, value: str, region: str | None) -> dict[str, Any]: ...
    def close(self) -> None: ...


def _chunks(path: Path, progress: Callable[[int], None], size: int = 1 << 20) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            progress(len(chunk))
            yield chunk


_LOCAL_ROLES = {
    AgencyKind.BANK: Role.PARTNER,
    AgencyKind.TELCO: Role.PARTNER,
    AgencyKind.OBSERVER: Role.OBSERVER,
}


class LocalRegistry:
    """The node's own database, acting as one of its agencies with the rights its kind
    ordinarily has (see ``_LOCAL_ROLES``)."""

    def __init__(self, agency: str) -> None:
        self._node = Node.open(Settings())
        try:
            self._node.platform.ensure_schema()
            admin = Principal(Role.ADMIN, None, None, None, "cli")
            record = self._node.platform.agencies.get(admin, agency.strip().upper())
        except BaseException:
            self._node.close()
            raise
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        # The agency's ordinary rights: a bank or telco acts as a partner (it never sees
        # who reported), an observer as an observer, others as analysts.
        role = _LOCAL_ROLES.get(AgencyKind(record.kind), Role.ANALYST)
        self._principal = Principal(
            role, record.code, record.kind, record.country, f"{user}@cli", None, "local"
        )

    def add(self, fields: dict[str, Any]) -> dict[str, Any]:
        indicator, created = self._node.registry.submit(self._principal, fields)
        return {**IndicatorPublic.of(indicator).model_dump(mode="json"), "created": created}

    def import_file(
        self, path: Path, fmt: BulkFormat, atomic: bool, progress: Callable[[int], None]
    ) -> dict[str, Any]:
        lines = text_lines(_chunks(path, progress))
        report = self._node.registry.import_text(self._principal, lines, fmt, atomic=atomic)
        return {
            "accepted": report.accepted,
            "rejected": [
                {"line": p.line, "field": p.field, "reason": p.reason} for p in report.rejected
            ],
            "created": report.created,
            "updated": report.updated,
            "stored": report.stored,
        }

    def export(self, filters: dict[str, Any], fmt: BulkFormat) -> Iterator[str]:
        registry = self._node.registry
        search = registry.search_filter(**filters, default_region=self._principal.country)
        records = (
            export_record(i, with_sources=True) for i in registry.export(self._principal, search)
        )
        return render(records, fmt)

    def revoke(self, indicator_id: str, reason: str, note: str | None) -> dict[str, Any]:
        indicator = self._node.registry.revoke(self._principal, indicator_id, reason, note)
        return IndicatorPublic.of(indicator).model_dump(mode="json")

    def search(self, filters: dict[str, Any], limit: int) -> dict[str, Any]:
        registry = self._node.registry
        page = registry.search(
            self._principal,
            registry.search_filter(**filters, default_region=self._principal.country),
            limit=limit,
        )
        return {
            "items": [IndicatorPublic.of(i).model_dump(mode="json") for i in page.items],
            "next_cursor": page.next_cursor,
        }

    def lookup(self, kind: str, value: str, region: str | None) -> dict[str, Any]:
        # One identifier: read from the database, not the whole index built for it.
        self._node.lookups.build_index = False
        result = self._node.lookups.lookup(self._principal, kind, value, region)
        # Through JSON, so that the local answer is the API's to the byte (times as text).
        body: dict[str, Any] = orjson.loads(orjson.dumps(lookup_json(result)))
        return body

    def close(self) -> None:
        self._node.close()


class RemoteRegistry:
    """A running node's API, with the token in FRAUDX_TOKEN."""

    def __init__(self, url: str) -> None:
        token = os.environ.get("FRAUDX_TOKEN", "").strip()
        if not token:
            raise ConfigurationError("FRAUDX_TOKEN: set it to an API token to use --url")
        self._http = httpx.Client(
            base_url=url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(30.0, read=600.0),
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach {self._http.base_url}: {exc}") from None
        self._check(response)
        body: dict[str, Any] = response.json()
        return body

    @staticmethod
    def _check(response: httpx.Response) -> None:
        if response.is_success:
            return
        try:
            problem = response.json()
            detail = problem.get("detail") or problem.get("title")
        except ValueError:
            detail = response.text[:200]
        raise RemoteError(f"the node answered {response.status_code}: {detail}")

    def add(self, fields: dict[str, Any]) -> dict[str, Any]:
        response = self._call("POST", "/indicators", json=fields)
        return {**response, "created": True}

    def import_file(
        self, path: Path, fmt: BulkFormat, atomic: bool, progress: Callable[[int], None]
    ) -> dict[str, Any]:
        return self._call(
            "POST",
            "/indicators/import",
            params={"atomic": "true" if atomic else "false"},
            content=_chunks(path, progress),
            headers={"Content-Type": fmt.media_type},
        )

    def export(self, filters: dict[str, Any], fmt: BulkFormat) -> Iterator[str]:
        params = {**_query(filters), "format": fmt.value}
        try:
            with self._http.stream("GET", "/indicators/export", params=params) as response:
                if not response.is_success:
                    response.read()
                    self._check(response)
                yield from response.iter_text()
        except httpx.HTTPError as exc:
            raise RemoteError(f"export from {self._http.base_url} failed: {exc}") from None

    def revoke(self, indicator_id: str, reason: str, note: str | None) -> dict[str, Any]:
        return self._call(
            "POST", f"/indicators/{indicator_id}/revoke", json={"reason": reason, "note": note}
        )

    def search(self, filters: dict[str, Any], limit: int) -> dict[str, Any]:
        return self._call("GET", "/indicators", params={**_query(filters), "limit": limit})

    def lookup(self, kind: str, value: str, region: str | None) -> dict[str, Any]:
        params = {"kind": kind, "value": value, **({"region": region} if region else {})}
        return self._call("GET", "/lookup", params=params)

    def close(self) -> None:
        self._http.close()


def _query(filters: dict[str, Any]) -> dict[str, Any]:
    renamed = {"text": "q"}
    return {renamed.get(k, k): v for k, v in filters.items() if v not in (None, "")}


def connect(agency: str | None, url: str | None) -> AbstractContextManager[RegistryClient]:
    """The client the options ask for: exactly one of --agency and --url."""
    if url and agency:
        raise InvalidInput("--url", "give --agency (local database) or --url (a node), not both")
    if url:
        return closing(RemoteRegistry(url))
    if agency:
        return closing(LocalRegistry(agency))
    raise InvalidInput(
        "--agency", "act as an agency (--agency TH-CCIB) or on a node (--url with FRAUDX_TOKEN)"
    )
