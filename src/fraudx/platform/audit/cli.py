"""Command line: checking the audit log."""

from __future__ import annotations

import typer

from fraudx.platform.console import err, open_platform, out

audit_app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)


@audit_app.command("verify")
def verify() -> None:
    """Recompute the hash chain; exit 1 and name the first bad entry if it was tampered with."""
    with open_platform() as platform:
        report = platform.audit.verify()
    if report.first_break is not None:
        err.print(f"audit log TAMPERED at {report.first_break}")
        err.print(f"({report.checked} entries verified before it)")
        raise typer.Exit(1)
    out.print(f"audit log intact: {report.checked} entries, head {report.head_seq}")
