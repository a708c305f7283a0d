"""``python -m bench [NAME ...]``: run the named benchmarks (default: all), one JSON line each."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(argv: list[str]) -> int:
    available = sorted(p.stem for p in HERE.glob("*.py") if not p.stem.startswith("_"))
    if argv[:1] in (["-h"], ["--help"]):
        print("usage: python -m bench [NAME ...]\navailable: " + ", ".join(available))
        return 0
    chosen = argv or available
    unknown = [name for name in chosen if name not in available]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}",
            file=sys.stderr,
        )
        return 2
    failed = 0
    for name in chosen:
        print(f"# {name}", file=sys.stderr, flush=True)
        failed += subprocess.call([sys.executable, str(HERE / f"{name}.py")]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
