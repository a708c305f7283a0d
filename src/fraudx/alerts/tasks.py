"""The alerts' background tasks wake on bells and poll as a fallback."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import anyio

from fraudx.alerts.rules import RuleEngine
from fraudx.platform.db import Bell
from fraudx.platform.tasks import pause


class RuleRunner:
    """Background task: runs the engine when the bell rings, and polls for other writers."""

    name = "alerts-rules"

    def __init__(
        self, engine: RuleEngine, db_bell: Bell, interval: float = 1.0, refresh: float = 5.0
    ) -> None:
        self._engine = engine
        self._bell = db_bell
        self._interval = interval
        self._refresh = refresh  # how often to pick up other processes' subscriptions

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        unsubscribe = self._bell.subscribe(lambda: set_soon(loop, wake))
        refreshed = time.monotonic()
        try:
            while not stop.is_set():
                wake.clear()
                while await anyio.to_thread.run_sync(self._engine.process_once):
                    pass
                if time.monotonic() - refreshed > self._refresh:
                    await anyio.to_thread.run_sync(self._engine.refresh)
                    refreshed = time.monotonic()
                if not wake.is_set():
                    waiter = asyncio.ensure_future(wake.wait())
                    await pause_or(stop, waiter, self._interval)
        finally:
            unsubscribe()


async def pause_or(stop: asyncio.Event, waiter: asyncio.Future[Any], seconds: float) -> None:
    """Wait for ``waiter`` (a wake-up), ``stop`` or ``seconds``, whichever comes first."""
    stopper = asyncio.ensure_future(pause(stop, seconds))
    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    for f in (waiter, stopper):
        f.cancel()


def set_soon(loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> None:
    """Set ``event`` from any thread (the bell rings in the committing thread)."""
    if not loop.is_closed():
        loop.call_soon_threadsafe(event.set)
