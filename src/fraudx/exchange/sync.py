"""Pulling from peers with a persistent cursor, and the exchange's background tasks.

A pull reads each collection the peer offers after the cursor saved for it (the last
``date_added`` seen), imports each page and then saves the cursor: a crash between the
two repeats a page, which the idempotent import stores once. A peer that was down for a
day is read from where its cursor stands: nothing lost, nothing doubled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import anyio
import httpx

from fraudx.exchange import store
from fraudx.exchange.client import PeerClient
from fraudx.exchange.model import collection_id
from fraudx.exchange.service import ExchangeService
from fraudx.platform.errors import FraudXError
from fraudx.platform.memory import collector_paused
from fraudx.platform.tasks import pause

log = logging.getLogger("fraudx.exchange")


@dataclass
class SyncResult:
    peer: str
    received: int = 0
    created: int = 0
    updated: int = 0
    revoked: int = 0
    unchanged: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None

    def line(self) -> str:
        if self.error:
            return f"{self.peer}: error: {self.error}"
        return (
            f"{self.peer}: received {self.received}, new {self.created}, updated {self.updated}, "
            f"revoked {self.revoked}, unchanged {self.unchanged}, refused {len(self.refused)}"
        )


HttpFactory = Callable[[store.Peer], httpx.Client | None]


class Syncer:
    def __init__(self, exchange: ExchangeService, http: HttpFactory | None = None) -> None:
        self._exchange = exchange
        self._db = exchange._db
        self._clock = exchange._clock
        self._http = http or (lambda _peer: None)

    def peers(self) -> list[store.Peer]:
        with self._db.read() as session:
            return store.list_peers(session)

    def sync(self, peer: store.Peer, page_size: int = 5000) -> SyncResult:
        """One pull of every collection the peer offers (or the groups configured)."""
        result = SyncResult(peer.name)
        token = self._exchange.peer_token(peer)
        node_id: str | None = None
        try:
            with PeerClient(peer.url, token, peer.public_key, http=self._http(peer)) as client:
                collections, node_id = client.collections()
                if peer.node_id and node_id != peer.node_id:
                    raise FraudXError(f"peer signs as {node_id!r}, it was {peer.node_id!r}")
                for collection in collections:
                    if peer.groups and collection.get("title") not in peer.groups:
                        continue
                    self._pull(client, peer, node_id, str(collection["id"]), page_size, result)
        except FraudXError as exc:
            result.error = exc.detail
        with self._db.write() as session:
            store.note_sync(session, peer.name, self._clock.now(), result.error, node_id)
        return result

    def _pull(
        self,
        client: PeerClient,
        peer: store.Peer,
        node_id: str,
        collection: str,
        page_size: int,
        result: SyncResult,
    ) -> None:
        with self._db.read() as session:
            after = store.cursor(session, peer.name, collection)
        # The next page is fetched, its signature checked and its reports read (in the
        # prefetch thread) while this one is stored: the peer's work, the network and the
        # reading overlap with the local import (SQLite and psycopg release the GIL). The cycle
        # collector waits for the whole pull: resumed between pages, it would walk the
        # page being read and the one being stored every time.
        with (
            collector_paused(),
            ThreadPoolExecutor(1, thread_name_prefix="fraudx-pull") as prefetch,
        ):
            upcoming = prefetch.submit(client.objects, collection, after, page_size)
            while True:
                page = upcoming.result()
                if page.more and page.received and page.last is not None:
                    upcoming = prefetch.submit(client.objects, collection, page.last, page_size)
                if page.node != node_id:
                    raise FraudXError("the peer changed its node id during a pull")
                received = self._exchange.store_parsed(peer.name, page.parsed)
                result.received += page.received
                result.created += received.outcome.created
                result.updated += received.outcome.updated
                result.revoked += received.outcome.revoked
                result.unchanged += received.outcome.unchanged
                result.refused += received.failures
                if page.last is not None:
                    with self._db.write() as session:
                        store.save_cursor(
                            session, peer.name, collection, page.last, self._clock.now()
                        )
                if not page.more or not page.received:
                    return

    def sync_all(self) -> list[SyncResult]:
        return [self.sync(peer) for peer in self.peers()]

    def sync_some(self, names: Collection[str]) -> list[SyncResult]:
        """One pull of each configured peer named."""
        return [self.sync(peer) for peer in self.peers() if peer.name in names]

    def nudge_all(self) -> None:
        """Tell every peer this node has news: an empty, signed push to its ``all``
        collection, after which the peer pulls at once instead of at its next interval.
        The peer's pull applies this node's policy as always; a failed nudge costs only
        the wait for the peer's next regular pull."""
        exchange = self._exchange
        for peer in self.peers():
            try:
                token = exchange.peer_token(peer)
                with PeerClient(
                    peer.url, token, peer.public_key, http=self._http(peer), timeout=2
                ) as c:
                    c.push(collection_id("all"), [], exchange.key, exchange.node_id)
            except (FraudXError, httpx.HTTPError) as exc:
                log.debug("nudge to %s failed: %s", peer.name, exc)


