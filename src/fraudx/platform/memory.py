"""Giving memory back to the system once the node's consumers have freed it.

glibc keeps what a process frees in its arenas (one per thread that allocates) and,
once large blocks were freed, serves the next ones from those arenas too: after the
look-up index, the alert engine and the publisher worked through a bulk import's events,
the node's RSS would stay at the peak for good. A background task checks every few
seconds how much the arenas hold free and, past a threshold, returns it with
``malloc_trim``. Elsewhere than glibc it does nothing.

Bulk work (a page of 5,000 STIX objects read, mapped and stored; a publishing pass) makes
hundreds of thousands of short-lived dicts and strings, none of them in a cycle. Python's
cycle collector, triggered by container allocations, walks every tracked object each
time the older generations fill, so that a pull of 100,000 objects spent more than half
of its time collecting. ``collector_paused`` holds it off around such work.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import anyio

from fraudx.platform.tasks import pause

#: Free bytes held in the arenas above which they are returned.
TRIM_ABOVE = 64 << 20


_paused_lock = threading.Lock()
_paused_by = 0  # how many threads are in a ``collector_paused`` block
_resume = False  # whether the collector was on when the first of them came in
_collected_at = 0.0  # when the collector last ran (or was first held off)
#: Blocks of several threads may overlap for ever on a busy node (pulls from peers,
#: pages served, publishing): past this many seconds held off, a block ending collects
#: once, so that cycles cannot pile up without bound.
MAX_PAUSE_SECONDS = 30.0


@contextmanager
def collector_paused() -> Iterator[None]:
    """Hold off Python's cycle collector while the block runs (in any thread; it comes
    back on when the last such block ends, if it was on before). Memory is still freed
    by reference counting: only cycles wait, for the length of the block. For bulk work
    that makes many acyclic containers, not for long-running loops."""
    global _paused_by, _resume, _collected_at
    with _paused_lock:
        if _paused_by == 0:
            _resume = gc.isenabled()
            _collected_at = time.monotonic()
            gc.disable()
        _paused_by += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused_by -= 1
            if _paused_by == 0:
                if _resume:
                    gc.enable()
            elif _resume and time.monotonic() - _collected_at > MAX_PAUSE_SECONDS:
                _collected_at = time.monotonic()
                gc.collect()


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (macOS, musl)
        return None
    if not hasattr(libc, "malloc_trim") or not hasattr(libc, "mallinfo2"):  # glibc < 2.33
        return None
    libc.mallinfo2.restype = _MallInfo2
    return libc


def free_in_arenas() -> int:
    """Bytes malloc holds free (0 where this cannot be known)."""
    libc = _libc()
    return int(libc.mallinfo2().fordblks) if libc is not None else 0


def release_freed(above: int = TRIM_ABOVE) -> bool:
    """Return freed memory to the system if the arenas hold more than ``above``."""
    libc = _libc()
    if libc is None or free_in_arenas() <= above:
        return False
    libc.malloc_trim(0)
    return True


class MemoryTrimmer:
    """Background task: ``release_freed`` every few seconds."""

    name = "memory-trim"

    def __init__(self, interval: float = 5.0) -> None:
        self._interval = interval

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await anyio.to_thread.run_sync(release_freed)
            await pause(stop, self._interval)
