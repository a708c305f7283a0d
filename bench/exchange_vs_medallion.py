"""FraudX's TAXII server beside the OASIS reference server (medallion, memory backend),
in one run, on the same workload: POST ``N`` STIX indicators in envelopes of 1,000, then
GET them all back in pages of 1,000. Prints one JSON line per size with objects per
second for each server and the ratio (FraudX / medallion).

    python bench/exchange_vs_medallion.py [--sizes 10000,100000] [--timeout 300]

The objects are FraudX indicators made by a Cambodian node. FraudX receives the POSTs as
signed pushes from that peer (signature checked, stored in its registry) and serves the
GETs from its published collection; medallion stores and serves them in memory. A side
phase (POST or GET) that does not finish within ``--timeout`` seconds stops there and
reports its rate over what it did (``post_timed_out`` / ``get_timed_out``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._data import rows
from bench.exchange_sync import ADMIN, free_port, open_origin, origin_analyst, settings
from fraudx.exchange.model import TAXII_MEDIA_TYPE, collection_id
from fraudx.exchange.signing import NODE_HEADER, SIGNATURE_HEADER, NodeKey, signed_message
from fraudx.node import Node

BATCH = 1000
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"


def origin(home: Path, count: int) -> tuple[list[bytes], str, NodeKey, str]:
    """A KH node with ``count`` published reports: their STIX bodies, a peer token for TH."""
    from sqlalchemy import select

    from fraudx.exchange.store import exchange_objects

    node = open_origin(home)
    try:
        shared = ({**r, "tlp": "AMBER" if r["tlp"] == "RED" else r["tlp"]} for r in rows(count))
        node.registry.import_records(origin_analyst(node), shared)
        node.exchange.publish_all()
        with node.platform.db.read() as session:
            query = select(exchange_objects.c.body).order_by(exchange_objects.c.date_added)
            bodies = [b.encode() for b in session.execute(query).scalars()]
        token = node.platform.tokens.create(ADMIN, "TH-CCIB", "peer").secret
        return bodies, token, node.exchange.key, node.exchange.key.public_key
    finally:
        node.close()


def receiver(home: Path, kh_key: str) -> str:
    """A TH node that knows KH as a peer; returns a peer token for KH to push with."""
    node = Node.open(settings(home, "th", "TH"))
    try:
        node.platform.ensure_schema()
        node.platform.agencies.add(ADMIN, "KH-NPC", "Cambodian police", "KH", "police")
        node.exchange.add_peer(ADMIN, "kh", "http://127.0.0.1:9", "fxt_unused", kh_key)
        with node.platform.db.write() as session:  # pin the peer's node id
            from fraudx.exchange import store

            store.note_sync(session, "kh", node.platform.clock.now(), "not pulled", "kh")
        return node.platform.tokens.create(ADMIN, "KH-NPC", "peer").secret
    finally:
        node.close()


def start(argv: list[str], env: dict[str, str], url: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(argv, env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    for _ in range(400):
        try:
            httpx.get(url, timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"{argv[0]} did not start")


def run_side(
    post_url: str,
    get_url: str,
    post_headers: Any,
    get_headers: dict[str, str],
    auth: Any,
    bodies: list[bytes],
    timeout: float,
) -> dict[str, Any]:
    """POST then GET everything; a phase that runs out of time reports what it did so far
    (the rate is then objects done / time spent, marked ``timed_out``)."""
    result: dict[str, Any] = {}
    deadline = time.monotonic() + timeout
    client = httpx.Client(auth=auth)

    def left() -> float:
        return max(1.0, deadline - time.monotonic())

    started = time.perf_counter()
    posted = 0
    try:
        for i in range(0, len(bodies), BATCH):
            body = b'{"objects":[' + b",".join(bodies[i : i + BATCH]) + b"]}"
            response = client.post(
                post_url, content=body, headers=post_headers(body), timeout=left()
            )
            response.raise_for_status()
            posted += len(bodies[i : i + BATCH])
            if time.monotonic() >= deadline:
                raise httpx.ReadTimeout("out of time")
    except httpx.TimeoutException:
        result["post_timed_out"] = True
    post_s = time.perf_counter() - started
    result |= {
        "posted": posted,
        "post_s": round(post_s, 2),
        "post_objects_per_s": round(posted / post_s, 1),
    }
    deadline = time.monotonic() + timeout
    started = time.perf_counter()
    got = 0
    params: dict[str, str] = {"limit": str(BATCH)}
    try:
        while True:
            response = client.get(get_url, params=params, headers=get_headers, timeout=left())
            response.raise_for_status()
            page = orjson.loads(response.content)
            got += len(page.get("objects") or [])
            if not page.get("more"):
                break
            if time.monotonic() >= deadline:
                raise httpx.ReadTimeout("out of time")
            params = {"limit": str(BATCH), "next": page["next"]}
    except httpx.TimeoutException:
        result["get_timed_out"] = True
    get_s = time.perf_counter() - started
    result |= {"got": got, "get_s": round(get_s, 2), "get_objects_per_s": round(got / get_s, 1)}
    return result


def medallion_config(work: Path, port: int) -> Path:
    data = {
        "/discovery": {
            "title": "medallion",
            "default": f"http://127.0.0.1:{port}/api1/",
            "api_roots": [f"http://127.0.0.1:{port}/api1/"],
        },
        "api1": {
            "information": {
                "title": "api1",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 1_000_000_000,
            },
            "status": [],
            "collections": [
                {
                    "id": COLLECTION,
                    "title": "bench",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (work / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(work / "data.json"),
        },
        "users": {"bench": "bench"},
        "taxii": {"max_page_size": BATCH},
    }
    path = work / "medallion.json"
    path.write_text(json.dumps(config))
    return path


def one_size(count: int, timeout: float) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="fraudx-bench-medallion-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        bodies, kh_token, kh_key, kh_public = origin(work / "kh", count)
        th_token = receiver(work / "th", kh_public)
        base = os.environ.copy()
        base.pop("FRAUDX_DATABASE_URL", None)
        ports = {name: free_port() for name in ("kh", "th", "medallion")}
        for name, country in (("kh", "KH"), ("th", "TH")):
            env = base | {
                "FRAUDX_HOME": str(work / name),
                "FRAUDX_NODE_ID": name,
                "FRAUDX_COUNTRY": country,
            }
            argv = [
                sys.executable,
                "-m",
                "fraudx",
                "serve",
                "--port",
                str(ports[name]),
                "--log-level",
                "warning",
            ]
            processes.append(start(argv, env, f"http://127.0.0.1:{ports[name]}/healthz"))
        config = medallion_config(work, ports["medallion"])
        argv = [
            sys.executable,
            "-m",
            "medallion.scripts.run",
            "--port",
            str(ports["medallion"]),
            str(config),
        ]
        processes.append(start(argv, base, f"http://127.0.0.1:{ports['medallion']}/taxii2/"))
        all_ = collection_id("all")

        def signed(body: bytes) -> dict[str, str]:
            return {
                "Authorization": f"Bearer {th_token}",
                "Accept": TAXII_MEDIA_TYPE,
                "Content-Type": TAXII_MEDIA_TYPE,
                SIGNATURE_HEADER: kh_key.sign(signed_message("kh", body)),
                NODE_HEADER: "kh",
            }

        fraudx = run_side(
            f"http://127.0.0.1:{ports['th']}/taxii2/api/collections/{all_}/objects/",
            f"http://127.0.0.1:{ports['kh']}/taxii2/api/collections/{all_}/objects/",
            signed,
            {"Authorization": f"Bearer {kh_token}", "Accept": TAXII_MEDIA_TYPE},
            None,
            bodies,
            timeout,
        )
        url = f"http://127.0.0.1:{ports['medallion']}/api1/collections/{COLLECTION}/objects/"
        media = {"Accept": TAXII_MEDIA_TYPE, "Content-Type": TAXII_MEDIA_TYPE}
        medallion = run_side(
            url,
            url,
            lambda _b: media,
            {"Accept": TAXII_MEDIA_TYPE},
            ("bench", "bench"),
            bodies,
            timeout,
        )
        result: dict[str, Any] = {
            "benchmark": "exchange_vs_medallion",
            "objects": count,
            "fraudx": fraudx,
            "medallion": medallion,
        }
        for what in ("post", "get"):
            key = f"{what}_objects_per_s"
            if fraudx.get(key) and medallion.get(key):
                result[f"{what}_ratio"] = round(fraudx[key] / medallion[key], 1)
        return result
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        print(json.dumps(one_size(size, args.timeout)), flush=True)


if __name__ == "__main__":
    main()
