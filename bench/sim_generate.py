"""Time ``fraudx simulate generate`` and sample its peak memory; prints one JSON line.

    python bench/sim_generate.py [--scale small|medium|large] [--seed N] [--formats parquet,csv]

Runs the command as a child process, samples the child's resident memory with psutil every
50 ms, and reports wall-clock seconds, peak RSS (MB), rows per table and bytes written.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil


def _rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--out", type=Path, help="keep the output here (default: a temp dir)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="fraudx-sim-"))
    out = args.out or work / "region"
    command = [
        sys.executable, "-m", "fraudx", "simulate", "generate", "--scale", args.scale,
        "--seed", str(args.seed), "--out", str(out), "--formats", args.formats, "--force",
    ]  # fmt: skip
    try:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        proc = psutil.Process(child.pid)
        peak = 0
        while child.poll() is None:
            with contextlib.suppress(psutil.Error):
                peak = max(peak, _rss(proc))
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        if child.returncode != 0:
            error = child.stderr.read().decode() if child.stderr else ""
            print(error.strip().splitlines()[-1] if error.strip() else "failed", file=sys.stderr)
            return 1
        manifest = json.loads((out / "manifest.json").read_text())
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        print(
            json.dumps(
                {
                    "benchmark": "sim_generate",
                    "scale": args.scale,
                    "formats": args.formats,
                    "seconds": round(seconds, 1),
                    "peak_rss_mb": round(peak / 2**20),
                    "cpus": psutil.cpu_count(),
                    "bytes_written": size,
                    "rows": manifest["counts"],
                }
            )
        )
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
