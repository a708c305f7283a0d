"""Bulk import of a CSV file through ``fraudx indicator import``, timed from outside.

Prints one JSON line with the seconds and rows per second into SQLite and, when it
answers, PostgreSQL (a fresh database, dropped afterwards).

    python bench/registry_import.py [--indicators 1000000] [--postgres URL]
        [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._data import indicator_csv

FRAUDX = [sys.executable, "-m", "fraudx"]
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _fraudx(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FRAUDX, *args], env=env, capture_output=True, text=True, check=False)


def timed_import(env: dict[str, str], path: Path) -> dict[str, object]:
    _fraudx(env, "db", "upgrade")
    _fraudx(
        env, "agency", "add", "TH-CCIB", "--name", "CCIB", "--country", "TH", "--kind", "police"
    )
    started = time.perf_counter()
    done = _fraudx(env, "indicator", "import", str(path), "--agency", "TH-CCIB", "--json")
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"import failed: {done.stderr.strip()}")
    accepted = json.loads(done.stdout)["accepted"]
    return {
        "seconds": round(seconds, 1),
        "accepted": accepted,
        "rows_per_second": round(accepted / seconds),
    }


def _postgres(admin_url: str) -> tuple[str, object] | None:
    try:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        name = f"fraudx_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # no server: say so and go on with SQLite
        print(f"# PostgreSQL skipped: {exc}", file=sys.stderr)
        return None

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return url, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres", default=os.environ.get("FRAUDX_TEST_POSTGRES_URL", DEFAULT_PG)
    )
    parser.add_argument("--only", choices=("sqlite", "postgresql"), help="one database only")
    args = parser.parse_args()
    path = indicator_csv(args.indicators)
    results: dict[str, object] = {}
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory(prefix="fraudx-import-") as home:
            env = {**os.environ, "FRAUDX_HOME": home}
            env.pop("FRAUDX_DATABASE_URL", None)
            results["sqlite"] = timed_import(env, path)
    database = _postgres(args.postgres) if args.only != "sqlite" else None
    if database:
        url, drop = database
        try:
            with tempfile.TemporaryDirectory(prefix="fraudx-import-") as home:
                env = {**os.environ, "FRAUDX_HOME": home, "FRAUDX_DATABASE_URL": url}
                results["postgresql"] = timed_import(env, path)
        finally:
            drop()  # type: ignore[operator]
    print(json.dumps({"benchmark": "registry_import", "indicators": args.indicators, **results}))


if __name__ == "__main__":
    main()
