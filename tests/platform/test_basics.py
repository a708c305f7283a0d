"""Settings, ids and clocks."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from fraudx.platform.clock import ManualClock
from fraudx.platform.ids import IdFactory, SequentialIds
from fraudx.platform.settings import Settings
from tests.conftest import START


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FRAUDX_HOME", str(tmp_path))
    monkeypatch.setenv("FRAUDX_COUNTRY", "kh")
    monkeypatch.setenv("FRAUDX_TIMEZONE", "Asia/Phnom_Penh")
    monkeypatch.setenv("FRAUDX_NODE_ID", "kh-npc-1")
    monkeypatch.delenv("FRAUDX_DATABASE_URL", raising=False)
    settings = Settings()
    assert settings.country == "KH"
    assert settings.node_id == "kh-npc-1"
    assert settings.db_url == f"sqlite:///{tmp_path.resolve() / 'fraudx.sqlite3'}"


@pytest.mark.parametrize(
    ("field", "value"),
    [("country", "ZZ"), ("timezone", "Asia/Atlantis"), ("node_id", "has space")],
)
def test_bad_settings_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(**{field: value})
    assert info.value.errors()[0]["loc"] == (field,)


def test_ids_are_uuid7_and_strictly_increasing() -> None:
    clock = ManualClock(START)
    ids = IdFactory(clock)
    made = [ids.new() for _ in range(5000)]  # many within one millisecond
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    parsed = uuid.UUID(made[0])
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122
    assert (parsed.int >> 80) == int(START.timestamp() * 1000)
    clock.advance(timedelta(seconds=1))
    assert ids.new() > made[-1]


def test_ids_made_in_bulk_are_those_made_one_by_one() -> None:
    """``new_many`` claims a run of counters at once (borrowing the next millisecond past
    4,096) and writes the text itself: the same ids as one ``new`` after another."""

    def stream() -> Callable[[int], bytes]:
        source = iter(range(1 << 30))
        return lambda size: bytes(next(source) % 256 for _ in range(size))

    clock = ManualClock(START)
    bulk = IdFactory(clock, random=stream())
    single = IdFactory(clock, random=stream())
    made = bulk.new_many(3) + bulk.new_many(9000)
    assert made == [single.new() for _ in range(9003)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    start_ms = int(START.timestamp() * 1000)
    for text_, ms, counter in ((made[0], start_ms, 0), (made[4096], start_ms + 1, 0)):
        parsed = uuid.UUID(text_)
        assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
        assert (parsed.int >> 80, parsed.int >> 64 & 0xFFF) == (ms, counter)
    # A later batch, its millisecond already used up, goes on from the last id.
    assert bulk.new_many(2)[0] > made[-1]


def test_sequential_ids_are_reproducible() -> None:
    first = [SequentialIds(ManualClock(START)).new() for _ in range(1)]
    second = [SequentialIds(ManualClock(START)).new() for _ in range(1)]
    assert first == second
