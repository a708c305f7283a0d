"""The push channels: signed webhooks (httpx) and NATS JetStream (nats-py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from fraudx.alerts.delivery import DeliveryFailed, Target
from fraudx.alerts.model import NATS_SUBJECT_ROOT
from fraudx.alerts.receiver import DELIVERY, SIGNATURE, TIMESTAMP, sign

log = logging.getLogger("fraudx.alerts.nats")

#: The JetStream stream that keeps every alert subject, so that consumers that were
#: away read what they missed.
NATS_STREAM = "FRAUDX_ALERTS"


class WebhookSender:
    """POSTs the alert as JSON, signed over ``timestamp.body``. A 2xx is a delivery."""

    def __init__(self, timeout: float = 5.0, now: Callable[[], float] = time.time) -> None:
        # Short timeouts: a receiver that hangs must not hold its queue for long.
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=100),
            follow_redirects=False,
        )
        self._now = now  # wall time, not the node's clock: receivers check freshness

    async def send(self, target: Target, delivery_id: str, body: bytes) -> None:
        if not target.url or not target.secret:
            raise DeliveryFailed("the subscription has no URL or secret")
        stamp = int(self._now())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "FraudX-Alerts/1",
            DELIVERY: delivery_id,
            TIMESTAMP: str(stamp),
            SIGNATURE: sign(target.secret, stamp, body),
        }
        try:
            response = await self._client.post(target.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"receiver answered {response.status_code}")

    async def close(self) -> None:
        await self._client.aclose()


class NatsSender:
    """Publishes to JetStream with ``Nats-Msg-Id`` = delivery id: the server drops a
    duplicate inside its window, and consumers can drop later ones by the same key."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self._url = url
        self._timeout = timeout
        self._nc: Any = None
        self._js: Any = None

    async def _jetstream(self) -> Any:
        if self._js is None:
            import nats
            from nats.js.errors import NotFoundError

            # Few, quick reconnects: a failed send is retried by the dispatcher anyway,
            # and nats-py's defaults would hold this queue for minutes.
            self._nc = await asyncio.wait_for(
                nats.connect(
                    self._url,
                    connect_timeout=self._timeout,
                    max_reconnect_attempts=1,
                    reconnect_time_wait=0.1,
                    error_cb=_quiet,
                ),
                self._timeout * 2,
            )
            self._js = self._nc.jetstream(timeout=self._timeout)
            try:
                await self._js.stream_info(NATS_STREAM)
            except NotFoundError:
                await self._js.add_stream(name=NATS_STREAM, subjects=[f"{NATS_SUBJECT_ROOT}.>"])
        return self._js

    async def send(self, target: Target, delivery_id: str, body: bytes) -> None:
        subject = target.subject or f"{NATS_SUBJECT_ROOT}.{target.agency}"
        try:
            js = await self._jetstream()
            await js.publish(
                subject, body, headers={"Nats-Msg-Id": delivery_id, DELIVERY: delivery_id}
            )
        except Exception as exc:
            await self.close()  # reconnect on the next attempt
            raise DeliveryFailed(f"NATS: {type(exc).__name__}: {exc}") from exc

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None:
            try:
                await nc.close()
            except Exception:  # closing a broken connection may fail; it is gone anyway
                return


async def _quiet(exc: Exception) -> None:
    log.debug("NATS: %s", exc)  # the failed send reports it, once
