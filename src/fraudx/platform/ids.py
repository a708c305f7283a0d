"""Time-ordered ids (UUIDv7, RFC 9562), so that cursors and positions compare cheaply."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from fraudx.platform.clock import Clock, SystemClock


def uuid_text(digits: str) -> str:
    """32 hex digits in a UUID's text form (8-4-4-4-12), without building a ``uuid.UUID``
    (which costs several times as much, and hot paths make ids by the hundred thousand)."""
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


class IdFactory:
    """Makes UUIDv7 strings from an injected clock.

    Within one millisecond the 12-bit ``rand_a`` field is used as a counter (RFC 9562
    §6.2 method 1), so ids made by one factory are strictly increasing.
    """

    def __init__(self, clock: Clock | None = None, random: Callable[[int], bytes] = os.urandom):
        self._clock = clock or SystemClock()
        self._random = random
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

    def new(self) -> str:
        return self.new_many(1)[0]

    def new_many(self, count: int) -> list[str]:
        """``count`` increasing ids at once: one lock and one read of the random source."""
        if count <= 0:
            return []
        noise = self._noise(count)
        now_ms = int(self._clock.now().timestamp() * 1000)
        with self._lock:
            stamps = [self._next_stamp(now_ms) for _ in range(count)]
        ids = []
        for i, (ms, counter) in enumerate(stamps):
            tail = int.from_bytes(noise[8 * i : 8 * i + 8], "big") & ((1 << 62) - 1)
            value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | tail
            ids.append(uuid_text(f"{value:032x}"))
        return ids

    def _next_stamp(self, ms: int) -> tuple[int, int]:
        if ms <= self._last_ms:
            ms = self._last_ms
            self._counter += 1
            if self._counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                ms += 1
                self._counter = 0
        else:
            self._counter = 0
        self._last_ms = ms
        return ms, self._counter

    def _noise(self, count: int) -> bytes:
        return self._random(8 * count)


class SequentialIds(IdFactory):
    """Deterministic ids for tests: UUIDv7 layout, random bits replaced by a counter."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._n = 0
        super().__init__(clock, random=self._next_bytes)

    def _next_bytes(self, size: int) -> bytes:
        self._n += 1
        return self._n.to_bytes(size, "big")

    def _noise(self, count: int) -> bytes:
        return b"".join(self._next_bytes(8) for _ in range(count))
