"""Pull sync between nodes in process: signed, idempotent, updates and revocations
propagate, a partitioned node catches up exactly, imported reports are not passed on."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from fraudx.exchange.signing import NodeKey
from fraudx.exchange.sync import PeerSync, Publisher, Syncer, SyncResult
from fraudx.node import Node
from fraudx.platform import outbox
from fraudx.platform.clock import ManualClock
from fraudx.registry.events import TOPIC
from tests.conftest import START
from tests.exchange.conftest import (
    LEAD,
    OPERATOR,
    InProcess,
    analyst,
    imported,
    open_node,
    own,
    peer,
    report,
)


@pytest.fixture
def kh(sqlite_template: Path, tmp_path: Path) -> Node:
    node = open_node(sqlite_template, tmp_path, "kh", "KH", clock=ManualClock(START))
    yield node  # type: ignore[misc]
    node.close()


@pytest.fixture
def th(sqlite_template: Path, tmp_path: Path) -> Node:
    node = open_node(sqlite_template, tmp_path, "th", "TH", clock=ManualClock(START))
    yield node  # type: ignore[misc]
    node.close()


def test_pull_is_idempotent_and_keeps_origin(kh: Node, th: Node, in_process: InProcess) -> None:
    ids = [report(kh, f"+85512{n:06d}") for n in range(30)]
    report(kh, "+85512999999", tlp="RED")
    in_process.serve(kh)
    peer(th, kh)
    syncer = in_process.syncer(th)
    [first] = syncer.sync_all()
    assert (first.error, first.received, first.created) == (None, 30, 30)
    assert imported(th) == {("kh", i): ("active", "AMBER", 50) for i in ids}
    [again] = syncer.sync_all()
    assert (again.received, again.created) == (0, 0)
    # The same objects once more, from the start: stored once.
    received = th.exchange.import_objects("kh", "kh", _all_objects(kh))
    assert received.outcome.unchanged == 30
    assert received.outcome.created == 0
    assert len(imported(th)) == 30
    # The reporting agency is registered on th with its kind and country.
    agency = th.platform.agencies.get(OPERATOR, "KH-GCNP")
    assert (agency.country, agency.kind.value) == ("KH", "police")
    # Look-ups on th find the imported report: the index heard the outbox event.
    th.index.ensure_built()
    partner = th.platform.tokens.create(OPERATOR, "TH-CCIB", "analyst").secret
    found = th.lookups.lookup(th.platform.tokens.authenticate(partner), "phone", "+85512000003")
    assert found.listed


def _all_objects(node: Node) -> list[dict[str, object]]:
    import orjson
    from sqlalchemy import select

    from fraudx.exchange.store import exchange_objects

    with node.platform.db.read() as session:
        bodies = session.execute(select(exchange_objects.c.body)).scalars().all()
    return [orjson.loads(b) for b in bodies]


def test_updates_and_revocations_propagate(kh: Node, th: Node, in_process: InProcess) -> None:
    in_process.serve(kh)
    peer(th, kh)
    syncer = in_process.syncer(th)
    first = report(kh, "+85512111111", confidence=40)
    second = report(kh, "+85512222222")
    syncer.sync_all()
    clock = kh.platform.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(minutes=5))
    report(kh, "+85512111111", confidence=90)  # the same agency again: an update
    kh.registry.revoke(analyst(kh), second, "false_positive")
    kh.exchange.publish_all()
    [result] = syncer.sync_all()
    assert (result.updated, result.revoked, result.created) == (1, 1, 0)
    assert imported(th) == {
        ("kh", first): ("active", "AMBER", 90),
        ("kh", second): ("revoked", "AMBER", 50),
    }


def test_a_partitioned_node_catches_up_exactly(kh: Node, th: Node, in_process: InProcess) -> None:
    in_process.serve(kh)
    peer(th, kh)
    syncer = in_process.syncer(th)
    for n in range(20):
        report(kh, f"+85512{600000 + n}")
    syncer.sync_all()
    # th is cut off for a day while kh keeps working: adds, updates, revokes.
    clock = kh.platform.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(days=1))
    author = analyst(kh)
    rows = [
        {"kind": "phone", "value": f"+85512{700000 + n}", "category": "scam_call"}
        for n in range(2500)
    ]
    kh.registry.import_records(author, rows)
    report(kh, "+85512600003", confidence=99)
    revoked = sorted(own(kh))[5][1]
    kh.registry.revoke(author, revoked, "resolved")
    kh.exchange.publish_all()
    # A failed attempt while the link is down changes nothing and loses nothing.
    down = Syncer(th.exchange, lambda _p: httpx.Client(transport=httpx.MockTransport(_refuse)))
    [failed] = down.sync_all()
    assert failed.error
    result = Syncer(th.exchange, lambda _p: in_process.apps["kh"]).sync(
        down.peers()[0], page_size=700
    )
    assert result.error is None
    shareable = {k: v for k, v in own(kh).items() if v[1] != "RED"}
    assert imported(th) == shareable
    assert len(shareable) == 2520


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def test_tampered_or_wrongly_signed_bundles_are_refused(
    kh: Node, th: Node, in_process: InProcess, tmp_path: Path
) -> None:
    report(kh, "+85512333333")
    in_process.serve(kh)
    app = in_process.apps["kh"]

    def tamper(request: httpx.Request) -> httpx.Response:
        response = app.request(request.method, str(request.url), headers=request.headers)
        body = response.content.replace(b"+85512333333", b"+855333333334")
        return httpx.Response(response.status_code, headers=response.headers, content=body)

    peer(th, kh)
    [tampered] = Syncer(
        th.exchange, lambda _p: httpx.Client(transport=httpx.MockTransport(tamper))
    ).sync_all()
    assert tampered.error is not None
    assert "signature" in tampered.error
    assert imported(th) == {}
    # A peer configured with another key: everything it serves is refused.
    th.exchange.remove_peer(OPERATOR, "kh")
    other, _ = NodeKey.ensure(tmp_path / "other")
    from tests.exchange.conftest import peer_token

    th.exchange.add_peer(OPERATOR, "kh", "http://testserver", peer_token(kh, th), other.public_key)
    [wrong] = in_process.syncer(th).sync_all()
    assert wrong.error is not None
    assert "signature" in wrong.error
    assert imported(th) == {}


def test_push_is_signed_checked_and_idempotent(kh: Node, th: Node, in_process: InProcess) -> None:
    """kh pushes an envelope into th's collection; th checks kh's signature."""
    from fraudx.exchange.client import PeerClient
    from fraudx.exchange.model import collection_id
    from tests.exchange.conftest import peer_token

    report(kh, "+85512444444")
    objects = _all_objects(kh)
    peer(th, kh)  # th knows kh's key
    in_process.serve(th)
    token = peer_token(th, kh)
    client = PeerClient(
        "http://testserver", token, th.exchange.key.public_key, http=in_process.apps["th"]
    )
    status = client.push(collection_id("all"), objects, kh.exchange.key, "kh")
    assert (status["status"], status["success_count"]) == ("complete", 1)
    client.push(collection_id("all"), objects, kh.exchange.key, "kh")
    assert len(imported(th)) == 1
    # An empty push is a nudge: th's sync task hears that kh has news.
    nudged: list[str] = []
    th.exchange.nudge_listeners.append(nudged.append)
    client.push(collection_id("all"), [], kh.exchange.key, "kh")
    assert nudged == ["kh"]
    forged = client.push  # a node that signs with a key th does not know is refused
    stranger, _ = NodeKey.ensure(th.settings.home / "stranger")
    from fraudx.exchange.client import PeerUnavailable

    with pytest.raises(PeerUnavailable, match="401"):
        forged(collection_id("all"), objects, stranger, "kh")


def test_imported_reports_are_not_passed_on(kh: Node, th: Node, in_process: InProcess) -> None:
    report(kh, "+85512555555", tlp="CLEAR")
    in_process.serve(kh)
    peer(th, kh)
    in_process.syncer(th).sync_all()
    assert len(imported(th)) == 1
    assert th.exchange.publish_all() == 0
    assert _all_objects(th) == []
    # The change names its origin: th's publisher passes over it without a look-up.
    with th.platform.db.read() as session:
        events = outbox.read_after(session, 0, limit=100, topics=[TOPIC])
    [change] = [c for e in events for c in e.payload["changes"]]
    assert change["origin"] == "kh"
    assert [e.payload["own_ids"] for e in events] == [[]]


def test_events_name_own_reports_and_older_events_are_still_published(node: Node) -> None:
    """The publisher reads an event's ``own_ids``; an event written before events had
    them is read through its changes instead, on either database."""
    from sqlalchemy import func, select

    from fraudx.exchange.store import exchange_objects

    country = node.settings.country
    if LEAD[country] not in {a.code for a in node.platform.agencies.list(OPERATOR)}:
        node.platform.agencies.add(OPERATOR, LEAD[country], "police", country, "police")
    first = report(node, "+85512345671")  # published by the helper
    with node.platform.db.read() as session:
        [event] = outbox.read_after(session, 0, limit=100, topics=[TOPIC])
    assert event.payload["own_ids"] == [first]
    # As an earlier FraudX wrote it: changes only (a second report's, and an imported
    # report's change, which must not be published).
    second = report(node, "+85512345672")
    changes = [
        {"change": "updated", "id": second},
        {"change": "created", "id": "x", "origin": "kh"},
    ]
    with node.platform.db.write() as session:
        outbox.emit(
            session,
            [
                outbox.NewEvent(
                    node.platform.ids.new(),
                    TOPIC,
                    None,
                    {"changes": changes},
                    node.platform.clock.now(),
                )
            ],
        )
    assert node.exchange.publish_all() == 1
    with node.platform.db.read() as session:
        count = session.execute(select(func.count()).select_from(exchange_objects)).scalar()
        position = outbox.position(session, "exchange.publisher")
        assert (count, position) == (2, outbox.last_seq(session))


def test_publishing_everything_ends_when_the_last_events_are_of_another_topic(
    node: Node,
) -> None:
    """A node whose latest events are look-ups' sightings (a bank screening) publishes
    its reports and stops there: ``fraudx peer sync`` publishes first, and it once waited
    for the publisher to reach events it never reads."""
    from fraudx.registry.events import SIGHTING_TOPIC

    country = node.settings.country
    if LEAD[country] not in {a.code for a in node.platform.agencies.list(OPERATOR)}:
        node.platform.agencies.add(OPERATOR, LEAD[country], "police", country, "police")
    report(node, "+85512345673")
    body = {"kind": "phone", "value": "+85512345674", "category": "scam_call", "tlp": "AMBER"}
    node.registry.submit(analyst(node), body)  # not published yet
    with node.platform.db.write() as session:
        outbox.emit(
            session,
            [
                outbox.NewEvent(
                    node.platform.ids.new(),
                    SIGHTING_TOPIC,
                    None,
                    {"sightings": []},
                    node.platform.clock.now(),
                )
            ],
        )
    published: list[int] = []
    worker = threading.Thread(target=lambda: published.append(node.exchange.publish_all()))
    worker.daemon = True  # the code before looped for ever
    worker.start()
    worker.join(60)
    assert published == [1]
    assert len(_all_objects(node)) == 2


def test_pull_into_either_database(kh: Node, node: Node, in_process: InProcess) -> None:
    """The receiving side's storage (driver inserts, upserts) on SQLite and PostgreSQL."""
    in_process.serve(kh)
    peer(node, kh)
    syncer = in_process.syncer(node)
    ids = [report(kh, f"+85512{800000 + n}") for n in range(12)]
    [first] = syncer.sync_all()
    assert (first.error, first.created) == (None, 12)
    clock = kh.platform.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(minutes=1))
    kh.registry.revoke(analyst(kh), ids[0], "resolved")
    report(kh, "+85512800001", confidence=77)
    kh.exchange.publish_all()
    [second] = syncer.sync_all()
    assert (second.revoked, second.updated, second.created) == (1, 1, 0)
    assert imported(node) == {k: v for k, v in own(kh).items()}
    assert node.exchange.import_objects("kh", "kh", _all_objects(kh)).outcome.unchanged == 12


