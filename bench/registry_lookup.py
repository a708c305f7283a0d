"""Look-ups over HTTP against one ``fraudx serve`` process, load from wrk in another process.

Prints one JSON line: single look-ups (requests/s, p50/p99 latency), batch look-ups of
10,000 identifiers per request (identifiers/s), the index build time and the server's
resident memory with every indicator indexed.

    python bench/registry_lookup.py [--indicators 1000000] [--home DIR] [--database-url URL]

``--home`` keeps the node (and its imported indicators) for the next run. Needs ``wrk``
(Debian package ``wrk``). The mix of values is what a bank screening payees sends: one in
ten is listed, the rest are valid identifiers of the same kinds that are not.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._data import indicator_csv, rows

FRAUDX = [sys.executable, "-m", "fraudx"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fraudx(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*FRAUDX, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 3):
        raise SystemExit(f"fraudx {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def prepare(env: dict[str, str], count: int) -> None:
    """Agencies, and ``count`` indicators imported through the command line (once)."""
    marker = Path(env["FRAUDX_HOME"]) / f"bench-{count}.done"
    if marker.exists():
        return
    _fraudx(
        env, "agency", "add", "TH-CCIB", "--name", "CCIB", "--country", "TH", "--kind", "police"
    )
    _fraudx(
        env, "agency", "add", "TH-KBANK", "--name", "KBank", "--country", "TH", "--kind", "bank"
    )
    started = time.perf_counter()
    _fraudx(env, "indicator", "import", str(indicator_csv(count)), "--agency", "TH-CCIB")
    print(f"# imported {count:,} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    marker.touch()


def screening_values(count: int, listed_share: float = 0.1) -> list[tuple[str, str]]:
    """Payees to screen: some listed (from the imported file), the rest fresh values."""
    listed: list[tuple[str, str]] = []
    with indicator_csv(count).open(newline="", encoding="utf-8") as handle:
        for n, row in enumerate(csv.DictReader(handle)):
            if n % 97 == 0 and row["tlp"] in ("GREEN", "AMBER"):
                listed.append((row["kind"], row["value"]))
            if len(listed) >= 5000:
                break
    fresh = [(r["kind"], r["value"]) for r in rows(50_000, seed=99)]
    rng = random.Random(5)
    mix = [
        rng.choice(listed) if rng.random() < listed_share else rng.choice(fresh)
        for _ in range(50_000)
    ]
    return mix


def wrk(script: str, url: str, seconds: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        done = subprocess.run(
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", f.name, url],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(f.name)
    text = done.stdout

    def ms(label: str) -> float:
        match = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", text)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {
        "requests_per_second": round(rps, 1),
        "p50_ms": ms("50"),
        "p99_ms": ms("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def single_script(token: str, values: list[tuple[str, str]]) -> str:
    paths = [f"/api/v1/lookup?kind={k}&value={quote(v, safe='')}" for k, v in values]
    quoted = ",".join(json.dumps(p) for p in paths[:10000])
    return f"""
local paths = {{{quoted}}}
local n = 0
wrk.headers["Authorization"] = "Bearer {token}"
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1])
end
"""


def batch_script(token: str, values: list[tuple[str, str]], size: int) -> str:
    """Requests that rotate over five different batches (50,000 identifiers)."""
    bodies = [
        json.dumps({"items": [{"kind": k, "value": v} for k, v in values[i : i + size]]})
        for i in range(0, min(len(values), 5 * size), size)
    ]
    listed = ",".join(json.dumps(b) for b in bodies)
    return f"""
local bodies = {{{listed}}}
local n = 0
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  return wrk.format("POST", nil, nil, bodies[(n % #bodies) + 1])
end
"""


def wait_until_idle(pid: int, limit: float = 600.0) -> None:
    """Measure the steady state: after a large import the node's alert engine and index
    follower have work to catch up on first."""
    process = psutil.Process(pid)
    deadline = time.monotonic() + limit
    quiet = 0
    while quiet < 3 and time.monotonic() < deadline:
        quiet = quiet + 1 if process.cpu_percent(interval=1.0) < 5 else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--listed-share", type=float, default=0.05)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk (apt-get install wrk)")
    home = args.home or Path(tempfile.mkdtemp(prefix="fraudx-bench-"))
    env = {**os.environ, "FRAUDX_HOME": str(home), "FRAUDX_NODE_ID": "bench"}
    if args.database_url:
        env["FRAUDX_DATABASE_URL"] = args.database_url
    prepare(env, args.indicators)
    partner = _fraudx(env, "token", "create", "--agency", "TH-KBANK", "--role", "partner")

    port = _free_port()
    server = subprocess.Popen(
        [*FRAUDX, "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        probe = ("phone", "+66812345678")
        while True:
            if server.poll() is not None or time.perf_counter() - started > 600:
                raise SystemExit(
                    "the node did not start (is its schema current? fraudx db upgrade)"
                )
            try:
                answer = httpx.get(
                    f"{base}/api/v1/lookup",
                    params={"kind": probe[0], "value": probe[1]},
                    headers={"Authorization": f"Bearer {partner}"},
                    timeout=120,
                )
                if answer.status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        build_seconds = time.perf_counter() - started  # start-up and index build
        wait_until_idle(server.pid)
        idle_rss_mb = psutil.Process(server.pid).memory_info().rss / 2**20
        values = screening_values(args.indicators, args.listed_share)
        single = {}
        for c in (4, 32):
            single[f"connections_{c}"] = wrk(single_script(partner, values), base, args.seconds, c)
            # Each phase starts from a node at rest: the hits of the last one leave
            # sightings for the recorder and the alert engine to work through.
            wait_until_idle(server.pid)
        batch = wrk(batch_script(partner, values, 10_000), f"{base}/api/v1/lookup", args.seconds, 2)
        rss_mb = psutil.Process(server.pid).memory_info().rss / 2**20
    finally:
        server.terminate()
        server.wait(30)
    print(
        json.dumps(
            {
                "benchmark": "registry_lookup",
                "indicators": args.indicators,
                "listed_share": args.listed_share,
                "database": "postgresql" if args.database_url else "sqlite",
                "start_and_index_build_s": round(build_seconds, 1),
                "server_rss_mb_at_rest": round(idle_rss_mb),
                "server_rss_mb_after_load": round(rss_mb),
                "single": single,
                "batch_10000": batch
                | {"identifiers_per_second": round(batch["requests_per_second"] * 10_000)},
            }
        )
    )


if __name__ == "__main__":
    main()
