"""End to end: from ``POST /api/v1/indicators`` returning to the webhook at a receiver.

    python bench/alerts_latency.py [--rate 200] [--seconds 20] [--database-url URL]

Runs ``fraudx serve`` in a subprocess (SQLite in a temporary FRAUDX_HOME by default), a
webhook receiver in another process on loopback that checks every signature, and posts
reports at ``--rate`` per second from several threads. Each report raises one alert for
one webhook subscription. Prints one JSON line: p50/p99/max latency in ms, how many
arrived, and how many arrived more than once.
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
import threading
import time
from pathlib import Path

import httpx

from fraudx.node import Node
from fraudx.platform.agencies.model import AgencyKind, operator
from fraudx.platform.settings import Settings

SECRET = "bench-secret-0123456789"

RECEIVER = r"""
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from fraudx.alerts.receiver import verify
SECRET = sys.argv[2]
got, bad = [], [0]

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        at = time.time()
        try:
            delivery = verify(SECRET, dict(self.headers.items()), body)
            got.append((json.loads(body)["identifier"]["value"], delivery, at))
            status = 200
        except Exception:
            bad[0] += 1
            status = 401
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def do_GET(self):
        data = json.dumps({"got": got, "bad": bad[0]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass

server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
server.daemon_threads = True
server.serve_forever()
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def _prepare(home: Path, url: str) -> tuple[str, str]:
    node = Node.open(Settings(home=home, database_url=url))
    try:
        node.platform.ensure_schema()
        admin = operator("bench")
        node.platform.agencies.add(admin, "TH-CCIB", "Police", "TH", AgencyKind.POLICE.value)
        node.platform.agencies.add(admin, "TH-KBANK", "Bank", "TH", AgencyKind.BANK.value)
        police = node.platform.tokens.create(admin, "TH-CCIB", "analyst").secret
        bank = node.platform.tokens.create(admin, "TH-KBANK", "partner").secret
        return police, bank
    finally:
        node.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="fraudx-alerts-bench-"))
    db_url = args.database_url or f"sqlite:///{work / 'fraudx.sqlite3'}"
    police, bank = _prepare(work, db_url)
    env = os.environ | {"FRAUDX_HOME": str(work), "FRAUDX_DATABASE_URL": db_url}
    api_port, hook_port = _port(), _port()
    fraudx = str(Path(sys.executable).with_name("fraudx"))
    serve = subprocess.Popen(
        [fraudx, "serve", "--port", str(api_port), "--log-level", "warning"],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(hook_port), SECRET])
    api = f"http://127.0.0.1:{api_port}/api/v1"
    hook = f"http://127.0.0.1:{hook_port}"
    try:
        _wait_up(f"http://127.0.0.1:{api_port}/healthz")
        _wait_up(hook)
        channel = {"type": "webhook", "url": hook + "/hook", "secret": SECRET}
        httpx.post(
            f"{api}/subscriptions",
            json={"filters": {"bank_codes": ["TH:004"]}, "channel": channel},
            headers={"Authorization": f"Bearer {bank}"},
        ).raise_for_status()
        total = int(args.rate * args.seconds)
        posted: dict[str, float] = {}
        lock = threading.Lock()
        start = time.time() + 0.5

        def poster(worker: int) -> None:
            with httpx.Client(headers={"Authorization": f"Bearer {police}"}) as client:
                for n in range(worker, total, args.threads):
                    due = start + n / args.rate
                    if (wait := due - time.time()) > 0:
                        time.sleep(wait)
                    value = f"TH:004:{n:010d}"
                    body = {"kind": "bank_account", "value": value, "category": "mule_account"}
                    client.post(f"{api}/indicators", json=body).raise_for_status()
                    with lock:
                        posted[value] = time.time()

        threads = [threading.Thread(target=poster, args=(w,)) for w in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.time() - start
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            result = httpx.get(hook, timeout=10).json()
            if len({v for v, _, _ in result["got"]}) >= total:
                break
            time.sleep(0.5)
        first: dict[str, float] = {}
        for value, _, at in result["got"]:
            first.setdefault(value, at)
        latencies = sorted(max(0.0, first[v] - posted[v]) * 1000 for v in posted if v in first)
        deliveries = [d for _, d, _ in result["got"]]
        print(
            json.dumps(
                {
                    "bench": "alerts_latency",
                    "database": db_url.split(":", 1)[0],
                    "target_rate": args.rate,
                    "achieved_rate": round(total / elapsed, 1),
                    "posted": total,
                    "delivered": len(first),
                    "duplicates": len(deliveries) - len(set(deliveries)),
                    "bad_signatures": result["bad"],
                    "p50_ms": round(latencies[len(latencies) // 2], 1) if latencies else None,
                    "p99_ms": round(latencies[int(len(latencies) * 0.99)], 1)
                    if latencies
                    else None,
                    "max_ms": round(latencies[-1], 1) if latencies else None,
                }
            )
        )
    finally:
        serve.terminate()
        receiver.terminate()
        serve.wait(15)
        receiver.wait(5)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
