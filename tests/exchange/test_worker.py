"""A large publishing backlog is published in a worker process, a small one in the
server's own; if the worker fails, nothing is lost. On either database."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from fraudx.exchange import sync
from fraudx.exchange.store import exchange_objects
from fraudx.exchange.sync import Publisher
from fraudx.exchange.worker import PublishingWorker
from fraudx.node import Node
from tests.exchange.conftest import LEAD, OPERATOR, analyst

REPORTS = 600


def _backlog(node: Node) -> None:
    """Three bulk imports, ``REPORTS`` reports in all, not published yet (some 200 KB
    of changes in three events)."""
    country = node.settings.country
    node.platform.agencies.add(OPERATOR, LEAD[country], "police", country, "police")
    author = analyst(node)
    for start in range(0, REPORTS, REPORTS // 3):
        rows = [
            {"kind": "phone", "value": f"+66812{300000 + n}", "category": "scam_call"}
            for n in range(start, start + REPORTS // 3)
        ]
        assert node.registry.import_records(author, rows).created == REPORTS // 3


def _published(node: Node) -> int:
    with node.platform.db.read() as session:
        return int(session.execute(select(func.count()).select_from(exchange_objects)).scalar_one())


def _run_until_published(
    publisher: Publisher, node: Node, also: Callable[[], bool] = lambda: True
) -> None:
    async def run() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(publisher.run(stop))
        for _ in range(600):
            if _published(node) >= REPORTS and node.exchange.backlog_bytes() == 0 and also():
                break
            await asyncio.sleep(0.05)
        stop.set()
        await task

    asyncio.run(run())


def test_a_large_backlog_is_published_in_a_worker_process(
    node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    _backlog(node)
    assert node.exchange.backlog_bytes() > 100_000
    caplog.set_level(logging.INFO, "fraudx.exchange")
    told = re.compile(r"published (\d+) objects in a worker process \((\d+) here as it started\)")
    _run_until_published(
        Publisher(node.exchange, worker_bytes=50_000), node, lambda: bool(told.search(caplog.text))
    )
    assert _published(node) == REPORTS
    found = told.search(caplog.text)
    assert found is not None
    # The server published while the worker started; together, each report once.
    assert int(found[1]) + int(found[2]) == REPORTS


def test_a_worker_publishes_the_whole_backlog_and_says_how_much(node: Node) -> None:
    _backlog(node)
    worker = PublishingWorker(node.settings)
    try:
        assert worker.result() == REPORTS
        assert worker.started()
    finally:
        worker.stop()
    assert _published(node) == REPORTS
    assert node.exchange.backlog_bytes() == 0


def test_a_small_backlog_is_published_in_process(
    node: Node, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_worker(_settings: object) -> None:
        raise AssertionError("a small backlog needs no worker process")

    monkeypatch.setattr(sync, "PublishingWorker", no_worker)
    _backlog(node)
    caplog.set_level(logging.INFO, "fraudx.exchange")
    _run_until_published(Publisher(node.exchange, worker_bytes=10_000_000), node)
    assert _published(node) == REPORTS
    assert "worker" not in caplog.text


def test_a_failed_worker_leaves_the_backlog_to_the_server(
    node: Node, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = node.settings.model_copy(update={"database_url": "sqlite:////nonexistent/x.db"})
    started: list[PublishingWorker] = []

    def broken(_settings: object) -> PublishingWorker:
        started.append(PublishingWorker(settings))
        return started[-1]

    monkeypatch.setattr(sync, "PublishingWorker", broken)
    _backlog(node)
    failed = "publishing in a worker process failed"
    _run_until_published(
        Publisher(node.exchange, worker_bytes=50_000), node, lambda: failed in caplog.text
    )
    assert _published(node) == REPORTS
    assert failed in caplog.text
    # The server published pass by pass, without starting a worker before each pass.
    assert len(started) == 1


def test_a_worker_stopped_midway_loses_nothing(node: Node) -> None:
    """Stopped as soon as it has started publishing (or before it has), the worker
    leaves a state from which everything is published, each object once."""
    _backlog(node)
    worker = PublishingWorker(node.settings)
    while node.exchange.backlog_bytes() and worker.running() and _published(node) == 0:
        pass
    worker.stop()
    node.exchange.publish_all()
    assert _published(node) == REPORTS
    assert node.exchange.backlog_bytes() == 0
