"""Delivery workers: send pending deliveries by webhook or NATS, at least once, in order.

Each subscription drains in its own asyncio task, so a slow or dead receiver holds up
only its own queue. A failed send waits with exponential backoff and full jitter and is
dead-lettered after ``max_attempts``; the next delivery then goes (order per subscription
holds for everything delivered). The database says what is pending: a killed process
resends from there, and receivers drop duplicates by the ``X-FraudX-Delivery`` key.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import anyio
import orjson

from fraudx.alerts import store
from fraudx.alerts.model import ChannelType, DeliveryStatus, shown_body
from fraudx.alerts.sealing import Sealer
from fraudx.alerts.tasks import pause_or, set_soon
from fraudx.platform.agencies.model import Role
from fraudx.platform.clock import Clock
from fraudx.platform.db import Bell, Database
from fraudx.registry.model import Viewer

log = logging.getLogger("fraudx.alerts.delivery")
SETTLE_GATHER_SECONDS = 0.1


class DeliveryFailed(Exception):
    """The receiver did not take the delivery; the message says why (kept on the row)."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where one subscription's deliveries go, its secret opened for signing."""

    subscription_id: str
    agency: str
    channel: ChannelType
    url: str | None
    subject: str | None
    secret: str | None
    #: Whom the pushed bodies are shown to: the subscribing token's role, at its agency
    #: (whose kind the bodies already follow). None: as written.
    viewer: Viewer | None = None


class Sender(Protocol):
    async def send(self, target: Target, delivery_id: str, body: bytes) -> None:
        """Deliver or raise DeliveryFailed."""
        ...

    async def close(self) -> None: ...