def test_a_report_first_seen_revoked_is_stored_revoked(
    kh: Node, node: Node, in_process: InProcess
) -> None:
    """Rows of new reports leave NULL columns out where the batch allows: a revoked one
    among active ones still gets its revocation, the others none; case_ref stays NULL."""
    from sqlalchemy import select

    from fraudx.registry.store import indicators as t

    in_process.serve(kh)
    peer(node, kh)
    ids = [report(kh, f"+85512{810000 + n}") for n in range(3)]
    clock = kh.platform.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(minutes=1))
    kh.registry.revoke(analyst(kh), ids[1], "resolved")
    kh.exchange.publish_all()
    [result] = in_process.syncer(node).sync_all()
    assert (result.error, result.created) == (None, 3)
    columns = (t.c.origin_id, t.c.status, t.c.revoked_reason, t.c.revoked_at, t.c.updated_at)
    with node.platform.db.read() as session:
        query = select(*columns, t.c.case_ref).where(t.c.origin_node == "kh")
        rows = {r[0]: r[1:] for r in session.execute(query)}
    revoked_at = START + timedelta(minutes=1)
    assert rows == {
        ids[0]: ("active", None, None, START, None),
        ids[1]: ("revoked", "other", revoked_at, revoked_at, None),
        ids[2]: ("active", None, None, START, None),
    }


