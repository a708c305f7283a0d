"""Command line: indicators and look-ups, on the local database or on a node's API."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Column, Table

from fraudx.platform.console import err, out
from fraudx.registry.client import connect
from fraudx.registry.formats import BulkFormat

indicator_app = typer.Typer(
    help="Indicators: report, import, export, revoke, list.", no_args_is_help=True
)

Agency = Annotated[
    str | None,
    typer.Option(
        "--agency",
        help="Act as this agency on the local database (e.g. TH-CCIB).",
        envvar="FRAUDX_AGENCY",
    ),
]
Url = Annotated[
    str | None,
    typer.Option(
        "--url", help="Act on a running node (token in FRAUDX_TOKEN).", envvar="FRAUDX_URL"
    ),
]
Region = Annotated[str | None, typer.Option("--region", help="Country to read national forms in.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a summary.")]


def _print_json(body: Any) -> None:
    out.print(json.dumps(body, ensure_ascii=False, indent=2), markup=False)


@indicator_app.command("add")
def add(
    kind: Annotated[str, typer.Argument(help="phone, bank_account, ip, url, domain, email, …")],
    value: Annotated[str, typer.Argument(help="The identifier, in any usual spelling.")],
    category: Annotated[str, typer.Option("--category", help="e.g. mule_account, scam_call.")],
    confidence: Annotated[int | None, typer.Option("--confidence", min=0, max=100)] = None,
    tlp: Annotated[
        str | None, typer.Option("--tlp", help="CLEAR, GREEN, AMBER (default), AMBER+STRICT, RED.")
    ] = None,
    region: Region = None,
    valid_until: Annotated[datetime | None, typer.Option("--valid-until")] = None,
    case_ref: Annotated[str | None, typer.Option("--case-ref")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Repeat for several tags.")] = None,
    agency: Agency = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Report one indicator (or update your agency's report of it)."""
    fields: dict[str, Any] = {"kind": kind, "value": value, "category": category}
    optional = {
        "confidence": confidence,
        "tlp": tlp,
        "region": region,
        "valid_until": valid_until.isoformat() if valid_until else None,
        "case_ref": case_ref,
        "description": description,
        "tags": tag or None,
    }
    fields.update({k: v for k, v in optional.items() if v is not None})
    with connect(agency, url) as registry:
        body = registry.add(fields)
    if as_json:
        _print_json(body)
        return
    verb = "reported" if body.get("created", True) else "updated"
    identifier = body["identifier"]
    out.print(
        f"{verb} {body['id']} {identifier['kind']}:{identifier['value']} "
        f"({body['category']}, confidence {body['confidence']}, TLP:{body['tlp']}, "
        f"valid until {body['valid_until'][:10]})",
        markup=False,
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


@indicator_app.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(help="CSV or JSON Lines file.", exists=True, dir_okay=False)
    ],
    atomic: Annotated[
        bool, typer.Option("--atomic", help="Store nothing if any row is bad.")
    ] = False,
    fmt: Annotated[
        BulkFormat | None, typer.Option("--format", help="Default: from the file name.")
    ] = None,
    agency: Agency = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Bulk import. Good rows are stored, every bad row is listed with line, field, reason."""
    fmt = fmt or BulkFormat.of_path(file.name)
    size = file.stat().st_size
    with connect(agency, url) as registry, _progress() as bar:
        task = bar.add_task(f"importing {file.name}", total=size)
        result = registry.import_file(file, fmt, atomic, lambda n: bar.advance(task, n))
    if as_json:
        _print_json(result)
    else:
        rejected = result["rejected"]
        for problem in rejected[:50]:
            err.print(
                f"line {problem['line']}: {problem['field']}: {problem['reason']}", markup=False
            )
        if len(rejected) > 50:
            err.print(f"… and {len(rejected) - 50} more bad rows (use --json for all)")
        if not result["stored"]:
            out.print(f"nothing stored: {len(rejected)} bad row(s) and --atomic")
        else:
            out.print(
                f"accepted {result['accepted']} ({result['created']} new, "
                f"{result['updated']} updated), rejected {len(rejected)}"
            )
    if result["rejected"]:
        raise typer.Exit(1 if not result["stored"] else 3)


def _filters(
    kind: str | None,
    category: str | None,
    country: str | None,
    status: str | None,
    tag: str | None,
    since: datetime | None,
    text: str | None,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "category": category,
        "country": country,
        "status": status,
        "tag": tag,
        "since": since,
        "text": text,
    }


Kind = Annotated[str | None, typer.Option("--kind", help="Only this identifier kind.")]
Category = Annotated[str | None, typer.Option("--category")]
Country = Annotated[str | None, typer.Option("--country", help="Reporting agency's country.")]
Status = Annotated[str | None, typer.Option("--status", help="active, revoked or expired.")]
Tag = Annotated[str | None, typer.Option("--tag")]
Since = Annotated[datetime | None, typer.Option("--since", help="Reported at or after.")]
Text = Annotated[str | None, typer.Option("--text", help="Words in the description.")]


@indicator_app.command("export")
def export(
    fmt: Annotated[BulkFormat, typer.Option("--format")] = BulkFormat.CSV,
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="File (default stdout).")
    ] = None,
    kind: Kind = None,
    category: Category = None,
    country: Country = None,
    status: Status = None,
    tag: Tag = None,
    since: Since = None,
    text: Text = None,
    agency: Agency = None,
    url: Url = None,
) -> None:
    """Export indicators you may see, filtered like list, as CSV or JSON Lines."""
    filters = _filters(kind, category, country, status, tag, since, text)
    with connect(agency, url) as registry:
        target = output.open("w", encoding="utf-8") if output else sys.stdout
        written = 0
        try:
            with _progress() as bar:
                task = bar.add_task("exporting", total=None)
                for piece in registry.export(filters, fmt):
                    target.write(piece)
                    written += len(piece)
                    bar.update(task, completed=written)
        finally:
            if output:
                target.close()
    if output:
        err.print(f"wrote {output}")


@indicator_app.command("revoke")
def revoke(
    indicator_id: Annotated[str, typer.Argument(help="Indicator id.")],
    reason: Annotated[
        str, typer.Option("--reason", help="false_positive, account_closed, resolved, other.")
    ],
    note: Annotated[str | None, typer.Option("--note")] = None,
    agency: Agency = None,
    url: Url = None,
) -> None:
    """Revoke an indicator: it stops matching and stays for the record."""
    with connect(agency, url) as registry:
        body = registry.revoke(indicator_id, reason, note)
    out.print(f"revoked {body['id']} ({body['revoked_reason']})", markup=False)


@indicator_app.command("list")
def list_(
    kind: Kind = None,
    category: Category = None,
    country: Country = None,
    status: Status = None,
    tag: Tag = None,
    since: Since = None,
    text: Text = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    agency: Agency = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """List the newest indicators you may see."""
    with connect(agency, url) as registry:
        page = registry.search(_filters(kind, category, country, status, tag, since, text), limit)
    if as_json:
        _print_json(page)
        return
    table = Table(
        Column("id", no_wrap=True, min_width=36),
        "identifier",
        "category",
        "conf",
        "tlp",
        "status",
        "agency",
        "valid until",
    )
    for item in page["items"]:
        identifier = item["identifier"]
        table.add_row(
            item["id"],
            f"{identifier['kind']}:{identifier['value']}",
            item["category"],
            str(item["confidence"]),
            item["tlp"],
            item["status"],
            item["agency"],
            item["valid_until"][:10],
        )
    out.print(table)


def lookup(
    kind: Annotated[str, typer.Argument(help="phone, bank_account, ip, …")],
    value: Annotated[str, typer.Argument(help="The identifier, in any usual spelling.")],
    region: Region = None,
    agency: Agency = None,
    url: Url = None,
    as_json: AsJson = False,
) -> None:
    """Is this identifier listed? Exit code 0 listed, 1 error, 4 not listed."""
    with connect(agency, url) as registry:
        body = registry.lookup(kind, value, region)
    if as_json:
        _print_json(body)
    else:
        identifier = f"{body['identifier']['kind']}:{body['identifier']['value']}"
        if body["listed"]:
            out.print(
                f"LISTED {identifier} risk {body['risk']} — {', '.join(body['categories'])}; "
                f"{body['reports']} report(s) from {', '.join(body['countries'])}; "
                f"last seen {str(body['last_seen'])[:10]}",
                markup=False,
            )
            for report in body.get("indicators", []):
                out.print(
                    f"  {report['id']} {report['agency']} {report['category']} "
                    f"confidence {report['confidence']} TLP:{report['tlp']}",
                    markup=False,
                )
        else:
            out.print(f"not listed {identifier}", markup=False)
    if not body["listed"]:
        raise typer.Exit(4)
