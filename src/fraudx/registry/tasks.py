"""The registry's background work beside the API: expiry of reports past valid_until."""

from __future__ import annotations

import asyncio

import anyio

from fraudx.platform.tasks import pause
from fraudx.registry.service import RegistryService


class ExpirySweeper:
    """Marks reports expired once valid_until passes. Look-ups ignore such reports even
    before the sweep (the index checks valid_until), so the interval is about the record,
    not about correctness."""

    name = "registry-expiry"

    def __init__(self, registry: RegistryService, interval: float = 60.0) -> None:
        self._registry = registry
        self._interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await anyio.to_thread.run_sync(self._registry.expire_due)
            await pause(stop, self._interval)
