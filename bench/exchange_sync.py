"""Node → node over loopback: ``N`` indicators reported on node A reach node B's registry.

Node A (its own SQLite file, or PostgreSQL) imports ``N`` indicators and publishes them
as STIX; it is then served by ``fraudx serve`` in its own process. Node B, in this
process, pulls everything through the TAXII client (signature checked on every page) and
stores it. Prints one JSON line: publish time, pull-and-store time and objects per second,
and their sum's rate (``publish_then_pull_objects_per_s``: one step after the other,
which no node does).

With ``--pipelined`` (how nodes work, and the issue's "end to end"), A does not publish
beforehand: A is up, holding ``N`` reports it has not published, and its ``fraudx serve``
publishes them in its background task (as it does when reports arrive) while B pulls
again and again, as a node does. ``end_to_end_objects_per_s`` counts from A's readiness
until B holds every object A may share with it: every step between the two registries
(publishing, serving, signing, transfer, checking, reading, storing), and nothing of A's
process start-up (``published_before_ready`` shows that A published nothing before it
answered). ``with_start_up_objects_per_s`` counts A's start-up as well (imports, schema
check, look-up index of its ``N`` reports): a bound for a node that has just started.

With ``--served``, B is a ``fraudx serve`` process too, peered with A both ways: the
figure counts from A's readiness until B's registry holds every object, with everything a
serving node does running as it does (A's nudges, B's background pulls, B's look-up index
and alert rules taking in what it stores).

    python bench/exchange_sync.py [--indicators 100000] [--page 5000] [--pipelined | --served]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._data import rows
from fraudx.exchange.store import Peer
from fraudx.exchange.sync import Syncer, SyncResult
from fraudx.node import Node
from fraudx.platform.agencies.model import Principal, operator
from fraudx.platform.settings import Settings
from fraudx.registry.store import indicators

ADMIN = operator("bench")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings(home: Path, name: str, country: str) -> Settings:
    return Settings(home=home, node_id=name, country=country, token_cache_seconds=60)


def open_origin(home: Path) -> Node:
    """Node A (Cambodia), migrated, knowing its police and Thailand's, whose peer token
    node B uses."""
    node = Node.open(settings(home, "kh", "KH"))
    node.platform.ensure_schema()
    node.platform.agencies.add(ADMIN, "KH-GCNP", "General Commissariat", "KH", "police")
    node.platform.agencies.add(ADMIN, "TH-CCIB", "Cyber Crime Bureau", "TH", "police")
    return node


def origin_analyst(node: Node) -> Principal:
    """An analyst of A's police, who reports what A shares."""
    return node.platform.tokens.authenticate(
        node.platform.tokens.create(ADMIN, "KH-GCNP", "analyst").secret
    )


def prepare_origin(home: Path, count: int, publish: bool = True) -> tuple[str, str, float, int]:
    """Node A: agencies, ``count`` reports, published unless ``publish`` is false.
    Returns (peer token, public key, seconds publishing took, objects B may receive)."""
    node = open_origin(home)
    try:
        node.registry.import_records(origin_analyst(node), rows(count))
        # As on a node that has been up: its alert rules have already run over the import
        # (otherwise A's server spends the measured time on alerts, not on exchange).
        while node.alerts.engine.process_once():
            pass
        started = time.perf_counter()
        if publish:
            node.exchange.publish_all()
        publish_s = time.perf_counter() - started
        token = node.platform.tokens.create(ADMIN, "TH-CCIB", "peer").secret
        with node.platform.db.read() as session:  # RED is published but never served
            shared = session.execute(
                select(func.count()).where(indicators.c.tlp != "RED")
            ).scalar_one()
        return token, node.exchange.key.public_key, publish_s, int(shared)
    finally:
        node.close()


def start_server(
    home: Path, port: int, node_id: str = "kh", country: str = "KH"
) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "FRAUDX_HOME": str(home),
        "FRAUDX_NODE_ID": node_id,
        "FRAUDX_COUNTRY": country,
    }
    env.pop("FRAUDX_DATABASE_URL", None)
    command = [sys.executable, "-m", "fraudx", "serve", "--port", str(port)]
    command += ["--log-level", "warning"]
    return subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)


def wait_ready(url: str) -> None:
    # One client for every try: a new one per try made a TLS context each time (20 to 40
    # ms of CPU), taken from the server starting beside it when both are timed.
    with httpx.Client(timeout=1) as client:
        for _ in range(400):
            try:
                client.get(url + "/healthz")
                return
            except httpx.HTTPError:
                time.sleep(0.05)


def published_so_far(home: Path) -> int:
    """How many objects A has published (read beside its server, as SQLite allows)."""
    with sqlite3.connect(f"file:{home / 'fraudx.sqlite3'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM exchange_objects").fetchone()[0])


def held_so_far(home: Path) -> int:
    """How many reports B holds: its registry's last row number, read beside its server
    (B holds only what it pulled, and a row number costs a look-up where a count would
    walk an index every time it is asked)."""
    with sqlite3.connect(f"file:{home / 'fraudx.sqlite3'}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT coalesce(max(rowid), 0) FROM indicators").fetchone()[0])


