"""Time-ordered ids (UUIDv7, RFC 9562), so that cursors and positions compare cheaply."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable

from fraudx.platform.clock import Clock, SystemClock


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
        with self._lock:
            ms = int(self._clock.now().timestamp() * 1000)
            if ms <= self._last_ms:
                ms = self._last_ms
                self._counter += 1
                if self._counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                    ms += 1
                    self._counter = 0
            else:
                self._counter = 0
            self._last_ms = ms
            counter = self._counter
        tail = int.from_bytes(self._random(8), "big") & ((1 << 62) - 1)
        value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | tail
        return str(uuid.UUID(int=value))


class SequentialIds(IdFactory):
    """Deterministic ids for tests: UUIDv7 layout, random bits replaced by a counter."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._n = 0
        super().__init__(clock, random=self._next_bytes)

    def _next_bytes(self, size: int) -> bytes:
        self._n += 1
        return self._n.to_bytes(size, "big")
