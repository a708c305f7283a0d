"""Use cases of the exchange: publish the node's reports as STIX (``publishing.py``),
serve them to peers under the sharing policy, receive pushes, approve (two-person rule),
manage peers.

Only the node's own reports are published: imported reports are never passed on, so
nothing travels beyond what its origin decided (the origin serves every peer itself).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select

from fraudx.exchange import stix, store
from fraudx.exchange.interop import Mapped, map_bundle
from fraudx.exchange.model import (
    ObjectsPage,
    PageText,
    Parsed,
    collection_id,
    parse_objects,
    read_envelope,
    status_resource,
)
from fraudx.exchange.policy import POLICY_FILE, Grant, PeerView, Policy, load_policy
from fraudx.exchange.publishing import Publishing
from fraudx.exchange.signing import (
    FULL_BODY,
    BadSignature,
    NodeKey,
    parse_public_key,
    verify_body,
)
from fraudx.platform.agencies.model import Principal, Role
from fraudx.platform.audit.store import audit_log
from fraudx.platform.errors import Conflict, InvalidInput, NotFound, NotPermitted
from fraudx.platform.memory import collector_paused
from fraudx.platform.runtime import Platform
from fraudx.registry.origin import PeerImport
from fraudx.registry.service import ImportReport, RegistryService
from fraudx.registry.store import indicators

MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class Collection:
    id: str
    group: str


@dataclass
class Received:
    """What a batch of peer objects did to the registry, and what was refused."""

    outcome: PeerImport
    successes: list[str]
    failures: list[tuple[str, str]]


class ExchangeService:
    def __init__(
        self, platform: Platform, registry: RegistryService, policy: Policy | None = None
    ) -> None:
        self._platform = platform
        self._db = platform.db
        self._clock = platform.clock
        self._ids = platform.ids
        self.registry = registry
        self.home: Path = platform.settings.home
        self.node_id = platform.settings.node_id
        self.policy = policy or load_policy(self.home / POLICY_FILE)
        self._key: NodeKey | None = None
        self._key_lock = threading.Lock()
        self.publishing = Publishing(self._db, self._clock, self.node_id, self.policy)
        #: Called (from any thread) with a peer's name when it nudges this node.
        self.nudge_listeners: list[Callable[[str], None]] = []

    @property
    def key(self) -> NodeKey:
        """The node's signing key, created on first use if ``node keygen`` was not run."""
        with self._key_lock:
            if self._key is None:
                self._key, _ = NodeKey.ensure(self.home)
            return self._key

    def sign(self, body: bytes, scheme: str = FULL_BODY) -> str:
        return self.key.sign_body(self.node_id, body, scheme)

    # --- publishing (``publishing.py``) ---------------------------------------------------

    def publish_pending(self, max_events: int | None = None) -> int:
        return self.publishing.publish_pending(max_events)

    def publish_all(self) -> int:
        return self.publishing.publish_all()

    # --- two-person rule --------------------------------------------------------------

    def approve(self, principal: Principal, indicator_id: str) -> None:
        """A second analyst lets one of the node's reports leave (two-person rule)."""
        principal.require(Role.ADMIN, Role.ANALYST)
        with self._db.write() as session:
            owner = session.execute(
                select(indicators.c.origin_node).where(indicators.c.id == indicator_id)
            ).first()
            if owner is None or owner[0] is not None:
                raise NotFound(f"no report {indicator_id} of this node")
            authors = session.execute(
                select(audit_log.c.actor, audit_log.c.token_id).where(
                    audit_log.c.target == indicator_id,
                    audit_log.c.action.in_(["indicator.created", "indicator.updated"]),
                )
            ).all()
            # People are told apart by their token (a CLI operator by their login name).
            me = principal.token_id or principal.actor
            if any((token or actor) == me for actor, token in authors):
                raise NotPermitted("the two-person rule needs a second analyst to approve")
            stix_id = stix.indicator_id(self.node_id, indicator_id)
            store.approve(session, indicator_id, stix_id, principal.actor, self._clock.now())
            self._platform.audit.record(session, principal, "exchange.approve", indicator_id)

    # --- serving peers ----------------------------------------------------------------

    def peer_view(self, principal: Principal) -> PeerView:
        principal.require(Role.PEER)
        if not principal.agency_code or not principal.agency_kind or not principal.country:
            raise NotPermitted("a peer token belongs to the peer country's lead agency")
        return PeerView(principal.agency_code, principal.agency_kind.value, principal.country)

    def collections(self, principal: Principal) -> list[Collection]:
        view = self.peer_view(principal)
        return [Collection(collection_id(g), g) for g in self.policy.groups_for(view)]

    def grant(self, principal: Principal, collection: str) -> Grant:
        view = self.peer_view(principal)
        for group in self.policy.groups_for(view):
            if collection_id(group) == collection:
                grant = self.policy.grant(view, group)
                assert grant is not None
                return grant
        raise NotFound(f"no collection {collection}")

    def objects(
        self,
        principal: Principal,
        collection: str,
        *,
        added_after: datetime | None = None,
        ids: tuple[str, ...] | None = None,
        versions: tuple[datetime, ...] | None = None,
        limit: int = 1000,
    ) -> ObjectsPage:
        query = self._query(principal, collection, added_after, ids, versions, limit)
        with collector_paused(), self._db.read() as session:
            rows = store.select_objects(session, query)
        return ObjectsPage(rows[:limit], len(rows) > limit)

    def objects_text(
        self,
        principal: Principal,
        collection: str,
        *,
        added_after: datetime | None = None,
        ids: tuple[str, ...] | None = None,
        versions: tuple[datetime, ...] | None = None,
        limit: int = 1000,
    ) -> PageText:
        """``objects``' page with the bodies already joined, as a TAXII envelope lists them."""
        query = self._query(principal, collection, added_after, ids, versions, limit)
        with self._db.read() as session:
            return store.select_text(session, query)

    def _query(
        self,
        principal: Principal,
        collection: str,
        added_after: datetime | None,
        ids: tuple[str, ...] | None,
        versions: tuple[datetime, ...] | None,
        limit: int,
    ) -> store.ObjectQuery:
        grant = self.grant(principal, collection)
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput("limit", f"must be 1 to {MAX_PAGE}")
        return store.ObjectQuery(
            grant.group,
            grant.tlps,
            grant.categories,
            grant.approved_only,
            added_after,
            ids,
            versions,
            limit,
        )

    # --- receiving (push) -------------------------------------------------------------

    def check_signed(self, body: bytes, node: str | None, signature: str | None) -> store.Peer:
        """The configured peer whose key signed ``body`` as ``node``; BadSignature if none."""
        if not node:
            raise BadSignature("no X-FraudX-Node header")
        with self._db.read() as session:
            peers = store.list_peers(session)
        for peer in peers:
            if peer.node_id not in (None, node):
                continue
            try:
                verify_body(peer.public_key, node, body, signature)
            except BadSignature:
                continue
            return peer
        raise BadSignature("no configured peer's key verifies this signature")

    def receive(
        self,
        principal: Principal,
        collection: str,
        body: bytes,
        node: str | None,
        signature: str | None,
    ) -> dict[str, Any]:
        """A peer pushes an envelope: check its signature, import, answer a status."""
        self.grant(principal, collection)
        peer = self.check_signed(body, node, signature)
        assert node is not None
        envelope = read_envelope(node, body)
        received = self.store_parsed(peer.name, envelope.parsed)
        if not envelope.received:  # an empty push is a nudge: the peer has news, pull it now
            for listener in list(self.nudge_listeners):
                listener(peer.name)
        status_id = self._ids.new()
        body_ = status_resource(status_id, self._clock.now(), received.successes, received.failures)
        with self._db.write() as session:
            store.save_status(session, status_id, body_, self._clock.now())
        return body_

    def import_objects(self, peer: str, signer: str, objects: Sequence[Any]) -> Received:
        """Read and store objects a peer signed (pull pages and pushes alike)."""
        return self.store_parsed(peer, parse_objects(signer, objects))

    def store_parsed(self, peer: str, parsed: Parsed) -> Received:
        actor = Principal(Role.PEER, None, None, None, f"peer:{peer}")
        with collector_paused():
            outcome = self.registry.import_from_peer(actor, parsed.reports)
        return Received(outcome, parsed.successes, parsed.failures)

    def status(self, principal: Principal, status_id: str) -> dict[str, Any]:
        self.peer_view(principal)
        with self._db.read() as session:
            found = store.get_status(session, status_id)
        if found is None:
            raise NotFound(f"no status {status_id}")
        return found

    # --- bundles from other tools ------------------------------------------------------

    def import_bundle(
        self, principal: Principal, bundle: Mapping[str, Any], category: str | None = None
    ) -> tuple[ImportReport, Mapped]:
        """Import the indicators of a STIX bundle from another tool (MISP, OpenCTI) as the
        principal's agency's reports; the rows the registry refused come back by STIX id."""
        mapped = map_bundle(bundle, self._clock.now(), category)
        report = self.registry.import_records(principal, mapped.rows)
        for problem in report.rejected:
            source = (
                mapped.sources[problem.line - 2]
                if 2 <= problem.line < len(mapped.sources) + 2
                else "?"
            )
            mapped.unmapped.append((source, f"{problem.field}: {problem.reason}"))
        return report, mapped

    # --- peers ------------------------------------------------------------------------

    def _fernet(self) -> Fernet:
        return Fernet(base64.urlsafe_b64encode(self.key.secret_for(b"peer-tokens")))

    def add_peer(
        self,
        principal: Principal,
        name: str,
        url: str,
        token: str,
        public_key: str,
        groups: Sequence[str] | None = None,
    ) -> store.Peer:
        principal.require(Role.ADMIN)
        name = name.strip().lower()
        if not name or len(name) > 64 or not all(ch.isalnum() or ch in "-_." for ch in name):
            raise InvalidInput("name", "use 1 to 64 letters, digits, '-', '_' or '.'")
        if not url.startswith(("http://", "https://")):
            raise InvalidInput("url", "must start with http:// or https://")
        parse_public_key(public_key)
        peer = store.Peer(
            name=name,
            url=url.rstrip("/"),
            token=self._fernet().encrypt(token.strip().encode()).decode("ascii"),
            public_key=public_key.strip(),
            groups=tuple(g.strip() for g in groups if g.strip()) if groups else None,
            node_id=None,
            created_at=self._clock.now(),
            last_sync_at=None,
            last_error=None,
        )
        with self._db.write() as session:
            if store.get_peer(session, name) is not None:
                raise Conflict(f"peer {name} already exists")
            store.add_peer(session, peer)
            self._platform.audit.record(session, principal, "peer.add", name, {"url": peer.url})
        return peer

    def peer_token(self, peer: store.Peer) -> str:
        try:
            return self._fernet().decrypt(peer.token.encode()).decode()
        except InvalidToken:
            raise NotPermitted(
                f"peer {peer.name}: its token was stored under another node key"
            ) from None

    def list_peers(self, principal: Principal) -> list[store.Peer]:
        principal.require(Role.ADMIN)
        with self._db.read() as session:
            return store.list_peers(session)

    def get_peer(self, principal: Principal, name: str) -> store.Peer:
        principal.require(Role.ADMIN)
        with self._db.read() as session:
            peer = store.get_peer(session, name.strip().lower())
        if peer is None:
            raise NotFound(f"no peer {name}")
        return peer

    def remove_peer(self, principal: Principal, name: str) -> None:
        principal.require(Role.ADMIN)
        with self._db.write() as session:
            if not store.remove_peer(session, name.strip().lower()):
                raise NotFound(f"no peer {name}")
            self._platform.audit.record(session, principal, "peer.remove", name)