def test_published_times_are_the_registrys_on_either_database(node: Node) -> None:
    """SQLite's rows are read as its text, PostgreSQL's as datetimes: the same STIX."""
    import orjson
    from sqlalchemy import select

    from fraudx.exchange import stix
    from fraudx.exchange.store import exchange_objects
    from fraudx.registry import store as registry_store

    country = node.settings.country
    if LEAD[country] not in {a.code for a in node.platform.agencies.list(OPERATOR)}:
        node.platform.agencies.add(OPERATOR, LEAD[country], "police", country, "police")
    id_ = report(node, "+85512345670", valid_until="2027-01-02T03:04:05.678901Z")
    with node.platform.db.read() as session:
        held = registry_store.get(session, id_)
        body, modified = session.execute(
            select(exchange_objects.c.body, exchange_objects.c.modified).where(
                exchange_objects.c.indicator_id == id_
            )
        ).one()
    assert held is not None
    obj = orjson.loads(body)
    ext = obj["extensions"][stix.EXTENSION_ID]
    assert obj["valid_until"] == "2027-01-02T03:04:05.678901Z"
    assert (obj["created"], obj["modified"]) == (
        stix.timestamp(held.created_at),
        stix.timestamp(held.updated_at),
    )
    assert (obj["valid_from"], ext["first_seen"], ext["last_seen"]) == (
        stix.timestamp(held.valid_from),
        stix.timestamp(held.first_seen),
        stix.timestamp(held.last_seen),
    )
    assert modified == held.updated_at


