"""Waiting in tests for another thread to reach a state, with a bound."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(check: Callable[[], bool], seconds: float = 5) -> None:
    """Return once ``check()`` is true; fail the test after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for another thread")
        time.sleep(0.005)