def served(work: Path, count: int) -> dict[str, object]:
    """Both nodes as ``fraudx serve``, peered both ways as a federation is: from A's
    readiness (B already up) until B's registry holds every object A may share with it.
    Everything a node does runs as it does in service: A's publisher nudging B, B's
    background pulls, its look-up index and alert rules taking in what it stores."""
    token, key, _, shared = prepare_origin(work / "kh", count, publish=False)
    port_a, port_b = free_port(), free_port()
    url_a, url_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    receiver = Node.open(settings(work / "th", "th", "TH"))
    try:
        receiver.platform.ensure_schema()
        receiver.exchange.add_peer(ADMIN, "kh", url_a, token, key)
        receiver.platform.agencies.add(ADMIN, "KH-GCNP", "General Commissariat", "KH", "police")
        b_token = receiver.platform.tokens.create(ADMIN, "KH-GCNP", "peer").secret
        b_key = receiver.exchange.key.public_key
    finally:
        receiver.close()
    origin = Node.open(settings(work / "kh", "kh", "KH"))
    try:
        origin.exchange.add_peer(ADMIN, "th", url_b, b_token, b_key)
    finally:
        origin.close()
    servers = [start_server(work / "th", port_b, "th", "TH")]
    try:
        wait_ready(url_b)
        started = time.perf_counter()
        servers.append(start_server(work / "kh", port_a))
        wait_ready(url_a)
        ready = time.perf_counter()
        early = published_so_far(work / "kh")
        while held_so_far(work / "th") < shared:
            if time.perf_counter() - ready > 600:
                raise SystemExit("B did not receive everything within 10 minutes")
            time.sleep(0.01)
        done = time.perf_counter()
    finally:
        for server in servers:
            server.terminate()
            server.wait(10)
    with sqlite3.connect(work / "th" / "fraudx.sqlite3") as db:
        held = int(
            db.execute("SELECT count(*) FROM indicators WHERE origin_node = 'kh'").fetchone()[0]
        )
    return {
        "benchmark": "exchange_sync",
        "mode": "served",
        "indicators": count,
        "stored": held,
        "server_ready_s": round(ready - started, 2),
        "publish_serve_pull_store_s": round(done - ready, 2),
        "end_to_end_objects_per_s": round(held / (done - ready)),
        "published_before_ready": early,
        "with_start_up_objects_per_s": round(held / (done - started)),
    }


def pull_until(syncer: Syncer, peer: Peer, page: int, shared: int) -> SyncResult:
    """Pull again and again (as B's sync task does) until B holds all ``shared`` objects."""
    total = SyncResult(peer.name)
    while total.created < shared:
        result = syncer.sync(peer, page_size=page)
        if result.error:
            raise SystemExit(result.error)
        total.received += result.received
        total.created += result.created
        if not result.received:
            time.sleep(0.02)  # A has not published more yet
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--indicators", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=5000)
    parser.add_argument("--pipelined", action="store_true")
    parser.add_argument("--served", action="store_true", help="B as `fraudx serve` as well")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fraudx-bench-exchange-"))
    if args.served:
        try:
            print(json.dumps(served(work, args.indicators)))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    server: subprocess.Popen[bytes] | None = None
    try:
        token, key, publish_s, shared = prepare_origin(
            work / "kh", args.indicators, publish=not args.pipelined
        )
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        receiver = Node.open(settings(work / "th", "th", "TH"))
        try:
            receiver.platform.ensure_schema()
            receiver.exchange.add_peer(ADMIN, "kh", url, token, key)
            syncer = Syncer(receiver.exchange)
            [peer] = syncer.peers()
            started = time.perf_counter()
            server = start_server(work / "kh", port)
            if args.pipelined:
                wait_ready(url)
                ready_s = time.perf_counter() - started
                early = published_so_far(work / "kh")
                result = pull_until(syncer, peer, args.page, shared)
                pull_s = time.perf_counter() - started
            else:
                wait_ready(url)
                started = time.perf_counter()
                result = syncer.sync(peer, page_size=args.page)
                pull_s = time.perf_counter() - started
        finally:
            receiver.close()
        if result.error:
            raise SystemExit(result.error)
        line: dict[str, object] = {
            "benchmark": "exchange_sync",
            "mode": "pipelined" if args.pipelined else "sequential",
            "indicators": args.indicators,
            "objects_received": result.received,
            "stored": result.created,
            "page": args.page,
        }
        if args.pipelined:
            line["server_ready_s"] = round(ready_s, 2)  # its start-up
            line["publish_serve_pull_store_s"] = round(pull_s - ready_s, 2)
            line["end_to_end_objects_per_s"] = round(result.created / (pull_s - ready_s))
            # What that figure leaves out of A's publishing: what A published during its
            # start-up, before it answered.
            line["published_before_ready"] = early
            line["with_start_up_objects_per_s"] = round(result.created / pull_s)
        else:
            line |= {
                "publish_s": round(publish_s, 2),
                "publish_objects_per_s": round(args.indicators / publish_s),
                "pull_store_s": round(pull_s, 2),
                "pull_store_objects_per_s": round(result.received / pull_s),
                "publish_then_pull_objects_per_s": round(result.received / (publish_s + pull_s)),
            }
        print(json.dumps(line))
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
