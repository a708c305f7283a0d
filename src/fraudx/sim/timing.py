"""Timestamps: people act in their local daytime, scam call centres in their victims'."""

from __future__ import annotations

import numpy as np

from fraudx.sim.model import DIURNAL

_DAY = 86_400
_ACCEPT = np.array(DIURNAL) / np.max(DIURNAL)


def diurnal_times(gen: np.random.Generator, t0: int, t1: int, offsets: np.ndarray) -> np.ndarray:
    """Seconds since the epoch in [t0, t1), one per row, shaped by the local hour of day.

    ``offsets`` is each row's UTC offset in seconds. Rejection sampling: uniform times,
    kept with the weight of their local hour.
    """
    n = len(offsets)
    out = np.empty(n, dtype=np.int64)
    todo = np.arange(n)
    while len(todo):
        ts = gen.integers(t0, t1, len(todo))
        hour = ((ts + offsets[todo]) % _DAY) // 3600
        keep = gen.random(len(todo)) < _ACCEPT[hour]
        out[todo[keep]] = ts[keep]
        todo = todo[~keep]
    return out


def working_hours(gen: np.random.Generator, t0: int, t1: int, offset: int, n: int) -> np.ndarray:
    """``n`` times in [t0, t1) on local working days (Mon-Sat), 09:00 to 18:00."""
    out = np.empty(0, dtype=np.int64)
    while len(out) < n:
        m = (n - len(out)) * 2 + 16
        ts = gen.integers(t0, t1, m)
        local = ts + offset
        hour = (local % _DAY) // 3600
        weekday = (local // _DAY + 3) % 7  # 1970-01-01 was a Thursday (3)
        keep = (hour >= 9) & (hour < 18) & (weekday < 6)
        out = np.concatenate([out, ts[keep]])
    return out[:n]