class Publisher:
    """Background task: turns the node's registry changes into STIX objects for peers,
    and nudges the peers when there are new ones."""

    name = "exchange-publisher"

    def __init__(
        self,
        exchange: ExchangeService,
        syncer: Syncer | None = None,
        interval: float = 0.2,
        gather: float = 0.25,
    ) -> None:
        self._exchange = exchange
        self._syncer = syncer
        self._interval = interval
        # After a pass that published, wait this long before the next: a node taking 200
        # reports a second publishes them a few times a second, one transaction (and one
        # nudge) each, instead of once per report, which the API's writers would queue
        # behind. Peers pull on their own schedule; a quarter second costs them nothing.
        self._gather = gather

    async def run(self, stop: asyncio.Event) -> None:
        woken = asyncio.Event()
        loop = asyncio.get_running_loop()

        def ring() -> None:
            loop.call_soon_threadsafe(woken.set)

        unsubscribe = self._exchange._db.bell.subscribe(ring)
        nudging: asyncio.Future[None] | None = None
        try:
            while not stop.is_set():
                woken.clear()
                count = fresh = 0  # published in all, and since the last nudge began
                while n := await anyio.to_thread.run_sync(self._exchange.publish_pending):
                    count, fresh = count + n, fresh + n
                    # A backlog (a bulk import, a node back from a pause) is published in
                    # passes: peers hear of each as it lands and pull while the next is
                    # made, not after the last. One nudge at a time, beside the publishing.
                    if self._syncer is not None and (nudging is None or nudging.done()):
                        nudging = asyncio.ensure_future(
                            anyio.to_thread.run_sync(self._syncer.nudge_all)
                        )
                        fresh = 0
                if fresh and self._syncer is not None:
                    await anyio.to_thread.run_sync(self._syncer.nudge_all)
                if count:
                    await pause(stop, self._gather)
                else:
                    await _either(stop, woken, self._interval)
        finally:
            unsubscribe()
            if nudging is not None:
                await nudging  # nudge_all handles its own failures


class PeerSync:
    """Background task: pulls from every configured peer, again and again."""

    name = "exchange-sync"

    def __init__(self, syncer: Syncer, interval: float = 1.0, grace: float = 5.0) -> None:
        self._syncer = syncer
        self._interval = interval
        # A peer is reported down once its pulls have failed, twice at least, for this
        # long in a row: one restarting, or starting a moment after this node (the
        # federation demo's first seconds), is not news.
        self._grace = grace

    async def run(self, stop: asyncio.Event) -> None:
        failing: dict[str, str] = {}  # a peer's error is logged when it starts or changes
        nudged = asyncio.Event()
        loop = asyncio.get_running_loop()

        def nudge(_peer: str) -> None:
            loop.call_soon_threadsafe(nudged.set)

        self._syncer._exchange.nudge_listeners.append(nudge)
        try:
            await self._loop(stop, nudged, failing)
        finally:
            self._syncer._exchange.nudge_listeners.remove(nudge)

    async def _loop(
        self, stop: asyncio.Event, nudged: asyncio.Event, failing: dict[str, str]
    ) -> None:
        missed: dict[str, tuple[int, float]] = {}  # failed pulls in a row, since when
        eager: list[str] = []  # peers whose last pull brought objects
        every_peer_at = 0.0  # when every peer was last pulled
        while not stop.is_set():
            due = time.monotonic() - every_peer_at >= self._interval
            if eager and not due and not nudged.is_set():
                # They may be publishing a backlog: pulled again at once, the others at
                # their interval (or when they nudge), however long the backlog lasts.
                results = await anyio.to_thread.run_sync(self._syncer.sync_some, eager)
            else:
                nudged.clear()
                every_peer_at = time.monotonic()
                results = await anyio.to_thread.run_sync(self._syncer.sync_all)
            for result in results:
                if result.error:
                    count, since = missed.get(result.peer, (0, time.monotonic()))
                    missed[result.peer] = (count + 1, since)
                    down = count + 1 >= 2 and time.monotonic() - since >= self._grace
                    if down and failing.get(result.peer) != result.error:
                        log.warning("sync with %s failed: %s", result.peer, result.error)
                        failing[result.peer] = result.error
                    continue
                missed.pop(result.peer, None)
                if failing.pop(result.peer, None):
                    log.warning("sync with %s works again", result.peer)
                if result.received:
                    log.info("sync %s", result.line())
            eager = [result.peer for result in results if result.received and not result.error]
            if not eager:
                await _either(stop, nudged, self._interval)


async def _either(stop: asyncio.Event, woken: asyncio.Event, timeout: float) -> None:
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(woken.wait())]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
