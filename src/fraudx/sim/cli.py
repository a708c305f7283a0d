"""Command line: ``fraudx simulate generate`` and ``fraudx simulate load``."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from fraudx.platform.console import err, out
from fraudx.platform.errors import InvalidInput
from fraudx.platform.geo import is_country
from fraudx.sim.model import DEFAULT_COUNTRIES, Scale
from fraudx.sim.writer import FORMATS

simulate_app = typer.Typer(
    help="The regional simulator: synthetic data that looks like the region, with ground truth.",
    no_args_is_help=True,
)


@contextmanager
def _bars() -> Iterator[Progress]:
    with Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as bars:
        yield bars


def _tracker(bars: Progress) -> Callable[[str, int, int], None]:
    tasks: dict[str, TaskID] = {}

    def update(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = bars.add_task(step, total=total)
        bars.update(tasks[step], completed=done, total=total)

    return update


def parse_countries(text: str) -> tuple[str, ...]:
    codes = tuple(dict.fromkeys(c.strip().upper() for c in text.split(",") if c.strip()))
    if not codes:
        raise InvalidInput("--countries", "give at least one ISO 3166 alpha-2 country code")
    for code in codes:
        if not is_country(code):
            raise InvalidInput("--countries", f"{code!r} is not an ISO 3166 alpha-2 country code")
    return codes


def parse_formats(text: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if not chosen or unknown:
        raise InvalidInput("--formats", f"choose from {', '.join(FORMATS)}")
    return chosen


def _prepare(directory: Path, force: bool) -> None:
    if directory.exists() and not directory.is_dir():
        raise InvalidInput("--out", f"{directory} is a file, not a directory")
    if directory.exists() and any(directory.iterdir()):
        if not (directory / "manifest.json").is_file():
            raise InvalidInput("--out", f"{directory} is not empty and holds no simulator output")
        if not force:
            raise InvalidInput("--out", f"{directory} already holds simulator output; add --force")
        shutil.rmtree(directory)


@simulate_app.command("generate")
def generate_command(
    out_dir: Path = typer.Option(..., "--out", help="Directory to write into (created)."),
    scale: Scale = typer.Option(
        Scale.SMALL,
        "--scale",
        help="small: seconds (tests, demo); medium: ~1M transfers and 1M calls; "
        "large: ~20M transfers and 20M calls.",
    ),
    seed: int = typer.Option(1, "--seed", help="Master seed: the same seed gives the same bytes."),
    countries: str = typer.Option(
        ",".join(DEFAULT_COUNTRIES),
        "--countries",
        help="Comma-separated ISO 3166 alpha-2 codes of the simulated countries.",
    ),
    formats: str = typer.Option(
        ",".join(FORMATS), "--formats", help="Comma-separated file formats: parquet, csv."
    ),
    force: bool = typer.Option(False, "--force", help="Replace earlier simulator output in DIR."),
) -> None:
    """Generate a simulated region: people, banks, telecom, compounds, fraud and truth."""
    from fraudx.sim.generate import generate

    chosen = parse_countries(countries)
    kinds = parse_formats(formats)
    _prepare(out_dir, force)
    with _bars() as bars:
        update = _tracker(bars)
        manifest = generate(
            out_dir,
            scale=scale,
            seed=seed,
            countries=chosen,
            formats=kinds,
            progress=update,
        )
    counts = manifest.counts
    err.print(
        f"wrote {counts['transfers']:,} transfers, {counts['calls']:,} calls, "
        f"{counts['truth/trails']:,} fraud trails, {counts['known']:,} known indicators"
    )
    out.print(str(manifest.path))


@simulate_app.command("load")
def load_command(
    directory: Path = typer.Argument(..., help="A directory written by `simulate generate`."),
) -> None:
    """Report what each country's police know (known/*.csv) to this node's registry."""
    from fraudx.node import Node
    from fraudx.platform.settings import Settings
    from fraudx.sim.load import load

    if not directory.is_dir():
        raise InvalidInput("DIR", f"{directory} is not a directory")
    node = Node.open(Settings())
    try:
        node.platform.ensure_schema()
        with _bars() as bars:
            task = bars.add_task("known indicators", total=None)

            def update(agency: str, done: int, total: int) -> None:
                bars.update(task, description=f"loading {agency}", completed=done, total=total)

            report = load(node, directory, progress=update)
    finally:
        node.close()
    for code, accepted in sorted(report.accepted.items()):
        rejected = sum(1 for r in report.rejected if r.agency == code)
        out.print(f"{code}: {accepted} accepted, {rejected} rejected")
    for r in report.rejected[:20]:
        err.print(f"  {r.agency} line {r.line}: {r.field}: {r.reason}", markup=False)