class _ScriptedSyncer:
    """Pull results in a given order, one round each; stops the task after the last."""

    def __init__(self, rounds: list[list[SyncResult]], stop: asyncio.Event) -> None:
        self.rounds, self.stop = rounds, stop
        self.asked: list[list[str] | None] = []  # the peers of each round (None: all)

    def sync_all(self) -> list[SyncResult]:
        self.asked.append(None)
        return self._next()

    def sync_some(self, names: list[str]) -> list[SyncResult]:
        self.asked.append(list(names))
        return self._next()

    def _next(self) -> list[SyncResult]:
        results = self.rounds.pop(0)
        if not self.rounds:
            self.stop.set()
        return results


def test_a_peer_is_reported_down_from_its_second_failed_pull(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A peer starting a moment after this node (or restarting) is not news; one that
    stays unreachable is, once, and so is its return."""
    refused = "http://kh/taxii2: [Errno 111] Connection refused"
    rounds = [
        [SyncResult("kh", error=refused), SyncResult("vn", error=refused)],
        [SyncResult("kh", received=3, created=3), SyncResult("vn", error=refused)],
        [SyncResult("kh"), SyncResult("vn", error=refused)],
        [SyncResult("kh"), SyncResult("vn", received=1, created=1)],
    ]

    def warnings(grace: float) -> list[str]:
        caplog.clear()

        async def run() -> None:
            stop = asyncio.Event()
            syncer = _ScriptedSyncer([list(r) for r in rounds], stop)
            task = PeerSync(syncer, interval=0, grace=grace)  # type: ignore[arg-type]
            await task._loop(stop, asyncio.Event(), {})

        with caplog.at_level(logging.WARNING, logger="fraudx.exchange"):
            asyncio.run(run())
        return [r.getMessage() for r in caplog.records]

    assert warnings(grace=0) == [f"sync with vn failed: {refused}", "sync with vn works again"]
    # Pulls that failed in quick succession (a peer pulled again at once, or nudged) say
    # nothing until the peer has been failing for the grace period.
    assert warnings(grace=3600) == []


def test_a_peer_with_news_is_pulled_again_at_once() -> None:
    """A pull that brought objects is followed by another without the interval's wait:
    the peer may be publishing a backlog in passes. One that brought nothing waits."""
    rounds = [[SyncResult("kh", received=5000, created=5000)], [SyncResult("kh")]]

    async def run() -> None:
        stop = asyncio.Event()
        task = PeerSync(_ScriptedSyncer(rounds, stop), interval=3600)  # type: ignore[arg-type]
        # The second round sets stop; waiting out the interval first would time out.
        await asyncio.wait_for(task._loop(stop, asyncio.Event(), {}), timeout=20)

    asyncio.run(run())
    assert rounds == []


def test_only_the_peers_with_news_are_pulled_again_at_once() -> None:
    rounds = [
        [SyncResult("kh", received=5000, created=5000), SyncResult("vn", error="refused")],
        [SyncResult("kh", received=2000, created=2000)],
        [SyncResult("kh")],
    ]
    syncer: _ScriptedSyncer | None = None

    async def run() -> None:
        nonlocal syncer
        stop = asyncio.Event()
        syncer = _ScriptedSyncer(rounds, stop)
        task = PeerSync(syncer, interval=3600)  # type: ignore[arg-type]
        await asyncio.wait_for(task._loop(stop, asyncio.Event(), {}), timeout=20)

    asyncio.run(run())
    assert syncer is not None
    assert syncer.asked == [None, ["kh"], ["kh"]]


class _EndlessNews:
    """kh has news at every pull; stops the task at the first round of every peer after
    the first, or after 100,000 rounds."""

    def __init__(self, stop: asyncio.Event) -> None:
        self.stop, self.asked = stop, 0
        self.full_rounds = 0

    def sync_all(self) -> list[SyncResult]:
        self.full_rounds += 1
        return self._round()

    def sync_some(self, _names: list[str]) -> list[SyncResult]:
        return self._round()

    def _round(self) -> list[SyncResult]:
        self.asked += 1
        if self.full_rounds > 1 or self.asked >= 100_000:
            self.stop.set()
        return [SyncResult("kh", received=1, created=1)]


def test_a_peer_with_endless_news_does_not_keep_the_others_waiting() -> None:
    """Peers pulled again at once do not delay the others past their interval."""
    syncer: _EndlessNews | None = None

    async def run() -> None:
        nonlocal syncer
        stop = asyncio.Event()
        syncer = _EndlessNews(stop)
        task = PeerSync(syncer, interval=0.05)  # type: ignore[arg-type]
        await asyncio.wait_for(task._loop(stop, asyncio.Event(), {}), timeout=60)

    asyncio.run(run())
    assert syncer is not None
    assert syncer.full_rounds == 2
    assert syncer.asked < 100_000


class _Bell:
    def subscribe(self, _ring: Callable[[], None]) -> Callable[[], None]:
        return lambda: None


class _Backlog:
    """An exchange with three passes of reports to publish; the second waits until peers
    have been nudged (or ten seconds), so that a nudge after the last pass would be late."""

    def __init__(self, stop: asyncio.Event, loop: asyncio.AbstractEventLoop) -> None:
        self._db = type("Db", (), {"bell": _Bell()})()
        self.passes = 0
        self.nudged = threading.Event()
        self._stop, self._loop = stop, loop

    def publish_pending(self) -> int:
        if self.passes == 1:
            self.nudged.wait(10)
        if self.passes == 3:
            self._loop.call_soon_threadsafe(self._stop.set)
            return 0
        self.passes += 1
        return 5000


class _Nudges:
    def __init__(self, backlog: _Backlog) -> None:
        self.backlog = backlog
        self.after_passes: list[int] = []  # passes published when each nudge was sent

    def nudge_all(self) -> None:
        self.after_passes.append(self.backlog.passes)
        self.backlog.nudged.set()


def test_peers_are_nudged_while_a_backlog_is_published() -> None:
    nudges: _Nudges | None = None

    async def run() -> None:
        nonlocal nudges
        stop = asyncio.Event()
        backlog = _Backlog(stop, asyncio.get_running_loop())
        nudges = _Nudges(backlog)
        task = Publisher(backlog, nudges, interval=3600, gather=0)  # type: ignore[arg-type]
        await asyncio.wait_for(task.run(stop), timeout=20)

    asyncio.run(run())
    assert nudges is not None
    assert nudges.after_passes[0] == 1  # peers pull the first pass while the rest is made
    assert nudges.after_passes[-1] == 3  # and hear of the last
    assert len(nudges.after_passes) <= 3
