"""Memos for bulk work: one function's results by argument, for a batch of values that
repeat (a page's reports share a handful of instants)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Memo(dict[K, V], Generic[K, V]):
    __slots__ = ("_function",)

    def __init__(self, function: Callable[[K], V]) -> None:
        super().__init__()
        self._function = function

    def __missing__(self, key: K) -> V:
        value = self[key] = self._function(key)
        return value


def memo(function: Callable[[K], V]) -> Callable[[K], V]:
    """``function`` memoised without bound, as ``functools.cache`` does (arguments equal
    and of equal hash share a result), at half its cost a call: a dict's own look-up,
    where ``functools.cache`` makes a key tuple for an argument of most types."""
    return _Memo(function).__getitem__