@dataclass
class RetryPolicy:
    max_attempts: int = 8
    base_seconds: float = 2.0
    cap_seconds: float = 3600.0
    jitter: Callable[[], float] = random.random

    def delay(self, attempts: int) -> float:
        """Full jitter (AWS architecture blog): spreads receivers' retries after an outage."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2.0 ** (attempts - 1))
        return max(0.05, ceiling * float(self.jitter()))


def delivery_body(row: dict[str, Any], viewer: Viewer | None = None) -> bytes:
    body = row["body"] if viewer is None else shown_body(row["body"], viewer)
    return orjson.dumps({**body, "delivery": row["id"]})


class Dispatcher:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        sealer: Sealer,
        senders: dict[ChannelType, Sender],
        policy: RetryPolicy | None = None,
        interval: float = 1.0,
        batch_size: int = 100,
        bell: Bell | None = None,
        touched: Callable[[Sequence[str]], list[str]] | None = None,
    ) -> None:
        # Where the bell's ringer says which subscriptions it gave deliveries (the rule
        # engine in this process): those start at once, and the database is asked which
        # are due only when nothing was said, or every ``interval`` (retries, other
        # processes' alerts).
        self._touched = touched
        self._bell = bell or db.bell  # the rule engine's: rings when alerts are written
        self._batch_size = batch_size
        self._db = db
        self._clock = clock
        self._sealer = sealer
        self.senders = senders
        self.policy = policy or RetryPolicy()
        self._interval = interval
        self._draining: dict[str, asyncio.Task[None]] = {}
        # Subscriptions that were found due while their drain was running: it reads again
        # before it ends, so deliveries written during its last read are not left waiting.
        self._again: set[str] = set()
        self._targets: dict[str, tuple[float, Target | None]] = {}
        # Delivered but not yet written (id -> attempts): one writer task takes them all at
        # once (group commit), so a busy node writes a few times a second, not per alert.
        self._unsettled: dict[str, int] = {}
        self._flusher: asyncio.Task[None] | None = None
        self.name = "alerts-delivery-" + "-".join(sorted(c.value for c in senders))

    def _target(self, sub_id: str) -> Target | None:
        with self._db.read() as session:
            row = store.subscription_row(session, sub_id)
        if row is None or row["deleted_at"] is not None:
            return None
        sealed = row["secret_sealed"]
        role = row.get("role")
        return Target(
            sub_id,
            row["agency_code"],
            ChannelType(row["channel"]),
            row["url"],
            row["subject"],
            self._sealer.open(sealed) if sealed else None,
            # The agency's kind is in the body already: only the role narrows it here. A
            # subscription whose maker's role is unknown (older than migration 0005, and
            # not in the audit log) is pushed what a partner may see.
            Viewer(row["agency_code"], True, Role(role or Role.PARTNER.value)),
        )

    def _due(self) -> list[str]:
        with self._db.read() as session:
            return store.due_subscriptions(session, list(self.senders), self._clock.now())

    async def _cached_target(self, sub_id: str) -> Target | None:
        cached = self._targets.get(sub_id)
        if cached is None or cached[0] < time.monotonic():
            target = await anyio.to_thread.run_sync(self._target, sub_id)
            cached = (time.monotonic() + 30.0, target)
            self._targets[sub_id] = cached
        return cached[1]

    def _batch(self, sub_id: str, skip: frozenset[str]) -> list[dict[str, Any]]:
        """Pending rows, less those sent and not yet written: ``skip`` is taken before the
        read, so a row written meanwhile is either skipped or read as delivered."""
        with self._db.read() as session:
            rows = store.pending(session, sub_id, self._batch_size + len(skip))
        return [r for r in rows if r["id"] not in skip][: self._batch_size]

    async def _flush(self) -> None:
        while self._unsettled:
            # Outcomes wait a moment to be written together: the webhooks are out
            # already, and one write per delivery would take turns at SQLite's one writer
            # from the reports the API is taking. A crash meanwhile resends them (at
            # least once; receivers drop duplicates by the delivery id).
            await asyncio.sleep(SETTLE_GATHER_SECONDS)
            done = dict(self._unsettled)
            await anyio.to_thread.run_sync(self._settle, list(done.items()), [])
            for delivery_id in done:  # only now: until written, drains must skip them
                del self._unsettled[delivery_id]

    def _schedule_flush(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="alerts-settle")

    async def flushed(self) -> None:
        """Wait until every delivery sent so far is written as delivered."""
        while self._flusher is not None and not self._flusher.done():
            await self._flusher

    def _settle(
        self, delivered: list[tuple[str, int]], failed: list[tuple[str, dict[str, Any]]]
    ) -> None:
        with self._db.write() as session:
            store.mark_delivered(session, delivered, self._clock.now())
            for delivery_id, values in failed:
                store.update_delivery(session, delivery_id, **values)

    async def _drain(self, sub_id: str) -> None:
        """Send this subscription's pending deliveries in order until none is due.

        Deliveries go one after another (order) over one kept-alive connection; their
        outcome is written once per batch, so a crash before that write resends the batch
        (at least once: receivers drop what they had by the delivery id)."""
        target = await self._cached_target(sub_id)
        if target is None or target.channel not in self.senders:
            return
        sender = self.senders[target.channel]
        while True:
            self._again.discard(sub_id)
            skip = frozenset(self._unsettled)
            rows = await anyio.to_thread.run_sync(self._batch, sub_id, skip)
            now = self._clock.now()
            if not rows or rows[0]["next_attempt_at"] > now:
                return
            delivered: list[tuple[str, int]] = []
            failed: list[tuple[str, dict[str, Any]]] = []
            waiting = False
            for row in rows:
                if row["next_attempt_at"] > now:
                    break
                attempts = int(row["attempts"]) + 1
                try:
                    await sender.send(target, row["id"], delivery_body(row, target.viewer))
                except Exception as exc:  # every failure is a retry, whatever its cause
                    reason = str(exc)[:500] or type(exc).__name__
                    if attempts >= self.policy.max_attempts:
                        log.warning("delivery %s dead-lettered: %s", row["id"], reason)
                        dead = DeliveryStatus.DEAD.value
                        failed.append(
                            (
                                row["id"],
                                {"status": dead, "attempts": attempts, "last_error": reason},
                            )
                        )
                        continue
                    retry_at = self._clock.now() + timedelta(seconds=self.policy.delay(attempts))
                    values = {
                        "attempts": attempts,
                        "next_attempt_at": retry_at,
                        "last_error": reason,
                    }
                    failed.append((row["id"], values))
                    waiting = True  # later deliveries wait behind this one: order holds
                    break
                delivered.append((row["id"], attempts))
            if failed:  # written at once: order depends on a waiting head being seen as such
                await anyio.to_thread.run_sync(self._settle, delivered, failed)
            else:
                self._unsettled.update(delivered)
                self._schedule_flush()
            if waiting:
                return
            if len(rows) < self._batch_size and sub_id not in self._again:
                return  # all that was pending is sent; a later ring starts a new drain

    def _spawn(self, due: list[str]) -> list[asyncio.Task[None]]:
        started = []
        for sub_id in due:
            task = self._draining.get(sub_id)
            if task is None or task.done():
                task = asyncio.create_task(self._drain(sub_id), name=f"alerts-drain-{sub_id}")
                self._draining[sub_id] = task
                started.append(task)
            else:
                self._again.add(sub_id)
        return started

    async def dispatch_once(self) -> None:
        """One pass for tests and tools: drain every due subscription, then return."""
        tasks = self._spawn(await anyio.to_thread.run_sync(self._due))
        if tasks:
            await asyncio.gather(*tasks)
        await self.flushed()

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        unsubscribe = self._bell.subscribe(lambda: set_soon(loop, wake))
        try:
            polled = 0.0
            while not stop.is_set():
                wake.clear()
                channels = [c.value for c in self.senders]
                due = self._touched(channels) if self._touched is not None else []
                if not due or time.monotonic() - polled >= self._interval:
                    due = await anyio.to_thread.run_sync(self._due)
                    polled = time.monotonic()
                self._spawn(due)
                if not wake.is_set():
                    await pause_or(stop, asyncio.ensure_future(wake.wait()), self._interval)
        finally:
            unsubscribe()
            for task in self._draining.values():
                task.cancel()
            await self.flushed()
            for sender in self.senders.values():
                await sender.close()
