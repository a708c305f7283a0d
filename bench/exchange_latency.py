"""How long an indicator reported on node A takes to be listed on node B.

Two ``fraudx serve`` processes on loopback, each with its own SQLite database, peered
both ways: B pulls from A in the background (every ``FRAUDX_PEER_PULL_SECONDS``, 0.5 s by
default, and at once when A nudges it with an empty signed push). An analyst
on A reports a phone number over the REST API; a bank on B looks it up until it is
listed. The alert subscriber's webhook on B hears of an imported report through the same
outbox event that updates B's look-up index, so this is the latency a subscriber sees
before its own delivery. Prints one JSON line with p50, p99 and max.

    python bench/exchange_latency.py [--samples 100]
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

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.exchange_sync import ADMIN, free_port, settings
from fraudx.node import Node


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fraudx-bench-latency-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        ports = {"kh": free_port(), "th": free_port()}
        kh = Node.open(settings(work / "kh", "kh", "KH"))
        th = Node.open(settings(work / "th", "th", "TH"))
        for node in (kh, th):
            node.platform.ensure_schema()
        kh.platform.agencies.add(ADMIN, "KH-GCNP", "General Commissariat", "KH", "police")
        kh.platform.agencies.add(ADMIN, "TH-CCIB", "Cyber Crime Bureau", "TH", "police")
        th.platform.agencies.add(ADMIN, "TH-KBANK", "Kasikornbank", "TH", "bank")
        analyst = kh.platform.tokens.create(ADMIN, "KH-GCNP", "analyst").secret
        bank = th.platform.tokens.create(ADMIN, "TH-KBANK", "partner").secret
        peer = kh.platform.tokens.create(ADMIN, "TH-CCIB", "peer").secret
        th.exchange.add_peer(
            ADMIN, "kh", f"http://127.0.0.1:{ports['kh']}", peer, kh.exchange.key.public_key
        )
        # Peered both ways, as nodes are: kh nudges th when it has news.
        th.platform.agencies.add(ADMIN, "KH-GCNP", "General Commissariat", "KH", "police")
        back = th.platform.tokens.create(ADMIN, "KH-GCNP", "peer").secret
        kh.exchange.add_peer(
            ADMIN, "th", f"http://127.0.0.1:{ports['th']}", back, th.exchange.key.public_key
        )
        kh.close()
        th.close()
        for name, country in (("kh", "KH"), ("th", "TH")):
            env = os.environ | {
                "FRAUDX_HOME": str(work / name),
                "FRAUDX_NODE_ID": name,
                "FRAUDX_COUNTRY": country,
            }
            env.pop("FRAUDX_DATABASE_URL", None)
            argv = [sys.executable, "-m", "fraudx", "serve", "--port", str(ports[name])]
            processes.append(
                subprocess.Popen(
                    [*argv, "--log-level", "warning"], env=env, stderr=subprocess.DEVNULL
                )
            )
        a, b = (httpx.Client(base_url=f"http://127.0.0.1:{ports[n]}", timeout=10) for n in ports)
        for client in (a, b):
            for _ in range(300):
                try:
                    client.get("/readyz")
                    break
                except httpx.HTTPError:
                    time.sleep(0.05)
        latencies = []
        for n in range(args.samples):
            value = f"+8551260{n:04d}"
            started = time.perf_counter()
            response = a.post(
                "/api/v1/indicators",
                json={"kind": "phone", "value": value, "category": "scam_call"},
                headers={"Authorization": f"Bearer {analyst}"},
            )
            response.raise_for_status()
            while True:
                found = b.get(
                    "/api/v1/lookup",
                    params={"kind": "phone", "value": value},
                    headers={"Authorization": f"Bearer {bank}"},
                ).json()
                if found.get("listed"):
                    break
                if time.perf_counter() - started > 30:
                    raise SystemExit(f"{value} did not arrive within 30 s")
                time.sleep(0.01)
            latencies.append(time.perf_counter() - started)
        latencies.sort()
        print(
            json.dumps(
                {
                    "benchmark": "exchange_latency",
                    "samples": len(latencies),
                    "p50_s": round(latencies[len(latencies) // 2], 3),
                    "p99_s": round(
                        latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 3
                    ),
                    "max_s": round(latencies[-1], 3),
                }
            )
        )
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
