"""Background tasks that run beside the HTTP API on the same event loop.

Each task keeps its position in the database (an outbox sequence number, a peer cursor)
so that it carries on after a crash; nothing assumes tasks share memory with the API, so
the same tasks can run in a separate ``fraudx worker`` process when a node grows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Protocol

log = logging.getLogger("fraudx.tasks")


class BackgroundTask(Protocol):
    name: str

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; return promptly after it is."""
        ...


async def _supervise(task: BackgroundTask, stop: asyncio.Event) -> None:
    """Restart a task that fails, with a growing pause, until the node stops."""
    delay = 0.5
    while not stop.is_set():
        try:
            await task.run(stop)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background task %s failed; restarting in %.1fs", task.name, delay)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 30.0)


@asynccontextmanager
async def running(tasks: Sequence[BackgroundTask], grace: float = 10.0) -> AsyncIterator[None]:
    """Run ``tasks`` for the duration of the block, then stop them gracefully."""
    stop = asyncio.Event()
    handles = [asyncio.create_task(_supervise(t, stop), name=t.name) for t in tasks]
    try:
        yield
    finally:
        stop.set()
        if handles:
            _, pending = await asyncio.wait(handles, timeout=grace)
            for handle in pending:
                handle.cancel()


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less if the node stops meanwhile."""
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
