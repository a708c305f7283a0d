"""Node → node over loopback: ``N`` indicators reported on node A reach node B's registry.

Node A (its own SQLite file, or PostgreSQL) imports ``N`` indicators and publishes them
as STIX; it is then served by ``fraudx serve`` in its own process. Node B, in this
process, pulls everything through the TAXII client (signature checked on every page) and
stores it. Prints one JSON line: publish time, pull-and-store time and objects per second,
and the end-to-end rate (publish + pull + store).

    python bench/exchange_sync.py [--indicators 100000] [--page 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._data import rows
from fraudx.exchange.sync import Syncer
from fraudx.node import Node
from fraudx.platform.agencies.model import operator
from fraudx.platform.settings import Settings

ADMIN = operator("bench")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings(home: Path, name: str, country: str) -> Settings:
    return Settings(home=home, node_id=name, country=country, token_cache_seconds=60)


def prepare_origin(home: Path, count: int) -> tuple[str, str, float, int]:
    """Node A: agencies, ``count`` reports, published. Returns (peer token, key, s, shared)."""
    node = Node.open(settings(home, "kh", "KH"))
    try:
        node.platform.ensure_schema()
        node.platform.agencies.add(ADMIN, "KH-GCNP", "General Commissariat", "KH", "police")
        node.platform.agencies.add(ADMIN, "TH-CCIB", "Cyber Crime Bureau", "TH", "police")
        analyst = node.platform.tokens.authenticate(
            node.platform.tokens.create(ADMIN, "KH-GCNP", "analyst").secret
        )
        node.registry.import_records(analyst, rows(count))
        started = time.perf_counter()
        published = node.exchange.publish_all()
        publish_s = time.perf_counter() - started
        token = node.platform.tokens.create(ADMIN, "TH-CCIB", "peer").secret
        shared = published  # RED is published but never served
        return token, node.exchange.key.public_key, publish_s, shared
    finally:
        node.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--indicators", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=5000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fraudx-bench-exchange-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        token, key, publish_s, _ = prepare_origin(work / "kh", args.indicators)
        port = free_port()
        env = os.environ | {
            "FRAUDX_HOME": str(work / "kh"),
            "FRAUDX_NODE_ID": "kh",
            "FRAUDX_COUNTRY": "KH",
        }
        env.pop("FRAUDX_DATABASE_URL", None)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fraudx",
                "serve",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        receiver = Node.open(settings(work / "th", "th", "TH"))
        try:
            receiver.platform.ensure_schema()
            receiver.exchange.add_peer(ADMIN, "kh", url, token, key)
            syncer = Syncer(receiver.exchange)
            [peer] = syncer.peers()
            started = time.perf_counter()
            result = syncer.sync(peer, page_size=args.page)
            pull_s = time.perf_counter() - started
        finally:
            receiver.close()
        if result.error:
            raise SystemExit(result.error)
        print(
            json.dumps(
                {
                    "benchmark": "exchange_sync",
                    "indicators": args.indicators,
                    "objects_received": result.received,
                    "stored": result.created,
                    "page": args.page,
                    "publish_s": round(publish_s, 2),
                    "publish_objects_per_s": round(args.indicators / publish_s),
                    "pull_store_s": round(pull_s, 2),
                    "pull_store_objects_per_s": round(result.received / pull_s),
                    "end_to_end_objects_per_s": round(result.received / (publish_s + pull_s)),
                }
            )
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
